/**
 * Matching a request's method and path to a row of the endpoint catalogue.
 */
import { MethodNotAllowedError, NotFoundError } from "../http/errors.ts";
import { ENDPOINTS, type EndpointDefinition } from "./catalogue.ts";

/** A matched request: which endpoint, the path to call on the provider, and the path's parameters. */
export interface EndpointMatch {
  readonly endpoint: EndpointDefinition;
  /** Path relative to the provider's base URL, raw as the client sent it, e.g. `/chat/completions`. */
  readonly upstreamPath: string;
  /** Path parameters, percent-decoded (an undecodable one is kept as sent). */
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledEndpoint {
  readonly endpoint: EndpointDefinition;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
}

// One path segment: "." and ".." (plain or encoded) and encoded slashes or
// backslashes are refused, so no parameter can climb out of its path on the provider.
const SEGMENT = "((?!(?:\\.|%2[eE]){1,2}(?:/|$))(?:(?!%2[fF]|%5[cC])[^/\\\\])+)";

// A trailing "/*" (refused families such as /organization/*) matches the bare path and anything below it.
const REST = "(?:/.*)?";

function compile(endpoint: EndpointDefinition): CompiledEndpoint {
  const paramNames: string[] = [];
  const rest = endpoint.path.endsWith("/*");
  const source = (rest ? endpoint.path.slice(0, -2) : endpoint.path)
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      paramNames.push(name);
      return SEGMENT;
    })
    .join("");
  return { endpoint, pattern: new RegExp(`^${source}${rest ? REST : ""}$`, "s"), paramNames };
}

const COMPILED: readonly CompiledEndpoint[] = ENDPOINTS.map(compile);

const API_PREFIX = "/v1";

/**
 * Finds the endpoint for a method and raw path (no query string).
 * @throws {NotFoundError} when no endpoint has the path
 * @throws {MethodNotAllowedError} when the path exists for other methods only
 */
export function matchEndpoint(method: string, path: string, endpoints: readonly CompiledEndpoint[] = COMPILED): EndpointMatch {
  if (!path.startsWith(`${API_PREFIX}/`)) throw notFound(path);
  const upstreamPath = path.slice(API_PREFIX.length);
  let allowed: string[] | undefined;
  for (const candidate of endpoints) {
    const match = candidate.pattern.exec(upstreamPath);
    if (match === null) continue;
    if (candidate.endpoint.method !== method && candidate.endpoint.method !== "*") {
      (allowed ??= []).push(candidate.endpoint.method);
      continue;
    }
    const params: Record<string, string> = {};
    candidate.paramNames.forEach((name, index) => {
      params[name] = safeDecode(match[index + 1] ?? "");
    });
    return { endpoint: candidate.endpoint, upstreamPath, params };
  }
  if (allowed !== undefined) throw new MethodNotAllowedError(method, path, allowed);
  throw notFound(path);
}

/** The model a matched path names (`/models/{model}`), if any. */
export function modelOfPath(match: EndpointMatch): string | undefined {
  const param = match.endpoint.modelParam;
  return param === undefined ? undefined : match.params[param];
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function notFound(path: string): NotFoundError {
  return new NotFoundError(`Unknown request URL: ${truncate(path, 200)}. Please check the URL for typos.`);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
