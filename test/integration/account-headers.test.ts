/**
 * Which OpenAI account the provider key is used for: in managed mode the
 * caller's own `OpenAI-Organization` and `OpenAI-Project` are dropped and the
 * configured ones apply, unless the operator allows them for the caller's
 * gateway key; a passthrough caller's go upstream with its own key.
 */
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { parseSecret } from "../../functions/shared/access/parse-secret.ts";
import type { RecordedRequest } from "../support/fake-openai.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const KEY_ONE = "gw-key-one-0123456789";
const KEY_TWO = "gw-key-two-0123456789";
const PROVIDER_KEY = "sk-provider";
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Which account?" }] };

/** An SDK client of the gateway that sends its own OpenAI-Organization and OpenAI-Project. */
function accountClient(baseURL: string, apiKey: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL,
    organization: "org-client",
    project: "proj_client",
    maxRetries: 0,
    timeout: 5_000,
    defaultHeaders: { "x-provider": "openai" },
  });
}

/** What the upstream was told, request by request: key, organization, project. */
function accountsOf(requests: readonly RecordedRequest[]): (string | undefined)[][] {
  return requests.map(({ headers }) => [headers.authorization, headers["openai-organization"], headers["openai-project"]].map((value) => value?.toString()));
}

describe("managed mode with a configured organization and project", () => {
  const fixture = useFakeUpstreamAndGateway({
    env: { GATEWAY_API_KEYS: KEY_ONE, OPENAI_API_KEY: PROVIDER_KEY, OPENAI_ORGANIZATION: "org-gateway", OPENAI_PROJECT: "proj_gateway" },
  });

  it("drops the client's own headers: the configured ones go with the gateway's key, streamed or not", async () => {
    const client = accountClient(fixture.gateway.baseURL, KEY_ONE);
    await client.models.retrieve("gpt-4o");
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    for await (const _chunk of stream);
    expect(accountsOf(fixture.upstream.requests)).toEqual(Array(2).fill([`Bearer ${PROVIDER_KEY}`, "org-gateway", "proj_gateway"]));
  });
});

describe("managed mode without a configured organization or project", () => {
  const fixture = useFakeUpstreamAndGateway({ env: { GATEWAY_API_KEYS: KEY_ONE, OPENAI_API_KEY: PROVIDER_KEY } });

  it("sends no OpenAI-Organization or OpenAI-Project at all, whatever the client sends", async () => {
    await accountClient(fixture.gateway.baseURL, KEY_ONE).chat.completions.create(chat);
    expect(accountsOf(fixture.upstream.requests)).toEqual([[`Bearer ${PROVIDER_KEY}`, undefined, undefined]]);
  });
});

describe("managed mode with GATEWAY_ALLOW_ACCOUNT_HEADERS=true", () => {
  const fixture = useFakeUpstreamAndGateway({
    env: { GATEWAY_API_KEYS: KEY_ONE, OPENAI_API_KEY: PROVIDER_KEY, OPENAI_ORGANIZATION: "org-gateway", GATEWAY_ALLOW_ACCOUNT_HEADERS: "true" },
  });

  it("forwards the client's own headers instead of the configured ones; without them the configured ones apply", async () => {
    await accountClient(fixture.gateway.baseURL, KEY_ONE).models.list();
    await fixture.gateway.client(KEY_ONE).models.list();
    expect(accountsOf(fixture.upstream.requests)).toEqual([
      [`Bearer ${PROVIDER_KEY}`, "org-client", "proj_client"],
      [`Bearer ${PROVIDER_KEY}`, "org-gateway", undefined],
    ]);
  });
});

describe("allowAccountHeaders on one gateway key of the secret", () => {
  const secret = parseSecret(
    JSON.stringify({
      openai: { apiKey: PROVIDER_KEY, organization: "org-gateway", project: "proj_gateway" },
      gatewayKeys: [
        { id: "operator", key: KEY_ONE, allowAccountHeaders: true },
        { id: "tenant", key: KEY_TWO },
      ],
    }),
  );
  const fixture = useFakeUpstreamAndGateway({ credentials: { get: () => Promise.resolve(secret), refresh: () => Promise.resolve(secret) } });

  it("lets that key's holders choose the organization and project, and nobody else", async () => {
    await accountClient(fixture.gateway.baseURL, KEY_ONE).chat.completions.create(chat);
    await accountClient(fixture.gateway.baseURL, KEY_TWO).chat.completions.create(chat);
    expect(accountsOf(fixture.upstream.requests)).toEqual([
      [`Bearer ${PROVIDER_KEY}`, "org-client", "proj_client"],
      [`Bearer ${PROVIDER_KEY}`, "org-gateway", "proj_gateway"],
    ]);
  });
});

describe("gateway keys with passthrough allowed", () => {
  const fixture = useFakeUpstreamAndGateway({
    env: { GATEWAY_API_KEYS: KEY_ONE, GATEWAY_ALLOW_PASSTHROUGH: "true", OPENAI_API_KEY: PROVIDER_KEY },
  });

  it("passes the caller's headers through with its own key, and drops them with a gateway key", async () => {
    await accountClient(fixture.gateway.baseURL, "sk-caller-own").models.list();
    await accountClient(fixture.gateway.baseURL, KEY_ONE).models.list();
    expect(accountsOf(fixture.upstream.requests)).toEqual([
      ["Bearer sk-caller-own", "org-client", "proj_client"],
      [`Bearer ${PROVIDER_KEY}`, undefined, undefined],
    ]);
  });
});
