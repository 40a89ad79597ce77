/**
 * Settings of the local server's hardening: the mock provider's switch (off by
 * default, on for `npm start` unless set) and the server's connection and time bounds.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/shared/config/config.ts";
import { localEnvironment } from "../../functions/local/server.ts";

describe("GATEWAY_MOCK_PROVIDER", () => {
  it("is off by default: the Lambda function serves no mock unless its stack sets the variable", () => {
    expect(loadConfig({}).mockProvider).toBe(false);
  });

  it.each([
    ["true", true],
    ["1", true],
    ["TRUE", true],
    ["false", false],
    ["0", false],
    ["", false],
  ])("GATEWAY_MOCK_PROVIDER=%j reads as %s", (value, expected) => {
    expect(loadConfig({ GATEWAY_MOCK_PROVIDER: value }).mockProvider).toBe(expected);
  });

  it("a value that is not a boolean throws a ConfigError naming the variable", () => {
    expect(() => loadConfig({ GATEWAY_MOCK_PROVIDER: "yes" })).toThrow(ConfigError);
    expect(() => loadConfig({ GATEWAY_MOCK_PROVIDER: "yes" })).toThrow(/GATEWAY_MOCK_PROVIDER/);
  });

  it("npm start turns it on when the variable is unset (or blank), and keeps an explicit value", () => {
    expect(loadConfig(localEnvironment({})).mockProvider).toBe(true);
    expect(loadConfig(localEnvironment({ GATEWAY_MOCK_PROVIDER: " " })).mockProvider).toBe(true);
    expect(loadConfig(localEnvironment({ GATEWAY_MOCK_PROVIDER: "false" })).mockProvider).toBe(false);
    expect(loadConfig(localEnvironment({ GATEWAY_MOCK_PROVIDER: "true" })).mockProvider).toBe(true);
    const env = { PORT: "3001" };
    expect(localEnvironment(env)).toEqual({ PORT: "3001", GATEWAY_MOCK_PROVIDER: "true" });
    expect(env).toEqual({ PORT: "3001" });
  });
});
