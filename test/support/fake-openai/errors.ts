/**
 * The fake's error answers: api.openai.com's default error per status, and the
 * errors its own request checks send.
 */
import type { Ctx, OpenAIErrorBody } from "./types.ts";
import { sendJson } from "./wire.ts";

export function defaultErrorFor(status: number): OpenAIErrorBody {
  switch (status) {
    case 400:
      return { message: "Invalid request.", type: "invalid_request_error", param: null, code: null };
    case 401:
      return {
        message:
          "Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      };
    case 403:
      return {
        message: "You are not allowed to perform this request.",
        type: "invalid_request_error",
        param: null,
        code: "unsupported_country_region_territory",
      };
    case 404:
      return { message: "The requested resource was not found.", type: "invalid_request_error", param: null, code: null };
    case 409:
      return { message: "Conflict.", type: "invalid_request_error", param: null, code: null };
    case 422:
      return { message: "Unprocessable entity.", type: "invalid_request_error", param: null, code: null };
    case 429:
      return {
        message:
          "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      };
    case 500:
      return {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      };
    case 502:
      return { message: "Bad gateway.", type: "server_error", param: null, code: null };
    case 503:
      return {
        message: "The server is overloaded or not ready yet.",
        type: "server_error",
        param: null,
        code: null,
      };
    default:
      return {
        message: `HTTP ${status}`,
        type: status >= 500 ? "server_error" : "invalid_request_error",
        param: null,
        code: null,
      };
  }
}

export function maskKey(key: string): string {
  if (key.length <= 8) return key;
  return `${key.slice(0, 3)}${"*".repeat(Math.max(4, Math.min(key.length - 7, 20)))}${key.slice(-4)}`;
}

export function sendError(ctx: Ctx, status: number, err: OpenAIErrorBody, extraHeaders: Record<string, string> = {}): void {
  // api.openai.com pretty-prints error bodies with 4-space indentation.
  sendJson(ctx, status, { error: err }, extraHeaders, 4);
}

/** A 400 invalid_request_error with no param and no code, as most of OpenAI's request checks send. */
export function badRequest(ctx: Ctx, message: string): void {
  sendError(ctx, 400, { message, type: "invalid_request_error", param: null, code: null });
}

export function invalidUrl(ctx: Ctx): void {
  sendError(ctx, 404, {
    message: `Invalid URL (${ctx.rec.method} ${ctx.pathname})`,
    type: "invalid_request_error",
    param: null,
    code: null,
  });
}

export function modelNotFound(ctx: Ctx, model: string): void {
  sendError(ctx, 404, {
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: "invalid_request_error",
    param: null,
    code: "model_not_found",
  });
}

export function missingParam(ctx: Ctx, param: string): void {
  sendError(ctx, 400, {
    message: `Missing required parameter: '${param}'.`,
    type: "invalid_request_error",
    param,
    code: "missing_required_parameter",
  });
}

/** The 401 for a request whose Authorization is not `requireAuth`: no key at all, or a wrong one (masked). */
export function unauthorized(ctx: Ctx, authorization: string | undefined): void {
  const given = typeof authorization === "string" ? authorization.replace(/^Bearer\s+/i, "") : "";
  if (!given) {
    return sendError(ctx, 401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      type: "invalid_request_error",
      param: null,
      code: null,
    });
  }
  sendError(ctx, 401, {
    message: `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    type: "invalid_request_error",
    param: null,
    code: "invalid_api_key",
  });
}
