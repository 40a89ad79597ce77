/**
 * A lazy body (GatewayRequest.readBody) is read only once the caller is
 * known: a stranger gets its 401 from the headers alone, and an adapter never
 * reads (or holds) its body. Whatever else handle() refuses, it answers as ever.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createCredentials, type CredentialStore } from "../../functions/shared/access/credentials.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import { createGateway, type Gateway } from "../../functions/shared/core/gateway.ts";
import type { GatewayRequest } from "../../functions/shared/http/wire.ts";
import { AuthenticationError, DependencyUnavailableError } from "../../functions/shared/http/errors.ts";

const KEY = "gw-precheck-key-0123456789";
const gateways: Gateway[] = [];

function gatewayWith(allowPassthrough: boolean, store?: CredentialStore): Gateway {
  const credentials = createCredentials({ providers: {}, gatewayKeys: allowPassthrough ? [] : [{ id: "team-a", key: KEY }], allowPassthrough });
  const resolved = Promise.resolve(credentials);
  const gateway = createGateway({
    config: loadConfig({ GATEWAY_MOCK_PROVIDER: "true", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" }),
    credentials: store ?? { get: () => resolved, refresh: () => resolved },
  });
  gateways.push(gateway);
  return gateway;
}

afterEach(() => {
  for (const gateway of gateways.splice(0)) gateway.close();
});

function request(headers: Record<string, string>, method = "POST", path = "/v1/chat/completions"): GatewayRequest {
  return { method, path, query: "", headers, body: undefined, signal: new AbortController().signal };
}

/** What handle() did with a lazy body: "passed" when it read the body, else the status it answered without reading it. */
async function precheckOf(gateway: Gateway, incoming: GatewayRequest): Promise<unknown> {
  let read = false;
  const response = await gateway.handle({
    ...incoming,
    readBody: async () => {
      read = true;
      return Buffer.from("not json");
    },
  });
  if (read) return "passed";
  return response.status === 401 ? new AuthenticationError((JSON.parse(Buffer.concat([...(response.body as Iterable<Uint8Array>)]).toString()) as { error: { message: string } }).error.message) : response.status;
}

/** The status handle() answers (with a JSON body, so that a request that passes does not reach a provider). */
async function statusOf(gateway: Gateway, incoming: GatewayRequest): Promise<number> {
  const response = await gateway.handle({ ...incoming, body: Buffer.from("not json") });
  return response.status;
}

describe("a lazy body in managed mode", () => {
  const gateway = () => gatewayWith(false);

  it.each([
    ["no Authorization", {}],
    ["a wrong gateway key", { authorization: "Bearer gw-wrong-key-0123456789" }],
    ["a malformed Authorization", { authorization: "Basic abc" }],
    ["a wrong key, for the mock provider too", { authorization: "Bearer nope", "x-provider": "mock" }],
  ])("%s: throws the 401 handle() answers", async (_label, headers) => {
    const subject = gateway();
    const error = await precheckOf(subject, request({ "content-type": "application/json", ...headers }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(await statusOf(subject, request({ "content-type": "application/json", ...headers }))).toBe(401);
  });

  it("the right key passes", async () => {
    expect(await precheckOf(gateway(), request({ authorization: `Bearer ${KEY}` }))).toBe("passed");
  });

  it.each([
    ["an unknown path (404)", request({}, "POST", "/v1/nowhere"), 404],
    ["a wrong method (405)", request({}, "GET", "/v1/completions"), 405],
  ])("%s is answered as before, without the body being read", async (_label, incoming, status) => {
    const subject = gateway();
    expect(await precheckOf(subject, incoming)).toBe(status);
    expect(await statusOf(subject, incoming)).toBe(status);
  });

  it("an unknown x-provider without a key is refused like handle() refuses it: 401, the provider names untold", async () => {
    const subject = gateway();
    const incoming = request({ "x-provider": "anthropic" });
    expect(await precheckOf(subject, incoming)).not.toBe("passed");
    expect(await statusOf(subject, incoming)).toBe(401);
  });

  it("a failing credential store: handle() answers its 503 without reading the body", async () => {
    const failing: CredentialStore = {
      get: () => Promise.reject(new DependencyUnavailableError("Secrets Manager is unavailable.")),
      refresh: () => Promise.reject(new DependencyUnavailableError("Secrets Manager is unavailable.")),
    };
    const subject = gatewayWith(false, failing);
    expect(await precheckOf(subject, request({}))).toBe(503);
    expect(await statusOf(subject, request({}))).toBe(503);
  });
});

describe("a lazy body in passthrough mode", () => {
  it("any Authorization passes (the provider judges it); none is a 401 for openai, fine for the mock", async () => {
    const subject = gatewayWith(true);
    expect(await precheckOf(subject, request({ authorization: "Bearer sk-anything" }))).toBe("passed");
    expect(await precheckOf(subject, request({ "x-provider": "mock" }))).toBe("passed");
    const error = await precheckOf(subject, request({}));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(await statusOf(subject, request({}))).toBe(401);
  });
});
