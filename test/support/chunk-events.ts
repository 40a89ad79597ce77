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
