/**
 * Conversations and their items, and vector stores (files, file batches,
 * search), with OpenAI's shapes.
 */
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { invalidParam, jsonBody, listPage, newId, noSuch, nowSeconds, pick, projectOf, publicView, type Stored } from "./stored.ts";

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
