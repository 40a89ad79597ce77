import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/shared/config/config.ts";
import { createProviderRegistry } from "../../functions/shared/providers/registry.ts";

describe("the translating providers' (temporary) settings", () => {
  it("serves neither Anthropic nor Bedrock unless configured", () => {
    const config = loadConfig({});
    expect(config.translatedProviders).toEqual({});
    expect(createProviderRegistry(config).names).toEqual(["openai"]);
  });

  it("serves Anthropic with a key or a base URL, at Anthropic's API by default", () => {
    const config = loadConfig({ ANTHROPIC_API_KEY: "sk-ant-x" });
    expect(config.translatedProviders?.anthropic).toEqual({ baseUrl: "https://api.anthropic.com/v1" });
    expect(config.credentials).toMatchObject({ providerKeys: { anthropic: { apiKey: "sk-ant-x" } } });
    expect(loadConfig({ ANTHROPIC_BASE_URL: "http://127.0.0.1:9/v1/" }).translatedProviders?.anthropic).toEqual({ baseUrl: "http://127.0.0.1:9/v1" });
    expect(createProviderRegistry(config).names).toEqual(["anthropic", "openai"]);
  });

  it("serves Bedrock in a region, with its models, an optional endpoint and an optional API key", () => {
    const config = loadConfig({
      BEDROCK_REGION: "eu-central-1",
      BEDROCK_MODELS: " eu.anthropic.claude-sonnet-4-20250514-v1:0 , arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc ",
      BEDROCK_BASE_URL: "https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com",
      AWS_BEARER_TOKEN_BEDROCK: "ABSKkey",
    });
    expect(config.translatedProviders?.bedrock).toEqual({
      region: "eu-central-1",
      baseUrl: "https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com",
      models: ["eu.anthropic.claude-sonnet-4-20250514-v1:0", "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc"],
    });
    expect(config.credentials).toMatchObject({ providerKeys: { bedrock: { apiKey: "ABSKkey" } } });
    expect(createProviderRegistry(config).find("bedrock")).toMatchObject({ kind: "http", name: "bedrock", capabilities: { keyRequired: false } });
  });

  it.each([
    [{ BEDROCK_REGION: "Frankfurt" }, "BEDROCK_REGION"],
    [{ BEDROCK_REGION: "us-east-1", BEDROCK_MODELS: "good-model,bad model" }, "BEDROCK_MODELS"],
    [{ BEDROCK_REGION: "us-east-1", BEDROCK_BASE_URL: "ftp://x" }, "BEDROCK_BASE_URL"],
    [{ ANTHROPIC_BASE_URL: "not a url" }, "ANTHROPIC_BASE_URL"],
  ])("refuses %j naming %s", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
    }
  });
});
