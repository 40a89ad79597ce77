/**
 * `GET /v1/models` lists the routes too, as models owned by the gateway, so
 * a client that picks its model from the list can pick a route.
 */
import { readPrefix } from "../providers/body-prefix.ts";
import type { ProviderResponse } from "../providers/types.ts";

/** The most of a model list the gateway reads to extend it; a larger one is relayed as it came. */
const MAX_LIST_BYTES = 4 * 1024 * 1024;

/** A successful, uncompressed JSON model list with the routes appended to its `data`; any other answer unchanged. */
export function withRouteModels<T extends ProviderResponse>(response: T, routeNames: readonly string[]): T {
  const contentType = String(response.headers["content-type"] ?? "");
  if (routeNames.length === 0 || response.status !== 200 || !contentType.includes("json") || response.headers["content-encoding"] !== undefined) {
    return response;
  }
  const { "content-length": _length, ...headers } = response.headers;
  return { ...response, headers, body: extendedList(response.body, routeNames) };
}

async function* extendedList(body: ProviderResponse["body"], routeNames: readonly string[]): AsyncGenerator<Uint8Array> {
  const prefix = await readPrefix(body, MAX_LIST_BYTES);
  const list = prefix.complete ? parseList(prefix.bytes) : undefined;
  if (list === undefined) return yield* prefix.whole();
  const listed = new Set(list.data.map((model) => (model as { id?: unknown } | null)?.id));
  for (const name of routeNames) if (!listed.has(name)) list.data.push({ id: name, object: "model", created: 0, owned_by: "gateway-route" });
  yield Buffer.from(JSON.stringify(list));
}

function parseList(bytes: Buffer): { data: unknown[] } | undefined {
  try {
    const list = JSON.parse(bytes.toString("utf8")) as unknown;
    return typeof list === "object" && list !== null && Array.isArray((list as { data?: unknown }).data) ? (list as { data: unknown[] }) : undefined;
  } catch {
    return undefined;
  }
}
