/**
 * Who may call, and which key goes upstream: managed mode (gateway keys, the
 * gateway's own provider key) and passthrough mode (the caller's key).
 */
import OpenAI, { AuthenticationError, InternalServerError } from "openai";
import { describe, expect, it } from "vitest";
import { createCredentials, type Credentials, type CredentialStore } from "../../functions/shared/access/credentials.ts";
import type { RecordedRequest } from "../support/fake-openai.ts";
import { fetchText, type FetchedResponse } from "../support/fetch.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const KEY_ONE = "gw-key-one-0123456789";
const KEY_TWO = "gw-key-two-0123456789";
const GATEWAY_KEYS = [KEY_ONE, KEY_TWO];
const PROVIDER_KEY = "sk-provider";
const REQUEST_ID = /^[0-9a-f-]{36}$/;

const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Who am I?" }] };

function send(baseURL: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<FetchedResponse> {
  return fetchText(`${baseURL}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
    body: init.body,
  });
}

/** Everything a response exposes, as one string, to search for leaked keys. */
function exposed(response: FetchedResponse): string {
  return `${JSON.stringify([...response.headers])}\n${response.text}`;
}

/** Everything the upstream received, as one string, to search for leaked keys. */
function received(requests: readonly RecordedRequest[]): string {
  return requests.map((request) => `${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n${request.body.toString()}`).join("\n");
}

describe("managed mode: callers present a gateway key, the gateway calls with its own", () => {
  const fixture = useFakeUpstreamAndGateway({
    upstream: { requireAuth: `Bearer ${PROVIDER_KEY}` },
    env: {
      GATEWAY_API_KEYS: GATEWAY_KEYS.join(","),
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_ORGANIZATION: "org-gateway",
      OPENAI_PROJECT: "proj_gateway",
      // Provider errors are relayed as they are, without gateway retries (where the gateway has them).
      GATEWAY_MAX_RETRIES: "0",
    },
  });

  it("a good gateway key works; upstream sees only the provider key", async () => {
    for (const [index, key] of GATEWAY_KEYS.entries()) {
      const completion = await fixture.gateway.client(key).chat.completions.create(chat);
      expect(completion.choices[0]?.message.content).toBe("Echo: Who am I?");
      const summaries = await fixture.gateway.waitForSummaries(index + 1);
      expect(summaries[index]).toMatchObject({ keyId: `env-${index + 1}`, status: 200, outcome: "ok" });
    }
    expect(fixture.upstream.requests).toHaveLength(2);
    for (const request of fixture.upstream.requests) expect(request.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    const seen = received(fixture.upstream.requests);
    for (const key of GATEWAY_KEYS) expect(seen).not.toContain(key);
  });

  it("a streamed request sends the provider key too and never the gateway key", async () => {
    const stream = await fixture.gateway.client(KEY_ONE).chat.completions.create({ ...chat, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo: Who am I?");
    expect(fixture.upstream.requests[0]?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(received(fixture.upstream.requests)).not.toContain(KEY_ONE);
  });

  it("a wrong key gets 401 invalid_api_key (AuthenticationError) and no upstream request", async () => {
    for (const wrong of ["gw-key-three-0123456789", `${KEY_ONE}x`, KEY_ONE.slice(0, -1), PROVIDER_KEY]) {
      const error = await rejectionOf(fixture.gateway.client(wrong).chat.completions.create(chat));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
      expect((error as AuthenticationError).message).not.toContain(wrong);
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a missing key gets 401 invalid_api_key and no upstream request", async () => {
    const response = await send(fixture.gateway.baseURL, "chat/completions", { body: JSON.stringify(chat) });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({
      error: {
        message: "Missing gateway key. Send it as 'Authorization: Bearer <gateway key>'.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    expect(response.headers.get("x-gateway-request-id")).toMatch(REQUEST_ID);
    const models = await send(fixture.gateway.baseURL, "models", { headers: { authorization: "Basic Z3c6a2V5" } });
    expect(models.status).toBe(401);
    expect(fixture.upstream.requests).toHaveLength(0);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries[0]).toMatchObject({ status: 401, outcome: "gateway_error", errorCode: "invalid_api_key", keyId: undefined });
  });

  it("a caller without a valid key who names an unknown provider gets 401, not the list of provider names", async () => {
    const unknown = { "x-provider": "no-such-provider" };
    const missing = await send(fixture.gateway.baseURL, "chat/completions", { headers: unknown, body: JSON.stringify(chat) });
    const wrong = await send(fixture.gateway.baseURL, "chat/completions", { headers: { ...unknown, authorization: "Bearer gw-key-three-0123456789" }, body: JSON.stringify(chat) });
    for (const response of [missing, wrong]) {
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text)).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
      expect(response.text).not.toMatch(/openai|mock|no-such-provider/);
    }
    // A caller with a key may learn which providers there are.
    const known = await send(fixture.gateway.baseURL, "chat/completions", { headers: { ...unknown, authorization: `Bearer ${KEY_ONE}` }, body: JSON.stringify(chat) });
    expect(known.status).toBe(400);
    expect(known.text).toContain("openai");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("the gateway key never appears in any response, header or body", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, match: "/v1/embeddings" });
    const responses = await Promise.all([
      send(fixture.gateway.baseURL, "chat/completions", { headers: { authorization: `Bearer ${KEY_ONE}` }, body: JSON.stringify(chat) }),
      send(fixture.gateway.baseURL, "chat/completions", { headers: { authorization: `Bearer ${KEY_ONE}` }, body: JSON.stringify({ ...chat, stream: true }) }),
      send(fixture.gateway.baseURL, "models", { headers: { authorization: `Bearer ${KEY_TWO}` } }),
      send(fixture.gateway.baseURL, "embeddings", { headers: { authorization: `Bearer ${KEY_TWO}` }, body: '{"model":"text-embedding-3-small","input":"x"}' }),
      send(fixture.gateway.baseURL, "models", { headers: { authorization: `Bearer ${KEY_ONE}-typo` } }),
      send(fixture.gateway.baseURL, "models", { headers: { authorization: `Bearer ${KEY_ONE.toUpperCase()}` } }),
      send(fixture.gateway.baseURL, "models", { headers: { authorization: KEY_ONE } }),
      send(fixture.gateway.baseURL, "nowhere", { headers: { authorization: `Bearer ${KEY_ONE}` } }),
      send(fixture.gateway.baseURL, "chat/completions", { headers: { authorization: `Bearer ${KEY_ONE}` }, body: `{"model":"${KEY_TWO}"` }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429, 401, 401, 401, 404, 400]);
    for (const response of responses) {
      const text = exposed(response);
      expect(text).not.toContain(KEY_ONE);
      expect(text).not.toContain(KEY_ONE.toUpperCase());
      expect(text).not.toContain(KEY_TWO);
      expect(text).not.toContain(PROVIDER_KEY);
    }
  });

  it("sends OPENAI_ORGANIZATION and OPENAI_PROJECT upstream", async () => {
    await fixture.gateway.client(KEY_ONE).models.list();
    expect(fixture.upstream.requests[0]?.headers).toMatchObject({ "openai-organization": "org-gateway", "openai-project": "proj_gateway" });
  });

  it("answers a provider 401 about the gateway's own key with a 502 that shows no piece of that key, after one try", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 401, message: "Incorrect API key provided: sk-pro****ider." });
    const error = await rejectionOf(fixture.gateway.client(KEY_ONE).chat.completions.create(chat));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, code: "upstream_auth_failed", type: "server_error" });
    expect(error.message).toContain("rejected the gateway's API key");
    expect(error.message).not.toContain("sk-pro");
    expect(error.headers?.get("x-request-id")).toMatch(/^req_/);
    expect(fixture.upstream.requests).toHaveLength(1);
  });
});

describe("managed mode without a provider key", () => {
  const fixture = useFakeUpstreamAndGateway({ env: { GATEWAY_API_KEYS: KEY_ONE } });

  it("answers 500 in OpenAI's shape naming the provider, and calls nobody", async () => {
    const response = await send(fixture.gateway.baseURL, "chat/completions", { headers: { authorization: `Bearer ${KEY_ONE}` }, body: JSON.stringify(chat) });
    expect(response.status).toBe(500);
    expect(JSON.parse(response.text)).toEqual({
      error: { message: "The gateway has no API key for provider openai.", type: "server_error", param: null, code: "gateway_misconfigured" },
    });
    expect(response.headers.get("x-gateway-request-id")).toMatch(REQUEST_ID);

    const error = await rejectionOf(fixture.gateway.client(KEY_ONE).models.list());
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).message).toContain("provider openai");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("still rejects a wrong gateway key with 401 first", async () => {
    expect((await send(fixture.gateway.baseURL, "models", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });
});

describe("passthrough mode: no gateway keys, the caller's key goes upstream", () => {
  const fixture = useFakeUpstreamAndGateway({
    upstream: { requireAuth: "Bearer sk-caller-own" },
    // The gateway has a key of its own, which callers without one must not get to use.
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_ORGANIZATION: "org-gateway" },
  });

  it("forwards the caller's Authorization unchanged", async () => {
    const completion = await fixture.gateway.client("sk-caller-own").chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Echo: Who am I?");
    expect(fixture.upstream.requests[0]?.headers.authorization).toBe("Bearer sk-caller-own");
    expect(fixture.upstream.requests[0]?.headers["openai-organization"]).toBeUndefined();
    expect(received(fixture.upstream.requests)).not.toContain(PROVIDER_KEY);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary?.keyId).toBeUndefined();
  });

  it("forwards an odd-looking Authorization byte for byte, and the provider's verdict", async () => {
    const response = await send(fixture.gateway.baseURL, "models", { headers: { authorization: "bearer   sk-caller-own" } });
    expect(fixture.upstream.requests[0]?.headers.authorization).toBe("bearer   sk-caller-own");
    expect(response.status).toBe(401);
  });

  it("a wrong caller key is the provider's 401, relayed", async () => {
    const error = await rejectionOf(fixture.gateway.client("sk-not-the-right-one").models.list());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it("forwards the client's OpenAI-Organization and OpenAI-Project", async () => {
    const client = new OpenAI({
      apiKey: "sk-caller-own",
      baseURL: fixture.gateway.baseURL,
      organization: "org-client",
      project: "proj_client",
      maxRetries: 0,
      timeout: 5_000,
    });
    await client.models.list();
    expect(fixture.upstream.requests[0]?.headers).toMatchObject({ "openai-organization": "org-client", "openai-project": "proj_client" });
  });

  it("no Authorization gets 401 from the gateway, without an upstream call", async () => {
    for (const headers of [{}, { authorization: "" }, { authorization: "   " }] as Record<string, string>[]) {
      const response = await send(fixture.gateway.baseURL, "chat/completions", { headers, body: JSON.stringify(chat) });
      expect(response.status).toBe(401);
      const body = JSON.parse(response.text) as { error: { code: string; type: string; message: string } };
      expect(body.error).toMatchObject({ code: "invalid_api_key", type: "invalid_request_error" });
      expect(body.error.message).toContain("You didn't provide an API key");
      expect(response.headers.get("x-gateway-request-id")).toMatch(REQUEST_ID);
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("gateway keys with GATEWAY_ALLOW_PASSTHROUGH=true", () => {
  const fixture = useFakeUpstreamAndGateway({
    env: { GATEWAY_API_KEYS: KEY_ONE, GATEWAY_ALLOW_PASSTHROUGH: "true", OPENAI_API_KEY: PROVIDER_KEY },
  });

  it("swaps a gateway key for the provider key and passes any other key through", async () => {
    await fixture.gateway.client(KEY_ONE).models.list();
    await fixture.gateway.client("sk-caller-own").models.list();
    expect(fixture.upstream.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${PROVIDER_KEY}`, "Bearer sk-caller-own"]);
    const summaries = await fixture.gateway.waitForSummaries(2);
    expect(summaries.map((summary) => summary.keyId)).toEqual(["env-1", undefined]);
  });

  it("refuses a token that looks like a gateway key but matches none with 401, and sends nothing upstream", async () => {
    const typo = `${KEY_ONE.slice(0, -1)}x`;
    for (const authorization of [`Bearer ${typo}`, `bearer  ${typo} `, `Bearer ${KEY_ONE.toUpperCase()}`, typo, `Bearer gw-revoked-key-0123456789`]) {
      const response = await send(fixture.gateway.baseURL, "chat/completions", { headers: { authorization }, body: JSON.stringify(chat) });
      expect(response.status, authorization).toBe(401);
      expect(JSON.parse(response.text)).toEqual({
        error: { message: "Incorrect gateway key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" },
      });
      expect(exposed(response)).not.toContain(typo);
    }
    expect(fixture.upstream.requests).toHaveLength(0);
  });
});

describe("managed mode with a rotated provider key", () => {
  let refreshes = 0;

  const withKey = (apiKey: string): Credentials =>
    createCredentials({ providers: { openai: { apiKeys: [apiKey] } }, gatewayKeys: [{ id: "team-a", key: KEY_ONE }], allowPassthrough: false });

  // The cached copy still holds the old key; a refresh fetches the new one.
  const store: CredentialStore = {
    get: () => Promise.resolve(refreshes === 0 ? withKey("sk-rotated-old") : withKey("sk-rotated-new")),
    refresh: () => {
      refreshes += 1;
      return Promise.resolve(withKey("sk-rotated-new"));
    },
  };
  const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-rotated-new" }, credentials: store });

  it("a provider 401 refreshes the key and retries once, invisibly to the caller", async () => {
    const completion = await fixture.gateway.client(KEY_ONE).chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Echo: Who am I?");
    expect(refreshes).toBe(1);
    expect(fixture.upstream.requests.map((request) => request.headers.authorization)).toEqual(["Bearer sk-rotated-old", "Bearer sk-rotated-new"]);
    expect(fixture.upstream.requests[1]?.body.equals(fixture.upstream.requests[0]?.body ?? Buffer.alloc(0))).toBe(true);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 200, outcome: "ok", keyId: "team-a" });
  });
});
