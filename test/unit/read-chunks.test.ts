import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readChunks, type ChunkReader } from "../../functions/shared/streaming/read-chunks.ts";

/** Reads everything the way the relay does. */
async function drain(reader: ChunkReader): Promise<string[]> {
  const chunks: string[] = [];
  for (let chunk = reader.read(); ; chunk = reader.read()) {
    if (chunk === null) {
      if (await reader.more()) continue;
      break;
    }
    chunks.push(Buffer.from(chunk).toString());
  }
  return chunks;
}

describe("reading a provider body chunk by chunk", () => {
  it("reads a stream written over several turns of the event loop, then ends", async () => {
    const stream = new Readable({ read() {} });
    const reader = readChunks(stream);
    const done = drain(reader);
    for (const piece of ["a", "bc", "def"]) {
      stream.push(piece);
      await new Promise((resolve) => setImmediate(resolve));
    }
    stream.push(null);
    expect((await done).join("")).toBe("abcdef");
    reader.close();
    expect(stream.listenerCount("readable") + stream.listenerCount("end")).toBe(0);
  });

  it("ends a stream that ends at once, and one with no data", async () => {
    expect(await drain(readChunks(Readable.from([Buffer.from("whole")])))).toEqual(["whole"]);
    expect(await drain(readChunks(Readable.from([])))).toEqual([]);
  });

  it("throws the stream's error, even after some chunks", async () => {
    const stream = new Readable({ read() {} });
    const reader = readChunks(stream);
    const done = drain(reader);
    stream.push("part");
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy(new Error("reset by peer"));
    await expect(done).rejects.toThrow("reset by peer");
  });

  it("throws a premature-close error for a stream destroyed without an error before its end", async () => {
    const stream = new Readable({ read() {} });
    const done = drain(readChunks(stream));
    await new Promise((resolve) => setImmediate(resolve));
    stream.destroy();
    await expect(done).rejects.toMatchObject({ code: "ERR_STREAM_PREMATURE_CLOSE" });
  });

  it("destroys a stream closed before its end, as for await does, and leaves no listeners", async () => {
    const stream = new Readable({ read() {} });
    const reader = readChunks(stream);
    stream.push("first");
    expect(Buffer.from(reader.read() ?? []).toString()).toBe("first");
    reader.close();
    expect(stream.destroyed).toBe(true);
    expect(stream.listenerCount("readable") + stream.listenerCount("end") + stream.listenerCount("error")).toBe(0);
  });

  it("reads other bodies (arrays, generators) as they iterate", async () => {
    expect(await drain(readChunks([Buffer.from("x"), Buffer.from("y")]))).toEqual(["x", "y"]);
    async function* generated(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("1");
      yield Buffer.from("2");
    }
    expect(await drain(readChunks(generated()))).toEqual(["1", "2"]);
  });
});
