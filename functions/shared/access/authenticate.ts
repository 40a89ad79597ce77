/**
 * Who is calling: a holder of a gateway key (managed mode: the gateway calls
 * the provider with its own key) or a caller bringing its own provider key
 * (passthrough: its `Authorization` goes upstream unchanged).
 *
 * Gateway keys carry the prefix `gw-` (see {@link GATEWAY_KEY_PREFIX}): with
 * passthrough allowed next to gateway keys, a token with the prefix that
 * matches no key (a typo, a revoked key) is refused rather than sent to the
 * provider as if it were the caller's own provider key.
 */
import { timingSafeEqual } from "node:crypto";
import { digestKey, type Credentials, type GatewayKeyDigest, type ProviderAccount } from "./credentials.ts";
import type { KeyLimits } from "../config/key-limits.ts";
import type { KeyPermissions } from "../config/key-permissions.ts";
import { AuthenticationError } from "../http/errors.ts";

/** The caller, as far as the gateway knows it. */
export type Caller =
  | {
      readonly mode: "managed";
      readonly keyId: string;
      /** The key's SHA-256 (hex): who the caller is, whatever id the key is listed under. */
      readonly keyDigest: string;
      readonly limits?: KeyLimits;
      /** Whether the caller's own `OpenAI-Organization`/`OpenAI-Project` go upstream (absent: no, the configured ones do). */
      readonly allowAccountHeaders?: boolean;
      /** The key's own provider accounts (its own provider key or project), by provider name. */
      readonly providerAccounts?: Readonly<Record<string, ProviderAccount>>;
      /** Whether the key may mint realtime client secrets. */
      readonly allowRealtimeClientSecrets?: boolean;
      /** What the key may use (keys of a key store); none means everything. */
      readonly permissions?: KeyPermissions;
      /** The provider project the key's calls go to, instead of the gateway's. */
      readonly project?: string;
      /** The key's first characters (keys of a key store), for GET /v1/gateway/key. */
      readonly prefix?: string;
      /** When the key stops working. */
      readonly expiresAt?: string;
    }
  | { readonly mode: "passthrough"; readonly authorization: string }
  /** Passthrough without a key, allowed only for providers that need none (the mock). */
  | { readonly mode: "anonymous" };

const BEARER = /^Bearer\s+(\S.*)$/i;

/** The documented prefix of gateway keys; matched in any case, since a key typed in the wrong case is still one. */
export const GATEWAY_KEY_PREFIX = "gw-";

/**
 * Identifies the caller from its `Authorization` header.
 * @param needsProviderKey whether the provider needs a key (false for local providers)
 * @throws {AuthenticationError} when the caller may not use the gateway; the key is never echoed
 */
export function authenticate(
  authorization: string | undefined,
  credentials: Credentials,
  needsProviderKey: boolean,
): Caller {
  const token = authorization === undefined ? undefined : BEARER.exec(authorization.trim())?.[1]?.trim();
  if (token !== undefined && credentials.gatewayKeys.length > 0) {
    const key = findGatewayKey(token, credentials);
    if (key !== undefined) {
      return {
        mode: "managed",
        keyId: key.id,
        keyDigest: key.digest.toString("hex"),
        limits: key.limits,
        allowAccountHeaders: key.allowAccountHeaders,
        providerAccounts: key.providerAccounts,
        allowRealtimeClientSecrets: key.allowRealtimeClientSecrets,
      };
    }
  }
  if (!credentials.allowPassthrough) {
    throw new AuthenticationError(
      token === undefined
        ? "Missing gateway key. Send it as 'Authorization: Bearer <gateway key>'."
        : "Incorrect gateway key provided.",
    );
  }
  // Sent on as a provider key, a gateway key that matches none (a typo, a revoked key) would be handed to the provider.
  if (credentials.gatewayKeys.length > 0 && authorization !== undefined && looksLikeGatewayKey(authorization)) {
    throw new AuthenticationError("Incorrect gateway key provided.");
  }
  if (authorization !== undefined && authorization.trim() !== "") return { mode: "passthrough", authorization };
  if (!needsProviderKey) return { mode: "anonymous" };
  throw new AuthenticationError(
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
  );
}

/** Whether the header's credential, with or without the Bearer scheme, starts with the gateway key prefix. */
function looksLikeGatewayKey(authorization: string): boolean {
  const trimmed = authorization.trim();
  const credential = BEARER.exec(trimmed)?.[1]?.trim() ?? trimmed;
  return credential.slice(0, GATEWAY_KEY_PREFIX.length).toLowerCase() === GATEWAY_KEY_PREFIX;
}

/** Compares against every gateway key in constant time, without stopping at a match. */
function findGatewayKey(token: string, credentials: Credentials): GatewayKeyDigest | undefined {
  const digest = digestKey(token);
  let match: GatewayKeyDigest | undefined;
  for (const candidate of credentials.gatewayKeys) {
    if (timingSafeEqual(candidate.digest, digest) && match === undefined) match = candidate;
  }
  return match;
}
