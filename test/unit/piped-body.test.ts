/**
 * The relay's piped way for bodies that are not event streams
 * (streaming/piped-body.ts): what relayBody guarantees, checked on the piped
 * path itself, with a Node stream as the provider's body and a Node writable
 * as the client, without a signal doing the work for it.
 */
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MODEL_ENDPOINTS } from "../../functions/shared/endpoints/catalogue.ts";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import { isPipeable, relayedBody, type PipeableBody } from "../../functions/shared/streaming/piped-body.ts";
import type { RelayOptions, RelayResult } from "../../functions/shared/streaming/relay.ts";
import type { UpstreamResponse } from "../../functions/shared/upstream/client.ts";
import { deadlines } from "../../functions/shared/upstream/deadlines.ts";

const CHAT = MODEL_ENDPOINTS.find((endpoint) => endpoint.name === "chat.completions");
if (CHAT === undefined) throw new Error("no chat endpoint");

interface Relay {
  readonly source: PassThrough;
  readonly body: PipeableBody;
  /** Every onEnd call. */
  readonly ends: RelayResult[];
  readonly ended: Promise<RelayResult>;
}

function relay(options: Partial<RelayOptions> = {}, status = 200): Relay {
  const source = new PassThrough();
  const upstream: UpstreamResponse = {
    status,
    headers: { "content-type": "application/json" },
    body: source,
    abort: (reason) => source.destroy(reason),
    discard: () => source.resume(),
  };
  const ends: RelayResult[] = [];
  const { promise: ended, resolve } = Promise.withResolvers<RelayResult>();
  const body = relayedBody(upstream, {
    endpoint: CHAT as NonNullable<typeof CHAT>,
    idleTimeoutMs: 5_000,
    remainingMs: 60_000,
    signal: new AbortController().signal,
    stripInjectedUsage: false,
    now: () => performance.now(),
    onEnd: (result) => {
      ends.push(result);
      resolve(result);
    },
    ...options,
  });
  if (!isPipeable(body)) throw new Error("a JSON body from a Node stream should be pipeable");
  return { source, body, ends, ended };
}

/** A client that keeps what it is sent; it takes nothing until `take()` when `held`. */
function client(held = false) {
  const received: Buffer[] = [];
  let release: (() => void) | undefined;
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      received.push(chunk);
      if (held) release = done;
      else done();
    },
  });
  // A destroyed response's error is the client's to see; here it is read from `out.errored`.
  out.on("error", () => undefined);
  return {
    out,
    received,
    take() {
      held = false;
      release?.();
    },
  };
}

const COMPLETION = JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });

describe("the piped relay of a body that is not an event stream", () => {
  it("writes the body as it comes, ends the client's response, and reports usage once", async () => {
    const { source, body, ends } = relay({ recordUpToBytes: 1 << 20 });
    const { out, received } = client();
    const piping = body.pipeTo(out);
    source.write(COMPLETION.slice(0, 10));
    source.end(COMPLETION.slice(10));
    expect(await piping).toBe(true);
    expect(out.writableEnded).toBe(true);
    expect(Buffer.concat(received).toString()).toBe(COMPLETION);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ outcome: "ok", relayedBytes: COMPLETION.length, usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 } });
    expect(Buffer.from(ends[0]?.recorded ?? []).toString()).toBe(COMPLETION);
  });

  it("a finished relay leaves no listener on the client's response, which may outlive it (kept per connection)", async () => {
    const { source, body } = relay({ recordUpToBytes: 1 << 20 });
    const { out } = client();
    const before = { drain: out.listenerCount("drain"), close: out.listenerCount("close") };
    const piping = body.pipeTo(out);
    source.end(COMPLETION);
    expect(await piping).toBe(true);
    expect({ drain: out.listenerCount("drain"), close: out.listenerCount("close") }).toEqual(before);
  });

  it("a relay that ends, whole or broken off, leaves no deadline waiting: its bounds go with it", async () => {
    const whole = relay();
    const piping = whole.body.pipeTo(client().out);
    whole.source.end(COMPLETION);
    await piping;
    const broken = relay();
    void broken.body.pipeTo(client().out);
    broken.source.write(COMPLETION.slice(0, 10));
    broken.source.destroy(new Error("connection reset"));
    expect((await broken.ended).outcome).toBe("upstream_failure");
    expect(deadlines.size).toBe(0);
  });

  it("an error answer is relayed as it is, its usage never read nor its bytes kept for the cache", async () => {
    const { source, body, ended } = relay({ recordUpToBytes: 1 << 20 }, 500);
    const { out, received } = client();
    const piping = body.pipeTo(out);
    source.end(COMPLETION);
    expect(await piping).toBe(true);
    expect(Buffer.concat(received).toString()).toBe(COMPLETION);
    expect(await ended).toMatchObject({ outcome: "provider_error", usage: undefined, recorded: undefined });
  });

  it("holds the provider back while the client is slower (backpressure), then relays the rest", async () => {
    const { source, body } = relay();
    const slow = client(true);
    const before = { drain: slow.out.listenerCount("drain"), close: slow.out.listenerCount("close") };
    const piping = body.pipeTo(slow.out);
    const chunk = Buffer.alloc(4096, 0x61);
    source.write(chunk);
    // The client took nothing: the provider's body is paused rather than read on into memory.
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.isPaused()).toBe(true);
    source.end(chunk);
    slow.take();
    expect(await piping).toBe(true);
    expect(Buffer.concat(slow.received).byteLength).toBe(2 * chunk.byteLength);
    // The relay listened for 'drain' while it waited, and leaves no listener behind.
    expect({ drain: slow.out.listenerCount("drain"), close: slow.out.listenerCount("close") }).toEqual(before);
  });

  it("a provider slower than the idle bound in total, but never silent that long, is not cut", async () => {
    const { source, body, ended } = relay({ idleTimeoutMs: 400 });
    const { out, received } = client();
    const piping = body.pipeTo(out);
    for (let piece = 0; piece < 6; piece += 1) {
      source.write(" ");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    source.end(COMPLETION);
    expect(await piping).toBe(true);
    expect((await ended).outcome).toBe("ok");
    expect(Buffer.concat(received).toString().trim()).toBe(COMPLETION);
  });

  it("a provider silent past the idle bound: the client's response is destroyed with the timeout, outcome timeout", async () => {
    const { source, body, ended } = relay({ idleTimeoutMs: 50 });
    const { out } = client();
    const piping = body.pipeTo(out);
    source.write(COMPLETION.slice(0, 5));
    expect(await piping).toBe(false);
    expect((await ended).outcome).toBe("timeout");
    expect(out.destroyed).toBe(true);
    expect(out.errored).toBeInstanceOf(GatewayError);
    expect((out.errored as GatewayError).status).toBe(504);
  });

  it("a body that breaks off: the client's response is destroyed with a 502, never ended as if whole", async () => {
    const { source, body, ended } = relay();
    const { out } = client();
    const piping = body.pipeTo(out);
    source.write(COMPLETION.slice(0, 5));
    await new Promise((resolve) => setImmediate(resolve));
    source.destroy(new Error("connection reset"));
    expect(await piping).toBe(false);
    expect((await ended).outcome).toBe("upstream_failure");
    expect(out.writableEnded).toBe(false);
    expect((out.errored as GatewayError).code).toBe("upstream_stream_error");
  });

  it("a body that broke before the relay began: the relay ends at once, as a broken body", async () => {
    const { source, body, ended } = relay();
    // The real provider body (an IncomingMessage) drops an error nobody listens to.
    source.on("error", () => undefined);
    source.destroy(new Error("socket hang up"));
    await new Promise((resolve) => setImmediate(resolve));
    const { out } = client();
    expect(await body.pipeTo(out)).toBe(false);
    expect((await ended).outcome).toBe("upstream_failure");
    expect((out.errored as GatewayError).code).toBe("upstream_stream_error");
  });

  it("a body paused before the relay began still flows", async () => {
    const { source, body } = relay();
    source.pause();
    const { out, received } = client();
    const piping = body.pipeTo(out);
    source.end(COMPLETION);
    expect(await piping).toBe(true);
    expect(Buffer.concat(received).toString()).toBe(COMPLETION);
  });

  it("the total bound ends a relay whose client takes nothing", async () => {
    const { source, body, ended } = relay({ remainingMs: 100, idleTimeoutMs: 5_000 });
    const slow = client(true);
    const piping = body.pipeTo(slow.out);
    source.write(Buffer.alloc(4096));
    expect(await piping).toBe(false);
    expect((await ended).outcome).toBe("timeout");
    expect(slow.out.destroyed).toBe(true);
  });

  it("a client that goes away: the rest of the provider's body is not read, and the end is reported once", async () => {
    const { source, body, ends, ended } = relay();
    const slow = client(true);
    const piping = body.pipeTo(slow.out);
    source.write(Buffer.alloc(4096));
    await new Promise((resolve) => setImmediate(resolve));
    slow.out.destroy();
    expect(await piping).toBe(false);
    await ended;
    expect(source.destroyed).toBe(true);
    expect(ends).toHaveLength(1);
  });

  it("an event stream is left to relayBody; iterating a pipeable body gives the same bytes", async () => {
    const source = new PassThrough();
    const eventStream = relayedBody(
      { status: 200, headers: { "content-type": "text/event-stream" }, body: source, abort: () => undefined, discard: () => undefined },
      { endpoint: CHAT as NonNullable<typeof CHAT>, idleTimeoutMs: 1_000, remainingMs: 1_000, signal: new AbortController().signal, stripInjectedUsage: false, now: () => 0, onEnd: () => undefined },
    );
    expect(isPipeable(eventStream)).toBe(false);
    source.destroy();

    const { source: json, body } = relay();
    json.end(COMPLETION);
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe(COMPLETION);
  });
});
