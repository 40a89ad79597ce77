/**
 * The gateway's own bill, per million requests, beside the model's: pure
 * arithmetic over the prices below (us-east-1, USD), printed by `npm run bench`.
 *
 * Prices, read 2026-11-28:
 * - Lambda (https://aws.amazon.com/lambda/pricing/): $0.20 per million
 *   requests; Arm duration $0.0000133334 per GB-second (first tier, up to
 *   7.5 billion GB-s a month; x86 is $0.0000166667). The page renders its
 *   tables client-side; the same per-GB-second figures are in Artillery's
 *   Lambda price table (artillery 2.0.28, lib/platform/aws-lambda/prices.js).
 *   A streamed response's first 6 MB carry no extra charge; answers of a
 *   chat model are far below that.
 * - Lambda Managed Instances (same page, "Lambda Managed Instances"): the EC2
 *   instance's on-demand price, plus a management fee of 15% of that price,
 *   plus $0.20 per million requests; no duration charge. Lambda launches three
 *   instances by default for AZ resiliency (AWS docs, "Best practices for
 *   Lambda Managed Instances"). m7g.large (2 vCPU, 8 GiB): $0.0816 an hour
 *   (EC2 on-demand, us-east-1, as quoted June 2026 by factualminds.com,
 *   "Amazon EC2 On-Demand Pricing … (2026)").
 * - NAT gateway, for a VPC the stack creates (https://aws.amazon.com/vpc/pricing/):
 *   $0.045 an hour and $0.045 per GB processed.
 * - Secrets Manager (https://aws.amazon.com/secrets-manager/pricing/): $0.05
 *   per 10,000 API calls ($0.40 a secret a month, not per request).
 * - DynamoDB on-demand (https://aws.amazon.com/dynamodb/pricing/on-demand/):
 *   $0.625 per million write request units, $0.125 per million read request
 *   units (after the November 2024 reduction); an eventually consistent read
 *   of up to 4 KB is half a unit, a write is a unit per KB.
 * - Models: OpenAI's list prices (https://openai.com/api/pricing/, as the
 *   price catalogue @pydantic/genai-prices has them): GPT-4o-mini $0.15 / $0.60
 *   and GPT-4o $2.50 / $10 per million input / output tokens.
 */

/** The prices the model uses; see the module's comment for their sources. */
export const PRICES = {
  readOn: "2026-11-28",
  region: "us-east-1",
  lambda: { armPerGbSecond: 0.0000133334, perMillionRequests: 0.2 },
  managedInstances: {
    managementFee: 0.15,
    perMillionRequests: 0.2,
    instance: { type: "m7g.large", vCpus: 2, hourly: 0.0816 },
    minimumInstances: 3,
  },
  natGateway: { hourly: 0.045, perGb: 0.045 },
  secretsManager: { perCall: 0.05 / 10_000 },
  dynamoDb: { perWriteUnit: 0.625 / 1e6, perReadUnit: 0.125 / 1e6 },
  models: {
    "gpt-4o-mini": { input: 0.15, output: 0.6 },
    "gpt-4o": { input: 2.5, output: 10 },
  } as Readonly<Record<string, { input: number; output: number }>>,
} as const;

const HOURS_PER_MONTH = 730;

/** Lambda duration of one invocation, USD. */
export function lambdaDurationUsd(memoryMb: number, seconds: number): number {
  return (memoryMb / 1024) * seconds * PRICES.lambda.armPerGbSecond;
}

/** What the gateway's store does per request (DynamoDB, only with `gateway:cache` or `gateway:keyLimits`). */
export interface StoreUse {
  /** Response cache on: one lookup per cacheable request, one write per miss. */
  readonly cache: boolean;
  /** Share of cacheable requests answered from the cache (0-1). */
  readonly cacheHitRate: number;
  /** Size of a stored answer after compression, KB (a write unit per KB). */
  readonly cachedEntryKb: number;
  /** Key limits configured on the caller's key (0-3): requests/minute, tokens/minute, tokens/day. */
  readonly keyLimits: number;
  /** Of those, the token limits (0-2): each charged once more when the answer ends. */
  readonly tokenLimits: number;
}

/** No table: the deployment's default. */
export const NO_STORE: StoreUse = { cache: false, cacheHitRate: 0, cachedEntryKb: 0, keyLimits: 0, tokenLimits: 0 };

/** DynamoDB request units of one request. */
export function storeUnitsPerRequest(store: StoreUse): { reads: number; writes: number } {
  const reads = store.cache ? 0.5 : 0; // one GetItem, eventually consistent, up to 4 KB
  const cacheWrites = store.cache ? (1 - store.cacheHitRate) * Math.max(1, Math.ceil(store.cachedEntryKb)) : 0;
  // UpdateItem per configured window when admitted, and per token window when charged.
  return { reads, writes: cacheWrites + store.keyLimits + store.tokenLimits };
}

/**
 * Secrets Manager calls per request: an execution environment reads the
 * secret once per TTL; kept busy `utilisation` of the time with requests of
 * `seconds`, it serves `utilisation × ttl / seconds` requests per read (at
 * least one: a new environment reads it on its first request).
 */
export function secretCallsPerRequest(ttlSeconds: number, seconds: number, requestsAtOnce: number, utilisation: number): number {
  const requestsPerRead = (utilisation * ttlSeconds * requestsAtOnce) / seconds;
  return 1 / Math.max(1, requestsPerRead);
}

/** One row of the bill, USD per million requests. */
export interface CostPerMillion {
  readonly compute: number;
  readonly requests: number;
  readonly secrets: number;
  readonly store: number;
  readonly total: number;
}

function bill(compute: number, requests: number, secretCalls: number, store: StoreUse): CostPerMillion {
  const units = storeUnitsPerRequest(store);
  const secrets = secretCalls * PRICES.secretsManager.perCall * 1e6;
  const storeCost = (units.reads * PRICES.dynamoDb.perReadUnit + units.writes * PRICES.dynamoDb.perWriteUnit) * 1e6;
  return { compute, requests, secrets, store: storeCost, total: compute + requests + secrets + storeCost };
}

/** On-demand Lambda: the gateway is billed for every second a stream lasts, at its memory. */
export function onDemandPerMillion(options: {
  memoryMb: number;
  streamSeconds: number;
  secretTtlSeconds: number;
  /** Share of the time an execution environment is busy (for the secret's amortisation). */
  environmentUtilisation: number;
  store: StoreUse;
}): CostPerMillion {
  const calls = secretCallsPerRequest(options.secretTtlSeconds, options.streamSeconds, 1, options.environmentUtilisation);
  return bill(lambdaDurationUsd(options.memoryMb, options.streamSeconds) * 1e6, PRICES.lambda.perMillionRequests, calls, options.store);
}

/** How many requests a second one vCPU carries on Managed Instances, and what bounds it. */
export function managedThroughputPerVCpu(options: {
  streamSeconds: number;
  /** CPU seconds the gateway spends per request (from the benchmark). */
  cpuSecondsPerRequest: number;
  /** Target CPU utilisation the capacity provider scales at (0-1). */
  utilisation: number;
  /** Invocations one execution environment serves at once, per vCPU (Node.js default: 64). */
  concurrencyPerVCpu: number;
}): { requestsPerSecond: number; boundBy: "cpu" | "concurrency" } {
  const byCpu = options.utilisation / options.cpuSecondsPerRequest;
  const byConcurrency = options.concurrencyPerVCpu / options.streamSeconds;
  return byCpu <= byConcurrency ? { requestsPerSecond: byCpu, boundBy: "cpu" } : { requestsPerSecond: byConcurrency, boundBy: "concurrency" };
}

/** Managed Instances at a stated utilisation: instance time (with the 15% fee) shared by the requests it carries. */
export function managedPerMillion(options: {
  streamSeconds: number;
  cpuSecondsPerRequest: number;
  utilisation: number;
  concurrencyPerVCpu: number;
  secretTtlSeconds: number;
  store: StoreUse;
}): CostPerMillion & { boundBy: "cpu" | "concurrency"; requestsPerSecondPerVCpu: number } {
  const { instance, managementFee } = PRICES.managedInstances;
  const vCpuSecondUsd = (instance.hourly * (1 + managementFee)) / instance.vCpus / 3600;
  const throughput = managedThroughputPerVCpu(options);
  // Every request an environment runs at once shares one secret read per TTL.
  const calls = secretCallsPerRequest(options.secretTtlSeconds, options.streamSeconds, options.concurrencyPerVCpu, options.utilisation);
  const row = bill((vCpuSecondUsd / throughput.requestsPerSecond) * 1e6, PRICES.managedInstances.perMillionRequests, calls, options.store);
  return { ...row, boundBy: throughput.boundBy, requestsPerSecondPerVCpu: throughput.requestsPerSecond };
}

/** The monthly floor of Managed Instances: the minimum instances (with the fee) and, for a created VPC, one NAT gateway. */
export function managedMonthlyFloorUsd(createdVpc: boolean): { instances: number; nat: number; total: number } {
  const { instance, managementFee, minimumInstances } = PRICES.managedInstances;
  const instances = minimumInstances * instance.hourly * (1 + managementFee) * HOURS_PER_MONTH;
  const nat = createdVpc ? PRICES.natGateway.hourly * HOURS_PER_MONTH : 0;
  return { instances, nat, total: instances + nat };
}

/**
 * Requests a month from which Managed Instances cost less than on-demand
 * Lambda. Up to what the minimum instances carry (at the stated utilisation),
 * their price is fixed; past it, instance time grows with the requests.
 * Undefined when Managed Instances never cost less.
 */
export function managedBreakEvenPerMonth(onDemandPerRequestUsd: number, managed: ReturnType<typeof managedPerMillion>, createdVpc: boolean): number | undefined {
  const floor = managedMonthlyFloorUsd(createdVpc);
  const { instance, minimumInstances } = PRICES.managedInstances;
  const floorCapacity = minimumInstances * instance.vCpus * managed.requestsPerSecondPerVCpu * HOURS_PER_MONTH * 3600;
  const variable = (managed.total - managed.compute) / 1e6; // requests, secret reads, store: per request either way
  // Inside the floor: N × onDemand = floor + N × variable.
  if (onDemandPerRequestUsd > variable) {
    const inside = floor.total / (onDemandPerRequestUsd - variable);
    if (inside <= floorCapacity) return Math.ceil(inside);
  }
  // Past the floor, instances are added as requests grow: the gap left at the floor's capacity closes
  // by (onDemand − managed) per request.
  const perRequest = managed.total / 1e6;
  if (onDemandPerRequestUsd <= perRequest) return undefined;
  const gapAtCapacity = floor.total + floorCapacity * variable - floorCapacity * onDemandPerRequestUsd;
  return Math.ceil(floorCapacity + gapAtCapacity / (onDemandPerRequestUsd - perRequest));
}

/** The model's own price of a request, USD. */
export function modelCostUsd(model: string, inputTokens: number, outputTokens: number): number {
  const price = PRICES.models[model];
  if (price === undefined) throw new Error(`no price for ${model}`);
  return (inputTokens * price.input + outputTokens * price.output) / 1e6;
}
