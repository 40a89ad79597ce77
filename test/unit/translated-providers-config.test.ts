import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/shared/config/config.ts";
import { createProviderRegistry } from "../../functions/shared/providers/registry.ts";

const providers = (entries: unknown) => ({ GATEWAY_PROVIDERS: JSON.stringify(entries) });

describe("the anthropic and bedrock presets", () => {
  it("serve Anthropic at Anthropic's API by default, with its key", () => {
    const config = loadConfig(providers({ claude: { preset: "anthropic", apiKey: "sk-ant-x" } }));
    expect(config.providers.claude).toEqual({ preset: "anthropic", baseUrl: "https://api.anthropic.com/v1", headers: {} });
    expect(config.credentials).toMatchObject({ providerKeys: { claude: { apiKeys: ["sk-ant-x"] } } });
    expect(loadConfig(providers({ claude: { preset: "anthropic", baseUrl: "http://127.0.0.1:9/v1/" } })).providers.claude?.baseUrl).toBe("http://127.0.0.1:9/v1");
    expect(createProviderRegistry(config).find("claude")).toMatchObject({ kind: "http", name: "claude", priceProvider: "anthropic", capabilities: { keyRequired: true } });
  });

  it("serve Bedrock in a region, with its models, an optional endpoint and an optional API key", () => {
    const config = loadConfig(
      providers({
        bedrock: {
          preset: "bedrock",
          region: "eu-central-1",
          models: ["eu.anthropic.claude-sonnet-4-20250514-v1:0", "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc"],
          baseUrl: "https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com",
          apiKey: "ABSKkey",
        },
        plain: { preset: "bedrock", region: "us-west-2" },
      }),
    );
    expect(config.providers.bedrock).toEqual({
      preset: "bedrock",
      region: "eu-central-1",
      baseUrl: "https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com",
      headers: {},
      models: ["eu.anthropic.claude-sonnet-4-20250514-v1:0", "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/abc"],
    });
    expect(config.providers.plain).toMatchObject({ baseUrl: "https://bedrock-runtime.us-west-2.amazonaws.com", models: [] });
    expect(config.credentials).toMatchObject({ providerKeys: { bedrock: { apiKeys: ["ABSKkey"] } } });
    expect(createProviderRegistry(config).find("plain")).toMatchObject({ kind: "http", name: "plain", capabilities: { keyRequired: false } });
  });

  it.each([
    [{ b: { preset: "bedrock" } }, "GATEWAY_PROVIDERS.b.region must be an AWS region"],
    [{ b: { preset: "bedrock", region: "Frankfurt" } }, "GATEWAY_PROVIDERS.b.region must be an AWS region"],
    [{ b: { preset: "bedrock", region: "us-east-1", models: ["good-model", "bad model"] } }, "GATEWAY_PROVIDERS.b.models must be a list"],
    [{ b: { preset: "bedrock", region: "us-east-1", baseUrl: "ftp://x" } }, "GATEWAY_PROVIDERS.b.baseUrl must be"],
    [{ a: { preset: "anthropic", region: "us-east-1" } }, "GATEWAY_PROVIDERS.a.region is only for the bedrock preset"],
    [{ a: { preset: "groq", models: ["x"] } }, "GATEWAY_PROVIDERS.a.models is only for the bedrock preset"],
  ])("refuses %j: %s", (entries, message) => {
    expect(() => loadConfig(providers(entries))).toThrow(ConfigError);
    expect(() => loadConfig(providers(entries))).toThrow(message);
  });
});
