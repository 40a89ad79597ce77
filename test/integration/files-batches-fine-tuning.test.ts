/**
 * Files, uploads, batches and fine-tuning jobs through the local gateway, driven
 * by the official openai SDK, with a gateway key on the gateway's provider key.
 */
import { randomBytes } from "node:crypto";
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { capturingClient, sha256 } from "../support/capturing-client.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const KEY = "gw-team-a-0123456789abcdef";
const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-provider" },
  env: { GATEWAY_API_KEYS: KEY, OPENAI_API_KEY: "sk-provider", GATEWAY_MAX_RETRIES: "0" },
  apiKey: KEY,
});

const JSONL = `${JSON.stringify({ custom_id: "r1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] } })}\n`;

describe("files", () => {
  it("uploads, lists, retrieves, downloads byte for byte and deletes a file", async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    const created = await fixture.client.files.create({ file: await toFile(bytes, "data.bin"), purpose: "user_data" });
    expect(created).toMatchObject({ object: "file", filename: "data.bin", purpose: "user_data", bytes: bytes.byteLength, status: "processed" });
    expect(created.id).toMatch(/^file-/);

    expect((await fixture.client.files.retrieve(created.id)).id).toBe(created.id);
    const listed = [];
    for await (const file of fixture.client.files.list()) listed.push(file.id);
    expect(listed).toEqual([created.id]);

    const content = await fixture.client.files.content(created.id);
    expect(content.headers.get("content-type")).toBe("application/octet-stream");
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(bytes));

    expect(await fixture.client.files.delete(created.id)).toEqual({ id: created.id, object: "file", deleted: true });
    const summaries = await fixture.gateway.waitForSummaries(5);
    expect(summaries.map((summary) => summary.endpoint)).toEqual(["files.create", "files.retrieve", "files.list", "files.content", "files.delete"]);
    expect(new Set(summaries.map((summary) => summary.family))).toEqual(new Set(["files"]));
    expect(summaries.every((summary) => summary.status === 200 && summary.outcome === "ok")).toBe(true);
  });

  it("forwards a 2 MB upload byte for byte, its boundary intact", async () => {
    const { client, sent } = capturingClient(fixture.gateway.baseURL, KEY);
    const bytes = randomBytes(2 * 1024 * 1024);
    const file = await client.files.create({ file: await toFile(bytes, "big.bin"), purpose: "user_data" });
    const upstream = fixture.upstream.requests.at(-1);
    expect(upstream?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent).toHaveLength(1);
    expect(sha256(upstream?.body ?? Buffer.alloc(0))).toBe(sha256(sent[0] ?? Buffer.alloc(1)));
    expect(sha256(fixture.upstream.objects().fileBytes.get(file.id) ?? Buffer.alloc(0))).toBe(sha256(bytes));
  });
});

describe("uploads", () => {
  it("creates an upload, sends its parts, completes it into a file the key may download", async () => {
    const first = Buffer.alloc(3000, 1);
    const second = Buffer.alloc(2000, 2);
    const upload = await fixture.client.uploads.create({ filename: "big.jsonl", purpose: "batch", bytes: 5000, mime_type: "text/jsonl" });
    expect(upload).toMatchObject({ object: "upload", status: "pending", bytes: 5000 });
    const parts = [
      await fixture.client.uploads.parts.create(upload.id, { data: await toFile(first, "part") }),
      await fixture.client.uploads.parts.create(upload.id, { data: await toFile(second, "part") }),
    ];
    expect(parts[0]).toMatchObject({ object: "upload.part", upload_id: upload.id });
    const done = await fixture.client.uploads.complete(upload.id, { part_ids: parts.map((part) => part.id) });
    expect(done.status).toBe("completed");
    const fileId = done.file?.id as string;
    const content = Buffer.from(await (await fixture.client.files.content(fileId)).arrayBuffer());
    expect(content.equals(Buffer.concat([first, second]))).toBe(true);

    const other = await fixture.client.uploads.create({ filename: "x.txt", purpose: "assistants", bytes: 1, mime_type: "text/plain" });
    expect((await fixture.client.uploads.cancel(other.id)).status).toBe("cancelled");
    const summaries = await fixture.gateway.waitForSummaries(7);
    expect(summaries.map((summary) => summary.endpoint)).toContain("uploads.complete");
    expect(summaries.filter((summary) => summary.family === "uploads")).toHaveLength(6);
  });
});

describe("batches", () => {
  it("creates, retrieves, lists and cancels batches, and downloads a completed batch's output", async () => {
    const input = await fixture.client.files.create({ file: await toFile(Buffer.from(JSONL), "in.jsonl"), purpose: "batch" });
    const batch = await fixture.client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(batch).toMatchObject({ object: "batch", status: "validating", input_file_id: input.id, model: "gpt-4o-mini" });
    expect((await fixture.client.batches.retrieve(batch.id)).status).toBe("in_progress");
    const listed = [];
    for await (const item of fixture.client.batches.list()) listed.push(item.id);
    expect(listed).toEqual([batch.id]);

    fixture.upstream.completeBatch(batch.id);
    const done = await fixture.client.batches.retrieve(batch.id);
    expect(done.status).toBe("completed");
    const output = await (await fixture.client.files.content(done.output_file_id as string)).text();
    expect(JSON.parse(output.trim())).toMatchObject({ custom_id: "r1", response: { status_code: 200 } });

    const second = await fixture.client.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect((await fixture.client.batches.cancel(second.id)).status).toBe("cancelling");
  });
});

describe("fine-tuning jobs", () => {
  it("creates a job and lists, retrieves, pauses, resumes and cancels it, with its events, checkpoints and result files", async () => {
    const training = await fixture.client.files.create({ file: await toFile(Buffer.from('{"messages":[]}\n'), "train.jsonl"), purpose: "fine-tune" });
    const job = await fixture.client.fineTuning.jobs.create({ model: "gpt-4o-mini-2024-07-18", training_file: training.id, suffix: "acme" });
    expect(job).toMatchObject({ object: "fine_tuning.job", status: "validating_files", training_file: training.id });
    expect((await fixture.client.fineTuning.jobs.retrieve(job.id)).id).toBe(job.id);
    const jobs = [];
    for await (const item of fixture.client.fineTuning.jobs.list()) jobs.push(item.id);
    expect(jobs).toEqual([job.id]);
    expect((await fixture.client.fineTuning.jobs.pause(job.id)).status).toBe("paused");
    expect((await fixture.client.fineTuning.jobs.resume(job.id)).status).toBe("running");

    fixture.upstream.completeFineTuningJob(job.id);
    const done = await fixture.client.fineTuning.jobs.retrieve(job.id);
    expect(done.status).toBe("succeeded");
    expect(done.fine_tuned_model).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
    const metrics = await (await fixture.client.fineTuning.jobs.retrieve(job.id).then((current) => fixture.client.files.content(current.result_files[0] as string))).text();
    expect(metrics).toContain("train_loss");
    const events = [];
    for await (const event of fixture.client.fineTuning.jobs.listEvents(job.id)) events.push(event.message);
    expect(events.length).toBeGreaterThan(2);
    const checkpoints = [];
    for await (const checkpoint of fixture.client.fineTuning.jobs.checkpoints.list(job.id)) checkpoints.push(checkpoint.object);
    expect(checkpoints).toEqual(["fine_tuning.job.checkpoint"]);

    const other = await fixture.client.fineTuning.jobs.create({ model: "gpt-4o-mini-2024-07-18", training_file: training.id });
    expect((await fixture.client.fineTuning.jobs.cancel(other.id)).status).toBe("cancelled");
    const summaries = await fixture.gateway.waitForSummaries(13);
    expect(new Set(summaries.map((summary) => summary.family))).toEqual(new Set(["files", "fine_tuning"]));
  });
});
