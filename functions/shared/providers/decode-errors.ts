/**
 * The `decode` step of providers whose error bodies are not always OpenAI's:
 * a 4xx/5xx body is read (it is small) and rewritten by
 * {@link normalizeErrorBody}; every other answer passes untouched.
 */
import type { BodySource } from "../http/wire.ts";
import { readPrefix } from "./body-prefix.ts";
import { MAX_ERROR_BODY_BYTES, normalizeErrorBody } from "./error-body.ts";
import type { ProviderResponse } from "./types.ts";

/** The response with its error body in OpenAI's shape (a success, or a compressed body, unchanged). */
export function decodeErrorResponse(response: ProviderResponse): ProviderResponse {
  if (response.status < 400 || response.headers["content-encoding"] !== undefined) return response;
  const { "content-length": _length, ...headers } = response.headers;
  return { status: response.status, headers: { ...headers, "content-type": "application/json" }, body: normalizedBody(response.status, response.body) };
}

async function* normalizedBody(status: number, body: BodySource): AsyncGenerator<Uint8Array> {
  const prefix = await readPrefix(body, MAX_ERROR_BODY_BYTES);
  // Too large to be an error message: relayed as it came.
  if (!prefix.complete) return yield* prefix.whole();
  const normalized = normalizeErrorBody(status, prefix.bytes.toString("utf8"));
  yield normalized === undefined ? prefix.bytes : Buffer.from(normalized);
}
