/**
 * The operator's dashboard: volume, errors, latency, time to first token,
 * tokens and cost by model, retries, and the function's own health.
 *
 * Layout (24 columns wide):
 *   Requests | Error rate % | Latency p50/p90/p99 | Time to first token p50/p99
 *   Tokens by model | Estimated cost by model | Gateway overhead & upstream | Retries, timeouts, stream errors
 *   Lambda Duration | Throttles | ConcurrentExecutions | Errors
 *   Cache hits and misses | Cache hit rate | Refused: bad keys (401/403), key limits (429)
 *   Requests by key | Tokens by key | Spend by key | Budget used by key   (with per-key metrics)
 */
import { Aws, Duration } from "aws-cdk-lib";
import { Dashboard, GraphWidget, MathExpression, Metric, Stats, TextWidget, type GraphWidgetProps, type IWidget } from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { GatewayMetrics } from "./gateway-metrics.ts";

/** Props of the dashboard. */
export interface GatewayDashboardProps {
  readonly metrics: GatewayMetrics;
  readonly function: IFunction;
  /** Adds a row per gateway key id (with `GATEWAY_METRICS_BY_KEY`): requests, tokens, spend, budget used. */
  readonly byKey?: boolean;
}

/** The CloudWatch dashboard of one gateway. */
export class GatewayDashboard extends Construct {
  readonly dashboard: Dashboard;
  /** The console URL of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: GatewayDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    this.dashboard = new Dashboard(this, "Dashboard", { defaultInterval: Duration.hours(3) });
    const graph = (title: string, widget: GraphWidgetProps) => new GraphWidget({ width: 6, height: 6, ...widget, title });

    const traffic: IWidget[] = [
      graph("Requests", { left: [metrics.total("requests", "Sum")], leftYAxis: { min: 0 } }),
      graph("Error rate (%)", {
        left: [
          metrics.rate(["serverErrors"], "5xx (gateway or provider)"),
          metrics.rate(["gatewayClientErrors"], "4xx from the gateway"),
          metrics.rate(["providerClientErrors"], "4xx from the provider"),
        ],
        leftYAxis: { min: 0, max: 100 },
      }),
      graph("Latency (ms)", {
        left: [Stats.p(50), Stats.p(90), Stats.p(99)].map((stat) => metrics.total("latency", stat)),
        leftYAxis: { min: 0 },
      }),
      graph("Time to first token (ms)", {
        left: [Stats.p(50), Stats.p(99)].map((stat) => metrics.total("timeToFirstByte", stat)),
        leftYAxis: { min: 0 },
      }),
    ];
    const usage: IWidget[] = [
      graph("Tokens by model", { left: [metrics.byModel("totalTokens", "Sum", "")], leftYAxis: { min: 0 } }),
      graph("Estimated cost by model (USD)", {
        left: [metrics.byModel("estimatedCost", "Sum", "")],
        right: [metrics.total("estimatedCost", "Sum", Duration.minutes(5))],
        leftYAxis: { min: 0 },
      }),
      graph("Gateway overhead vs upstream (ms)", {
        left: [Stats.p(50), Stats.p(99)].map((stat) => metrics.total("gatewayOverhead", stat)),
        right: [metrics.total("upstreamLatency", Stats.p(50))],
        leftYAxis: { min: 0 },
      }),
      graph("Retries, timeouts, stream errors", {
        left: [metrics.total("retries", "Sum"), metrics.total("timeouts", "Sum"), metrics.total("streamErrors", "Sum")],
        leftYAxis: { min: 0 },
      }),
    ];
    const fn = props.function;
    const lambda: IWidget[] = [
      graph("Lambda Duration (ms)", { left: [fn.metricDuration({ statistic: Stats.p(50) }), fn.metricDuration({ statistic: Stats.p(99) })] }),
      graph("Lambda Throttles", { left: [fn.metricThrottles({ statistic: "Sum" })], leftYAxis: { min: 0 } }),
      graph("Lambda ConcurrentExecutions", {
        left: [new Metric({ namespace: "AWS/Lambda", metricName: "ConcurrentExecutions", dimensionsMap: { FunctionName: fn.functionName }, statistic: "Maximum" })],
        leftYAxis: { min: 0 },
      }),
      graph("Lambda Errors", { left: [fn.metricErrors({ statistic: "Sum" })], leftYAxis: { min: 0 } }),
    ];
    this.dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 1,
        markdown: `**AI gateway** — metrics in namespace \`${metrics.namespace}\`; find a request's log with its \`x-gateway-request-id\` (see README).`,
      }),
    );
    this.dashboard.addWidgets(...traffic);
    this.dashboard.addWidgets(...usage);
    this.dashboard.addWidgets(...lambda);
    this.dashboard.addWidgets(
      graph("Cache hits and misses", { left: [metrics.total("cacheHits", "Sum"), metrics.total("cacheMisses", "Sum")], leftYAxis: { min: 0 } }),
      graph("Cache hit rate (%)", {
        left: [
          new MathExpression({
            expression: "100 * cacheHits / (cacheHits + cacheMisses)",
            usingMetrics: { cacheHits: metrics.total("cacheHits", "Sum"), cacheMisses: metrics.total("cacheMisses", "Sum") },
            label: "hit rate",
            period: Duration.minutes(1),
          }),
        ],
        leftYAxis: { min: 0, max: 100 },
      }),
      graph("Refused: bad keys (401/403), key limits (429)", {
        left: [metrics.total("authFailures", "Sum"), metrics.total("rateLimited", "Sum")],
        leftYAxis: { min: 0 },
      }),
    );
    if (props.byKey === true) {
      this.dashboard.addWidgets(
        graph("Requests by key", { left: [metrics.byKey("requests", "Sum", "")], leftYAxis: { min: 0 } }),
        graph("Tokens by key", { left: [metrics.byKey("totalTokens", "Sum", "")], leftYAxis: { min: 0 } }),
        graph("Spend by key (USD)", { left: [metrics.byKey("estimatedCost", "Sum", "")], leftYAxis: { min: 0 } }),
        graph("Budget used by key (%)", { left: [metrics.byKey("budgetUsed", "Maximum", "")], leftYAxis: { min: 0 } }),
      );
    }
    this.url = `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
