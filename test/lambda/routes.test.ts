/**
 * A route through the Lambda bundle under aws-lambda-ric: providers and
 * routes from the secret (reloaded with its TTL, no redeploy), a fall-back
 * from a failing OpenAI to a Groq-like provider before the first byte, and
 * the metrics and log line that count it.
 */
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { parseEmfLines } from "../support/emf.ts";
import { startFakeProvider, type FakeProvider } from "../support/fake-provider.ts";
import { useStarted } from "../support/gateway-fixture.ts";
import { useGatewayFunctionWithSecret } from "../support/lambda-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:routes-AbCdEf";
const GATEWAY_KEY = "gw-routes-lambda-0123456789";
const OPENAI_KEY = "sk-openai-managed-0123456789";
const GROQ_KEY = "gsk_groq-managed-0123456789";

const groq = useStarted(() => startFakeProvider({ flavor: "groq", apiKey: GROQ_KEY }), { what: "the fake Groq", reset: (fake) => fake.reset() });

const fixture = useGatewayFunctionWithSecret({
  secretId: SECRET_ARN,
  upstream: { requireAuth: `Bearer ${OPENAI_KEY}` },
  env: { GATEWAY_SECRET_TTL_SECONDS: "1", GATEWAY_MAX_RETRIES: "0" },
  apiKey: GATEWAY_KEY,
  headers: { "x-provider": "smart" },
});

function secret(routes: Record<string, unknown>, providers: Record<string, unknown> = {}): string {
  return JSON.stringify({
    gatewayKeys: [{ id: "team-a", key: GATEWAY_KEY }],
    providers: {
      primary: { preset: "openai", baseUrl: fixture.upstream.baseUrl, apiKey: OPENAI_KEY },
      groq: { preset: "groq", baseUrl: groq().baseUrl, apiKey: GROQ_KEY },
      ...providers,
    },
    routes,
  });
}

const SMART = { smart: { strategy: "fallback", targets: [{ provider: "primary", model: "gpt-4o" }, { provider: "groq", model: "llama-3.3-70b-versatile" }] } };
const chat = { model: "smart", messages: [{ role: "user" as const, content: "hi" }] };

/** Polls for up to two seconds until `find` returns something. */
async function eventually<T>(find: () => T | undefined): Promise<T | undefined> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

const pastTtl = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe("a route through the Lambda bundle", () => {
  it("falls back from a 503 to the next target, says which served, and counts the fall-back", async () => {
    fixture.secrets.setSecret(SECRET_ARN, secret(SMART));
    fixture.upstream.enqueue({ kind: "error", status: 503 });
    const { data, response } = await fixture.client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]?.message.content).toBe("Echo: hi");
    expect(response.headers.get("x-gateway-provider")).toBe("groq");
    expect(response.headers.get("x-gateway-model")).toBe("llama-3.3-70b-versatile");
    expect(groq().requests.at(-1)?.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(groq().requests.at(-1)?.json).toMatchObject({ model: "llama-3.3-70b-versatile" });

    const requestId = response.headers.get("x-gateway-request-id");
    const documents = () => parseEmfLines(fixture.lambda.logs).filter((candidate) => candidate.gateway_request_id === requestId);
    await eventually(() => (documents().length >= 3 ? true : undefined));
    expect(documents().find((document) => document.Requests === 1)).toMatchObject({ provider: "groq", model: "llama-3.3-70b-versatile", Fallbacks: 1, Retries: 1 });
    expect(documents().filter((document) => document.TargetAttempts !== undefined).map((document) => [document.provider, document.TargetAttempts, document.TargetFailures])).toEqual([
      ["primary", 1, 1],
      ["groq", 1, 0],
    ]);
    const log = await eventually(() => fixture.lambda.logs.find((line) => line.includes(`"gateway_request_id":"${requestId}"`) && line.includes('"message":"request"')));
    expect(JSON.parse(log?.trim() ?? "{}")).toMatchObject({ route: "smart", provider: "groq", fallbacks: 1, targets: "primary/gpt-4o:503x1>groq/llama-3.3-70b-versatile:200x1" });
    for (const line of fixture.lambda.logs) expect(line).not.toContain(GROQ_KEY);
  });

  it("falls back before the first byte of a stream, and reads Groq's usage", async () => {
    fixture.upstream.enqueue({ kind: "error", status: 429, retryAfterMs: 10 });
    const stream = await fixture.client.chat.completions.create({ ...chat, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Echo: hi");
    expect(groq().requests.at(-1)?.json?.stream_options).toBeUndefined();
    const document = await eventually(() =>
      parseEmfLines(fixture.lambda.logs).find((candidate) => candidate.Fallbacks === 1 && candidate.provider === "groq" && (candidate.CompletionTokens as number) > 0),
    );
    expect(document?.EstimatedCostUSD).toBeGreaterThan(0);
  });

  it("takes up a route added to the secret once its TTL has passed, without a redeploy", async () => {
    const later = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${fixture.lambda.url}/v1/`, maxRetries: 0, defaultHeaders: { "x-provider": "later" } });
    const error = await rejectionOf(later.chat.completions.create({ ...chat, model: "gpt-4o" }));
    expect(error).toMatchObject({ status: 400, code: "unknown_provider" });
    fixture.secrets.setSecret(SECRET_ARN, secret({ ...SMART, later: { targets: [{ provider: "groq", model: "llama-3.1-8b-instant" }] } }));
    await pastTtl();
    const { response } = await later.chat.completions.create({ ...chat, model: "gpt-4o" }).withResponse();
    expect(response.headers.get("x-gateway-model")).toBe("llama-3.1-8b-instant");
  });

  it("answers an invalid provider entry in the secret with a 500 naming the entry and field, never the key", async () => {
    fixture.secrets.setSecret(SECRET_ARN, secret(SMART, { broken: { preset: "groq", apiKeys: [GROQ_KEY, 42] } }));
    await pastTtl();
    const error = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(error.status).toBe(500);
    expect(error.message).toContain("providers.broken.apiKeys");
    expect(error.message).not.toContain(GROQ_KEY);
    const routes = { bad: { targets: [{ provider: "nowhere" }] } };
    fixture.secrets.setSecret(SECRET_ARN, secret(routes));
    await pastTtl();
    const routeError = await rejectionOf(fixture.client.chat.completions.create(chat));
    expect(routeError.status).toBe(500);
    expect(routeError.message).toContain("routes.bad.targets[0].provider names no configured provider");
    fixture.secrets.setSecret(SECRET_ARN, secret(SMART));
  });
});
