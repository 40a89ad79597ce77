/**
 * A Node.js Lambda function for response streaming, with its defaults built
 * in: nodejs24.x on arm64, an ESM bundle (minified, source maps, every
 * dependency inside), its own log group with retention (kept when the stack
 * is deleted unless told otherwise), a role that may write only to that log
 * group, and a Function URL in RESPONSE_STREAM mode.
 */
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  Function as LambdaFunction,
  FunctionUrlAuthType,
  InvokeMode,
  Runtime,
  type FunctionUrl,
  type FunctionUrlCorsOptions,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { FunctionUrlAuth, ManagedInstancesSettings } from "../settings.ts";
import { functionCode } from "./function-bundle.ts";
import { ManagedInstances } from "./managed-instances.ts";

/** Options of a streaming function. */
export interface StreamingFunctionProps {
  /** Entry file, relative to the project root (e.g. `functions/gateway/handler.ts`). */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** What deleting the stack does to the log group (default: keep it, with the evidence it holds). */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Reserved concurrency; none leaves the function on the account's unreserved pool. */
  readonly reservedConcurrency?: number;
  readonly environment: Record<string, string>;
  readonly authType: FunctionUrlAuth;
  /** CORS of the Function URL; none turns CORS off. */
  readonly cors?: FunctionUrlCorsOptions;
  /** Run on Lambda Managed Instances (the Function URL then invokes a published version's alias). */
  readonly managedInstances?: ManagedInstancesSettings;
}

/** The project root, where package-lock.json lives. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A streaming Lambda function with its log group and Function URL. */
export class StreamingFunction extends Construct {
  readonly function: LambdaFunction;
  readonly url: FunctionUrl;
  readonly logGroup: LogGroup;
  /** The capacity provider placement, on Managed Instances. */
  readonly managedInstances?: ManagedInstances;

  constructor(scope: Construct, id: string, props: StreamingFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, "Logs", { retention: props.logRetention, removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN });
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: "Runs the gateway function: writes its own logs, reads what it is granted.",
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new LambdaFunction(this, "Function", {
      code: functionCode(`${PROJECT_ROOT}${props.entry}`),
      handler: "index.handler",
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role,
      logGroup: this.logGroup,
      environment: props.environment,
    });
    if (props.managedInstances !== undefined) {
      this.managedInstances = new ManagedInstances(this, "ManagedInstances", {
        function: this.function,
        settings: props.managedInstances,
        memorySize: props.memorySize,
      });
    }
    this.url = (this.managedInstances?.alias ?? this.function).addFunctionUrl({
      authType: props.authType === "AWS_IAM" ? FunctionUrlAuthType.AWS_IAM : FunctionUrlAuthType.NONE,
      invokeMode: InvokeMode.RESPONSE_STREAM,
      cors: props.cors,
    });
  }
}
