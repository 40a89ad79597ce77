/**
 * A caller who closes the connection early is still charged: a managed key
 * with a token limit streams a chat and leaves right after the chunk with
 * `finish_reason`, before the usage chunk. Locally the gateway aborts the
 * provider at once, so the usage never arrives: the key is charged the
 * documented estimate (usage/estimate.ts: prompt = request bytes / 4,
 * completion = one token per data line read) and the summary says
 * `usageEstimated`. When the usage did arrive before the client left, that
 * usage is charged.
 */
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { readUntilFinishThenLeave } from "../support/chunk-events.ts";
import { readJsonBody, useGateway, useHttpUpstream } from "../support/gateway-fixture.ts";
import { rejectionOf } from "../support/openai-errors.ts";
import { ensureMinuteLeft, startStoreGateway } from "../support/store-gateway.ts";

const KEYS = ["gw-early-one-0123456789", "gw-early-two-0123456789"];
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "Write a haiku about leaving early." }] };
const CONTENT = ["Door ", "closes ", "softly"];
/** The provider's real usage, sent only when the test lets it. */
const USAGE = { prompt_tokens: 17, completion_tokens: 3, total_tokens: 20 };
/** Data lines the provider sends up to and including the finish chunk: role, the deltas, finish. */
const DATA_LINES_TO_FINISH = 1 + CONTENT.length + 1;

/** What the provider does after the finish chunk: hold the usage chunk back until its socket closes, or send it at once. */
let usageAfterFinish: "held" | "sent" = "held";
/** When the provider saw the gateway close its request (the gateway aborted it). */
let upstreamClosed: Promise<unknown> = Promise.resolve();

function chunk(choices: unknown[], extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-early", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o", choices, ...extra })}\n\n`;
}

function streamToFinish(withUsageField: boolean): string {
  const usage = withUsageField ? { usage: null } : {};
  return [
    chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], usage),
    ...CONTENT.map((content) => chunk([{ index: 0, delta: { content }, finish_reason: null }], usage)),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }], usage),
  ].join("");
}

/** An OpenAI-like provider whose streams pause after the finish chunk. */
const upstream = useHttpUpstream((request: IncomingMessage, response) => {
  void readJsonBody<{ stream?: boolean; stream_options?: { include_usage?: boolean } }>(request).then((body) => {
    if (body.stream !== true) {
      const answer = JSON.stringify({
        id: "chatcmpl-plain",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "gpt-4o",
        choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, logprobs: null, finish_reason: "stop" }],
        usage: USAGE,
      });
      response.writeHead(200, { "content-type": "application/json", "x-request-id": "req_plain" });
      response.end(answer);
      return;
    }
    const withUsage = body.stream_options?.include_usage === true;
    response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_early" });
    const usageChunk = withUsage ? chunk([], { usage: USAGE }) : "";
    // One write: the gateway reads the finish chunk (and the usage chunk when sent) together.
    response.write(streamToFinish(withUsage) + (usageAfterFinish === "sent" ? usageChunk : ""));
    // Nothing more until the gateway goes away; a gateway that stayed would get the rest after 5 s.
    const rest = setTimeout(() => response.end(`${usageAfterFinish === "held" ? usageChunk : ""}data: [DONE]\n\n`), 5_000);
    response.once("close", () => clearTimeout(rest));
  });
  upstreamClosed = once(response, "close");
});

/**
 * Streams `chat` with the SDK and aborts as soon as the chunk with
 * `finish_reason` arrives; returns the chunks the client read.
 */
async function streamAndLeaveAtFinish(key: string): Promise<number> {
  const controller = new AbortController();
  const stream = await fixture.gateway.client(key).chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
  return readUntilFinishThenLeave(stream, controller);
}

/** What the client sent: the SDK writes the body as JSON.stringify does. */
const REQUEST_BYTES = Buffer.byteLength(JSON.stringify({ ...chat, stream: true }));
const ESTIMATE = { promptTokens: Math.ceil(REQUEST_BYTES / 4), completionTokens: DATA_LINES_TO_FINISH };
const ESTIMATED_TOTAL = ESTIMATE.promptTokens + ESTIMATE.completionTokens;

// Each key may spend exactly what one early-closed stream is charged: the next request must be refused.
const fixture = useGateway(() =>
  startStoreGateway({
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: "sk-provider",
    GATEWAY_API_KEYS: KEYS.join(","),
    GATEWAY_KEY_LIMITS: JSON.stringify({ "env-1": { tokensPerMinute: ESTIMATED_TOTAL }, "*": { tokensPerMinute: USAGE.total_tokens } }),
    GATEWAY_MAX_RETRIES: "0",
  }),
);

describe("a client that leaves after the finish chunk, before the usage chunk", () => {
  it("is charged the estimate (request bytes / 4 + one token per data line), marked usageEstimated; the next request is over the limit", async () => {
    await ensureMinuteLeft(5_000);
    usageAfterFinish = "held";
    expect(await streamAndLeaveAtFinish(KEYS[0] as string)).toBe(DATA_LINES_TO_FINISH);
    // The gateway aborted the provider before the usage chunk was sent.
    await upstreamClosed;
    // The summary is written once the charge is done.
    const [summary] = await fixture.gateway.waitForSummaries(1);

    // Without the charge this request would be well within the limit.
    const error = await rejectionOf(fixture.gateway.client(KEYS[0] as string).chat.completions.create(chat));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.type).toBe("tokens_per_minute");
    expect(error.message).toContain(`limit ${ESTIMATED_TOTAL}, used ${ESTIMATED_TOTAL}.`);
    expect(summary).toMatchObject({
      keyId: "env-1",
      status: 200,
      outcome: "client_aborted",
      usageEstimated: true,
      usage: { ...ESTIMATE, totalTokens: ESTIMATED_TOTAL, cachedPromptTokens: 0, reasoningTokens: 0 },
    });
    expect(summary?.costUsd).toBeGreaterThan(0);
  });

  it("is charged the provider's usage when it arrived before the client left (not the estimate)", async () => {
    await ensureMinuteLeft(5_000);
    usageAfterFinish = "sent";
    expect(await streamAndLeaveAtFinish(KEYS[1] as string)).toBe(DATA_LINES_TO_FINISH);
    await upstreamClosed;
    const [summary] = await fixture.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ keyId: "env-2", outcome: "client_aborted", usage: { totalTokens: USAGE.total_tokens } });
    expect(summary?.usageEstimated).toBeUndefined();
    const error = await rejectionOf(fixture.gateway.client(KEYS[1] as string).chat.completions.create(chat));
    expect(error.message).toContain(`limit ${USAGE.total_tokens}, used ${USAGE.total_tokens}.`);
  });
});
