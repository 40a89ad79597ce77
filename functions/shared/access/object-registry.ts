/**
 * Who created each stored object (file, batch, response, vector store…) that
 * gateway keys sharing one provider key made, kept in the gateway store (in
 * memory locally, DynamoDB in AWS): one entry per object id, naming the
 * gateway key's id.
 *
 * The key's id names the owner, not its digest: a rotated key keeps its
 * objects, and the stack's generated key (listed with and without its `gw-`
 * prefix) is one owner. Entries live {@link OWNER_TTL_SECONDS}; an object
 * older than that, or made before the gateway was in front, has no owner and
 * no gateway key reaches it (use a key with its own provider project instead).
 */
import type { GatewayStore } from "../stores/types.ts";

/** How long an owner entry is kept: longer than OpenAI keeps batch files (30 days) or stored responses (30 days), about a year for files and jobs. */
export const OWNER_TTL_SECONDS = 400 * 86_400;

const PREFIX = "owner:";

/** Reads and records owners. */
export interface ObjectRegistry {
  /** The id of the gateway key that created the object, or undefined when the gateway never saw it created. */
  ownerOf(objectId: string): Promise<string | undefined>;
  /** Records the key as the owner of objects it just created (new ids: nobody owns them yet). */
  record(objectIds: readonly string[], keyId: string): Promise<void>;
  /** Records the key as the owner of objects its own objects handed over; an object already owned keeps its owner. */
  adopt(objectIds: readonly string[], keyId: string): Promise<void>;
}

/** Creates the registry over a store. */
export function createObjectRegistry(store: GatewayStore): ObjectRegistry {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return {
    async ownerOf(objectId) {
      // Consistent: the object may have been created a moment ago, through another execution environment.
      const value = await store.get(PREFIX + objectId, { consistent: true });
      return value === undefined ? undefined : decoder.decode(value);
    },
    async record(objectIds, keyId) {
      const value = encoder.encode(keyId);
      await Promise.all([...new Set(objectIds)].map((objectId) => store.put(PREFIX + objectId, value, OWNER_TTL_SECONDS)));
    },
    async adopt(objectIds, keyId) {
      const value = encoder.encode(keyId);
      await Promise.all(
        [...new Set(objectIds)].map(async (objectId) => {
          // An id seen again (a batch's output file in every poll) is not rewritten, nor taken over.
          if ((await store.get(PREFIX + objectId, { consistent: true })) !== undefined) return;
          await store.put(PREFIX + objectId, value, OWNER_TTL_SECONDS);
        }),
      );
    },
  };
}
