import { describe, expect, it } from "vitest";
import {
  lambdaDurationUsd,
  managedBreakEvenPerMonth,
  managedMonthlyFloorUsd,
  managedPerMillion,
  managedThroughputPerVCpu,
  modelCostUsd,
  NO_STORE,
  onDemandPerMillion,
  PRICES,
  secretCallsPerRequest,
  storeUnitsPerRequest,
} from "../bench/cost-model.ts";

describe("the gateway's bill", () => {
  it("prices Lambda duration per GB-second: 10 s at 1,024 MB is $0.000133, half a GPT-4o-mini request", () => {
    expect(lambdaDurationUsd(1024, 10)).toBeCloseTo(0.000133334, 9);
    expect(lambdaDurationUsd(128, 2)).toBeCloseTo(0.00000333335, 12);
    expect(modelCostUsd("gpt-4o-mini", 500, 300)).toBeCloseTo(0.000255, 9);
    expect(modelCostUsd("gpt-4o", 500, 300)).toBeCloseTo(0.00425, 9);
  });

  it("amortises the secret over the requests an environment serves per TTL, at least one read per environment", () => {
    // Busy half the time with 10 s streams: 15 requests per 300 s TTL.
    expect(secretCallsPerRequest(300, 10, 1, 0.5)).toBeCloseTo(1 / 15, 12);
    // A 30 s TTL with 60 s streams: every request reads it.
    expect(secretCallsPerRequest(30, 60, 1, 1)).toBe(1);
    // 64 at once on Managed Instances share each read.
    expect(secretCallsPerRequest(300, 10, 64, 0.5)).toBeCloseTo(1 / 960, 12);
  });

  it("counts DynamoDB units: a lookup is half a read, a miss writes the entry, each key limit an update", () => {
    expect(storeUnitsPerRequest(NO_STORE)).toEqual({ reads: 0, writes: 0 });
    expect(storeUnitsPerRequest({ cache: true, cacheHitRate: 0.25, cachedEntryKb: 1.5, keyLimits: 0, tokenLimits: 0 })).toEqual({ reads: 0.5, writes: 1.5 });
    expect(storeUnitsPerRequest({ cache: false, cacheHitRate: 0, cachedEntryKb: 0, keyLimits: 3, tokenLimits: 2 })).toEqual({ reads: 0, writes: 5 });
  });

  it("adds the request charge, the secret and the store to the duration, per million requests", () => {
    const row = onDemandPerMillion({
      memoryMb: 1024,
      streamSeconds: 10,
      secretTtlSeconds: 300,
      environmentUtilisation: 0.5,
      store: { cache: false, cacheHitRate: 0, cachedEntryKb: 0, keyLimits: 1, tokenLimits: 0 },
    });
    expect(row.compute).toBeCloseTo(133.334, 6);
    expect(row.requests).toBe(0.2);
    expect(row.secrets).toBeCloseTo((1 / 15) * 5, 9);
    expect(row.store).toBeCloseTo(0.625, 9);
    expect(row.total).toBeCloseTo(133.334 + 0.2 + 1 / 3 + 0.625, 6);
  });

  it("on Managed Instances, bounds a vCPU's requests by its concurrency or its CPU, whichever is less", () => {
    expect(managedThroughputPerVCpu({ streamSeconds: 10, cpuSecondsPerRequest: 0.002, utilisation: 0.5, concurrencyPerVCpu: 64 })).toEqual({
      requestsPerSecond: 6.4,
      boundBy: "concurrency",
    });
    expect(managedThroughputPerVCpu({ streamSeconds: 2, cpuSecondsPerRequest: 0.02, utilisation: 0.5, concurrencyPerVCpu: 64 })).toEqual({
      requestsPerSecond: 25,
      boundBy: "cpu",
    });
    const row = managedPerMillion({ streamSeconds: 10, cpuSecondsPerRequest: 0.002, utilisation: 0.5, concurrencyPerVCpu: 64, secretTtlSeconds: 300, store: NO_STORE });
    const vCpuSecond = (0.0816 * 1.15) / 2 / 3600;
    expect(row.compute).toBeCloseTo((vCpuSecond / 6.4) * 1e6, 9);
    expect(row.requests).toBe(PRICES.managedInstances.perMillionRequests);
  });

  it("has a monthly floor of three instances with the fee, and a NAT gateway for a created VPC", () => {
    expect(managedMonthlyFloorUsd(false).total).toBeCloseTo(3 * 0.0816 * 1.15 * 730, 6);
    expect(managedMonthlyFloorUsd(true).nat).toBeCloseTo(0.045 * 730, 9);
  });

  it("finds the monthly volume from which Managed Instances cost less than on-demand", () => {
    const managed = managedPerMillion({ streamSeconds: 10, cpuSecondsPerRequest: 0.002, utilisation: 0.5, concurrencyPerVCpu: 64, secretTtlSeconds: 300, store: NO_STORE });
    const onDemand = onDemandPerMillion({ memoryMb: 512, streamSeconds: 10, secretTtlSeconds: 300, environmentUtilisation: 0.5, store: NO_STORE });
    const breakEven = managedBreakEvenPerMonth(onDemand.total / 1e6, managed, true) as number;
    const floor = managedMonthlyFloorUsd(true).total;
    const variable = (managed.total - managed.compute) / 1e6;
    // Inside the floor's capacity: the floor plus the per-request charges equal on-demand's bill.
    expect(breakEven * (onDemand.total / 1e6)).toBeCloseTo(floor + breakEven * variable, 0);
    // Never cheaper when on-demand costs less per request than Managed Instances.
    expect(managedBreakEvenPerMonth(0, managed, true)).toBeUndefined();
  });
});
