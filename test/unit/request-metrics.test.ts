import { describe, expect, it } from "vitest";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestOutcome, RequestSummary } from "../../functions/shared/observability/request-summary.ts";

/** A finished non-streamed request that ended with `status` and `outcome`. */
function summary(status: number, outcome: RequestOutcome, errorCode?: string): RequestSummary {
  return {
    requestId: "r1",
    method: "POST",
    path: "/v1/chat/completions",
    endpoint: "chat.completions",
    provider: "openai",
    model: "gpt-4o",
    stream: false,
    status,
    outcome,
    errorCode,
    retries: 0,
    totalMs: 1,
  };
}

const authFailures = (request: RequestSummary) => measureRequest(request, new ModelDimensionLimiter()).values.authFailures;

describe("the AuthFailures count", () => {
  it.each([
    [401, "invalid_api_key"],
    [403, "forbidden"],
  ])("counts a %i the gateway answered itself", (status, code) => {
    expect(authFailures(summary(status, "gateway_error", code))).toBe(1);
  });

  it.each<[number, RequestOutcome]>([
    [401, "provider_error"],
    [403, "provider_error"],
    [400, "gateway_error"],
    [404, "gateway_error"],
    [429, "gateway_error"],
    [502, "gateway_error"],
    [200, "ok"],
  ])("does not count a %i with outcome %s", (status, outcome) => {
    expect(authFailures(summary(status, outcome))).toBe(0);
  });
});

describe("the endpoint dimension", () => {
  it("names the endpoint's family, not the operation, so the dimension stays a short fixed list", () => {
    const filesCreate = { ...summary(200, "ok"), path: "/v1/files", endpoint: "files.create", family: "files" };
    const filesContent = { ...summary(200, "ok"), path: "/v1/files/file-1/content", endpoint: "files.content", family: "files" };
    const dimension = (request: RequestSummary) => measureRequest(request, new ModelDimensionLimiter()).dimensions.endpoint;
    expect(dimension(filesCreate)).toBe("files");
    expect(dimension(filesContent)).toBe("files");
  });
});
