/**
 * Assertions on errors in OpenAI's shape, as the gateway sends them: a whole
 * JSON answer, the error event that ends a stream, and what the SDK raises.
 */
import { APIError } from "openai";
import { expect } from "vitest";
import { isOpenAIErrorShape, sseEvents } from "./raw-http.ts";

/** The gateway's `x-gateway-request-id`: a UUID. */
export const GATEWAY_REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The fields of `{"error":{...}}`. */
export interface OpenAIErrorFields {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** A whole answer as text: fetch's, or one parsed off a raw socket. */
export interface TextAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null | undefined };
  readonly text: string;
}

/** What {@link expectOpenAIError} expects of the error. */
export interface ExpectedOpenAIError {
  /** Default "invalid_request_error". */
  readonly type?: string;
  /** `undefined` accepts any code (the gateway has none for the case yet). */
  readonly code: string | null | undefined;
  /** Default null. */
  readonly param?: string | null;
  /** The whole message, or a pattern it matches. */
  readonly message?: string | RegExp;
}

/**
 * Checks an answer is exactly OpenAI's error JSON, `{"error":{"message","type","param","code"}}`
 * in that order, with the status, a JSON content type, a correct content-length and the
 * gateway's request id; returns the error's fields.
 */
export function expectOpenAIError(answer: TextAnswer, status: number, expected: ExpectedOpenAIError): OpenAIErrorFields {
  expect({ status: answer.status, body: answer.text.slice(0, 300) }).toMatchObject({ status });
  expect(answer.headers.get("content-type")).toBe("application/json");
  expect(answer.headers.get("x-gateway-request-id")).toMatch(GATEWAY_REQUEST_ID);
  expect(answer.headers.get("content-length")).toBe(String(Buffer.byteLength(answer.text)));
  const body = JSON.parse(answer.text) as { error: OpenAIErrorFields };
  expect(isOpenAIErrorShape(body)).toBe(true);
  expect(Object.keys(body.error)).toEqual(["message", "type", "param", "code"]);
  expect(body.error).toMatchObject({ type: expected.type ?? "invalid_request_error", param: expected.param ?? null });
  if (expected.code !== undefined) expect(body.error.code).toBe(expected.code);
  expect(body.error.message.length).toBeGreaterThan(10);
  if (typeof expected.message === "string") expect(body.error.message).toBe(expected.message);
  else if (expected.message !== undefined) expect(body.error.message).toMatch(expected.message);
  return body.error;
}

/** An error event: `data: {"error":...}` (chat, gateway) or `event: error` (Responses). */
export function isErrorEvent(event: string): boolean {
  return /^data: \{"error":/m.test(event) || /^event: error$/m.test(event);
}

/**
 * Checks an SSE body ends with exactly one error event, `data: {"error":{"message","type","param","code"}}`,
 * with nothing after it and no [DONE]; returns the error's fields.
 */
export function expectEndsWithErrorEvent(text: string): OpenAIErrorFields {
  expect(text).not.toContain("[DONE]");
  expect(text.endsWith("\n\n")).toBe(true);
  const last = sseEvents(text).at(-1) ?? "";
  expect(last).toMatch(/^data: \{"error":\{"message":/);
  const payload = JSON.parse(last.slice("data: ".length)) as { error: OpenAIErrorFields };
  expect(isOpenAIErrorShape(payload)).toBe(true);
  expect(Object.keys(payload.error)).toEqual(["message", "type", "param", "code"]);
  // Exactly one error event.
  expect(sseEvents(text).filter(isErrorEvent)).toHaveLength(1);
  return payload.error;
}

/** Awaits a request that must fail, and returns what the SDK raised (checked to be an APIError). */
export async function rejectionOf(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the request to fail");
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}
