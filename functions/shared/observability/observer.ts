/**
 * What happens when a request has finished: its metrics are computed once and
 * go to CloudWatch (EMF) and to the structured log.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ObservabilityConfig } from "../config/config.ts";
import type { RequestSummary } from "./request-summary.ts";
import { createEmfPublisher } from "./emf-publisher.ts";
import { requestLogFields } from "./request-log.ts";
import { measureRequest, ModelDimensionLimiter } from "./request-metrics.ts";

/** Records a finished request. */
export type RequestObserver = (summary: RequestSummary) => void;

/** Creates the observer of an execution environment: one metrics instance, one bounded model list. */
export function createRequestObserver(config: ObservabilityConfig, logger: Logger): RequestObserver {
  const publish = createEmfPublisher({ namespace: config.metricsNamespace, byKey: config.metricsByKey });
  const models = new ModelDimensionLimiter();
  return (summary) => {
    const metrics = measureRequest(summary, models);
    publish(metrics);
    const fields = requestLogFields(summary, metrics);
    if (summary.status >= 500 || summary.outcome === "upstream_failure" || summary.outcome === "timeout") logger.warn("request failed", fields);
    else logger.info("request", fields);
  };
}
