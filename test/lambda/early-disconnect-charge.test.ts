/**
 * A caller who closes the connection early is still charged, on Lambda too.
 * The Function URL does not tell a streaming function that its client went
 * away: the invocation goes on, the provider's usage chunk arrives after the
 * client has left, and the key is charged that usage within the invocation.
 */
import type { IncomingMessage } from "node:http";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { readUntilFinishThenLeave } from "../support/chunk-events.ts";
import { readJsonBody, useHttpUpstream } from "../support/gateway-fixture.ts";
import { useGatewayFunction } from "../support/lambda-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { ensureMinuteLeft } from "../support/store-gateway.ts";

const GATEWAY_KEY = "gw-lambda-early-0123456789";
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Write a haiku about leaving early." }] };
const USAGE = { prompt_tokens: 17, completion_tokens: 3, total_tokens: 20 };

/** Sends the held rest of the current stream: the usage chunk and [DONE]. */
let releaseRest: () => void = () => undefined;
let streamHeld: PromiseWithResolvers<void> = Promise.withResolvers();

function chunk(choices: unknown[], extra: Record<string, unknown>): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-early", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o", choices, ...extra })}\n\n`;
}

/** A provider that stops after the finish chunk until the test releases the usage chunk. */
const upstream = useHttpUpstream((request: IncomingMessage, response) => {
  void readJsonBody<{ stream?: boolean; stream_options?: { include_usage?: boolean } }>(request).then((body) => {
    if (body.stream !== true) {
      response.writeHead(200, { "content-type": "application/json", "x-request-id": "req_plain" });
      response.end(
        JSON.stringify({
          id: "chatcmpl-plain",
          object: "chat.completion",
          created: 1_700_000_000,
          model: "gpt-4o",
          choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, logprobs: null, finish_reason: "stop" }],
          usage: USAGE,
        }),
      );
      return;
    }
    const usage = body.stream_options?.include_usage === true ? { usage: null } : {};
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_early" });
    response.write(
      chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], usage) +
        chunk([{ index: 0, delta: { content: "Door closes softly" }, finish_reason: null }], usage) +
        chunk([{ index: 0, delta: {}, finish_reason: "stop" }], usage),
    );
    releaseRest = () => response.end(`${usage.usage === null ? chunk([], { usage: USAGE }) : ""}data: [DONE]\n\n`);
    streamHeld.resolve();
  });
});

const fn = useGatewayFunction(() => ({
  OPENAI_BASE_URL: upstream.baseUrl,
  OPENAI_API_KEY: "sk-provider",
  GATEWAY_API_KEYS: GATEWAY_KEY,
  GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { tokensPerMinute: USAGE.total_tokens } }),
  GATEWAY_MAX_RETRIES: "0",
}));

/** Polls for up to `timeoutMs` until `find` returns something. */
async function eventually<T>(find: () => T | undefined, timeoutMs = 5_000): Promise<T | undefined> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; ) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return find();
}

describe("a client that leaves a Lambda stream after the finish chunk", () => {
  it("is charged the provider's usage, which arrives after it left: the next request is over the limit", async () => {
    await ensureMinuteLeft(10_000);
    const client = new OpenAI({ apiKey: GATEWAY_KEY, baseURL: `${fn.lambda.url}/v1/`, maxRetries: 0, defaultHeaders: { "x-provider": "openai" } });
    streamHeld = Promise.withResolvers();
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ ...chat, stream: true }, { signal: controller.signal })
      .withResponse();
    const invocation = response.headers.get("x-amzn-requestid") ?? "";
    const gatewayRequestId = response.headers.get("x-gateway-request-id");
    expect(await readUntilFinishThenLeave(stream, controller)).toBe(3);

    // The Function URL saw the client go; only then does the provider send its usage.
    expect(await eventually(() => fn.lambda.clientsGone.find((id) => id === invocation))).toBe(invocation);
    await streamHeld.promise;
    releaseRest();

    // The invocation went on to the end and charged the key before logging the request.
    const line = await eventually(() =>
      fn.lambda.logs.find((candidate) => candidate.includes(`"gateway_request_id":"${gatewayRequestId}"`) && candidate.includes('"message":"request"')),
    );
    expect(line, fn.lambda.logs.slice(-5).join("\n")).toBeDefined();
    const logged = JSON.parse(line ?? "{}") as Record<string, unknown>;
    expect(logged).toMatchObject({ key_id: "env-1", status: 200, total_tokens: USAGE.total_tokens });
    expect(logged.usage_estimated).toBeUndefined();

    const error = await rejectionOf(client.chat.completions.create(chat));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.type).toBe("tokens_per_minute");
    expect(error.message).toContain(`limit ${USAGE.total_tokens}, used ${USAGE.total_tokens}.`);
  }, 30_000);
});
