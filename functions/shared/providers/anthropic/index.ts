/**
 * The `anthropic` provider: Claude through the Messages API behind OpenAI's
 * chat completions and model list. Requests are translated by request.ts,
 * answers by response.ts and stream.ts; auth is `x-api-key` with the
 * `anthropic-version` header, as Anthropic's own SDKs send them (a caller's
 * own key in passthrough comes as OpenAI's `Authorization: Bearer …` and
 * goes on as `x-api-key`).
 */
import { InvalidRequestError } from "../../http/errors.ts";
import { headerValue, type IncomingHeaders } from "../../http/headers.ts";
import { modelOfPath } from "../../endpoints/match.ts";
import { parseChatRequest } from "../translate/chat-request.ts";
import { deferredJson, errorAnswer, readJson, sseAnswer, translatedHeaders } from "../translate/decode.ts";
import { callJson, chatCallFacts, isObject } from "../translate/json.ts";
import { translateSseStream } from "../translate/sse-stream.ts";
import type { HttpProvider, ProviderCall, ProviderCredential, ProviderResponse, UpstreamRequest } from "../types.ts";
import { anthropicError } from "./errors.ts";
import { ANTHROPIC_VERSION, toAnthropicRequest } from "./request.ts";
import { anthropicMessageToCompletion, anthropicModel, anthropicModelList } from "./response.ts";
import { anthropicEventToChunks, createAnthropicStreamState } from "./stream.ts";

/** How to reach Anthropic. */
export interface AnthropicSettings {
  /** Base URL with the version prefix, no trailing slash (default `https://api.anthropic.com/v1`). */
  readonly baseUrl: string;
  /** Headers sent on every call (e.g. `anthropic-beta`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The default base URL. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";

/** The endpoints the provider serves. */
export const ANTHROPIC_ENDPOINTS = ["chat.completions", "models.list", "models.retrieve"] as const;

/** Creates the Anthropic provider. */
export function createAnthropicProvider(settings: AnthropicSettings, name = "anthropic"): HttpProvider {
  const { baseUrl } = settings;
  return {
    kind: "http",
    name,
    // Messages always reports usage, so the gateway may ask for the usage chunk and hide it again.
    capabilities: { streamUsageOption: true, keyRequired: true, endpoints: ANTHROPIC_ENDPOINTS },
    priceProvider: "anthropic",
    prepare(call) {
      const headers = { "anthropic-version": ANTHROPIC_VERSION, ...settings.headers, accept: "application/json" };
      switch (call.endpoint.endpoint.name) {
        case "chat.completions": {
          const chat = parseChatRequest(callJson(call), name);
          const body = Buffer.from(JSON.stringify(toAnthropicRequest(chat)));
          return {
            url: `${baseUrl}/messages`,
            method: "POST",
            headers: { ...headers, "content-type": "application/json", accept: chat.stream ? "text/event-stream" : "application/json" },
            body,
          };
        }
        case "models.list":
          return { url: `${baseUrl}/models?limit=1000`, method: "GET", headers, body: undefined };
        case "models.retrieve":
          return { url: `${baseUrl}/models/${encodeURIComponent(modelOfPath(call.endpoint) ?? "")}`, method: "GET", headers, body: undefined };
        default:
          throw new InvalidRequestError(`${name} does not serve ${call.endpoint.upstreamPath}.`, { code: "unsupported_endpoint" });
      }
    },
    authorize: anthropicAuthorization,
    decode: (response, call) => decodeAnthropic(response, call),
  };
}

/** Anthropic's auth: the key as `x-api-key`; a caller's own bearer token becomes one too. */
export function anthropicAuthorization(request: UpstreamRequest, credential: ProviderCredential): UpstreamRequest {
  if (credential.kind === "none") return request;
  const key = credential.kind === "passthrough" ? /^Bearer\s+(\S+)\s*$/i.exec(credential.authorization)?.[1] : credential.apiKey;
  // A caller's credential that is not a bearer token (an OAuth header, say) goes on as it came.
  const auth: Record<string, string> = key === undefined ? { authorization: (credential as { authorization: string }).authorization } : { "x-api-key": key };
  return { ...request, headers: { ...request.headers, ...auth } };
}

function decodeAnthropic(response: ProviderResponse, call: ProviderCall): ProviderResponse {
  const headers = anthropicHeaders(response.headers);
  if (response.status >= 300) return errorAnswer(response, headers, anthropicError);
  switch (call.endpoint.endpoint.name) {
    case "chat.completions": {
      const facts = chatCallFacts(call);
      const created = Math.floor(Date.now() / 1000);
      const contentType = headerValue(response.headers, "content-type") ?? "";
      if (facts.stream && contentType.startsWith("text/event-stream")) {
        const state = createAnthropicStreamState({ model: facts.model, created, includeUsage: facts.includeUsage, jsonResponse: facts.jsonResponse });
        return sseAnswer(response.status, headers, translateSseStream(response.body, state.chunks, (event) => anthropicEventToChunks(state, event)));
      }
      return deferredJson(response.status, headers, async () => {
        const message = await readJson(response.body);
        return anthropicMessageToCompletion(isObject(message) ? message : {}, { model: facts.model, created, jsonResponse: facts.jsonResponse });
      });
    }
    case "models.retrieve":
      return deferredJson(response.status, headers, async () => anthropicModel(asObject(await readJson(response.body))));
    default:
      return deferredJson(response.status, headers, async () => anthropicModelList(asObject(await readJson(response.body))));
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}

/**
 * Headers for the client: the request id (`request-id`) as `x-request-id`, retry advice,
 * and Anthropic's rate-limit counts under OpenAI's `x-ratelimit-*` names.
 */
function anthropicHeaders(upstream: IncomingHeaders): Record<string, string> {
  const headers = translatedHeaders(upstream, "application/json", "request-id");
  for (const kind of ["requests", "tokens"]) {
    for (const field of ["limit", "remaining"]) {
      const value = headerValue(upstream, `anthropic-ratelimit-${kind}-${field}`);
      if (value !== undefined) headers[`x-ratelimit-${field}-${kind}`] = value;
    }
  }
  return headers;
}
