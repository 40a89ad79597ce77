/**
 * Anthropic's errors in OpenAI's terms. Messages answers errors as
 * `{"type":"error","error":{"type":"rate_limit_error","message":"…"}}`, with
 * the same object as a stream's `event: error` (docs.anthropic.com/en/api/errors);
 * `overloaded_error` is its HTTP 529, which OpenAI's clients know as a 503.
 */
import { isObject } from "../translate/json.ts";
import { openAIErrorType, openAIStatus, type ProviderError } from "../translate/provider-errors.ts";
import { statusError } from "../translate/decode.ts";

/** Anthropic's error types → OpenAI's error type and code. */
export const ANTHROPIC_ERROR_TYPES: Readonly<Record<string, { readonly type: string; readonly code: string | null }>> = {
  invalid_request_error: { type: "invalid_request_error", code: null },
  authentication_error: { type: "authentication_error", code: "invalid_api_key" },
  billing_error: { type: "invalid_request_error", code: "billing_error" },
  permission_error: { type: "permission_error", code: null },
  not_found_error: { type: "invalid_request_error", code: "not_found" },
  request_too_large: { type: "invalid_request_error", code: "request_too_large" },
  rate_limit_error: { type: "rate_limit_error", code: "rate_limit_exceeded" },
  timeout_error: { type: "server_error", code: "timeout" },
  api_error: { type: "server_error", code: null },
  overloaded_error: { type: "server_error", code: "overloaded" },
};

/** The error an Anthropic error body (or event) says; `status` is the HTTP status it came with. */
export function anthropicError(json: unknown, status: number): ProviderError {
  const error = isObject(json) && isObject(json.error) ? json.error : undefined;
  if (error === undefined || typeof error.message !== "string") return statusError(status);
  const known = typeof error.type === "string" ? ANTHROPIC_ERROR_TYPES[error.type] : undefined;
  return {
    status: openAIStatus(status),
    message: error.message,
    type: known?.type ?? openAIErrorType(status),
    // An error type added after this table was written is its own code.
    code: known !== undefined ? known.code : typeof error.type === "string" ? error.type : null,
  };
}
