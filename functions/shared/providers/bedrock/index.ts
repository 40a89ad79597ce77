/**
 * The `bedrock` provider: Amazon Bedrock behind OpenAI's chat completions
 * (Converse, ConverseStream), embeddings (InvokeModel: Titan, Cohere) and
 * model list (the configured models). Requests are translated by request.ts
 * and embeddings.ts, answers by response.ts, stream.ts (over event-stream.ts)
 * and embeddings.ts.
 *
 * Auth, by the credential the attempt gets: the gateway's Bedrock API key
 * (managed mode, when one is configured) as a bearer token; a caller's own
 * Bedrock API key (passthrough) as it came; otherwise (managed mode without a
 * key) a SigV4 signature with the function's IAM role (sigv4.ts).
 */
import { randomUUID } from "node:crypto";
import { InvalidRequestError } from "../../http/errors.ts";
import { headerValue } from "../../http/headers.ts";
import type { BodySource } from "../../http/wire.ts";
import { errorChunks, type ChunkStreamState } from "../translate/chat-chunks.ts";
import { parseChatRequest } from "../translate/chat-request.ts";
import { deferredJson, errorAnswer, readJson, sseAnswer, translatedHeaders } from "../translate/decode.ts";
import { callJson, chatCallFacts, isObject } from "../translate/json.ts";
import type { HttpProvider, ProviderCall, ProviderCredential, ProviderResponse, UpstreamRequest } from "../types.ts";
import { embeddingsToOpenAI, parseEmbeddingsRequest, splitEmbeddingsBody, TEXTS_PER_REQUEST, toInvokeModelBody } from "./embeddings.ts";
import { bedrockHttpError } from "./errors.ts";
import { MalformedEventStreamError, readEventStream } from "./event-stream.ts";
import { modelPath, toConverseRequest } from "./request.ts";
import { configuredModelsAnswer, converseToCompletion } from "./response.ts";
import { createBedrockSigner, type BedrockSigner } from "./sigv4.ts";
import { bedrockMessageToChunks, bedrockStreamEnd, createBedrockStreamState } from "./stream.ts";
import { INPUT_TOKEN_HEADER } from "./usage.ts";

/** How to reach Bedrock. */
export interface BedrockSettings {
  /** The AWS region of the runtime endpoint and of the signature. */
  readonly region: string;
  /** Overrides the endpoint `https://bedrock-runtime.{region}.amazonaws.com` (tests, VPC endpoints). */
  readonly baseUrl?: string;
  /** The models and inference profiles this deployment may use: `GET /v1/models` lists them. */
  readonly models: readonly string[];
}

/** The endpoints the provider serves. */
export const BEDROCK_ENDPOINTS = ["chat.completions", "embeddings", "models.list", "models.retrieve"] as const;

/** Creates the Bedrock provider; `signer` replaces the default-chain signer (tests). */
export function createBedrockProvider(settings: BedrockSettings, name = "bedrock", signer: BedrockSigner = createBedrockSigner(settings.region)): HttpProvider {
  const baseUrl = settings.baseUrl ?? `https://bedrock-runtime.${settings.region}.amazonaws.com`;
  return {
    kind: "http",
    name,
    // Converse always reports usage, so the gateway may ask for the usage chunk and hide it again.
    capabilities: { streamUsageOption: true, keyRequired: false, endpoints: BEDROCK_ENDPOINTS },
    priceProvider: "aws",
    prepare(call) {
      const json = callJson(call);
      switch (call.endpoint.endpoint.name) {
        case "chat.completions": {
          const chat = parseChatRequest(json, name);
          const accept = chat.stream ? "application/vnd.amazon.eventstream" : "application/json";
          return post(`${baseUrl}${modelPath(chat.model, chat.stream ? "converse-stream" : "converse")}`, accept, toConverseRequest(chat));
        }
        case "embeddings": {
          const request = parseEmbeddingsRequest(json);
          // The core splits larger lists (split below) before they get here.
          if (request.inputs.length > TEXTS_PER_REQUEST[request.family]) throw new Error("an embeddings call larger than one request");
          return post(`${baseUrl}${modelPath(request.model, "invoke")}`, "application/json", toInvokeModelBody(request));
        }
        default:
          throw new InvalidRequestError(`${name} does not serve ${call.endpoint.upstreamPath}.`, { code: "unsupported_endpoint" });
      }
    },
    authorize: (request, credential) => bedrockAuthorization(request, credential, signer),
    decode: decodeBedrock,
    answerLocally: (call) => configuredModelsAnswer(call, settings.models),
    split(call) {
      if (call.endpoint.endpoint.name !== "embeddings") return undefined;
      const json = callJson(call);
      return splitEmbeddingsBody(json, parseEmbeddingsRequest(json))?.map((body) => ({ ...call, body: Buffer.from(JSON.stringify(body)) }));
    },
  };
}

function post(url: string, accept: string, body: unknown): UpstreamRequest {
  return { url, method: "POST", headers: { "content-type": "application/json", accept }, body: Buffer.from(JSON.stringify(body)) };
}

/** Bedrock's auth: an API key as a bearer token, a caller's own credential as it came, else SigV4 with the IAM role. */
export async function bedrockAuthorization(request: UpstreamRequest, credential: ProviderCredential, signer: BedrockSigner): Promise<UpstreamRequest> {
  if (credential.kind === "managed") return { ...request, headers: { ...request.headers, authorization: `Bearer ${credential.apiKey}` } };
  if (credential.kind === "passthrough") return { ...request, headers: { ...request.headers, authorization: credential.authorization } };
  return signer.sign(request);
}

function decodeBedrock(response: ProviderResponse, call: ProviderCall): ProviderResponse {
  const headers = translatedHeaders(response.headers, "application/json", "x-amzn-requestid");
  if (response.status >= 300) {
    const errorType = headerValue(response.headers, "x-amzn-errortype");
    return errorAnswer(response, headers, (json, status) => bedrockHttpError(json, status, errorType));
  }
  if (call.endpoint.endpoint.name === "embeddings") {
    const tokens = Number(headerValue(response.headers, INPUT_TOKEN_HEADER));
    return deferredJson(response.status, headers, async () =>
      embeddingsToOpenAI(asObject(await readJson(response.body)), parseEmbeddingsRequest(callJson(call)), Number.isFinite(tokens) ? tokens : undefined),
    );
  }
  const facts = chatCallFacts(call);
  const id = `chatcmpl-${headers["x-request-id"] ?? randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const contentType = headerValue(response.headers, "content-type") ?? "";
  if (facts.stream && contentType.startsWith("application/vnd.amazon.eventstream")) {
    const state = createBedrockStreamState({ id, model: facts.model, created, includeUsage: facts.includeUsage, jsonResponse: facts.jsonResponse });
    return sseAnswer(response.status, headers, converseStreamEvents(response.body, state));
  }
  return deferredJson(response.status, headers, async () =>
    converseToCompletion(asObject(await readJson(response.body)), { id, model: facts.model, created, jsonResponse: facts.jsonResponse }),
  );
}

/** The OpenAI events of a ConverseStream body; a frame that does not decode ends the stream with an error event. */
async function* converseStreamEvents(body: BodySource, state: ChunkStreamState): AsyncGenerator<string> {
  try {
    for await (const message of readEventStream(body)) {
      for (const text of bedrockMessageToChunks(state, message)) yield text;
      // After [DONE] or an error nothing more is read: leaving the loop releases the provider's body.
      if (state.ended) return;
    }
  } catch (error) {
    if (!(error instanceof MalformedEventStreamError)) throw error;
    yield* errorChunks(state, { message: error.message, type: error.type, code: error.code });
    return;
  }
  yield* bedrockStreamEnd(state);
}

function asObject(value: unknown): Record<string, unknown> {
  return isObject(value) ? value : {};
}
