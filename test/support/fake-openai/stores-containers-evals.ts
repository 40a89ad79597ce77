/**
 * Conversations and their items, vector stores (files, file batches,
 * search), containers (files uploaded as multipart or copied from a file id,
 * content as bytes) and evals (runs, output items), with OpenAI's shapes.
 */
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { invalidParam, jsonBody, listPage, newId, noSuch, nowSeconds, projectOf, publicView, readForm, type Stored } from "./stored.ts";

// ---- conversations ----

function conversationItems(items: unknown): Stored[] {
  return (Array.isArray(items) ? items : []).map((item) => ({ id: newId("msg_", 24), type: "message", status: "completed", ...(item as Record<string, unknown>) }));
}

export function createConversation(ctx: Ctx): void {
  const body = jsonBody(ctx);
  const conversation = { id: newId("conv_", 24), object: "conversation", created_at: nowSeconds(), metadata: body.metadata ?? {}, items: conversationItems(body.items) };
  projectOf(ctx).conversations.set(conversation.id, conversation);
  sendJson(ctx, 200, publicView(conversation));
}

function findConversation(ctx: Ctx, id: string): (Stored & { items: Stored[] }) | undefined {
  const conversation = projectOf(ctx).conversations.get(id);
  if (conversation === undefined) noSuch(ctx, "Conversation", id);
  return conversation;
}

/** Retrieve, update (metadata) or delete a conversation. */
export function conversation(ctx: Ctx, id: string): void {
  const found = findConversation(ctx, id);
  if (found === undefined) return;
  if (ctx.rec.method === "DELETE") {
    projectOf(ctx).conversations.delete(id);
    return sendJson(ctx, 200, { id, object: "conversation.deleted", deleted: true });
  }
  if (ctx.rec.method === "POST") found.metadata = jsonBody(ctx).metadata ?? {};
  sendJson(ctx, 200, publicView(found));
}

/** Create (a list back), list, retrieve or delete (the conversation back) its items. */
export function conversationItem(ctx: Ctx, id: string, itemId?: string): void {
  const found = findConversation(ctx, id);
  if (found === undefined) return;
  if (itemId === undefined) {
    if (ctx.rec.method === "GET") return sendJson(ctx, 200, listPage(ctx, found.items));
    const added = conversationItems(jsonBody(ctx).items);
    found.items.push(...added);
    return sendJson(ctx, 200, { object: "list", data: added, first_id: added[0]?.id ?? null, last_id: added.at(-1)?.id ?? null, has_more: false });
  }
  const index = found.items.findIndex((item) => item.id === itemId);
  if (index < 0) return noSuch(ctx, "ConversationItem", itemId);
  if (ctx.rec.method === "DELETE") {
    found.items.splice(index, 1);
    return sendJson(ctx, 200, publicView(found));
  }
  sendJson(ctx, 200, found.items[index]);
}

// ---- vector stores ----

type VectorStore = Stored & { files: Map<string, Stored>; batches: Map<string, Stored> };

function storeView(store: VectorStore): Record<string, unknown> {
  const files = [...store.files.values()];
  const counts = { in_progress: 0, completed: files.length, failed: 0, cancelled: 0, total: files.length };
  return { ...publicView(store), file_counts: counts, usage_bytes: files.reduce((sum, file) => sum + Number(file.usage_bytes), 0) };
}

export function createVectorStore(ctx: Ctx): void {
  const body = jsonBody(ctx);
  const created = nowSeconds();
  const store: VectorStore = {
    id: newId("vs_", 16),
    object: "vector_store",
    created_at: created,
    name: body.name ?? "",
    status: "completed",
    last_active_at: created,
    metadata: body.metadata ?? {},
    expires_after: body.expires_after ?? null,
    expires_at: null,
    files: new Map(),
    batches: new Map(),
  };
  const objects = projectOf(ctx);
  for (const fileId of Array.isArray(body.file_ids) ? body.file_ids : []) {
    if (!objects.files.has(String(fileId))) return invalidParam(ctx, "file_ids", `File ${String(fileId)} not found.`);
    store.files.set(String(fileId), vectorFile(store.id, String(fileId), objects.files.get(String(fileId))));
  }
  objects.vectorStores.set(store.id, store);
  sendJson(ctx, 200, storeView(store));
}

function vectorFile(storeId: string, fileId: string, file: Stored | undefined, attributes?: unknown): Stored {
  return { id: fileId, object: "vector_store.file", created_at: nowSeconds(), usage_bytes: Number(file?.bytes ?? 0), vector_store_id: storeId, status: "completed", last_error: null, attributes: attributes ?? {}, chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } } };
}

export function listVectorStores(ctx: Ctx): void {
  const page = listPage(ctx, [...projectOf(ctx).vectorStores.values()]);
  sendJson(ctx, 200, { ...page, data: (page.data as Stored[]).map((store) => storeView(projectOf(ctx).vectorStores.get(store.id) as VectorStore)) });
}

/** Retrieve, update or delete a vector store. */
export function vectorStore(ctx: Ctx, id: string): void {
  const objects = projectOf(ctx);
  const store = objects.vectorStores.get(id);
  if (store === undefined) return noSuch(ctx, "VectorStore", id);
  if (ctx.rec.method === "DELETE") {
    objects.vectorStores.delete(id);
    return sendJson(ctx, 200, { id, object: "vector_store.deleted", deleted: true });
  }
  if (ctx.rec.method === "POST") Object.assign(store, pick(jsonBody(ctx), ["name", "metadata", "expires_after"]));
  sendJson(ctx, 200, storeView(store));
}

export function searchVectorStore(ctx: Ctx, id: string): void {
  const objects = projectOf(ctx);
  const store = objects.vectorStores.get(id);
  if (store === undefined) return noSuch(ctx, "VectorStore", id);
  const query = jsonBody(ctx).query;
  const data = [...store.files.keys()].map((fileId) => ({
    file_id: fileId,
    filename: String(objects.files.get(fileId)?.filename ?? ""),
    score: 0.5,
    attributes: store.files.get(fileId)?.attributes ?? {},
    content: [{ type: "text", text: (objects.fileBytes.get(fileId) ?? Buffer.alloc(0)).toString("utf8").slice(0, 200) }],
  }));
  sendJson(ctx, 200, { object: "vector_store.search_results.page", search_query: Array.isArray(query) ? query : [query], data, has_more: false, next_page: null });
}

/** The files of a vector store: attach, list, retrieve, update attributes, detach, content. */
export function vectorStoreFile(ctx: Ctx, id: string, fileId?: string, content = false): void {
  const objects = projectOf(ctx);
  const store = objects.vectorStores.get(id);
  if (store === undefined) return noSuch(ctx, "VectorStore", id);
  if (fileId === undefined) {
    if (ctx.rec.method === "GET") return sendJson(ctx, 200, listPage(ctx, [...store.files.values()]));
    const body = jsonBody(ctx);
    const attach = String(body.file_id);
    if (!objects.files.has(attach)) return invalidParam(ctx, "file_id", `File ${attach} not found.`);
    const file = vectorFile(id, attach, objects.files.get(attach), body.attributes);
    store.files.set(attach, file);
    return sendJson(ctx, 200, file);
  }
  const file = store.files.get(fileId);
  if (file === undefined) return noSuch(ctx, "VectorStoreFile", fileId);
  if (content) {
    const text = (objects.fileBytes.get(fileId) ?? Buffer.alloc(0)).toString("utf8");
    return sendJson(ctx, 200, { object: "vector_store.file_content.page", data: [{ type: "text", text }], has_more: false, next_page: null });
  }
  if (ctx.rec.method === "DELETE") {
    store.files.delete(fileId);
    return sendJson(ctx, 200, { id: fileId, object: "vector_store.file.deleted", deleted: true });
  }
  if (ctx.rec.method === "POST") file.attributes = jsonBody(ctx).attributes ?? {};
  sendJson(ctx, 200, file);
}

/** File batches of a vector store: create, retrieve, cancel, list their files. */
export function vectorStoreFileBatch(ctx: Ctx, id: string, batchId?: string, action?: "cancel" | "files"): void {
  const objects = projectOf(ctx);
  const store = objects.vectorStores.get(id);
  if (store === undefined) return noSuch(ctx, "VectorStore", id);
  if (batchId === undefined) {
    const body = jsonBody(ctx);
    const fileIds = [...(Array.isArray(body.file_ids) ? body.file_ids : []), ...(Array.isArray(body.files) ? body.files.map((file: { file_id?: unknown }) => file.file_id) : [])].map(String);
    const missing = fileIds.find((fileId) => !objects.files.has(fileId));
    if (missing !== undefined) return invalidParam(ctx, "file_ids", `File ${missing} not found.`);
    for (const fileId of fileIds) store.files.set(fileId, vectorFile(id, fileId, objects.files.get(fileId)));
    const batch = { id: newId("vsfb_", 16), object: "vector_store.files_batch", created_at: nowSeconds(), vector_store_id: id, status: "completed", file_counts: { in_progress: 0, completed: fileIds.length, failed: 0, cancelled: 0, total: fileIds.length }, file_ids: fileIds };
    store.batches.set(batch.id, batch);
    return sendJson(ctx, 200, batchView(batch));
  }
  const batch = store.batches.get(batchId);
  if (batch === undefined) return noSuch(ctx, "VectorStoreFileBatch", batchId);
  if (action === "files") return sendJson(ctx, 200, listPage(ctx, (batch.file_ids as string[]).map((fileId) => store.files.get(fileId)).filter((file): file is Stored => file !== undefined)));
  if (action === "cancel") batch.status = "cancelled";
  sendJson(ctx, 200, batchView(batch));
}

function batchView(batch: Stored): Record<string, unknown> {
  const { file_ids: _fileIds, ...rest } = batch;
  return rest;
}

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

function pick(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => body[name] !== undefined).map((name) => [name, body[name]]));
}
