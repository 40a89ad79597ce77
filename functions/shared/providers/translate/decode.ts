/**
 * The shapes of a translated answer. `decode` must say the status and headers
 * at once, while the body is still on its way: so the body is a generator
 * that reads the provider's answer when the relay reads it, and the relay's
 * idle and total bounds, and its abort, still govern the provider's body.
 */
import { GatewayError } from "../../http/errors.ts";
import { headerValue, type IncomingHeaders } from "../../http/headers.ts";
import type { BodySource } from "../../http/wire.ts";
import type { ProviderResponse } from "../types.ts";
import { parseJson, readWhole } from "./json.ts";
import { openAIErrorType, openAIStatus, type ProviderError } from "./provider-errors.ts";

/** Headers the client gets with a translated answer: its content type, the provider's request id, its retry advice. */
export function translatedHeaders(upstream: IncomingHeaders, contentType: string, requestIdHeader: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": contentType };
  const requestId = headerValue(upstream, requestIdHeader);
  if (requestId !== undefined) headers["x-request-id"] = requestId;
  for (const name of ["retry-after", "retry-after-ms"]) {
    const value = headerValue(upstream, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** A JSON answer computed from the provider's whole body when the relay reads it. */
export function deferredJson(status: number, headers: Record<string, string>, compute: () => Promise<unknown>): ProviderResponse {
  async function* body(): AsyncGenerator<Uint8Array> {
    yield Buffer.from(JSON.stringify(await compute()));
  }
  return { status, headers, body: body() };
}

/** The provider's whole body as JSON. @throws {GatewayError} 502 for a body that is not JSON */
export async function readJson(body: BodySource): Promise<unknown> {
  const parsed = parseJson(await readWhole(body));
  if (parsed === undefined) throw new GatewayError(502, "The provider's answer is not valid JSON.", { code: "upstream_malformed_response" });
  return parsed;
}

/**
 * A provider's error answer in OpenAI's shape: its status mapped for OpenAI's
 * clients (provider-errors.ts), its body read by `read` (which gets undefined
 * for a body that is not JSON and should then say what it can).
 */
export function errorAnswer(response: ProviderResponse, headers: Record<string, string>, read: (json: unknown, status: number) => ProviderError): ProviderResponse {
  const status = openAIStatus(response.status);
  return deferredJson(status, headers, async () => {
    const error = read(parseJson(await readWhole(response.body, 1024 * 1024)), response.status);
    return { error: { message: error.message, type: error.type, param: null, code: error.code } };
  });
}

/** The error a provider's status says, for bodies that say nothing. */
export function statusError(status: number): ProviderError {
  return { status: openAIStatus(status), message: `The provider answered with status ${status}.`, type: openAIErrorType(status), code: null };
}

/** An event-stream answer whose events `events` writes as the provider's body arrives. */
export function sseAnswer(status: number, headers: Record<string, string>, events: AsyncIterable<string>): ProviderResponse {
  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const text of events) yield Buffer.from(text);
  }
  return { status, headers: { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" }, body: body() };
}
