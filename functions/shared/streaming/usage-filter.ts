/**
 * Hides from a stream what the gateway's own `stream_options.include_usage`
 * added to it (see usage/include-usage.ts): the usage-only chunk
 * (`"choices":[]` with a usage object) and the `"usage":null` field of every
 * other chunk. Fed whole events by the SSE framer; every other byte,
 * separators included, is kept.
 */
import type { SseEvent } from "./sse-framer.ts";

// Compact JSON (OpenAI's) and JSON with blanks (other OpenAI-compatible servers).
const USAGE_NULL = /,\s*"usage"\s*:\s*null|"usage"\s*:\s*null\s*,/g;
const EMPTY_CHOICES = /"choices"\s*:\s*\[\s*\]/;
const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const DATA_LINE = /^data:/;

/** The event's text as the client should see it: unchanged, without `"usage":null`, or dropped (""). */
export function withoutInjectedUsage(event: SseEvent): string {
  if (!event.text.includes('"usage"')) return event.text;
  const data = event.lines.filter((line) => DATA_LINE.test(line));
  if (data.some((line) => EMPTY_CHOICES.test(line) && USAGE_OBJECT.test(line))) return "";
  return event.text.replace(USAGE_NULL, "");
}
