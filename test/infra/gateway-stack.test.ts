import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Capture, Match, Template } from "aws-cdk-lib/assertions";
import nag from "cdk-nag";
import { describe, expect, it } from "vitest";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings } from "../../infra/settings.ts";

function synth(context: Record<string, unknown> = {}): { template: Template; stack: GatewayStack; app: App } {
  const app = new App({ context });
  const stack = new GatewayStack(app, "TestGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
  return { template: Template.fromStack(stack), stack, app };
}

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

  it("logs to its own log group with retention", () => {
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
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

  it("lets the function read that one secret and write its own logs, nothing else", () => {
    const statements = new Capture();
    template.hasResourceProperties("AWS::IAM::Policy", { PolicyDocument: { Statement: statements } });
    const list = statements.asArray() as { Action: string | string[]; Resource: unknown }[];
    const actions = list.flatMap((statement) => [statement.Action].flat()).sort();
    expect(actions).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]);
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
    const outdir = mkdtempSync(join(tmpdir(), "nag-"));
    const app = new App({ outdir });
    new GatewayStack(app, "NagGateway", { settings: readGatewaySettings(() => undefined) });
    Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    // Warnings do not fail a synth; the report must hold none either.
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { violations: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
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

describe("the cache and key-limit table", () => {
  it("is absent unless caching or key limits are on", () => {
    synth().template.resourceCountIs("AWS::DynamoDB::Table", 0);
  });

  it.each([["gateway:cache", true], ["gateway:cacheTtlSeconds", 300], ["gateway:keyLimits", true]])(
    "is created with %s = %j: on demand, TTL on expiresAt, and only GetItem/PutItem/UpdateItem on it",
    (key, value) => {
      const { template } = synth({ [key]: value });
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
    const outdir = mkdtempSync(join(tmpdir(), "nag-"));
    const app = new App({ outdir, context: { "gateway:cache": true, "gateway:alarmEmail": "ops@example.com" } });
    new GatewayStack(app, "NagFullGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
    Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });
});

describe("settings from the context", () => {
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

  it.each([
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
