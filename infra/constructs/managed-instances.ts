/**
 * Places the gateway function on Lambda Managed Instances: a capacity
 * provider (new, or an existing one by ARN) in a VPC (given by subnet and
 * security group ids, or created), and a published version behind an alias
 * for the Function URL, as in AWS's own example of response streaming on
 * Managed Instances (aws-lambda-web-adapter, examples/fastapi-response-streaming-lmi).
 *
 * The function's environment gets what the Node.js runtime needs there
 * (test/lambda/managed-instances.test.ts shows why):
 * - `AWS_LAMBDA_NODEJS_WORKER_COUNT`: the runtime's own default, 8 worker
 *   threads per vCPU, stated so the next setting can follow it;
 * - `UV_THREADPOOL_SIZE`: every worker thread holds a thread of Node's libuv
 *   pool while it waits for its next invocation (the runtime client's native
 *   `next()` is an N-API AsyncWorker), so with the default 4 pool threads and
 *   8 workers the function's own DNS lookups, file reads and zlib work wait
 *   for invocations that may never come. The pool gets 4 threads more than
 *   there are workers.
 */
import { Validations } from "aws-cdk-lib";
import { IpAddresses, SecurityGroup, Subnet, SubnetType, Vpc, type ISecurityGroup, type ISubnet } from "aws-cdk-lib/aws-ec2";
import { Alias, Architecture, CapacityProvider, CfnFunction, type Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { ManagedInstancesSettings } from "../settings.ts";

/** The runtime client's worker threads per vCPU when AWS_LAMBDA_NODEJS_WORKER_COUNT is unset (aws-lambda-ric 4.0.2, getWorkerCount). */
export const WORKERS_PER_VCPU = 8;
/** Lambda's default per-environment concurrency for Node.js: 64 per vCPU (AWS docs, "Node.js runtime for Lambda Managed Instances"). */
export const NODE_CONCURRENCY_PER_VCPU = 64;
/** Pool threads kept for the function's own work, on top of one per worker thread (libuv's default pool size). */
const SPARE_POOL_THREADS = 4;

/** What the runtime environment of one execution environment looks like. */
export interface ManagedInstancesEnvironment {
  readonly vCpus: number;
  readonly workerThreads: number;
  readonly threadPoolSize: number;
  readonly maxConcurrency: number;
}

/** The worker threads, pool size and concurrency of an execution environment of `memorySize` MB. */
export function managedInstancesEnvironment(settings: ManagedInstancesSettings, memorySize: number): ManagedInstancesEnvironment {
  const vCpus = memorySize / (settings.memoryGiBPerVCpu * 1024);
  const workerThreads = WORKERS_PER_VCPU * vCpus;
  return {
    vCpus,
    workerThreads,
    threadPoolSize: Math.min(1024, workerThreads + SPARE_POOL_THREADS),
    maxConcurrency: settings.maxConcurrency ?? NODE_CONCURRENCY_PER_VCPU * vCpus,
  };
}

/** Options of the placement. */
export interface ManagedInstancesProps {
  readonly function: LambdaFunction;
  readonly settings: ManagedInstancesSettings;
  readonly memorySize: number;
}

/** The capacity provider, its networking, and the alias the Function URL invokes. */
export class ManagedInstances extends Construct {
  readonly capacityProviderArn: string;
  /** The published version's alias (`live`): what the Function URL invokes. */
  readonly alias: Alias;
  readonly environment: ManagedInstancesEnvironment;

  constructor(scope: Construct, id: string, props: ManagedInstancesProps) {
    super(scope, id);
    const { settings } = props;
    this.environment = managedInstancesEnvironment(settings, props.memorySize);
    props.function.addEnvironment("AWS_LAMBDA_NODEJS_WORKER_COUNT", String(this.environment.workerThreads));
    props.function.addEnvironment("UV_THREADPOOL_SIZE", String(this.environment.threadPoolSize));

    this.capacityProviderArn = settings.capacityProviderArn ?? this.createCapacityProvider(settings);
    const cfnFunction = props.function.node.defaultChild as CfnFunction;
    cfnFunction.capacityProviderConfig = {
      lambdaManagedInstancesCapacityProviderConfig: {
        capacityProviderArn: this.capacityProviderArn,
        perExecutionEnvironmentMaxConcurrency: this.environment.maxConcurrency,
        executionEnvironmentMemoryGiBPerVCpu: settings.memoryGiBPerVCpu,
      },
    };
    this.alias = new Alias(this, "Live", { aliasName: "live", version: props.function.currentVersion });
  }

  private createCapacityProvider(settings: ManagedInstancesSettings): string {
    const { subnets, securityGroups } = this.networking(settings);
    const provider = new CapacityProvider(this, "CapacityProvider", {
      subnets,
      securityGroups,
      architectures: [Architecture.ARM_64],
      maxVCpuCount: settings.maxVCpuCount,
    });
    Validations.of(provider).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator]",
      reason: "The capacity provider's operator role uses AWSLambdaManagedEC2ResourceOperator, the managed policy AWS documents for it.",
    });
    return provider.capacityProviderArn;
  }

  /** The given subnets and security groups, or a new VPC: private subnets in up to three zones, one NAT gateway for the providers. */
  private networking(settings: ManagedInstancesSettings): { subnets: ISubnet[]; securityGroups: ISecurityGroup[] } {
    if (settings.subnetIds !== undefined && settings.securityGroupIds !== undefined) {
      return {
        subnets: settings.subnetIds.map((subnetId, index) => Subnet.fromSubnetId(this, `Subnet${index}`, subnetId)),
        securityGroups: settings.securityGroupIds.map((groupId, index) => SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${index}`, groupId)),
      };
    }
    const vpc = new Vpc(this, "Vpc", {
      ipAddresses: IpAddresses.cidr("10.80.0.0/16"),
      maxAzs: 3,
      natGateways: 1,
      subnetConfiguration: [
        { name: "public", subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: "instances", subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
    });
    Validations.of(vpc).acknowledge({
      id: "AwsSolutions-VPC7",
      reason:
        "The VPC holds only the gateway's Lambda-managed instances, which accept no inbound traffic; a deployment whose policy requires flow logs brings its own VPC (gateway:managedInstances.subnetIds).",
    });
    // Outbound to any port: a provider's base URL may name one (gateway:openaiBaseUrl); nothing inbound.
    const securityGroup = new SecurityGroup(this, "Instances", {
      vpc,
      description: "Lambda Managed Instances of the gateway: outbound to the providers and AWS APIs, nothing inbound",
      allowAllOutbound: true,
    });
    return { subnets: vpc.privateSubnets, securityGroups: [securityGroup] };
  }
}
