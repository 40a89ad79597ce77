/**
 * The benchmark's printed report: plain aligned tables, and the cost tables
 * built from the cost model with the run's own CPU figures.
 */
import {
  managedBreakEvenPerMonth,
  managedMonthlyFloorUsd,
  managedPerMillion,
  modelCostUsd,
  NO_STORE,
  onDemandPerMillion,
  PRICES,
  type StoreUse,
} from "./cost-model.ts";

/** Prints rows as aligned columns (the first row is the header). */
export function printTable(title: string, rows: readonly (readonly string[])[]): void {
  console.log(`\n${title}`);
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd());
}

/** A number with `digits` decimals, or "-". */
export function fixed(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(digits);
}

const MEMORY_SIZES = [128, 256, 512, 1024];
const STREAM_SECONDS = [2, 10, 30];
/** A typical chat request: 500 tokens in, 300 out. */
const TOKENS = { input: 500, output: 300 };
/** Share of the time an on-demand execution environment is busy, for the secret's amortisation. */
const ENVIRONMENT_UTILISATION = 0.5;
/** The CPU utilisation a Managed Instances capacity provider is assumed to run at. */
const MANAGED_UTILISATION = 0.5;
const CONCURRENCY_PER_VCPU = 64;
const SECRET_TTL_SECONDS = 300;
/** The store with the response cache (25% hits, 2 KB entries) and all three key limits. */
const FULL_STORE: StoreUse = { cache: true, cacheHitRate: 0.25, cachedEntryKb: 2, keyLimits: 3, tokenLimits: 2 };

const usd = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toFixed(3));

/**
 * Prints the gateway's bill per million requests beside the model's.
 * @param cpuSecondsPerStream CPU the Lambda runtime process spent per stream in this run (for Managed Instances)
 */
export function printCostTables(cpuSecondsPerStream: number): Record<string, unknown> {
  const mini = modelCostUsd("gpt-4o-mini", TOKENS.input, TOKENS.output) * 1e6;
  const full = modelCostUsd("gpt-4o", TOKENS.input, TOKENS.output) * 1e6;
  const rows: string[][] = [["stream", "memory", "duration", "requests", "secret", "total", "+table", "% of 4o-mini", "% of 4o"]];
  const onDemand: Record<string, number> = {};
  for (const seconds of STREAM_SECONDS) {
    for (const memoryMb of MEMORY_SIZES) {
      const common = { memoryMb, streamSeconds: seconds, secretTtlSeconds: SECRET_TTL_SECONDS, environmentUtilisation: ENVIRONMENT_UTILISATION };
      const bare = onDemandPerMillion({ ...common, store: NO_STORE });
      const withTable = onDemandPerMillion({ ...common, store: FULL_STORE });
      onDemand[`${seconds}s_${memoryMb}mb`] = bare.total;
      rows.push([
        `${seconds} s`,
        `${memoryMb} MB`,
        usd(bare.compute),
        usd(bare.requests),
        usd(bare.secrets),
        usd(bare.total),
        usd(withTable.total),
        `${((bare.total / mini) * 100).toFixed(1)}%`,
        `${((bare.total / full) * 100).toFixed(2)}%`,
      ]);
    }
  }
  printTable(
    `Gateway cost per million requests, on-demand Lambda (arm64, ${PRICES.region}, prices of ${PRICES.readOn}), USD; the model's own: GPT-4o-mini ${usd(mini)}, GPT-4o ${usd(full)} (${TOKENS.input} tokens in, ${TOKENS.output} out). "+table": with the DynamoDB cache (25% hits) and three key limits.`,
    rows,
  );

  const managedRows: string[][] = [["stream", "per vCPU", "bound by", "compute", "total", "% of 4o-mini", "cheaper than on-demand 512 MB from"]];
  const managed: Record<string, number> = {};
  for (const seconds of STREAM_SECONDS) {
    const row = managedPerMillion({
      streamSeconds: seconds,
      cpuSecondsPerRequest: cpuSecondsPerStream,
      utilisation: MANAGED_UTILISATION,
      concurrencyPerVCpu: CONCURRENCY_PER_VCPU,
      secretTtlSeconds: SECRET_TTL_SECONDS,
      store: NO_STORE,
    });
    managed[`${seconds}s`] = row.total;
    const breakEven = managedBreakEvenPerMonth((onDemand[`${seconds}s_512mb`] ?? Number.NaN) / 1e6, row, true);
    managedRows.push([
      `${seconds} s`,
      `${row.requestsPerSecondPerVCpu.toFixed(1)} req/s`,
      row.boundBy,
      usd(row.compute),
      usd(row.total),
      `${((row.total / mini) * 100).toFixed(2)}%`,
      breakEven === undefined ? "never" : `${(breakEven / 1e6).toFixed(1)} M requests/month`,
    ]);
  }
  const floor = managedMonthlyFloorUsd(true);
  printTable(
    `Lambda Managed Instances (${PRICES.managedInstances.instance.type} + ${PRICES.managedInstances.managementFee * 100}% fee) at ${MANAGED_UTILISATION * 100}% CPU, ${CONCURRENCY_PER_VCPU} invocations per vCPU, ${(cpuSecondsPerStream * 1000).toFixed(1)} ms of CPU per request (this run); floor ${usd(floor.instances)} USD/month for ${PRICES.managedInstances.minimumInstances} instances + ${usd(floor.nat)} for the created VPC's NAT gateway`,
    managedRows,
  );
  return { onDemandPerMillion: onDemand, managedPerMillion: managed, modelPerMillion: { "gpt-4o-mini": mini, "gpt-4o": full }, managedFloorPerMonth: floor.total };
}
