/**
 * TEMPORARY settings of the translating providers (`anthropic`, `bedrock`),
 * read from the environment until provider configuration (`GATEWAY_PROVIDERS`
 * / the secret's `providers`, presets and routes) takes them over; kept apart
 * so that move touches this file, its call in config.ts and the registry only.
 *
 * - `anthropic` is served when `ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL` is
 *   set (base URL default `https://api.anthropic.com/v1`); its managed key is
 *   `ANTHROPIC_API_KEY` locally, the secret's `anthropic.apiKey` in AWS.
 * - `bedrock` is served when `BEDROCK_REGION` is set; `BEDROCK_BASE_URL`
 *   overrides the endpoint, `BEDROCK_MODELS` (comma-separated model ids,
 *   inference profile ids or ARNs) is what `GET /v1/models` lists and what the
 *   stack's IAM policy allows; an optional Bedrock API key is
 *   `AWS_BEARER_TOKEN_BEDROCK` locally (the name AWS's SDKs read), the
 *   secret's `bedrock.apiKey` in AWS; without one, requests are signed with
 *   the AWS credential chain (the function's role).
 */
import { ConfigError, readString, readUrl, type Env } from "./env-values.ts";

/** Anthropic's settings. */
export interface AnthropicProviderConfig {
  readonly baseUrl: string;
}

/** Bedrock's settings. */
export interface BedrockProviderConfig {
  readonly region: string;
  readonly baseUrl?: string;
  readonly models: readonly string[];
}

/** The translating providers that are configured. */
export interface TranslatedProvidersConfig {
  readonly anthropic?: AnthropicProviderConfig;
  readonly bedrock?: BedrockProviderConfig;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const MODEL_ID = /^[A-Za-z0-9._:/-]{1,2048}$/;

/** Reads the translating providers' settings. @throws {ConfigError} naming the variable */
export function readTranslatedProviders(env: Env): TranslatedProvidersConfig {
  const config: { anthropic?: AnthropicProviderConfig; bedrock?: BedrockProviderConfig } = {};
  if (readString(env, "ANTHROPIC_API_KEY") !== undefined || readString(env, "ANTHROPIC_BASE_URL") !== undefined) {
    config.anthropic = Object.freeze({ baseUrl: readUrl(env, "ANTHROPIC_BASE_URL", "https://api.anthropic.com/v1") });
  }
  const region = readString(env, "BEDROCK_REGION");
  if (region !== undefined) {
    if (!REGION.test(region)) throw new ConfigError("BEDROCK_REGION", `BEDROCK_REGION must be an AWS region like us-east-1, got ${JSON.stringify(region)}.`);
    const baseUrl = readString(env, "BEDROCK_BASE_URL") === undefined ? undefined : readUrl(env, "BEDROCK_BASE_URL", "");
    config.bedrock = Object.freeze({ region, ...(baseUrl === undefined ? {} : { baseUrl }), models: Object.freeze(readModels(env)) });
  }
  return Object.freeze(config);
}

function readModels(env: Env): string[] {
  const models = (readString(env, "BEDROCK_MODELS") ?? "").split(",").map((model) => model.trim()).filter((model) => model !== "");
  const bad = models.find((model) => !MODEL_ID.test(model));
  if (bad !== undefined) throw new ConfigError("BEDROCK_MODELS", `BEDROCK_MODELS has an entry that is not a model id, inference profile id or ARN: ${JSON.stringify(bad.slice(0, 100))}.`);
  return models;
}

/** The managed keys of the translating providers, for the providers that have one configured. */
export function readTranslatedProviderKeys(env: Env): Record<string, { apiKey: string }> {
  const keys: Record<string, { apiKey: string }> = {};
  const anthropic = readString(env, "ANTHROPIC_API_KEY");
  if (anthropic !== undefined) keys.anthropic = { apiKey: anthropic };
  const bedrock = readString(env, "AWS_BEARER_TOKEN_BEDROCK");
  if (bedrock !== undefined) keys.bedrock = { apiKey: bedrock };
  return keys;
}
