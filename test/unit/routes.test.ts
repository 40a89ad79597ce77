import { describe, expect, it } from "vitest";
import { MethodNotAllowedError, NotFoundError } from "../../functions/shared/http/errors.ts";
import { matchEndpoint, modelOfPath } from "../../functions/shared/endpoints/match.ts";

/** The old shape of a match, which these tests were written against. */
function matchRoute(method: string, path: string) {
  const match = matchEndpoint(method, path);
  return {
    endpoint: match.endpoint.name,
    method: match.endpoint.method,
    upstreamPath: match.upstreamPath,
    hasBody: match.endpoint.requestBody !== "none",
    resourceId: modelOfPath(match),
  };
}

/** Runs matchRoute and returns what it threw (fails the test when it did not throw). */
function thrownBy(method: string, path: string): unknown {
  try {
    matchRoute(method, path);
  } catch (error) {
    return error;
  }
  throw new Error(`matchRoute(${method}, ${path}) did not throw`);
}

describe("matchRoute: the forwarded endpoints", () => {
  it.each([
    ["POST", "/v1/chat/completions", "chat.completions", "/chat/completions"],
    ["POST", "/v1/completions", "completions", "/completions"],
    ["POST", "/v1/responses", "responses", "/responses"],
    ["POST", "/v1/embeddings", "embeddings", "/embeddings"],
    ["POST", "/v1/moderations", "moderations", "/moderations"],
  ] as const)("%s %s is %s with a JSON body, sent upstream as %s", (method, path, endpoint, upstreamPath) => {
    expect(matchRoute(method, path)).toEqual({ endpoint, method, upstreamPath, hasBody: true, resourceId: undefined });
  });

  it("GET /v1/models is models.list, without a body", () => {
    expect(matchRoute("GET", "/v1/models")).toEqual({
      endpoint: "models.list",
      method: "GET",
      upstreamPath: "/models",
      hasBody: false,
      resourceId: undefined,
    });
  });

  it("GET /v1/models/{id} is models.retrieve with the id as resourceId", () => {
    expect(matchRoute("GET", "/v1/models/gpt-4o")).toEqual({
      endpoint: "models.retrieve",
      method: "GET",
      upstreamPath: "/models/gpt-4o",
      hasBody: false,
      resourceId: "gpt-4o",
    });
  });

  it("decodes a percent-encoded model id but forwards the raw path", () => {
    const route = matchRoute("GET", "/v1/models/ft%3Agpt-4o-mini%3Aacme%3A%3Aabc");
    expect(route.resourceId).toBe("ft:gpt-4o-mini:acme::abc");
    expect(route.upstreamPath).toBe("/models/ft%3Agpt-4o-mini%3Aacme%3A%3Aabc");
  });

  it("keeps an undecodable model id as it came", () => {
    const route = matchRoute("GET", "/v1/models/bad%zzid");
    expect(route.resourceId).toBe("bad%zzid");
    expect(route.upstreamPath).toBe("/models/bad%zzid");
  });

  it("accepts ids that merely contain dots", () => {
    expect(matchRoute("GET", "/v1/models/gpt-4.1").resourceId).toBe("gpt-4.1");
    expect(matchRoute("GET", "/v1/models/...").resourceId).toBe("...");
  });
});

describe("matchRoute: unknown paths are 404", () => {
  it.each([
    "/",
    "/v1",
    "/v1/",
    "/v2/models",
    "/models",
    "/chat/completions",
    "/v1/unknown",
    "/v1/chat/completions/",
    "/v1/chat/completions/extra/more",
    "/v1//chat/completions",
    "/v1/chat%2Fcompletions",
    "/v1/models/",
    "/v1/models/a/b",
    "/v1/models/../chat/completions",
    "/v1/assistants",
    "/v1/audio/voices",
    "/V1/models",
  ])("%s", (path) => {
    const error = thrownBy("GET", path);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "not_found", type: "invalid_request_error" });
    expect((error as NotFoundError).message).toContain("Unknown request URL");
  });

  it("truncates a very long path in the message", () => {
    const error = thrownBy("GET", `/v1/${"x".repeat(5000)}`) as NotFoundError;
    expect(error.message.length).toBeLessThan(400);
  });
});

describe("matchRoute: `.` and `..` model ids cannot climb out of /models", () => {
  it.each([
    "/v1/models/.",
    "/v1/models/..",
    "/v1/models/%2e",
    "/v1/models/%2e%2e",
    "/v1/models/%2E%2E",
    "/v1/models/%2e.",
    "/v1/models/.%2E",
    "/v1/models/..%2f..%2fadmin",
    "/v1/models/a%2Fb",
    "/v1/models/a%5cb",
    "/v1/models/a\\b",
  ])("%s is 404", (path) => {
    expect(thrownBy("GET", path)).toBeInstanceOf(NotFoundError);
  });
});

describe("matchRoute: known paths with the wrong method are 405", () => {
  it.each([
    ["GET", "/v1/completions", "POST"],
    ["PUT", "/v1/completions", "POST"],
    ["DELETE", "/v1/responses", "POST"],
    ["GET", "/v1/embeddings", "POST"],
    ["PATCH", "/v1/moderations", "POST"],
    ["POST", "/v1/models", "GET"],
    ["DELETE", "/v1/models/gpt-4o", "GET"],
    ["HEAD", "/v1/models", "GET"],
    ["OPTIONS", "/v1/chat/completions", "POST, GET"],
  ])("%s %s allows only %s", (method, path, allowed) => {
    const error = thrownBy(method, path);
    expect(error).toBeInstanceOf(MethodNotAllowedError);
    expect(error).toMatchObject({ status: 405, code: "method_not_allowed", headers: { allow: allowed } });
    expect((error as MethodNotAllowedError).message).toBe(`Method ${method} is not allowed for ${path}. Allowed: ${allowed}.`);
  });
});
