/**
 * Two gateway keys on one provider key never see or touch each other's files,
 * uploads, batches, fine-tuning jobs, vector stores, containers or evals: the
 * other key's id answers 404 from the gateway (the provider is not called), a
 * list holds only the caller's objects, and a request pointing at another key's
 * object (a batch's input file, a job's training file) is refused.
 */
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { useTwoKeys } from "../support/two-keys.ts";

const keys = useTwoKeys();

async function fileOf(client: typeof keys.a, name = "a.txt", purpose: "assistants" | "batch" | "fine-tune" = "assistants", text = "private") {
  return client.files.create({ file: await toFile(Buffer.from(text), name), purpose });
}

async function ids<T extends { id: string }>(pages: AsyncIterable<T>): Promise<string[]> {
  const found: string[] = [];
  for await (const item of pages) found.push(item.id);
  return found;
}

const BATCH_LINE = `${JSON.stringify({ custom_id: "r1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] } })}\n`;

describe("files", () => {
  it("keeps each key's files to itself", async () => {
    const mine = await fileOf(keys.a);
    const theirs = await fileOf(keys.b, "b.txt");
    await keys.refused(keys.b.files.retrieve(mine.id));
    await keys.refused(keys.b.files.content(mine.id));
    await keys.refused(keys.b.files.delete(mine.id));
    expect(await ids(keys.a.files.list())).toEqual([mine.id]);
    expect(await ids(keys.b.files.list())).toEqual([theirs.id]);
    expect(Buffer.from(await (await keys.a.files.content(mine.id)).arrayBuffer()).toString()).toBe("private");
  });

  it("finds a key's files past pages full of another key's", async () => {
    const mine = [await fileOf(keys.a, "1.txt"), await fileOf(keys.a, "2.txt"), await fileOf(keys.a, "3.txt")];
    for (let index = 0; index < 12; index += 1) await fileOf(keys.b, `b${index}.txt`);
    // Pages of 3: the newest four pages are all team-b's, which the gateway reads past.
    expect(await ids(keys.a.files.list({ limit: 3 }))).toEqual(mine.map((file) => file.id).reverse());
    expect(await ids(keys.b.files.list({ limit: 5 }))).toHaveLength(12);
  });
});

describe("uploads", () => {
  it("keeps an upload to the key that started it", async () => {
    const upload = await keys.a.uploads.create({ filename: "x.bin", purpose: "assistants", bytes: 3, mime_type: "application/octet-stream" });
    await keys.refused(async () => keys.b.uploads.parts.create(upload.id, { data: await toFile(Buffer.from("abc"), "part") }));
    await keys.refused(keys.b.uploads.complete(upload.id, { part_ids: [] }));
    await keys.refused(keys.b.uploads.cancel(upload.id));
    const part = await keys.a.uploads.parts.create(upload.id, { data: await toFile(Buffer.from("abc"), "part") });
    const done = await keys.a.uploads.complete(upload.id, { part_ids: [part.id] });
    // The file the upload made is the uploader's.
    await keys.refused(keys.b.files.retrieve(done.file?.id as string));
    expect((await keys.a.files.retrieve(done.file?.id as string)).bytes).toBe(3);
  });
});

describe("batches", () => {
  it("keeps batches, their input and their output to the key that made them", async () => {
    const input = await fileOf(keys.a, "in.jsonl", "batch", BATCH_LINE);
    await keys.refused(keys.b.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" }));
    const batch = await keys.a.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await keys.refused(keys.b.batches.retrieve(batch.id));
    await keys.refused(keys.b.batches.cancel(batch.id));
    expect(await ids(keys.b.batches.list())).toEqual([]);
    expect(await ids(keys.a.batches.list())).toEqual([batch.id]);
    keys.upstream.completeBatch(batch.id);
    const done = await keys.a.batches.retrieve(batch.id);
    // The output file is handed to the batch's owner.
    expect(await (await keys.a.files.content(done.output_file_id as string)).text()).toContain('"custom_id":"r1"');
    await keys.refused(keys.b.files.content(done.output_file_id as string));
  });
});

describe("fine-tuning jobs", () => {
  it("keeps jobs, their events, checkpoints and result files to the key that made them", async () => {
    const training = await fileOf(keys.a, "train.jsonl", "fine-tune", '{"messages":[]}\n');
    await keys.refused(keys.b.fineTuning.jobs.create({ model: "gpt-4o-mini", training_file: training.id }));
    const job = await keys.a.fineTuning.jobs.create({ model: "gpt-4o-mini", training_file: training.id });
    await keys.refused(keys.b.fineTuning.jobs.retrieve(job.id));
    await keys.refused(keys.b.fineTuning.jobs.listEvents(job.id));
    await keys.refused(keys.b.fineTuning.jobs.checkpoints.list(job.id));
    await keys.refused(keys.b.fineTuning.jobs.pause(job.id));
    await keys.refused(keys.b.fineTuning.jobs.resume(job.id));
    await keys.refused(keys.b.fineTuning.jobs.cancel(job.id));
    expect(await ids(keys.b.fineTuning.jobs.list())).toEqual([]);
    expect(await ids(keys.a.fineTuning.jobs.list())).toEqual([job.id]);
    keys.upstream.completeFineTuningJob(job.id);
    const done = await keys.a.fineTuning.jobs.retrieve(job.id);
    const results = done.result_files[0] as string;
    expect(await (await keys.a.files.content(results)).text()).toContain("train_loss");
    await keys.refused(keys.b.files.content(results));
  });
});

describe("vector stores", () => {
  it("keeps a vector store, its files and its searches to its key, and refuses another key's files in one", async () => {
    const file = await fileOf(keys.a, "kb.txt");
    await keys.refused(keys.b.vectorStores.create({ name: "steal", file_ids: [file.id] }));
    const store = await keys.a.vectorStores.create({ name: "kb", file_ids: [file.id] });
    await keys.refused(keys.b.vectorStores.retrieve(store.id));
    await keys.refused(keys.b.vectorStores.update(store.id, { name: "x" }));
    await keys.refused(keys.b.vectorStores.search(store.id, { query: "q" }));
    await keys.refused(keys.b.vectorStores.files.list(store.id));
    await keys.refused(keys.b.vectorStores.files.retrieve(file.id, { vector_store_id: store.id }));
    await keys.refused(keys.b.vectorStores.files.content(file.id, { vector_store_id: store.id }));
    await keys.refused(keys.b.vectorStores.fileBatches.create(store.id, { file_ids: [] }));
    await keys.refused(keys.b.vectorStores.delete(store.id));
    const theirs = await fileOf(keys.b, "b.txt");
    // Nor may a key put another key's file into its own store.
    const own = await keys.b.vectorStores.create({ name: "own" });
    await keys.refused(keys.b.vectorStores.files.create(own.id, { file_id: file.id }));
    await keys.refused(keys.a.vectorStores.fileBatches.create(store.id, { files: [{ file_id: theirs.id }] }));
    expect(await ids(keys.a.vectorStores.list())).toEqual([store.id]);
    expect(await ids(keys.b.vectorStores.list())).toEqual([own.id]);
  });
});

describe("containers", () => {
  it("keeps a container and its files to its key", async () => {
    const file = await fileOf(keys.a, "data.csv");
    await keys.refused(keys.b.containers.create({ name: "steal", file_ids: [file.id] }));
    const container = await keys.a.containers.create({ name: "box", file_ids: [file.id] });
    const [inside] = await ids(keys.a.containers.files.list(container.id));
    await keys.refused(keys.b.containers.retrieve(container.id));
    await keys.refused(keys.b.containers.files.list(container.id));
    await keys.refused(keys.b.containers.files.retrieve(inside as string, { container_id: container.id }));
    await keys.refused(keys.b.containers.files.content.retrieve(inside as string, { container_id: container.id }));
    await keys.refused(async () => keys.b.containers.files.create(container.id, { file: await toFile(Buffer.from("x"), "x.txt") }));
    await keys.refused(keys.b.containers.files.delete(inside as string, { container_id: container.id }));
    await keys.refused(keys.b.containers.delete(container.id));
    const own = await keys.b.containers.create({ name: "own" });
    await keys.refused(keys.b.containers.files.create(own.id, { file_id: file.id }));
    expect(await ids(keys.b.containers.list())).toEqual([own.id]);
    expect(await ids(keys.a.containers.list())).toEqual([container.id]);
  });
});

describe("evals", () => {
  it("keeps an eval and its runs to its key, and refuses another key's data file", async () => {
    const criteria = [{ type: "string_check" as const, name: "eq", input: "{{sample.output_text}}", operation: "eq" as const, reference: "{{item.answer}}" }];
    const evaluation = await keys.a.evals.create({ name: "mine", data_source_config: { type: "custom", item_schema: { type: "object" } }, testing_criteria: criteria });
    const data = await fileOf(keys.a, "items.jsonl");
    const run = await keys.a.evals.runs.create(evaluation.id, { data_source: { type: "jsonl", source: { type: "file_id", id: data.id } } });
    await keys.refused(keys.b.evals.retrieve(evaluation.id));
    await keys.refused(keys.b.evals.update(evaluation.id, { name: "x" }));
    await keys.refused(keys.b.evals.runs.list(evaluation.id));
    await keys.refused(keys.b.evals.runs.retrieve(run.id, { eval_id: evaluation.id }));
    await keys.refused(keys.b.evals.runs.cancel(run.id, { eval_id: evaluation.id }));
    await keys.refused(keys.b.evals.runs.outputItems.list(run.id, { eval_id: evaluation.id }));
    await keys.refused(keys.b.evals.runs.delete(run.id, { eval_id: evaluation.id }));
    await keys.refused(keys.b.evals.delete(evaluation.id));
    const own = await keys.b.evals.create({ name: "theirs", data_source_config: { type: "custom", item_schema: { type: "object" } }, testing_criteria: criteria });
    await keys.refused(keys.b.evals.runs.create(own.id, { data_source: { type: "jsonl", source: { type: "file_id", id: data.id } } }));
    expect(await ids(keys.a.evals.list())).toEqual([evaluation.id]);
    expect(await ids(keys.b.evals.list())).toEqual([own.id]);
  });
});
