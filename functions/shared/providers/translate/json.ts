/**
 * Small JSON and body helpers shared by the providers that translate:
 * reading a call's JSON body, reading a provider's body whole (bounded), and
 * building the OpenAI-shaped answers they hand back to the core.
 */
import { GatewayError, InvalidRequestError } from "../../http/errors.ts";
import type { BodySource } from "../../http/wire.ts";
import type { ProviderCall, ProviderResponse } from "../types.ts";

type Json = Record<string, unknown>;

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The call's body as a JSON object (the core checked it is one).
 * @throws {InvalidRequestError} when there is none
 */
export function callJson(call: ProviderCall): Json {
  if (call.body === undefined) throw new InvalidRequestError("The request needs a JSON body.");
  const parsed: unknown = JSON.parse(Buffer.from(call.body.buffer, call.body.byteOffset, call.body.byteLength).toString("utf8"));
  if (!isObject(parsed)) throw new InvalidRequestError("The request body must be a JSON object.");
  return parsed;
}

/** The largest non-streamed provider answer the gateway translates. */
export const MAX_TRANSLATED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * A provider's body, read whole.
 * @throws {GatewayError} 502 past {@link MAX_TRANSLATED_BODY_BYTES}
 */
export async function readWhole(body: BodySource, limit = MAX_TRANSLATED_BODY_BYTES): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw new GatewayError(502, `The provider's answer is larger than ${limit} bytes.`, { code: "upstream_answer_too_large" });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Parses JSON, or undefined for anything that is not. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A JSON answer made in-process (no connection behind it). */
export function jsonAnswer(status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): ProviderResponse {
  const bytes = Buffer.from(JSON.stringify(value));
  return { status, headers: { ...headers, "content-type": "application/json", "content-length": String(bytes.byteLength) }, body: [bytes] };
}

/** An OpenAI error answer made in-process. */
export function errorAnswer(status: number, message: string, param: string | null, code: string | null): ProviderResponse {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  return jsonAnswer(status, { error: { message, type, param, code } });
}

/** What decoding a chat answer needs to know of its request. */
export interface ChatCallFacts {
  readonly model: string;
  readonly stream: boolean;
  /** The client (or the gateway for it) asked for the final usage chunk. */
  readonly includeUsage: boolean;
  /** `response_format` asked for JSON: the JSON response tool answers as content. */
  readonly jsonResponse: boolean;
}

/** The facts of a chat call's body (already checked by prepare). */
export function chatCallFacts(call: ProviderCall): ChatCallFacts {
  const body = callJson(call);
  const format = isObject(body.response_format) ? body.response_format.type : undefined;
  return {
    model: typeof body.model === "string" ? body.model : (call.model ?? ""),
    stream: body.stream === true,
    includeUsage: body.stream === true && isObject(body.stream_options) && body.stream_options.include_usage === true,
    jsonResponse: format === "json_schema" || format === "json_object",
  };
}
