import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Capture } from "aws-cdk-lib/assertions";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { readGatewaySettings } from "../../infra/settings.ts";
import { synth } from "./synth.ts";

const ORIGINS = "gateway:corsAllowedOrigins";
const readOrigins = (value: unknown) => readGatewaySettings((name) => (name === ORIGINS ? value : undefined)).corsAllowedOrigins;

/** Every `X-Stainless-*` header name the installed openai SDK can send, lowercased. */
function stainlessHeadersInSdk(): Set<string> {
  const root = dirname(fileURLToPath(import.meta.resolve("openai")));
  const names = new Set<string>();
  for (const file of readdirSync(root, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".mjs")) continue;
    for (const match of readFileSync(join(root, file), "utf8").matchAll(/X-Stainless-[A-Za-z-]+/gi)) names.add(match[0].toLowerCase());
  }
  return names;
}

/** The header names a real SDK call sends (through a recording `fetch`), lowercased. */
async function headersOfAnSdkCall(): Promise<string[]> {
  let sent: string[] = [];
  const client = new OpenAI({
    apiKey: "gw-test-key-0000000000",
    baseURL: "https://gateway.example.com/v1/",
    organization: "org-test",
    project: "proj_test",
    defaultHeaders: { "x-provider": "openai" },
    fetch: async (_url: string | URL | Request, init?: RequestInit) => {
      sent = [...new Headers(init?.headers).keys()];
      const completion = { id: "c1", object: "chat.completion", created: 0, model: "gpt-4o", choices: [] };
      return new Response(JSON.stringify(completion), { headers: { "content-type": "application/json" } });
    },
  });
  await client.chat.completions.create(
    { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
    { headers: { "x-gateway-max-retries": "1", "x-gateway-cache-ttl": "60", "x-gateway-retry-max-delay-ms": "500", "openai-beta": "assistants=v2" } },
  );
  return sent;
}

describe("the Function URL's CORS headers", () => {
  const { template } = synth({ [ORIGINS]: ["https://app.example.com"] });
  const cors = new Capture();
  template.hasResourceProperties("AWS::Lambda::Url", { Cors: cors });
  const { AllowHeaders: allow, ExposeHeaders: expose } = cors.asObject() as { AllowHeaders: string[]; ExposeHeaders: string[] };

  it("lists real header names only: no pattern such as x-gateway-*", () => {
    for (const name of [...allow, ...expose]) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    // Function URL limits.
    expect(allow.length).toBeLessThanOrEqual(100);
    expect(expose.length).toBeLessThanOrEqual(100);
  });

  it("allows every x-stainless-* header the installed openai SDK can send", () => {
    const stainless = stainlessHeadersInSdk();
    expect(stainless.size).toBeGreaterThanOrEqual(8);
    for (const name of stainless) expect(allow, name).toContain(name);
  });

  it("allows every header of a real SDK call that a browser would preflight", async () => {
    // accept is CORS-safelisted; a browser sets content-length itself and the SDK sends no user-agent there.
    const preflighted = (await headersOfAnSdkCall()).filter((name) => !["accept", "content-length", "user-agent"].includes(name));
    expect(preflighted).toEqual(expect.arrayContaining(["authorization", "content-type", "x-provider", "openai-organization", "x-stainless-retry-count"]));
    for (const name of preflighted) expect(allow, name).toContain(name);
  });

  it("allows the gateway's own request headers and cache-control", () => {
    expect(allow).toEqual(
      expect.arrayContaining(["x-gateway-cache-ttl", "x-gateway-max-retries", "x-gateway-retry-max-delay-ms", "cache-control", "openai-project", "openai-beta"]),
    );
  });

  it("exposes the gateway's response headers and what the SDK reads to retry", () => {
    expect(expose).toEqual(
      expect.arrayContaining([
        "x-gateway-request-id",
        "x-gateway-retries",
        "x-gateway-cache",
        "x-request-id",
        "retry-after",
        "retry-after-ms",
        "x-should-retry",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-tokens",
        "x-ratelimit-limit-tokens-day",
      ]),
    );
  });
});

describe("gateway:corsAllowedOrigins", () => {
  it("accepts origins as browsers send them, and * alone", () => {
    expect(readOrigins(["https://app.example.com", "http://localhost:5173", "https://[::1]:8443"])).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
      "https://[::1]:8443",
    ]);
    expect(readOrigins("https://a.example.com, https://b.example.com")).toEqual(["https://a.example.com", "https://b.example.com"]);
    expect(readOrigins(["*"])).toEqual(["*"]);
    expect(readOrigins(undefined)).toEqual([]);
  });

  it.each([
    ["https://app.example.com/", /"https:\/\/app\.example\.com\/" is not an origin: it ends with a slash/],
    ["https://app.example.com/chat", /"https:\/\/app\.example\.com\/chat" is not an origin: it has a path/],
    ["https://app.example.com?x=1", /is not an origin: it has a path, query or fragment/],
    ["app.example.com", /"app\.example\.com" is not an origin: it does not parse/],
    ["https://*.example.com", /no wildcard inside an origin/],
    ["HTTPS://App.Example.com", /a browser would send it as "https:\/\/app\.example\.com"/],
    ["https://app.example.com:443", /a browser would send it as "https:\/\/app\.example\.com"/],
    ["chrome-extension://abcdef", /the scheme must be https or http/],
    ["https://user@app.example.com", /holds a user name or password/],
  ])("refuses %j and names the entry", (origin, message) => {
    expect(() => readOrigins(["https://ok.example.com", origin])).toThrow(message);
    expect(() => readOrigins([origin])).toThrow(/^Context gateway:corsAllowedOrigins entry /);
  });

  it("refuses * mixed with origins, and more than 100 origins", () => {
    expect(() => readOrigins(["*", "https://app.example.com"])).toThrow(/"\*" already allows every origin/);
    const many = Array.from({ length: 101 }, (_, index) => `https://app${index}.example.com`);
    expect(() => readOrigins(many)).toThrow(/at most 100 origins/);
  });
});
