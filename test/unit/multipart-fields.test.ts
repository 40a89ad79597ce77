/**
 * Reading a form's model and stream fields without decoding the form.
 */
import { describe, expect, it } from "vitest";
import { readFormFields } from "../../functions/shared/http/multipart-fields.ts";

/** A form as the SDK (undici's FormData) serialises it. */
async function form(fields: Record<string, string | Blob>): Promise<{ body: Buffer; contentType: string }> {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof Blob) data.append(name, value, "upload.bin");
    else data.append(name, value);
  }
  const request = new Request("http://localhost/", { method: "POST", body: data });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get("content-type") as string };
}

describe("readFormFields", () => {
  it("reads the model and stream fields of a form with a file", async () => {
    const { body, contentType } = await form({ file: new Blob([Buffer.alloc(4096, 7)]), model: "gpt-4o-transcribe", stream: "true" });
    expect(readFormFields(body, contentType, ["model", "stream"])).toEqual({ model: "gpt-4o-transcribe", stream: "true" });
  });

  it("never takes a file's bytes for a field, even when they look like a part", async () => {
    const forged = Buffer.from('\r\nContent-Disposition: form-data; name="model"\r\n\r\nforged-model\r\n');
    const { body, contentType } = await form({ file: new Blob([forged]), model: "whisper-1" });
    expect(readFormFields(body, contentType, ["model"])).toEqual({ model: "whisper-1" });
    const { body: fileOnly, contentType: fileOnlyType } = await form({ file: new Blob([forged]) });
    expect(readFormFields(fileOnly, fileOnlyType, ["model"])).toEqual({});
  });

  it("ignores a file part named like a field, long values, and a body without the declared boundary", async () => {
    const { body, contentType } = await form({ model: new Blob(["gpt-image-1"]) });
    expect(readFormFields(body, contentType, ["model"])).toEqual({});
    const long = await form({ model: "m".repeat(300) });
    expect(readFormFields(long.body, long.contentType, ["model"])).toEqual({});
    expect(readFormFields(Buffer.from("no form here"), "multipart/form-data; boundary=abc", ["model"])).toEqual({});
    expect(readFormFields(body, "multipart/form-data", ["model"])).toEqual({});
  });
});
