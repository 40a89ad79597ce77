/**
 * CloudWatch metric objects for the gateway's own metrics, built from the
 * functions' catalogue so that infra graphs exactly what the code emits.
 */
import { Duration } from "aws-cdk-lib";
import { MathExpression, Metric, type IMetric } from "aws-cdk-lib/aws-cloudwatch";
import {
  cloudWatchDimensions,
  METRICS,
  SERVICE_NAME,
  type MetricKey,
} from "../../functions/shared/observability/metric-catalogue.ts";

/** Builds metrics of one namespace. */
export class GatewayMetrics {
  readonly namespace: string;

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  /** A metric of the `total` dimension set (all providers and models together). */
  total(key: MetricKey, statistic: string, period = Duration.minutes(1)): Metric {
    return new Metric({
      namespace: this.namespace,
      metricName: METRICS[key].name,
      dimensionsMap: { service: SERVICE_NAME },
      statistic,
      period,
      label: `${METRICS[key].name} ${statistic}`,
    });
  }

  /** One line per model: a SEARCH over the `byModel` dimension set. */
  byModel(key: MetricKey, statistic: string, label: string, period = Duration.minutes(5)): MathExpression {
    const schema = [this.namespace, ...cloudWatchDimensions("byModel")].join(",");
    return new MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${METRICS[key].name}"', '${statistic}', ${period.toSeconds()})`,
      label,
      period,
    });
  }

  /** One line per gateway key id: a SEARCH over the `byKey` dimension set. */
  byKey(key: MetricKey, statistic: string, label: string, period = Duration.minutes(5)): MathExpression {
    const schema = [this.namespace, ...cloudWatchDimensions("byKey")].join(",");
    return new MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${METRICS[key].name}"', '${statistic}', ${period.toSeconds()})`,
      label,
      period,
    });
  }

  /** A percentage of all requests: 100 × sum(keys) / Requests. */
  rate(keys: readonly MetricKey[], label: string, period = Duration.minutes(1)): MathExpression {
    const usingMetrics: Record<string, IMetric> = { requests: this.total("requests", "Sum", period) };
    // Catalogue keys are camelCase words, valid as metric math ids and unique within a graph.
    for (const key of keys) usingMetrics[key] = this.total(key, "Sum", period);
    const sum = keys.join(" + ");
    return new MathExpression({ expression: `100 * (${sum}) / requests`, usingMetrics, label, period });
  }
}
