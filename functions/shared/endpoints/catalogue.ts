/**
 * OpenAI's endpoints that the gateway forwards (or refuses), described as data.
 *
 * Each row says how a request to the endpoint is handled: its method and path
 * (with named parameters), what kind of body it carries and answers with,
 * whether its answer may be cached, how its token usage is read, which stored
 * objects it creates or touches, and whether the gateway refuses it. Matching,
 * body handling, usage reading, caching, isolation and metrics all read this
 * one table: a new endpoint is a new row. The row's shape is in definition.ts.
 */
import { CONVERSATION_ENDPOINTS, RESPONSE_OBJECT_ENDPOINTS, STORED_CHAT_ENDPOINTS } from "./conversation-state.ts";
import { endpoint, type EndpointDefinition } from "./definition.ts";
import { AUDIO_ENDPOINTS, IMAGE_ENDPOINTS } from "./media.ts";
import { REFUSED_ENDPOINTS } from "./refused.ts";
import {
  BATCH_ENDPOINTS,
  CONTAINER_ENDPOINTS,
  EVAL_ENDPOINTS,
  FILE_ENDPOINTS,
  FINE_TUNING_ENDPOINTS,
  VECTOR_STORE_ENDPOINTS,
} from "./stored-objects.ts";

export type {
  EndpointDefinition,
  EndpointMethod,
  OwnershipRule,
  Refusal,
  RequestBodyKind,
  ResponseKind,
  UsageKind,
  UsagePerObject,
} from "./definition.ts";

/** The model calls (chat, completions, responses, embeddings, moderations, the model list) and the gateway's own key. */
export const MODEL_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({
    name: "chat.completions",
    method: "POST",
    path: "/chat/completions",
    response: "json-or-sse",
    cacheable: true,
    usage: "completion",
    streamUsageOption: true,
    // With `"store": true` the completion is kept, and listed, retrieved, updated and deleted later.
    ownership: { creates: "when-stored" },
    stateful: false,
  }),
  endpoint({
    name: "completions",
    method: "POST",
    path: "/completions",
    response: "json-or-sse",
    cacheable: true,
    usage: "completion",
    streamUsageOption: true,
  }),
  // Stored by default (`store: true`) and chained with `previous_response_id`: never cached.
  endpoint({
    name: "responses",
    method: "POST",
    path: "/responses",
    response: "json-or-sse",
    usage: "response",
    ownership: { creates: "when-stored", storedByDefault: true, adopts: ["output[].container_id"] },
    usagePerObject: "response",
  }),
  endpoint({ name: "embeddings", method: "POST", path: "/embeddings", cacheable: true, usage: "embedding" }),
  endpoint({ name: "moderations", method: "POST", path: "/moderations", cacheable: true }),
  endpoint({ name: "models.list", method: "GET", path: "/models" }),
  endpoint({ name: "models.retrieve", method: "GET", path: "/models/{model}", modelParam: "model" }),
  // The caller's own gateway key: its limits, budgets and what it has used (core/key-info.ts).
  endpoint({ name: "gateway.key", method: "GET", path: "/gateway/key", answeredBy: "gateway" }),
];

/** Every endpoint the gateway knows: forwarded, then refused. */
export const ENDPOINTS: readonly EndpointDefinition[] = [
  ...MODEL_ENDPOINTS,
  ...RESPONSE_OBJECT_ENDPOINTS,
  ...STORED_CHAT_ENDPOINTS,
  ...CONVERSATION_ENDPOINTS,
  ...FILE_ENDPOINTS,
  ...BATCH_ENDPOINTS,
  ...FINE_TUNING_ENDPOINTS,
  ...VECTOR_STORE_ENDPOINTS,
  ...CONTAINER_ENDPOINTS,
  ...EVAL_ENDPOINTS,
  ...IMAGE_ENDPOINTS,
  ...AUDIO_ENDPOINTS,
  ...REFUSED_ENDPOINTS,
];
