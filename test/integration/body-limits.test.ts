/**
 * Request bodies of the new families: a form over the gateway's limit answers
 * 413 naming the limit and the Uploads API (which sends a file in parts well
 * under it); a form without its boundary is refused with 415; neither reaches
 * the provider.
 */
import { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { expectOpenAIError } from "../support/openai-errors.ts";

const LIMIT = 4096;
const fixture = useFakeUpstreamAndGateway({ env: { GATEWAY_MAX_BODY_BYTES: String(LIMIT), GATEWAY_MAX_RETRIES: "0" } });

describe("body limits of forms", () => {
  it("a file upload over the limit is a 413 that names the limit and points to the Uploads API", async () => {
    const error = await fixture.client.files.create({ file: await toFile(Buffer.alloc(LIMIT * 2), "big.bin"), purpose: "user_data" }).then(() => undefined, (caught: unknown) => caught as { status: number; code: string; message: string });
    expect(error).toMatchObject({ status: 413, code: "request_too_large" });
    expect(error?.message).toContain(`limit of ${LIMIT} bytes`);
    expect(error?.message).toContain("Uploads API: POST /v1/uploads");
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it("a JSON body over the limit names the limit only", async () => {
    const error = await fixture.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(LIMIT * 2) }] }).then(() => undefined, (caught: unknown) => caught as { status: number; message: string });
    expect(error?.status).toBe(413);
    expect(error?.message).toContain(`limit of ${LIMIT} bytes`);
    expect(error?.message).not.toContain("Uploads API");
  });

  it("a form within the limit is forwarded, one without a boundary is a 415", async () => {
    await fixture.client.files.create({ file: await toFile(Buffer.alloc(100), "small.bin"), purpose: "user_data" });
    expect(fixture.upstream.requests).toHaveLength(1);
    const response = await fetch(`${fixture.gateway.baseURL}files`, { method: "POST", headers: { authorization: "Bearer sk-caller", "content-type": "multipart/form-data" }, body: "--x\r\n" });
    expectOpenAIError({ status: response.status, headers: response.headers, text: await response.text() }, 415, { code: "unsupported_media_type" });
    expect(fixture.upstream.requests).toHaveLength(1);
  });
});
