/**
 * The OpenAI endpoints the gateway forwards, and the matching of a request to one.
 */
import { MethodNotAllowedError, NotFoundError } from "../http/errors.ts";

/** The endpoint names used in logs and metric dimensions (a bounded set). */
export type EndpointName =
  | "chat.completions"
  | "completions"
  | "responses"
  | "embeddings"
  | "moderations"
  | "models.list"
  | "models.retrieve";

/** A matched route: which endpoint, and the path to call on the provider (below its `/v1`). */
export interface Route {
  readonly endpoint: EndpointName;
  readonly method: "GET" | "POST";
  /** Path relative to the provider's base URL, e.g. `/chat/completions`. */
  readonly upstreamPath: string;
  /** Whether the request carries a JSON body. */
  readonly hasBody: boolean;
  /** The decoded id in a resource path (the model of `/models/{id}`). */
  readonly resourceId?: string;
}

interface RouteDefinition {
  readonly endpoint: EndpointName;
  readonly method: "GET" | "POST";
  readonly pattern: RegExp;
}

// A model id is one path segment; "." and ".." (plain or encoded) and encoded
// slashes are refused so no id can climb out of /models on the provider.
const ROUTES: readonly RouteDefinition[] = [
  { endpoint: "chat.completions", method: "POST", pattern: /^\/chat\/completions$/ },
  { endpoint: "completions", method: "POST", pattern: /^\/completions$/ },
  { endpoint: "responses", method: "POST", pattern: /^\/responses$/ },
  { endpoint: "embeddings", method: "POST", pattern: /^\/embeddings$/ },
  { endpoint: "moderations", method: "POST", pattern: /^\/moderations$/ },
  { endpoint: "models.list", method: "GET", pattern: /^\/models$/ },
  { endpoint: "models.retrieve", method: "GET", pattern: /^\/models\/(?!(?:\.|%2e){1,2}$)(?:(?!%2f|%5c)[^/\\])+$/i },
];

const API_PREFIX = "/v1";

/**
 * Finds the route for a method and raw path (no query string).
 * @throws {NotFoundError} when no route has the path
 * @throws {MethodNotAllowedError} when the path exists for other methods only
 */
export function matchRoute(method: string, path: string): Route {
  if (!path.startsWith(`${API_PREFIX}/`)) throw notFound(path);
  const upstreamPath = path.slice(API_PREFIX.length);
  const candidates = ROUTES.filter((route) => route.pattern.test(upstreamPath));
  if (candidates.length === 0) throw notFound(path);
  const route = candidates.find((candidate) => candidate.method === method);
  if (route === undefined) {
    throw new MethodNotAllowedError(method, path, candidates.map((candidate) => candidate.method));
  }
  return {
    endpoint: route.endpoint,
    method: route.method,
    upstreamPath,
    hasBody: route.method === "POST",
    resourceId: route.endpoint === "models.retrieve" ? safeDecode(upstreamPath.slice("/models/".length)) : undefined,
  };
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
