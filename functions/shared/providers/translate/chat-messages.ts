/**
 * OpenAI's `messages` array, read into a system prompt and alternating
 * user/assistant turns of typed parts (see chat-request.ts for why turns are
 * merged and tool results grouped).
 */
import { InvalidRequestError } from "../../http/errors.ts";
import { isObject } from "./json.ts";

type Json = Record<string, unknown>;

/** An image: inline bytes from a data URL, or a URL the provider fetches itself (never the gateway). */
export type ImageSource =
  | { readonly kind: "base64"; readonly mediaType: string; readonly data: string }
  | { readonly kind: "url"; readonly url: string };

/** What a tool result may hold. */
export type ToolResultPart = { readonly type: "text"; readonly text: string } | { readonly type: "image"; readonly source: ImageSource };

/** One piece of a turn. */
export type ChatPart =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly source: ImageSource }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly input: Json }
  | { readonly type: "tool_result"; readonly toolCallId: string; readonly content: readonly ToolResultPart[] };

/** One turn of the conversation. */
export interface ChatTurn {
  readonly role: "user" | "assistant";
  readonly parts: readonly ChatPart[];
}

/** The image types both Anthropic and Bedrock take. */
const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/=\s]+)$/;

/**
 * Reads `messages`.
 * @throws {InvalidRequestError} naming the message (and part) at fault
 */
export function parseMessages(value: unknown): { system: string[]; turns: ChatTurn[] } {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidRequestError("messages must be a non-empty array.", { param: "messages" });
  const system: string[] = [];
  const turns: { role: "user" | "assistant"; parts: ChatPart[] }[] = [];
  const append = (role: "user" | "assistant", parts: ChatPart[]) => {
    const last = turns.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else turns.push({ role, parts });
  };
  value.forEach((message, index) => {
    const param = `messages[${index}]`;
    if (!isObject(message)) throw new InvalidRequestError(`${param} must be an object.`, { param });
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textParts(message.content, `${param}.content`).map((part) => part.text));
        return;
      case "user":
        return append("user", nonEmpty(userParts(message.content, `${param}.content`), param));
      case "assistant":
        return append("assistant", nonEmpty(assistantParts(message, param), param));
      case "tool":
        return append("user", [toolResult(message, param)]);
      default:
        throw new InvalidRequestError(`${param}.role must be system, developer, user, assistant or tool.`, { param: `${param}.role` });
    }
  });
  // Tool results lead their user turn, as Anthropic requires (a user text sent between them moves after).
  const ordered = turns.map((turn) =>
    turn.role === "user" ? { role: turn.role, parts: [...turn.parts.filter(isToolResult), ...turn.parts.filter((part) => !isToolResult(part))] } : turn,
  );
  if (ordered.length === 0) throw new InvalidRequestError("messages must hold at least one user or assistant message.", { param: "messages" });
  return { system, turns: ordered };
}

function isToolResult(part: ChatPart): boolean {
  return part.type === "tool_result";
}

function nonEmpty(parts: ChatPart[], param: string): ChatPart[] {
  if (parts.length === 0) throw new InvalidRequestError(`${param} has no content.`, { param: `${param}.content` });
  return parts;
}

/** Text content: a string or an array of text parts. Empty texts are dropped (Anthropic refuses empty text blocks). */
function textParts(content: unknown, param: string): { type: "text"; text: string }[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  return content.flatMap((part, index) => {
    if (!isObject(part) || (part.type !== "text" && part.type !== "refusal")) {
      throw new InvalidRequestError(`${param}[${index}] must be a text part.`, { param: `${param}[${index}]` });
    }
    const text = part.type === "text" ? part.text : part.refusal;
    if (typeof text !== "string") throw new InvalidRequestError(`${param}[${index}].${part.type} must be a string.`, { param: `${param}[${index}]` });
    return text === "" ? [] : [{ type: "text" as const, text }];
  });
}

function userParts(content: unknown, param: string): ChatPart[] {
  if (typeof content === "string" || content === undefined || content === null) return textParts(content ?? "", param);
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param} must be a string or an array of content parts.`, { param });
  return content.flatMap((part, index): ChatPart[] => {
    const partParam = `${param}[${index}]`;
    if (isObject(part) && part.type === "text") return textParts([part], param);
    if (isObject(part) && part.type === "image_url") return [{ type: "image", source: imageSource(part.image_url, `${partParam}.image_url`) }];
    const type = isObject(part) && typeof part.type === "string" ? part.type : "unknown";
    throw new InvalidRequestError(`${partParam} is a ${type} part; only text and image_url parts are supported.`, { param: partParam, code: "unsupported_content" });
  });
}

function imageSource(value: unknown, param: string): ImageSource {
  const url = typeof value === "string" ? value : isObject(value) ? value.url : undefined;
  if (typeof url !== "string") throw new InvalidRequestError(`${param}.url must be a string.`, { param });
  const data = DATA_URL.exec(url);
  if (data !== null) return { kind: "base64", mediaType: data[1] as string, data: (data[2] as string).replace(/\s+/g, "") };
  if (/^https?:\/\//i.test(url)) return { kind: "url", url };
  throw new InvalidRequestError(`${param}.url must be a base64 data URL of a PNG, JPEG, GIF or WebP image, or an http(s) URL.`, {
    param,
    code: "unsupported_content",
  });
}

function assistantParts(message: Json, param: string): ChatPart[] {
  const parts: ChatPart[] = message.content === undefined || message.content === null ? [] : textParts(message.content, `${param}.content`);
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return parts;
  if (!Array.isArray(calls)) throw new InvalidRequestError(`${param}.tool_calls must be an array.`, { param: `${param}.tool_calls` });
  calls.forEach((call, index) => {
    const callParam = `${param}.tool_calls[${index}]`;
    if (!isObject(call) || typeof call.id !== "string" || !isObject(call.function) || typeof call.function.name !== "string") {
      throw new InvalidRequestError(`${callParam} must be {"id","type":"function","function":{"name","arguments"}}.`, { param: callParam });
    }
    parts.push({ type: "tool_call", id: call.id, name: call.function.name, input: toolArguments(call.function.arguments, `${callParam}.function.arguments`) });
  });
  return parts;
}

/** Tool arguments as the object both providers take; empty arguments are an empty object. */
function toolArguments(value: unknown, param: string): Json {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) return {};
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidRequestError(`${param} must be a JSON object (as a string).`, { param });
    }
  }
  if (!isObject(parsed)) throw new InvalidRequestError(`${param} must be a JSON object (as a string).`, { param });
  return parsed;
}

function toolResult(message: Json, param: string): ChatPart {
  if (typeof message.tool_call_id !== "string" || message.tool_call_id === "") {
    throw new InvalidRequestError(`${param}.tool_call_id must be a non-empty string.`, { param: `${param}.tool_call_id` });
  }
  const content: ToolResultPart[] =
    typeof message.content === "string" || message.content === undefined || message.content === null
      ? [{ type: "text", text: typeof message.content === "string" ? message.content : "" }]
      : userParts(message.content, `${param}.content`).map((part) => part as ToolResultPart);
  return { type: "tool_result", toolCallId: message.tool_call_id, content };
}
