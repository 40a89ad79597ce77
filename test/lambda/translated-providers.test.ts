/**
 * Anthropic and Bedrock through the deployable bundle under aws-lambda-ric:
 * the Anthropic key from the secret, Bedrock signed with the function role's
 * credentials (the variables Lambda sets), both streamed as the client reads.
 */
import { describe, expect, it } from "vitest";
import { parseEmfLines } from "../support/emf.ts";
import { deltasOf } from "../support/chunk-events.ts";
import { startFakeAnthropic } from "../support/fake-anthropic.ts";
import { startFakeBedrock } from "../support/fake-bedrock.ts";
import { useStarted } from "../support/gateway-fixture.ts";
import { useGatewayFunctionWithSecret } from "../support/lambda-fixture.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-AbCdEf";
const GATEWAY_KEY = "gw-team-a-0123456789abcdef";
const ROLE = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-access-key-example", sessionToken: "role-session-token" };
const weather = { type: "function" as const, function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

const anthropic = useStarted(() => startFakeAnthropic({ apiKey: "sk-ant-from-secret" }), { what: "the fake Anthropic API", reset: (fake) => fake.reset() });
const bedrock = useStarted(() => startFakeBedrock({ region: "us-east-1", credentials: ROLE }), { what: "the fake Bedrock endpoint", reset: (fake) => fake.reset() });
const fixture = useGatewayFunctionWithSecret({
  secretId: SECRET_ARN,
  // The providers come from the secret, as in a deployment (the stack's context only grants Bedrock's IAM).
  get secret() {
    return JSON.stringify({
      providers: {
        anthropic: { preset: "anthropic", baseUrl: anthropic().baseUrl, apiKey: "sk-ant-from-secret" },
        bedrock: { preset: "bedrock", region: "us-east-1", baseUrl: bedrock().baseUrl },
      },
      gatewayKeys: [{ id: "team-a", key: GATEWAY_KEY }],
    });
  },
  get env() {
    return {
      AWS_SESSION_TOKEN: ROLE.sessionToken,
    };
  },
  apiKey: GATEWAY_KEY,
});

/** Polls for up to a second until `find` returns something: the function's stdout may lag a little. */
async function eventually<T>(find: () => T | undefined): Promise<T | undefined> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

describe.each([
  { provider: "bedrock", model: "us.anthropic.claude-sonnet-4-20250514-v1:0" },
  { provider: "anthropic", model: "claude-sonnet-4-5" },
])("$provider through the Lambda bundle", ({ provider, model }) => {
  it("streams a tool-calling turn, and publishes its tokens when the stream ends", async () => {
    const { data: stream, response } = await fixture.client.chat.completions
      .create({ model, messages: [{ role: "user", content: "Weather?" }], tools: [weather], stream: true }, { headers: { "x-provider": provider } })
      .withResponse();
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const calls = deltasOf(chunks).flatMap((delta) => delta.tool_calls ?? []);
    expect(calls.filter((call) => call.id).map((call) => call.index)).toEqual([0, 1]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(provider === "bedrock" ? bedrock().requests : anthropic().requests).toHaveLength(1);
    const requestId = response.headers.get("x-gateway-request-id");
    const document = await eventually(() => parseEmfLines(fixture.lambda.logs).find((candidate) => candidate.gateway_request_id === requestId));
    expect(document).toMatchObject({ provider, model, PromptTokens: 150, CompletionTokens: 20, CachedPromptTokens: 100 });
  });
});
