/**
 * Whether a request uses the response cache, and its key: off unless a TTL is
 * asked for, `no-cache` refreshes, `no-store` bypasses, and the key covers
 * who asks, where, and the body in canonical form.
 */
import { describe, expect, it } from "vitest";
import type { Caller } from "../../functions/shared/access/authenticate.ts";
import { canonicalJson, decideCaching, type CacheDecision } from "../../functions/shared/cache/cache-policy.ts";
import type { CacheConfig } from "../../functions/shared/config/config.ts";
import { InvalidRequestError } from "../../functions/shared/http/errors.ts";
import type { IncomingHeaders } from "../../functions/shared/http/headers.ts";
import type { JsonBody } from "../../functions/shared/http/request-body.ts";
import { matchEndpoint as matchRoute } from "../../functions/shared/endpoints/match.ts";

const OFF: CacheConfig = { defaultTtlSeconds: 0, maxTtlSeconds: 3_600, maxEntryBytes: 1_000_000 };
const ON: CacheConfig = { ...OFF, defaultTtlSeconds: 300 };

const CHAT = matchRoute("POST", "/v1/chat/completions");
const BODY: JsonBody = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }], temperature: 0.5 };
const ALICE: Caller = { mode: "passthrough", authorization: "Bearer sk-alice" };

interface Input {
  route?: ReturnType<typeof matchRoute>;
  headers?: IncomingHeaders;
  body?: JsonBody | undefined;
  caller?: Caller;
  provider?: string;
  query?: string;
  config?: CacheConfig;
}

function decide(input: Input = {}): CacheDecision {
  return decideCaching(
    input.route ?? CHAT,
    input.headers ?? { "x-gateway-cache-ttl": "60" },
    "body" in input ? input.body : BODY,
    { caller: input.caller ?? ALICE, provider: input.provider ?? "openai", query: input.query ?? "" },
    input.config ?? OFF,
  );
}

function keyOf(input: Input = {}): string {
  const decision = decide(input);
  if (decision.mode === "bypass") throw new Error("expected a cache key");
  return decision.key;
}

function ttlError(value: string, config = OFF): InvalidRequestError {
  try {
    decide({ headers: { "x-gateway-cache-ttl": value }, config });
  } catch (error) {
    return error as InvalidRequestError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe("decideCaching: when the cache is used", () => {
  it("is off by default: no deployment TTL and no header bypass", () => {
    expect(decide({ headers: {} })).toEqual({ mode: "bypass" });
  });

  it("a request's x-gateway-cache-ttl turns it on with that TTL", () => {
    expect(decide({ headers: { "x-gateway-cache-ttl": "60" } })).toMatchObject({ mode: "use", ttlSeconds: 60 });
    expect(decide({ headers: { "x-gateway-cache-ttl": "3600" } })).toMatchObject({ mode: "use", ttlSeconds: 3_600 });
  });

  it("the deployment TTL applies without the header; the header overrides it, 0 turning the cache off", () => {
    expect(decide({ headers: {}, config: ON })).toMatchObject({ mode: "use", ttlSeconds: 300 });
    expect(decide({ headers: { "x-gateway-cache-ttl": "5" }, config: ON })).toMatchObject({ mode: "use", ttlSeconds: 5 });
    expect(decide({ headers: { "x-gateway-cache-ttl": "0" }, config: ON })).toEqual({ mode: "bypass" });
  });

  it("cache-control: no-cache refreshes (same key as a plain lookup), no-store bypasses, whatever the case", () => {
    const plain = keyOf();
    expect(decide({ headers: { "x-gateway-cache-ttl": "60", "cache-control": "no-cache" } })).toEqual({ mode: "refresh", ttlSeconds: 60, key: plain });
    expect(decide({ headers: { "cache-control": "No-Cache" }, config: ON })).toMatchObject({ mode: "refresh", key: plain });
    expect(decide({ headers: { "x-gateway-cache-ttl": "60", "cache-control": "no-store" } })).toEqual({ mode: "bypass" });
    expect(decide({ headers: { "cache-control": "NO-STORE" }, config: ON })).toEqual({ mode: "bypass" });
    expect(decide({ headers: { "cache-control": "no-cache, no-store" }, config: ON })).toEqual({ mode: "bypass" });
    expect(decide({ headers: { "cache-control": "max-age=0" }, config: ON })).toMatchObject({ mode: "use", key: plain });
  });

  it("only chat completions, completions, embeddings and moderations are cacheable", () => {
    for (const path of ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations"]) {
      expect(decide({ route: matchRoute("POST", path), config: ON }).mode).toBe("use");
    }
    expect(decide({ route: matchRoute("POST", "/v1/responses"), config: ON })).toEqual({ mode: "bypass" });
    expect(decide({ route: matchRoute("GET", "/v1/models"), body: undefined, config: ON })).toEqual({ mode: "bypass" });
    expect(decide({ route: matchRoute("GET", "/v1/models/gpt-4o"), body: undefined, config: ON })).toEqual({ mode: "bypass" });
    expect(decide({ body: undefined, config: ON })).toEqual({ mode: "bypass" });
  });

  it("an x-gateway-cache-ttl that is not an integer from 0 to the maximum is a 400 naming the header", () => {
    for (const value of ["abc", "-1", "3601", "1.5", "1e3", "0x10", "+5", "", " ", "60s", "99999999999999999999"]) {
      const error = ttlError(value);
      expect(error, value).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({ status: 400, param: "x-gateway-cache-ttl", code: "invalid_header", type: "invalid_request_error" });
      expect(error.message).toContain("3600");
    }
    expect(decide({ headers: { "x-gateway-cache-ttl": " 60 " } })).toMatchObject({ mode: "use", ttlSeconds: 60 });
    expect(decide({ headers: { "x-gateway-cache-ttl": "007" } })).toMatchObject({ mode: "use", ttlSeconds: 7 });
  });
});

describe("decideCaching: the key", () => {
  it("is cache: and 64 hex digits, and holds neither the caller's key nor the body", () => {
    const key = keyOf({ caller: { mode: "passthrough", authorization: "Bearer sk-very-secret" } });
    expect(key).toMatch(/^cache:[0-9a-f]{64}$/);
    expect(key).not.toContain("sk-very-secret");
  });

  it("is stable, and does not depend on the TTL or on cache-control", () => {
    expect(keyOf()).toBe(keyOf());
    expect(keyOf({ headers: { "x-gateway-cache-ttl": "5" } })).toBe(keyOf({ headers: { "x-gateway-cache-ttl": "3000" } }));
    expect(keyOf({ headers: {}, config: ON })).toBe(keyOf());
  });

  it("differs by caller: passthrough keys, gateway key ids, managed vs passthrough vs anonymous", () => {
    const keys = [
      keyOf({ caller: { mode: "passthrough", authorization: "Bearer sk-alice" } }),
      keyOf({ caller: { mode: "passthrough", authorization: "Bearer sk-bob" } }),
      keyOf({ caller: { mode: "managed", keyId: "env-1", keyDigest: "aa11" } }),
      keyOf({ caller: { mode: "managed", keyId: "env-2", keyDigest: "bb22" } }),
      keyOf({ caller: { mode: "anonymous" } }),
      // A passthrough caller whose authorization spells a key id is still someone else.
      keyOf({ caller: { mode: "passthrough", authorization: "env-1" } }),
      keyOf({ caller: { mode: "passthrough", authorization: "key:env-1" } }),
      keyOf({ caller: { mode: "passthrough", authorization: "key:aa11" } }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    // The limits of a managed key are not part of who it is.
    expect(keyOf({ caller: { mode: "managed", keyId: "env-1", keyDigest: "aa11", limits: { requestsPerMinute: 1 } } })).toBe(
      keyOf({ caller: { mode: "managed", keyId: "env-1", keyDigest: "aa11" } }),
    );
    // Who the caller is follows the key itself: the same id listed for another key is someone else.
    expect(keyOf({ caller: { mode: "managed", keyId: "env-1", keyDigest: "cc33" } })).not.toBe(
      keyOf({ caller: { mode: "managed", keyId: "env-1", keyDigest: "aa11" } }),
    );
  });

  it("differs by provider, path, query, organization and project headers", () => {
    const base = keyOf();
    const others = [
      keyOf({ provider: "other" }),
      keyOf({ route: matchRoute("POST", "/v1/completions") }),
      keyOf({ route: matchRoute("POST", "/v1/embeddings") }),
      keyOf({ query: "api-version=2" }),
      keyOf({ headers: { "x-gateway-cache-ttl": "60", "openai-organization": "org-a" } }),
      keyOf({ headers: { "x-gateway-cache-ttl": "60", "openai-organization": "org-b" } }),
      keyOf({ headers: { "x-gateway-cache-ttl": "60", "openai-project": "proj_a" } }),
      // The same value as organization or as project is not the same request.
      keyOf({ headers: { "x-gateway-cache-ttl": "60", "openai-project": "org-a" } }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
    // Headers that do not change the answer do not split the cache.
    expect(keyOf({ headers: { "x-gateway-cache-ttl": "60", "user-agent": "x", "x-stainless-retry-count": "1" } })).toBe(base);
  });

  it("differs by any value of the body, at any depth", () => {
    const base = keyOf();
    const bodies: JsonBody[] = [
      { ...BODY, temperature: 0.6 },
      { ...BODY, model: "gpt-4o-mini" },
      { ...BODY, messages: [{ role: "user", content: "hi!" }] },
      { ...BODY, messages: [{ role: "system", content: "hi" }] },
      { ...BODY, messages: [{ role: "user", content: "hi" }, { role: "user", content: "hi" }] },
      { ...BODY, user: "someone" },
      { ...BODY, stream: true },
      { ...BODY, stream: true, stream_options: { include_usage: true } },
      { ...BODY, temperature: "0.5" },
      { ...BODY, n: null },
    ];
    const keys = bodies.map((body) => keyOf({ body }));
    expect(new Set([base, ...keys]).size).toBe(bodies.length + 1);
  });

  it("is the same for the same body with keys in another order, at every level", () => {
    const reordered: JsonBody = { temperature: 0.5, messages: [{ content: "hi", role: "user" }], model: "gpt-4o" };
    expect(keyOf({ body: reordered })).toBe(keyOf());
    const nested = (first: boolean): JsonBody =>
      first
        ? { model: "m", response_format: { type: "json_schema", json_schema: { name: "x", schema: { b: 1, a: [{ y: 2, x: 1 }] } } } }
        : { response_format: { json_schema: { schema: { a: [{ x: 1, y: 2 }], b: 1 }, name: "x" }, type: "json_schema" }, model: "m" };
    expect(keyOf({ body: nested(true) })).toBe(keyOf({ body: nested(false) }));
    // The order of array elements is meaning, not form.
    const twoMessages = (a: string, b: string): JsonBody => ({ model: "m", messages: [{ role: "user", content: a }, { role: "user", content: b }] });
    expect(keyOf({ body: twoMessages("a", "b") })).not.toBe(keyOf({ body: twoMessages("b", "a") }));
  });
});

describe("canonicalJson", () => {
  it("sorts object keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}');
    expect(canonicalJson([{ b: 1, a: 2 }, "x"])).toBe('[{"a":2,"b":1},"x"]');
  });

  it("writes primitives as JSON does", () => {
    expect(canonicalJson("h\u00e9 \"q\"\n")).toBe(JSON.stringify("h\u00e9 \"q\"\n"));
    expect(canonicalJson(1.5)).toBe("1.5");
    expect(canonicalJson(-0)).toBe("0");
    expect(canonicalJson(1e21)).toBe("1e+21");
    expect(canonicalJson(true)).toBe("true");
    expect(canonicalJson(null)).toBe("null");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson([])).toBe("[]");
  });

  it("is valid JSON equal to its input, and the same text for equal values however written", () => {
    const inputs = [
      '{"model":"gpt-4o","messages":[{"role":"user","content":"h\\u00e9"}],"temperature":0.5}',
      '{ "temperature" : 0.50, "messages" : [ { "content" : "hé", "role" : "user" } ], "model" : "gpt-4o" }',
    ];
    const [first, second] = inputs.map((text) => canonicalJson(JSON.parse(text)));
    expect(first).toBe(second);
    expect(JSON.parse(first ?? "")).toEqual(JSON.parse(inputs[0] ?? ""));
  });

  it("keeps keys that merely look alike apart", () => {
    expect(canonicalJson({ a: "b,c" })).not.toBe(canonicalJson({ "a,b": "c" }));
    expect(canonicalJson({ "": 1 })).toBe('{"":1}');
    expect(canonicalJson({ "a\"": 1 })).toBe('{"a\\"":1}');
  });
});
