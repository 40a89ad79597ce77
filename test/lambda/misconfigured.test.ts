import { describe, expect, it } from "vitest";
import { useGatewayFunction } from "../support/lambda-fixture.ts";

const fixture = useGatewayFunction(() => ({ GATEWAY_IDLE_TIMEOUT_MS: "soon" }));

describe("a Lambda function with a bad setting", () => {
  it("starts, and answers every request with a 500 that names the setting", async () => {
    for (const path of ["/v1/models", "/v1/chat/completions"]) {
      const response = await fetch(`${fixture.lambda.url}${path}`, { method: path === "/v1/models" ? "GET" : "POST", body: path === "/v1/models" ? undefined : "{}" });
      expect(response.status).toBe(500);
      expect(response.headers.get("x-gateway-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      const body = (await response.json()) as { error: { message: string; type: string; code: string } };
      expect(body.error).toMatchObject({ type: "server_error", code: "gateway_misconfigured" });
      expect(body.error.message).toContain("GATEWAY_IDLE_TIMEOUT_MS");
      // The value stays in the operator's log: a setting can hold something private (a URL with credentials).
      expect(body.error.message).not.toContain("soon");
    }
    expect(fixture.lambda.logs.join("\n")).toContain("gateway misconfigured");
    expect(fixture.lambda.logs.join("\n")).toContain('got \\"soon\\"');
  });
});
