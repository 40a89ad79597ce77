/**
 * Bedrock's errors in OpenAI's terms. An HTTP error names its exception in
 * the `x-amzn-errortype` header (`ThrottlingException:http://…`) with
 * `{"message":…}` as its body; a stream names it in `:exception-type`
 * (`throttlingException`). Statuses are Bedrock's
 * (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html),
 * mapped for OpenAI's clients in translate/provider-errors.ts.
 */
import { isObject } from "../translate/json.ts";
import { openAIErrorType, openAIStatus, type ProviderError } from "../translate/provider-errors.ts";

/** Bedrock's exceptions (lower-cased) → their status, OpenAI's error type and code. */
export const BEDROCK_EXCEPTIONS: Readonly<Record<string, { readonly status: number; readonly type: string; readonly code: string }>> = {
  validationexception: { status: 400, type: "invalid_request_error", code: "invalid_request" },
  accessdeniedexception: { status: 403, type: "permission_error", code: "access_denied" },
  unrecognizedclientexception: { status: 403, type: "authentication_error", code: "invalid_api_key" },
  invalidsignatureexception: { status: 403, type: "authentication_error", code: "invalid_signature" },
  expiredtokenexception: { status: 403, type: "authentication_error", code: "expired_token" },
  resourcenotfoundexception: { status: 404, type: "invalid_request_error", code: "model_not_found" },
  modeltimeoutexception: { status: 408, type: "server_error", code: "timeout" },
  servicequotaexceededexception: { status: 400, type: "rate_limit_error", code: "quota_exceeded" },
  throttlingexception: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded" },
  modelnotreadyexception: { status: 429, type: "server_error", code: "model_not_ready" },
  modelerrorexception: { status: 424, type: "server_error", code: "model_error" },
  modelstreamerrorexception: { status: 424, type: "server_error", code: "model_stream_error" },
  internalserverexception: { status: 500, type: "server_error", code: "internal_error" },
  serviceunavailableexception: { status: 503, type: "server_error", code: "overloaded" },
};

/** The exception an HTTP error answer names (`x-amzn-errortype`, else the body's `__type`). */
export function exceptionName(errorTypeHeader: string | undefined, json: unknown): string | undefined {
  const raw = errorTypeHeader ?? (isObject(json) && typeof json.__type === "string" ? json.__type : undefined);
  // "ThrottlingException:http://internal.amazon.com/…" and "com.amazon.coral#ThrottlingException" both name ThrottlingException.
  return raw?.split(":")[0]?.split("#").at(-1);
}

/** The error a Bedrock answer or stream exception says; `status` is the HTTP status, if it came with one. */
export function bedrockError(name: string | undefined, message: unknown, status?: number): ProviderError {
  const known = name === undefined ? undefined : BEDROCK_EXCEPTIONS[name.toLowerCase()];
  const native = status ?? known?.status ?? 500;
  return {
    status: openAIStatus(native),
    message: typeof message === "string" && message !== "" ? message : `The provider answered with status ${native}.`,
    type: known?.type ?? openAIErrorType(native),
    code: known?.code ?? name ?? null,
  };
}

/**
 * The error of an HTTP error answer's body. A refusal of the credentials
 * (401, 403) never passes Bedrock's own message on: AWS's signature errors
 * spell out the canonical request, signed headers (the session token
 * included) and all, and its access errors name the function's role and
 * account. The exception's name says enough.
 */
export function bedrockHttpError(json: unknown, status: number, errorTypeHeader: string | undefined): ProviderError {
  const name = exceptionName(errorTypeHeader, json);
  if (status === 401 || status === 403) {
    const message = `Bedrock refused the request's credentials (${name ?? status}): the gateway's role or key may not invoke this model, or the signature was refused.`;
    return bedrockError(name, message, status);
  }
  return bedrockError(name, isObject(json) ? (json.message ?? json.Message) : undefined, status);
}
