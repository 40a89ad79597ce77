/**
 * The Lambda function's own deadline: Lambda kills a function at its timeout
 * and the client of a stream then sees a connection cut in mid-event. The
 * handler bounds each request by the time the invocation has left (minus a
 * margin), so a stream from a provider that stalls ends with the gateway's
 * own error event first, however large the gateway's configured limits.
 */
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { useFakeUpstream } from "../support/gateway-fixture.ts";
import { useGatewayFunction } from "../support/lambda-fixture.ts";
import { expectEndsWithErrorEvent } from "../support/openai-errors.ts";
import { sseEvents } from "../support/raw-http.ts";

/** The function's timeout; the handler keeps 1 s of it back for its error event. */
const FUNCTION_TIMEOUT_MS = 4_000;
const MARGIN_MS = 1_000;

const fake = useFakeUpstream({ requireAuth: "Bearer sk-caller" });
// The gateway's own limits are far beyond the function's timeout: only the deadline can end the stream in time.
const fn = useGatewayFunction(
  () => ({ OPENAI_BASE_URL: fake.upstream.baseUrl, GATEWAY_TOTAL_TIMEOUT_MS: "600000", GATEWAY_IDLE_TIMEOUT_MS: "600000", GATEWAY_MAX_RETRIES: "0" }),
  { timeoutMs: FUNCTION_TIMEOUT_MS },
);

function postChatStream(): Promise<Response> {
  return fetch(`${fn.lambda.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-caller", "x-provider": "openai" },
    body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], stream: true }),
  });
}

describe("a stream from a provider that stalls, in a function with a short timeout", () => {
  it("ends with the gateway's upstream_timeout event before the function times out", async () => {
    // The role chunk at once, then a content delta a minute later.
    fake.upstream.enqueue({ kind: "stream", content: ["late"], intervalMs: 60_000 });
    const started = performance.now();
    const response = await postChatStream();
    expect(response.status).toBe(200);
    // A function killed at its timeout cuts the connection: reading the body then rejects.
    const text = await response.text().catch((error: unknown) => `the body broke off: ${String(error)}`);
    const elapsed = performance.now() - started;
    // The role chunk came through, then the gateway's event ended the stream.
    expect(sseEvents(text)[0]).toMatch(/^data: \{.*"role":"assistant"/);
    expect(expectEndsWithErrorEvent(text)).toMatchObject({ type: "server_error", code: "upstream_timeout" });
    // A whole body ending in the event was written before the function's end (a kill breaks it off);
    // and it was the deadline that ended it: it ran for most of the time the invocation had.
    expect(elapsed).toBeGreaterThan(FUNCTION_TIMEOUT_MS - MARGIN_MS - 1_000);
  }, 15_000);

  it("the function was not killed: it answers the next request", async () => {
    const response = await postChatStream();
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("data: [DONE]");
  });
});
