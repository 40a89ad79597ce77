/**
 * OpenAI's endpoints that the gateway forwards, described as data.
 *
 * Each row says how a request to the endpoint is handled: its method and path
 * (with named parameters), what kind of body it carries and answers with,
 * whether its answer may be cached, how its token usage is read, and whether
 * it creates state on the provider. Matching, body handling, usage reading,
 * caching and metrics all read this one table: a new endpoint is a new row.
 */

/** How a request body is read: not at all, parsed as JSON, or forwarded byte for byte. */
export type RequestBodyKind = "none" | "json" | "multipart" | "binary";

/**
 * What the endpoint answers with. `json-or-sse` is JSON unless the request
 * asked for a stream (`"stream": true`).
 */
export type ResponseKind = "json" | "sse" | "json-or-sse" | "binary";

/**
 * Where the answer reports token usage: `completion` for chat and legacy
 * completions (`prompt_tokens`…, in the last stream chunk when asked for with
 * `stream_options.include_usage`), `response` for the Responses API
 * (`input_tokens`…, in `response.completed`), `embedding` (`prompt_tokens`
 * only), `none` when the answer carries no usage.
 */
export type UsageKind = "completion" | "response" | "embedding" | "none";

/** One forwarded endpoint. */
export interface EndpointDefinition {
  /** The name in logs and in the `endpoint` metric dimension (a bounded set). */
  readonly name: string;
  readonly method: "GET" | "POST" | "DELETE";
  /** Path below `/v1`, with `{param}` for one path segment, e.g. `/models/{model}`. */
  readonly path: string;
  readonly requestBody: RequestBodyKind;
  readonly response: ResponseKind;
  /** Whether the answer is a pure function of the request, so the response cache may keep it. */
  readonly cacheable: boolean;
  readonly usage: UsageKind;
  /**
   * Whether a stream of this endpoint can be asked to report usage with
   * `stream_options.include_usage`, which the gateway adds and hides again.
   */
  readonly streamUsageOption: boolean;
  /** Whether the request creates or changes state on the provider (stored objects). */
  readonly stateful: boolean;
  /** The path parameter that names the model, when the path carries one. */
  readonly modelParam?: string;
  /** Answered by the gateway itself, never forwarded to a provider. */
  readonly answeredBy?: "gateway";
}

type EndpointRow = Pick<EndpointDefinition, "name" | "method" | "path"> & Partial<EndpointDefinition>;

/** A row with the defaults of a plain read: no body, a JSON answer, not cached, no usage, no state. */
function endpoint(row: EndpointRow): EndpointDefinition {
  return {
    requestBody: row.method === "POST" ? "json" : "none",
    response: "json",
    cacheable: false,
    usage: "none",
    streamUsageOption: false,
    stateful: false,
    ...row,
  };
}

/** Every endpoint the gateway serves: forwarded, unless `answeredBy` says the gateway answers it. */
export const ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({
    name: "chat.completions",
    method: "POST",
    path: "/chat/completions",
    response: "json-or-sse",
    cacheable: true,
    usage: "completion",
    streamUsageOption: true,
  }),
  endpoint({
    name: "completions",
    method: "POST",
    path: "/completions",
    response: "json-or-sse",
    cacheable: true,
    usage: "completion",
    streamUsageOption: true,
  }),
  // Stored by default (`store: true`) and chained with `previous_response_id`: never cached.
  endpoint({ name: "responses", method: "POST", path: "/responses", response: "json-or-sse", usage: "response", stateful: true }),
  endpoint({ name: "embeddings", method: "POST", path: "/embeddings", cacheable: true, usage: "embedding" }),
  endpoint({ name: "moderations", method: "POST", path: "/moderations", cacheable: true }),
  endpoint({ name: "models.list", method: "GET", path: "/models" }),
  endpoint({ name: "models.retrieve", method: "GET", path: "/models/{model}", modelParam: "model" }),
  // The caller's own gateway key: its limits, budgets and what it has used (core/key-info.ts).
  endpoint({ name: "gateway.key", method: "GET", path: "/gateway/key", answeredBy: "gateway" }),
];
