/**
 * Finds the key table of a deployed stack from its `KeyTableName` output
 * (CloudFormation DescribeStacks, with the caller's AWS credentials), so an
 * operator names the stack, or nothing at all (cdk.json's), instead of
 * copying the generated table name out of the deploy's outputs.
 *
 * The output exists only when the stack was deployed with
 * `-c gateway:keyManagement=true` (infra/gateway-stack.ts). What the operator
 * can put right (no such stack, no output, no credentials or region, refused
 * credentials) is a {@link UsageError}, exit status 2; a service that fails or
 * does not answer in time is a {@link KeyCommandError}, exit status 1.
 */
import { CloudFormationClient, DescribeStacksCommand, type DescribeStacksCommandOutput } from "@aws-sdk/client-cloudformation";
import { boundedClientOptions, DependencyTimeoutError, withDeadline } from "../shared/stores/deadline.ts";
import { KeyCommandError } from "./key-changes.ts";
import { TABLE_NAME, UsageError, type StackLocation, type StoreLocation } from "./key-options.ts";

/** The stack output that names the key table (infra/gateway-stack.ts). */
export const KEY_TABLE_OUTPUT = "KeyTableName";

/** How long the lookup may take, credentials, retries and all. */
export const STACK_LOOKUP_TIMEOUT_MS = 10_000;

const ENABLE = "Deploy it with key management on: npx cdk deploy -c gateway:keyManagement=true";

/**
 * Reads the stack's `KeyTableName` output.
 * @returns the table, in the region the stack was found in
 * @throws {UsageError} for what the operator must put right
 * @throws {KeyCommandError} when CloudFormation fails or does not answer within `timeoutMs`
 */
export async function findKeyTable(stack: StackLocation, timeoutMs = STACK_LOOKUP_TIMEOUT_MS): Promise<StoreLocation> {
  const client = new CloudFormationClient({ ...boundedClientOptions(timeoutMs), ...(stack.region === undefined ? {} : { region: stack.region }) });
  try {
    let output: DescribeStacksCommandOutput;
    try {
      output = await withDeadline("CloudFormation DescribeStacks", timeoutMs, (abortSignal) =>
        client.send(new DescribeStacksCommand({ StackName: stack.stackName }), { abortSignal }),
      );
    } catch (error) {
      throw describeFailure(error, stack.stackName, await regionOf(client));
    }
    const region = await regionOf(client);
    const where = `stack ${stack.stackName}${region === undefined ? "" : ` (${region})`}`;
    const outputs = output.Stacks?.[0]?.Outputs ?? [];
    const tableName = outputs.find((entry) => entry.OutputKey === KEY_TABLE_OUTPUT)?.OutputValue;
    if (tableName === undefined) {
      throw new UsageError(`The ${where} has no ${KEY_TABLE_OUTPUT} output: it keeps no gateway keys. ${ENABLE}, or give --table <name> or --file <path>.`);
    }
    if (!TABLE_NAME.test(tableName)) throw new UsageError(`The ${where} output ${KEY_TABLE_OUTPUT} is not a DynamoDB table name; give --table <name>.`);
    return region === undefined ? { kind: "table", tableName } : { kind: "table", tableName, region };
  } finally {
    client.destroy();
  }
}

async function regionOf(client: CloudFormationClient): Promise<string | undefined> {
  return client.config.region().catch(() => undefined);
}

/** An operator's message for a failed DescribeStacks; AWS's own message is kept, it names no secret. */
function describeFailure(error: unknown, stackName: string, region: string | undefined): Error {
  const name = error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  const where = region === undefined ? "" : ` in ${region}`;
  if (error instanceof DependencyTimeoutError) {
    return new KeyCommandError(`CloudFormation did not answer within ${error.timeoutMs / 1000} s looking up the stack ${stackName}${where}; try again, or give --table <name>.`);
  }
  if (name === "ValidationError" && /does not exist/.test(message)) {
    return new UsageError(
      `No stack ${stackName}${where} (${message}). Give the deployed stack's name with --stack <name> and its region with --region <region>, or the table with --table <name>.`,
    );
  }
  if (name === "CredentialsProviderError") {
    return new UsageError(`No AWS credentials to read the stack ${stackName} (${message}). The command uses yours: a profile (AWS_PROFILE), the environment or SSO (aws sso login).`);
  }
  if (/Region is missing/i.test(message)) return new UsageError("No AWS region: give --region <region>, set AWS_REGION, or set a region in your AWS profile.");
  if (["AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"].includes(name)) {
    return new UsageError(`AWS refused to describe the stack ${stackName}${where} (${name}): ${message}. The command needs cloudformation:DescribeStacks, or give --table <name>.`);
  }
  if (name === "ValidationError") return new UsageError(`CloudFormation refused the stack name ${stackName} (${message}).`);
  return new KeyCommandError(`CloudFormation DescribeStacks failed for the stack ${stackName}${where} (${name}): ${message}`);
}
