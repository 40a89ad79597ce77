/**
 * The endpoint catalogue as data: every family the gateway forwards or refuses,
 * matched by method and path, with the metric dimension kept to a short list.
 */
import { describe, expect, it } from "vitest";
import { ENDPOINTS } from "../../functions/shared/endpoints/catalogue.ts";
import { matchEndpoint } from "../../functions/shared/endpoints/match.ts";
import { MethodNotAllowedError, NotFoundError } from "../../functions/shared/http/errors.ts";

describe("the endpoint catalogue", () => {
  it("has a short, fixed list of families: the endpoint metric dimension", () => {
    expect([...new Set(ENDPOINTS.map((endpoint) => endpoint.family))].sort()).toEqual([
      "admin",
      "audio",
      "batches",
      "chat",
      "completions",
      "containers",
      "conversations",
      "embeddings",
      "evals",
      "files",
      "fine_tuning",
      "gateway",
      "images",
      "models",
      "moderations",
      "realtime",
      "responses",
      "uploads",
      "vector_stores",
    ]);
  });

  it("names every operation once", () => {
    const names = ENDPOINTS.map((endpoint) => endpoint.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("caches only the model calls whose answer is a pure function of the request", () => {
    expect(ENDPOINTS.filter((endpoint) => endpoint.cacheable).map((endpoint) => endpoint.name)).toEqual([
      "chat.completions",
      "completions",
      "embeddings",
      "moderations",
    ]);
  });

  it("checks ownership on every path that names a stored object", () => {
    const unchecked = ENDPOINTS.filter((endpoint) => /\{(?!model\})\w+\}/.test(endpoint.path) && endpoint.refusal === undefined && endpoint.ownership?.owned === undefined);
    expect(unchecked.map((endpoint) => endpoint.name)).toEqual([]);
  });
});

describe("matching the new families", () => {
  it.each([
    ["POST", "/v1/files", "files.create", {}],
    ["GET", "/v1/files/file-abc/content", "files.content", { file_id: "file-abc" }],
    ["POST", "/v1/uploads/upload_1/parts", "uploads.parts", { upload_id: "upload_1" }],
    ["POST", "/v1/batches/batch_1/cancel", "batches.cancel", { batch_id: "batch_1" }],
    ["POST", "/v1/fine_tuning/jobs/ftjob-1/pause", "fine_tuning.jobs.pause", { fine_tuning_job_id: "ftjob-1" }],
    ["POST", "/v1/responses/input_tokens", "responses.input_tokens", {}],
    ["GET", "/v1/responses/resp_1", "responses.retrieve", { response_id: "resp_1" }],
    ["GET", "/v1/chat/completions", "chat.completions.list", {}],
    ["POST", "/v1/chat/completions/chatcmpl-1", "chat.completions.update", { completion_id: "chatcmpl-1" }],
    ["DELETE", "/v1/conversations/conv_1/items/msg_1", "conversations.items.delete", { conversation_id: "conv_1", item_id: "msg_1" }],
    ["POST", "/v1/vector_stores/vs_1/search", "vector_stores.search", { vector_store_id: "vs_1" }],
    ["GET", "/v1/containers/cntr_1/files/cfile_1/content", "containers.files.content", { container_id: "cntr_1", file_id: "cfile_1" }],
    ["GET", "/v1/evals/eval_1/runs/evalrun_1/output_items/item_1", "evals.runs.output_items.retrieve", { eval_id: "eval_1", run_id: "evalrun_1", output_item_id: "item_1" }],
    ["POST", "/v1/images/edits", "images.edits", {}],
    ["POST", "/v1/audio/transcriptions", "audio.transcriptions", {}],
  ])("%s %s is %s", (method, path, name, params) => {
    const match = matchEndpoint(method, path);
    expect(match.endpoint.name).toBe(name);
    expect(match.params).toEqual(params);
  });

  it.each([
    ["GET", "/v1/organization"],
    ["GET", "/v1/organization/users"],
    ["POST", "/v1/organization/admin_api_keys"],
    ["DELETE", "/v1/organization/projects/proj_1/api_keys/key_1"],
    ["GET", "/v1/organization/usage/completions"],
    ["POST", "/v1/projects/proj_1/roles"],
    ["GET", "/v1/fine_tuning/checkpoints/ftckpt_1/permissions"],
    ["DELETE", "/v1/fine_tuning/checkpoints/ftckpt_1/permissions/cp_1"],
  ])("%s %s is an admin path, refused whatever the method", (method, path) => {
    expect(matchEndpoint(method, path).endpoint.refusal).toBe("admin");
  });

  it("keeps refusing what is not in the catalogue", () => {
    expect(() => matchEndpoint("GET", "/v1/organizations")).toThrow(NotFoundError);
    expect(() => matchEndpoint("PUT", "/v1/files")).toThrow(MethodNotAllowedError);
    expect(() => matchEndpoint("GET", "/v1/files/..")).toThrow(NotFoundError);
    expect(() => matchEndpoint("GET", "/v1/files/a%2Fb/content")).toThrow(NotFoundError);
  });
});
