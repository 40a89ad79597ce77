/**
 * Which of the provider's response headers reach the client: an allow-list
 * of what describes the answer and what the SDKs read. Headers about the
 * gateway's own account or connection stay with the gateway.
 */
import { describe, expect, it } from "vitest";
import { useTestGateway } from "../support/gateway-fixture.ts";
import { buildRequest, rawPipeline, type RawResponse } from "../support/raw-http.ts";
import { rawResponse, useRawUpstream } from "../support/raw-upstream.ts";

const raw = useRawUpstream();
const fixture = useTestGateway(() => ({ OPENAI_BASE_URL: raw.upstream.baseUrl, GATEWAY_MAX_RETRIES: "0" }));

/** Headers that reach the client unchanged. */
const RELAYED = {
  "content-type": "application/json",
  "content-disposition": 'attachment; filename="batch.jsonl"',
  "cache-control": "no-store",
  "x-request-id": "req_0123456789abcdef",
  "openai-version": "2020-10-01",
  "openai-processing-ms": "321",
  "openai-model": "gpt-4o-2024-08-06",
  "x-ratelimit-limit-requests": "10000",
  "x-ratelimit-remaining-tokens": "29999990",
  "x-ratelimit-reset-requests": "6ms",
  "retry-after": "2",
  "retry-after-ms": "1500",
  "x-should-retry": "false",
  "openai-poll-after-ms": "1000",
};
/** Headers about the gateway's account or connection, or unknown: dropped. */
const DROPPED = {
  "www-authenticate": 'Bearer realm="OpenAI"',
  location: "https://elsewhere.example/v1/models",
  "openai-organization": "org-gateway-account",
  "openai-project": "proj_gateway_account",
  "set-cookie": "__cf_bm=abc; path=/; domain=.api.openai.com",
  "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
  "cf-ray": "8f1d2c3b4a5e6f70-SJC",
  "cf-cache-status": "DYNAMIC",
  "alt-svc": 'h3=":443"; ma=86400',
  "access-control-expose-headers": "X-Request-ID",
  "x-envoy-upstream-service-time": "320",
  "x-custom-provider-debug": "internal-host-17",
  server: "cloudflare",
  "x-hop-secret": "hop-only",
  connection: "keep-alive, x-hop-secret",
  "keep-alive": "timeout=99",
};
const BODY = JSON.stringify({ object: "list", data: [] });
/** What the gateway adds to every answer, and what its HTTP server adds. */
const GATEWAY_OWN = ["x-gateway-request-id", "x-gateway-retries", "x-gateway-cache", "x-gateway-provider", "date", "connection", "content-length"];

async function getModels(): Promise<RawResponse> {
  const port = Number(new URL(fixture.gateway.url).port);
  const { responses } = await rawPipeline(port, [buildRequest("GET", "/v1/models", { authorization: "Bearer sk-caller", "x-provider": "openai" })]);
  const [response] = responses;
  if (response === undefined) throw new Error("no response");
  return response;
}

describe("the provider's response headers", () => {
  it("the allow-listed ones arrive with their values; nothing else does", async () => {
    raw.upstream.respond(() => rawResponse(200, { ...RELAYED, ...DROPPED, date: "Mon, 01 Jan 2001 00:00:00 GMT" }, BODY));
    const response = await getModels();
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(BODY);
    for (const [name, value] of Object.entries(RELAYED)) expect(response.headers.get(name), name).toBe(value);
    expect([...response.headers.keys()].sort()).toEqual([...Object.keys(RELAYED), ...GATEWAY_OWN].sort());
    // The date is the gateway's own, and its connection header is about its own connection.
    expect(response.headers.get("date")).not.toBe("Mon, 01 Jan 2001 00:00:00 GMT");
    expect(response.headers.get("connection")).toBe("close");
  });

  it("a 401 with a challenge for the gateway's key arrives without www-authenticate", async () => {
    const error = JSON.stringify({ error: { message: "Incorrect API key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" } });
    raw.upstream.respond(() =>
      rawResponse(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="OpenAI"', "openai-organization": "org-x", "x-request-id": "req_401" }, error),
    );
    const response = await getModels();
    expect(response.status).toBe(401);
    expect(response.body.toString()).toBe(error);
    expect(response.headers.get("www-authenticate")).toBeUndefined();
    expect(response.headers.get("openai-organization")).toBeUndefined();
    expect(response.headers.get("x-request-id")).toBe("req_401");
  });
});
