/**
 * What the provider keeps of a conversation, through the local gateway with the
 * official openai SDK: stored responses (retrieve, as JSON or replayed as a
 * stream, delete, cancel, input items, input tokens), stored chat completions
 * (list, retrieve, update, delete, messages) and conversations with their items.
 */
import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";

const KEY = "gw-team-a-0123456789abcdef";
const fixture = useFakeUpstreamAndGateway({
  upstream: { requireAuth: "Bearer sk-provider" },
  env: { GATEWAY_API_KEYS: KEY, OPENAI_API_KEY: "sk-provider", GATEWAY_MAX_RETRIES: "0" },
  apiKey: KEY,
});

describe("stored responses", () => {
  it("retrieves a stored response as JSON and as a replayed stream, lists its input items, and deletes it", async () => {
    const created = await fixture.client.responses.create({ model: "gpt-4.1", input: "Remember me" });
    const retrieved = await fixture.client.responses.retrieve(created.id);
    expect(retrieved).toMatchObject({ id: created.id, status: "completed", output_text: "Echo: Remember me" });

    const stream = await fixture.client.responses.retrieve(created.id, { stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["response.created", "response.output_text.delta", "response.completed"]);

    const items = [];
    for await (const item of fixture.client.responses.inputItems.list(created.id)) items.push(item.type);
    expect(items).toEqual(["message"]);
    await fixture.client.responses.delete(created.id);

    const summaries = await fixture.gateway.waitForSummaries(5);
    expect(summaries.map((summary) => [summary.endpoint, summary.stream])).toEqual([
      ["responses", false],
      ["responses.retrieve", false],
      ["responses.retrieve", true],
      ["responses.input_items", false],
      ["responses.delete", false],
    ]);
    // The usage was counted when the response was made; retrieving it again counts nothing.
    expect(summaries[0]?.usage?.totalTokens).toBeGreaterThan(0);
    expect(summaries.slice(1).map((summary) => summary.usage)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("counts a background response's usage once, when it is first retrieved done", async () => {
    const queued = await fixture.client.responses.create({ model: "gpt-4.1", input: "Later", background: true });
    expect(queued.status).toBe("queued");
    const done = await fixture.client.responses.retrieve(queued.id);
    expect(done.status).toBe("completed");
    await fixture.client.responses.retrieve(queued.id);
    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries[0]?.usage).toBeUndefined();
    expect(summaries[1]?.usage?.totalTokens).toBe(done.usage?.total_tokens);
    expect(summaries[2]?.usage).toBeUndefined();
  });

  it("cancels a background response and counts input tokens", async () => {
    const queued = await fixture.client.responses.create({ model: "gpt-4.1", input: "Cancel me", background: true });
    expect((await fixture.client.responses.cancel(queued.id)).status).toBe("cancelled");
    const count = await fixture.client.responses.inputTokens.count({ model: "gpt-4.1", input: "How many tokens?" });
    expect(count).toMatchObject({ object: "response.input_tokens" });
    expect(count.input_tokens).toBeGreaterThan(0);
    const summaries = await fixture.gateway.waitForSummaries(3);
    expect(summaries.map((summary) => summary.endpoint)).toEqual(["responses", "responses.cancel", "responses.input_tokens"]);
  });

  it("continues a stored response with previous_response_id", async () => {
    const first = await fixture.client.responses.create({ model: "gpt-4.1", input: "One" });
    const second = await fixture.client.responses.create({ model: "gpt-4.1", input: "Two", previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
  });
});

describe("stored chat completions", () => {
  it("lists, retrieves, updates, reads the messages of, and deletes a stored completion", async () => {
    const completion = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Store me" }], store: true, metadata: { topic: "a" } });
    const streamed = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Stream me" }], store: true, stream: true });
    for await (const _chunk of streamed) {
      // drain
    }
    const listed: OpenAI.Chat.ChatCompletion[] = [];
    for await (const item of fixture.client.chat.completions.list()) listed.push(item);
    expect(listed.map((item) => item.choices[0]?.message.content)).toEqual(["Echo: Store me", "Echo: Stream me"]);
    expect((await fixture.client.chat.completions.retrieve(completion.id)).id).toBe(completion.id);
    expect((await fixture.client.chat.completions.update(completion.id, { metadata: { topic: "b" } })).metadata).toEqual({ topic: "b" });
    const messages = [];
    for await (const message of fixture.client.chat.completions.messages.list(completion.id)) messages.push(message.content);
    expect(messages).toEqual(["Store me"]);
    expect(await fixture.client.chat.completions.delete(completion.id)).toEqual({ id: completion.id, object: "chat.completion.deleted", deleted: true });
    const summaries = await fixture.gateway.waitForSummaries(7);
    expect(summaries.map((summary) => summary.family)).toEqual(["chat", "chat", "chat", "chat", "chat", "chat", "chat"]);
  });
});

describe("conversations", () => {
  it("creates, retrieves, updates and deletes a conversation, with its items, and answers within it", async () => {
    const conversation = await fixture.client.conversations.create({ metadata: { topic: "demo" }, items: [{ type: "message", role: "user", content: "Hello" }] });
    expect(conversation).toMatchObject({ object: "conversation", metadata: { topic: "demo" } });
    expect((await fixture.client.conversations.retrieve(conversation.id)).id).toBe(conversation.id);
    expect((await fixture.client.conversations.update(conversation.id, { metadata: { topic: "changed" } })).metadata).toEqual({ topic: "changed" });
    const added = await fixture.client.conversations.items.create(conversation.id, { items: [{ type: "message", role: "user", content: "More" }] });
    const itemId = added.data[0]?.id as string;
    expect((await fixture.client.conversations.items.retrieve(itemId, { conversation_id: conversation.id })).id).toBe(itemId);
    await fixture.client.responses.create({ model: "gpt-4.1", input: "Within", conversation: conversation.id });
    const items = [];
    for await (const item of fixture.client.conversations.items.list(conversation.id)) items.push(item.id);
    expect(items.length).toBe(4);
    await fixture.client.conversations.items.delete(itemId, { conversation_id: conversation.id });
    expect(await fixture.client.conversations.delete(conversation.id)).toMatchObject({ id: conversation.id, deleted: true });
    const summaries = await fixture.gateway.waitForSummaries(9);
    expect(summaries.filter((summary) => summary.family === "conversations")).toHaveLength(8);
  });
});
