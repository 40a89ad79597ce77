/**
 * A provider's error answer in OpenAI's shape: the status OpenAI's SDKs
 * expect (Anthropic's 529 `overloaded_error` is a 503; Bedrock's 424 model
 * error a 502 and 408 model timeout a 504), the provider's own message, and
 * the headers worth keeping (see decode.ts). The gateway retried the original
 * status before this runs (routing/retry-policy.ts), so a 529 is retried like
 * a 503.
 */

/** One provider error, read from its answer. */
export interface ProviderError {
  readonly status: number;
  readonly message: string;
  /** OpenAI's error type (`invalid_request_error`, `rate_limit_error`, …). */
  readonly type: string;
  readonly code: string | null;
}

/** Provider statuses OpenAI clients would not recognise, and what they mean in OpenAI's terms. */
const STATUS_MAP: Readonly<Record<number, number>> = { 529: 503, 424: 502, 408: 504 };

/** The status an OpenAI client gets for a provider status. */
export function openAIStatus(status: number): number {
  return STATUS_MAP[status] ?? status;
}

/** OpenAI's error type for a status, when the provider's own type says nothing more. */
export function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}
