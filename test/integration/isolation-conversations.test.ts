/**
 * Two gateway keys on one provider key never see or touch each other's stored
 * responses, stored chat completions or conversations, nor build on them
 * (`previous_response_id`, `conversation`), and an id the gateway never saw
 * created answers 404 for every family, the provider not called.
 */
import { describe, expect, it } from "vitest";
import { useTwoKeys } from "../support/two-keys.ts";

const keys = useTwoKeys();

async function ids<T extends { id?: string }>(pages: AsyncIterable<T>): Promise<string[]> {
  const found: string[] = [];
  for await (const item of pages) found.push(String(item.id));
  return found;
}

describe("stored responses", () => {
  it("keeps a response to its key, and refuses another key's as previous_response_id", async () => {
    const response = await keys.a.responses.create({ model: "gpt-4.1", input: "secret plans" });
    await keys.refused(keys.b.responses.retrieve(response.id));
    await keys.refused(keys.b.responses.retrieve(response.id, { stream: true }));
    await keys.refused(keys.b.responses.inputItems.list(response.id));
    await keys.refused(keys.b.responses.cancel(response.id));
    await keys.refused(keys.b.responses.delete(response.id));
    await keys.refused(keys.b.responses.create({ model: "gpt-4.1", input: "and then?", previous_response_id: response.id }));
    await keys.refused(keys.b.responses.inputTokens.count({ model: "gpt-4.1", input: "x", previous_response_id: response.id }));
    const next = await keys.a.responses.create({ model: "gpt-4.1", input: "and then?", previous_response_id: response.id });
    expect(next.previous_response_id).toBe(response.id);
  });

  it("records a streamed response's id from its first event", async () => {
    const stream = await keys.a.responses.create({ model: "gpt-4.1", input: "streamed", stream: true });
    let id = "";
    for await (const event of stream) if (event.type === "response.created") id = event.response.id;
    await keys.refused(keys.b.responses.retrieve(id));
    expect((await keys.a.responses.retrieve(id)).id).toBe(id);
  });

  it("a response with store: false leaves no record", async () => {
    const response = await keys.a.responses.create({ model: "gpt-4.1", input: "forget me", store: false });
    await keys.refused(keys.a.responses.retrieve(response.id));
  });
});

describe("stored chat completions", () => {
  it("lists, retrieves, updates and deletes only the key's own stored completions", async () => {
    const mine = await keys.a.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "mine" }], store: true });
    const streamed = await keys.a.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "mine too" }], store: true, stream: true });
    for await (const _chunk of streamed) {
      // drain
    }
    const theirs = await keys.b.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "theirs" }], store: true });
    await keys.refused(keys.b.chat.completions.retrieve(mine.id));
    await keys.refused(keys.b.chat.completions.update(mine.id, { metadata: { x: "y" } }));
    await keys.refused(keys.b.chat.completions.messages.list(mine.id));
    await keys.refused(keys.b.chat.completions.delete(mine.id));
    expect(await ids(keys.a.chat.completions.list())).toHaveLength(2);
    expect(await ids(keys.b.chat.completions.list())).toEqual([theirs.id]);
  });
});

describe("conversations", () => {
  it("keeps a conversation and its items to its key, and refuses another key's as a response's conversation", async () => {
    const conversation = await keys.a.conversations.create({ items: [{ type: "message", role: "user", content: "private" }] });
    const [item] = await ids(keys.a.conversations.items.list(conversation.id));
    await keys.refused(keys.b.conversations.retrieve(conversation.id));
    await keys.refused(keys.b.conversations.update(conversation.id, { metadata: {} }));
    await keys.refused(keys.b.conversations.items.list(conversation.id));
    await keys.refused(keys.b.conversations.items.retrieve(item as string, { conversation_id: conversation.id }));
    await keys.refused(keys.b.conversations.items.create(conversation.id, { items: [] }));
    await keys.refused(keys.b.conversations.items.delete(item as string, { conversation_id: conversation.id }));
    await keys.refused(keys.b.conversations.delete(conversation.id));
    await keys.refused(keys.b.responses.create({ model: "gpt-4.1", input: "hi", conversation: conversation.id }));
    await keys.refused(keys.b.responses.create({ model: "gpt-4.1", input: "hi", conversation: { id: conversation.id } }));
    expect((await keys.a.responses.create({ model: "gpt-4.1", input: "hi", conversation: conversation.id })).status).toBe("completed");
  });
});

describe("ids the gateway never saw created", () => {
  it.each([
    ["files.retrieve", () => keys.a.files.retrieve("file-neverseen")],
    ["files.content", () => keys.a.files.content("file-neverseen")],
    ["uploads.cancel", () => keys.a.uploads.cancel("upload_neverseen")],
    ["batches.retrieve", () => keys.a.batches.retrieve("batch_neverseen")],
    ["fine_tuning.jobs.retrieve", () => keys.a.fineTuning.jobs.retrieve("ftjob-neverseen")],
    ["responses.retrieve", () => keys.a.responses.retrieve("resp_neverseen")],
    ["chat.completions.retrieve", () => keys.a.chat.completions.retrieve("chatcmpl-neverseen")],
    ["conversations.retrieve", () => keys.a.conversations.retrieve("conv_neverseen")],
    ["vector_stores.retrieve", () => keys.a.vectorStores.retrieve("vs_neverseen")],
    ["containers.retrieve", () => keys.a.containers.retrieve("cntr_neverseen")],
    ["evals.retrieve", () => keys.a.evals.retrieve("eval_neverseen")],
    ["a response's previous_response_id", () => keys.a.responses.create({ model: "gpt-4.1", input: "x", previous_response_id: "resp_neverseen" })],
    ["a batch's input file", () => keys.a.batches.create({ input_file_id: "file-neverseen", endpoint: "/v1/chat/completions", completion_window: "24h" })],
    ["a chat message's file", () => keys.a.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-neverseen" } }] }] })],
  ])("%s answers 404", async (_name, call) => {
    await keys.refused(call);
  });

  it("the 404 names neither whose object it is nor whether it exists", async () => {
    const mine = await keys.a.files.create({ file: new File(["x"], "x.txt"), purpose: "assistants" });
    const errors = await Promise.all([keys.b.files.retrieve(mine.id), keys.b.files.retrieve("file-neverseen")].map((call) => call.then(() => undefined, (error: unknown) => error as Error)));
    expect(errors[0]?.message.replace(mine.id, "ID")).toBe(errors[1]?.message.replace("file-neverseen", "ID"));
    expect(errors[0]?.message).not.toContain("team-a");
  });
});
