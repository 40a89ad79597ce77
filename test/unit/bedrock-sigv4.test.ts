import { describe, expect, it } from "vitest";
import { bedrockAuthorization } from "../../functions/shared/providers/bedrock/index.ts";
import { createBedrockSigner } from "../../functions/shared/providers/bedrock/sigv4.ts";
import type { UpstreamRequest } from "../../functions/shared/providers/types.ts";
import { sigV4Problem } from "../support/sigv4-verify.ts";

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "session-token-example" };
const signer = createBedrockSigner("eu-west-1", async () => CREDENTIALS);

const request = (path: string, body = '{"messages":[]}'): UpstreamRequest => ({
  url: `https://bedrock-runtime.eu-west-1.amazonaws.com${path}`,
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/vnd.amazon.eventstream" },
  body: Buffer.from(body),
});

/** The signed request as the server receives it. */
function received(signed: UpstreamRequest) {
  const path = signed.url.slice(signed.url.indexOf("/", 8));
  return { method: signed.method, url: path, headers: signed.headers, body: Buffer.from(signed.body ?? new Uint8Array()) };
}

describe("SigV4 for Bedrock", () => {
  it.each([
    ["a model id with a colon", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"],
    ["an inference profile ARN (encoded slash, encoded again in the canonical URI)", "/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3/converse"],
  ])("signs method, path, headers and body for %s, as an independent check computes it", async (_, path) => {
    const signed = await signer.sign(request(path));
    expect(sigV4Problem(received(signed), CREDENTIALS, "eu-west-1", "bedrock")).toBeUndefined();
    expect(signed.url).toBe(request(path).url);
    expect(signed.headers.authorization).toMatch(/SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
    expect(signed.headers["x-amz-security-token"]).toBe("session-token-example");
  });

  it("covers the body: a changed byte breaks the signature", async () => {
    const signed = received(await signer.sign(request("/model/m/converse")));
    expect(sigV4Problem({ ...signed, body: Buffer.from('{"messages":[1]}') }, CREDENTIALS, "eu-west-1", "bedrock")).toBe("the signature does not match");
  });

  it("uses a Bedrock API key as a bearer token instead of signing, and a caller's own credential as it came", async () => {
    const managed = await bedrockAuthorization(request("/model/m/converse"), { kind: "managed", apiKey: "ABSKexample" }, signer);
    expect(managed.headers.authorization).toBe("Bearer ABSKexample");
    expect(managed.headers).not.toHaveProperty("x-amz-date");
    const passthrough = await bedrockAuthorization(request("/model/m/converse"), { kind: "passthrough", authorization: "Bearer ABSKcaller" }, signer);
    expect(passthrough.headers.authorization).toBe("Bearer ABSKcaller");
  });
});
