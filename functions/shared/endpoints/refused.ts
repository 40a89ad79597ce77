/**
 * What the gateway answers itself with 403, never forwarding it:
 *
 * - the administration API (`/v1/organization/*`, `/v1/projects/*`, and
 *   fine-tuned checkpoint permissions): it needs an admin key and acts on the
 *   whole organization (users, projects, API keys, usage and costs), which a
 *   gateway key must never reach;
 * - realtime client secrets and sessions: they mint an ephemeral provider key
 *   (or open a direct WebRTC call) that the caller then uses against the
 *   provider without the gateway, so no limit, metric or log applies to what
 *   it does. Only keys with `allowRealtimeClientSecrets` may mint them.
 */
import { endpoint, type EndpointDefinition } from "./definition.ts";

export const REFUSED_ENDPOINTS: readonly EndpointDefinition[] = [
  endpoint({ name: "admin.organization", method: "*", path: "/organization/*", requestBody: "none", refusal: "admin" }),
  endpoint({ name: "admin.projects", method: "*", path: "/projects/*", requestBody: "none", refusal: "admin" }),
  endpoint({
    name: "admin.checkpoint_permissions",
    method: "*",
    path: "/fine_tuning/checkpoints/{checkpoint}/permissions/*",
    requestBody: "none",
    refusal: "admin",
  }),
  endpoint({ name: "realtime.client_secrets", method: "POST", path: "/realtime/client_secrets", refusal: "client-secret" }),
  endpoint({ name: "realtime.translations.client_secrets", method: "POST", path: "/realtime/translations/client_secrets", refusal: "client-secret" }),
  endpoint({ name: "realtime.sessions", method: "POST", path: "/realtime/sessions", refusal: "client-secret" }),
  endpoint({ name: "realtime.transcription_sessions", method: "POST", path: "/realtime/transcription_sessions", refusal: "client-secret" }),
  // An SDP offer (application/sdp, or a form with the session): the call's media then flows without the gateway.
  endpoint({ name: "realtime.calls", method: "POST", path: "/realtime/calls", requestBody: "binary", response: "binary", refusal: "client-secret" }),
];
