/**
 * Anthropic and Bedrock as route targets, configured with presets: a route
 * falls back from an overloaded Anthropic (529) to Bedrock, streamed through
 * the official openai SDK; Bedrock's own hooks (embeddings split per text,
 * the model list answered from its configuration) work behind a route as
 * they do when it is named; a route is refused for an endpoint one of its
 * targets does not serve.
 */
import { BadRequestError } from "openai";
import { describe, expect, it } from "vitest";
import { deltasOf } from "../support/chunk-events.ts";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { useFakeAnthropic, useFakeBedrock, useLocalAwsCredentials } from "../support/translated-fakes.ts";

const GATEWAY_KEY = "gw-translated-routes-0123456789";
const CLAUDE_ON_BEDROCK = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const TITAN = "amazon.titan-embed-text-v2:0";

const credentials = useLocalAwsCredentials({ sessionToken: "session-token-example" });
const anthropic = useFakeAnthropic();
const bedrock = useFakeBedrock({ region: "us-east-1", credentials });
const fixture = useTestGateway(() => ({
  GATEWAY_PROVIDERS: JSON.stringify({
    claude: { preset: "anthropic", baseUrl: anthropic().baseUrl, apiKey: "sk-ant-gateway" },
    bedrock: { preset: "bedrock", region: "us-east-1", baseUrl: bedrock().baseUrl, models: [CLAUDE_ON_BEDROCK, TITAN] },
  }),
  GATEWAY_ROUTES: JSON.stringify({
    sonnet: { strategy: "fallback", cooldown: { failures: 100 }, targets: [{ provider: "claude", model: "claude-sonnet-4-5" }, { provider: "bedrock", model: CLAUDE_ON_BEDROCK }] },
    "titan-embed": { strategy: "fallback", targets: [{ provider: "bedrock", model: TITAN }] },
  }),
  GATEWAY_API_KEYS: GATEWAY_KEY,
  GATEWAY_MAX_RETRIES: "0",
}));

describe("a route over Anthropic and Bedrock", () => {
  it("falls back from an overloaded Anthropic (529) to Bedrock, streamed through the openai SDK", async () => {
    anthropic().enqueue({ kind: "error", status: 529, type: "overloaded_error", message: "Overloaded" });
    const stream = await fixture.gateway
      .client(GATEWAY_KEY, { "x-provider": "sonnet" })
      .chat.completions.create({ model: "any", messages: [{ role: "user", content: "Hello!" }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(deltasOf(chunks).length).toBeGreaterThan(0);
    expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    expect(anthropic().requests).toHaveLength(1);
    expect(bedrock().requests.map((request) => [request.operation, request.modelId])).toEqual([["converse-stream", CLAUDE_ON_BEDROCK]]);
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ route: "sonnet", provider: "bedrock", status: 200, outcome: "ok" });
  });

  it("splits a Titan embeddings list per text behind a route, and merges the answers in order", async () => {
    const answer = await fixture.gateway.client(GATEWAY_KEY, { "x-provider": "titan-embed" }).embeddings.create({ model: "any", input: ["one", "two words", "three more words"] });
    expect(answer.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(answer.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    expect(bedrock().requests.map((request) => request.json.inputText).sort()).toEqual(["one", "three more words", "two words"]);
  });

  it("answers Bedrock's model list from its configuration behind a route", async () => {
    const response = await fetch(`${fixture.gateway.baseURL}models`, { headers: { authorization: `Bearer ${GATEWAY_KEY}`, "x-provider": "titan-embed" } });
    const list = (await response.json()) as { data: { id: string }[] };
    expect(list.data.map((model) => model.id)).toEqual(expect.arrayContaining([CLAUDE_ON_BEDROCK, TITAN]));
    expect(bedrock().requests).toHaveLength(0);
  });

  it("refuses an endpoint one of the route's targets does not serve, before anything is sent", async () => {
    const error = await rejectionOf(fixture.gateway.client(GATEWAY_KEY, { "x-provider": "sonnet" }).embeddings.create({ model: "any", input: "x" }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe("unsupported_endpoint");
    expect((error as BadRequestError).message).toMatch(/claude \(a target of the route sonnet\) does not serve POST \/v1\/embeddings/);
    expect(anthropic().requests).toHaveLength(0);
    expect(bedrock().requests).toHaveLength(0);
  });
});
