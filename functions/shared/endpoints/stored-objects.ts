/**
 * The endpoints of objects the provider stores for an account: files and
 * uploads, batches, fine-tuning jobs, vector stores, containers and evals.
 *
 * Each row says which path parameter names an object the caller must own, and
 * what an answer creates or hands over to the caller (see OwnershipRule), so
 * that gateway keys sharing one provider key never reach each other's objects.
 * A child (a vector store's file, an eval's run) goes with its parent: owning
 * the parent is owning its children.
 */
import { endpoint, type EndpointDefinition, type OwnershipRule } from "./definition.ts";

const CREATES: OwnershipRule = { creates: "always" };
const LIST: OwnershipRule = { list: true };
const owned = (param: string, adopts?: readonly string[]): OwnershipRule => (adopts === undefined ? { owned: param } : { owned: param, adopts });

/** A batch hands its output and error files to its owner. */
const BATCH_FILES = ["output_file_id", "error_file_id"];
/** A fine-tuning job hands its result files (training metrics) to its owner. */
const RESULT_FILES = ["result_files[]"];

export const FILE_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "files.create", method: "POST", path: "/files", requestBody: "multipart", ownership: CREATES }),
  endpoint({ name: "files.list", method: "GET", path: "/files", ownership: LIST }),
  endpoint({ name: "files.retrieve", method: "GET", path: "/files/{file_id}", ownership: owned("file_id") }),
  endpoint({ name: "files.delete", method: "DELETE", path: "/files/{file_id}", ownership: owned("file_id") }),
  endpoint({ name: "files.content", method: "GET", path: "/files/{file_id}/content", response: "binary", ownership: owned("file_id") }),
  endpoint({ name: "uploads.create", method: "POST", path: "/uploads", ownership: CREATES }),
  endpoint({ name: "uploads.parts", method: "POST", path: "/uploads/{upload_id}/parts", requestBody: "multipart", ownership: owned("upload_id") }),
  // Completing an upload makes the file: the answer's `file.id` becomes the uploader's.
  endpoint({ name: "uploads.complete", method: "POST", path: "/uploads/{upload_id}/complete", ownership: owned("upload_id", ["file.id"]) }),
  endpoint({ name: "uploads.cancel", method: "POST", path: "/uploads/{upload_id}/cancel", requestBody: "none", ownership: owned("upload_id") }),
];

export const BATCH_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "batches.create", method: "POST", path: "/batches", ownership: CREATES }),
  endpoint({ name: "batches.list", method: "GET", path: "/batches", ownership: { list: true, adopts: BATCH_FILES }, usagePerObject: "batch" }),
  endpoint({ name: "batches.retrieve", method: "GET", path: "/batches/{batch_id}", ownership: owned("batch_id", BATCH_FILES), usagePerObject: "batch" }),
  endpoint({
    name: "batches.cancel",
    method: "POST",
    path: "/batches/{batch_id}/cancel",
    requestBody: "none",
    ownership: owned("batch_id", BATCH_FILES),
    usagePerObject: "batch",
  }),
];

const JOB = "/fine_tuning/jobs/{fine_tuning_job_id}";
export const FINE_TUNING_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "fine_tuning.jobs.create", method: "POST", path: "/fine_tuning/jobs", ownership: CREATES }),
  endpoint({ name: "fine_tuning.jobs.list", method: "GET", path: "/fine_tuning/jobs", ownership: { list: true, adopts: RESULT_FILES } }),
  endpoint({ name: "fine_tuning.jobs.retrieve", method: "GET", path: JOB, ownership: owned("fine_tuning_job_id", RESULT_FILES) }),
  endpoint({ name: "fine_tuning.jobs.events", method: "GET", path: `${JOB}/events`, ownership: owned("fine_tuning_job_id") }),
  endpoint({ name: "fine_tuning.jobs.checkpoints", method: "GET", path: `${JOB}/checkpoints`, ownership: owned("fine_tuning_job_id") }),
  ...(["cancel", "pause", "resume"] as const).map((action) =>
    endpoint({
      name: `fine_tuning.jobs.${action}`,
      method: "POST",
      path: `${JOB}/${action}`,
      requestBody: "none",
      ownership: owned("fine_tuning_job_id", RESULT_FILES),
    }),
  ),
];

const STORE = "/vector_stores/{vector_store_id}";
const IN_STORE = owned("vector_store_id");
export const VECTOR_STORE_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "vector_stores.create", method: "POST", path: "/vector_stores", ownership: CREATES }),
  endpoint({ name: "vector_stores.list", method: "GET", path: "/vector_stores", ownership: LIST }),
  endpoint({ name: "vector_stores.retrieve", method: "GET", path: STORE, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.update", method: "POST", path: STORE, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.delete", method: "DELETE", path: STORE, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.search", method: "POST", path: `${STORE}/search`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.create", method: "POST", path: `${STORE}/files`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.list", method: "GET", path: `${STORE}/files`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.retrieve", method: "GET", path: `${STORE}/files/{file_id}`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.update", method: "POST", path: `${STORE}/files/{file_id}`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.delete", method: "DELETE", path: `${STORE}/files/{file_id}`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.files.content", method: "GET", path: `${STORE}/files/{file_id}/content`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.file_batches.create", method: "POST", path: `${STORE}/file_batches`, ownership: IN_STORE }),
  endpoint({ name: "vector_stores.file_batches.retrieve", method: "GET", path: `${STORE}/file_batches/{batch_id}`, ownership: IN_STORE }),
  endpoint({
    name: "vector_stores.file_batches.cancel",
    method: "POST",
    path: `${STORE}/file_batches/{batch_id}/cancel`,
    requestBody: "none",
    ownership: IN_STORE,
  }),
  endpoint({ name: "vector_stores.file_batches.files", method: "GET", path: `${STORE}/file_batches/{batch_id}/files`, ownership: IN_STORE }),
];

const CONTAINER = "/containers/{container_id}";
const IN_CONTAINER = owned("container_id");
export const CONTAINER_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "containers.create", method: "POST", path: "/containers", ownership: CREATES }),
  endpoint({ name: "containers.list", method: "GET", path: "/containers", ownership: LIST }),
  endpoint({ name: "containers.retrieve", method: "GET", path: CONTAINER, ownership: IN_CONTAINER }),
  endpoint({ name: "containers.delete", method: "DELETE", path: CONTAINER, ownership: IN_CONTAINER }),
  // A file is uploaded (multipart) or copied from a file id (JSON).
  endpoint({ name: "containers.files.create", method: "POST", path: `${CONTAINER}/files`, requestBody: "json-or-multipart", ownership: IN_CONTAINER }),
  endpoint({ name: "containers.files.list", method: "GET", path: `${CONTAINER}/files`, ownership: IN_CONTAINER }),
  endpoint({ name: "containers.files.retrieve", method: "GET", path: `${CONTAINER}/files/{file_id}`, ownership: IN_CONTAINER }),
  endpoint({ name: "containers.files.delete", method: "DELETE", path: `${CONTAINER}/files/{file_id}`, ownership: IN_CONTAINER }),
  endpoint({ name: "containers.files.content", method: "GET", path: `${CONTAINER}/files/{file_id}/content`, response: "binary", ownership: IN_CONTAINER }),
];

const EVAL = "/evals/{eval_id}";
const RUN = `${EVAL}/runs/{run_id}`;
const IN_EVAL = owned("eval_id");
export const EVAL_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "evals.create", method: "POST", path: "/evals", ownership: CREATES }),
  endpoint({ name: "evals.list", method: "GET", path: "/evals", ownership: LIST }),
  endpoint({ name: "evals.retrieve", method: "GET", path: EVAL, ownership: IN_EVAL }),
  endpoint({ name: "evals.update", method: "POST", path: EVAL, ownership: IN_EVAL }),
  endpoint({ name: "evals.delete", method: "DELETE", path: EVAL, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.create", method: "POST", path: `${EVAL}/runs`, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.list", method: "GET", path: `${EVAL}/runs`, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.retrieve", method: "GET", path: RUN, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.cancel", method: "POST", path: `${RUN}/cancel`, requestBody: "none", ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.delete", method: "DELETE", path: RUN, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.output_items.list", method: "GET", path: `${RUN}/output_items`, ownership: IN_EVAL }),
  endpoint({ name: "evals.runs.output_items.retrieve", method: "GET", path: `${RUN}/output_items/{output_item_id}`, ownership: IN_EVAL }),
];
