/**
 * A list of stored objects (files, batches, jobs, vector stores…) as a caller
 * that shares its provider key may see it: only the objects it owns.
 *
 * The provider's page is read whole, its `data` kept to the caller's objects,
 * and the answer rebuilt. A page holding none of them would end the SDK's
 * auto-pagination (it stops at an empty page), so the gateway reads on, page
 * after page (`after` the last id it read), until it finds some, the list
 * ends, or {@link MAX_PAGES} were read; then `has_more` and `last_id` let a
 * client go on from where the gateway stopped. The SDK continues after the
 * last object it got, so what lies between is read again: never lost.
 * An answer the gateway cannot read as a list is refused (403), never relayed.
 */
import { GatewayError, UpstreamTimeoutError, UpstreamUnavailableError } from "../http/errors.ts";
import type { UpstreamResponse } from "../upstream/client.ts";

/** Pages of the provider's list read for one request, at most. */
export const MAX_PAGES = 5;
/** The largest list page read (a hundred stored chat completions fit). */
export const MAX_LIST_BYTES = 8 * 1024 * 1024;

/** What filtering needs. */
export interface ListFilterContext {
  /** Which of these ids the caller owns. */
  owned(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** Calls the provider for the same list with another query (the next page). */
  fetchPage(query: string): Promise<UpstreamResponse>;
  /** The request's query string (limit, after, order…). */
  readonly query: string;
  /** How long reading one page may take (the request's time left). */
  readonly readTimeoutMs: number;
}

interface ListPage {
  readonly object?: unknown;
  readonly data: readonly { readonly id?: unknown }[];
  readonly has_more?: unknown;
  readonly first_id?: unknown;
  readonly last_id?: unknown;
  readonly [field: string]: unknown;
}

/** The list answer with only the caller's objects; an error answer is returned as it is. */
export async function filterList(first: UpstreamResponse, context: ListFilterContext): Promise<UpstreamResponse> {
  if (first.status < 200 || first.status >= 300) return first;
  const params = new URLSearchParams(context.query);
  const wanted = Math.max(1, Number(params.get("limit")) || 20);
  // With `before` the list runs backwards: one page, filtered, without reading on.
  const readOn = !params.has("before");
  let page = await readPage(first, context.readTimeoutMs);
  const kept: ListPage["data"][number][] = [];
  for (let pages = 1; ; pages += 1) {
    const owned = await context.owned(page.data.map((item) => String(item.id)));
    kept.push(...page.data.filter((item) => owned.has(String(item.id))));
    const lastId = page.data.at(-1)?.id;
    if (kept.length > 0 || page.has_more !== true || !readOn || pages >= MAX_PAGES || typeof lastId !== "string") break;
    params.set("after", lastId);
    page = await readPage(await context.fetchPage(params.toString()), context.readTimeoutMs);
  }
  const data = kept.slice(0, wanted);
  const body: Record<string, unknown> = { ...page, data, has_more: kept.length > wanted || page.has_more === true };
  if ("first_id" in page) body.first_id = typeof data[0]?.id === "string" ? data[0].id : null;
  // An empty page still says where the gateway stopped reading, so a client can go on from there.
  if ("last_id" in page) body.last_id = typeof data.at(-1)?.id === "string" ? data.at(-1)?.id : (page.data.at(-1)?.id ?? null);
  const bytes = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | string[] | undefined> = { ...first.headers, "content-type": "application/json", "content-length": String(bytes.byteLength) };
  return { status: first.status, headers, body: [bytes], abort: () => undefined, discard: () => undefined };
}

/** Reads a list page whole, within `timeoutMs`. */
async function readPage(response: UpstreamResponse, timeoutMs: number): Promise<ListPage> {
  if (response.status < 200 || response.status >= 300) {
    response.discard();
    throw new UpstreamUnavailableError(`The provider answered ${response.status} for a further page of the list.`);
  }
  const encoding = String(response.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity") {
    response.discard();
    throw cannotFilter("the provider's answer is compressed");
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const timer = setTimeout(() => response.abort(new UpstreamTimeoutError("The provider's list took longer than the request's time left.")), timeoutMs);
  try {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_LIST_BYTES) {
        response.abort(new Error("list page too large"));
        throw cannotFilter(`a page is larger than ${MAX_LIST_BYTES} bytes; ask for a smaller limit`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new UpstreamUnavailableError("The provider's list broke off before it was complete.", { cause: error });
  } finally {
    clearTimeout(timer);
  }
  let page: unknown;
  try {
    page = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw cannotFilter("the provider's answer is not JSON");
  }
  if (typeof page !== "object" || page === null || !Array.isArray((page as ListPage).data)) throw cannotFilter("the provider's answer is not a list");
  return page as ListPage;
}

function cannotFilter(reason: string): GatewayError {
  return new GatewayError(403, `The gateway cannot list only your key's objects here (${reason}). A gateway key with its own provider project sees its lists directly.`, {
    code: "list_not_filterable",
  });
}
