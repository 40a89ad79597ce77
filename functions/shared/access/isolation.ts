/**
 * Who keeps a caller's stored objects apart from everyone else's.
 *
 * The provider does, when the caller uses its own provider account: its own
 * provider key (passthrough, or a gateway key with its own `apiKey`), or a
 * gateway key with its own provider project (`openai.project` in its secret
 * entry), whose objects OpenAI scopes to that project. That is the recommended
 * set-up: the provider's own lists, retention and limits then apply per key.
 *
 * The gateway does, for gateway keys that share the gateway's provider key
 * and project: it records which key created each object and lets no other key
 * reach it (see object-guard.ts).
 */
import type { Caller } from "./authenticate.ts";

/** Whether the gateway must keep this caller's objects at this provider apart itself. */
export function isolatedByGateway(caller: Caller, provider: string): boolean {
  if (caller.mode !== "managed") return false;
  const own = caller.providerAccounts?.[provider];
  if (own?.apiKeys !== undefined) return false;
  // Its own project isolates it only while it cannot send another project header itself.
  return own?.project === undefined || caller.allowAccountHeaders === true;
}
