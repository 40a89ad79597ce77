/**
 * Gateway settings, read from the environment once and validated.
 *
 * Both adapters call {@link loadConfig} at start-up; a bad value throws a
 * {@link ConfigError} naming the variable, so a misconfigured deployment fails
 * on its first cold start instead of on some later request.
 */
import { DEFAULT_METRICS_NAMESPACE } from "../observability/metric-catalogue.ts";
import { parsePriceTable, type PriceTable } from "../usage/pricing.ts";
import { MAX_RETRIES_LIMIT, type RetryConfig } from "../routing/retry-policy.ts";
import type { CacheConfig } from "../cache/cache-policy.ts";
import { parseKeyLimits, type KeyLimits } from "../access/key-limits.ts";

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
      readonly openai: { readonly apiKey?: string; readonly organization?: string; readonly project?: string };
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
  readonly openaiBaseUrl: string;
  readonly maxBodyBytes: number;
  readonly timeouts: TimeoutConfig;
  readonly credentials: CredentialsConfig;
  /** Delay between the mock provider's stream chunks. */
  readonly mockChunkDelayMs: number;
  readonly observability: ObservabilityConfig;
  readonly retry: RetryConfig;
  readonly cache: CacheConfig;
  /** DynamoDB table of the cache and quotas (`GATEWAY_TABLE_NAME`); memory when unset. */
  readonly tableName?: string;
  /** The longest one call to that table may take, retries included (`GATEWAY_STORE_TIMEOUT_MS`). */
  readonly storeTimeoutMs: number;
}

/** Settings of the local HTTP server only. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
}

/** A setting is missing or has a value the gateway cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The variable at fault: what a caller may be told (the message, with the value, is for the operator's log). */
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

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
  return Object.freeze({
    openaiBaseUrl: readUrl(env, "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    maxBodyBytes: readInt(env, "GATEWAY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1),
    timeouts: Object.freeze(timeouts),
    credentials: Object.freeze(readCredentials(env)),
    mockChunkDelayMs: readInt(env, "GATEWAY_MOCK_CHUNK_DELAY_MS", 10, 0),
    observability: Object.freeze(readObservability(env)),
    retry: Object.freeze({
      maxRetries: readInt(env, "GATEWAY_MAX_RETRIES", 2, 0, MAX_RETRIES_LIMIT),
      baseDelayMs: readInt(env, "GATEWAY_RETRY_BASE_DELAY_MS", 250, 0),
      maxDelayMs: readInt(env, "GATEWAY_RETRY_MAX_DELAY_MS", 10_000, 0),
    }),
    cache: Object.freeze({
      defaultTtlSeconds: readInt(env, "GATEWAY_CACHE_TTL_SECONDS", 0, 0, 31_536_000),
      maxTtlSeconds: readInt(env, "GATEWAY_CACHE_MAX_TTL_SECONDS", 86_400, 1, 31_536_000),
      maxEntryBytes: readInt(env, "GATEWAY_CACHE_MAX_ENTRY_BYTES", 4 * 1024 * 1024, 1),
    }),
    tableName: readString(env, "GATEWAY_TABLE_NAME"),
    storeTimeoutMs: readInt(env, "GATEWAY_STORE_TIMEOUT_MS", 1_000, 1),
  });
}

/** Reads `HOST` and `PORT` for the local server (default 127.0.0.1:3000). */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  return Object.freeze({
    host: readString(env, "HOST") ?? "127.0.0.1",
    port: readInt(env, "PORT", 3000, 0, 65_535),
  });
}

function readCredentials(env: Env): CredentialsConfig {
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
    allowPassthrough: readBool(env, "GATEWAY_ALLOW_PASSTHROUGH", gatewayKeys.length === 0),
    keyLimits: readKeyLimits(env),
    allowAccountHeaders: readBool(env, "GATEWAY_ALLOW_ACCOUNT_HEADERS", false),
    openai: {
      apiKey: readString(env, "OPENAI_API_KEY"),
      organization: readString(env, "OPENAI_ORGANIZATION") ?? readString(env, "OPENAI_ORG_ID"),
      project: readString(env, "OPENAI_PROJECT") ?? readString(env, "OPENAI_PROJECT_ID"),
    },
  };
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
  const raw = readString(env, "GATEWAY_KEY_LIMITS");
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("GATEWAY_KEY_LIMITS", "GATEWAY_KEY_LIMITS is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("GATEWAY_KEY_LIMITS", 'GATEWAY_KEY_LIMITS must be an object like {"env-1": {"requestsPerMinute": 60}, "*": {"tokensPerDay": 1000000}}.');
  }
  const limits: Record<string, KeyLimits> = {};
  for (const [id, value] of Object.entries(parsed)) {
    const parsedLimits = parseKeyLimits(value, `GATEWAY_KEY_LIMITS.${id}`);
    if (typeof parsedLimits === "string") throw new ConfigError("GATEWAY_KEY_LIMITS", `${parsedLimits}.`);
    limits[id] = parsedLimits;
  }
  return limits;
}

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function readInt(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(name, `${name} must be true or false, got ${JSON.stringify(raw)}.`);
}

function readUrl(env: Env, name: string, fallback: string): string {
  const raw = readString(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `${name} must be an absolute http(s) URL, got ${JSON.stringify(raw)}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, `${name} must use http or https, got ${JSON.stringify(url.protocol)}.`);
  }
  // Keep the path prefix (".../v1") and drop a trailing slash so paths append cleanly.
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
