/**
 * OpenAI's chat completion request, read once into a provider-neutral shape
 * ({@link ChatRequest}) that the Anthropic and Bedrock request mappings turn
 * into their own wire. Everything a caller can get wrong is refused here with
 * a 400 naming the parameter, before any provider is called.
 *
 * The conversation is normalised the way both Messages and Converse want it:
 * system and developer messages are hoisted into one system prompt (as
 * Anthropic's own OpenAI compatibility layer does); consecutive turns of one
 * role are merged, so every `role: "tool"` result of one assistant turn lands
 * in one user turn, results first (Anthropic requires tool_result blocks to
 * lead the user content; LiteLLM and bedrock-access-gateway both had to fix
 * split tool results, see STYLE.md 17).
 */
import { InvalidRequestError } from "../../http/errors.ts";
import { isObject } from "./json.ts";
import { OPENAI_PARAMETERS } from "./chat-parameters.ts";
import { parseMessages, type ChatTurn } from "./chat-messages.ts";

export type { ChatPart, ChatTurn, ImageSource, ToolResultPart } from "./chat-messages.ts";

/** One function tool the model may call. */
export interface ToolSpec {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments (an object schema). */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** Which tool use the caller asked for. */
export type ToolChoice =
  | { readonly kind: "auto" }
  | { readonly kind: "required" }
  | { readonly kind: "none" }
  | { readonly kind: "tool"; readonly name: string };

/** The structured output the caller asked for with `response_format`. */
export type ResponseFormat = { readonly kind: "json_schema"; readonly schema: Readonly<Record<string, unknown>> } | { readonly kind: "json_object" };

/** OpenAI's `reasoning_effort` values (`none` turns reasoning off). */
export type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high";

/** A chat completion request, provider-neutral. */
export interface ChatRequest {
  readonly model: string;
  /** System and developer messages, in order. */
  readonly system: readonly string[];
  /** The conversation: alternating user and assistant turns. */
  readonly turns: readonly ChatTurn[];
  /** `max_completion_tokens`, else `max_tokens`. */
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop: readonly string[];
  readonly tools: readonly ToolSpec[];
  readonly toolChoice: ToolChoice;
  /** `parallel_tool_calls: false` asks for one call at most. */
  readonly parallelToolCalls: boolean;
  readonly responseFormat?: ResponseFormat;
  readonly reasoningEffort?: ReasoningEffort;
  readonly user?: string;
  readonly stream: boolean;
  /** `stream_options.include_usage` (possibly added by the gateway, which then hides it again). */
  readonly includeUsage: boolean;
}

type Json = Record<string, unknown>;

const REASONING_EFFORTS: readonly ReasoningEffort[] = ["none", "minimal", "low", "medium", "high"];

/**
 * Reads an OpenAI chat completion body.
 * @param provider the provider's name, for messages ("… is not supported by anthropic")
 * @throws {InvalidRequestError} naming the parameter at fault
 */
export function parseChatRequest(body: Json, provider: string): ChatRequest {
  for (const [name, rule] of Object.entries(OPENAI_PARAMETERS)) {
    if (rule.treatment === "refused" && body[name] !== undefined && body[name] !== null && !rule.allows?.(body[name])) {
      throw new InvalidRequestError(`${name} is not supported by ${provider}: ${rule.note}`, { param: name, code: "unsupported_parameter" });
    }
  }
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") throw new InvalidRequestError("model must be a non-empty string.", { param: "model" });
  const { system, turns } = parseMessages(body.messages);
  const tools = parseTools(body.tools);
  return {
    model,
    system,
    turns,
    maxTokens: positiveInteger(body.max_completion_tokens, "max_completion_tokens") ?? positiveInteger(body.max_tokens, "max_tokens"),
    temperature: number(body.temperature, "temperature", 0, 2),
    topP: number(body.top_p, "top_p", 0, 1),
    stop: parseStop(body.stop),
    tools,
    toolChoice: parseToolChoice(body.tool_choice, tools),
    parallelToolCalls: body.parallel_tool_calls !== false,
    responseFormat: parseResponseFormat(body.response_format),
    reasoningEffort: oneOf(body.reasoning_effort, "reasoning_effort", REASONING_EFFORTS),
    user: optionalString(body.user, "user"),
    stream: body.stream === true,
    includeUsage: body.stream === true && isObject(body.stream_options) && body.stream_options.include_usage === true,
  };
}

function parseTools(value: unknown): ToolSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidRequestError("tools must be an array.", { param: "tools" });
  return value.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isObject(tool) || tool.type !== "function" || !isObject(tool.function)) {
      throw new InvalidRequestError(`${param} must be a function tool ({"type":"function","function":{…}}); other tool types are not supported.`, { param });
    }
    const { name, description, parameters } = tool.function;
    if (typeof name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
      throw new InvalidRequestError(`${param}.function.name must be 1-64 characters of a-z, A-Z, 0-9, _ and -.`, { param: `${param}.function.name` });
    }
    if (parameters !== undefined && !isObject(parameters)) {
      throw new InvalidRequestError(`${param}.function.parameters must be a JSON Schema object.`, { param: `${param}.function.parameters` });
    }
    return {
      name,
      description: optionalString(description, `${param}.function.description`),
      parameters: parameters ?? { type: "object", properties: {} },
    };
  });
}

function parseToolChoice(value: unknown, tools: readonly ToolSpec[]): ToolChoice {
  if (value === undefined || value === null || value === "auto") return { kind: "auto" };
  if (value === "none") return { kind: "none" };
  if (value === "required") return { kind: "required" };
  if (isObject(value) && value.type === "function" && isObject(value.function) && typeof value.function.name === "string") {
    const { name } = value.function;
    if (!tools.some((tool) => tool.name === name)) {
      throw new InvalidRequestError(`tool_choice names the function ${JSON.stringify(name)}, which is not among tools.`, { param: "tool_choice" });
    }
    return { kind: "tool", name };
  }
  throw new InvalidRequestError('tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}.', { param: "tool_choice" });
}

function parseResponseFormat(value: unknown): ResponseFormat | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidRequestError("response_format must be an object.", { param: "response_format" });
  if (value.type === "text") return undefined;
  if (value.type === "json_object") return { kind: "json_object" };
  if (value.type === "json_schema" && isObject(value.json_schema) && isObject(value.json_schema.schema)) {
    return { kind: "json_schema", schema: value.json_schema.schema };
  }
  throw new InvalidRequestError('response_format must be {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","json_schema":{"schema":{…}}}.', {
    param: "response_format",
  });
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const stops = typeof value === "string" ? [value] : value;
  if (!Array.isArray(stops) || !stops.every((stop) => typeof stop === "string")) {
    throw new InvalidRequestError("stop must be a string or an array of strings.", { param: "stop" });
  }
  return stops;
}

function positiveInteger(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) throw new InvalidRequestError(`${param} must be a positive integer.`, { param });
  return value;
}

function number(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidRequestError(`${param} must be a number from ${min} to ${max}.`, { param });
  }
  return value;
}

function oneOf<T extends string>(value: unknown, param: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !allowed.includes(value as T)) throw new InvalidRequestError(`${param} must be one of ${allowed.join(", ")}.`, { param });
  return value as T;
}

function optionalString(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidRequestError(`${param} must be a string.`, { param });
  return value;
}
