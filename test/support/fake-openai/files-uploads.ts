/**
 * Files (`/v1/files`: multipart upload, list, retrieve, delete, content as
 * `application/octet-stream`) and uploads (`/v1/uploads`: create, parts as
 * multipart `data`, complete into a file, cancel), with OpenAI's shapes.
 */
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { field, invalidParam, jsonBody, listPage, newId, noSuch, nowSeconds, projectOf, publicView, readForm, type ProjectObjects, type Stored } from "./stored.ts";

const PURPOSES = new Set(["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]);

/** Keeps a file's bytes and returns its file object (`status: "processed"`). */
export function storeFile(objects: ProjectObjects, filename: string, purpose: string, bytes: Buffer): Stored {
  const file: Stored = {
    id: newId("file-", 11),
    object: "file",
    bytes: bytes.byteLength,
    created_at: nowSeconds(),
    expires_at: null,
    filename,
    purpose,
    status: "processed",
    status_details: null,
  };
  objects.files.set(file.id, file);
  objects.fileBytes.set(file.id, bytes);
  return file;
}

export async function createFile(ctx: Ctx): Promise<void> {
  const form = await readForm(ctx);
  if (form === undefined) return;
  const purpose = field(form, "purpose");
  const file = form.get("file");
  if (purpose === undefined || !PURPOSES.has(purpose)) return invalidParam(ctx, "purpose", `Invalid value for 'purpose': ${String(purpose)}.`);
  if (!(file instanceof File)) return invalidParam(ctx, "file", "Missing required parameter: 'file'.");
  const bytes = Buffer.from(await file.arrayBuffer());
  sendJson(ctx, 200, publicView(storeFile(projectOf(ctx), file.name, purpose, bytes)));
}

export function listFiles(ctx: Ctx): void {
  const purpose = new URLSearchParams(ctx.rec.url.split("?")[1] ?? "").get("purpose");
  const files = [...projectOf(ctx).files.values()].filter((file) => purpose === null || file.purpose === purpose);
  sendJson(ctx, 200, listPage(ctx, files));
}

export function retrieveFile(ctx: Ctx, id: string): void {
  const file = projectOf(ctx).files.get(id);
  if (file === undefined) return noSuch(ctx, "File", id);
  sendJson(ctx, 200, publicView(file));
}

export function deleteFile(ctx: Ctx, id: string): void {
  const objects = projectOf(ctx);
  if (!objects.files.delete(id)) return noSuch(ctx, "File", id);
  objects.fileBytes.delete(id);
  sendJson(ctx, 200, { id, object: "file", deleted: true });
}

/** The file's bytes as they were uploaded, in chunks (a large one streams). */
export function fileContent(ctx: Ctx, id: string): void {
  const bytes = projectOf(ctx).fileBytes.get(id);
  if (bytes === undefined) return noSuch(ctx, "File", id);
  ctx.res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.byteLength), "x-request-id": ctx.requestId });
  for (let offset = 0; offset < bytes.byteLength; offset += 64 * 1024) ctx.res.write(bytes.subarray(offset, offset + 64 * 1024));
  ctx.res.end();
}

export function createUpload(ctx: Ctx): void {
  const body = jsonBody(ctx);
  for (const name of ["filename", "purpose", "bytes", "mime_type"]) {
    if (body[name] === undefined) return invalidParam(ctx, name, `Missing required parameter: '${name}'.`);
  }
  const created = nowSeconds();
  const upload = {
    id: newId("upload_", 12),
    object: "upload",
    bytes: body.bytes,
    created_at: created,
    expires_at: created + 3600,
    filename: body.filename,
    purpose: body.purpose,
    status: "pending",
    file: null,
    parts: new Map<string, Buffer>(),
  };
  projectOf(ctx).uploads.set(upload.id, upload);
  sendJson(ctx, 200, publicView(upload));
}

export async function addUploadPart(ctx: Ctx, uploadId: string): Promise<void> {
  const upload = projectOf(ctx).uploads.get(uploadId);
  if (upload === undefined) return noSuch(ctx, "Upload", uploadId);
  const form = await readForm(ctx);
  if (form === undefined) return;
  const data = form.get("data");
  if (!(data instanceof Blob)) return invalidParam(ctx, "data", "Missing required parameter: 'data'.");
  const part = { id: newId("part_", 12), object: "upload.part", created_at: nowSeconds(), upload_id: uploadId };
  upload.parts.set(part.id, Buffer.from(await data.arrayBuffer()));
  sendJson(ctx, 200, part);
}

export function completeUpload(ctx: Ctx, uploadId: string): void {
  const objects = projectOf(ctx);
  const upload = objects.uploads.get(uploadId);
  if (upload === undefined) return noSuch(ctx, "Upload", uploadId);
  const partIds = jsonBody(ctx).part_ids;
  if (!Array.isArray(partIds) || partIds.some((id) => !upload.parts.has(String(id)))) return invalidParam(ctx, "part_ids", "Invalid part_ids.");
  const bytes = Buffer.concat(partIds.map((id) => upload.parts.get(String(id)) as Buffer));
  if (bytes.byteLength !== upload.bytes) return invalidParam(ctx, "bytes", `The parts hold ${bytes.byteLength} bytes, not ${String(upload.bytes)}.`);
  const file = storeFile(objects, String(upload.filename), String(upload.purpose), bytes);
  Object.assign(upload, { status: "completed", file: publicView(file) });
  sendJson(ctx, 200, publicView(upload));
}

export function cancelUpload(ctx: Ctx, uploadId: string): void {
  const upload = projectOf(ctx).uploads.get(uploadId);
  if (upload === undefined) return noSuch(ctx, "Upload", uploadId);
  upload.status = "cancelled";
  sendJson(ctx, 200, publicView(upload));
}
