/**
 * The gateway's stack: its secret, its streaming function behind a Function
 * URL, its dashboard and alarms, and the outputs a user needs to call it.
 */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret, type ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { bedrockInvokeStatements } from "./bedrock-access.ts";
import { GatewayAlarms } from "./constructs/gateway-alarms.ts";
import { GatewayDashboard } from "./constructs/gateway-dashboard.ts";
import { GatewayMetrics } from "./constructs/gateway-metrics.ts";
import { GatewayTable } from "./constructs/gateway-table.ts";
import { StreamingFunction } from "./constructs/streaming-function.ts";
import { gatewayCors } from "./gateway-cors.ts";
import type { GatewaySettings } from "./settings.ts";

/** Props of the gateway stack. */
export interface GatewayStackProps extends StackProps {
  readonly settings: GatewaySettings;
}

/** The gateway: secret, function, Function URL, outputs. */
export class GatewayStack extends Stack {
  readonly secret: ISecret;
  readonly gateway: StreamingFunction;
  readonly dashboard: GatewayDashboard;
  readonly alarms: GatewayAlarms;
  /** The cache, quota and object-owner table, when caching, key limits, stored objects' owners or key management are on (then it holds the keys too). */
  readonly table?: GatewayTable;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.secret = settings.secretArn === undefined ? this.createSecret() : Secret.fromSecretCompleteArn(this, "Secret", settings.secretArn);

    this.gateway = new StreamingFunction(this, "Gateway", {
      entry: "functions/gateway/handler.ts",
      memorySize: settings.memorySize,
      timeout: Duration.seconds(settings.timeoutSeconds),
      logRetention: settings.logRetentionDays as RetentionDays,
      logRemovalPolicy: settings.logRemovalPolicy === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      reservedConcurrency: settings.reservedConcurrency === false ? undefined : settings.reservedConcurrency,
      authType: settings.authType,
      cors: gatewayCors(settings.corsAllowedOrigins),
      managedInstances: settings.managedInstances,
      environment: {
        GATEWAY_SECRET_ID: this.secret.secretArn,
        GATEWAY_SECRET_TTL_SECONDS: String(settings.secretTtlSeconds),
        GATEWAY_TOTAL_TIMEOUT_MS: String(settings.timeoutSeconds * 1000),
        GATEWAY_METRICS_NAMESPACE: settings.metricsNamespace,
        GATEWAY_METRICS_BY_KEY: String(settings.metricsByKey),
        GATEWAY_CACHE_TTL_SECONDS: String(settings.cacheTtlSeconds),
        ...(settings.openaiBaseUrl === undefined ? {} : { OPENAI_BASE_URL: settings.openaiBaseUrl }),
        ...(settings.prices === undefined ? {} : { GATEWAY_PRICES: JSON.stringify(settings.prices) }),
        ...(settings.mockProvider ? { GATEWAY_MOCK_PROVIDER: "true" } : {}),
      },
    });
    this.secret.grantRead(this.gateway.function);
    this.addTranslatedProviders(settings);

    const cacheOrLimits = settings.cache || settings.cacheTtlSeconds > 0 || settings.keyLimits || settings.keyManagement;
    if (cacheOrLimits || settings.storedObjects) {
      this.table = new GatewayTable(this, "Store", { holdsKeys: settings.keyManagement, keepsOwners: settings.storedObjects });
      this.table.grantReadWrite(this.gateway.function);
      // The owners alone do not move the cache and the limits out of memory: only their own settings do.
      if (cacheOrLimits) this.gateway.function.addEnvironment("GATEWAY_TABLE_NAME", this.table.table.tableName);
      if (settings.storedObjects) this.gateway.function.addEnvironment("GATEWAY_OBJECTS_TABLE_NAME", this.table.table.tableName);
    }
    if (settings.keyManagement && this.table !== undefined) {
      this.gateway.function.addEnvironment("GATEWAY_KEYS_TABLE", this.table.table.tableName);
      this.gateway.function.addEnvironment("GATEWAY_KEYS_CACHE_TTL_SECONDS", String(settings.keysCacheTtlSeconds));
      new CfnOutput(this, "KeyTableName", {
        description: "DynamoDB table of the gateway keys: npm run keys -- <command> --table <this name>",
        value: this.table.table.tableName,
      });
    }

    const metrics = new GatewayMetrics(settings.metricsNamespace);
    this.dashboard = new GatewayDashboard(this, "Dashboard", { metrics, function: this.gateway.function, byKey: settings.metricsByKey });
    this.alarms = new GatewayAlarms(this, "Alarms", {
      metrics,
      function: this.gateway.function,
      serverErrorRatePercent: settings.alarmServerErrorRatePercent,
      p99LatencyMs: settings.alarmP99LatencyMs,
      authFailuresPerFiveMinutes: settings.alarmAuthFailuresPerFiveMinutes,
      budgetPercent: settings.keyManagement ? settings.alarmBudgetPercent : undefined,
      createTopic: settings.alarmTopic,
      email: settings.alarmEmail,
    });

    new CfnOutput(this, "GatewayUrl", {
      description: "OpenAI base URL of the gateway (the Function URL with v1/)",
      value: Fn.join("", [this.gateway.url.url, "v1/"]),
    });
    new CfnOutput(this, "SecretArn", { description: "Secret with provider keys and gateway keys", value: this.secret.secretArn });
    new CfnOutput(this, "FunctionName", { value: this.gateway.function.functionName });
    new CfnOutput(this, "DashboardUrl", { description: "CloudWatch dashboard of the gateway", value: this.dashboard.url });
    if (this.alarms.topic !== undefined) new CfnOutput(this, "AlarmTopicArn", { value: this.alarms.topic.topicArn });
  }

  /**
   * Bedrock permissions for exactly the models `gateway:bedrockModels` names.
   * The function's Bedrock providers come from the secret's `providers` (or
   * `GATEWAY_PROVIDERS`); IAM must be known at deploy time, so the context
   * grants and the secret configures.
   */
  private addTranslatedProviders(settings: GatewaySettings): void {
    if (settings.bedrock === undefined) return;
    const region = settings.bedrock.region ?? this.region;
    const scope = { partition: this.partition, account: this.account, region, destinationRegions: settings.bedrock.destinationRegions };
    for (const statement of bedrockInvokeStatements(settings.bedrock.models, scope)) this.gateway.function.addToRolePolicy(statement);
  }

  /** A new secret holding a generated gateway key, so the gateway is closed from its first deploy. */
  private createSecret(): Secret {
    const secret = new Secret(this, "Secret", {
      description: "AI gateway: provider keys (openai.apiKey) and gateway keys (gatewayKey, gatewayKeys)",
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ allowPassthrough: false }),
        generateStringKey: "gatewayKey",
        passwordLength: 48,
        excludePunctuation: true,
      },
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The secret holds third-party provider API keys that Secrets Manager cannot rotate; operators rotate them by writing a new value, which the function picks up within its cache TTL.",
    });
    return secret;
  }
}
