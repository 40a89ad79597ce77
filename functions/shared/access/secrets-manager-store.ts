/**
 * Credentials from one AWS Secrets Manager secret, cached per execution
 * environment with a TTL so that a rotated key takes effect without a redeploy.
 * Every fetch has a deadline (see stores/deadline.ts): a Secrets Manager that
 * never answers costs a request at most that long, never the gateway.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError, DependencyUnavailableError, GatewayError } from "../http/errors.ts";
import { boundedClientOptions, DependencyTimeoutError, withDeadline } from "../stores/deadline.ts";
import { parseSecret, SecretFormatError } from "./parse-secret.ts";
import type { Credentials, CredentialStore } from "./credentials.ts";

/** Options of the Secrets Manager store. */
export interface SecretsManagerStoreOptions {
  /** Secret name or ARN (`GATEWAY_SECRET_ID`). */
  readonly secretId: string;
  /** How long a fetched secret is used before it is fetched again. */
  readonly ttlMs: number;
  /** The longest one fetch may take, retries included (`GATEWAY_SECRET_TIMEOUT_MS`; default 3 s). */
  readonly timeoutMs?: number;
  /** A provider 401 refetches the secret at most this often. */
  readonly minRefreshIntervalMs?: number;
  /** After a failed fetch, the last good secret serves this long before the next try (default 30 s). */
  readonly retryAfterFailureMs?: number;
  /** The client to use (tests pass one with a local endpoint). */
  readonly client?: SecretsManagerClient;
  /** Told of every failed fetch, with the error (the secret's content is never in it). */
  readonly onFetchError?: (error: GatewayError) => void;
  readonly now?: () => number;
}

interface CacheEntry {
  readonly credentials: Credentials;
  readonly fetchedAt: number;
}

/**
 * Creates the store. A failed fetch is not cached: the next request tries
 * again. When a TTL refresh fails (or passes its deadline) while an older copy
 * exists, the older copy keeps serving, since the keys in it were valid
 * minutes ago, and the next try waits `retryAfterFailureMs`, so that a stuck
 * Secrets Manager does not hold every request for the deadline.
 */
export function createSecretsManagerStore(options: SecretsManagerStoreOptions): CredentialStore {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 3_000;
  let client = options.client;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? 1_000;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 30_000;
  // The cache of this execution environment: one secret, replaced whole.
  let cache: CacheEntry | undefined;
  // Until when the cached copy serves after a failed refresh.
  let retryAt = 0;
  let inFlight: Promise<Credentials> | undefined;

  function fetchSecret(): Promise<Credentials> {
    inFlight ??= (async () => {
      try {
        const sdk = await loadSecretsManagerSdk();
        const current = (client ??= new sdk.SecretsManagerClient(boundedClientOptions(timeoutMs)));
        const credentials = await withDeadline("Secrets Manager GetSecretValue", timeoutMs, (abortSignal) =>
          readSecret(sdk, current, options.secretId, abortSignal),
        );
        cache = { credentials, fetchedAt: now() };
        retryAt = 0;
        return credentials;
      } catch (error) {
        const gatewayError = describeFailure(error);
        options.onFetchError?.(gatewayError);
        if (cache === undefined || error instanceof SecretFormatError) throw gatewayError;
        retryAt = now() + retryAfterFailureMs;
        return cache.credentials;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  /** The cached copy if it may answer: younger than `maxAgeMs`, or serving out a failed refresh. */
  function cachedCopy(maxAgeMs: number): Credentials | undefined {
    if (cache === undefined) return undefined;
    return now() - cache.fetchedAt < maxAgeMs || now() < retryAt ? cache.credentials : undefined;
  }

  return {
    get() {
      return cachedCopy(options.ttlMs) ?? fetchSecret();
    },
    refresh() {
      const cached = cachedCopy(minRefreshIntervalMs);
      return cached === undefined ? fetchSecret() : Promise.resolve(cached);
    },
  };
}

type SecretsManagerSdk = typeof import("./secrets-manager-sdk.ts");

// Loaded on the first fetch, not at start-up: a deployment without a secret never pays for
// evaluating the SDK client, and one with a secret pays once, during its first request.
// esbuild keeps a dynamic import() lazy inside the bundle; test/lambda/cold-start.test.ts checks that it stays so.
let sdkLoading: Promise<SecretsManagerSdk> | undefined;
function loadSecretsManagerSdk(): Promise<SecretsManagerSdk> {
  return (sdkLoading ??= import("./secrets-manager-sdk.ts"));
}

async function readSecret(sdk: SecretsManagerSdk, client: SecretsManagerClient, secretId: string, abortSignal: AbortSignal): Promise<Credentials> {
  const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }), { abortSignal });
  if (output.SecretString === undefined) throw new SecretFormatError("the secret has no string value (binary secrets are not supported)");
  return parseSecret(output.SecretString);
}

const CONFIGURATION_FAULTS: Readonly<Record<string, string>> = {
  ResourceNotFoundException: "The gateway's secret (GATEWAY_SECRET_ID) does not exist in Secrets Manager",
  AccessDeniedException: "The gateway is not allowed to read its secret (GATEWAY_SECRET_ID)",
  DecryptionFailure: "Secrets Manager cannot decrypt the gateway's secret with its KMS key",
  InvalidParameterException: "Secrets Manager rejected the secret id (GATEWAY_SECRET_ID)",
  InvalidRequestException: "The gateway's secret cannot be read in its current state (deleted or scheduled for deletion)",
};

/** Maps a fetch failure to a gateway error whose message names the cause and never the secret. */
function describeFailure(error: unknown): GatewayError {
  if (error instanceof SecretFormatError) {
    return new ConfigurationError(`The gateway's secret is malformed: ${error.message}.`, { code: "secret_malformed" });
  }
  if (error instanceof DependencyTimeoutError) {
    return new DependencyUnavailableError(`Secrets Manager did not answer within ${error.timeoutMs} ms; try again.`, {
      code: "secret_unavailable",
      headers: { "retry-after": "1" },
    });
  }
  const name = error instanceof Error ? error.name : "UnknownError";
  const configurationFault = CONFIGURATION_FAULTS[name];
  if (configurationFault !== undefined) {
    return new ConfigurationError(`${configurationFault} (${name}).`, { code: "secret_unavailable" });
  }
  return new DependencyUnavailableError(`Secrets Manager is unavailable (${name}); try again.`, {
    code: "secret_unavailable",
    headers: { "retry-after": "1" },
  });
}
