/**
 * Reading Embedded Metric Format lines, as CloudWatch would.
 */

/** One EMF document. */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit?: string }[];
    }[];
  };
  readonly [field: string]: unknown;
}

/** The EMF documents among log lines (other lines are skipped). */
export function parseEmfLines(lines: readonly string[]): EmfDocument[] {
  const documents: EmfDocument[] = [];
  for (const line of lines) {
    const start = line.indexOf('{"_aws"');
    if (start === -1) continue;
    try {
      documents.push(JSON.parse(line.slice(start)) as EmfDocument);
    } catch {
      // Not a whole JSON document: not EMF.
    }
  }
  return documents;
}

/** Every `namespace|metric|dimension,names` triple the documents define (dimension names sorted). */
export function emittedMetricKeys(documents: readonly EmfDocument[]): Set<string> {
  const keys = new Set<string>();
  for (const document of documents) {
    for (const directive of document._aws.CloudWatchMetrics) {
      for (const dimensions of directive.Dimensions) {
        for (const metric of directive.Metrics) keys.add(metricKey(directive.Namespace, metric.Name, dimensions));
      }
    }
  }
  return keys;
}

/** The key of a metric with its dimension names. */
export function metricKey(namespace: string, name: string, dimensions: readonly string[]): string {
  return `${namespace}|${name}|${[...dimensions].sort().join(",")}`;
}
