/**
 * The fake's routes for the families beyond the model calls: method and path
 * pattern to handler, path parameters decoded. Each answer is OpenAI's shape
 * (see the family modules).
 */
import { cancelBatch, changeJob, createBatch, createJob, jobCheckpoints, jobEvents, listBatches, listJobs, retrieveBatch, retrieveJob } from "./batches-fine-tuning.ts";
import { addUploadPart, cancelUpload, completeUpload, createFile, createUpload, deleteFile, fileContent, listFiles, retrieveFile } from "./files-uploads.ts";
import { createSpeech, editImages, generateImages, transcribe } from "./images-audio.ts";
import { container, containerFile, createContainer, createEval, evalRun, evaluation, listContainers, listEvals } from "./containers-evals.ts";
import {
  conversation,
  conversationItem,
  createConversation,
  createVectorStore,
  listVectorStores,
  searchVectorStore,
  vectorStore,
  vectorStoreFile,
  vectorStoreFileBatch,
} from "./conversations-vector-stores.ts";
import {
  cancelResponse,
  countInputTokens,
  deleteChatCompletion,
  deleteResponse,
  listChatCompletions,
  listChatMessages,
  listInputItems,
  retrieveChatCompletion,
  retrieveResponse,
  updateChatCompletion,
} from "./stored-responses.ts";
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";
import { jsonBody, newId, nowSeconds } from "./stored.ts";

type Handler = (ctx: Ctx, params: readonly string[]) => Promise<void> | void;
type Route = readonly [method: string, pattern: RegExp, handler: Handler];

const ID = "([^/]+)";
const route = (method: string, path: string, handler: Handler): Route => [method, new RegExp(`^/v1${path.replaceAll("{id}", ID)}$`), handler];
const p = (params: readonly string[], index: number) => params[index] as string;

const ROUTES: readonly Route[] = [
  route("POST", "/files", (ctx) => createFile(ctx)),
  route("GET", "/files", (ctx) => listFiles(ctx)),
  route("GET", "/files/{id}", (ctx, params) => retrieveFile(ctx, p(params, 0))),
  route("DELETE", "/files/{id}", (ctx, params) => deleteFile(ctx, p(params, 0))),
  route("GET", "/files/{id}/content", (ctx, params) => fileContent(ctx, p(params, 0))),
  route("POST", "/uploads", (ctx) => createUpload(ctx)),
  route("POST", "/uploads/{id}/parts", (ctx, params) => addUploadPart(ctx, p(params, 0))),
  route("POST", "/uploads/{id}/complete", (ctx, params) => completeUpload(ctx, p(params, 0))),
  route("POST", "/uploads/{id}/cancel", (ctx, params) => cancelUpload(ctx, p(params, 0))),
  route("POST", "/batches", (ctx) => createBatch(ctx)),
  route("GET", "/batches", (ctx) => listBatches(ctx)),
  route("GET", "/batches/{id}", (ctx, params) => retrieveBatch(ctx, p(params, 0))),
  route("POST", "/batches/{id}/cancel", (ctx, params) => cancelBatch(ctx, p(params, 0))),
  route("POST", "/fine_tuning/jobs", (ctx) => createJob(ctx)),
  route("GET", "/fine_tuning/jobs", (ctx) => listJobs(ctx)),
  route("GET", "/fine_tuning/jobs/{id}", (ctx, params) => retrieveJob(ctx, p(params, 0))),
  route("GET", "/fine_tuning/jobs/{id}/events", (ctx, params) => jobEvents(ctx, p(params, 0))),
  route("GET", "/fine_tuning/jobs/{id}/checkpoints", (ctx, params) => jobCheckpoints(ctx, p(params, 0))),
  route("POST", "/fine_tuning/jobs/{id}/(cancel|pause|resume)", (ctx, params) => changeJob(ctx, p(params, 0), p(params, 1))),
  route("POST", "/images/generations", (ctx) => generateImages(ctx)),
  route("POST", "/images/edits", (ctx) => editImages(ctx, false)),
  route("POST", "/images/variations", (ctx) => editImages(ctx, true)),
  route("POST", "/audio/speech", (ctx) => createSpeech(ctx)),
  route("POST", "/audio/transcriptions", (ctx) => transcribe(ctx, false)),
  route("POST", "/audio/translations", (ctx) => transcribe(ctx, true)),
  route("POST", "/responses/input_tokens", (ctx) => countInputTokens(ctx)),
  route("GET", "/responses/{id}", (ctx, params) => retrieveResponse(ctx, p(params, 0))),
  route("DELETE", "/responses/{id}", (ctx, params) => deleteResponse(ctx, p(params, 0))),
  route("POST", "/responses/{id}/cancel", (ctx, params) => cancelResponse(ctx, p(params, 0))),
  route("GET", "/responses/{id}/input_items", (ctx, params) => listInputItems(ctx, p(params, 0))),
  route("GET", "/chat/completions", (ctx) => listChatCompletions(ctx)),
  route("GET", "/chat/completions/{id}", (ctx, params) => retrieveChatCompletion(ctx, p(params, 0))),
  route("POST", "/chat/completions/{id}", (ctx, params) => updateChatCompletion(ctx, p(params, 0))),
  route("DELETE", "/chat/completions/{id}", (ctx, params) => deleteChatCompletion(ctx, p(params, 0))),
  route("GET", "/chat/completions/{id}/messages", (ctx, params) => listChatMessages(ctx, p(params, 0))),
  route("POST", "/conversations", (ctx) => createConversation(ctx)),
  route("(GET|POST|DELETE)", "/conversations/{id}", (ctx, params) => conversation(ctx, p(params, 0))),
  route("(GET|POST)", "/conversations/{id}/items", (ctx, params) => conversationItem(ctx, p(params, 0))),
  route("(GET|DELETE)", "/conversations/{id}/items/{id}", (ctx, params) => conversationItem(ctx, p(params, 0), p(params, 1))),
  route("POST", "/vector_stores", (ctx) => createVectorStore(ctx)),
  route("GET", "/vector_stores", (ctx) => listVectorStores(ctx)),
  route("(GET|POST|DELETE)", "/vector_stores/{id}", (ctx, params) => vectorStore(ctx, p(params, 0))),
  route("POST", "/vector_stores/{id}/search", (ctx, params) => searchVectorStore(ctx, p(params, 0))),
  route("(GET|POST)", "/vector_stores/{id}/files", (ctx, params) => vectorStoreFile(ctx, p(params, 0))),
  route("(GET|POST|DELETE)", "/vector_stores/{id}/files/{id}", (ctx, params) => vectorStoreFile(ctx, p(params, 0), p(params, 1))),
  route("GET", "/vector_stores/{id}/files/{id}/content", (ctx, params) => vectorStoreFile(ctx, p(params, 0), p(params, 1), true)),
  route("POST", "/vector_stores/{id}/file_batches", (ctx, params) => vectorStoreFileBatch(ctx, p(params, 0))),
  route("GET", "/vector_stores/{id}/file_batches/{id}", (ctx, params) => vectorStoreFileBatch(ctx, p(params, 0), p(params, 1))),
  route("POST", "/vector_stores/{id}/file_batches/{id}/cancel", (ctx, params) => vectorStoreFileBatch(ctx, p(params, 0), p(params, 1), "cancel")),
  route("GET", "/vector_stores/{id}/file_batches/{id}/files", (ctx, params) => vectorStoreFileBatch(ctx, p(params, 0), p(params, 1), "files")),
  route("POST", "/containers", (ctx) => createContainer(ctx)),
  route("GET", "/containers", (ctx) => listContainers(ctx)),
  route("(GET|DELETE)", "/containers/{id}", (ctx, params) => container(ctx, p(params, 0))),
  route("(GET|POST)", "/containers/{id}/files", (ctx, params) => containerFile(ctx, p(params, 0))),
  route("(GET|DELETE)", "/containers/{id}/files/{id}", (ctx, params) => containerFile(ctx, p(params, 0), p(params, 1))),
  route("GET", "/containers/{id}/files/{id}/content", (ctx, params) => containerFile(ctx, p(params, 0), p(params, 1), true)),
  route("POST", "/realtime/client_secrets", (ctx) => createClientSecret(ctx)),
  route("POST", "/evals", (ctx) => createEval(ctx)),
  route("GET", "/evals", (ctx) => listEvals(ctx)),
  route("(GET|POST|DELETE)", "/evals/{id}", (ctx, params) => evaluation(ctx, p(params, 0))),
  route("(GET|POST)", "/evals/{id}/runs", (ctx, params) => evalRun(ctx, p(params, 0))),
  route("(GET|DELETE)", "/evals/{id}/runs/{id}", (ctx, params) => evalRun(ctx, p(params, 0), p(params, 1))),
  route("POST", "/evals/{id}/runs/{id}/cancel", (ctx, params) => evalRun(ctx, p(params, 0), p(params, 1), "cancel")),
  route("GET", "/evals/{id}/runs/{id}/output_items", (ctx, params) => evalRun(ctx, p(params, 0), p(params, 1), "output_items")),
  route("GET", "/evals/{id}/runs/{id}/output_items/{id}", (ctx, params) => evalRun(ctx, p(params, 0), p(params, 1), "output_items", p(params, 2))),
];

/** Answers a request to one of these families; undefined when none has its method and path. */
export function routeStoredObjects(ctx: Ctx): Promise<void> | void | undefined {
  for (const [method, pattern, handler] of ROUTES) {
    if (!new RegExp(`^${method}$`).test(ctx.rec.method)) continue;
    const match = pattern.exec(ctx.pathname);
    if (match === null) continue;
    return handler(ctx, match.slice(1).map(decode)) ?? Promise.resolve();
  }
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A realtime client secret: an ephemeral key for a browser to open a session with, as OpenAI mints it. */
function createClientSecret(ctx: Ctx): void {
  const session = jsonBody(ctx).session ?? { type: "realtime", model: "gpt-realtime" };
  sendJson(ctx, 200, { value: newId("ek_", 16), expires_at: nowSeconds() + 600, session: { ...(session as object), id: newId("sess_", 12), object: "realtime.session" } });
}
