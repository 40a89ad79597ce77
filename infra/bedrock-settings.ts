/**
 * The context settings of Bedrock's IAM permissions. The function's Bedrock
 * providers are configured at run time (the secret's `providers`, a
 * `bedrock` preset entry), but its role's permissions must be known at
 * deploy time, so the context grants what the secret's entries may use:
 * - `gateway:bedrockModels`: the Bedrock models, cross-region inference
 *   profiles and inference profile ARNs the function may invoke; a non-empty
 *   list grants exactly these (Anthropic needs no permission: its key is in the secret);
 * - `gateway:bedrockRegion`: Bedrock's region (default: the stack's);
 * - `gateway:bedrockDestinationRegions`: the regions each cross-region
 *   geography routes to, laid over {@link DESTINATION_REGIONS}.
 */
import { SettingsError } from "./settings-error.ts";

/** Bedrock's settings. */
export interface BedrockSettings {
  readonly models: readonly string[];
  readonly region?: string;
  /** Destination regions by inference profile prefix (`us`, `eu`, …). */
  readonly destinationRegions: Readonly<Record<string, readonly string[]>>;
}

/**
 * Where the geographic cross-region inference profiles route requests, as
 * AWS lists them (docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html).
 * A profile may use fewer; one routed to a region missing here is refused by
 * IAM: add it with `gateway:bedrockDestinationRegions`. `global` profiles
 * route to every commercial region and are granted with the region-less
 * foundation-model ARN AWS documents for them.
 */
export const DESTINATION_REGIONS: Readonly<Record<string, readonly string[]>> = {
  us: ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
  "us-gov": ["us-gov-east-1", "us-gov-west-1"],
  eu: ["eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3"],
  apac: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4"],
  jp: ["ap-northeast-1", "ap-northeast-3"],
  au: ["ap-southeast-2", "ap-southeast-4"],
};

type Context = (key: string) => unknown;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const MODEL = /^[A-Za-z0-9._:/-]{1,2048}$/;

/** Bedrock's settings, or undefined when no model is configured. */
export function readBedrockSettings(context: Context): BedrockSettings | undefined {
  const raw = context("gateway:bedrockModels");
  if (raw === undefined || raw === "" || (Array.isArray(raw) && raw.length === 0)) return undefined;
  const models = typeof raw === "string" ? raw.split(",").map((model) => model.trim()) : raw;
  if (!Array.isArray(models) || !models.every((model) => typeof model === "string" && MODEL.test(model) && !model.includes(","))) {
    throw new SettingsError("Context gateway:bedrockModels must be a list of Bedrock model ids, inference profile ids or ARNs.");
  }
  return { models, region: readRegion(context("gateway:bedrockRegion"), "gateway:bedrockRegion"), destinationRegions: readDestinations(context) };
}

function readRegion(raw: unknown, key: string): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (typeof raw !== "string" || !REGION.test(raw)) throw new SettingsError(`Context ${key} must be an AWS region like us-east-1, got ${JSON.stringify(raw)}.`);
  return raw;
}

function readDestinations(context: Context): Record<string, readonly string[]> {
  const key = "gateway:bedrockDestinationRegions";
  const raw = context(key);
  if (raw === undefined) return { ...DESTINATION_REGIONS };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`Context ${key} must be an object of inference profile prefixes to region lists, like {"us": ["us-east-1", "us-west-2"]}.`);
  }
  const destinations: Record<string, readonly string[]> = { ...DESTINATION_REGIONS };
  for (const [prefix, regions] of Object.entries(raw)) {
    if (!Array.isArray(regions) || regions.length === 0 || !regions.every((region) => typeof region === "string" && REGION.test(region))) {
      throw new SettingsError(`Context ${key}.${prefix} must be a non-empty list of AWS regions.`);
    }
    destinations[prefix] = regions;
  }
  return destinations;
}
