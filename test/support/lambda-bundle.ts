/**
 * The gateway function's bundle exactly as `cdk deploy` would upload it: the
 * stack is synthesized (offline, esbuild bundling) and the asset folder the
 * template references is returned.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings } from "../../infra/settings.ts";

/** Where the bundle is, and the handler setting to run it. */
export interface LambdaBundle {
  /** The asset folder: LAMBDA_TASK_ROOT. */
  readonly taskRoot: string;
  /** `_HANDLER`, e.g. `index.handler`. */
  readonly handler: string;
  /** The function's environment in the template (values that are not tokens). */
  readonly environment: Record<string, string>;
  /** On Lambda Managed Instances, the invocations one execution environment serves at once (AWS_LAMBDA_MAX_CONCURRENCY there). */
  readonly maxConcurrency?: number;
}

/** Synthesizes the gateway stack into a temporary folder and finds the function's code asset. */
export function synthesizeGatewayBundle(context: Record<string, unknown> = {}): LambdaBundle {
  const outdir = mkdtempSync(join(tmpdir(), "gateway-synth-"));
  const app = new App({ outdir, context });
  const stack = new GatewayStack(app, "BundleUnderTest", {
    settings: readGatewaySettings((key) => app.node.tryGetContext(key)),
  });
  app.synth();
  const template = JSON.parse(readFileSync(join(outdir, `${stack.templateFile}`), "utf8")) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const fn = Object.values(template.Resources).find(
    (resource) => resource.Type === "AWS::Lambda::Function" && (resource.Properties.Runtime as string).startsWith("nodejs"),
  );
  if (fn === undefined) throw new Error("the stack has no Node.js function");
  const code = fn.Properties.Code as { S3Key: string };
  const assetHash = code.S3Key.replace(/\.zip$/, "");
  const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const capacity = fn.Properties.CapacityProviderConfig as
    | { LambdaManagedInstancesCapacityProviderConfig: { PerExecutionEnvironmentMaxConcurrency?: number } }
    | undefined;
  return {
    maxConcurrency: capacity?.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency,
    taskRoot: join(outdir, `asset.${assetHash}`),
    handler: fn.Properties.Handler as string,
    environment: Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === "string")),
  };
}
