/**
 * Providers' error bodies in OpenAI's shape, `{"error":{"message","type","param","code"}}`,
 * so the client's SDK raises its usual error with the provider's message.
 *
 * The shapes seen in the wild, and where:
 * - OpenAI's own, with `type: null` and extra members: Azure's content filter
 *   400 (`"code":"content_filter","type":null,"status":400,"innererror":{…}}`,
 *   openai-dotnet#55, compl-ai#20); the extra members are kept.
 * - A list holding one error with a numeric `code` and a string `status`:
 *   Gemini's OpenAI endpoint (`[{"error":{"code":400,"status":"INVALID_ARGUMENT",…}}]`,
 *   deer-flow#1515, openai_ex#126).
 * - Top-level `message` (a string, or pydantic's `{"detail":[…]}`), `type`,
 *   `param`, `code`: Mistral (`{"object":"error","message":{"detail":[{"msg":"Extra inputs are not permitted",…}]},…}`,
 *   mistral-go#2, avante.nvim#2347).
 * - `{"error": "text"}` or top-level `message`/`type`: Together (Portkey's
 *   TogetherAIErrorResponseTransform).
 * - `{"fault":{"faultstring","detail":{"errorcode"}}}` or `{"detail": …}`:
 *   Fireworks and FastAPI servers such as vLLM (Portkey's FireworksAIErrorResponseTransform).
 * - Anything else (plain text, an HTML error page): its text becomes the message.
 */

type Json = Record<string, unknown>;

/** The most of an error body the gateway reads; a larger one is relayed as it came. */
export const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/**
 * The error body in OpenAI's shape, or undefined when it already has it
 * (and goes out byte for byte).
 */
export function normalizeErrorBody(status: number, body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return JSON.stringify({ error: fields(status, truncate(body.trim()) || `The provider answered ${status} without a message.`) });
  }
  if (Array.isArray(parsed) && parsed.length > 0 && isObject(parsed[0])) parsed = parsed[0];
  if (!isObject(parsed)) return JSON.stringify({ error: fields(status, truncate(body.trim())) });
  const error = parsed.error;
  if (isObject(error)) return isOpenAIError(error) ? undefined : JSON.stringify({ ...parsed, error: fromErrorObject(status, error) });
  if (typeof error === "string") return JSON.stringify({ error: fields(status, error) });
  if (isObject(parsed.fault)) {
    const detail = parsed.fault.detail;
    return JSON.stringify({ error: fields(status, text(parsed.fault.faultstring), isObject(detail) ? detail.errorcode : undefined) });
  }
  if (parsed.message !== undefined || parsed.detail !== undefined) {
    return JSON.stringify({ error: fields(status, text(parsed.message ?? parsed.detail), parsed.code, parsed.type, parsed.param) });
  }
  return JSON.stringify({ error: fields(status, truncate(body.trim())) });
}

/** An error object with OpenAI's four members typed as OpenAI types them. */
function isOpenAIError(error: Json): boolean {
  return (
    typeof error.message === "string" &&
    typeof error.type === "string" &&
    (error.param === null || typeof error.param === "string") &&
    (error.code === null || typeof error.code === "string")
  );
}

function fromErrorObject(status: number, error: Json): Json {
  // Google's errors carry the HTTP status as `code` and the reason as `status`.
  const code = typeof error.code === "number" && typeof error.status === "string" ? error.status : error.code;
  const { status: _httpStatus, ...rest } = error;
  return { ...rest, ...fields(status, text(error.message), code, error.type, error.param) };
}

function fields(status: number, message: string, code?: unknown, type?: unknown, param?: unknown): Json {
  return {
    message: message === "" ? `The provider answered ${status}.` : message,
    type: typeof type === "string" && type !== "" ? type : status >= 500 ? "server_error" : "invalid_request_error",
    param: typeof param === "string" ? param : null,
    code: typeof code === "string" ? code : typeof code === "number" ? String(code) : null,
  };
}

/** A message as text: a string, pydantic's `{"detail":[{"loc","msg"}]}` or list, or JSON. */
function text(value: unknown): string {
  if (typeof value === "string") return truncate(value);
  const detail = isObject(value) ? value.detail : value;
  if (Array.isArray(detail)) {
    const parts = detail.map((item) => (isObject(item) ? `${Array.isArray(item.loc) ? `${item.loc.join(".")}: ` : ""}${String(item.msg ?? "")}` : String(item)));
    return truncate(parts.join("; "));
  }
  return value === undefined || value === null ? "" : truncate(JSON.stringify(value));
}

function truncate(value: string): string {
  return value.length <= 2000 ? value : `${value.slice(0, 2000)}…`;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
