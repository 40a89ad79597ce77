/**
 * Vector stores (files, file batches, search), containers (files uploaded or
 * copied, content as bytes) and evals (runs, output items) through the local
 * gateway, driven by the official openai SDK.
 */
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const KEY = "gw-team-a-0123456789abcdef";
const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-provider" },
  env: { GATEWAY_API_KEYS: KEY, OPENAI_API_KEY: "sk-provider", GATEWAY_MAX_RETRIES: "0" },
  apiKey: KEY,
});

async function upload(name: string, text: string) {
  return fixture.client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "assistants" });
}

describe("vector stores", () => {
  it("creates a store from files, searches it, and manages its files and file batches", async () => {
    const a = await upload("a.txt", "alpha facts");
    const b = await upload("b.txt", "beta facts");
    const c = await upload("c.txt", "gamma facts");
    const store = await fixture.client.vectorStores.create({ name: "kb", file_ids: [a.id] });
    expect(store).toMatchObject({ object: "vector_store", name: "kb", file_counts: { completed: 1 } });
    expect((await fixture.client.vectorStores.retrieve(store.id)).id).toBe(store.id);
    expect((await fixture.client.vectorStores.update(store.id, { name: "kb2" })).name).toBe("kb2");
    const stores = [];
    for await (const item of fixture.client.vectorStores.list()) stores.push(item.id);
    expect(stores).toEqual([store.id]);

    const attached = await fixture.client.vectorStores.files.create(store.id, { file_id: b.id, attributes: { team: "a" } });
    expect(attached).toMatchObject({ object: "vector_store.file", vector_store_id: store.id });
    expect((await fixture.client.vectorStores.files.retrieve(b.id, { vector_store_id: store.id })).id).toBe(b.id);
    expect((await fixture.client.vectorStores.files.update(b.id, { vector_store_id: store.id, attributes: { team: "b" } })).attributes).toEqual({ team: "b" });
    const content = [];
    for await (const part of fixture.client.vectorStores.files.content(b.id, { vector_store_id: store.id })) content.push(part.text);
    expect(content).toEqual(["beta facts"]);
    const files = [];
    for await (const file of fixture.client.vectorStores.files.list(store.id)) files.push(file.id);
    expect(files.sort()).toEqual([a.id, b.id].sort());

    const batch = await fixture.client.vectorStores.fileBatches.create(store.id, { file_ids: [c.id] });
    expect(batch).toMatchObject({ object: "vector_store.files_batch", status: "completed" });
    expect((await fixture.client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).id).toBe(batch.id);
    const batchFiles = [];
    for await (const file of fixture.client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })) batchFiles.push(file.id);
    expect(batchFiles).toEqual([c.id]);
    expect((await fixture.client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id })).status).toBe("cancelled");

    const results = [];
    for await (const result of fixture.client.vectorStores.search(store.id, { query: "facts" })) results.push(result.file_id);
    expect(results.length).toBe(3);
    expect(await fixture.client.vectorStores.files.delete(b.id, { vector_store_id: store.id })).toMatchObject({ deleted: true });
    expect(await fixture.client.vectorStores.delete(store.id)).toMatchObject({ id: store.id, deleted: true });
    const summaries = await fixture.gateway.waitForSummaries(19);
    expect(summaries.filter((summary) => summary.family === "vector_stores")).toHaveLength(16);
    expect(summaries.every((summary) => summary.status === 200)).toBe(true);
  });
});

describe("containers", () => {
  it("creates a container, uploads and copies files into it, downloads their bytes, and deletes it", async () => {
    const source = await upload("data.csv", "x,y\n1,2\n");
    const container = await fixture.client.containers.create({ name: "sandbox", file_ids: [source.id] });
    expect(container).toMatchObject({ object: "container", name: "sandbox" });
    expect((await fixture.client.containers.retrieve(container.id)).id).toBe(container.id);
    const containers = [];
    for await (const item of fixture.client.containers.list()) containers.push(item.id);
    expect(containers).toEqual([container.id]);

    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const uploaded = await fixture.client.containers.files.create(container.id, { file: await toFile(bytes, "raw.bin") });
    const copied = await fixture.client.containers.files.create(container.id, { file_id: source.id });
    expect(uploaded).toMatchObject({ object: "container.file", container_id: container.id, path: "/mnt/data/raw.bin" });
    expect((await fixture.client.containers.files.retrieve(copied.id, { container_id: container.id })).path).toBe("/mnt/data/data.csv");
    const download = await fixture.client.containers.files.content.retrieve(uploaded.id, { container_id: container.id });
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    const files = [];
    for await (const file of fixture.client.containers.files.list(container.id)) files.push(file.id);
    expect(files).toHaveLength(3);
    await fixture.client.containers.files.delete(uploaded.id, { container_id: container.id });
    await fixture.client.containers.delete(container.id);
    const summaries = await fixture.gateway.waitForSummaries(11);
    expect(summaries.filter((summary) => summary.family === "containers")).toHaveLength(10);
    expect(summaries.every((summary) => summary.status === 200)).toBe(true);
  });
});

describe("evals", () => {
  it("creates, updates and deletes an eval, with its runs and their output items", async () => {
    const evaluation = await fixture.client.evals.create({
      name: "accuracy",
      data_source_config: { type: "custom", item_schema: { type: "object", properties: { question: { type: "string" } } } },
      testing_criteria: [{ type: "string_check", name: "exact", input: "{{sample.output_text}}", operation: "eq", reference: "{{item.answer}}" }],
    });
    expect(evaluation).toMatchObject({ object: "eval", name: "accuracy" });
    expect((await fixture.client.evals.retrieve(evaluation.id)).id).toBe(evaluation.id);
    expect((await fixture.client.evals.update(evaluation.id, { name: "renamed" })).name).toBe("renamed");
    const evals = [];
    for await (const item of fixture.client.evals.list()) evals.push(item.id);
    expect(evals).toEqual([evaluation.id]);

    const data = await upload("items.jsonl", '{"item":{"question":"q"}}\n');
    const run = await fixture.client.evals.runs.create(evaluation.id, { name: "r1", data_source: { type: "jsonl", source: { type: "file_id", id: data.id } } });
    expect(run).toMatchObject({ object: "eval.run", eval_id: evaluation.id });
    expect((await fixture.client.evals.runs.retrieve(run.id, { eval_id: evaluation.id })).id).toBe(run.id);
    const runs = [];
    for await (const item of fixture.client.evals.runs.list(evaluation.id)) runs.push(item.id);
    expect(runs).toEqual([run.id]);
    const outputs = [];
    for await (const item of fixture.client.evals.runs.outputItems.list(run.id, { eval_id: evaluation.id })) outputs.push(item.id);
    expect((await fixture.client.evals.runs.outputItems.retrieve(outputs[0] as string, { eval_id: evaluation.id, run_id: run.id })).object).toBe("eval.run.output_item");
    expect((await fixture.client.evals.runs.cancel(run.id, { eval_id: evaluation.id })).status).toBe("canceled");
    expect(await fixture.client.evals.runs.delete(run.id, { eval_id: evaluation.id })).toMatchObject({ deleted: true, run_id: run.id });
    expect(await fixture.client.evals.delete(evaluation.id)).toMatchObject({ deleted: true, eval_id: evaluation.id });
    const summaries = await fixture.gateway.waitForSummaries(13);
    expect(summaries.filter((summary) => summary.family === "evals")).toHaveLength(12);
    expect(summaries.every((summary) => summary.status === 200)).toBe(true);
  });
});
