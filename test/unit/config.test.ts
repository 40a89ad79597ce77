import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_MAX_BODY_BYTES, loadConfig, loadServerConfig } from "../../functions/shared/config/config.ts";

/** Runs `load` and returns the ConfigError it threw. */
function configErrorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig defaults", () => {
  it("uses OpenAI, a 6 MB body limit, generous timeouts and passthrough keys", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      providers: { openai: { baseUrl: "https://api.openai.com/v1" } },
      maxBodyBytes: 6 * 1024 * 1024,
      timeouts: { connectMs: 5_000, firstByteMs: 120_000, idleMs: 120_000, totalMs: 600_000 },
      mockChunkDelayMs: 10,
    });
    expect(config.credentials).toEqual({
      source: "env",
      gatewayKeys: [],
      allowPassthrough: true,
      keyLimits: {},
      allowAccountHeaders: false,
      allowRealtimeClientSecrets: false,
      providerKeys: { openai: { apiKey: undefined, organization: undefined, project: undefined } },
    });
    expect(config.cache).toEqual({ defaultTtlSeconds: 0, maxTtlSeconds: 86_400, maxEntryBytes: 4 * 1024 * 1024 });
    expect(config.retry).toEqual({ maxRetries: 2, baseDelayMs: 250, maxDelayMs: 10_000, allowRequestHeaders: true });
    expect(config.tableName).toBeUndefined();
    expect(config.objectsTableName).toBeUndefined();
    expect(config.storeTimeoutMs).toBe(1_000);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(6 * 1024 * 1024);
  });

  it("returns a frozen config", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.timeouts)).toBe(true);
    expect(Object.isFrozen(config.credentials)).toBe(true);
  });

  it("treats blank values as unset", () => {
    expect(loadConfig({ OPENAI_BASE_URL: "   ", GATEWAY_MAX_BODY_BYTES: "", OPENAI_API_KEY: " " })).toEqual(loadConfig({}));
  });

  it("the local server defaults to 127.0.0.1:3000", () => {
    expect(loadServerConfig({})).toMatchObject({ host: "127.0.0.1", port: 3000 });
    expect(loadServerConfig({ HOST: "0.0.0.0", PORT: "0" })).toMatchObject({ host: "0.0.0.0", port: 0 });
  });
});

describe("loadConfig reads valid values", () => {
  it("reads every numeric setting, trimming whitespace", () => {
    const config = loadConfig({
      GATEWAY_CONNECT_TIMEOUT_MS: " 100 ",
      GATEWAY_FIRST_BYTE_TIMEOUT_MS: "200",
      GATEWAY_IDLE_TIMEOUT_MS: "300",
      GATEWAY_TOTAL_TIMEOUT_MS: "400",
      GATEWAY_MAX_BODY_BYTES: "1024",
      GATEWAY_MOCK_CHUNK_DELAY_MS: "0",
    });
    expect(config.timeouts).toEqual({ connectMs: 100, firstByteMs: 200, idleMs: 300, totalMs: 400 });
    expect(loadConfig({ GATEWAY_STORE_TIMEOUT_MS: " 150 " }).storeTimeoutMs).toBe(150);
    expect(config.maxBodyBytes).toBe(1024);
    expect(config.mockChunkDelayMs).toBe(0);
  });

  it("reads GATEWAY_ALLOW_ACCOUNT_HEADERS for the local gateway keys", () => {
    expect(loadConfig({ GATEWAY_API_KEYS: "gw-key", GATEWAY_ALLOW_ACCOUNT_HEADERS: "true" }).credentials).toMatchObject({ allowAccountHeaders: true });
  });

  it("keeps stored objects' owners in GATEWAY_OBJECTS_TABLE_NAME, or else in GATEWAY_TABLE_NAME", () => {
    expect(loadConfig({ GATEWAY_OBJECTS_TABLE_NAME: "owners" })).toMatchObject({ tableName: undefined, objectsTableName: "owners" });
    expect(loadConfig({ GATEWAY_TABLE_NAME: "shared" })).toMatchObject({ tableName: "shared", objectsTableName: "shared" });
  });

  it("reads GATEWAY_ALLOW_REALTIME_CLIENT_SECRETS for the local gateway keys", () => {
    expect(loadConfig({ GATEWAY_API_KEYS: "gw-key", GATEWAY_ALLOW_REALTIME_CLIENT_SECRETS: "true" }).credentials).toMatchObject({
      allowRealtimeClientSecrets: true,
    });
  });

  it("splits GATEWAY_API_KEYS on commas, drops blanks, and turns passthrough off", () => {
    const config = loadConfig({ GATEWAY_API_KEYS: " key-one , key-two,, ," });
    expect(config.credentials).toMatchObject({ source: "env", gatewayKeys: ["key-one", "key-two"], allowPassthrough: false });
  });

  it.each([
    ["true", true],
    ["TRUE", true],
    ["1", true],
    ["false", false],
    ["0", false],
  ])("GATEWAY_ALLOW_PASSTHROUGH=%s overrides the default", (value, expected) => {
    const withKeys = loadConfig({ GATEWAY_API_KEYS: "k", GATEWAY_ALLOW_PASSTHROUGH: value });
    expect(withKeys.credentials).toMatchObject({ allowPassthrough: expected });
  });

  it("reads the OpenAI key, organization and project (with the SDK's *_ID names as fallbacks)", () => {
    expect(loadConfig({ OPENAI_API_KEY: "sk-x", OPENAI_ORGANIZATION: "org-a", OPENAI_PROJECT: "proj_a" }).credentials).toMatchObject({
      providerKeys: { openai: { apiKey: "sk-x", organization: "org-a", project: "proj_a" } },
    });
    expect(loadConfig({ OPENAI_ORG_ID: "org-b", OPENAI_PROJECT_ID: "proj_b" }).credentials).toMatchObject({
      providerKeys: { openai: { organization: "org-b", project: "proj_b" } },
    });
    expect(
      loadConfig({ OPENAI_ORGANIZATION: "org-a", OPENAI_ORG_ID: "org-b", OPENAI_PROJECT: "proj_a", OPENAI_PROJECT_ID: "proj_b" }).credentials,
    ).toMatchObject({ providerKeys: { openai: { organization: "org-a", project: "proj_a" } } });
  });
});

describe("OPENAI_BASE_URL", () => {
  it.each([
    ["http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"],
    ["http://127.0.0.1:8080/v1///", "http://127.0.0.1:8080/v1"],
    ["https://example.com/openai/v1", "https://example.com/openai/v1"],
    ["https://example.com/", "https://example.com"],
    ["https://example.com", "https://example.com"],
    ["HTTPS://Example.COM:443/v1/", "https://example.com/v1"],
  ])("%s becomes %s", (raw, expected) => {
    expect(loadConfig({ OPENAI_BASE_URL: raw }).providers.openai?.baseUrl).toBe(expected);
  });

  it("a relative or garbled URL throws a ConfigError naming the variable", () => {
    for (const raw of ["not a url", "/v1", "api.openai.com/v1"]) {
      const error = configErrorOf(() => loadConfig({ OPENAI_BASE_URL: raw }));
      expect(error.message).toContain("OPENAI_BASE_URL");
      expect(error.name).toBe("ConfigError");
    }
  });

  it("a non-http scheme throws a ConfigError naming the variable", () => {
    for (const raw of ["ftp://example.com/v1", "file:///etc/passwd", "ws://example.com"]) {
      expect(configErrorOf(() => loadConfig({ OPENAI_BASE_URL: raw })).message).toContain("OPENAI_BASE_URL");
    }
  });
});

describe("invalid values throw a ConfigError naming the variable", () => {
  const positiveInts = [
    "GATEWAY_CONNECT_TIMEOUT_MS",
    "GATEWAY_FIRST_BYTE_TIMEOUT_MS",
    "GATEWAY_IDLE_TIMEOUT_MS",
    "GATEWAY_TOTAL_TIMEOUT_MS",
    "GATEWAY_MAX_BODY_BYTES",
    "GATEWAY_STORE_TIMEOUT_MS",
    "GATEWAY_SECRET_TIMEOUT_MS",
  ];
  for (const name of positiveInts) {
    it.each(["abc", "1.5", "0", "-1", "NaN", "Infinity", "9007199254740993", "0x10", "1e3", "+5"])(`${name}=%s`, (value) => {
      // The secret's settings are read only when the secret is used.
      const error = configErrorOf(() => loadConfig({ GATEWAY_SECRET_ID: "gw/secret", [name]: value }));
      expect(error.message).toContain(name);
      expect(error.message).toContain(JSON.stringify(value));
    });
  }

  it.each(["-1", "0.5", "soon"])("GATEWAY_MOCK_CHUNK_DELAY_MS=%s", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_MOCK_CHUNK_DELAY_MS: value })).message).toContain("GATEWAY_MOCK_CHUNK_DELAY_MS");
  });

  it.each(["yes", "no", "2", "on"])("GATEWAY_ALLOW_PASSTHROUGH=%s", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_ALLOW_PASSTHROUGH: value })).message).toContain("GATEWAY_ALLOW_PASSTHROUGH");
  });

  it.each(["yes", "2"])("GATEWAY_ALLOW_ACCOUNT_HEADERS=%s", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_ALLOW_ACCOUNT_HEADERS: value })).message).toContain("GATEWAY_ALLOW_ACCOUNT_HEADERS");
  });

  it.each(["-1", "65536", "http", "80.5"])("PORT=%s", (value) => {
    expect(configErrorOf(() => loadServerConfig({ PORT: value })).message).toContain("PORT");
  });

  it.each([
    ["{", "not valid JSON"],
    ['{"env-1": {"requestsPerMinute": 0}}', "GATEWAY_KEY_LIMITS.env-1.requestsPerMinute must be a positive integer"],
    ['{"env-1": {"rpm": 5}}', "GATEWAY_KEY_LIMITS.env-1.rpm is not a limit"],
    ['{"env-1": 5}', "GATEWAY_KEY_LIMITS.env-1 must be an object"],
  ])("GATEWAY_KEY_LIMITS=%s", (value, message) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_KEY_LIMITS: value })).message).toContain(message);
  });

  it("GATEWAY_KEY_LIMITS applies per key id, with * for the rest", () => {
    const config = loadConfig({ GATEWAY_KEY_LIMITS: '{"env-1": {"requestsPerMinute": 5}, "*": {"tokensPerDay": 100}}' });
    expect(config.credentials).toMatchObject({ keyLimits: { "env-1": { requestsPerMinute: 5 }, "*": { tokensPerDay: 100 } } });
  });

  it.each(["11", "-1", "two"])("GATEWAY_MAX_RETRIES=%s", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_MAX_RETRIES: value })).message).toContain("GATEWAY_MAX_RETRIES");
  });

  it("GATEWAY_MAX_RETRIES=10: a deployment may set more retries than a request may ask for", () => {
    expect(loadConfig({ GATEWAY_MAX_RETRIES: "10" }).retry.maxRetries).toBe(10);
  });

  it.each([
    ["false", false],
    ["0", false],
    ["true", true],
  ])("GATEWAY_ALLOW_RETRY_HEADERS=%s", (value, allowed) => {
    expect(loadConfig({ GATEWAY_ALLOW_RETRY_HEADERS: value }).retry.allowRequestHeaders).toBe(allowed);
  });

  it("GATEWAY_ALLOW_RETRY_HEADERS=no", () => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_ALLOW_RETRY_HEADERS: "no" })).variable).toBe("GATEWAY_ALLOW_RETRY_HEADERS");
  });

  it.each(["{", "[]", '{"gpt-4o": {"input": -1}}', '{"gpt-4o": {"output": 1}}'])("GATEWAY_PRICES=%s", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_PRICES: value })).message).toContain("GATEWAY_PRICES");
  });

  it("GATEWAY_METRICS_NAMESPACE= (empty) means unset: the default namespace, no error", () => {
    expect(loadConfig({ GATEWAY_METRICS_NAMESPACE: "" }).observability.metricsNamespace).toBe("AiGateway");
  });

  it.each(["has space", "x".repeat(256)])("GATEWAY_METRICS_NAMESPACE=%j", (value) => {
    expect(configErrorOf(() => loadConfig({ GATEWAY_METRICS_NAMESPACE: value })).message).toContain("GATEWAY_METRICS_NAMESPACE");
  });

  it("GATEWAY_SECRET_TTL_SECONDS, when the secret store is used", () => {
    const error = configErrorOf(() => loadConfig({ GATEWAY_SECRET_ID: "gw/secret", GATEWAY_SECRET_TTL_SECONDS: "five" }));
    expect(error.message).toContain("GATEWAY_SECRET_TTL_SECONDS");
  });
});

describe("GATEWAY_SECRET_ID", () => {
  it("switches credentials to Secrets Manager with a 300 s default TTL and a 3 s bound on each fetch", () => {
    expect(loadConfig({ GATEWAY_SECRET_ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gw" }).credentials).toEqual({
      source: "secrets-manager",
      secretId: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gw",
      ttlMs: 300_000,
      timeoutMs: 3_000,
    });
  });

  it("reads GATEWAY_SECRET_TIMEOUT_MS", () => {
    expect(loadConfig({ GATEWAY_SECRET_ID: "s", GATEWAY_SECRET_TIMEOUT_MS: " 250 " }).credentials).toMatchObject({ timeoutMs: 250 });
  });

  it("reads the TTL in seconds (0 allowed) and wins over environment keys", () => {
    const config = loadConfig({
      GATEWAY_SECRET_ID: " gw/secret ",
      GATEWAY_SECRET_TTL_SECONDS: "0",
      GATEWAY_API_KEYS: "gw-key",
      OPENAI_API_KEY: "sk-env",
    });
    expect(config.credentials).toEqual({ source: "secrets-manager", secretId: "gw/secret", ttlMs: 0, timeoutMs: 3_000 });
    expect(loadConfig({ GATEWAY_SECRET_ID: "s", GATEWAY_SECRET_TTL_SECONDS: "60" }).credentials).toMatchObject({ ttlMs: 60_000 });
  });
});
