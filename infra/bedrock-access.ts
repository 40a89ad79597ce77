/**
 * The IAM statements that let the function invoke exactly the configured
 * Bedrock models, and nothing else: no `*` in any resource.
 *
 * - A foundation model id (`anthropic.claude-3-haiku-20240307-v1:0`) is its
 *   foundation-model ARN in Bedrock's region.
 * - A cross-region inference profile id (`us.anthropic.claude-sonnet-4-…`)
 *   is its inference-profile ARN, plus its foundation model in every
 *   destination region of its geography, usable only through a configured
 *   profile (`bedrock:InferenceProfileArn`): Bedrock checks the caller's
 *   permission on the model in the region it routes to. A `global.` profile's
 *   model is granted in Bedrock's region and with the region-less ARN AWS
 *   documents for global cross-region inference.
 * - An inference profile ARN is granted as it is; the models an application
 *   inference profile copies from must be configured too.
 * `bedrock:InvokeModel` covers Converse and InvokeModel,
 * `bedrock:InvokeModelWithResponseStream` ConverseStream.
 */
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";

/** Where the grants point. */
export interface BedrockGrantScope {
  readonly partition: string;
  readonly account: string;
  /** Bedrock's region: the source region of every call. */
  readonly region: string;
  readonly destinationRegions: Readonly<Record<string, readonly string[]>>;
}

const ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];

/** The statements for `models`. */
export function bedrockInvokeStatements(models: readonly string[], scope: BedrockGrantScope): PolicyStatement[] {
  const direct = new Set<string>();
  const profiles = new Set<string>();
  const routed = new Set<string>();
  for (const model of models) {
    if (model.startsWith("arn:")) {
      (model.includes(":foundation-model/") ? direct : profiles).add(model);
      // A system-defined profile given by its ARN routes like its id.
      const profileId = /:inference-profile\/(.+)$/.exec(model)?.[1];
      if (profileId !== undefined) for (const arn of routedModels(profileId, scope)) routed.add(arn);
      continue;
    }
    const routes = routedModels(model, scope);
    if (routes.length > 0) {
      profiles.add(`arn:${scope.partition}:bedrock:${scope.region}:${scope.account}:inference-profile/${model}`);
      for (const arn of routes) routed.add(arn);
    } else {
      direct.add(foundationModel(scope, scope.region, model));
    }
  }
  const statements = [new PolicyStatement({ effect: Effect.ALLOW, actions: ACTIONS, resources: [...direct, ...profiles] })];
  if (routed.size > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ACTIONS,
        resources: [...routed],
        conditions: { ArnEquals: { "bedrock:InferenceProfileArn": [...profiles] } },
      }),
    );
  }
  return statements;
}

/** The foundation-model ARNs a cross-region profile id routes to; none for an id that is not one. */
function routedModels(profileId: string, scope: BedrockGrantScope): string[] {
  const [prefix, ...rest] = profileId.split(".");
  const base = rest.join(".");
  if (prefix === "global") return [foundationModel(scope, scope.region, base), foundationModel(scope, "", base)];
  const regions = prefix === undefined ? undefined : scope.destinationRegions[prefix];
  return regions === undefined ? [] : regions.map((region) => foundationModel(scope, region, base));
}

function foundationModel(scope: BedrockGrantScope, region: string, id: string): string {
  return `arn:${scope.partition}:bedrock:${region}::foundation-model/${id}`;
}
