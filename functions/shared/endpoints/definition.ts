/**
 * The shape of one row of the endpoint catalogue, and the helper that fills in
 * a row's defaults. The rows themselves are in catalogue.ts and the files it
 * gathers (stored-objects.ts, media.ts, refused.ts).
 */

/** The HTTP methods of OpenAI's endpoints; `*` (refused rows only) matches any. */
export type EndpointMethod = "GET" | "POST" | "DELETE" | "*";

/**
 * How a request body is read: not at all, parsed as JSON, or forwarded byte for
 * byte (multipart with its boundary, or any other content type as binary).
 * `json-or-multipart` is multipart when the content type says so, else JSON.
 */
export type RequestBodyKind = "none" | "json" | "multipart" | "json-or-multipart" | "binary";

/**
 * What the endpoint answers with. `json-or-sse` is JSON unless the request
 * asked for a stream (`"stream": true`, `stream=true` in the query or the
 * form); `binary-or-sse` is raw bytes (audio) unless it asked for events.
 */
export type ResponseKind = "json" | "sse" | "json-or-sse" | "binary" | "binary-or-sse";

/**
 * Where the answer reports token usage: `completion` for chat and legacy
 * completions (`prompt_tokens`…, in the last stream chunk when asked for with
 * `stream_options.include_usage`), `response` for the Responses API
 * (`input_tokens`…, in `response.completed`), `embedding` (`prompt_tokens`
 * only), `image` (`usage` of an image answer or of its `*.completed` event),
 * `transcription` (token usage of gpt-4o transcriptions; whisper's
 * `{"type":"duration"}` carries no tokens), `speech` (the `speech.audio.done`
 * event of a streamed speech; raw audio carries none), `none` when the answer
 * carries no usage (binary answers are never read).
 */
export type UsageKind = "completion" | "response" | "embedding" | "image" | "transcription" | "speech" | "none";

/**
 * Why the gateway answers an endpoint itself with 403 instead of forwarding it:
 * `admin` needs an admin key and acts on the whole organization; `client-secret`
 * mints an ephemeral provider credential (or a direct media session) that would
 * bypass the gateway, allowed only for keys with `allowRealtimeClientSecrets`.
 */
export type Refusal = "admin" | "client-secret";

/**
 * How an endpoint touches objects the provider stores (files, batches…), for
 * keeping gateway keys that share one provider key apart (access/object-guard.ts).
 */
export interface OwnershipRule {
  /**
   * The answer's top-level `id` names a new object of the caller's; `when-stored`:
   * only when the body's `store` is true (or absent, with `storedByDefault`).
   */
  readonly creates?: "always" | "when-stored";
  readonly storedByDefault?: boolean;
  /** The path parameter naming the object the caller must own (the outermost one: a child goes with its parent). */
  readonly owned?: string;
  /** Fields of the answer's object(s) naming further objects that become the caller's, e.g. a batch's `output_file_id`. */
  readonly adopts?: readonly string[];
  /** A list of the family's objects: only the caller's reach it. */
  readonly list?: boolean;
}

/**
 * Usage that belongs to a stored object rather than to the request: counted
 * once per object, whichever request first sees it. `batch`: a completed
 * batch's `usage`, at batch prices; `response`: a stored response's usage,
 * reported by its creation or, for a background response, by a later retrieve.
 */
export type UsagePerObject = "batch" | "response";

/** One endpoint of the catalogue. */
export interface EndpointDefinition {
  /** The operation's name in logs, e.g. `files.create`. */
  readonly name: string;
  /**
   * The family: the `endpoint` metric dimension (a short, fixed list) and the
   * unit of key permissions. The part of `name` before its first dot.
   */
  readonly family: string;
  readonly method: EndpointMethod;
  /** Path below `/v1`, with `{param}` for one path segment, e.g. `/models/{model}`; a trailing `/*` matches any rest. */
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
  readonly ownership?: OwnershipRule;
  readonly usagePerObject?: UsagePerObject;
  /** Set on endpoints the gateway refuses with 403 (see {@link Refusal}). */
  readonly refusal?: Refusal;
  /** Answered by the gateway itself, never forwarded to a provider. */
  readonly answeredBy?: "gateway";
}

/** A row as written: name, method and path, and whatever differs from the defaults. */
export type EndpointRow = Pick<EndpointDefinition, "name" | "method" | "path"> & Partial<Omit<EndpointDefinition, "family">>;

/**
 * A row with the defaults of a plain call: a JSON body for POST and none
 * otherwise, a JSON answer, not cached, no usage; stateful when it touches
 * stored objects.
 */
export function endpoint(row: EndpointRow): EndpointDefinition {
  return {
    family: row.name.split(".")[0] as string,
    requestBody: row.method === "POST" ? "json" : "none",
    response: "json",
    cacheable: false,
    usage: "none",
    streamUsageOption: false,
    stateful: row.ownership !== undefined,
    ...row,
  };
}
