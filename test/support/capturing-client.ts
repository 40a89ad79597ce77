/**
 * An openai SDK client that keeps the exact bytes of every request body it
 * sends (a multipart form with its boundary, as the SDK serialised it), so a
 * test can compare them with what the provider received.
 */
import { createHash } from "node:crypto";
import OpenAI from "openai";

/** A client and the bodies it sent, in order. */
export interface CapturingClient {
  readonly client: OpenAI;
  readonly sent: Buffer[];
}

/** The SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Creates a client of `baseURL` with `apiKey` that records each request body before sending it unchanged. */
export function capturingClient(baseURL: string, apiKey: string, headers: Record<string, string> = {}): CapturingClient {
  const sent: Buffer[] = [];
  const client = new OpenAI({
    apiKey,
    baseURL,
    maxRetries: 0,
    timeout: 60_000,
    defaultHeaders: { "x-provider": "openai", ...headers },
    fetch: async (url, init) => {
      const request = new Request(url, init);
      const body = Buffer.from(await request.arrayBuffer());
      // The SDK first probes fetch with a bodiless request; uploads are the ones with a body.
      if (body.byteLength > 0) sent.push(body);
      return fetch(request.url, { method: request.method, headers: request.headers, body: body.byteLength === 0 ? undefined : body, signal: request.signal });
    },
  });
  return { client, sent };
}
