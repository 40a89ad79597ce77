import { describe, expect, it } from "vitest";
import { AuthenticationError } from "../../functions/shared/http/errors.ts";
import { authenticate } from "../../functions/shared/access/authenticate.ts";
import { parseSecret, SecretFormatError } from "../../functions/shared/access/parse-secret.ts";
import { digestKey } from "../../functions/shared/access/credentials.ts";

const GW_ONE = "gw-team-a-secret-0123456789";
const GW_TWO = "gw-team-b-secret-0123456789";
const GENERATED = "gw-generated-by-stack-0123456789";

function formatErrorOf(document: unknown): SecretFormatError {
  const text = typeof document === "string" ? document : JSON.stringify(document);
  try {
    parseSecret(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SecretFormatError);
    expect((error as Error).name).toBe("SecretFormatError");
    return error as SecretFormatError;
  }
  throw new Error(`parseSecret accepted ${text}`);
}

describe("parseSecret: valid documents", () => {
  it("reads the OpenAI key, organization, project, gateway keys and passthrough flag", () => {
    const credentials = parseSecret(
      JSON.stringify({
        openai: { apiKey: "sk-live-provider-key", organization: "org-acme", project: "proj_acme" },
        gatewayKeys: [
          { id: "team-a", key: GW_ONE },
          { id: "team_b.2", key: GW_TWO },
        ],
        allowPassthrough: true,
      }),
    );
    expect(credentials.providers).toEqual({
      openai: { apiKeys: ["sk-live-provider-key"], organization: "org-acme", project: "proj_acme" },
    });
    expect(credentials.gatewayKeys).toEqual([
      { id: "team-a", digest: digestKey(GW_ONE), allowAccountHeaders: false, allowRealtimeClientSecrets: false },
      { id: "team_b.2", digest: digestKey(GW_TWO), allowAccountHeaders: false, allowRealtimeClientSecrets: false },
    ]);
    expect(credentials.allowPassthrough).toBe(true);
    expect(Object.isFrozen(credentials)).toBe(true);
  });

  it("keeps only digests of gateway keys, never the keys", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-x" }, gatewayKeys: [{ id: "a", key: GW_ONE }] }));
    expect(JSON.stringify(credentials)).not.toContain(GW_ONE);
  });

  it("reads an apiKeys pool, with passthrough off and no gateway keys by default", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKeys: ["sk-pool-1", "sk-pool-2"] } }));
    expect(credentials.providers.openai).toEqual({ apiKeys: ["sk-pool-1", "sk-pool-2"], organization: undefined, project: undefined });
    expect(credentials.gatewayKeys).toEqual([]);
    expect(credentials.allowPassthrough).toBe(false);
  });

  it("prefers apiKeys over apiKey and treats null organization/project as absent", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-single", apiKeys: ["sk-pool"], organization: null, project: null } }));
    expect(credentials.providers.openai).toEqual({ apiKeys: ["sk-pool"], organization: undefined, project: undefined });
  });

  it("reads every other top-level object as a provider", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-a" }, groq: { apiKey: "gsk-b" } }));
    expect(Object.keys(credentials.providers).sort()).toEqual(["groq", "openai"]);
  });

  it("accepts an empty document (no providers, no keys)", () => {
    expect(parseSecret("{}")).toEqual({ providers: {}, gatewayKeys: [], allowPassthrough: false });
  });

  it("reads the stack's gatewayKey shorthand as the key with id default, first in the list", () => {
    const credentials = parseSecret(
      JSON.stringify({ openai: { apiKey: "sk-a" }, gatewayKey: GENERATED, gatewayKeys: [{ id: "team-a", key: GW_ONE }] }),
    );
    expect(credentials.gatewayKeys).toEqual([
      { id: "default", digest: digestKey(GENERATED), allowAccountHeaders: false, allowRealtimeClientSecrets: false },
      { id: "team-a", digest: digestKey(GW_ONE), allowAccountHeaders: false, allowRealtimeClientSecrets: false },
    ]);
    expect(authenticate(`Bearer ${GENERATED}`, credentials, true)).toMatchObject({ mode: "managed", keyId: "default" });
    expect(authenticate(`Bearer ${GW_ONE}`, credentials, true)).toMatchObject({ mode: "managed", keyId: "team-a" });
  });

  it("a generated gatewayKey without the prefix is the key gw-<value>; the bare value still works", () => {
    const bare = "Q3xk9VbT1m8pLr2sWc7nHy4dFg6jKa0e";
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-a" }, gatewayKey: bare, allowPassthrough: true }));
    expect(credentials.gatewayKeys.map((key) => key.id)).toEqual(["default", "default"]);
    expect(authenticate(`Bearer gw-${bare}`, credentials, true)).toMatchObject({ mode: "managed", keyId: "default" });
    expect(authenticate(`Bearer ${bare}`, credentials, true)).toMatchObject({ mode: "managed", keyId: "default" });
    // Mixed mode: a mistyped generated key carries the prefix, so it is refused instead of going to the provider.
    expect(() => authenticate(`Bearer gw-${bare.slice(1)}`, credentials, true)).toThrow(AuthenticationError);
  });

  it("reads gatewayKey alone", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-a" }, gatewayKey: GENERATED }));
    expect(credentials.gatewayKeys).toEqual([{ id: "default", digest: digestKey(GENERATED), allowAccountHeaders: false, allowRealtimeClientSecrets: false }]);
    expect(credentials.providers).not.toHaveProperty("gatewayKey");
  });

  it("reads allowAccountHeaders per gateway key (default false) and carries it to the caller", () => {
    const credentials = parseSecret(
      JSON.stringify({
        openai: { apiKey: "sk-a" },
        gatewayKeys: [
          { id: "operator", key: GW_ONE, allowAccountHeaders: true },
          { id: "tenant", key: GW_TWO, allowAccountHeaders: false },
        ],
        gatewayKey: GENERATED,
      }),
    );
    expect(credentials.gatewayKeys.map(({ id, allowAccountHeaders }) => [id, allowAccountHeaders])).toEqual([
      ["default", false],
      ["operator", true],
      ["tenant", false],
    ]);
    expect(authenticate(`Bearer ${GW_ONE}`, credentials, true)).toMatchObject({ keyId: "operator", allowAccountHeaders: true });
    expect(authenticate(`Bearer ${GW_TWO}`, credentials, true)).toMatchObject({ keyId: "tenant", allowAccountHeaders: false });
    expect(authenticate(`Bearer ${GENERATED}`, credentials, true)).toMatchObject({ keyId: "default", allowAccountHeaders: false });
  });
});

describe("parseSecret: a gateway key's own provider account and realtime permission", () => {
  const document = {
    openai: { apiKey: "sk-shared", project: "proj_shared" },
    gatewayKeys: [
      { id: "team-a", key: GW_ONE, openai: { project: "proj_team_a" }, allowRealtimeClientSecrets: true },
      { id: "team-b", key: GW_TWO, openai: { apiKey: "sk-team-b" }, note: "a field the gateway does not know is ignored" },
    ],
  };

  it("reads a key's own project or provider key (a field named after a provider) and carries them to the caller", () => {
    const credentials = parseSecret(JSON.stringify(document));
    expect(authenticate(`Bearer ${GW_ONE}`, credentials, true)).toMatchObject({
      keyId: "team-a",
      providerAccounts: { openai: { project: "proj_team_a" } },
      allowRealtimeClientSecrets: true,
    });
    expect(authenticate(`Bearer ${GW_TWO}`, credentials, true)).toMatchObject({
      keyId: "team-b",
      providerAccounts: { openai: { apiKeys: ["sk-team-b"] } },
      allowRealtimeClientSecrets: false,
    });
  });
});

// Each case holds secret values; the error must name the field and contain none of them.
const SECRET_VALUES = ["sk-secret-provider-value", "gw-secret-gateway-value-0123", "short-secret", "org-secret-value", "proj_secret"];

describe("parseSecret: malformed documents throw SecretFormatError naming the field, never a value", () => {
  it.each([
    ["not JSON", '{"openai": {"apiKey": "sk-secret-provider-value"', "not valid JSON"],
    ["a JSON array", ["sk-secret-provider-value"], "must be a JSON object"],
    ["a JSON string", "\"sk-secret-provider-value\"", "must be a JSON object"],
    ["JSON null", "null", "must be a JSON object"],
    ["a provider that is a string", { openai: "sk-secret-provider-value" }, "field openai must be an object"],
    ["a provider that is a list", { openai: ["sk-secret-provider-value"] }, "field openai must be an object"],
    ["a provider without a key", { openai: { organization: "org-secret-value" } }, "field openai.apiKey (or openai.apiKeys) is missing"],
    ["an empty apiKey", { openai: { apiKey: "" } }, "field openai.apiKey"],
    ["a blank apiKey", { openai: { apiKey: "   " } }, "field openai.apiKey"],
    ["a numeric apiKey", { openai: { apiKey: 12345 } }, "field openai.apiKey"],
    ["an empty apiKeys list", { openai: { apiKeys: [] } }, "field openai.apiKeys"],
    ["apiKeys that is a string", { openai: { apiKeys: "sk-secret-provider-value" } }, "field openai.apiKeys"],
    ["apiKeys with an empty entry", { openai: { apiKeys: ["sk-secret-provider-value", ""] } }, "field openai.apiKeys"],
    ["an empty organization", { openai: { apiKey: "sk-secret-provider-value", organization: "" } }, "field openai.organization"],
    ["a numeric organization", { openai: { apiKey: "sk-secret-provider-value", organization: 7 } }, "field openai.organization"],
    ["an empty project", { openai: { apiKey: "sk-secret-provider-value", project: " " } }, "field openai.project"],
    ["a bad second provider", { openai: { apiKey: "sk-secret-provider-value" }, groq: { apiKey: false } }, "field groq.apiKey"],
    ["gatewayKeys that is a string", { gatewayKeys: "gw-secret-gateway-value-0123" }, "field gatewayKeys must be a list"],
    ["a gatewayKeys entry that is a string", { gatewayKeys: ["gw-secret-gateway-value-0123"] }, "field gatewayKeys[0]"],
    ["a gatewayKeys entry without id", { gatewayKeys: [{ key: "gw-secret-gateway-value-0123" }] }, "field gatewayKeys[0].id"],
    ["a gatewayKeys id with spaces", { gatewayKeys: [{ id: "team a", key: "gw-secret-gateway-value-0123" }] }, "field gatewayKeys[0].id"],
    ["a gatewayKeys id too long", { gatewayKeys: [{ id: "x".repeat(65), key: "gw-secret-gateway-value-0123" }] }, "field gatewayKeys[0].id"],
    ["a short gateway key", { gatewayKeys: [{ id: "a", key: "short-secret" }] }, "field gatewayKeys[0].key"],
    ["a gateway key that is not a string", { gatewayKeys: [{ id: "a", key: 1234567890123456789 }] }, "field gatewayKeys[0].key"],
    [
      "a repeated gatewayKeys id",
      {
        gatewayKeys: [
          { id: "a", key: "gw-secret-gateway-value-0123" },
          { id: "a", key: "gw-secret-gateway-value-0123" },
        ],
      },
      "field gatewayKeys[1].id",
    ],
    ["a short gatewayKey", { gatewayKey: "short-secret" }, "field gatewayKey must be a string"],
    ["a gatewayKey that is not a string", { gatewayKey: { key: "gw-secret-gateway-value-0123" } }, "field gatewayKey must be a string"],
    [
      "gatewayKeys repeating the id default of gatewayKey",
      { gatewayKey: "gw-secret-gateway-value-0123", gatewayKeys: [{ id: "default", key: "gw-secret-gateway-value-0123" }] },
      "field gatewayKeys repeats the id default",
    ],
    ["allowPassthrough as a string", { openai: { apiKey: "sk-secret-provider-value" }, allowPassthrough: "true" }, "field allowPassthrough"],
    [
      "allowAccountHeaders as a string",
      { gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", allowAccountHeaders: "true" }] },
      "field gatewayKeys[0].allowAccountHeaders must be true or false",
    ],
    ["allowAccountHeaders as a number", { gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", allowAccountHeaders: 1 }] }, "field gatewayKeys[0].allowAccountHeaders"],
    [
      "allowRealtimeClientSecrets as a string",
      { gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", allowRealtimeClientSecrets: "yes" }] },
      "field gatewayKeys[0].allowRealtimeClientSecrets must be true or false",
    ],
    [
      "a key's own provider account that is a string",
      { openai: { apiKey: "sk-secret-provider-value" }, gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", openai: "proj_secret" }] },
      "field gatewayKeys[0].openai must be an object",
    ],
    [
      "a key's own provider account with nothing in it",
      { openai: { apiKey: "sk-secret-provider-value" }, gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", openai: {} }] },
      "field gatewayKeys[0].openai must hold apiKey, apiKeys, project or organization",
    ],
    [
      "a key's own empty project",
      { openai: { apiKey: "sk-secret-provider-value" }, gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", openai: { project: " " } }] },
      "field gatewayKeys[0].openai.project",
    ],
    [
      "a key's own empty apiKeys",
      { openai: { apiKey: "sk-secret-provider-value" }, gatewayKeys: [{ id: "a", key: "gw-secret-gateway-value-0123", openai: { apiKeys: [] } }] },
      "field gatewayKeys[0].openai.apiKeys",
    ],
  ])("%s", (_name, document, fieldMessage) => {
    const error = formatErrorOf(document);
    expect(error.message).toContain(fieldMessage);
    for (const value of SECRET_VALUES) expect(error.message).not.toContain(value);
    expect(String(error.stack)).not.toContain("sk-secret-provider-value");
  });
});
