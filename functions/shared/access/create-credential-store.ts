/**
 * Picks the credential store the configuration asks for.
 */
import type { CredentialsConfig } from "../config/config.ts";
import type { GatewayError } from "../http/errors.ts";
import { createEnvCredentialStore } from "./env-credential-store.ts";
import { createSecretsManagerStore } from "./secrets-manager-store.ts";
import type { CredentialStore } from "./credentials.ts";

/** Secrets Manager when `GATEWAY_SECRET_ID` is set, else the environment. */
export function createCredentialStore(
  config: CredentialsConfig,
  onFetchError?: (error: GatewayError) => void,
): CredentialStore {
  return config.source === "secrets-manager"
    ? createSecretsManagerStore({ secretId: config.secretId, ttlMs: config.ttlMs, timeoutMs: config.timeoutMs, onFetchError })
    : createEnvCredentialStore(config);
}
