/**
 * Routes over three fake providers: falling back before the first byte (and
 * only for the target's failures), load balancing by weight, cool-down, a
 * target's model in place of the request's, the headers and counts that say
 * which target served, and the routes in the model list.
 */
import OpenAI, { BadRequestError, InternalServerError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { metricsOf } from "../support/local-gateway.ts";
import { closedPortUrl, useFakeUpstream, useTestGateway } from "../support/gateway-fixture.ts";
import { fetchText } from "../support/fetch.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const GATEWAY_KEY = "gw-routes-test-0123456789";
const KEYS = { primary: "sk-primary-0123456789", secondary: "sk-secondary-0123456789", tertiary: "sk-tertiary-0123456789" };

const primary = useFakeUpstream({ requireAuth: `Bearer ${KEYS.primary}` });
const secondary = useFakeUpstream({ requireAuth: `Bearer ${KEYS.secondary}` });
const tertiary = useFakeUpstream({ requireAuth: `Bearer ${KEYS.tertiary}` });

const ROUTES = {
  // Its targets fail in many tests here: no cool-down gets in their way.
  smart: { strategy: "fallback", cooldown: { failures: 100 }, targets: [{ provider: "primary", model: "gpt-4o" }, { provider: "secondary", model: "gpt-4o-mini" }, { provider: "tertiary" }] },
  keys: { strategy: "fallback", fallbackOn: [401, 404], targets: [{ provider: "primary", model: "gpt-4o" }, { provider: "secondary", model: "gpt-4o-mini" }] },
  balanced: { strategy: "loadbalance", targets: [{ provider: "primary", model: "gpt-4o-mini", weight: 3 }, { provider: "secondary", model: "gpt-4o-mini", weight: 1 }] },
  lopsided: { strategy: "loadbalance", targets: [{ provider: "primary", model: "gpt-4o-mini", weight: 1_000_000 }, { provider: "secondary", model: "gpt-4o-mini", weight: 1 }] },
  cooling: { strategy: "fallback", cooldown: { failures: 2, seconds: 1 }, targets: [{ provider: "primary", model: "gpt-4o" }, { provider: "secondary", model: "gpt-4o" }] },
  unreachable: { strategy: "fallback", targets: [{ provider: "closed", model: "gpt-4o" }, { provider: "secondary", model: "gpt-4o" }] },
};

function environment(overrides: Record<string, string> = {}) {
  return async () => ({
    GATEWAY_PROVIDERS: JSON.stringify({
      primary: { preset: "openai", baseUrl: primary.upstream.baseUrl, apiKey: KEYS.primary },
      secondary: { preset: "openai", baseUrl: secondary.upstream.baseUrl, apiKey: KEYS.secondary },
      tertiary: { preset: "vllm", baseUrl: tertiary.upstream.baseUrl, apiKey: KEYS.tertiary },
      closed: { preset: "openai", baseUrl: await closedPortUrl(), apiKey: KEYS.primary },
    }),
    GATEWAY_ROUTES: JSON.stringify(ROUTES),
    GATEWAY_API_KEYS: GATEWAY_KEY,
    GATEWAY_MAX_RETRIES: "0",
    ...overrides,
  });
}

// Checked after every test, before the fakes forget their requests.
afterEach(() => {
  for (const fake of [primary, secondary, tertiary]) {
    for (const request of fake.upstream.requests) expect(JSON.stringify([request.headers, request.body.toString()])).not.toContain(GATEWAY_KEY);
  }
});

const chat = (model = "smart") => ({ model, messages: [{ role: "user" as const, content: "hi" }] });

describe("a fallback route", () => {
  const fixture = useTestGateway(environment(), { apiKey: GATEWAY_KEY, headers: { "x-provider": "smart" } });

  it("moves on when the first target answers 503, and says which target served", async () => {
    primary.upstream.enqueue({ kind: "error", status: 503 });
    const { data, response } = await fixture.client.chat.completions.create(chat()).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: hi");
    expect(response.headers.get("x-gateway-provider")).toBe("secondary");
    expect(response.headers.get("x-gateway-model")).toBe("gpt-4o-mini");
    expect(primary.upstream.requests).toHaveLength(1);
    expect(secondary.upstream.requests[0]?.json).toMatchObject({ model: "gpt-4o-mini" });
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({
      route: "smart",
      provider: "secondary",
      model: "gpt-4o-mini",
      fallbacks: 1,
      targets: [
        { provider: "primary", model: "gpt-4o", attempts: 1, result: 503, fellBack: true },
        { provider: "secondary", model: "gpt-4o-mini", attempts: 1, result: 200, fellBack: false },
      ],
    });
    expect(metricsOf(summary)).toMatchObject({ fallbacks: 1, retries: 1 });
  });

  it("a streamed request falls back before its first byte, and the client sees one whole stream", async () => {
    primary.upstream.enqueue({ kind: "error", status: 503 });
    secondary.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 10 });
    const stream = await fixture.client.chat.completions.create({ ...chat(), stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: hi");
    expect([primary, secondary, tertiary].map((fake) => fake.upstream.requests.length)).toEqual([1, 1, 1]);
    expect(tertiary.upstream.requests[0]?.json).toMatchObject({ model: "smart", stream: true });
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "tertiary", fallbacks: 2, outcome: "ok" });
    expect(summary?.usage?.completionTokens).toBeGreaterThan(0);
  });

  it("never moves on after a 400: the provider's 400 reaches the client", async () => {
    primary.upstream.enqueue({ kind: "error", status: 400, message: "Invalid 'messages': too long.", param: "messages", code: "context_length_exceeded" });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat()));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "context_length_exceeded", param: "messages" });
    expect(secondary.upstream.requests).toHaveLength(0);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ provider: "primary", status: 400, outcome: "provider_error", fallbacks: 0 });
  });

  it("never moves on after a 422 either", async () => {
    primary.upstream.enqueue({ kind: "error", status: 422, message: "Unprocessable." });
    expect(await rejectionOf(fixture.client.chat.completions.create(chat()))).toMatchObject({ status: 422 });
    expect(secondary.upstream.requests).toHaveLength(0);
  });

  it("does not move on after a 401 unless the route says so", async () => {
    primary.upstream.enqueue({ kind: "error", status: 401, code: "invalid_api_key", message: "Incorrect API key provided: sk-prim***" });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat()));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, code: "upstream_auth_failed" });
    expect(secondary.upstream.requests).toHaveLength(0);
  });

  it("when every target fails, the last target's answer reaches the client", async () => {
    for (const fake of [primary, secondary, tertiary]) fake.upstream.enqueue({ kind: "error", status: 503, message: `down ${fake === tertiary ? "3" : "1"}` });
    const error = await rejectionOf(fixture.client.chat.completions.create(chat()));
    expect(error).toMatchObject({ status: 503 });
    expect((error as InternalServerError).message).toContain("down 3");
  });

  it("a mid-stream failure is not retried: the stream ends with the error event", async () => {
    primary.upstream.enqueue({ kind: "error-mid-stream", afterChunks: 2, message: "The model crashed." });
    const stream = await fixture.client.chat.completions.create({ ...chat(), stream: true });
    const error = await rejectionOf((async () => {
      for await (const _chunk of stream) void _chunk;
    })());
    expect((error as Error).message).toContain("The model crashed.");
    expect(secondary.upstream.requests).toHaveLength(0);
  });
});

describe("choosing a route", () => {
  const fixture = useTestGateway(environment(), { apiKey: GATEWAY_KEY });

  it("by sending its name as the model, with no x-provider: an unchanged SDK reaches it", async () => {
    const sdk = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: fixture.gateway.baseURL, maxRetries: 0 });
    const { response } = await sdk.chat.completions.create(chat("smart")).withResponse();
    expect(response.headers.get("x-gateway-provider")).toBe("primary");
    expect(primary.upstream.requests[0]?.json).toMatchObject({ model: "gpt-4o" });
  });

  it("x-provider naming a provider wins: the model goes to it as it is", async () => {
    const sdk = fixture.gateway.client(GATEWAY_KEY, { "x-provider": "tertiary" });
    await sdk.chat.completions.create(chat("smart"));
    expect(tertiary.upstream.requests[0]?.json).toMatchObject({ model: "smart" });
  });

  it("GET /v1/models lists the routes too", async () => {
    const sdk = fixture.gateway.client(GATEWAY_KEY, { "x-provider": "primary" });
    const ids = [];
    for await (const model of sdk.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o", "smart", "keys", "balanced", "cooling", "unreachable"]));
    const smart = (await fetchText(`${fixture.gateway.baseURL}models`, { headers: { authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "smart" } })).text;
    expect(JSON.parse(smart).data).toContainEqual({ id: "smart", object: "model", created: 0, owned_by: "gateway-route" });
  });

  it("an unknown x-provider lists the providers and the routes", async () => {
    const error = await rejectionOf(fixture.gateway.client(GATEWAY_KEY, { "x-provider": "nope" }).chat.completions.create(chat()));
    expect(error).toMatchObject({ status: 400, code: "unknown_provider" });
    expect((error as BadRequestError).message).toContain("Routes: balanced, cooling, keys, lopsided, smart, unreachable.");
  });

  it("moves on after 401 and 404 on a route that lists them (a wrong key or deployment)", async () => {
    const sdk = fixture.gateway.client(GATEWAY_KEY, { "x-provider": "keys" });
    primary.upstream.enqueue({ kind: "error", status: 404, code: "DeploymentNotFound", message: "The API deployment for this resource does not exist." });
    expect((await sdk.chat.completions.create(chat())).model).toBe("gpt-4o-mini");
    primary.upstream.enqueue({ kind: "error", status: 401, code: "invalid_api_key", message: "Incorrect API key provided." });
    expect((await sdk.chat.completions.create(chat())).model).toBe("gpt-4o-mini");
    expect(secondary.upstream.requests).toHaveLength(2);
  });

  it("moves on when the first target cannot be reached", async () => {
    const { response } = await fixture.gateway.client(GATEWAY_KEY, { "x-provider": "unreachable" }).chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-gateway-provider")).toBe("secondary");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.targets?.[0]).toMatchObject({ provider: "closed", result: "upstream_unavailable", fellBack: true });
  });
});

describe("a route's targets keep their own retries", () => {
  const fixture = useTestGateway(environment({ GATEWAY_MAX_RETRIES: "1", GATEWAY_RETRY_BASE_DELAY_MS: "5" }), { apiKey: GATEWAY_KEY, headers: { "x-provider": "smart" } });

  it("retries the first target, then falls back, within one request", async () => {
    primary.upstream.enqueue({ kind: "error", status: 503, retryAfterMs: 5 });
    primary.upstream.enqueue({ kind: "error", status: 503, retryAfterMs: 5 });
    const { response } = await fixture.client.chat.completions.create(chat()).withResponse();
    expect(primary.upstream.requests).toHaveLength(2);
    expect(secondary.upstream.requests).toHaveLength(1);
    expect(response.headers.get("x-gateway-retries")).toBe("2");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.targets?.map((target) => target.attempts)).toEqual([2, 1]);
  });
});

describe("timeouts", () => {
  const fixture = useTestGateway(environment({ GATEWAY_FIRST_BYTE_TIMEOUT_MS: "300" }), { apiKey: GATEWAY_KEY, headers: { "x-provider": "smart" } });

  it("a target that does not answer in time makes way for the next", async () => {
    primary.upstream.enqueue({ kind: "hang" });
    const { response } = await fixture.client.chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-gateway-provider")).toBe("secondary");
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.targets?.[0]).toMatchObject({ provider: "primary", result: "upstream_timeout", fellBack: true });
  });
});

describe("load balancing", () => {
  const fixture = useTestGateway(environment(), { apiKey: GATEWAY_KEY, headers: { "x-provider": "balanced" } });

  it("sends the first attempts by weight (3:1 over 400 requests, within 7 standard deviations)", async () => {
    const requests = 400;
    for (let batch = 0; batch < requests / 20; batch += 1) {
      await Promise.all(Array.from({ length: 20 }, () => fixture.client.chat.completions.create(chat("balanced"))));
    }
    const toPrimary = primary.upstream.requests.length;
    expect(toPrimary + secondary.upstream.requests.length).toBe(requests);
    // Expected 300, standard deviation sqrt(400 * 0.75 * 0.25) ≈ 8.7.
    expect(toPrimary).toBeGreaterThan(240);
    expect(toPrimary).toBeLessThan(360);
  });

  it("falls back to the other target when the drawn one fails", async () => {
    // Drawn first all but once in a million.
    primary.upstream.enqueue({ kind: "error", status: 500 });
    const { data, response } = await fixture.gateway.client(GATEWAY_KEY, { "x-provider": "lopsided" }).chat.completions.create(chat("lopsided")).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: hi");
    expect(response.headers.get("x-gateway-provider")).toBe("secondary");
    expect([primary.upstream.requests.length, secondary.upstream.requests.length]).toEqual([1, 1]);
  });
});

describe("cool-down", () => {
  const fixture = useTestGateway(environment(), { apiKey: GATEWAY_KEY, headers: { "x-provider": "cooling" } });

  it("skips a target that kept failing for the route's seconds, then tries it again", async () => {
    primary.upstream.enqueue({ kind: "error", status: 503 });
    primary.upstream.enqueue({ kind: "error", status: 503 });
    await fixture.client.chat.completions.create(chat("cooling"));
    await fixture.client.chat.completions.create(chat("cooling"));
    expect(primary.upstream.requests).toHaveLength(2);
    // Two failures in a row: the primary is set aside.
    const { response } = await fixture.client.chat.completions.create(chat("cooling")).withResponse();
    expect(response.headers.get("x-gateway-provider")).toBe("secondary");
    expect(primary.upstream.requests).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await fixture.client.chat.completions.create(chat("cooling")).withResponse();
    expect(after.response.headers.get("x-gateway-provider")).toBe("primary");
    expect(primary.upstream.requests).toHaveLength(3);
  });
});

describe("a caller's own key and a route", () => {
  const fixture = useTestGateway(environment({ GATEWAY_ALLOW_PASSTHROUGH: "true" }), { apiKey: "sk-callers-own-key", headers: { "x-provider": "smart" } });

  it("is refused for a route over several providers: the key would travel to all of them", async () => {
    const error = await rejectionOf(fixture.client.chat.completions.create(chat()));
    expect(error).toMatchObject({ status: 400, code: "route_requires_gateway_key" });
    for (const fake of [primary, secondary, tertiary]) expect(fake.upstream.requests).toHaveLength(0);
  });
});
