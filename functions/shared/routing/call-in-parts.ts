/**
 * A call its provider takes in several requests (`HttpProvider.split`:
 * Titan embeds one text per request): each part runs through the attempt
 * plan as a call of its own (its own retries), a few at a time, and their
 * OpenAI embeddings answers are merged into one, as if one request had
 * answered: `data` in input order with its indices renumbered, usage summed.
 * The first part that fails decides the answer; the others are dropped.
 *
 * The merged body is read when the relay reads it, so the relay's idle and
 * total bounds, and its abort, govern the parts' bodies as any provider's.
 */
import { GatewayError } from "../http/errors.ts";
import type { ProviderCall } from "../providers/types.ts";
import type { UpstreamResponse } from "../upstream/client.ts";

/** Parts sent at once: a few, so a long list neither waits on one request at a time nor floods the provider. */
export const PART_CONCURRENCY = 4;

/** Runs the parts with `runPart` (each answer in OpenAI's wire) and merges their answers. */
export async function callInParts(parts: readonly ProviderCall[], runPart: (part: ProviderCall) => Promise<UpstreamResponse>): Promise<UpstreamResponse> {
  const results: (UpstreamResponse | undefined)[] = new Array(parts.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < parts.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await runPart(parts[index] as ProviderCall);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, parts.length) }, worker));
  const done = results.filter((result): result is UpstreamResponse => result !== undefined);
  const failed = done.find((result) => result.status >= 300);
  if (failure !== undefined) {
    for (const result of done) result.discard();
    throw failure;
  }
  if (failed !== undefined) {
    for (const result of done) if (result !== failed) result.discard();
    return failed;
  }
  return mergedResponse(done);
}

function mergedResponse(responses: readonly UpstreamResponse[]): UpstreamResponse {
  const first = responses[0] as UpstreamResponse;
  async function* body(): AsyncGenerator<Uint8Array> {
    const data: unknown[] = [];
    let promptTokens = 0;
    let model: unknown;
    for (const response of responses) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body) chunks.push(chunk);
      const answer = parseAnswer(Buffer.concat(chunks));
      model ??= answer.model;
      for (const item of answer.data) data.push({ ...(item as object), index: data.length });
      promptTokens += typeof answer.usage?.prompt_tokens === "number" ? answer.usage.prompt_tokens : 0;
    }
    yield Buffer.from(JSON.stringify({ object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }));
  }
  const headers = { ...first.headers };
  delete headers["content-length"];
  return {
    status: first.status,
    headers,
    body: body(),
    abort: (reason) => responses.forEach((response) => response.abort(reason)),
    discard: () => responses.forEach((response) => response.discard()),
  };
}

function parseAnswer(bytes: Buffer): { data: unknown[]; model?: unknown; usage?: { prompt_tokens?: unknown } } {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as { data?: unknown; model?: unknown; usage?: { prompt_tokens?: unknown } };
    if (Array.isArray(parsed.data)) return { data: parsed.data, model: parsed.model, usage: parsed.usage };
  } catch {
    // Answered below.
  }
  throw new GatewayError(502, "The provider's answer to part of the request is not an embeddings list.", { code: "upstream_malformed_response" });
}
