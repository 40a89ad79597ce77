import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings, SettingsError } from "../../infra/settings.ts";
import { nagViolations, synth } from "./synth.ts";

const MODELS = [
  "anthropic.claude-3-haiku-20240307-v1:0",
  "eu.anthropic.claude-sonnet-4-20250514-v1:0",
  "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
  "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3",
];

/** The stack in a concrete account and region, so ARNs are plain strings. */
function synthIn(context: Record<string, unknown>): Template {
  const app = new App({ context });
  const stack = new GatewayStack(app, "EnvGateway", {
    env: { account: "123456789012", region: "eu-west-1" },
    settings: readGatewaySettings((key) => app.node.tryGetContext(key)),
  });
  return Template.fromStack(stack);
}

/** Every statement of the function role's policies, ARNs joined with the partition as "aws". */
function statements(template: Template): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
    (policy) => plain((policy as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument.Statement) as [],
  );
}

/** A template value with `Fn::Join` of strings and the partition reference resolved to a string. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record.Ref === "AWS::Partition") return "aws";
  const join = record["Fn::Join"] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map(plain).join(join[0]);
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, plain(item)]));
}

describe("Bedrock and Anthropic in the stack", () => {
  it("grants nothing on Bedrock and sets no provider variables unless configured", () => {
    const { template } = synth();
    expect(JSON.stringify(statements(template))).not.toContain("bedrock:");
    const variables = Object.values(template.findResources("AWS::Lambda::Function"))[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(Object.keys(variables.Properties.Environment.Variables)).not.toEqual(expect.arrayContaining(["BEDROCK_REGION"]));
    expect(Object.keys(variables.Properties.Environment.Variables)).not.toContain("ANTHROPIC_BASE_URL");
  });

  it("grants invoke on exactly the configured models and profiles, their routed models only through a profile", () => {
    const template = synthIn({ "gateway:bedrockModels": MODELS });
    const bedrock = statements(template).filter((statement) => JSON.stringify(statement.Action).includes("bedrock:"));
    expect(bedrock).toEqual([
      {
        Effect: "Allow",
        Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        Resource: [
          "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
          "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0",
          "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
          "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3",
        ],
      },
      {
        Effect: "Allow",
        Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        Resource: [
          ...["eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3"].map(
            (region) => `arn:aws:bedrock:${region}::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0`,
          ),
          "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
          "arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        ],
        Condition: {
          ArnEquals: {
            "bedrock:InferenceProfileArn": [
              "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0",
              "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
              "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3",
            ],
          },
        },
      },
    ]);
    expect(JSON.stringify(bedrock)).not.toContain("*");
  });

  it("grants Bedrock without configuring it: the function's providers come from the secret, not the stack", () => {
    const template = synthIn({ "gateway:bedrockModels": "amazon.titan-embed-text-v2:0, us.anthropic.claude-sonnet-4-20250514-v1:0", "gateway:bedrockRegion": "us-east-1" });
    const variables = Object.values(template.findResources("AWS::Lambda::Function")).flatMap((fn) => Object.keys((fn as { Properties: { Environment?: { Variables?: object } } }).Properties.Environment?.Variables ?? {}));
    expect(variables.filter((name) => /BEDROCK|ANTHROPIC|GATEWAY_PROVIDERS/.test(name))).toEqual([]);
  });

  it("takes other destination regions for a geography", () => {
    const template = synthIn({ "gateway:bedrockModels": ["us.amazon.nova-pro-v1:0"], "gateway:bedrockDestinationRegions": { us: ["us-east-1", "us-west-2"] } });
    const routed = statements(template).find((statement) => statement.Condition !== undefined);
    expect(routed?.Resource).toEqual(["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0"]);
  });

  it("keeps cdk-nag clean with Bedrock permissions", () => {
    expect(nagViolations({ "gateway:bedrockModels": MODELS })).toEqual([]);
  });

  it.each([
    [{ "gateway:bedrockModels": ["bad model id"] }, /gateway:bedrockModels must be a list/],
    [{ "gateway:bedrockModels": ["m"], "gateway:bedrockRegion": "Ireland" }, /gateway:bedrockRegion must be an AWS region/],
    [{ "gateway:bedrockModels": ["m"], "gateway:bedrockDestinationRegions": { us: [] } }, /bedrockDestinationRegions.us must be a non-empty list/],
  ])("refuses %j at synth", (context, message) => {
    expect(() => synth(context)).toThrow(SettingsError);
    expect(() => synth(context)).toThrow(message);
  });
});
