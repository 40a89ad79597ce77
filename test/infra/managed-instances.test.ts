import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import nag from "cdk-nag";
import { describe, expect, it } from "vitest";
import { GatewayStack } from "../../infra/gateway-stack.ts";
import { readGatewaySettings } from "../../infra/settings.ts";

function synth(context: Record<string, unknown>): Template {
  const app = new App({ context });
  const stack = new GatewayStack(app, "ManagedGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
  return Template.fromStack(stack);
}

const SUBNETS = ["subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88"];
const GROUPS = ["sg-0123456789abcdef0"];

describe("gateway:managedInstances", () => {
  it("is off by default: no capacity provider, the Function URL on the function itself", () => {
    const template = synth({});
    template.resourceCountIs("AWS::Lambda::CapacityProvider", 0);
    template.hasResourceProperties("AWS::Lambda::Url", { InvokeMode: "RESPONSE_STREAM", Qualifier: Match.absent() });
  });

  describe("on (true)", () => {
    const template = synth({ "gateway:managedInstances": true });

    it("runs the function on a new arm64 capacity provider: 2 GB, 1 vCPU, 64 invocations at once", () => {
      template.hasResourceProperties("AWS::Lambda::CapacityProvider", { InstanceRequirements: { Architectures: ["arm64"] } });
      template.hasResourceProperties("AWS::Lambda::Function", {
        MemorySize: 2048,
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: {
            CapacityProviderArn: { "Fn::GetAtt": [Match.stringLikeRegexp("CapacityProvider"), "Arn"] },
            ExecutionEnvironmentMemoryGiBPerVCpu: 2,
            PerExecutionEnvironmentMaxConcurrency: 64,
          },
        },
      });
    });

    it("gives the runtime its worker count and a libuv pool with a thread for each worker and 4 to spare", () => {
      template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: Match.objectLike({ AWS_LAMBDA_NODEJS_WORKER_COUNT: "8", UV_THREADPOOL_SIZE: "12" }) },
      });
    });

    it("streams through a Function URL on the published version's alias", () => {
      template.hasResourceProperties("AWS::Lambda::Alias", { Name: "live", FunctionVersion: { "Fn::GetAtt": [Match.anyValue(), "Version"] } });
      template.hasResourceProperties("AWS::Lambda::Url", { InvokeMode: "RESPONSE_STREAM", Qualifier: "live" });
    });

    it("creates a VPC with private subnets and one NAT gateway for the instances", () => {
      template.resourceCountIs("AWS::EC2::VPC", 1);
      template.resourceCountIs("AWS::EC2::NatGateway", 1);
      template.hasResourceProperties("AWS::EC2::SecurityGroup", { SecurityGroupIngress: Match.absent() });
    });
  });

  it("uses the subnets and security groups from the context instead of creating a VPC", () => {
    const template = synth({ "gateway:managedInstances": { subnetIds: SUBNETS, securityGroupIds: GROUPS } });
    template.resourceCountIs("AWS::EC2::VPC", 0);
    template.hasResourceProperties("AWS::Lambda::CapacityProvider", { VpcConfig: { SubnetIds: SUBNETS, SecurityGroupIds: GROUPS } });
  });

  it("uses an existing capacity provider, and follows the memory: 8 GB at 4 GiB per vCPU is 2 vCPUs, 16 workers", () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:shared-gateways";
    const template = synth({ "gateway:managedInstances": { capacityProviderArn: arn, memoryGiBPerVCpu: 4 }, "gateway:memorySize": 8192 });
    template.resourceCountIs("AWS::Lambda::CapacityProvider", 0);
    template.hasResourceProperties("AWS::Lambda::Function", {
      MemorySize: 8192,
      CapacityProviderConfig: { LambdaManagedInstancesCapacityProviderConfig: { CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: 128 } },
      Environment: { Variables: Match.objectLike({ AWS_LAMBDA_NODEJS_WORKER_COUNT: "16", UV_THREADPOOL_SIZE: "20" }) },
    });
  });

  it.each([
    [{ "gateway:managedInstances": true, "gateway:memorySize": 1024 }, /gateway:memorySize must be at least 2048/],
    [{ "gateway:managedInstances": { memoryGiBPerVCpu: 4 }, "gateway:memorySize": 6144 }, /multiple of 4096/],
    [{ "gateway:managedInstances": { subnetIds: SUBNETS } }, /both subnetIds and securityGroupIds/],
    [{ "gateway:managedInstances": { subnetIds: ["vpc-123"], securityGroupIds: GROUPS } }, /subnetIds must be 1 to 16 ids/],
    [{ "gateway:managedInstances": { memoryGiBPerVCpu: 3 } }, /memoryGiBPerVCpu must be 2, 4 or 8/],
    [{ "gateway:managedInstances": { maxConcurrency: 0 } }, /maxConcurrency must be an integer from 1 to 1600/],
    [{ "gateway:managedInstances": { vpc: "x" } }, /unknown fields vpc/],
    [{ "gateway:managedInstances": "yes" }, /must be true, false or an object/],
  ])("refuses %j at synth", (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });

  it("passes cdk-nag's AwsSolutions checks with every finding acknowledged in words", () => {
    const outdir = mkdtempSync(join(tmpdir(), "nag-managed-"));
    const app = new App({ outdir, context: { "gateway:managedInstances": true } });
    new GatewayStack(app, "NagManagedGateway", { settings: readGatewaySettings((key) => app.node.tryGetContext(key)) });
    Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });
});
