/**
 * Reading an OpenAI event stream back in tests: the `data:` of each event,
 * parsed (`[DONE]` kept as the string).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParsedEvent = any;

/** The data of every event of an SSE text, JSON-parsed, `[DONE]` as is. */
export function parseSse(text: string): ParsedEvent[] {
  return text
    .split(/\n\n/)
    .filter((event) => event.trim() !== "")
    .map((event) => {
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line[5] === " " ? 6 : 5))
        .join("\n");
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

/** The deltas of the first choice of every chunk. */
export function deltasOf(events: readonly ParsedEvent[]): ParsedEvent[] {
  return events.flatMap((event) => (event === "[DONE]" || !Array.isArray(event.choices) ? [] : event.choices.map((choice: { delta: unknown }) => choice.delta)));
}

/**
 * Reads an SDK chunk stream until the chunk with a `finish_reason`, then
 * aborts `controller`: a client that leaves before the provider's last
 * events (its usage, `[DONE]`). Returns how many chunks it read.
 */
export async function readUntilFinishThenLeave(
  stream: AsyncIterable<{ readonly choices: readonly { readonly finish_reason?: string | null }[] }>,
  controller: AbortController,
): Promise<number> {
  let chunks = 0;
  try {
    for await (const part of stream) {
      chunks += 1;
      if (part.choices[0]?.finish_reason) controller.abort();
    }
  } catch {
    // The abort ends the iteration with an error: leaving is the point.
  }
  return chunks;
}
