/**
 * Settings of the local server's hardening: the mock provider's switch (off by
 * default, on for `npm start` unless set) and the server's connection and time bounds.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadServerConfig } from "../../functions/shared/config/config.ts";
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

describe("the local server's bounds on clients", () => {
  it("default to 512 connections, 10 s for the headers and 60 s for the whole request", () => {
    expect(loadServerConfig({})).toEqual({ host: "127.0.0.1", port: 3000, maxConnections: 512, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
  });

  it("are read from GATEWAY_MAX_CONNECTIONS, GATEWAY_HEADERS_TIMEOUT_MS and GATEWAY_REQUEST_TIMEOUT_MS", () => {
    expect(loadServerConfig({ GATEWAY_MAX_CONNECTIONS: "8", GATEWAY_HEADERS_TIMEOUT_MS: "500", GATEWAY_REQUEST_TIMEOUT_MS: " 500 " })).toMatchObject({
      maxConnections: 8,
      headersTimeoutMs: 500,
      requestTimeoutMs: 500,
    });
  });

  it.each([
    ["GATEWAY_MAX_CONNECTIONS", "0"],
    ["GATEWAY_MAX_CONNECTIONS", "many"],
    ["GATEWAY_HEADERS_TIMEOUT_MS", "0"],
    ["GATEWAY_HEADERS_TIMEOUT_MS", "1.5"],
    ["GATEWAY_REQUEST_TIMEOUT_MS", "0"],
    ["GATEWAY_REQUEST_TIMEOUT_MS", "86400001"],
  ])("%s=%s throws a ConfigError naming it", (name, value) => {
    expect(() => loadServerConfig({ [name]: value, ...(name === "GATEWAY_REQUEST_TIMEOUT_MS" ? { GATEWAY_HEADERS_TIMEOUT_MS: "1" } : {}) })).toThrow(
      new RegExp(`^${name} must be an integer`),
    );
  });

  it("a headers bound longer than the request bound is refused, naming both", () => {
    let caught: unknown;
    try {
      loadServerConfig({ GATEWAY_HEADERS_TIMEOUT_MS: "2000", GATEWAY_REQUEST_TIMEOUT_MS: "1000" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ variable: "GATEWAY_HEADERS_TIMEOUT_MS" });
    expect((caught as Error).message).toContain("GATEWAY_REQUEST_TIMEOUT_MS");
  });
});
