/**
 * Deployment settings from the CDK context (`cdk.json` or `-c key=value`),
 * validated once with errors that name the key.
 */
import { readBedrockSettings, type BedrockSettings } from "./bedrock-settings.ts";
import { parseBoolean, parseWholeNumber } from "../functions/shared/config/env-values.ts";
import { SettingsError } from "./settings-error.ts";
import { readBaseUrl, readCorsOrigins } from "./url-settings.ts";

export { SettingsError };

/** Who may call the Function URL. */
export type FunctionUrlAuth = "NONE" | "AWS_IAM";

/** What happens to the function's log group when the stack is deleted. */
export type LogRemovalPolicy = "retain" | "destroy";

/**
 * Lambda Managed Instances: the function runs on EC2 instances of a capacity
 * provider, each execution environment serving many invocations at once.
 */
export interface ManagedInstancesSettings {
  /** Subnets and security groups of an existing VPC; without them the stack creates a VPC. */
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  /** An existing capacity provider (complete ARN) instead of a new one. */
  readonly capacityProviderArn?: string;
  /** Memory per vCPU of an execution environment, GiB: 2, 4 or 8. */
  readonly memoryGiBPerVCpu: number;
  /** Invocations one execution environment serves at once (Node.js default: 64 per vCPU). */
  readonly maxConcurrency?: number;
  /** Most vCPUs the capacity provider may run (12-15,000; the service default is 400). */
  readonly maxVCpuCount?: number;
}

/** Everything a deployment can set. */
export interface GatewaySettings {
  /** Lambda memory in MB (more memory also means more CPU). */
  readonly memorySize: number;
  /** Lambda timeout in seconds: the longest a stream can last. */
  readonly timeoutSeconds: number;
  readonly logRetentionDays: number;
  /** Keep the log group (and the evidence in it) when the stack is deleted, or delete it. */
  readonly logRemovalPolicy: LogRemovalPolicy;
  /**
   * The function's reserved concurrency: the most invocations that run at
   * once, and so a ceiling on spend under a flood. `false` leaves the function
   * on the account's unreserved pool.
   */
  readonly reservedConcurrency: number | false;
  readonly authType: FunctionUrlAuth;
  /** Origins allowed by CORS; empty turns CORS off. */
  readonly corsAllowedOrigins: readonly string[];
  /** ARN of an existing secret to use instead of creating one. */
  readonly secretArn?: string;
  /** How long the function caches the secret, in seconds. */
  readonly secretTtlSeconds: number;
  /** Provider base URL override (OPENAI_BASE_URL). */
  readonly openaiBaseUrl?: string;
  /** CloudWatch namespace of the gateway's metrics. */
  readonly metricsNamespace: string;
  /** Adds a per-gateway-key dimension set to the metrics. */
  readonly metricsByKey: boolean;
  /** Price overrides, USD per million tokens by model (GATEWAY_PRICES). */
  readonly prices?: Record<string, unknown>;
  /** Create an SNS topic for the alarms. */
  readonly alarmTopic: boolean;
  /** Subscribe this e-mail address to the alarm topic (implies the topic). */
  readonly alarmEmail?: string;
  readonly alarmServerErrorRatePercent: number;
  readonly alarmP99LatencyMs: number;
  /** Alarm when more than this many requests are refused with 401/403 in five minutes. */
  readonly alarmAuthFailuresPerFiveMinutes: number;
  /** Shared response cache (DynamoDB) for requests that ask with x-gateway-cache-ttl. */
  readonly cache: boolean;
  /** Default cache TTL for every cacheable request; above 0 implies `cache`. */
  readonly cacheTtlSeconds: number;
  /** Enforce the gateway keys' limits from the secret across execution environments (DynamoDB counters). */
  readonly keyLimits: boolean;
  /** Sets GATEWAY_MOCK_PROVIDER=true on the function (answers from the built-in mock provider, for smoke tests of a deployment). */
  readonly mockProvider: boolean;
  /**
   * Keep the owners of stored objects (files, batches, responses…) of gateway keys that share one
   * provider key in DynamoDB, known to every execution environment (without it they are kept per
   * environment, and a key may find its own object refused by another one).
   */
  readonly storedObjects: boolean;
  /** Bedrock models the function may invoke (IAM); its Bedrock providers are configured in the secret (see bedrock-settings.ts). */
  readonly bedrock?: BedrockSettings;
  /** Keep gateway keys in the table (`npm run keys -- --table`), with limits, budgets and permissions; implies per-key metrics. */
  readonly keyManagement: boolean;
  /** How long the function caches a key lookup (found or not): a revoked key stops working within it. */
  readonly keysCacheTtlSeconds: number;
  /** With key management: alarm when a key has spent this share (%) of a USD budget. */
  readonly alarmBudgetPercent: number;
  /** Run on Lambda Managed Instances instead of on-demand Lambda. */
  readonly managedInstances?: ManagedInstancesSettings;
}

/**
 * The context keys, with their defaults. `memorySize` 512: measured under a
 * CPU quota in proportion to memory (npm run bench, README "Memory size"),
 * it keeps time to first chunk where 1,024 MB has it and cold starts under a
 * second, at half the price of every second a stream lasts.
 */
export const DEFAULT_SETTINGS: GatewaySettings = {
  memorySize: 512,
  timeoutSeconds: 600,
  logRetentionDays: 30,
  logRemovalPolicy: "retain",
  // 100 at once: a streaming request holds its slot for the whole stream, so
  // this is 100 streams in flight or, at Lambda's 10 requests per second per
  // slot, at most 1,000 quick answers per second. It caps the spend of a flood
  // of bad keys (see README) while leaving the default account quota of 1,000
  // room for other functions; Lambda refuses a reservation that leaves less
  // than 100 unreserved, so a small account needs `false` or a lower number.
  reservedConcurrency: 100,
  authType: "NONE",
  corsAllowedOrigins: [],
  secretTtlSeconds: 300,
  metricsNamespace: "AiGateway",
  metricsByKey: false,
  alarmTopic: false,
  alarmServerErrorRatePercent: 5,
  alarmP99LatencyMs: 60_000,
  // One caller with a wrong key makes a handful of requests; 100 refusals in
  // five minutes (one every three seconds) is a script or a scan.
  alarmAuthFailuresPerFiveMinutes: 100,
  cache: false,
  cacheTtlSeconds: 0,
  keyLimits: false,
  mockProvider: false,
  storedObjects: true,
  keyManagement: false,
  keysCacheTtlSeconds: 30,
  alarmBudgetPercent: 80,
};

/** CloudWatch Logs accepts only these retention periods. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/;

type Context = (key: string) => unknown;

/** Reads `gateway:*` keys through `tryGetContext` and validates them. */
export function readGatewaySettings(context: Context): GatewaySettings {
  const cors = context("gateway:corsAllowedOrigins");
  const keyManagement = readBoolean(context, "gateway:keyManagement", DEFAULT_SETTINGS.keyManagement);
  const managedInstances = readManagedInstances(context);
  return {
    memorySize: managedInstances === undefined ? readNumber(context, "gateway:memorySize", DEFAULT_SETTINGS.memorySize, 128, 10_240) : readManagedMemory(context, managedInstances),
    timeoutSeconds: readNumber(context, "gateway:timeoutSeconds", DEFAULT_SETTINGS.timeoutSeconds, 10, 900),
    logRetentionDays: readRetention(context),
    logRemovalPolicy: readLogRemovalPolicy(context),
    reservedConcurrency: readReservedConcurrency(context),
    authType: readAuthType(context),
    corsAllowedOrigins: readCorsOrigins(context),
    secretArn: readSecretArn(context),
    secretTtlSeconds: readNumber(context, "gateway:secretTtlSeconds", DEFAULT_SETTINGS.secretTtlSeconds, 0, 86_400),
    openaiBaseUrl: readBaseUrl(context),
    metricsNamespace: readNamespace(context),
    // Managed keys are counted per key unless asked otherwise: their ids are the operator's, a bounded set.
    metricsByKey: readBoolean(context, "gateway:metricsByKey", keyManagement || DEFAULT_SETTINGS.metricsByKey),
    prices: readPrices(context),
    alarmTopic: readBoolean(context, "gateway:alarmTopic", DEFAULT_SETTINGS.alarmTopic),
    alarmEmail: readEmail(context),
    alarmServerErrorRatePercent: readNumber(context, "gateway:alarmServerErrorRatePercent", DEFAULT_SETTINGS.alarmServerErrorRatePercent, 1, 100),
    alarmP99LatencyMs: readNumber(context, "gateway:alarmP99LatencyMs", DEFAULT_SETTINGS.alarmP99LatencyMs, 100, 900_000),
    alarmAuthFailuresPerFiveMinutes: readNumber(
      context,
      "gateway:alarmAuthFailuresPerFiveMinutes",
      DEFAULT_SETTINGS.alarmAuthFailuresPerFiveMinutes,
      1,
      100_000_000,
    ),
    cache: readBoolean(context, "gateway:cache", DEFAULT_SETTINGS.cache),
    cacheTtlSeconds: readNumber(context, "gateway:cacheTtlSeconds", DEFAULT_SETTINGS.cacheTtlSeconds, 0, 31_536_000),
    keyLimits: readBoolean(context, "gateway:keyLimits", DEFAULT_SETTINGS.keyLimits),
    mockProvider: readBoolean(context, "gateway:mockProvider", DEFAULT_SETTINGS.mockProvider),
    storedObjects: readBoolean(context, "gateway:storedObjects", DEFAULT_SETTINGS.storedObjects),
    bedrock: readBedrockSettings(context),
    keyManagement,
    keysCacheTtlSeconds: readNumber(context, "gateway:keysCacheTtlSeconds", DEFAULT_SETTINGS.keysCacheTtlSeconds, 0, 3_600),
    alarmBudgetPercent: readNumber(context, "gateway:alarmBudgetPercent", DEFAULT_SETTINGS.alarmBudgetPercent, 1, 1_000),
    managedInstances,
  };
}

// Context values are JSON from cdk.json or strings from `-c key=value`: strings are read by the
// same parsers as the function's own settings, so "true", "1" or " 60 " mean the same everywhere.
/** The smallest execution environment of Lambda Managed Instances: 2 GB and 1 vCPU. */
export const MANAGED_INSTANCES_MIN_MEMORY_MB = 2048;

const MANAGED_KEYS = new Set(["subnetIds", "securityGroupIds", "capacityProviderArn", "memoryGiBPerVCpu", "maxConcurrency", "maxVCpuCount"]);
const CAPACITY_PROVIDER_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:capacity-provider:[a-zA-Z0-9-_]+$/;

function readManagedInstances(context: Context): ManagedInstancesSettings | undefined {
  const key = "gateway:managedInstances";
  const raw = context(key);
  if (raw === undefined || raw === false || raw === "false") return undefined;
  if (raw === true || raw === "true") return { memoryGiBPerVCpu: 2 };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`Context ${key} must be true, false or an object like {"subnetIds": [...], "securityGroupIds": [...]}.`);
  }
  const options = raw as Record<string, unknown>;
  const unknown = Object.keys(options).filter((name) => !MANAGED_KEYS.has(name));
  if (unknown.length > 0) throw new SettingsError(`Context ${key} has unknown fields ${unknown.join(", ")}; allowed: ${[...MANAGED_KEYS].join(", ")}.`);
  const subnetIds = options.subnetIds === undefined ? undefined : readIds(options.subnetIds, `${key}.subnetIds`, /^subnet-[0-9a-f]+$/, 16, "subnet-0abc1234");
  const securityGroupIds =
    options.securityGroupIds === undefined ? undefined : readIds(options.securityGroupIds, `${key}.securityGroupIds`, /^sg-[0-9a-f]+$/, 5, "sg-0abc1234");
  if ((subnetIds === undefined) !== (securityGroupIds === undefined)) {
    throw new SettingsError(`Context ${key} needs both subnetIds and securityGroupIds (or neither, and the stack creates a VPC).`);
  }
  const capacityProviderArn = options.capacityProviderArn;
  if (capacityProviderArn !== undefined && (typeof capacityProviderArn !== "string" || !CAPACITY_PROVIDER_ARN.test(capacityProviderArn))) {
    throw new SettingsError(`Context ${key}.capacityProviderArn must be a capacity provider ARN, got ${JSON.stringify(capacityProviderArn)}.`);
  }
  const sub = (name: string) => options[name];
  const memoryGiBPerVCpu = sub("memoryGiBPerVCpu") ?? 2;
  if (memoryGiBPerVCpu !== 2 && memoryGiBPerVCpu !== 4 && memoryGiBPerVCpu !== 8) {
    throw new SettingsError(`Context ${key}.memoryGiBPerVCpu must be 2, 4 or 8, got ${JSON.stringify(memoryGiBPerVCpu)}.`);
  }
  return {
    subnetIds,
    securityGroupIds,
    capacityProviderArn,
    memoryGiBPerVCpu,
    maxConcurrency: sub("maxConcurrency") === undefined ? undefined : readNumber(sub, "maxConcurrency", 0, 1, 1600, `${key}.`),
    maxVCpuCount: sub("maxVCpuCount") === undefined ? undefined : readNumber(sub, "maxVCpuCount", 0, 12, 15_000, `${key}.`),
  };
}

/** On Managed Instances the memory is an execution environment's: at least 2 GB, whole vCPUs. */
function readManagedMemory(context: Context, managed: ManagedInstancesSettings): number {
  const memorySize = readNumber(context, "gateway:memorySize", MANAGED_INSTANCES_MIN_MEMORY_MB, 128, 32_768);
  const perVCpu = managed.memoryGiBPerVCpu * 1024;
  if (memorySize < MANAGED_INSTANCES_MIN_MEMORY_MB || memorySize % perVCpu !== 0) {
    throw new SettingsError(
      `Context gateway:memorySize must be at least ${MANAGED_INSTANCES_MIN_MEMORY_MB} and a multiple of ${perVCpu} (gateway:managedInstances.memoryGiBPerVCpu × 1024) on Managed Instances, got ${memorySize}.`,
    );
  }
  return memorySize;
}

function readIds(raw: unknown, key: string, pattern: RegExp, max: number, example: string): string[] {
  const list = typeof raw === "string" ? raw.split(",").map((item) => item.trim()).filter(Boolean) : raw;
  if (!Array.isArray(list) || !list.every((item): item is string => typeof item === "string")) {
    throw new SettingsError(`Context ${key} must be a list of ids like ${example}, got ${JSON.stringify(raw)}.`);
  }
  if (list.length === 0 || list.length > max || !list.every((id) => pattern.test(id))) {
    throw new SettingsError(`Context ${key} must be 1 to ${max} ids like ${example}, got ${JSON.stringify(raw)}.`);
  }
  return list;
}

function readBoolean(context: Context, key: string, fallback: boolean): boolean {
  const raw = context(key);
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" ? parseBoolean(raw) : raw;
  if (typeof value !== "boolean") throw new SettingsError(`Context ${key} must be true or false, got ${JSON.stringify(raw)}.`);
  return value;
}

function readNamespace(context: Context): string {
  const raw = context("gateway:metricsNamespace") ?? DEFAULT_SETTINGS.metricsNamespace;
  if (typeof raw !== "string" || !/^[A-Za-z0-9._/#:-]{1,255}$/.test(raw)) {
    throw new SettingsError(`Context gateway:metricsNamespace must be 1-255 characters of A-Z, a-z, 0-9, . _ / # : -, got ${JSON.stringify(raw)}.`);
  }
  return raw;
}

function readPrices(context: Context): Record<string, unknown> | undefined {
  const raw = context("gateway:prices");
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SettingsError('Context gateway:prices must be an object like {"gpt-4o": {"input": 2.5, "output": 10}}.');
  }
  return raw as Record<string, unknown>;
}

function readEmail(context: Context): string | undefined {
  const raw = context("gateway:alarmEmail");
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) {
    throw new SettingsError(`Context gateway:alarmEmail must be an e-mail address, got ${JSON.stringify(raw)}.`);
  }
  return raw;
}

function readNumber(context: Context, key: string, fallback: number, min: number, max: number, prefix = ""): number {
  const raw = context(key);
  if (raw === undefined) return fallback;
  const value = typeof raw === "string" ? parseWholeNumber(raw, min, max) : raw;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`Context ${prefix}${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function readRetention(context: Context): number {
  const days = readNumber(context, "gateway:logRetentionDays", DEFAULT_SETTINGS.logRetentionDays, 1, 3653);
  if (!RETENTION_DAYS.includes(days)) {
    throw new SettingsError(`Context gateway:logRetentionDays must be one of ${RETENTION_DAYS.join(", ")}, got ${days}.`);
  }
  return days;
}

function readLogRemovalPolicy(context: Context): LogRemovalPolicy {
  const raw = context("gateway:logRemovalPolicy") ?? DEFAULT_SETTINGS.logRemovalPolicy;
  if (raw !== "retain" && raw !== "destroy") {
    throw new SettingsError(`Context gateway:logRemovalPolicy must be "retain" or "destroy", got ${JSON.stringify(raw)}.`);
  }
  return raw;
}

function readReservedConcurrency(context: Context): number | false {
  const key = "gateway:reservedConcurrency";
  const raw = context(key);
  if (raw === false || raw === "false") return false;
  // 0 is a valid Lambda value that stops every invocation: too easy to set by mistake.
  if (raw === 0 || raw === "0") {
    throw new SettingsError(`Context ${key} = 0 would refuse every request; use false to leave the function unreserved.`);
  }
  if (raw === undefined) return DEFAULT_SETTINGS.reservedConcurrency;
  try {
    return readNumber(context, key, 100, 1, 100_000);
  } catch {
    throw new SettingsError(`Context ${key} must be an integer from 1 to 100000, or false to leave the function unreserved, got ${JSON.stringify(raw)}.`);
  }
}

function readAuthType(context: Context): FunctionUrlAuth {
  const raw = context("gateway:authType") ?? DEFAULT_SETTINGS.authType;
  if (raw !== "NONE" && raw !== "AWS_IAM") {
    throw new SettingsError(`Context gateway:authType must be "NONE" or "AWS_IAM", got ${JSON.stringify(raw)}.`);
  }
  return raw;
}


function readSecretArn(context: Context): string | undefined {
  const raw = context("gateway:secretArn");
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string" || !SECRET_ARN.test(raw)) {
    throw new SettingsError(`Context gateway:secretArn must be a complete Secrets Manager secret ARN, got ${JSON.stringify(raw)}.`);
  }
  return raw;
}

