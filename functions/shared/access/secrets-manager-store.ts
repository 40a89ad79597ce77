/**
 * Credentials from one AWS Secrets Manager secret, cached per execution
 * environment with a TTL so that a rotated key takes effect without a redeploy.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError, DependencyUnavailableError, GatewayError } from "../http/errors.ts";
import { parseSecret, SecretFormatError } from "./parse-secret.ts";
import type { Credentials, CredentialStore } from "./credentials.ts";

/** Options of the Secrets Manager store. */
export interface SecretsManagerStoreOptions {
  /** Secret name or ARN (`GATEWAY_SECRET_ID`). */
  readonly secretId: string;
  /** How long a fetched secret is used before it is fetched again. */
  readonly ttlMs: number;
  /** A provider 401 refetches the secret at most this often. */
  readonly minRefreshIntervalMs?: number;
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
 * again. When a TTL refresh fails while an older copy exists, the older copy
 * keeps serving, since the keys in it were valid minutes ago.
 */
export function createSecretsManagerStore(options: SecretsManagerStoreOptions): CredentialStore {
  let client = options.client;
  const now = options.now ?? Date.now;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? 1_000;
  // The cache of this execution environment: one secret, replaced whole.
  let cache: CacheEntry | undefined;
  let inFlight: Promise<Credentials> | undefined;

  function fetchSecret(): Promise<Credentials> {
    inFlight ??= (async () => {
      try {
        const sdk = await loadSecretsManagerSdk();
        client ??= createClient(sdk);
        const credentials = await readSecret(sdk, client, options.secretId);
        cache = { credentials, fetchedAt: now() };
        return credentials;
      } catch (error) {
        const gatewayError = describeFailure(error);
        options.onFetchError?.(gatewayError);
        if (cache !== undefined && !(error instanceof SecretFormatError)) return cache.credentials;
        throw gatewayError;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    get() {
      if (cache !== undefined && now() - cache.fetchedAt < options.ttlMs) return Promise.resolve(cache.credentials);
      return fetchSecret();
    },
    refresh() {
      if (cache !== undefined && now() - cache.fetchedAt < minRefreshIntervalMs) return Promise.resolve(cache.credentials);
      return fetchSecret();
    },
  };
}

type SecretsManagerSdk = typeof import("./secrets-manager-sdk.ts");

// Loaded on the first fetch, not at start-up: a deployment without a secret never pays for
// evaluating the SDK client, and one with a secret pays once, during its first request.
// esbuild keeps a dynamic import() lazy inside the one-file bundle (the module is wrapped
// and evaluated when first imported); test/lambda/cold-start.test.ts checks that it stays so.
let sdkLoading: Promise<SecretsManagerSdk> | undefined;
function loadSecretsManagerSdk(): Promise<SecretsManagerSdk> {
  return (sdkLoading ??= import("./secrets-manager-sdk.ts"));
}

function createClient(sdk: SecretsManagerSdk): SecretsManagerClient {
  return new sdk.SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } });
}

async function readSecret(sdk: SecretsManagerSdk, client: SecretsManagerClient, secretId: string): Promise<Credentials> {
  const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
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
