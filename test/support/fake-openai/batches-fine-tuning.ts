/**
 * Batches (`/v1/batches`) and fine-tuning jobs (`/v1/fine_tuning/jobs`), with
 * OpenAI's objects and lifecycles. A batch is `validating`, then
 * `in_progress` once read; tests finish it with `completeBatch` (output file
 * of one answer per input line, `usage` summed, as OpenAI reports it). A job
 * is `validating_files`; `completeFineTuningJob` makes it `succeeded` with a
 * fine-tuned model, a checkpoint and a result file.
 */
import { approxTokens } from "./common.ts";
import { storeFile } from "./files-uploads.ts";
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { invalidParam, jsonBody, listPage, newId, noSuch, nowSeconds, projectOf, publicView, type ProjectObjects, type Stored } from "./stored.ts";

export function createBatch(ctx: Ctx): void {
  const objects = projectOf(ctx);
  const body = jsonBody(ctx);
  const input = objects.fileBytes.get(String(body.input_file_id));
  if (input === undefined) return invalidParam(ctx, "input_file_id", `Invalid 'input_file_id': '${String(body.input_file_id)}'. File not found.`);
  if (typeof body.endpoint !== "string" || body.completion_window !== "24h") return invalidParam(ctx, "endpoint", "Invalid 'endpoint' or 'completion_window'.");
  const lines = input.toString("utf8").split("\n").filter((line) => line.trim() !== "");
  const model = (JSON.parse(lines[0] ?? "{}") as { body?: { model?: string } }).body?.model ?? null;
  const created = nowSeconds();
  const batch: Stored = {
    id: newId("batch_", 16),
    object: "batch",
    endpoint: body.endpoint,
    model,
    errors: null,
    input_file_id: body.input_file_id,
    completion_window: "24h",
    status: "validating",
    output_file_id: null,
    error_file_id: null,
    created_at: created,
    in_progress_at: null,
    expires_at: created + 86_400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: lines.length, completed: 0, failed: 0 },
    usage: null,
    metadata: body.metadata ?? null,
  };
  objects.batches.set(batch.id, batch);
  sendJson(ctx, 200, batch);
}

export function listBatches(ctx: Ctx): void {
  sendJson(ctx, 200, listPage(ctx, [...projectOf(ctx).batches.values()]));
}

export function retrieveBatch(ctx: Ctx, id: string): void {
  const batch = projectOf(ctx).batches.get(id);
  if (batch === undefined) return noSuch(ctx, "Batch", id);
  if (batch.status === "validating") Object.assign(batch, { status: "in_progress", in_progress_at: nowSeconds() });
  sendJson(ctx, 200, batch);
}

export function cancelBatch(ctx: Ctx, id: string): void {
  const batch = projectOf(ctx).batches.get(id);
  if (batch === undefined) return noSuch(ctx, "Batch", id);
  if (batch.status !== "completed") Object.assign(batch, { status: "cancelling", cancelling_at: nowSeconds() });
  sendJson(ctx, 200, batch);
}

/** Finishes a batch as OpenAI would: an output file with one answer per request, and the tokens it used. */
export function completeBatch(objects: ProjectObjects, batch: Stored): void {
  const input = objects.fileBytes.get(String(batch.input_file_id)) ?? Buffer.alloc(0);
  const lines = input.toString("utf8").split("\n").filter((line) => line.trim() !== "");
  let inputTokens = 0;
  let outputTokens = 0;
  const output = lines.map((line) => {
    const request = JSON.parse(line) as { custom_id: string; body: { model?: string; messages?: { content?: string }[] } };
    const prompt = approxTokens(JSON.stringify(request.body.messages ?? []));
    const text = "Echo: batched";
    inputTokens += prompt;
    outputTokens += approxTokens(text);
    const answer = { id: newId("chatcmpl-", 12), object: "chat.completion", model: request.body.model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }] };
    return JSON.stringify({ id: newId("batch_req_", 12), custom_id: request.custom_id, response: { status_code: 200, request_id: newId("req_", 16), body: answer }, error: null });
  });
  const file = storeFile(objects, `${String(batch.id)}_output.jsonl`, "batch_output", Buffer.from(`${output.join("\n")}\n`));
  const now = nowSeconds();
  Object.assign(batch, {
    status: "completed",
    output_file_id: file.id,
    in_progress_at: batch.in_progress_at ?? now,
    finalizing_at: now,
    completed_at: now,
    request_counts: { total: lines.length, completed: lines.length, failed: 0 },
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  });
}

export function createJob(ctx: Ctx): void {
  const objects = projectOf(ctx);
  const body = jsonBody(ctx);
  if (typeof body.model !== "string") return invalidParam(ctx, "model", "Missing required parameter: 'model'.");
  if (!objects.files.has(String(body.training_file))) return invalidParam(ctx, "training_file", `Invalid file ID: '${String(body.training_file)}'.`);
  const job = {
    id: newId("ftjob-", 12),
    object: "fine_tuning.job",
    model: body.model,
    created_at: nowSeconds(),
    finished_at: null,
    fine_tuned_model: null,
    organization_id: "org-fake",
    result_files: [],
    status: "validating_files",
    validation_file: body.validation_file ?? null,
    training_file: body.training_file,
    hyperparameters: { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" },
    trained_tokens: null,
    error: null,
    seed: typeof body.seed === "number" ? body.seed : 42,
    estimated_finish: null,
    integrations: [],
    metadata: body.metadata ?? null,
    method: { type: "supervised", supervised: { hyperparameters: { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" } } },
    suffix: body.suffix ?? null,
    events: [event("Created fine-tuning job")],
    checkpoints: [] as Stored[],
  };
  objects.jobs.set(job.id, job);
  sendJson(ctx, 200, jobView(job));
}

function event(message: string): Stored {
  return { id: newId("ftevent-", 12), object: "fine_tuning.job.event", created_at: nowSeconds(), level: "info", message, data: {}, type: "message" };
}

function jobView(job: Stored): Record<string, unknown> {
  const { events: _events, checkpoints: _checkpoints, suffix: _suffix, ...rest } = publicView(job);
  return rest;
}

export function listJobs(ctx: Ctx): void {
  const page = listPage(ctx, [...projectOf(ctx).jobs.values()], { cursors: false });
  sendJson(ctx, 200, { ...page, data: (page.data as Stored[]).map(jobView) });
}

export function retrieveJob(ctx: Ctx, id: string): void {
  const job = projectOf(ctx).jobs.get(id);
  if (job === undefined) return noSuch(ctx, "FineTuningJob", id);
  sendJson(ctx, 200, jobView(job));
}

export function jobEvents(ctx: Ctx, id: string): void {
  const job = projectOf(ctx).jobs.get(id);
  if (job === undefined) return noSuch(ctx, "FineTuningJob", id);
  sendJson(ctx, 200, listPage(ctx, job.events as Stored[], { cursors: false }));
}

export function jobCheckpoints(ctx: Ctx, id: string): void {
  const job = projectOf(ctx).jobs.get(id);
  if (job === undefined) return noSuch(ctx, "FineTuningJob", id);
  sendJson(ctx, 200, listPage(ctx, job.checkpoints as Stored[]));
}

/** Cancels, pauses or resumes a job. */
export function changeJob(ctx: Ctx, id: string, action: string): void {
  const job = projectOf(ctx).jobs.get(id);
  if (job === undefined) return noSuch(ctx, "FineTuningJob", id);
  job.status = action === "cancel" ? "cancelled" : action === "pause" ? "paused" : "running";
  (job.events as Stored[]).push(event(`Fine-tuning job ${action === "cancel" ? "cancelled" : `${action}d`}`));
  sendJson(ctx, 200, jobView(job));
}

/** Finishes a job as OpenAI would: a fine-tuned model, a checkpoint, and a metrics file among its result files. */
export function completeJob(objects: ProjectObjects, job: Stored): void {
  const results = storeFile(objects, "step_metrics.csv", "fine-tune-results", Buffer.from("step,train_loss\n1,0.5\n"));
  const model = `ft:${String(job.model)}:org-fake:${String(job.suffix ?? "custom")}:${String(job.id).slice(6, 14)}`;
  const checkpoint = {
    id: newId("ftckpt_", 12),
    object: "fine_tuning.job.checkpoint",
    created_at: nowSeconds(),
    fine_tuned_model_checkpoint: `${model}:ckpt-step-1`,
    fine_tuning_job_id: job.id,
    metrics: { step: 1, train_loss: 0.5, train_mean_token_accuracy: 0.9 },
    step_number: 1,
  };
  (job.checkpoints as Stored[]).push(checkpoint);
  (job.events as Stored[]).push(event("The job has successfully completed"));
  Object.assign(job, { status: "succeeded", fine_tuned_model: model, finished_at: nowSeconds(), trained_tokens: 1234, result_files: [results.id] });
}
