/**
 * Containers (files uploaded as multipart or copied from a file id, content as
 * bytes) and evals (runs, output items), with OpenAI's shapes.
 */
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { invalidParam, jsonBody, listPage, newId, noSuch, nowSeconds, pick, projectOf, publicView, readForm, type Stored } from "./stored.ts";

// ---- containers ----

type Container = Stored & { files: Map<string, Stored & { bytes_data: Buffer }> };

export function createContainer(ctx: Ctx): void {
  const body = jsonBody(ctx);
  const objects = projectOf(ctx);
  const created = nowSeconds();
  const container: Container = { id: newId("cntr_", 24), object: "container", created_at: created, status: "running", last_active_at: created, name: String(body.name ?? ""), expires_after: body.expires_after ?? { anchor: "last_active_at", minutes: 20 }, memory_limit: body.memory_limit ?? "1g", files: new Map() };
  for (const fileId of Array.isArray(body.file_ids) ? body.file_ids : []) {
    const bytes = objects.fileBytes.get(String(fileId));
    if (bytes === undefined) return invalidParam(ctx, "file_ids", `File ${String(fileId)} not found.`);
    addContainerFile(container, String(objects.files.get(String(fileId))?.filename), bytes, "user");
  }
  objects.containers.set(container.id, container);
  sendJson(ctx, 200, publicView(container));
}

function addContainerFile(container: Container, name: string, bytes: Buffer, source: string): Stored {
  const file = { id: newId("cfile_", 24), object: "container.file", created_at: nowSeconds(), bytes: bytes.byteLength, container_id: container.id, path: `/mnt/data/${name}`, source, bytes_data: bytes };
  container.files.set(file.id, file);
  return publicView(file) as Stored;
}

export function listContainers(ctx: Ctx): void {
  sendJson(ctx, 200, listPage(ctx, [...projectOf(ctx).containers.values()]));
}

/** Retrieve or delete a container. */
export function container(ctx: Ctx, id: string): void {
  const objects = projectOf(ctx);
  const found = objects.containers.get(id);
  if (found === undefined) return noSuch(ctx, "Container", id);
  if (ctx.rec.method === "DELETE") {
    objects.containers.delete(id);
    return sendJson(ctx, 200, { id, object: "container.deleted", deleted: true });
  }
  sendJson(ctx, 200, publicView(found));
}

/** A container's files: upload (multipart) or copy (JSON `file_id`), list, retrieve, delete, content. */
export async function containerFile(ctx: Ctx, id: string, fileId?: string, content = false): Promise<void> {
  const objects = projectOf(ctx);
  const found = objects.containers.get(id);
  if (found === undefined) return noSuch(ctx, "Container", id);
  if (fileId === undefined) {
    if (ctx.rec.method === "GET") return sendJson(ctx, 200, listPage(ctx, [...found.files.values()]));
    if (String(ctx.req.headers["content-type"] ?? "").startsWith("multipart/")) {
      const form = await readForm(ctx);
      const file = form?.get("file");
      if (form === undefined) return;
      if (!(file instanceof File)) return invalidParam(ctx, "file", "Missing required parameter: 'file'.");
      return sendJson(ctx, 200, addContainerFile(found, file.name, Buffer.from(await file.arrayBuffer()), "user"));
    }
    const copied = String(jsonBody(ctx).file_id);
    const bytes = objects.fileBytes.get(copied);
    if (bytes === undefined) return invalidParam(ctx, "file_id", `File ${copied} not found.`);
    return sendJson(ctx, 200, addContainerFile(found, String(objects.files.get(copied)?.filename), bytes, "user"));
  }
  const file = found.files.get(fileId);
  if (file === undefined) return noSuch(ctx, "ContainerFile", fileId);
  if (content) {
    ctx.res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(file.bytes_data.byteLength), "x-request-id": ctx.requestId });
    return void ctx.res.end(file.bytes_data);
  }
  if (ctx.rec.method === "DELETE") {
    found.files.delete(fileId);
    return sendJson(ctx, 200, { id: fileId, object: "container.file.deleted", deleted: true });
  }
  sendJson(ctx, 200, publicView(file));
}

// ---- evals ----

type Eval = Stored & { runs: Map<string, Stored & { output_items: Stored[] }> };

export function createEval(ctx: Ctx): void {
  const body = jsonBody(ctx);
  if (!Array.isArray(body.testing_criteria) || typeof body.data_source_config !== "object") return invalidParam(ctx, "testing_criteria", "Missing required parameter.");
  const evaluation: Eval = { id: newId("eval_", 16), object: "eval", created_at: nowSeconds(), name: body.name ?? "", data_source_config: { ...(body.data_source_config as object), schema: {} }, testing_criteria: body.testing_criteria, metadata: body.metadata ?? null, runs: new Map() };
  projectOf(ctx).evals.set(evaluation.id, evaluation);
  sendJson(ctx, 200, publicView(evaluation));
}

export function listEvals(ctx: Ctx): void {
  sendJson(ctx, 200, listPage(ctx, [...projectOf(ctx).evals.values()]));
}

/** Retrieve, update or delete an eval. */
export function evaluation(ctx: Ctx, id: string): void {
  const objects = projectOf(ctx);
  const found = objects.evals.get(id);
  if (found === undefined) return noSuch(ctx, "Eval", id);
  if (ctx.rec.method === "DELETE") {
    objects.evals.delete(id);
    return sendJson(ctx, 200, { object: "eval.deleted", deleted: true, eval_id: id });
  }
  if (ctx.rec.method === "POST") Object.assign(found, pick(jsonBody(ctx), ["name", "metadata"]));
  sendJson(ctx, 200, publicView(found));
}

/** An eval's runs: create, list, retrieve, cancel, delete, and their output items. */
export function evalRun(ctx: Ctx, id: string, runId?: string, action?: "cancel" | "output_items", itemId?: string): void {
  const found = projectOf(ctx).evals.get(id);
  if (found === undefined) return noSuch(ctx, "Eval", id);
  if (runId === undefined) {
    if (ctx.rec.method === "GET") return sendJson(ctx, 200, listPage(ctx, [...found.runs.values()]));
    const body = jsonBody(ctx);
    const run = {
      id: newId("evalrun_", 16), object: "eval.run", created_at: nowSeconds(), eval_id: id, name: body.name ?? "", status: "queued", model: "gpt-4o-mini",
      data_source: body.data_source, error: { code: "", message: "" }, metadata: body.metadata ?? null, per_model_usage: [], per_testing_criteria_results: [],
      report_url: `https://platform.openai.com/evaluations/${id}`, result_counts: { errored: 0, failed: 0, passed: 0, total: 0 },
      output_items: [] as Stored[],
    };
    run.output_items.push({ id: newId("outputitem_", 16), object: "eval.run.output_item", created_at: run.created_at, eval_id: id, run_id: run.id, status: "pass", datasource_item_id: 0, datasource_item: {}, results: [], sample: { input: [], output: [], model: run.model, finish_reason: "stop", max_completion_tokens: 0, seed: 0, temperature: 1, top_p: 1, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0 }, error: { code: "", message: "" } } });
    found.runs.set(run.id, run);
    return sendJson(ctx, 200, publicView(run));
  }
  const run = found.runs.get(runId);
  if (run === undefined) return noSuch(ctx, "EvalRun", runId);
  if (action === "output_items") {
    if (itemId === undefined) return sendJson(ctx, 200, listPage(ctx, run.output_items));
    const item = run.output_items.find((candidate) => candidate.id === itemId);
    return item === undefined ? noSuch(ctx, "EvalRunOutputItem", itemId) : sendJson(ctx, 200, item);
  }
  if (ctx.rec.method === "DELETE") {
    found.runs.delete(runId);
    return sendJson(ctx, 200, { object: "eval.run.deleted", deleted: true, run_id: runId });
  }
  if (action === "cancel") run.status = "canceled";
  sendJson(ctx, 200, publicView(run));
}
