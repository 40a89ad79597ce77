/**
 * Credentials: the provider keys the gateway calls with, and the gateway keys
 * callers present. One shape, whichever store they come from.
 */
import { createHash } from "node:crypto";
import type { KeyLimits } from "../config/key-limits.ts";
import type { ProviderSettings } from "../config/provider-settings.ts";
import type { RouteSettings } from "../config/route-settings.ts";

/** A provider's keys; `apiKeys` holds one key or a pool. */
export interface ProviderKeys {
  readonly apiKeys: readonly string[];
  readonly organization?: string;
  readonly project?: string;
}

/**
 * A gateway key's own account at a provider, instead of the gateway's: its
 * own provider key (pool), or its own project (and organization) with the
 * gateway's provider key. Either way the provider itself keeps the key's
 * stored objects (files, batches…) apart from every other key's.
 */
export interface ProviderAccount {
  readonly apiKeys?: readonly string[];
  readonly organization?: string;
  readonly project?: string;
}

/** A gateway key, kept only as its SHA-256 digest for constant-time comparison. */
export interface GatewayKeyDigest {
  readonly id: string;
  readonly digest: Buffer;
  /** Requests and tokens the key may use; none means unlimited. */
  readonly limits?: KeyLimits;
  /**
   * Whether its holders may send their own `OpenAI-Organization` and
   * `OpenAI-Project` with the gateway's provider key; otherwise the configured
   * ones apply and the caller's are dropped.
   */
  readonly allowAccountHeaders: boolean;
  /** Its own provider accounts, by provider name. */
  readonly providerAccounts?: Readonly<Record<string, ProviderAccount>>;
  /** Whether its holders may mint realtime client secrets (ephemeral provider keys that bypass the gateway). */
  readonly allowRealtimeClientSecrets: boolean;
}

/** The credentials in force for a request. */
export interface Credentials {
  /** Provider keys by provider name (e.g. `openai`). */
  readonly providers: Readonly<Record<string, ProviderKeys>>;
  readonly gatewayKeys: readonly GatewayKeyDigest[];
  /** Whether a caller may use its own provider key instead of a gateway key. */
  readonly allowPassthrough: boolean;
  /** Providers the secret configures (its `providers` field), besides the deployment's own. */
  readonly providerSettings?: Readonly<Record<string, ProviderSettings>>;
  /** Routes the secret configures (its `routes` field), besides the deployment's own. */
  readonly routes?: Readonly<Record<string, RouteSettings>>;
}

/** Where credentials come from: the environment locally, Secrets Manager in AWS. */
export interface CredentialStore {
  /**
   * The current credentials (cached by the store as it sees fit): at once
   * when the store holds them, so that most requests wait on no promise
   * (hot path, npm run bench).
   */
  get(): Credentials | Promise<Credentials>;
  /**
   * Fetches the credentials again after the provider rejected a key, so a
   * rotated key takes effect without a redeploy. Stores that cannot change
   * return what they have.
   */
  refresh(): Promise<Credentials>;
}

/** Hashes a key for constant-time comparison. */
export function digestKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/** A gateway key as configured, before it is hashed. */
export interface GatewayKeyInput {
  readonly id: string;
  readonly key: string;
  readonly limits?: KeyLimits;
  /** Default false. */
  readonly allowAccountHeaders?: boolean;
  readonly providerAccounts?: Readonly<Record<string, ProviderAccount>>;
  /** Default false. */
  readonly allowRealtimeClientSecrets?: boolean;
}

/** Builds credentials from plain gateway keys. */
export function createCredentials(input: {
  providers: Record<string, ProviderKeys>;
  gatewayKeys: readonly GatewayKeyInput[];
  allowPassthrough: boolean;
  providerSettings?: Readonly<Record<string, ProviderSettings>>;
  routes?: Readonly<Record<string, RouteSettings>>;
}): Credentials {
  return Object.freeze({
    providers: Object.freeze({ ...input.providers }),
    gatewayKeys: Object.freeze(
      input.gatewayKeys.map(({ id, key, limits, allowAccountHeaders, providerAccounts, allowRealtimeClientSecrets }) =>
        Object.freeze({
          id,
          digest: digestKey(key),
          limits,
          allowAccountHeaders: allowAccountHeaders === true,
          providerAccounts,
          allowRealtimeClientSecrets: allowRealtimeClientSecrets === true,
        }),
      ),
    ),
    allowPassthrough: input.allowPassthrough,
    ...(input.providerSettings === undefined ? {} : { providerSettings: Object.freeze({ ...input.providerSettings }) }),
    ...(input.routes === undefined ? {} : { routes: Object.freeze({ ...input.routes }) }),
  });
}
