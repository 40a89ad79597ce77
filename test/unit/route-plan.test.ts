/**
 * The pieces of a route's plan: the fall-back rule, the weighted order, the
 * cool-down state, and a target's model in the client's bytes.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_COOLDOWN, type RouteSettings } from "../../functions/shared/config/route-settings.ts";
import { UpstreamTimeoutError, UpstreamUnavailableError } from "../../functions/shared/http/errors.ts";
import type { HttpProvider } from "../../functions/shared/providers/types.ts";
import type { AttemptOutcome } from "../../functions/shared/routing/attempt-plan.ts";
import { TargetCooldowns } from "../../functions/shared/routing/cooldown.ts";
import { isTargetFailure } from "../../functions/shared/routing/fallback-policy.ts";
import { withModel } from "../../functions/shared/routing/replace-model.ts";
import { routePlan, weightedOrder, type Route } from "../../functions/shared/routing/route-plan.ts";
import { UpstreamAuthenticationError } from "../../functions/shared/routing/strategies.ts";
import type { UpstreamResponse } from "../../functions/shared/upstream/client.ts";

const status = (code: number): AttemptOutcome => ({ response: { status: code, headers: {}, body: [], abort: () => undefined, discard: () => undefined } as UpstreamResponse });
const provider = (name: string) => ({ kind: "http", name, capabilities: { streamUsageOption: true, keyRequired: true } }) as unknown as HttpProvider;

/** A seeded generator (mulberry32), so the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function route(settings: Partial<RouteSettings>, names: string[] = ["a", "b", "c"]): Route {
  const full: RouteSettings = { strategy: "fallback", targets: [], fallbackOn: [], cooldown: DEFAULT_COOLDOWN, ...settings };
  return { name: "r", settings: full, targets: names.map((name, index) => ({ provider: provider(name), model: `m-${name}`, weight: full.targets[index]?.weight ?? 1 })) };
}

const managed = { mode: "managed", keyId: "k", keyDigest: "d" } as const;

describe("the fall-back rule", () => {
  it.each([429, 500, 502, 503, 504, 529])("moves on after %i", (code) => {
    expect(isTargetFailure(status(code), new Set())).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 413, 422])("stays with %i unless the route says so", (code) => {
    expect(isTargetFailure(status(code), new Set())).toBe(false);
  });

  it("moves on after 401, 403 and 404 when the route lists them, never after 400 or 422", () => {
    const fallbackOn = new Set([401, 403, 404]);
    for (const code of [401, 403, 404]) expect(isTargetFailure(status(code), fallbackOn)).toBe(true);
    for (const code of [400, 422]) expect(isTargetFailure(status(code), fallbackOn)).toBe(false);
  });

  it("moves on after timeouts and connection failures, not after a reply that is not HTTP", () => {
    expect(isTargetFailure({ error: new UpstreamTimeoutError("slow") }, new Set())).toBe(true);
    expect(isTargetFailure({ error: new UpstreamTimeoutError("connect", { code: "upstream_connect_timeout" }) }, new Set())).toBe(true);
    expect(isTargetFailure({ error: new UpstreamUnavailableError("refused") }, new Set())).toBe(true);
    expect(isTargetFailure({ error: new UpstreamUnavailableError("garbage", { code: "upstream_malformed_response" }) }, new Set())).toBe(false);
  });

  it("treats the gateway's own rejected key as a 401", () => {
    const rejected = { error: new UpstreamAuthenticationError("azure", undefined) };
    expect(isTargetFailure(rejected, new Set())).toBe(false);
    expect(isTargetFailure(rejected, new Set([401]))).toBe(true);
  });
});

describe("load balancing", () => {
  it("draws the first target by weight (3:1 over 20,000 seeded draws, within 2 points)", () => {
    const targets = [
      { name: "groq", weight: 3 },
      { name: "openai", weight: 1 },
    ];
    const random = seeded(42);
    let groq = 0;
    for (let draw = 0; draw < 20_000; draw += 1) if (weightedOrder(targets, random)[0]?.name === "groq") groq += 1;
    expect(groq / 20_000).toBeGreaterThan(0.73);
    expect(groq / 20_000).toBeLessThan(0.77);
  });

  it("keeps every target in the order, the others as fallbacks", () => {
    const order = weightedOrder([{ weight: 1, id: 1 }, { weight: 5, id: 2 }, { weight: 1, id: 3 }], seeded(7));
    expect(order.map((target) => target.id).sort()).toEqual([1, 2, 3]);
  });

  it("a route's plan under loadbalance follows the weights; under fallback, the configured order", () => {
    const cooldowns = new TargetCooldowns();
    const balanced = route({ strategy: "loadbalance", targets: [{ provider: "a", weight: 1 }, { provider: "b", weight: 9 }] }, ["a", "b"]);
    const firsts = new Map<string, number>();
    const random = seeded(3);
    for (let draw = 0; draw < 2_000; draw += 1) {
      const first = routePlan(balanced, managed, { cooldowns, random }).targets[0]?.provider.name as string;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect((firsts.get("b") ?? 0) / 2_000).toBeGreaterThan(0.86);
    expect((firsts.get("b") ?? 0) / 2_000).toBeLessThan(0.94);
    expect(routePlan(route({}), managed, { cooldowns, random }).targets.map((target) => target.provider.name)).toEqual(["a", "b", "c"]);
  });
});

describe("cool-down", () => {
  it("sets a target aside after its failures in a row, for its seconds, then tries it again", () => {
    let now = 1_000;
    const cooldowns = new TargetCooldowns(() => now);
    const plan = () => routePlan(route({ cooldown: { failures: 2, seconds: 30 } }), managed, { cooldowns, random: Math.random });
    const first = plan();
    const a = first.targets[0];
    if (a === undefined) throw new Error("no target");
    expect(first.fallBack(status(503), a)).toBe(true);
    expect(plan().targets.map((target) => target.provider.name)).toEqual(["a", "b", "c"]);
    first.fallBack(status(503), a);
    // Cooling: tried last, only when every other target failed.
    expect(plan().targets.map((target) => target.provider.name)).toEqual(["b", "c", "a"]);
    now += 29_000;
    expect(plan().targets[0]?.provider.name).toBe("b");
    now += 1_001;
    expect(plan().targets[0]?.provider.name).toBe("a");
  });

  it("a success ends a run of failures; a 400 neither counts nor ends it", () => {
    const cooldowns = new TargetCooldowns();
    const plan = routePlan(route({ cooldown: { failures: 2, seconds: 30 } }), managed, { cooldowns, random: Math.random });
    const a = plan.targets[0];
    if (a === undefined) throw new Error("no target");
    plan.fallBack(status(503), a);
    plan.fallBack(status(200), a);
    plan.fallBack(status(503), a);
    expect(cooldowns.isCooling("a\u0000m-a")).toBe(false);
    plan.fallBack(status(400), a);
    plan.fallBack(status(503), a);
    expect(cooldowns.isCooling("a\u0000m-a")).toBe(true);
  });
});

describe("a route and a caller's own key", () => {
  it("refuses a route over several providers for a passthrough caller (its key is for one provider)", () => {
    expect(() => routePlan(route({}), { mode: "passthrough", authorization: "Bearer sk-own" }, { cooldowns: new TargetCooldowns(), random: Math.random })).toThrow(
      /use it with a gateway key/,
    );
    expect(routePlan(route({}, ["a", "a"]), { mode: "passthrough", authorization: "Bearer sk-own" }, { cooldowns: new TargetCooldowns(), random: Math.random }).targets).toHaveLength(2);
  });
});

describe("withModel", () => {
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
  it("replaces the model's value and keeps every other byte", () => {
    const body = Buffer.from('{"model" : "smart",\n "messages":[{"role":"user","content":"\\"model\\": x"}], "n": 12345678901234567891}');
    expect(text(withModel(body, "gpt-4o"))).toBe('{"model" : "gpt-4o",\n "messages":[{"role":"user","content":"\\"model\\": x"}], "n": 12345678901234567891}');
  });

  it("adds a model where the body has none, and escapes it as JSON", () => {
    expect(text(withModel(Buffer.from('{"input":"x"}'), 'a"b'))).toBe('{"model":"a\\"b","input":"x"}');
    expect(text(withModel(Buffer.from("{}"), "m"))).toBe('{"model":"m"}');
  });
});
