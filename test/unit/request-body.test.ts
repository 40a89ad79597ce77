import { describe, expect, it } from "vitest";
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "../../functions/shared/http/errors.ts";
import { parseJsonBody } from "../../functions/shared/http/request-body.ts";

const LIMIT = 1024;
const bytes = (text: string) => Buffer.from(text, "utf8");

function thrownBy(contentType: string | undefined, body: Uint8Array | undefined, maxBytes = LIMIT): unknown {
  try {
    parseJsonBody(contentType, body, maxBytes);
  } catch (error) {
    return error;
  }
  throw new Error("parseJsonBody did not throw");
}

describe("parseJsonBody accepts JSON objects", () => {
  it("returns the parsed object", () => {
    const body = parseJsonBody("application/json", bytes('{"model":"gpt-4o","messages":[{"role":"user","content":"hé"}]}'), LIMIT);
    expect(body).toEqual({ model: "gpt-4o", messages: [{ role: "user", content: "hé" }] });
  });

  it.each([
    undefined,
    "",
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON;charset=UTF-8",
    "application/json ; charset=utf-8",
    "application/vnd.openai+json",
    "application/merge-patch+json",
  ])("content type %j", (contentType) => {
    expect(parseJsonBody(contentType, bytes('{"model":"m"}'), LIMIT)).toEqual({ model: "m" });
  });

  it("accepts a body without a model (moderations) and any string model", () => {
    expect(parseJsonBody("application/json", bytes('{"input":"x"}'), LIMIT)).toEqual({ input: "x" });
    expect(parseJsonBody("application/json", bytes('{"model":""}'), LIMIT)).toEqual({ model: "" });
  });

  it("accepts a body of exactly the limit and a UTF-8 byte order mark", () => {
    const body = `{"model":"${"m".repeat(LIMIT - 12)}"}`;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    expect(parseJsonBody(undefined, bytes(body), LIMIT).model).toHaveLength(LIMIT - 12);
    expect(parseJsonBody(undefined, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('{"a":1}')]), LIMIT)).toEqual({ a: 1 });
  });

  it("accepts a Uint8Array that is a view into a larger buffer", () => {
    const backing = bytes('xxxx{"model":"view"}yyyy');
    expect(parseJsonBody(undefined, new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.byteLength - 8), LIMIT)).toEqual({
      model: "view",
    });
  });
});

describe("parseJsonBody rejects", () => {
  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json", "text/json"])(
    "content type %j with 415",
    (contentType) => {
      const error = thrownBy(contentType, bytes('{"model":"m"}'));
      expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
      expect(error).toMatchObject({ status: 415, code: "unsupported_media_type", type: "invalid_request_error" });
      expect((error as Error).message).toContain(JSON.stringify(contentType));
    },
  );

  it("cuts a long content type in the message", () => {
    const error = thrownBy(`text/${"x".repeat(1000)}`, bytes("{}")) as Error;
    expect(error.message.length).toBeLessThan(250);
  });

  it("a missing or empty body with 400", () => {
    for (const body of [undefined, new Uint8Array(0)]) {
      const error = thrownBy("application/json", body);
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({ status: 400, code: "invalid_json", param: null });
      expect((error as Error).message).toMatch(/empty/);
    }
  });

  it("a body over the limit with 413", () => {
    const error = thrownBy("application/json", bytes(`{"model":"${"m".repeat(LIMIT)}"}`));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ status: 413, code: "request_too_large", message: `The request body is larger than the gateway's limit of ${LIMIT} bytes.` });
  });

  it("bytes that are not UTF-8 with 400 invalid_encoding", () => {
    const error = thrownBy("application/json", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(error).toMatchObject({ status: 400, code: "invalid_encoding" });
  });

  it.each(['{"model":', "{model: 'x'}", "{'a':1}", '{"a":1}}', "nul", "\u0000"])("invalid JSON %j with 400 invalid_json", (text) => {
    const error = thrownBy("application/json", bytes(text));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ status: 400, code: "invalid_json" });
    expect((error as Error).message).toContain("not valid JSON");
  });

  it.each(["[]", '[{"model":"m"}]', '"text"', "42", "true", "null"])("JSON that is not an object (%s) with 400", (text) => {
    const error = thrownBy("application/json", bytes(text));
    expect(error).toMatchObject({ status: 400, code: "invalid_json", message: "The request body must be a JSON object." });
  });

  it.each([
    ["4", "a number"],
    ["null", "null"],
    ["true", "a boolean"],
    ['["gpt-4o"]', "an array"],
    ['{"id":"gpt-4o"}', "an object"],
  ])("a model of %s with 400 naming param model", (model, described) => {
    const error = thrownBy("application/json", bytes(`{"model":${model}}`));
    expect(error).toMatchObject({
      status: 400,
      code: "invalid_type",
      param: "model",
      message: `Invalid type for 'model': expected a string, but got ${described} instead.`,
    });
  });

  it("checks the content type before anything else, and the size before parsing", () => {
    expect(thrownBy("text/plain", undefined)).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(thrownBy("application/json", bytes("not json at all"), 4)).toBeInstanceOf(PayloadTooLargeError);
  });
});
