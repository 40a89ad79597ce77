import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEmfPublisher } from "../../functions/shared/observability/emf-publisher.ts";
import { METRICS } from "../../functions/shared/observability/metric-catalogue.ts";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings } from "../../infra/settings.ts";
import { emittedMetricKeys, metricKey, parseEmfLines } from "../support/emf.ts";

const NAMESPACE = "AiGateway";

/** Metrics a streamed, priced, keyed, routed request emits, captured from Powertools' stdout. */
function emitOneOfEach(): Set<string> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const summary: RequestSummary = {
    requestId: "r1",
    method: "POST",
    path: "/v1/chat/completions",
    endpoint: "chat.completions",
    provider: "openai",
    model: "gpt-4o",
    stream: true,
    status: 200,
    outcome: "ok",
    keyId: "team-a",
    upstreamHeadersMs: 40,
    upstreamMs: 120,
    firstByteMs: 50,
    totalMs: 121,
    retries: 1,
    route: "smart",
    targets: [
      { provider: "azure", model: "gpt-4o", routeModel: true, attempts: 1, result: 503, fellBack: true },
      { provider: "openai", model: "gpt-4o", routeModel: true, attempts: 1, result: 200, fellBack: false },
    ],
    fallbacks: 1,
    cache: "miss",
    usage: { promptTokens: 10, completionTokens: 20, totalTokens: 30, cachedPromptTokens: 2, reasoningTokens: 5 },
    costUsd: 0.000123,
    budgetUsedPercent: 42.5,
  };
  try {
    createEmfPublisher({ namespace: NAMESPACE, byKey: true })(measureRequest(summary, new ModelDimensionLimiter()));
  } finally {
    write.mockRestore();
  }
  return emittedMetricKeys(parseEmfLines(lines));
}

/** Turns a resolved Fn::Join into a string, with every token as "TOKEN". */
function joinTokens(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join === undefined) return "TOKEN";
  return join[1].map((part) => (typeof part === "string" ? part : "TOKEN")).join(join[0]);
}

/** Every gateway metric (namespace, name, dimension names) that the dashboard graphs. */
function dashboardMetrics(template: Template): string[] {
  const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
  const body = JSON.parse(joinTokens(dashboards[0]?.Properties.DashboardBody)) as {
    widgets: { properties: { metrics?: unknown[][] } }[];
  };
  const keys: string[] = [];
  for (const widget of body.widgets) {
    let previous: unknown[] = [];
    for (const entry of widget.properties.metrics ?? []) {
      const options = entry.at(-1);
      const expression = typeof options === "object" && options !== null ? (options as { expression?: string }).expression : undefined;
      if (expression !== undefined) {
        const search = /SEARCH\('\{([^}]*)\} MetricName="([^"]+)"/.exec(expression);
        if (search !== null) {
          const [namespace = "", ...dimensions] = (search[1] ?? "").split(",");
          keys.push(metricKey(namespace, search[2] ?? "", dimensions));
        }
        continue;
      }
      // CloudWatch's "." repeats the value at the same position of the previous entry.
      const plain = entry.filter((item) => typeof item === "string").map((item, index) => (item === "." ? previous[index] : item)) as string[];
      previous = plain;
      const [namespace = "", name = "", ...pairs] = plain;
      keys.push(metricKey(namespace, name, pairs.filter((_, index) => index % 2 === 0)));
    }
  }
  return keys.filter((key) => key.startsWith(`${NAMESPACE}|`));
}

/** Every gateway metric the alarms watch. */
function alarmMetrics(template: Template): string[] {
  const keys: string[] = [];
  type MetricRef = { Namespace: string; MetricName: string; Dimensions?: { Name: string }[] };
  for (const alarm of Object.values(template.findResources("AWS::CloudWatch::Alarm"))) {
    const props = alarm.Properties as MetricRef & { Metrics?: { MetricStat?: { Metric: MetricRef } }[] };
    const refs = props.Metrics?.flatMap((metric) => (metric.MetricStat === undefined ? [] : [metric.MetricStat.Metric])) ?? [props];
    for (const ref of refs) keys.push(metricKey(ref.Namespace, ref.MetricName, (ref.Dimensions ?? []).map((dimension) => dimension.Name)));
  }
  return keys.filter((key) => key.startsWith(`${NAMESPACE}|`));
}

describe("one catalogue of metrics for the code and the dashboard", () => {
  afterEach(() => vi.restoreAllMocks());
  const app = new App();
  // Key management adds the per-key row of the dashboard and the budget alarm.
  const context: Record<string, unknown> = { "gateway:alarmEmail": "ops@example.com", "gateway:keyManagement": true };
  const stack = new GatewayStack(app, "CatalogueGateway", { settings: readGatewaySettings((key) => context[key]) });
  const template = Template.fromStack(stack as Stack);

  it("emits every catalogue metric in one request's EMF line", () => {
    const emitted = emitOneOfEach();
    for (const definition of Object.values(METRICS)) {
      expect(emitted, definition.name).toContain(metricKey(NAMESPACE, definition.name, ["service"]));
      expect(emitted, definition.name).toContain(metricKey(NAMESPACE, definition.name, ["service", "provider", "model", "endpoint"]));
    }
  });

  it("graphs on the dashboard only metrics the code emits, with the same dimension sets", () => {
    const emitted = emitOneOfEach();
    const graphed = dashboardMetrics(template);
    expect(graphed.length).toBeGreaterThan(10);
    for (const key of graphed) expect(emitted, key).toContain(key);
  });

  it("alarms only on metrics the code emits, with the same dimension sets", () => {
    const emitted = emitOneOfEach();
    const watched = alarmMetrics(template);
    expect(watched.length).toBeGreaterThanOrEqual(3);
    for (const key of watched) expect(emitted, key).toContain(key);
  });

  it("graphs requests, tokens, spend and budget per key id, and alarms on the fullest budget", () => {
    const graphed = dashboardMetrics(template);
    for (const name of ["Requests", "TotalTokens", "EstimatedCostUSD", "BudgetUsedPercent"]) {
      expect(graphed).toContain(metricKey(NAMESPACE, name, ["service", "keyId"]));
    }
    expect(alarmMetrics(template)).toContain(metricKey(NAMESPACE, "BudgetUsedPercent", ["service"]));
  });

  it("catches a dashboard metric the code does not emit (the check can fail)", () => {
    const emitted = emitOneOfEach();
    expect(emitted).not.toContain(metricKey(NAMESPACE, "Latency", ["service", "provider"]));
    expect(emitted).not.toContain(metricKey(NAMESPACE, "NotAMetric", ["service"]));
  });
});
