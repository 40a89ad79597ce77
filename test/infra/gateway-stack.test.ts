import { readFileSync } from "node:fs";
import { App, Validations } from "aws-cdk-lib";
import { Capture, Match } from "aws-cdk-lib/assertions";
import nag from "cdk-nag";
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, readGatewaySettings } from "../../infra/settings.ts";
import { nagViolations, synth } from "./synth.ts";

describe("the gateway stack", () => {
  const { template } = synth();

  it("runs the function on nodejs24.x, arm64, with streaming-friendly defaults", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 512,
      Timeout: 600,
      Environment: { Variables: Match.objectLike({ GATEWAY_SECRET_TTL_SECONDS: "300" }) },
    });
    // --enable-source-maps costs a cold start ~30-60 ms of CPU (README, Performance); the maps ship for decoding stacks offline.
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: Match.absent() }) },
    });
  });

  it("puts a Function URL in RESPONSE_STREAM mode in front of it, without IAM auth by default", () => {
    template.hasResourceProperties("AWS::Lambda::Url", { InvokeMode: "RESPONSE_STREAM", AuthType: "NONE" });
    // Public URLs need both permissions since October 2025.
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunctionUrl", FunctionUrlAuthType: "NONE" });
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunction" });
  });

  it("logs to its own log group with retention, kept when the stack is deleted", () => {
    template.hasResource("AWS::Logs::LogGroup", {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      LoggingConfig: { LogGroup: Match.objectLike({ Ref: Match.stringLikeRegexp("GatewayLogs") }) },
    });
  });

  it("creates a secret with a generated gateway key and tells the function where it is", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: "gatewayKey", PasswordLength: 48 }),
    });
    const secretRef = new Capture();
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ GATEWAY_SECRET_ID: secretRef }) },
    });
    expect(secretRef.asObject()).toEqual({ Ref: expect.stringMatching(/^Secret/) });
  });

  it("lets the function read that one secret, write its own logs and use its table, nothing else", () => {
    const statements = new Capture();
    template.hasResourceProperties("AWS::IAM::Policy", { PolicyDocument: { Statement: statements } });
    const list = statements.asArray() as { Action: string | string[]; Resource: unknown }[];
    const actions = list.flatMap((statement) => [statement.Action].flat()).sort();
    expect(actions).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
    ]);
    const secretStatement = list.find((statement) => [statement.Action].flat().includes("secretsmanager:GetSecretValue"));
    expect(secretStatement?.Resource).toEqual({ Ref: expect.stringMatching(/^Secret/) });
    template.resourcePropertiesCountIs("AWS::IAM::Role", { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it("outputs the URL with v1/, the secret ARN and the function name", () => {
    const url = new Capture();
    template.hasOutput("GatewayUrl", { Value: { "Fn::Join": ["", [{ "Fn::GetAtt": [Match.anyValue(), "FunctionUrl"] }, url]] } });
    expect(url.asString()).toBe("v1/");
    template.hasOutput("SecretArn", { Value: { Ref: Match.stringLikeRegexp("^Secret") } });
    template.hasOutput("FunctionName", { Value: { Ref: Match.stringLikeRegexp("GatewayFunction") } });
  });

  it("passes cdk-nag's AwsSolutions checks with every finding acknowledged in words", () => {
    // nagViolations synthesizes (which throws on an error) and reads the warnings too.
    expect(nagViolations()).toEqual([]);
  });

  it("has cdk-nag fail a stack with an unacknowledged finding (the check can fail)", async () => {
    const { Stack } = await import("aws-cdk-lib");
    const { Secret } = await import("aws-cdk-lib/aws-secretsmanager");
    const app = new App();
    new Secret(new Stack(app, "Bad"), "Unrotated");
    Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/automatic rotation/);
  });
});

describe("the cache, key-limit and object-owner table", () => {
  it("is absent unless caching, key limits or stored objects' owners are on", () => {
    synth({ "gateway:storedObjects": false }).template.resourceCountIs("AWS::DynamoDB::Table", 0);
  });

  it("keeps the owners of stored objects by default, with point-in-time recovery (a lost owner locks a key out of its objects)", () => {
    const { template } = synth();
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResourceProperties("AWS::DynamoDB::Table", { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    const variables = new Capture();
    template.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: variables } });
    // The owners' table alone leaves the cache and the key limits where their own settings put them.
    expect(variables.asObject()).toMatchObject({ GATEWAY_OBJECTS_TABLE_NAME: { Ref: expect.stringMatching(/^StoreTable/) } });
    expect(variables.asObject()).not.toHaveProperty("GATEWAY_TABLE_NAME");
    expect(nagViolations({})).toEqual([]);
  });

  it.each([["gateway:cache", true], ["gateway:cacheTtlSeconds", 300], ["gateway:keyLimits", true]])(
    "is created with %s = %j: on demand, TTL on expiresAt, and only GetItem/PutItem/UpdateItem on it",
    (key, value) => {
      const { template } = synth({ [key]: value, "gateway:storedObjects": false });
      template.hasResourceProperties("AWS::DynamoDB::Table", {
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      });
      const tableName = new Capture();
      template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: Match.objectLike({ GATEWAY_TABLE_NAME: tableName }) },
      });
      expect(tableName.asObject()).toEqual({ Ref: expect.stringMatching(/^StoreTable/) });
      const statements = new Capture();
      template.hasResourceProperties("AWS::IAM::Policy", { PolicyDocument: { Statement: statements } });
      const dynamo = (statements.asArray() as { Action: string[]; Resource: unknown }[]).find((statement) =>
        [statement.Action].flat().some((action) => action.startsWith("dynamodb:")),
      );
      expect([dynamo?.Action].flat().sort()).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
      expect([dynamo?.Resource].flat()).toEqual([{ "Fn::GetAtt": [expect.stringMatching(/^StoreTable/), "Arn"] }]);
    },
  );

  it("keeps cdk-nag clean with the table and an alarm topic", () => {
    expect(nagViolations({ "gateway:cache": true, "gateway:alarmEmail": "ops@example.com" })).toEqual([]);
  });
});

describe("key management (gateway:keyManagement)", () => {
  const budgetMetric = Match.objectLike({
    MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: "BudgetUsedPercent", Dimensions: [{ Name: "service", Value: "ai-gateway" }] }), Stat: "Maximum" }),
  });
  const { template } = synth({ "gateway:keyManagement": true, "gateway:alarmEmail": "ops@example.com" });

  it("keeps the keys in the stack's table, kept on stack deletion and backed up, and says where to the function and the operator", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
    });
    const keysTable = new Capture();
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({ GATEWAY_KEYS_TABLE: keysTable, GATEWAY_KEYS_CACHE_TTL_SECONDS: "30", GATEWAY_METRICS_BY_KEY: "true" }),
      },
    });
    expect(keysTable.asObject()).toEqual({ Ref: expect.stringMatching(/^StoreTable/) });
    template.hasOutput("KeyTableName", { Value: { Ref: Match.stringLikeRegexp("^StoreTable") } });
  });

  it("lets the function read keys but write only the cache's and the counters' items", () => {
    const statements = new Capture();
    template.hasResourceProperties("AWS::IAM::Policy", { PolicyDocument: { Statement: statements } });
    const dynamo = (statements.asArray() as { Action: string | string[]; Condition?: unknown }[]).filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith("dynamodb:")),
    );
    expect(dynamo.map((statement) => [[statement.Action].flat().sort(), statement.Condition])).toEqual([
      [["dynamodb:GetItem"], undefined],
      [["dynamodb:PutItem", "dynamodb:UpdateItem"], { "ForAllValues:StringNotLike": { "dynamodb:LeadingKeys": ["key:*"] } }],
    ]);
  });

  it("alarms when a key has spent 80% of a budget, notifying the topic", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: [budgetMetric],
      Threshold: 80,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: Match.stringLikeRegexp("AlarmsTopic") }],
    });
    synth().template.resourcePropertiesCountIs("AWS::CloudWatch::Alarm", { Metrics: [budgetMetric] }, 0);
  });

  it("takes the budget share and the key cache time from the context, and keeps cdk-nag clean", () => {
    const { template: custom } = synth({ "gateway:keyManagement": true, "gateway:alarmBudgetPercent": 95, "gateway:keysCacheTtlSeconds": 10 });
    custom.hasResourceProperties("AWS::CloudWatch::Alarm", { Metrics: [budgetMetric], Threshold: 95 });
    custom.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ GATEWAY_KEYS_CACHE_TTL_SECONDS: "10" }) } });
    expect(() => readGatewaySettings((key) => (key === "gateway:keysCacheTtlSeconds" ? 7200 : undefined))).toThrow(/keysCacheTtlSeconds must be an integer from 0 to 3600/);
    expect(nagViolations({ "gateway:keyManagement": true, "gateway:alarmEmail": "ops@example.com" })).toEqual([]);
  });
});

describe("settings from the context", () => {
  it("reads cdk.json's context as the documented defaults", () => {
    const { context } = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as { context: Record<string, unknown> };
    expect(readGatewaySettings((key) => context[key])).toEqual(DEFAULT_SETTINGS);
  });

  it("imports an existing secret by ARN instead of creating one", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:my-gateway-AbCdEf";
    const { template } = synth({ "gateway:secretArn": arn });
    template.resourceCountIs("AWS::SecretsManager::Secret", 0);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ GATEWAY_SECRET_ID: arn }) },
    });
    template.hasOutput("SecretArn", { Value: arn });
  });

  it("applies memory, timeout, retention, IAM auth and CORS", () => {
    const { template } = synth({
      "gateway:memorySize": 2048,
      "gateway:timeoutSeconds": 900,
      "gateway:logRetentionDays": 90,
      "gateway:authType": "AWS_IAM",
      "gateway:corsAllowedOrigins": ["https://app.example.com"],
    });
    template.hasResourceProperties("AWS::Lambda::Function", { MemorySize: 2048, Timeout: 900 });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 90 });
    template.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "AWS_IAM",
      Cors: Match.objectLike({ AllowOrigins: ["https://app.example.com"] }),
    });
  });

  it("deletes the log group with the stack when gateway:logRemovalPolicy is destroy", () => {
    synth({ "gateway:logRemovalPolicy": "destroy" }).template.hasResource("AWS::Logs::LogGroup", {
      DeletionPolicy: "Delete",
      UpdateReplacePolicy: "Delete",
    });
  });

  it("passes an https provider base URL to the function as OPENAI_BASE_URL", () => {
    synth({ "gateway:openaiBaseUrl": "https://llm-proxy.example.com:8443/openai/v1" }).template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ OPENAI_BASE_URL: "https://llm-proxy.example.com:8443/openai/v1" }) },
    });
  });

  it("sets GATEWAY_MOCK_PROVIDER=true only with gateway:mockProvider", () => {
    synth({ "gateway:mockProvider": true }).template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ GATEWAY_MOCK_PROVIDER: "true" }) },
    });
    synth({ "gateway:mockProvider": "false" }).template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Environment: { Variables: Match.objectLike({ GATEWAY_MOCK_PROVIDER: Match.absent() }) },
    });
    expect(readGatewaySettings(() => undefined).mockProvider).toBe(false);
  });

  it("never repeats a password given in gateway:openaiBaseUrl", () => {
    const read = () => readGatewaySettings((name) => (name === "gateway:openaiBaseUrl" ? "https://user:sk-hunter2@proxy.example.com/v1" : undefined));
    expect(read).toThrow(/openaiBaseUrl must not hold a user name or password/);
    expect(() => read()).not.toThrow(/hunter2/);
  });

  it.each([
    ["gateway:openaiBaseUrl", "http://api.openai.com/v1", /gateway:openaiBaseUrl must use https:\/\/.*"http:\/\/api\.openai\.com\/v1"/],
    ["gateway:openaiBaseUrl", "http://127.0.0.1:8080/v1", /gateway:openaiBaseUrl must use https:\/\//],
    ["gateway:openaiBaseUrl", "ftp://files.example.com", /gateway:openaiBaseUrl must use https:\/\//],
    ["gateway:openaiBaseUrl", "api.openai.com/v1", /gateway:openaiBaseUrl must be an absolute https:\/\/ URL/],
    ["gateway:openaiBaseUrl", "https://proxy.example.com/v1?api-version=1", /openaiBaseUrl must not have a query or fragment/],
    ["gateway:logRemovalPolicy", "snapshot", /logRemovalPolicy must be "retain" or "destroy"/],
    ["gateway:mockProvider", "on", /gateway:mockProvider must be true or false/],
    ["gateway:memorySize", 64, /memorySize must be an integer from 128/],
    ["gateway:timeoutSeconds", 1000, /timeoutSeconds must be an integer from 10 to 900/],
    ["gateway:logRetentionDays", 2, /logRetentionDays must be one of/],
    ["gateway:authType", "OPEN", /authType must be "NONE" or "AWS_IAM"/],
    ["gateway:secretArn", "my-secret", /secretArn must be a complete Secrets Manager secret ARN/],
    ["gateway:corsAllowedOrigins", [1], /corsAllowedOrigins must be a list of strings/],
    ["gateway:cache", "yes", /gateway:cache must be true or false/],
    ["gateway:cacheTtlSeconds", -5, /cacheTtlSeconds must be an integer/],
    ["gateway:alarmEmail", "not-an-address", /alarmEmail must be an e-mail address/],
    ["gateway:metricsNamespace", "has space", /metricsNamespace must be/],
    ["gateway:prices", [1], /prices must be an object/],
  ])("rejects %s = %j with a clear error", (key, value, message) => {
    expect(() => readGatewaySettings((name) => (name === key ? value : undefined))).toThrow(message);
  });
});
