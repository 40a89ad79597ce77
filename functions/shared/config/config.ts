/**
 * Gateway settings, read from the environment once and validated.
 *
 * Both adapters call {@link loadConfig} at start-up; a bad value throws a
 * {@link ConfigError} naming the variable, so a misconfigured deployment fails
 * on its first cold start instead of on some later request.
 */
import { DEFAULT_METRICS_NAMESPACE } from "../observability/metric-catalogue.ts";
import { ConfigError, readBool, readInt, readJsonObject, readString, readUrl, type Env } from "./env-values.ts";
import { parseKeyLimits, type KeyLimits } from "./key-limits.ts";
import { parsePriceTable, type PriceTable } from "./prices.ts";
import { parseProviderEntries, SettingsFormatError, type ProviderKeySettings, type ProviderSettings } from "./provider-settings.ts";
import { checkRouteProviders, parseRoutes, type RouteSettings } from "./route-settings.ts";

export { ConfigError };
export type { ProviderKeySettings, ProviderSettings, RouteSettings };

/** Bounds on one upstream call, in milliseconds. */
export interface TimeoutConfig {
  /** TCP (and TLS) connection set-up. */
  readonly connectMs: number;
  /** From sending the request to the provider's response headers. */
  readonly firstByteMs: number;
  /** Longest silence between two body chunks of a response. */
  readonly idleMs: number;
  /** The whole exchange, headers to last byte. */
  readonly totalMs: number;
}

/** The retry settings one request runs with. */
export interface RetryConfig {
  /** Retries after the first attempt (0 turns retrying off). */
  readonly maxRetries: number;
  /** First backoff step; doubled on each retry before jitter. */
  readonly baseDelayMs: number;
  /** Longest wait before a retry, computed or asked for by the provider. */
  readonly maxDelayMs: number;
}

/** Retry settings of a deployment: every request's defaults, and whether a request may change them. */
export interface RetrySettings extends RetryConfig {
  /** Whether requests may send `x-gateway-max-retries` and `x-gateway-retry-max-delay-ms` (`GATEWAY_ALLOW_RETRY_HEADERS`). */
  readonly allowRequestHeaders: boolean;
}

/** The most retries a deployment may configure with `GATEWAY_MAX_RETRIES`. */
export const MAX_CONFIGURED_RETRIES = 10;

/** Cache settings of a deployment. */
export interface CacheConfig {
  /** TTL for requests that do not say; 0 leaves the cache off unless a request asks. */
  readonly defaultTtlSeconds: number;
  /** The longest TTL a request may ask for. */
  readonly maxTtlSeconds: number;
  /** Larger responses are not stored. */
  readonly maxEntryBytes: number;
}

/** Where provider keys and gateway keys come from. */
export type CredentialsConfig =
  | {
      readonly source: "env";
      /** Gateway keys callers must present (managed mode); empty means passthrough. */
      readonly gatewayKeys: readonly string[];
      readonly allowPassthrough: boolean;
      /** Limits by key id (`env-1`, …), `*` for every key. */
      readonly keyLimits: Readonly<Record<string, KeyLimits>>;
      /** Whether holders of these gateway keys may send their own `OpenAI-Organization`/`OpenAI-Project` (`GATEWAY_ALLOW_ACCOUNT_HEADERS`). */
      readonly allowAccountHeaders: boolean;
      /** Whether holders of these gateway keys may mint realtime client secrets (`GATEWAY_ALLOW_REALTIME_CLIENT_SECRETS`). */
      readonly allowRealtimeClientSecrets: boolean;
      /** Provider keys by provider name (`OPENAI_API_KEY`… for `openai`, `GATEWAY_PROVIDERS` entries' keys). */
      readonly providerKeys: Readonly<Record<string, ProviderKeySettings>>;
    }
  | {
      readonly source: "secrets-manager";
      /** Secret name or ARN. */
      readonly secretId: string;
      /** How long a fetched secret is trusted before it is fetched again. */
      readonly ttlMs: number;
      /** The longest one fetch of the secret may take, retries included (`GATEWAY_SECRET_TIMEOUT_MS`). */
      readonly timeoutMs: number;
    };

/**
 * Where managed gateway keys live (`npm run keys`): a local key file, or the
 * stack's DynamoDB table read through a lookup cache.
 */
export type KeyStoreConfig =
  | { readonly source: "file"; readonly path: string }
  | {
      readonly source: "dynamodb";
      readonly tableName: string;
      /** How long a lookup's answer (found or not) is kept: a revoked key stops working within it. */
      readonly cacheTtlMs: number;
    };

/** Metrics and cost settings. */
export interface ObservabilityConfig {
  /** CloudWatch namespace of the metrics. */
  readonly metricsNamespace: string;
  /** Whether metrics also get a per-gateway-key dimension set. */
  readonly metricsByKey: boolean;
  /** USD per million tokens, by model. */
  readonly prices: PriceTable;
}

/** Everything the gateway core needs, validated and frozen. */
export interface GatewayConfig {
  /** How to reach each HTTP provider, by name: `openai` and the `GATEWAY_PROVIDERS` entries (the secret may add more). */
  readonly providers: Readonly<Record<string, ProviderSettings>>;
  /** Routes by name (`GATEWAY_ROUTES`; the secret may add more). */
  readonly routes: Readonly<Record<string, RouteSettings>>;
  readonly maxBodyBytes: number;
  readonly timeouts: TimeoutConfig;
  readonly credentials: CredentialsConfig;
  /** Delay between the mock provider's stream chunks. */
  readonly mockChunkDelayMs: number;
  /**
   * Whether `x-provider: mock` is served (`GATEWAY_MOCK_PROVIDER`, default false): the mock answers
   * without a provider key, so it is a development tool that a deployment only gets when asked for.
   */
  readonly mockProvider: boolean;
  readonly observability: ObservabilityConfig;
  readonly retry: RetrySettings;
  readonly cache: CacheConfig;
  /** DynamoDB table of the cache and quotas (`GATEWAY_TABLE_NAME`); memory when unset. */
  readonly tableName?: string;
  /**
   * DynamoDB table of stored objects' owners and per-object usage counters
   * (`GATEWAY_OBJECTS_TABLE_NAME`, default `GATEWAY_TABLE_NAME`); memory when neither is set.
   */
  readonly objectsTableName?: string;
  /** The longest one call to that table may take, retries included (`GATEWAY_STORE_TIMEOUT_MS`). */
  readonly storeTimeoutMs: number;
  /** The managed key store (`GATEWAY_KEYS_FILE` or `GATEWAY_KEYS_TABLE`), if any. */
  readonly keys?: KeyStoreConfig;
}

/** Settings of the local HTTP server only. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Most connections open at once (`GATEWAY_MAX_CONNECTIONS`); more are dropped as they come. */
  readonly maxConnections: number;
  /** Longest a client may take to send its request headers (`GATEWAY_HEADERS_TIMEOUT_MS`); 408 past it. */
  readonly headersTimeoutMs: number;
  /** Longest a client may take to send its whole request, headers and body (`GATEWAY_REQUEST_TIMEOUT_MS`); 408 past it. */
  readonly requestTimeoutMs: number;
}

/** Lambda caps request payloads at 6 MB; the local server applies the same limit. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/** Reads and validates the gateway settings from `env` (default `process.env`). */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const timeouts: TimeoutConfig = {
    connectMs: readInt(env, "GATEWAY_CONNECT_TIMEOUT_MS", 5_000, 1),
    firstByteMs: readInt(env, "GATEWAY_FIRST_BYTE_TIMEOUT_MS", 120_000, 1),
    idleMs: readInt(env, "GATEWAY_IDLE_TIMEOUT_MS", 120_000, 1),
    totalMs: readInt(env, "GATEWAY_TOTAL_TIMEOUT_MS", 600_000, 1),
  };
  const secretId = readString(env, "GATEWAY_SECRET_ID");
  const entries = readProviderEntries(env, secretId !== undefined);
  const providers: Record<string, ProviderSettings> = {
    openai: Object.freeze({ preset: "openai", baseUrl: readUrl(env, "OPENAI_BASE_URL", "https://api.openai.com/v1"), headers: Object.freeze({}) }),
  };
  for (const [name, entry] of Object.entries(entries)) providers[name] = entry.settings;
  return Object.freeze({
    providers: Object.freeze(providers),
    routes: readRoutes(env, secretId === undefined ? new Set(Object.keys(providers)) : undefined),
    maxBodyBytes: readInt(env, "GATEWAY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1),
    timeouts: Object.freeze(timeouts),
    credentials: Object.freeze(readCredentials(env, entries)),
    mockChunkDelayMs: readInt(env, "GATEWAY_MOCK_CHUNK_DELAY_MS", 10, 0),
    mockProvider: readBool(env, "GATEWAY_MOCK_PROVIDER", false),
    observability: Object.freeze(readObservability(env)),
    retry: Object.freeze({
      maxRetries: readInt(env, "GATEWAY_MAX_RETRIES", 2, 0, MAX_CONFIGURED_RETRIES),
      baseDelayMs: readInt(env, "GATEWAY_RETRY_BASE_DELAY_MS", 250, 0),
      maxDelayMs: readInt(env, "GATEWAY_RETRY_MAX_DELAY_MS", 10_000, 0),
      allowRequestHeaders: readBool(env, "GATEWAY_ALLOW_RETRY_HEADERS", true),
    }),
    cache: Object.freeze({
      defaultTtlSeconds: readInt(env, "GATEWAY_CACHE_TTL_SECONDS", 0, 0, 31_536_000),
      maxTtlSeconds: readInt(env, "GATEWAY_CACHE_MAX_TTL_SECONDS", 86_400, 1, 31_536_000),
      maxEntryBytes: readInt(env, "GATEWAY_CACHE_MAX_ENTRY_BYTES", 4 * 1024 * 1024, 1),
    }),
    tableName: readString(env, "GATEWAY_TABLE_NAME"),
    objectsTableName: readString(env, "GATEWAY_OBJECTS_TABLE_NAME") ?? readString(env, "GATEWAY_TABLE_NAME"),
    storeTimeoutMs: readInt(env, "GATEWAY_STORE_TIMEOUT_MS", 1_000, 1),
    keys: readKeyStore(env),
  });
}

/** Node keeps these bounds as 32-bit milliseconds; a day is more than any client needs. */
const MAX_SERVER_TIMEOUT_MS = 86_400_000;

/**
 * Reads the local server's settings: `HOST` and `PORT` (default 127.0.0.1:3000) and its bounds on
 * clients: 512 connections, 10 s to send the headers, 60 s to send the whole request.
 */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  const headersTimeoutMs = readInt(env, "GATEWAY_HEADERS_TIMEOUT_MS", 10_000, 1, MAX_SERVER_TIMEOUT_MS);
  const requestTimeoutMs = readInt(env, "GATEWAY_REQUEST_TIMEOUT_MS", 60_000, 1, MAX_SERVER_TIMEOUT_MS);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      "GATEWAY_HEADERS_TIMEOUT_MS",
      `GATEWAY_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be longer than GATEWAY_REQUEST_TIMEOUT_MS (${requestTimeoutMs}).`,
    );
  }
  return Object.freeze({
    host: readString(env, "HOST") ?? "127.0.0.1",
    port: readInt(env, "PORT", 3000, 0, 65_535),
    maxConnections: readInt(env, "GATEWAY_MAX_CONNECTIONS", 512, 1, 1_000_000),
    headersTimeoutMs,
    requestTimeoutMs,
  });
}

function readCredentials(env: Env, entries: Readonly<Record<string, { keys?: ProviderKeySettings }>>): CredentialsConfig {
  const secretId = readString(env, "GATEWAY_SECRET_ID");
  if (secretId !== undefined) {
    return {
      source: "secrets-manager",
      secretId,
      ttlMs: readInt(env, "GATEWAY_SECRET_TTL_SECONDS", 300, 0) * 1000,
      timeoutMs: readInt(env, "GATEWAY_SECRET_TIMEOUT_MS", 3_000, 1),
    };
  }
  const gatewayKeys = (readString(env, "GATEWAY_API_KEYS") ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  return {
    source: "env",
    gatewayKeys,
    // A key store means managed keys: passthrough only when asked for.
    allowPassthrough: readBool(env, "GATEWAY_ALLOW_PASSTHROUGH", gatewayKeys.length === 0 && readKeyStore(env) === undefined),
    keyLimits: readKeyLimits(env),
    allowAccountHeaders: readBool(env, "GATEWAY_ALLOW_ACCOUNT_HEADERS", false),
    allowRealtimeClientSecrets: readBool(env, "GATEWAY_ALLOW_REALTIME_CLIENT_SECRETS", false),
    providerKeys: {
      openai: {
        apiKey: readString(env, "OPENAI_API_KEY"),
        organization: readString(env, "OPENAI_ORGANIZATION") ?? readString(env, "OPENAI_ORG_ID"),
        project: readString(env, "OPENAI_PROJECT") ?? readString(env, "OPENAI_PROJECT_ID"),
      },
      ...Object.fromEntries(Object.entries(entries).flatMap(([name, entry]) => (entry.keys === undefined ? [] : [[name, entry.keys]]))),
    },
  };
}

/** Default of `GATEWAY_KEYS_CACHE_TTL_SECONDS`: a key revoked in the table stops working within this time. */
export const DEFAULT_KEYS_CACHE_TTL_SECONDS = 30;

function readKeyStore(env: Env): KeyStoreConfig | undefined {
  const path = readString(env, "GATEWAY_KEYS_FILE");
  const tableName = readString(env, "GATEWAY_KEYS_TABLE");
  if (path !== undefined && tableName !== undefined) {
    throw new ConfigError("GATEWAY_KEYS_FILE", "GATEWAY_KEYS_FILE and GATEWAY_KEYS_TABLE are both set; keys live in one place.");
  }
  const cacheTtlMs = readInt(env, "GATEWAY_KEYS_CACHE_TTL_SECONDS", DEFAULT_KEYS_CACHE_TTL_SECONDS, 0, 3_600) * 1000;
  if (path !== undefined) return { source: "file", path };
  return tableName === undefined ? undefined : { source: "dynamodb", tableName, cacheTtlMs };
}

/**
 * `GATEWAY_PROVIDERS`: providers besides `openai` (or an `openai` entry of
 * one's own). With a secret, keys belong in the secret, not in the environment.
 */
function readProviderEntries(env: Env, fromSecret: boolean): ReturnType<typeof parseProviderEntries> {
  const raw = readJsonObject(env, "GATEWAY_PROVIDERS", '{"groq": {"preset": "groq", "apiKey": "gsk_..."}}');
  if (raw === undefined) return {};
  const entries = asConfigError("GATEWAY_PROVIDERS", () => parseProviderEntries(raw, "GATEWAY_PROVIDERS"));
  const withKeys = Object.keys(entries).find((name) => entries[name]?.keys !== undefined);
  if (fromSecret && withKeys !== undefined) {
    throw new ConfigError("GATEWAY_PROVIDERS", `GATEWAY_PROVIDERS.${withKeys} holds keys, but GATEWAY_SECRET_ID is set: put the keys in the secret.`);
  }
  return entries;
}

/** `GATEWAY_ROUTES`, checked against the providers when they are all known now (no secret to add more). */
function readRoutes(env: Env, providers: ReadonlySet<string> | undefined): Readonly<Record<string, RouteSettings>> {
  const raw = readJsonObject(env, "GATEWAY_ROUTES", '{"smart": {"strategy": "fallback", "targets": [{"provider": "openai", "model": "gpt-4o"}]}}');
  if (raw === undefined) return Object.freeze({});
  return asConfigError("GATEWAY_ROUTES", () => {
    const routes = parseRoutes(raw, "GATEWAY_ROUTES");
    if (providers !== undefined) checkRouteProviders(routes, providers, "GATEWAY_ROUTES");
    return Object.freeze(routes);
  });
}

function asConfigError<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SettingsFormatError) throw new ConfigError(variable, `${error.message}.`);
    throw error;
  }
}

function readObservability(env: Env): ObservabilityConfig {
  const metricsNamespace = readString(env, "GATEWAY_METRICS_NAMESPACE") ?? DEFAULT_METRICS_NAMESPACE;
  if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(metricsNamespace)) {
    throw new ConfigError("GATEWAY_METRICS_NAMESPACE", `GATEWAY_METRICS_NAMESPACE must be 1-255 characters of A-Z, a-z, 0-9, . _ / # : -, got ${JSON.stringify(metricsNamespace)}.`);
  }
  let prices: PriceTable;
  try {
    prices = parsePriceTable(readString(env, "GATEWAY_PRICES"));
  } catch (error) {
    throw new ConfigError("GATEWAY_PRICES", (error as Error).message);
  }
  return { metricsNamespace, metricsByKey: readBool(env, "GATEWAY_METRICS_BY_KEY", false), prices };
}

function readKeyLimits(env: Env): Record<string, KeyLimits> {
  const parsed = readJsonObject(env, "GATEWAY_KEY_LIMITS", '{"env-1": {"requestsPerMinute": 60}, "*": {"tokensPerDay": 1000000}}');
  const limits: Record<string, KeyLimits> = {};
  for (const [id, value] of Object.entries(parsed ?? {})) {
    const parsedLimits = parseKeyLimits(value, `GATEWAY_KEY_LIMITS.${id}`);
    if (typeof parsedLimits === "string") throw new ConfigError("GATEWAY_KEY_LIMITS", `${parsedLimits}.`);
    limits[id] = parsedLimits;
  }
  return limits;
}
