/**
 * Keeps stored objects (files, uploads, batches, fine-tuning jobs, responses,
 * stored chat completions, conversations, vector stores, containers, evals)
 * of gateway keys that share one provider key apart, and counts the usage
 * that belongs to an object once.
 *
 * Before a request goes upstream: the object its path names, and every object
 * its JSON body points at (`previous_response_id`, `conversation`, file and
 * vector store ids…), must be the caller's; another key's object, and an id
 * the gateway never saw created, answer 404 alike. A store that cannot say
 * answers 503: the gateway never guesses an owner.
 *
 * After: a list answer keeps only the caller's objects (list-filter.ts); the
 * ids an answer creates or hands over are recorded as the caller's while the
 * answer is relayed, and a JSON answer's last bytes wait for that record, so
 * the client never holds an id the gateway does not know yet.
 */
import type { PriceTable } from "../config/prices.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import { DependencyUnavailableError, NotFoundError } from "../http/errors.ts";
import { headerValue, isEventStream } from "../http/headers.ts";
import type { JsonBody } from "../http/request-body.ts";
import type { GatewayStore } from "../stores/types.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { createObjectUsageCounter, type ObjectUsage } from "../usage/object-usage.ts";
import type { TokenUsage } from "../usage/usage-readers.ts";
import { createAnswerReader, type AnswerIds } from "./answer-reader.ts";
import type { Caller } from "./authenticate.ts";
import { isolatedByGateway } from "./isolation.ts";
import { filterList } from "./list-filter.ts";
import { createObjectRegistry, type ObjectRegistry } from "./object-registry.ts";
import { findReferences } from "./object-references.ts";

type Body = AsyncGenerator<Uint8Array, void, undefined>;

/** One request, as the guard sees it. */
export interface ObjectRequest {
  readonly caller: Caller;
  /** The provider's name (objects live in a provider account). */
  readonly provider: string;
  /** The provider's id in the price catalogue, pricing its batches' usage. */
  readonly priceProvider?: string;
  readonly match: EndpointMatch;
  readonly json?: JsonBody;
  /** The JSON body's bytes. */
  readonly raw?: Uint8Array;
}

/** What the guard does with one request's answer. */
export interface ObjectAccess {
  /** The answer to relay: a list keeps only the caller's objects (`fetchPage` reads on when a page holds none). */
  answer(
    response: UpstreamResponse,
    fetchPage: (query: string) => Promise<UpstreamResponse>,
    query: string,
    readTimeoutMs: number,
  ): UpstreamResponse | Promise<UpstreamResponse>;
  /** Reads the relayed body on the side, when there is something to read. */
  readonly watchBody?: (body: Body) => Body;
  /**
   * Once the body has ended: the object's usage, replacing the readers' (resolving to undefined:
   * theirs stands). Undefined at once when the request has no object to count or record.
   */
  settle(readersUsage: TokenUsage | undefined): Promise<ObjectUsage | undefined> | undefined;
}

/** The guard of a gateway. */
export interface ObjectGuard {
  /**
   * Checks a request before it goes upstream: at once when it names no object of a key the
   * gateway keeps apart (most requests), else once the store has said whose they are.
   * @throws {NotFoundError} for another key's object, or one the gateway never saw
   * @throws {DependencyUnavailableError} when the store cannot say who owns it
   */
  admit(request: ObjectRequest): ObjectAccess | Promise<ObjectAccess>;
}

/** What the guard is built from. */
export interface ObjectGuardDependencies {
  readonly store: GatewayStore;
  readonly prices: PriceTable;
  /** Hears of a record that could not be written (the answer is relayed anyway). */
  readonly onStoreError: (error: unknown, operation: string) => void;
}

/** Creates the guard over the store that keeps owners and usage counters. */
export function createObjectGuard(dependencies: ObjectGuardDependencies): ObjectGuard {
  const registry = createObjectRegistry(dependencies.store);
  const counter = createObjectUsageCounter(dependencies.store, dependencies.prices);
  const { onStoreError } = dependencies;

  return {
    admit(request) {
      const { caller } = request;
      const keyId = caller.mode === "managed" && isolatedByGateway(caller, request.provider) ? caller.keyId : undefined;
      // Nothing to check, record, filter or count: no promise, no watcher (hot path, npm run bench).
      if (keyId === undefined) return request.match.endpoint.usagePerObject === undefined ? UNGUARDED : accessOf(request, undefined);
      return checkOwnership(registry, keyId, request).then(() => accessOf(request, keyId));
    },
  };

  /** The access of an admitted request; `keyId` when its key's objects are kept apart. */
  function accessOf(request: ObjectRequest, keyId: string | undefined): ObjectAccess {
    const { match, json } = request;
    const { endpoint } = match;
    const rule = endpoint.ownership;
    const stored = json?.store === true || (json?.store === undefined && rule?.storedByDefault === true);
    const creates = keyId !== undefined && (rule?.creates === "always" || (rule?.creates === "when-stored" && stored));
    const adopts = keyId === undefined ? [] : (rule?.adopts ?? []);
    const perObject = endpoint.usagePerObject;
    const background = perObject === "response" && json?.background === true;
    const readsAnswer = creates || adopts.length > 0 || perObject === "batch" || background;
    let answered: UpstreamResponse | undefined;
    let ids: AnswerIds | undefined;
    let batchUsage: ObjectUsage | undefined;
    // Settled once the watched body has ended and its records are written; settle() waits for it.
    const ended = Promise.withResolvers<void>();
    if (!readsAnswer) ended.resolve();

    /** Records what the answer created and handed over, and counts finished batches, once the body has ended (or broke off). */
    async function finish(found: AnswerIds, complete: boolean, recorded: boolean): Promise<void> {
      ids = found;
      const work: Promise<unknown>[] = [];
      if (creates && !recorded && found.id !== undefined) work.push(guarded(registry.record([found.id], keyId as string), "object owner record"));
      if (complete && adopts.length > 0) work.push(guarded(registry.adopt(handedOver(found, adopts), keyId as string), "object owner record"));
      if (complete && perObject === "batch") {
        work.push(guarded(counter.batches(found.parsed, request.priceProvider).then((usage) => void (batchUsage = usage)), "batch usage count"));
      }
      await Promise.all(work);
    }

    function guarded(work: Promise<unknown>, operation: string): Promise<unknown> {
      return work.catch((error: unknown) => onStoreError(error, operation));
    }

    async function* watch(body: Body): Body {
      const response = answered;
      if (response === undefined || response.status < 200 || response.status >= 300) {
        ended.resolve();
        return yield* body;
      }
      const eventStream = isEventStream(headerValue(response.headers, "content-type"));
      const reader = createAnswerReader(eventStream, scanFields(adopts));
      let held: Uint8Array | undefined;
      let recording: Promise<unknown> | undefined;
      let complete = false;
      try {
        for await (const chunk of body) {
          reader.push(chunk);
          if (!eventStream) {
            // JSON: each chunk goes on when the next arrives; the last waits for the records.
            if (held !== undefined) yield held;
            held = chunk;
            continue;
          }
          // A stream goes on at once; its object's record starts as soon as the first event names it.
          if (creates && recording === undefined && reader.earlyId !== undefined) {
            recording = guarded(registry.record([reader.earlyId], keyId as string), "object owner record");
          }
          yield chunk;
        }
        complete = true;
      } finally {
        void Promise.all([recording, finish(reader.finish(), complete, recording !== undefined)]).then(() => ended.resolve());
      }
      await ended.promise;
      if (held !== undefined) yield held;
    }

    return {
      answer(response, fetchPage, query, readTimeoutMs) {
        answered = response;
        if (keyId === undefined || rule?.list !== true) return response;
        const filtering = filterList(response, {
          query,
          readTimeoutMs,
          fetchPage,
          owned: async (objectIds) => new Set((await Promise.all(objectIds.map(async (id) => ((await ownerOf(registry, id)) === keyId ? id : undefined)))).filter(isString)),
        });
        return filtering.then((filtered) => (answered = filtered));
      },
      watchBody: readsAnswer ? watch : undefined,
      settle(readersUsage) {
        return readsAnswer || perObject !== undefined ? settleObjects(readersUsage) : undefined;
      },
    };

    /** The object's usage, once the body has ended and its records are written. */
    async function settleObjects(readersUsage: TokenUsage | undefined): Promise<ObjectUsage | undefined> {
      await ended.promise;
      if (perObject === "batch") return batchUsage ?? {};
      if (perObject !== "response") return undefined;
      const pathId = match.params.response_id;
      try {
        // A retrieve reports a background response's usage: counted once.
        if (pathId !== undefined) return await counter.response(pathId, readersUsage);
        if (background && readersUsage === undefined && ids?.id !== undefined) await counter.pending(ids.id);
      } catch (error) {
        onStoreError(error, "response usage count");
        if (pathId !== undefined) return {};
      }
      return undefined;
    }
  }
}

/** The access of a request with nothing to guard, record or count: shared, as it holds nothing of any request's. */
const UNGUARDED: ObjectAccess = {
  answer: (response) => response,
  settle: () => undefined,
};

/** Checks the path's object and the body's references; throws for any that is not the key's. */
async function checkOwnership(registry: ObjectRegistry, keyId: string, request: ObjectRequest): Promise<void> {
  const param = request.match.endpoint.ownership?.owned;
  const pathId = param === undefined ? undefined : request.match.params[param];
  const wanted = pathId === undefined ? [] : [{ field: param as string, id: pathId, inPath: true }];
  if (request.json !== undefined && request.raw !== undefined) {
    for (const reference of findReferences(request.json, request.raw)) wanted.push({ ...reference, inPath: false });
  }
  const owners = await Promise.all(wanted.map((entry) => ownerOf(registry, entry.id)));
  const foreign = wanted.findIndex((_, index) => owners[index] !== keyId);
  const entry = wanted[foreign];
  if (entry === undefined) return;
  throw new NotFoundError(`No such object: ${JSON.stringify(entry.id.slice(0, 128))}.`, {
    param: entry.inPath ? null : entry.field,
    code: "object_not_found",
  });
}

async function ownerOf(registry: ObjectRegistry, id: string): Promise<string | undefined> {
  try {
    return await registry.ownerOf(id);
  } catch (error) {
    throw new DependencyUnavailableError("The gateway cannot check who owns this object right now; try again.", { cause: error });
  }
}

/** The ids at the answer's handed-over fields (of the object, or of each object of a list page), and those scanned from a stream. */
function handedOver(found: AnswerIds, paths: readonly string[]): string[] {
  const parsed = found.parsed as { data?: unknown } | undefined;
  const objects = Array.isArray(parsed?.data) ? parsed.data : parsed === undefined ? [] : [parsed];
  const ids = [...found.scanned];
  for (const object of objects) for (const path of paths) ids.push(...valuesAt(object, path.split(".")));
  return ids;
}

/** The strings at a path like `output[].container_id` (`[]`: every element of an array). */
function valuesAt(value: unknown, path: readonly string[]): string[] {
  const [head, ...rest] = path;
  if (head === undefined) return typeof value === "string" && value !== "" ? [value] : [];
  if (typeof value !== "object" || value === null) return [];
  const member = (value as Record<string, unknown>)[head.replace(/\[\]$/, "")];
  if (!head.endsWith("[]")) return valuesAt(member, rest);
  return Array.isArray(member) ? member.flatMap((item) => valuesAt(item, rest)) : [];
}

/** Field names to scan for in a stream or a large answer: the last step of each path, but never a bare `id`. */
function scanFields(paths: readonly string[]): string[] {
  return [...new Set(paths.map((path) => (path.split(".").at(-1) as string).replace(/\[\]$/, "")).filter((field) => field !== "id"))];
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}
