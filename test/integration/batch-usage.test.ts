/**
 * A completed batch's usage is counted once per batch, against the key that
 * created it, at batch prices (half the synchronous price), in the request's
 * metrics and in the key's token limits: whichever request first sees the batch
 * completed (a retrieve, a list or a cancel) carries it, and none after.
 */
import { toFile, RateLimitError } from "openai";
import { describe, expect, it } from "vitest";
import { listPrice, loadPriceCatalogue } from "../../functions/shared/usage/price-catalogue.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { metricsOf } from "../support/local-gateway.ts";
import { KEY_A, KEY_B, useTwoKeys } from "../support/two-keys.ts";

const keys = useTwoKeys({
  gatewayKeys: [
    { id: "team-a", key: KEY_A, limits: { tokensPerDay: 30 } },
    { id: "team-b", key: KEY_B },
  ],
});

const LINE = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] } });

// A gateway without gateway keys: callers send their own provider key, and no object is kept apart.
const open = useFakeUpstreamAndGateway({ env: { GATEWAY_MAX_RETRIES: "0" }, apiKey: "sk-callers-own-key" });

async function completedBatch(client: typeof keys.a, upstream = keys.upstream) {
  const input = await client.files.create({ file: await toFile(Buffer.from(`${LINE("1")}\n${LINE("2")}\n${LINE("3")}\n`), "in.jsonl"), purpose: "batch" });
  const batch = await client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
  upstream.completeBatch(batch.id);
  return batch;
}

describe("batch usage", () => {
  it("is counted once, at batch prices, by the first request that sees the batch completed", async () => {
    const batch = await completedBatch(keys.b);
    keys.gateway.reset();
    const done = await keys.b.batches.retrieve(batch.id);
    await keys.b.batches.retrieve(batch.id);
    for await (const _listed of keys.b.batches.list()) {
      // the list shows the same completed batch
    }
    await keys.b.batches.cancel(batch.id);
    const summaries = await keys.gateway.waitForSummaries(4);
    const usage = done.usage as NonNullable<typeof done.usage>;
    expect(summaries[0]?.usage).toEqual({ promptTokens: usage.input_tokens, completionTokens: usage.output_tokens, totalTokens: usage.total_tokens, cachedPromptTokens: 0, reasoningTokens: 0 });
    expect(summaries[0]?.model).toBe("gpt-4o-mini");
    await loadPriceCatalogue();
    // OpenAI's list prices of the catalogue, flat for gpt-4o-mini.
    const price = listPrice("openai", "gpt-4o-mini") as { input: number; output: number };
    const synchronous = (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000;
    expect(summaries[0]?.costUsd).toBeCloseTo(synchronous / 2, 12);
    expect(metricsOf(summaries[0])).toMatchObject({ totalTokens: usage.total_tokens, estimatedCost: summaries[0]?.costUsd });
    expect(summaries.slice(1).map((summary) => summary.usage)).toEqual([undefined, undefined, undefined]);
  });

  it("a list page counts each batch it first shows completed", async () => {
    const one = await completedBatch(keys.b);
    const two = await completedBatch(keys.b);
    keys.gateway.reset();
    const listed = [];
    for await (const item of keys.b.batches.list()) listed.push(item);
    const [summary] = await keys.gateway.waitForSummaries(1);
    const total = listed.filter((item) => item.id === one.id || item.id === two.id).reduce((sum, item) => sum + (item.usage?.total_tokens ?? 0), 0);
    expect(summary?.usage?.totalTokens).toBe(total);
  });

  it("is counted once without gateway keys too (no object to guard, a batch's usage all the same)", async () => {
    const batch = await completedBatch(open.client, open.upstream);
    open.gateway.reset();
    const done = await open.client.batches.retrieve(batch.id);
    await open.client.batches.retrieve(batch.id);
    const summaries = await open.gateway.waitForSummaries(2);
    expect(summaries[0]?.usage?.totalTokens).toBe(done.usage?.total_tokens);
    expect(summaries[0]?.usage?.totalTokens).toBeGreaterThan(0);
    expect(summaries[1]?.usage).toBeUndefined();
  });

  it("is charged to the creating key's token limits", async () => {
    const batch = await completedBatch(keys.a);
    // 36 tokens against a day's 30: the next request of team-a is refused.
    await keys.a.batches.retrieve(batch.id);
    const refused = await keys.a.batches.retrieve(batch.id).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as RateLimitError).code).toBe("rate_limit_exceeded");
  });
});
