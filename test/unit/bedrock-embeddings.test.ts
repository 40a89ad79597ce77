import { describe, expect, it } from "vitest";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import {
  embeddingsToOpenAI,
  floatsToBase64,
  parseEmbeddingsRequest,
  splitEmbeddingsBody,
  toInvokeModelBody,
} from "../../functions/shared/providers/bedrock/embeddings.ts";

const TITAN = "amazon.titan-embed-text-v2:0";
const COHERE = "cohere.embed-english-v3";

describe("OpenAI embeddings → InvokeModel", () => {
  it.each([
    ["Titan V2, one text, dimensions", { model: TITAN, input: "hello", dimensions: 256 }, { inputText: "hello", normalize: true, dimensions: 256 }],
    ["Titan V2 through an inference profile", { model: `us.${TITAN}`, input: ["hello"] }, { inputText: "hello", normalize: true }],
    ["Cohere v3, a list, search_document by default", { model: COHERE, input: ["a", "b"] }, { texts: ["a", "b"], input_type: "search_document" }],
    ["Cohere v3 with an input_type", { model: "cohere.embed-multilingual-v3", input: "q", input_type: "search_query" }, { texts: ["q"], input_type: "search_query" }],
  ])("%s", (_, body, expected) => {
    expect(toInvokeModelBody(parseEmbeddingsRequest(body))).toEqual(expected);
  });

  it.each([
    [TITAN, 5, [1, 1, 1, 1, 1]],
    [COHERE, 200, [96, 96, 8]],
  ])("splits %s lists into requests of what one InvokeModel takes", (model, count, sizes) => {
    const body = { model, input: Array.from({ length: count }, (_, index) => `text ${index}`) };
    const parts = splitEmbeddingsBody(body, parseEmbeddingsRequest(body));
    expect(parts?.map((part) => (part.input as string[]).length)).toEqual(sizes);
    expect(parts?.flatMap((part) => part.input as string[])).toEqual(body.input);
  });

  it("does not split what one request takes", () => {
    const body = { model: COHERE, input: ["a", "b"] };
    expect(splitEmbeddingsBody(body, parseEmbeddingsRequest(body))).toBeUndefined();
  });

  it.each([
    ["a model that is not a translated embedding model", { model: "amazon.nova-pro-v1:0", input: "x" }, "model"],
    ["Titan dimensions other than 256, 512, 1024", { model: TITAN, input: "x", dimensions: 300 }, "dimensions"],
    ["dimensions for Cohere v3 (fixed size)", { model: COHERE, input: "x", dimensions: 1024 }, "dimensions"],
    ["token arrays", { model: TITAN, input: [[1, 2, 3]] }, "input"],
    ["an unknown encoding_format", { model: TITAN, input: "x", encoding_format: "int8" }, "encoding_format"],
  ])("refuses %s with a 400", (_, body, param) => {
    expect(() => parseEmbeddingsRequest(body)).toThrow(GatewayError);
    try {
      parseEmbeddingsRequest(body);
    } catch (error) {
      expect(error).toMatchObject({ status: 400, param });
    }
  });
});

describe("InvokeModel → OpenAI embeddings", () => {
  it("reads Titan's embedding and token count", () => {
    const request = parseEmbeddingsRequest({ model: TITAN, input: "hi" });
    expect(embeddingsToOpenAI({ embedding: [0.5, -1], inputTextTokenCount: 3, embeddingsByType: { float: [0.5, -1] } }, request, undefined)).toEqual({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.5, -1] }],
      model: TITAN,
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it("reads Cohere's embeddings, with the token count from the header, as base64 when asked", () => {
    const request = parseEmbeddingsRequest({ model: COHERE, input: ["a", "b"], encoding_format: "base64" });
    const answer = embeddingsToOpenAI({ id: "x", embeddings: [[1, 2], [3, 4]], response_type: "embeddings_floats", texts: ["a", "b"] }, request, 7);
    expect(answer.usage).toEqual({ prompt_tokens: 7, total_tokens: 7 });
    const data = answer.data as { index: number; embedding: string }[];
    expect(data.map((item) => item.index)).toEqual([0, 1]);
    const decoded = Buffer.from(data[1]?.embedding ?? "", "base64");
    expect([decoded.readFloatLE(0), decoded.readFloatLE(4)]).toEqual([3, 4]);
  });

  it("writes base64 as OpenAI does: little-endian float32", () => {
    expect(floatsToBase64([1])).toBe(Buffer.from([0, 0, 0x80, 0x3f]).toString("base64"));
  });
});
