/**
 * Credentials from the environment, for the local server: `GATEWAY_API_KEYS`
 * (with `GATEWAY_KEY_LIMITS`, `GATEWAY_ALLOW_ACCOUNT_HEADERS` and
 * `GATEWAY_ALLOW_REALTIME_CLIENT_SECRETS`),
 * `OPENAI_API_KEY`, `OPENAI_ORGANIZATION`, `OPENAI_PROJECT`,
 * and the keys of the `GATEWAY_PROVIDERS` entries.
 */
import type { CredentialsConfig } from "../config/config.ts";
import { createCredentials, type CredentialStore, type ProviderKeys } from "./credentials.ts";

/** A store whose credentials are fixed at start-up. */
export function createEnvCredentialStore(config: Extract<CredentialsConfig, { source: "env" }>): CredentialStore {
  const providers: Record<string, ProviderKeys> = {};
  for (const [name, { apiKey, apiKeys, organization, project }] of Object.entries(config.providerKeys)) {
    const pool = apiKeys ?? (apiKey === undefined ? undefined : [apiKey]);
    if (pool !== undefined) providers[name] = { apiKeys: pool, organization, project };
  }
  const credentials = createCredentials({
    providers,
    gatewayKeys: config.gatewayKeys.map((key, index) => {
      const id = `env-${index + 1}`;
      return {
        id,
        key,
        limits: config.keyLimits[id] ?? config.keyLimits["*"],
        allowAccountHeaders: config.allowAccountHeaders,
        allowRealtimeClientSecrets: config.allowRealtimeClientSecrets,
      };
    }),
    allowPassthrough: config.allowPassthrough,
  });
  const resolved = Promise.resolve(credentials);
  return { get: () => credentials, refresh: () => resolved };
}
