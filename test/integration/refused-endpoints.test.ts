/**
 * What the gateway refuses with 403, answering itself: the administration API
 * (organization, projects, checkpoint permissions: an admin key's business),
 * and realtime client secrets, ephemeral provider keys that would bypass the
 * gateway, unless the gateway key is allowed to mint them.
 */
import { PermissionDeniedError } from "openai";
import { describe, expect, it } from "vitest";
import { expectOpenAIError } from "../support/openai-errors.ts";
import { KEY_A, KEY_B, useTwoKeys } from "../support/two-keys.ts";

const keys = useTwoKeys({
  gatewayKeys: [
    { id: "team-a", key: KEY_A },
    { id: "team-b", key: KEY_B, allowRealtimeClientSecrets: true },
  ],
});

async function send(method: string, path: string, key = KEY_A, body?: string) {
  const response = await fetch(`${keys.gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "x-provider": "openai", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("the administration API", () => {
  it.each([
    ["GET", "/v1/organization/users"],
    ["POST", "/v1/organization/admin_api_keys"],
    ["DELETE", "/v1/organization/projects/proj_1/api_keys/key_1"],
    ["GET", "/v1/organization/costs"],
    ["GET", "/v1/organization/usage/completions"],
    ["POST", "/v1/projects/proj_1/roles"],
    ["GET", "/v1/fine_tuning/checkpoints/ftckpt_1/permissions"],
    ["DELETE", "/v1/fine_tuning/checkpoints/ftckpt_1/permissions/cp_1"],
  ])("%s %s answers 403 without calling the provider", async (method, path) => {
    const response = await send(method, path, KEY_A, method === "POST" ? "{}" : undefined);
    const error = expectOpenAIError(response, 403, { type: "invalid_request_error", code: "admin_endpoint_refused" });
    expect(error.message).toContain("admin key");
    expect(keys.upstream.requests).toHaveLength(0);
  });

  it("is refused to the SDK too, as PermissionDeniedError, and counted as an auth failure in the family admin", async () => {
    const error = await keys.a.get("/organization/users").then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    const [summary] = await keys.gateway.waitForSummaries(1);
    expect(summary).toMatchObject({ status: 403, outcome: "gateway_error", family: "admin", errorCode: "admin_endpoint_refused" });
  });

  it("a stranger gets its 401 first", async () => {
    expect((await send("GET", "/v1/organization/users", "gw-nobody-0123456789")).status).toBe(401);
  });
});

describe("realtime client secrets", () => {
  it("are refused to a key not allowed to mint them, without calling the provider", async () => {
    const error = await keys.a.realtime.clientSecrets.create({ session: { type: "realtime", model: "gpt-realtime" } }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).code).toBe("client_secrets_not_allowed");
    for (const path of ["/v1/realtime/sessions", "/v1/realtime/transcription_sessions", "/v1/realtime/translations/client_secrets"]) {
      expect((await send("POST", path, KEY_A, "{}")).status).toBe(403);
    }
    const call = await fetch(`${keys.gateway.url}/v1/realtime/calls`, { method: "POST", headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/sdp" }, body: "v=0\r\n" });
    expect(call.status).toBe(403);
    expect(keys.upstream.requests).toHaveLength(0);
  });

  it("are forwarded for a key allowed to (allowRealtimeClientSecrets)", async () => {
    const secret = await keys.b.realtime.clientSecrets.create({ session: { type: "realtime", model: "gpt-realtime" } });
    expect(secret.value).toMatch(/^ek_/);
    expect(keys.upstream.requests[0]?.url).toBe("/v1/realtime/client_secrets");
  });
});
