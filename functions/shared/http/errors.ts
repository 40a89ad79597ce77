/**
 * Typed gateway errors and their one mapping to OpenAI's error JSON.
 *
 * Everything the gateway itself rejects is thrown as a {@link GatewayError}
 * and turned into `{"error":{"message","type","param","code"}}` by
 * {@link errorResponse}, so every adapter answers errors the same way.
 * Anything else is an internal fault: it becomes a generic 500 whose message
 * reveals nothing about the cause (middy's `expose = status < 500` rule).
 */
import { REQUEST_ID_HEADER } from "./headers.ts";

/** OpenAI's error body. `code` and `param` are strings or null. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Options shared by every gateway error. */
export interface GatewayErrorOptions {
  type?: string;
  code?: string | null;
  param?: string | null;
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

/** An error the gateway answers itself, with an HTTP status and OpenAI's error fields. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.type = options.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  /** The error as OpenAI's JSON body. */
  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request is malformed (bad JSON, wrong field types, unknown provider). */
export class InvalidRequestError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(400, message, options);
  }
}

/** 401: no credentials or wrong credentials. Never echoes the key it was given. */
export class AuthenticationError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(401, message, { code: "invalid_api_key", ...options });
  }
}

/** 403: the caller is known but may not do this (an admin endpoint, a realtime client secret, a list the gateway cannot filter). */
export class PermissionDeniedError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(403, message, { code: "permission_denied", ...options });
  }
}

/** 404: no such route under `/v1`. */
export class NotFoundError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(404, message, { code: "not_found", ...options });
  }
}

/** 405: the route exists, the method does not; carries the `allow` header. */
export class MethodNotAllowedError extends GatewayError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(405, `Method ${method} is not allowed for ${path}. Allowed: ${allowed.join(", ")}.`, {
      code: "method_not_allowed",
      headers: { allow: allowed.join(", ") },
    });
  }
}

/** 413: the request body is larger than the gateway accepts; `hint` says how to send it instead. */
export class PayloadTooLargeError extends GatewayError {
  readonly limitBytes: number;

  constructor(limitBytes: number, hint?: string) {
    const limit = `${limitBytes} bytes${limitBytes >= 1024 * 1024 ? ` (${Math.round((limitBytes / (1024 * 1024)) * 10) / 10} MiB)` : ""}`;
    super(413, `The request body is larger than the gateway's limit of ${limit}.${hint === undefined ? "" : ` ${hint}`}`, { code: "request_too_large" });
    this.limitBytes = limitBytes;
  }
}

/** 415: the request body's content type is not one the endpoint takes. */
export class UnsupportedMediaTypeError extends GatewayError {
  constructor(contentType: string, expected = "application/json") {
    super(415, `Content-Type ${JSON.stringify(contentType)} is not supported; send ${expected}.`, {
      code: "unsupported_media_type",
    });
  }
}

/** 500: the gateway is misconfigured (a missing provider key, a bad secret). */
export class ConfigurationError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(500, message, { code: "gateway_misconfigured", ...options });
  }
}

/** 503: a dependency of the gateway (Secrets Manager) is failing; try again. */
export class DependencyUnavailableError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(503, message, { code: "gateway_dependency_unavailable", ...options });
  }
}

/** 502: the provider could not be reached or broke the connection before answering. */
export class UpstreamUnavailableError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(502, message, { code: "upstream_unavailable", ...options });
  }
}

/** 504: the provider did not answer within a time bound. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(message: string, options: GatewayErrorOptions = {}) {
    super(504, message, { code: "upstream_timeout", ...options });
  }
}

/** A gateway response carrying an error: status, headers and the serialized body. */
export interface ErrorResponse {
  status: number;
  /** `content-type`, `content-length`, the error's own headers and the gateway request id. */
  headers: Record<string, string>;
  body: Buffer;
}

const INTERNAL_ERROR = new GatewayError(500, "The gateway failed to handle the request.", {
  code: "internal_error",
});

/** Narrows anything thrown to the gateway error that answers it (generic 500 for the unexpected). */
export function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : INTERNAL_ERROR;
}

/** The one place that turns an error into OpenAI's wire format, headers included. */
export function errorResponse(error: unknown, requestId: string): ErrorResponse {
  const gatewayError = asGatewayError(error);
  const body = Buffer.from(JSON.stringify(gatewayError.toJSON()));
  return {
    status: gatewayError.status,
    headers: {
      "content-type": "application/json",
      "content-length": String(body.byteLength),
      ...gatewayError.headers,
      [REQUEST_ID_HEADER]: requestId,
    },
    body,
  };
}

/** A mid-stream failure as the SSE event OpenAI's SDK raises: `data: {"error":{...}}`. */
export function errorEvent(error: unknown): string {
  return `data: ${JSON.stringify(asGatewayError(error).toJSON())}\n\n`;
}
