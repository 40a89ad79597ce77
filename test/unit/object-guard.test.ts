/**
 * The object guard's timing and edges, without a network: a JSON answer's
 * last bytes wait for the owner record, a stream is never held back, a list
 * the gateway cannot read is refused, and owners are read with strongly
 * consistent reads from DynamoDB.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../functions/shared/access/authenticate.ts";
import { findReferences } from "../../functions/shared/access/object-references.ts";
import { filterList } from "../../functions/shared/access/list-filter.ts";
import { createObjectGuard } from "../../functions/shared/access/object-guard.ts";
import { topLevelId } from "../../functions/shared/access/answer-reader.ts";
import { matchEndpoint } from "../../functions/shared/endpoints/match.ts";
import { createDynamoDbStore } from "../../functions/shared/stores/dynamodb-store.ts";
import { createMemoryStore } from "../../functions/shared/stores/memory-store.ts";
import type { GatewayStore } from "../../functions/shared/stores/types.ts";
import type { UpstreamResponse } from "../../functions/shared/upstream/client.ts";

const CALLER: Caller = { mode: "managed", keyId: "team-a", keyDigest: "aa" };

function answer(status: number, contentType: string, chunks: Uint8Array[] = []): UpstreamResponse {
  return { status, headers: { "content-type": contentType }, body: chunks, abort: () => undefined, discard: () => undefined };
}

/** A store whose writes wait until the test lets them through. */
function gatedStore(): { store: GatewayStore; release(): void; writes: string[] } {
  const memory = createMemoryStore();
  const gate = Promise.withResolvers<void>();
  const writes: string[] = [];
  return {
    store: {
      get: (key, options) => memory.get(key, options),
      add: (key, amount, ttl) => memory.add(key, amount, ttl),
      async put(key, value, ttl) {
        writes.push(key);
        await gate.promise;
        return memory.put(key, value, ttl);
      },
    },
    release: () => gate.resolve(),
    writes,
  };
}

async function* body(chunks: string[], paused?: Promise<void>): AsyncGenerator<Uint8Array, void, undefined> {
  for (const [index, chunk] of chunks.entries()) {
    if (index === chunks.length - 1 && paused !== undefined) await paused;
    yield Buffer.from(chunk);
  }
}

describe("the owner record of a created object", () => {
  it("holds a JSON answer's last bytes until the record is written", async () => {
    const { store, release, writes } = gatedStore();
    const guard = createObjectGuard({ store, prices: {}, onStoreError: () => undefined });
    const access = await guard.admit({ caller: CALLER, provider: "openai", match: matchEndpoint("POST", "/v1/files") });
    await access.answer(answer(200, "application/json"), async () => answer(500, "application/json"), "", 1_000);
    const relayed = (access.watchBody as NonNullable<typeof access.watchBody>)(body(['{"id":"file-new","object":"file",', '"bytes":3}']));
    expect(Buffer.from((await relayed.next()).value as Uint8Array).toString()).toBe('{"id":"file-new","object":"file",');
    let last: IteratorResult<Uint8Array> | undefined;
    const pending = relayed.next().then((result) => (last = result));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(writes).toEqual(["owner:file-new"]);
    expect(last).toBeUndefined();
    release();
    await pending;
    expect(Buffer.from(last?.value as Uint8Array).toString()).toBe('"bytes":3}');
    expect(new TextDecoder().decode(await store.get("owner:file-new"))).toBe("team-a");
  });

  it("never holds a stream back: its record starts with the first event", async () => {
    const { store, release, writes } = gatedStore();
    const guard = createObjectGuard({ store, prices: {}, onStoreError: () => undefined });
    const access = await guard.admit({ caller: CALLER, provider: "openai", match: matchEndpoint("POST", "/v1/responses"), json: { model: "gpt-4.1", stream: true } });
    await access.answer(answer(200, "text/event-stream"), async () => answer(500, "application/json"), "", 1_000);
    const events = ['event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\n', "event: response.completed\ndata: {}\n\n"];
    const relayed = (access.watchBody as NonNullable<typeof access.watchBody>)(body(events));
    expect((await relayed.next()).done).toBe(false);
    expect((await relayed.next()).done).toBe(false);
    expect(writes).toEqual(["owner:resp_1"]);
    release();
    expect((await relayed.next()).done).toBe(true);
  });
});

describe("edges", () => {
  it("refuses (403) a list answer it cannot read as a list, and passes a provider error through", async () => {
    const context = { owned: async () => new Set<string>(), fetchPage: async () => answer(500, "application/json"), query: "", readTimeoutMs: 1_000 };
    await expect(filterList(answer(200, "application/json", [Buffer.from('{"object":"file"}')]), context)).rejects.toMatchObject({ status: 403, code: "list_not_filterable" });
    await expect(filterList(answer(200, "application/json", [Buffer.from("not json")]), context)).rejects.toMatchObject({ status: 403 });
    const failed = answer(404, "application/json", [Buffer.from('{"error":{}}')]);
    expect(await filterList(failed, context)).toBe(failed);
  });

  it("finds the references a body makes, at any depth, but never in free text", () => {
    const body = {
      previous_response_id: "resp_1",
      conversation: { id: "conv_1" },
      input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }, { type: "input_text", text: '"file_id": "file-2"' }] }],
      tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }, { type: "code_interpreter", container: { type: "auto", file_ids: ["file-3"] } }],
      annotations: [{ type: "container_file_citation", container_id: "cntr_1", file_id: "cfile_1" }],
    };
    const found = findReferences(body, Buffer.from(JSON.stringify(body)));
    expect(found.map((reference) => reference.id).sort()).toEqual(["cntr_1", "conv_1", "file-1", "file-3", "resp_1", "vs_1"]);
    expect(findReferences({ model: "gpt-4o", messages: [] }, Buffer.from('{"model":"gpt-4o","messages":[]}'))).toEqual([]);
  });

  it("reads the top-level id of a JSON head, past nested ids and strings", () => {
    expect(topLevelId('{"object":"fine_tuning.job","hyperparameters":{"id":"nested"},"note":"\\"id\\": \\"x\\"","id":"ftjob-1","more')).toBe("ftjob-1");
    expect(topLevelId('{"object":"x","data":[{"id":"a"}')).toBeUndefined();
  });

  it("reads owners from DynamoDB with strongly consistent reads", async () => {
    const reads: unknown[] = [];
    const client = { send: async (command: { input: unknown }) => (reads.push(command.input), {}) } as unknown as DynamoDBClient;
    const store = createDynamoDbStore({ tableName: "t", client });
    const guard = createObjectGuard({ store, prices: {}, onStoreError: () => undefined });
    await expect(guard.admit({ caller: CALLER, provider: "openai", match: matchEndpoint("GET", "/v1/files/file-1") })).rejects.toMatchObject({ status: 404 });
    expect(reads).toEqual([expect.objectContaining({ Key: { pk: { S: "owner:file-1" } }, ConsistentRead: true })]);
  });
});
