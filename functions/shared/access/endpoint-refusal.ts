/**
 * The endpoints the gateway answers itself with 403, before reading the body
 * and without calling the provider (see endpoints/refused.ts for why).
 */
import type { EndpointDefinition } from "../endpoints/catalogue.ts";
import { PermissionDeniedError } from "../http/errors.ts";
import type { Caller } from "./authenticate.ts";

/**
 * Refuses an admin endpoint to everyone, and a realtime client secret to a
 * gateway key not allowed to mint one (a caller with its own provider key
 * could mint it without the gateway anyway).
 * @throws {PermissionDeniedError}
 */
export function refuseEndpoint(endpoint: EndpointDefinition, caller: Caller): void {
  if (endpoint.refusal === "admin") {
    throw new PermissionDeniedError(
      "The gateway does not forward OpenAI's administration API (organization, projects, users, API keys, usage and costs): it needs an admin key. Call api.openai.com with an admin key directly.",
      { code: "admin_endpoint_refused" },
    );
  }
  if (endpoint.refusal === "client-secret" && !(caller.mode === "passthrough" || (caller.mode === "managed" && caller.allowRealtimeClientSecrets === true))) {
    throw new PermissionDeniedError(
      "This gateway key may not create realtime client secrets or sessions: they are provider credentials that bypass the gateway's limits, logs and metrics. The gateway's operator can allow it per key (allowRealtimeClientSecrets).",
      { code: "client_secrets_not_allowed" },
    );
  }
}
