/**
 * Configured providers and routes: `GATEWAY_PROVIDERS` / `GATEWAY_ROUTES`
 * locally (refused at start-up when invalid), the secret's `providers` /
 * `routes` in AWS (a SecretFormatError naming the field, answered as a 500).
 */
import { describe, expect, it } from "vitest";
import { createEnvCredentialStore } from "../../functions/shared/access/env-credential-store.ts";
import { parseSecret, SecretFormatError } from "../../functions/shared/access/parse-secret.ts";
import { ConfigError, loadConfig } from "../../functions/shared/config/config.ts";
import { DEFAULT_COOLDOWN } from "../../functions/shared/config/route-settings.ts";

const GROQ_KEY = "gsk_very-secret-groq-key-123";
const AZURE_KEY = "azure-very-secret-key-456";
const ISSUE_EXAMPLE = {
  groq: { preset: "groq", apiKey: GROQ_KEY },
  "local-vllm": { preset: "openai-compatible", baseUrl: "http://10.0.0.5:8000/v1" },
  azure: { preset: "azure-openai", baseUrl: "https://my-res.openai.azure.com/openai/v1", apiKey: AZURE_KEY },
};

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("loadConfig accepted the environment");
}

function secretErrorOf(document: unknown): SecretFormatError {
  try {
    parseSecret(JSON.stringify(document));
  } catch (error) {
    expect(error).toBeInstanceOf(SecretFormatError);
    return error as SecretFormatError;
  }
  throw new Error("parseSecret accepted the document");
}

describe("GATEWAY_PROVIDERS", () => {
  it("reads the issue's example: presets with their base URLs, the keys kept apart from the settings", async () => {
    const config = loadConfig({ GATEWAY_PROVIDERS: JSON.stringify(ISSUE_EXAMPLE) });
    expect(config.providers.groq).toEqual({ preset: "groq", baseUrl: "https://api.groq.com/openai/v1", headers: {} });
    expect(config.providers["local-vllm"]).toEqual({ preset: "openai-compatible", baseUrl: "http://10.0.0.5:8000/v1", headers: {} });
    expect(config.providers.azure).toMatchObject({ preset: "azure-openai", baseUrl: "https://my-res.openai.azure.com/openai/v1" });
    expect(JSON.stringify(config.providers)).not.toContain(GROQ_KEY);
    if (config.credentials.source !== "env") throw new Error("expected env credentials");
    const credentials = await createEnvCredentialStore(config.credentials).get();
    expect(credentials.providers.groq?.apiKeys).toEqual([GROQ_KEY]);
    expect(credentials.providers.azure?.apiKeys).toEqual([AZURE_KEY]);
    expect(credentials.providers["local-vllm"]).toBeUndefined();
  });

  it("keeps openai as it was, and takes a pool, account headers and extra headers", async () => {
    const config = loadConfig({
      OPENAI_API_KEY: "sk-env",
      GATEWAY_PROVIDERS: JSON.stringify({
        router: { preset: "openrouter", apiKeys: ["sk-or-1", "sk-or-2"], headers: { "HTTP-Referer": "https://example.com", "X-Title": "demo" } },
        dated: { preset: "azure-openai", baseUrl: "https://r.openai.azure.com/openai/", apiVersion: "2024-10-21", deployments: { "gpt-4o": "prod-4o" } },
      }),
    });
    expect(config.providers.openai).toEqual({ preset: "openai", baseUrl: "https://api.openai.com/v1", headers: {} });
    expect(config.providers.router?.headers).toEqual({ "http-referer": "https://example.com", "x-title": "demo" });
    expect(config.providers.dated).toEqual({
      preset: "azure-openai",
      baseUrl: "https://r.openai.azure.com/openai",
      headers: {},
      apiVersion: "2024-10-21",
      deployments: { "gpt-4o": "prod-4o" },
    });
    if (config.credentials.source !== "env") throw new Error("expected env credentials");
    const credentials = await createEnvCredentialStore(config.credentials).get();
    expect(credentials.providers.router?.apiKeys).toEqual(["sk-or-1", "sk-or-2"]);
    expect(credentials.providers.openai?.apiKeys).toEqual(["sk-env"]);
  });

  it.each([
    [{ groq: { preset: "grok", apiKey: GROQ_KEY } }, "GATEWAY_PROVIDERS.groq.preset"],
    [{ groq: { apiKey: GROQ_KEY } }, "GATEWAY_PROVIDERS.groq.preset"],
    [{ vllm2: { preset: "openai-compatible" } }, "GATEWAY_PROVIDERS.vllm2.baseUrl is required"],
    [{ groq: { preset: "groq", baseUrl: "ftp://example.com", apiKey: GROQ_KEY } }, "GATEWAY_PROVIDERS.groq.baseUrl"],
    [{ groq: { preset: "groq", baseUrl: `https://user:${GROQ_KEY}@example.com/v1` } }, "GATEWAY_PROVIDERS.groq.baseUrl"],
    [{ groq: { preset: "groq", apiKey: GROQ_KEY, apiKeys: [GROQ_KEY] } }, "GATEWAY_PROVIDERS.groq sets both apiKey and apiKeys"],
    [{ groq: { preset: "groq", apiKey: 42 } }, "GATEWAY_PROVIDERS.groq.apiKey"],
    [{ groq: { preset: "groq", apiKeys: [GROQ_KEY, ""] } }, "GATEWAY_PROVIDERS.groq.apiKeys"],
    [{ groq: { preset: "groq", api_key: GROQ_KEY } }, "GATEWAY_PROVIDERS.groq.api_key is not a setting"],
    [{ groq: { preset: "groq", headers: { Authorization: `Bearer ${GROQ_KEY}` } } }, "GATEWAY_PROVIDERS.groq.headers"],
    [{ groq: { preset: "groq", headers: { "x-token": `line\r\nbreak ${GROQ_KEY}` } } }, "GATEWAY_PROVIDERS.groq.headers.x-token"],
    // The request's framing and connection are the gateway's: an Expect would send a body chunked, without its length.
    [{ groq: { preset: "groq", headers: { Expect: "100-continue" } } }, "GATEWAY_PROVIDERS.groq.headers"],
    [{ groq: { preset: "groq", headers: { "Transfer-Encoding": "chunked" } } }, "GATEWAY_PROVIDERS.groq.headers"],
    [{ groq: { preset: "groq", headers: { Upgrade: "h2c" } } }, "GATEWAY_PROVIDERS.groq.headers"],
    [{ groq: { preset: "groq", apiVersion: "2024-10-21" } }, "GATEWAY_PROVIDERS.groq.apiVersion is only for the azure-openai preset"],
    [{ az: { preset: "azure-openai", baseUrl: "https://r.openai.azure.com/openai", apiVersion: "v2" } }, "GATEWAY_PROVIDERS.az.apiVersion"],
    [{ mock: { preset: "openai" } }, "provider name"],
    [{ "Bad Name": { preset: "openai" } }, "provider name"],
    [[], "GATEWAY_PROVIDERS must be an object"],
  ])("refuses an invalid entry at start-up, naming the entry and field: %j", (providers, field) => {
    const error = configErrorOf({ GATEWAY_PROVIDERS: JSON.stringify(providers) });
    expect(error.variable).toBe("GATEWAY_PROVIDERS");
    expect(error.message).toContain(field);
    expect(error.message).not.toContain(GROQ_KEY);
  });

  it("refuses keys in the environment when the secret holds the keys", () => {
    const error = configErrorOf({ GATEWAY_SECRET_ID: "gateway", GATEWAY_PROVIDERS: JSON.stringify({ groq: { preset: "groq", apiKey: GROQ_KEY } }) });
    expect(error.message).toContain("GATEWAY_PROVIDERS.groq holds keys");
    expect(error.message).not.toContain(GROQ_KEY);
    expect(loadConfig({ GATEWAY_SECRET_ID: "gateway", GATEWAY_PROVIDERS: JSON.stringify({ groq: { preset: "groq" } }) }).providers.groq).toBeDefined();
  });
});

describe("GATEWAY_ROUTES", () => {
  const providers = JSON.stringify(ISSUE_EXAMPLE);
  const issueRoutes = {
    smart: { strategy: "fallback", targets: [{ provider: "openai", model: "gpt-4o" }, { provider: "azure", model: "gpt-4o" }, { provider: "groq", model: "llama-3.3-70b-versatile" }] },
    cheap: { strategy: "loadbalance", targets: [{ provider: "groq", model: "llama-3.1-8b-instant", weight: 3 }, { provider: "openai", model: "gpt-4o-mini", weight: 1 }] },
  };

  it("reads the issue's example with its defaults", () => {
    const { routes } = loadConfig({ GATEWAY_PROVIDERS: providers, GATEWAY_ROUTES: JSON.stringify(issueRoutes) });
    expect(routes.smart).toEqual({
      strategy: "fallback",
      targets: [
        { provider: "openai", model: "gpt-4o", weight: 1 },
        { provider: "azure", model: "gpt-4o", weight: 1 },
        { provider: "groq", model: "llama-3.3-70b-versatile", weight: 1 },
      ],
      fallbackOn: [],
      cooldown: DEFAULT_COOLDOWN,
    });
    expect(routes.cheap?.targets.map((target) => target.weight)).toEqual([3, 1]);
  });

  it("takes fallbackOn and cooldown", () => {
    const { routes } = loadConfig({
      GATEWAY_ROUTES: JSON.stringify({ r: { targets: [{ provider: "openai" }], fallbackOn: [401, 404], cooldown: { failures: 1, seconds: 5 } } }),
    });
    expect(routes.r).toMatchObject({ strategy: "fallback", fallbackOn: [401, 404], cooldown: { failures: 1, seconds: 5 } });
  });

  it.each([
    [{ r: { targets: [{ provider: "anthropic" }] } }, "GATEWAY_ROUTES.r.targets[0].provider names no configured provider"],
    [{ r: { targets: [{ provider: "mock" }] } }, "GATEWAY_ROUTES.r.targets[0].provider names no configured provider"],
    [{ groq: { targets: [{ provider: "openai" }] } }, "GATEWAY_ROUTES.groq has the name of a provider"],
    [{ r: { strategy: "random", targets: [{ provider: "openai" }] } }, "GATEWAY_ROUTES.r.strategy"],
    [{ r: { targets: [] } }, "GATEWAY_ROUTES.r.targets must be a list"],
    [{ r: { targets: [{ provider: "openai", weight: 2 }] } }, "GATEWAY_ROUTES.r.targets[0].weight is only for the loadbalance strategy"],
    [{ r: { strategy: "loadbalance", targets: [{ provider: "openai", weight: 0 }] } }, "GATEWAY_ROUTES.r.targets[0].weight"],
    [{ r: { targets: [{ provider: "openai", model: "" }] } }, "GATEWAY_ROUTES.r.targets[0].model"],
    [{ r: { targets: [{ provider: "openai" }], fallbackOn: [400] } }, "GATEWAY_ROUTES.r.fallbackOn"],
    [{ r: { targets: [{ provider: "openai" }], fallbackOn: [422] } }, "GATEWAY_ROUTES.r.fallbackOn"],
    [{ r: { targets: [{ provider: "openai" }], cooldown: { failures: 0 } } }, "GATEWAY_ROUTES.r.cooldown.failures"],
    [{ r: { targets: [{ provider: "openai" }], retries: 3 } }, "GATEWAY_ROUTES.r.retries is not a setting"],
  ])("refuses an invalid route at start-up, naming the route and field: %j", (routes, field) => {
    const error = configErrorOf({ GATEWAY_PROVIDERS: providers, GATEWAY_ROUTES: JSON.stringify(routes) });
    expect(error.variable).toBe("GATEWAY_ROUTES");
    expect(error.message).toContain(field);
  });

  it("leaves the providers check to the secret's snapshot when the secret may add providers", () => {
    const { routes } = loadConfig({ GATEWAY_SECRET_ID: "gateway", GATEWAY_ROUTES: JSON.stringify({ r: { targets: [{ provider: "from-secret" }] } }) });
    expect(routes.r?.targets[0]?.provider).toBe("from-secret");
  });
});

describe("the secret's providers and routes", () => {
  it("reads providers and routes; an entry's keys join the provider keys, its settings stay apart", () => {
    const credentials = parseSecret(
      JSON.stringify({
        openai: { apiKey: "sk-top-level" },
        providers: ISSUE_EXAMPLE,
        routes: { smart: { targets: [{ provider: "azure", model: "gpt-4o" }, { provider: "groq", model: "llama-3.3-70b-versatile" }] } },
      }),
    );
    expect(credentials.providers.openai?.apiKeys).toEqual(["sk-top-level"]);
    expect(credentials.providers.groq?.apiKeys).toEqual([GROQ_KEY]);
    expect(credentials.providerSettings?.groq).toEqual({ preset: "groq", baseUrl: "https://api.groq.com/openai/v1", headers: {} });
    expect(credentials.providerSettings?.["local-vllm"]?.baseUrl).toBe("http://10.0.0.5:8000/v1");
    expect(credentials.routes?.smart?.targets).toHaveLength(2);
    expect(JSON.stringify(credentials.providerSettings)).not.toContain(AZURE_KEY);
  });

  it("still reads every other top-level object as a provider's keys", () => {
    const credentials = parseSecret(JSON.stringify({ openai: { apiKey: "sk-1" }, groq: { apiKey: GROQ_KEY } }));
    expect(credentials.providers.groq?.apiKeys).toEqual([GROQ_KEY]);
    expect(credentials.providerSettings).toBeUndefined();
    expect(credentials.routes).toBeUndefined();
  });

  it.each([
    [{ providers: { groq: { preset: "groq", apiKey: 7 } } }, "field providers.groq.apiKey"],
    [{ providers: { groq: { preset: "nope", apiKey: GROQ_KEY } } }, "field providers.groq.preset"],
    [{ providers: "groq" }, "field providers must be an object"],
    [{ groq: { apiKey: GROQ_KEY }, providers: { groq: { preset: "groq", apiKey: GROQ_KEY } } }, "field groq and field providers.groq both give keys"],
    [{ routes: { r: { targets: [{ provider: "openai" }], fallbackOn: [400] } } }, "field routes.r.fallbackOn"],
  ])("names the field at fault and never a value: %j", (document, field) => {
    const error = secretErrorOf(document);
    expect(error.message).toContain(field);
    expect(error.message).not.toContain(GROQ_KEY);
  });
});
