/**
 * A request's body, read as its endpoint says (none, JSON, multipart or
 * binary) and checked before anything goes upstream. JSON is parsed (the
 * gateway reads the model and the stream flag); multipart and binary bodies
 * are never decoded: they go upstream byte for byte with their content type.
 */
import type { RequestBodyKind } from "../endpoints/catalogue.ts";
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors.ts";
import { hasMoreOpenings, nestingExceeds } from "./json-scan.ts";
import type { GatewayRequest } from "./wire.ts";

/** A parsed request body: always a JSON object. */
export type JsonBody = Record<string, unknown>;

/** A request body as the endpoint reads it. */
export type RequestBody =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly raw: Uint8Array; readonly json: JsonBody }
  | { readonly kind: "multipart" | "binary"; readonly raw: Uint8Array; readonly contentType: string };

const MULTIPART_TYPE = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=("?)[^";]{1,70}\1\s*(?:;|$)/i;

/**
 * Reads a request's body as its endpoint's kind says.
 * @throws {UnsupportedMediaTypeError} for a content type the kind does not take
 * @throws {PayloadTooLargeError} over `maxBytes`
 * @throws {InvalidRequestError} for a JSON body that is not a JSON object, or a missing body
 */
export function readRequestBody(kind: RequestBodyKind, contentType: string | undefined, body: Uint8Array | undefined, maxBytes: number): RequestBody {
  switch (kind) {
    case "json-or-multipart":
      return readRequestBody(isMultipart(contentType) ? "multipart" : "json", contentType, body, maxBytes);
    case "none":
      return { kind };
    case "json": {
      const json = parseJsonBody(contentType, body, maxBytes);
      return { kind, raw: body as Uint8Array, json };
    }
    case "multipart":
    case "binary": {
      if (kind === "multipart" && (contentType === undefined || !MULTIPART_TYPE.test(contentType))) {
        throw new UnsupportedMediaTypeError((contentType ?? "").slice(0, 100), "multipart/form-data with a boundary");
      }
      if (body === undefined || body.byteLength === 0) {
        throw new InvalidRequestError("The request body is empty.", { code: "missing_body" });
      }
      if (body.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes, tooLargeHint(kind));
      return { kind, raw: body, contentType: contentType ?? "application/octet-stream" };
    }
  }
}

/** Whether a content type is a multipart form (with or without a valid boundary). */
function isMultipart(contentType: string | undefined): boolean {
  return contentType?.trimStart().toLowerCase().startsWith("multipart/") ?? false;
}

/**
 * Reads a request's raw body (the adapter reads it only when asked), naming
 * the limit and, for a form (a file upload), the way to send more.
 * @throws {PayloadTooLargeError} when the adapter refuses a body over the limit
 */
export function readRawBody(request: GatewayRequest, kind: RequestBodyKind): Uint8Array | undefined | Promise<Uint8Array | undefined> {
  if (request.readBody === undefined) return request.body;
  let read;
  try {
    read = request.readBody();
  } catch (error) {
    throw withHint(error, kind);
  }
  // A body the adapter has whole comes at once, and the request waits on no promise (hot path, npm run bench).
  return read instanceof Promise ? read.catch((error: unknown) => Promise.reject(withHint(error, kind))) : read;
}

/** A body too large for the gateway, with the way around the limit for a file. */
function withHint(error: unknown, kind: RequestBodyKind): unknown {
  return error instanceof PayloadTooLargeError ? new PayloadTooLargeError(error.limitBytes, tooLargeHint(kind)) : error;
}

/** Files go through the Uploads API in parts, each well under the limit; other bodies have no other way. */
function tooLargeHint(kind: RequestBodyKind): string | undefined {
  if (kind !== "multipart" && kind !== "json-or-multipart" && kind !== "binary") return undefined;
  return (
    "To send a larger file, use the Uploads API: POST /v1/uploads, then the file in parts of a few MB each " +
    "(POST /v1/uploads/{upload_id}/parts), then POST /v1/uploads/{upload_id}/complete; the file can then be used by its id."
  );
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const CHARSET = /;\s*charset\s*=\s*("?[^";\s]*"?)/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses and checks a request body.
 * @throws {UnsupportedMediaTypeError} for a content type other than JSON (a missing one is taken as JSON)
 * @throws {PayloadTooLargeError} over `maxBytes`
 * @throws {InvalidRequestError} for an empty body, bad UTF-8, invalid JSON, a non-object, or a non-string model
 */
export function parseJsonBody(contentType: string | undefined, body: Uint8Array | undefined, maxBytes: number): JsonBody {
  // The content type nearly every request sends takes neither regex (hot path, npm run bench).
  if (contentType !== undefined && contentType !== "" && contentType !== "application/json") {
    if (!JSON_TYPE.test(contentType)) throw new UnsupportedMediaTypeError(contentType.slice(0, 100));
    // JSON is UTF-8 (RFC 8259): a body declared in another charset would mean something else to the provider.
    const charset = CHARSET.exec(contentType)?.[1]?.replaceAll('"', "").toLowerCase();
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      throw new UnsupportedMediaTypeError(contentType.slice(0, 100), "application/json in UTF-8");
    }
  }
  if (body === undefined || body.byteLength === 0) {
    throw new InvalidRequestError("The request body is empty; the endpoint expects a JSON object.", { code: "invalid_json" });
  }
  if (body.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidRequestError("The request body is not valid UTF-8.", { code: "invalid_encoding" });
  }
  // The gateway re-serializes some bodies (cache keys, usage options); nesting
  // deep enough to overflow the stack there is refused here, before parsing.
  if (text.length > 2 * MAX_DEPTH && hasMoreOpenings(text, MAX_DEPTH) && nestingExceeds(text, MAX_DEPTH)) {
    throw new InvalidRequestError(`The request body nests deeper than ${MAX_DEPTH} levels.`, { code: "invalid_json" });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidRequestError("We could not parse the JSON body of your request: it is not valid JSON.", {
      code: "invalid_json",
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError("The request body must be a JSON object.", { code: "invalid_json" });
  }
  const model = (parsed as JsonBody).model;
  if (model !== undefined && typeof model !== "string") {
    throw new InvalidRequestError(`Invalid type for 'model': expected a string, but got ${describe(model)} instead.`, {
      param: "model",
      code: "invalid_type",
    });
  }
  return parsed as JsonBody;
}

const MAX_DEPTH = 256;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
