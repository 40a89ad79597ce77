import { describe, expect, it } from "vitest";
import { MalformedEventStreamError, MAX_MESSAGE_BYTES, readEventStream, type StreamMessage } from "../../functions/shared/providers/bedrock/event-stream.ts";
import { converseStreamEvents, eventFrame, exceptionFrame } from "../support/bedrock-wire.ts";

async function readAll(chunks: Uint8Array[]): Promise<StreamMessage[]> {
  const messages: StreamMessage[] = [];
  for await (const message of readEventStream(chunks)) messages.push(message);
  return messages;
}

async function failure(chunks: Uint8Array[]): Promise<unknown> {
  try {
    await readAll(chunks);
  } catch (error) {
    return error;
  }
  throw new Error("expected the stream to fail");
}

const frames = converseStreamEvents({ blocks: [{ type: "text", text: "Hello" }], stopReason: "end_turn" }).map(eventFrame);
const whole = Buffer.concat(frames);

describe("Bedrock's binary event stream", () => {
  it("decodes every frame, whatever the chunking (one byte at a time included)", async () => {
    const together = await readAll([whole]);
    const bytewise = await readAll([...whole].map((byte) => Uint8Array.of(byte)));
    expect(together.map((message) => (message.kind === "event" ? message.type : message.kind))).toEqual([
      "messageStart",
      "contentBlockDelta",
      "contentBlockStop",
      "messageStop",
      "metadata",
    ]);
    expect(bytewise).toEqual(together);
    expect(together[1]).toMatchObject({ kind: "event", payload: { contentBlockIndex: 0, delta: { text: "Hello" } } });
  });

  it("reads an exception frame as an exception, with its type and message", async () => {
    expect(await readAll([exceptionFrame("throttlingException", "Too many tokens, please wait.")])).toEqual([
      { kind: "exception", type: "throttlingException", message: "Too many tokens, please wait." },
    ]);
  });

  it.each([
    ["the prelude CRC", 8],
    ["a header byte (message CRC)", 14],
    ["the message CRC itself", -1],
  ])("refuses a frame whose %s does not match", async (_, offset) => {
    const frame = Buffer.from(frames[0] as Uint8Array);
    const at = offset < 0 ? frame.byteLength + offset : offset;
    frame[at] = (frame[at] as number) ^ 0xff;
    const error = await failure([frame]);
    expect(error).toBeInstanceOf(MalformedEventStreamError);
    expect((error as Error).message).toMatch(/checksum/i);
  });

  it("refuses a stream that ends inside a frame", async () => {
    expect(await failure([whole.subarray(0, whole.byteLength - 3)])).toMatchObject({ code: "upstream_malformed_stream", message: expect.stringMatching(/ended inside a message/) });
  });

  it("refuses a frame that claims more than the format allows, before reading it", async () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 0);
    expect(await failure([huge])).toMatchObject({ message: expect.stringMatching(/claims 16777217 bytes/) });
  });
});
