/**
 * What each fake provider does differently from OpenAI, as data and pure
 * functions: where its API lives, how it wants its key, whether it refuses
 * `stream_options`, how its streams and errors look. Each quirk follows the
 * provider's documented or reported wire (sources in
 * functions/shared/config/provider-presets.ts and providers/error-body.ts).
 */

/** The fake providers, by the preset they stand for. */
export type FakeFlavor =
  | "azure-v1"
  | "azure-dated"
  | "groq"
  | "mistral"
  | "deepseek"
  | "together"
  | "fireworks"
  | "openrouter"
  | "xai"
  | "gemini"
  | "ollama"
  | "vllm";

type Json = Record<string, unknown>;

/** Where each provider's OpenAI-style API starts. */
export const PATH_PREFIX: Readonly<Record<FakeFlavor, string>> = {
  "azure-v1": "/openai/v1",
  "azure-dated": "/openai",
  groq: "/openai/v1",
  mistral: "/v1",
  deepseek: "/v1",
  together: "/v1",
  fireworks: "/inference/v1",
  openrouter: "/api/v1",
  xai: "/v1",
  gemini: "/v1beta/openai",
  ollama: "/v1",
  vllm: "/v1",
};

/** Providers that refuse `stream_options`, with the refusal they send. */
export function refusesStreamOptions(flavor: FakeFlavor, apiVersion: string | undefined): { status: number; body: unknown } | undefined {
  switch (flavor) {
    case "mistral":
      return {
        status: 422,
        body: {
          object: "error",
          message: { detail: [{ type: "extra_forbidden", loc: ["body", "stream_options"], msg: "Extra inputs are not permitted", input: { include_usage: true } }] },
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      };
    case "groq":
    case "together":
    case "fireworks":
      return { status: 400, body: { error: { message: "property 'stream_options' is unsupported", type: "invalid_request_error" } } };
    case "azure-dated":
      return apiVersion !== undefined && apiVersion < "2024-09-01"
        ? { status: 400, body: { error: { code: "BadRequest", message: "Unrecognized request argument supplied: stream_options" } } }
        : undefined;
    default:
      return undefined;
  }
}

/** Providers whose streams carry usage whether or not it was asked for. */
export function alwaysStreamsUsage(flavor: FakeFlavor): boolean {
  return ["groq", "mistral", "together", "fireworks", "openrouter", "gemini"].includes(flavor);
}

/** An OpenAI error body in the provider's own shape. */
export function providerError(flavor: FakeFlavor, status: number, error: Json): unknown {
  const message = String(error.message ?? "error");
  switch (flavor) {
    case "azure-v1":
    case "azure-dated":
      return { error: { code: error.code ?? String(status), message, type: null, param: error.param ?? null, status } };
    case "gemini":
      return [{ error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : status >= 500 ? "UNAVAILABLE" : "INVALID_ARGUMENT" } }];
    case "mistral":
      return { object: "error", message, type: error.type ?? "invalid_request_error", param: null, code: null };
    case "together":
      return { error: message };
    default:
      return { error };
  }
}

/** Azure's content filter refusing a prompt (as openai-dotnet#55 shows it). */
export const AZURE_CONTENT_FILTER_ERROR = {
  error: {
    message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
    type: null,
    param: "prompt",
    code: "content_filter",
    status: 400,
    innererror: {
      code: "ResponsibleAIPolicyViolation",
      content_filter_result: { hate: { filtered: false, severity: "safe" }, violence: { filtered: true, severity: "high" } },
    },
  },
};

const SAFE = { hate: { filtered: false, severity: "safe" }, self_harm: { filtered: false, severity: "safe" }, sexual: { filtered: false, severity: "safe" }, violence: { filtered: false, severity: "safe" } };

/**
 * Rewrites one stream's events (each a JSON chunk, or `[DONE]`) the way the
 * provider sends them; returns the texts to write. State is per stream.
 */
export function createStreamRewriter(flavor: FakeFlavor, clientAskedUsage: boolean): (data: string) => string[] {
  let held: Json | undefined;
  let started = false;
  const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
  return (data) => {
    const out: string[] = [];
    if (!started) {
      started = true;
      if (flavor === "openrouter") out.push(": OPENROUTER PROCESSING\n\n");
      if (flavor === "deepseek") out.push(": keep-alive\n\n");
      if (flavor === "azure-v1" || flavor === "azure-dated") {
        out.push(event({ choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: [{ prompt_index: 0, content_filter_results: SAFE }] }));
      }
    }
    if (data === "[DONE]") {
      if (held !== undefined) out.push(event(held));
      out.push("data: [DONE]\n\n");
      return out;
    }
    const chunk = JSON.parse(data) as Json;
    const choices = chunk.choices as Json[];
    const usage = chunk.usage as Json | null | undefined;
    if (usage === null) delete chunk.usage;
    if (choices.length === 0 && usage !== null && usage !== undefined) return usageChunk(flavor, chunk, usage, held, clientAskedUsage, out, event);
    if (held !== undefined) {
      out.push(event(held));
      held = undefined;
    }
    switch (flavor) {
      case "azure-v1":
      case "azure-dated":
        for (const choice of choices) choice.content_filter_results = SAFE;
        out.push(event(chunk));
        if (choices.some((choice) => choice.finish_reason !== null)) {
          // Azure's asynchronous filter annotation: a choice without delta (microsoft/autogen#6465).
          out.push(event({ choices: [{ index: 0, finish_reason: null, content_filter_results: SAFE, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 10 } }], created: 0, id: "", model: "", object: "" }));
        }
        return out;
      case "groq":
      case "mistral":
      case "together":
      case "fireworks":
      case "gemini":
        // The finish chunk waits: these providers put the usage on it.
        if (choices.some((choice) => choice.finish_reason !== null)) held = chunk;
        else out.push(event(chunk));
        return out;
      case "openrouter":
        out.push(event(chunk), ": OPENROUTER PROCESSING\n\n");
        return out;
      default:
        out.push(event(chunk));
        return out;
    }
  };

  function usageChunk(flavor: FakeFlavor, chunk: Json, usage: Json, finish: Json | undefined, asked: boolean, out: string[], event: (payload: unknown) => string): string[] {
    held = undefined;
    if (flavor === "groq" && finish !== undefined) {
      out.push(event({ ...finish, x_groq: { id: "req_fake_groq", usage } }));
    } else if (["mistral", "together", "fireworks", "gemini"].includes(flavor) && finish !== undefined) {
      out.push(event({ ...finish, usage }));
    } else {
      if (finish !== undefined) out.push(event(finish));
      if (flavor === "deepseek") usage = { ...usage, prompt_cache_hit_tokens: 4, prompt_cache_miss_tokens: Number(usage.prompt_tokens) - 4 };
      if (asked || flavor === "openrouter") out.push(event({ ...chunk, usage }));
    }
    return out;
  }
}

/** A JSON answer as the provider sends it. */
export function rewriteJson(flavor: FakeFlavor, body: Json): Json {
  const usage = body.usage as Json | undefined;
  if (flavor === "deepseek" && usage !== undefined) return { ...body, usage: { ...usage, prompt_cache_hit_tokens: 4, prompt_cache_miss_tokens: Number(usage.prompt_tokens) - 4 } };
  if (flavor === "groq") return { ...body, x_groq: { id: "req_fake_groq" } };
  return body;
}
