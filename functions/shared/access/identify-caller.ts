/**
 * Who is calling, when managed keys may also live in a key store (the key
 * file or the key table): a token shaped like a generated key (`gw-` and 43
 * base64url characters) is looked up there by its SHA-256; everything else,
 * and a token the store does not know, goes to `authenticate` (the secret's
 * and the environment's keys, then passthrough).
 */
import { AuthenticationError } from "../http/errors.ts";
import { authenticate, type Caller } from "./authenticate.ts";
import type { Credentials } from "./credentials.ts";
import { GENERATED_KEY, keyStanding, sha256Hex, type KeyRecord } from "./key-record.ts";
import type { GatewayKeyStore } from "./key-store.ts";

// As authenticate reads the header.
const BEARER = /^Bearer\s+(\S.*)$/i;

/**
 * Identifies the caller from its `Authorization` header: at once, unless the
 * key is one the managed key store must be asked about (a promise less per
 * request for every other caller, npm run bench).
 * @param keyStore the managed key store, if the gateway has one
 * @param needsProviderKey whether the provider needs a key (false for local providers)
 * @throws {AuthenticationError} for an unknown, revoked, expired or retired key; the key is never echoed
 * @throws {GatewayError} when the key store cannot answer
 */
export function identifyCaller(
  authorization: string | undefined,
  credentials: Credentials,
  keyStore: GatewayKeyStore | undefined,
  needsProviderKey: boolean,
  now = Date.now(),
): Caller | Promise<Caller> {
  // The token matters only with a key store (a generated key to look up, a `gw-` key it does not know).
  const token = keyStore === undefined || authorization === undefined ? undefined : BEARER.exec(authorization.trim())?.[1]?.trim();
  if (keyStore !== undefined && token !== undefined && GENERATED_KEY.test(token)) {
    return lookUpKey(token, keyStore, now).then((managed) => managed ?? knownCaller(authorization, token, credentials, keyStore, needsProviderKey));
  }
  return knownCaller(authorization, token, credentials, keyStore, needsProviderKey);
}

/** The managed caller of a generated key the store knows; undefined when it does not know it. */
async function lookUpKey(token: string, keyStore: GatewayKeyStore, now: number): Promise<Caller | undefined> {
  const sha256 = sha256Hex(token);
  const record = await keyStore.findByHash(sha256);
  if (record === undefined) return undefined;
  const standing = keyStanding(record, sha256, now);
  if (!standing.usable) throw new AuthenticationError(standing.reason);
  return managedCaller(record, sha256);
}

/** A caller known without the key store: the gateway's own keys, a provider key passed through, or none. */
function knownCaller(
  authorization: string | undefined,
  token: string | undefined,
  credentials: Credentials,
  keyStore: GatewayKeyStore | undefined,
  needsProviderKey: boolean,
): Caller {
  const caller = authenticate(authorization, credentials, needsProviderKey);
  // A gateway key the store does not know is a wrong key, never a provider key to pass on.
  if (keyStore !== undefined && caller.mode === "passthrough" && token?.startsWith("gw-") === true) {
    throw new AuthenticationError("Incorrect gateway key provided.");
  }
  return caller;
}

function managedCaller(record: KeyRecord, sha256: string): Caller {
  return {
    mode: "managed",
    keyId: record.id,
    keyDigest: sha256,
    limits: record.limits,
    permissions: record.permissions,
    project: record.project,
    prefix: record.secrets.find((secret) => secret.sha256 === sha256)?.prefix,
    expiresAt: record.expiresAt,
  };
}
