/**
 * Publishes a request's metrics to CloudWatch as EMF through Powertools.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRICS, SERVICE_NAME, type MetricKey } from "./metric-catalogue.ts";
import type { MetricPoints, RequestMetrics } from "./request-metrics.ts";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Options of the publisher. */
export interface EmfPublisherOptions {
  readonly namespace: string;
  /** Adds the per-gateway-key dimension set. */
  readonly byKey: boolean;
}

/** Publishes one request's metrics in one EMF line. */
export type MetricsPublisher = (metrics: RequestMetrics) => void;

/** Creates the Powertools Metrics instance of an execution environment and a publisher over it. */
export function createEmfPublisher(options: EmfPublisherOptions): MetricsPublisher {
  // One instance per execution environment, as Powertools recommends; each
  // call adds and publishes one request's points, so nothing carries over.
  const metrics = new Metrics({ namespace: options.namespace, serviceName: SERVICE_NAME });
  const publish = ({ dimensions, values }: MetricPoints, requestId: string) => {
    metrics.addDimensions({}); // the `total` set: service only
    metrics.addDimensions({ provider: dimensions.provider, model: dimensions.model, endpoint: dimensions.endpoint });
    if (options.byKey && dimensions.keyId !== undefined) metrics.addDimensions({ keyId: dimensions.keyId });
    for (const key in values) {
      const definition = METRICS[key as MetricKey];
      // The catalogue's unit names are CloudWatch's, which are MetricUnit's values.
      metrics.addMetric(definition.name, definition.unit as Unit, values[key as MetricKey] as number);
    }
    metrics.addMetadata("gateway_request_id", requestId);
    metrics.publishStoredMetrics();
  };
  return (request) => {
    publish(request, request.requestId);
    // Each target's line carries its own provider and model.
    for (const target of request.targets ?? []) publish(target, request.requestId);
  };
}
