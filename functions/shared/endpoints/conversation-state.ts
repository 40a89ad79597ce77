/**
 * The endpoints of conversation state the provider keeps: stored responses
 * (and their background runs), stored chat completions, and conversations
 * with their items. Creating a response or a stored chat completion is in
 * catalogue.ts with the other model calls; these are the calls on what they
 * stored. Their ownership works as in stored-objects.ts.
 */
import { endpoint, type EndpointDefinition, type OwnershipRule } from "./definition.ts";

const RESPONSE = "/responses/{response_id}";
const OWN_RESPONSE: OwnershipRule = { owned: "response_id", adopts: ["output[].container_id"] };
export const RESPONSE_OBJECT_ENDPOINTS: readonly EndpointDefinition[] = [
  // A background response reports its usage when it is done: to whoever retrieves it first, once.
  endpoint({ name: "responses.retrieve", method: "GET", path: RESPONSE, response: "json-or-sse", usage: "response", ownership: OWN_RESPONSE, usagePerObject: "response" }),
  endpoint({ name: "responses.delete", method: "DELETE", path: RESPONSE, ownership: { owned: "response_id" } }),
  endpoint({ name: "responses.cancel", method: "POST", path: `${RESPONSE}/cancel`, requestBody: "none", ownership: OWN_RESPONSE }),
  endpoint({ name: "responses.input_items", method: "GET", path: `${RESPONSE}/input_items`, ownership: { owned: "response_id" } }),
  // Counts tokens without running the model; its references (previous_response_id, conversation) are checked like a response's.
  endpoint({ name: "responses.input_tokens", method: "POST", path: "/responses/input_tokens", stateful: true }),
];

const COMPLETION = "/chat/completions/{completion_id}";
const OWN_COMPLETION: OwnershipRule = { owned: "completion_id" };
export const STORED_CHAT_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "chat.completions.list", method: "GET", path: "/chat/completions", ownership: { list: true } }),
  endpoint({ name: "chat.completions.retrieve", method: "GET", path: COMPLETION, ownership: OWN_COMPLETION }),
  endpoint({ name: "chat.completions.update", method: "POST", path: COMPLETION, ownership: OWN_COMPLETION }),
  endpoint({ name: "chat.completions.delete", method: "DELETE", path: COMPLETION, ownership: OWN_COMPLETION }),
  endpoint({ name: "chat.completions.messages", method: "GET", path: `${COMPLETION}/messages`, ownership: OWN_COMPLETION }),
];

const CONVERSATION = "/conversations/{conversation_id}";
const IN_CONVERSATION: OwnershipRule = { owned: "conversation_id" };
export const CONVERSATION_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "conversations.create", method: "POST", path: "/conversations", ownership: { creates: "always" } }),
  endpoint({ name: "conversations.retrieve", method: "GET", path: CONVERSATION, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.update", method: "POST", path: CONVERSATION, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.delete", method: "DELETE", path: CONVERSATION, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.items.create", method: "POST", path: `${CONVERSATION}/items`, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.items.list", method: "GET", path: `${CONVERSATION}/items`, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.items.retrieve", method: "GET", path: `${CONVERSATION}/items/{item_id}`, ownership: IN_CONVERSATION }),
  endpoint({ name: "conversations.items.delete", method: "DELETE", path: `${CONVERSATION}/items/{item_id}`, ownership: IN_CONVERSATION }),
];
