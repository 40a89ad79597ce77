/**
 * OpenAI embeddings through Bedrock's InvokeModel, both ways, pure:
 * - Titan Text Embeddings V2 (`amazon.titan-embed-text-v2:0`): one text per
 *   request (`inputText`), `dimensions` 256, 512 or 1024, usage in
 *   `inputTextTokenCount` (docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html);
 * - Cohere Embed v3 (`cohere.embed-english-v3`, `cohere.embed-multilingual-v3`):
 *   up to 96 texts per request, fixed dimensions, no token count in the body:
 *   usage comes from the `x-amzn-bedrock-input-token-count` header
 *   (…/model-parameters-embed-v3.html); `input_type` is `search_document`
 *   unless the request names another (a field OpenAI does not have).
 * A list input larger than one request takes is split
 * ({@link splitEmbeddingsCall}); the core sends the parts and merges their
 * OpenAI answers. `encoding_format: "base64"` is the little-endian float32
 * bytes, as OpenAI sends them.
 */
import { InvalidRequestError } from "../../http/errors.ts";
import { isObject } from "../translate/json.ts";

type Json = Record<string, unknown>;

/** The embedding model families the gateway translates. */
export type EmbeddingFamily = "titan-v2" | "cohere-v3";

/** Texts per InvokeModel request, by family. */
export const TEXTS_PER_REQUEST: Readonly<Record<EmbeddingFamily, number>> = { "titan-v2": 1, "cohere-v3": 96 };

/** Most texts per OpenAI request (OpenAI's own limit). */
export const MAX_INPUTS = 2048;

const TITAN_DIMENSIONS = [256, 512, 1024];
const COHERE_INPUT_TYPES = ["search_document", "search_query", "classification", "clustering"];

/** An embeddings request, read. */
export interface EmbeddingsRequest {
  readonly model: string;
  readonly family: EmbeddingFamily;
  readonly inputs: readonly string[];
  readonly dimensions?: number;
  readonly base64: boolean;
  readonly inputType: string;
}

/** The family of a model id, inference profile or ARN. */
export function embeddingFamily(model: string): EmbeddingFamily | undefined {
  if (model.includes("amazon.titan-embed-text-v2")) return "titan-v2";
  if (/cohere\.embed-(?:english|multilingual)-v3/.test(model)) return "cohere-v3";
  return undefined;
}

/**
 * Reads an OpenAI embeddings body.
 * @throws {InvalidRequestError} naming the parameter at fault
 */
export function parseEmbeddingsRequest(body: Json): EmbeddingsRequest {
  const model = typeof body.model === "string" ? body.model : "";
  const family = embeddingFamily(model);
  if (family === undefined) {
    throw new InvalidRequestError(
      `model ${JSON.stringify(model.slice(0, 256))} is not an embedding model the gateway translates for Bedrock (Titan Text Embeddings V2, Cohere Embed v3).`,
      { param: "model", code: "model_not_supported" },
    );
  }
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_INPUTS || !inputs.every((input) => typeof input === "string")) {
    throw new InvalidRequestError(`input must be a string or an array of 1 to ${MAX_INPUTS} strings (token arrays are not supported).`, { param: "input" });
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") throw new InvalidRequestError('encoding_format must be "float" or "base64".', { param: "encoding_format" });
  const inputType = body.input_type ?? "search_document";
  if (family === "cohere-v3" && (typeof inputType !== "string" || !COHERE_INPUT_TYPES.includes(inputType))) {
    throw new InvalidRequestError(`input_type must be one of ${COHERE_INPUT_TYPES.join(", ")}.`, { param: "input_type" });
  }
  return { model, family, inputs, dimensions: parseDimensions(body.dimensions, family), base64: format === "base64", inputType: inputType as string };
}

function parseDimensions(value: unknown, family: EmbeddingFamily): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (family === "cohere-v3") throw new InvalidRequestError("dimensions is not available for Cohere Embed v3, whose size is fixed.", { param: "dimensions" });
  if (typeof value !== "number" || !TITAN_DIMENSIONS.includes(value)) {
    throw new InvalidRequestError(`dimensions must be one of ${TITAN_DIMENSIONS.join(", ")} for Titan Text Embeddings V2.`, { param: "dimensions" });
  }
  return value;
}

/** The InvokeModel body for a request (within one request's texts, see {@link splitEmbeddingsCall}). */
export function toInvokeModelBody(request: EmbeddingsRequest): Json {
  if (request.family === "titan-v2") {
    return { inputText: request.inputs[0], normalize: true, ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }) };
  }
  return { texts: request.inputs, input_type: request.inputType };
}

/** The bodies of the parts of an embeddings request that one InvokeModel cannot take; undefined when it can. */
export function splitEmbeddingsBody(body: Json, request: EmbeddingsRequest): Json[] | undefined {
  const size = TEXTS_PER_REQUEST[request.family];
  if (request.inputs.length <= size) return undefined;
  const parts: Json[] = [];
  for (let start = 0; start < request.inputs.length; start += size) parts.push({ ...body, input: request.inputs.slice(start, start + size) });
  return parts;
}

/** OpenAI's embeddings answer for an InvokeModel answer; `inputTokens` from the header when the body has no count. */
export function embeddingsToOpenAI(answer: Json, request: EmbeddingsRequest, inputTokens: number | undefined): Json {
  const vectors = request.family === "titan-v2" ? [answer.embedding] : cohereVectors(answer.embeddings);
  const tokens = typeof answer.inputTextTokenCount === "number" ? answer.inputTextTokenCount : (inputTokens ?? 0);
  return {
    object: "list",
    data: vectors.map((vector, index) => ({ object: "embedding", index, embedding: request.base64 ? floatsToBase64(vector) : vector })),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function cohereVectors(embeddings: unknown): unknown[] {
  if (Array.isArray(embeddings)) return embeddings;
  // With embedding_types, Cohere answers by type: {"float": [[…]]}.
  return isObject(embeddings) && Array.isArray(embeddings.float) ? embeddings.float : [];
}

/** A vector as OpenAI's base64: little-endian float32 bytes. */
export function floatsToBase64(vector: unknown): string {
  const values = Array.isArray(vector) ? vector : [];
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(typeof value === "number" ? value : 0, index * 4));
  return bytes.toString("base64");
}
