/**
 * A routed request's attempts and fall-backs, per target, in the metrics and
 * the log line computed from its summary.
 */
import { describe, expect, it } from "vitest";
import { requestLogFields } from "../../functions/shared/observability/request-log.ts";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";

const base: RequestSummary = {
  requestId: "r1",
  method: "POST",
  path: "/v1/chat/completions",
  endpoint: "chat.completions",
  provider: "groq",
  model: "llama-3.3-70b-versatile",
  stream: false,
  status: 200,
  outcome: "ok",
  retries: 3,
  totalMs: 100,
};

const routed: RequestSummary = {
  ...base,
  route: "smart",
  fallbacks: 1,
  targets: [
    { provider: "openai", model: "gpt-4o", routeModel: true, attempts: 3, result: 503, fellBack: true },
    { provider: "groq", model: "llama-3.3-70b-versatile", routeModel: true, attempts: 1, result: 200, fellBack: false },
  ],
};

describe("metrics of a routed request", () => {
  it("counts the fall-backs on the serving target, and attempts and failures on each target's own dimensions", () => {
    const metrics = measureRequest(routed, new ModelDimensionLimiter());
    expect(metrics.values).toMatchObject({ fallbacks: 1, retries: 3 });
    expect(metrics.dimensions).toMatchObject({ provider: "groq", model: "llama-3.3-70b-versatile" });
    expect(metrics.targets).toEqual([
      { dimensions: { provider: "openai", model: "gpt-4o", endpoint: "chat.completions", keyId: undefined }, values: { targetAttempts: 3, targetFailures: 1 } },
      { dimensions: { provider: "groq", model: "llama-3.3-70b-versatile", endpoint: "chat.completions", keyId: undefined }, values: { targetAttempts: 1, targetFailures: 0 } },
    ]);
  });

  it("counts a last target's failure too, and keeps a request's own model out of a dimension when the target refused it", () => {
    const failed: RequestSummary = {
      ...routed,
      status: 503,
      outcome: "provider_error",
      targets: [{ provider: "openai", model: "made-up-by-caller", routeModel: false, attempts: 1, result: 503, fellBack: false }],
    };
    expect(measureRequest(failed, new ModelDimensionLimiter()).targets).toEqual([
      { dimensions: { provider: "openai", model: "none", endpoint: "chat.completions", keyId: undefined }, values: { targetAttempts: 1, targetFailures: 1 } },
    ]);
  });

  it("emits no per-target points for a request to one provider", () => {
    const single = { ...base, targets: [{ provider: "groq", routeModel: false, attempts: 1, result: 200, fellBack: false }], fallbacks: 0 };
    const metrics = measureRequest(single, new ModelDimensionLimiter());
    expect(metrics.targets).toBeUndefined();
    expect(metrics.values.fallbacks).toBe(0);
  });

  it("logs the route, the fall-backs and each target's answers and attempts", () => {
    const fields = requestLogFields(routed, measureRequest(routed, new ModelDimensionLimiter()));
    expect(fields).toMatchObject({ route: "smart", fallbacks: 1, targets: "openai/gpt-4o:503x3>groq/llama-3.3-70b-versatile:200x1" });
  });
});
