/**
 * Providers' error bodies in OpenAI's shape, from the shapes each provider
 * really sends (see providers/error-body.ts for the sources).
 */
import { describe, expect, it } from "vitest";
import { normalizeErrorBody } from "../../functions/shared/providers/error-body.ts";

const parse = (status: number, body: unknown) => JSON.parse(normalizeErrorBody(status, typeof body === "string" ? body : JSON.stringify(body)) ?? "null") as { error: Record<string, unknown> };

describe("normalizeErrorBody", () => {
  it("leaves OpenAI's own shape byte for byte", () => {
    const body = JSON.stringify({ error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } });
    expect(normalizeErrorBody(429, body)).toBeUndefined();
  });

  it("Azure's content filter: type null becomes a type, the filter results stay", () => {
    const error = parse(400, {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: { hate: { filtered: true, severity: "high" } } },
      },
    }).error;
    expect(error).toMatchObject({ type: "invalid_request_error", param: "prompt", code: "content_filter" });
    expect(error.message).toContain("content management policy");
    expect(error.innererror).toMatchObject({ code: "ResponsibleAIPolicyViolation" });
    expect(error).not.toHaveProperty("status");
  });

  it("Azure's other errors: a numeric-looking code and no type", () => {
    expect(parse(429, { error: { code: "429", message: "Requests to the ChatCompletions_Create Operation have exceeded call rate limit." } }).error).toEqual({
      code: "429",
      message: "Requests to the ChatCompletions_Create Operation have exceeded call rate limit.",
      type: "invalid_request_error",
      param: null,
    });
  });

  it("Gemini's list with Google's status as the code", () => {
    const error = parse(400, [{ error: { code: 400, message: 'Invalid JSON payload received. Unknown name "thinking": Cannot find field.', status: "INVALID_ARGUMENT", details: [] } }]).error;
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", type: "invalid_request_error", param: null });
    expect(error.message).toContain('Unknown name "thinking"');
  });

  it("Mistral's top-level error with pydantic's detail list", () => {
    const body = {
      object: "error",
      message: { detail: [{ type: "extra_forbidden", loc: ["body", "stream_options"], msg: "Extra inputs are not permitted", input: { include_usage: true } }] },
      type: "invalid_request_error",
      param: null,
      code: null,
    };
    expect(parse(422, body).error).toEqual({
      message: "body.stream_options: Extra inputs are not permitted",
      type: "invalid_request_error",
      param: null,
      code: null,
    });
    expect(parse(403, { object: "error", message: "This model is not available in your subscription tier", type: "tier_not_allowed", param: null, code: "1910" }).error).toEqual({
      message: "This model is not available in your subscription tier",
      type: "tier_not_allowed",
      param: null,
      code: "1910",
    });
  });

  it("Together's string error, Fireworks' fault, FastAPI's detail", () => {
    expect(parse(400, { error: "Input validation error" }).error).toMatchObject({ message: "Input validation error", type: "invalid_request_error" });
    expect(parse(401, { fault: { faultstring: "Invalid API key", detail: { errorcode: "oauth.v2.InvalidApiKey" } } }).error).toMatchObject({
      message: "Invalid API key",
      code: "oauth.v2.InvalidApiKey",
    });
    expect(parse(404, { detail: "Not Found" }).error).toMatchObject({ message: "Not Found", code: null });
  });

  it("a plain-text or HTML error page becomes the message, a 5xx a server_error", () => {
    expect(parse(502, "<html><body>Bad Gateway</body></html>").error).toEqual({
      message: "<html><body>Bad Gateway</body></html>",
      type: "server_error",
      param: null,
      code: null,
    });
    expect(parse(503, "").error.message).toBe("The provider answered 503 without a message.");
  });
});
