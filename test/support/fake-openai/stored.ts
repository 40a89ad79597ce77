/**
 * What the fake keeps between requests, like an OpenAI account: files,
 * uploads, batches, fine-tuning jobs, stored responses and chat completions,
 * conversations, vector stores, containers and evals. Like OpenAI, objects
 * live in a project: the `openai-project` header picks it (none: the key's
 * default project), so two projects never see each other's objects.
 *
 * Helpers shared by the families: ids, OpenAI's cursor pages, its 404 for an
 * unknown object, and reading a multipart form (undici's parser, as a server would).
 */
import { randomBytes } from "node:crypto";
import type { Ctx } from "./types.ts";
import { sendError } from "./errors.ts";

/** A record of any stored object: its OpenAI JSON, plus what the fake keeps beside it. */
export type Stored = Record<string, unknown> & { id: string; created_at?: number };

/** The objects of one project. */
export interface ProjectObjects {
  readonly files: Map<string, Stored>;
  readonly fileBytes: Map<string, Buffer>;
  readonly uploads: Map<string, Stored & { parts: Map<string, Buffer> }>;
  readonly batches: Map<string, Stored>;
  readonly jobs: Map<string, Stored>;
  readonly responses: Map<string, Stored & { input_items?: unknown[] }>;
  readonly chat: Map<string, Stored & { messages: Stored[] }>;
  readonly conversations: Map<string, Stored & { items: Stored[] }>;
  readonly vectorStores: Map<string, Stored & { files: Map<string, Stored>; batches: Map<string, Stored> }>;
  readonly containers: Map<string, Stored & { files: Map<string, Stored & { bytes_data: Buffer }> }>;
  readonly evals: Map<string, Stored & { runs: Map<string, Stored & { output_items: Stored[] }> }>;
}

/** Every project's objects, by `openai-project` value ("" for none). */
export type ObjectStore = Map<string, ProjectObjects>;

/** A project with nothing stored yet. */
export function emptyProject(): ProjectObjects {
  return {
    files: new Map(),
    fileBytes: new Map(),
    uploads: new Map(),
    batches: new Map(),
    jobs: new Map(),
    responses: new Map(),
    chat: new Map(),
    conversations: new Map(),
    vectorStores: new Map(),
    containers: new Map(),
    evals: new Map(),
  };
}

/** The objects of the project the request names. */
export function projectOf(ctx: Ctx): ProjectObjects {
  const header = ctx.req.headers["openai-project"];
  const project = (Array.isArray(header) ? header[0] : header) ?? "";
  let objects = ctx.state.objects.get(project);
  if (objects === undefined) {
    objects = emptyProject();
    ctx.state.objects.set(project, objects);
  }
  return objects;
}

/** An OpenAI-style id: prefix and random hex (`file-…`, `batch_…`). */
export function newId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString("hex")}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Options of a list page. */
export interface PageOptions {
  /** Whether the page carries first_id and last_id (most lists), or only has_more (fine-tuning jobs and events). */
  readonly cursors?: boolean;
  /** Default order when the query says none: newest first (`desc`), as most lists. */
  readonly order?: "asc" | "desc";
}

/** OpenAI's cursor page over objects: `limit` (default 20), `after`, `before`, `order`. */
export function listPage(ctx: Ctx, items: readonly Stored[], options: PageOptions = {}): Record<string, unknown> {
  const query = new URLSearchParams(ctx.rec.url.split("?")[1] ?? "");
  const order = query.get("order") ?? options.order ?? "desc";
  // Objects are kept in the order they were made: the newest last.
  const sorted = order === "asc" ? [...items] : [...items].reverse();
  const limit = Math.min(10_000, Math.max(1, Number(query.get("limit")) || 20));
  let start = 0;
  const after = query.get("after");
  if (after !== null) start = sorted.findIndex((item) => item.id === after) + 1;
  let end = sorted.length;
  const before = query.get("before");
  if (before !== null) end = Math.max(0, sorted.findIndex((item) => item.id === before));
  const data = before !== null ? sorted.slice(Math.max(0, end - limit), end) : sorted.slice(start, start + limit);
  const hasMore = before !== null ? end - limit > 0 : start + limit < sorted.length;
  const page: Record<string, unknown> = { object: "list", data: data.map(publicView) };
  if (options.cursors !== false) {
    page.first_id = data[0]?.id ?? null;
    page.last_id = data.at(-1)?.id ?? null;
  }
  page.has_more = hasMore;
  return page;
}

/** The object as OpenAI shows it: without what the fake keeps beside it (fields the fake's maps add). */
export function publicView(item: Stored): Record<string, unknown> {
  const { parts: _parts, messages: _messages, items: _items, files: _files, batches: _batches, runs: _runs, output_items: _outputs, bytes_data: _bytes, input_items: _input, ...rest } =
    item as Record<string, unknown>;
  return rest;
}

/** OpenAI's 404 for an object id it does not know (in this project). */
export function noSuch(ctx: Ctx, kind: string, id: string): void {
  sendError(ctx, 404, { message: `No such ${kind} object: ${id}`, type: "invalid_request_error", param: "id", code: null });
}

/** A 400 naming the parameter, as OpenAI's request checks do. */
export function invalidParam(ctx: Ctx, param: string, message: string): void {
  sendError(ctx, 400, { message, type: "invalid_request_error", param, code: null });
}

/** The request's multipart form, parsed as a server would, or undefined (after a 400) when it is not one. */
export async function readForm(ctx: Ctx): Promise<FormData | undefined> {
  const contentType = String(ctx.req.headers["content-type"] ?? "");
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    invalidParam(ctx, "file", "Expected a multipart/form-data body.");
    return undefined;
  }
  try {
    return await new Response(new Uint8Array(ctx.rec.body), { headers: { "content-type": contentType } }).formData();
  } catch {
    invalidParam(ctx, "file", "The multipart body could not be parsed.");
    return undefined;
  }
}

/** A text field of a form. */
export function field(form: FormData, name: string): string | undefined {
  const value = form.get(name);
  return typeof value === "string" ? value : undefined;
}

/** The JSON body as an object ({} when there is none). */
export function jsonBody(ctx: Ctx): Record<string, unknown> {
  const json = ctx.rec.json;
  return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
}

/** The named fields of a body that it sets. */
export function pick(body: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => body[name] !== undefined).map((name) => [name, body[name]]));
}
