/**
 * The local server's one line per request.
 */
import type { RequestSummary } from "../shared/observability/request-summary.ts";

/**
 * Formats a request as one concise line, e.g.
 * `POST /v1/chat/completions openai gpt-4o 200 412.3ms ttfb=95.1ms tokens=12+30=42 cost=$0.000330 key=team-a ok id=3f2a…`,
 * with the same numbers the Lambda function publishes as metrics (the cost is
 * the `estimatedCost` metric: the summary's, when usage was read). Every text
 * field goes through {@link logField}: a request cannot forge, split or clear
 * lines. Built by concatenation, read from the summary alone: it runs once per
 * request (npm run bench, the hot path).
 */
export function formatRequestLine(summary: RequestSummary): string {
  const { usage } = summary;
  let line = `${logField(summary.method)} ${logField(summary.path)} ${summary.provider === undefined ? "-" : logField(summary.provider)} ${
    summary.model === undefined ? "-" : logField(summary.model)
  } ${summary.status} ${summary.totalMs.toFixed(1)}ms ttfb=${summary.firstByteMs === undefined ? "-" : `${summary.firstByteMs.toFixed(1)}ms`}`;
  if (usage !== undefined) {
    line += ` tokens=${usage.promptTokens}+${usage.completionTokens}=${usage.totalTokens}`;
    if (summary.costUsd !== undefined) line += ` cost=$${summary.costUsd.toFixed(6)}`;
  }
  if (summary.retries > 0) line += ` retries=${summary.retries}`;
  if (summary.route !== undefined) line += ` route=${summary.route}`;
  if ((summary.fallbacks ?? 0) > 0) line += ` targets=${summary.targets?.map((target) => `${target.provider}:${target.result}x${target.attempts}`).join(">")}`;
  if (summary.cache === "hit") line += " cache=hit";
  if (summary.keyId !== undefined) line += ` key=${logField(summary.keyId)}`;
  line += ` ${logField(summary.outcome)}`;
  if (summary.errorCode !== undefined) line += ` code=${logField(summary.errorCode)}`;
  return `${line} id=${logField(summary.requestId)}`;
}

/**
 * Backslash, quote, and every character a terminal or a log reader could take
 * for something else: controls (C0, DEL, C1 such as NEL), format characters
 * (bidi overrides, zero-width), line and paragraph separators, spaces other
 * than U+0020, lone surrogates, private-use and unassigned code points.
 */
const UNSAFE = /[\\"\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;
const NAMED: Readonly<Record<string, string>> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * A value from a request as one unambiguous field of the line: unsafe
 * characters escaped visibly (`\n`, `\x1b`, `\u202e`, `\\`), and the value
 * quoted when it holds a space or a quote, is empty, or is `-` (the mark of a
 * missing value), so fields split on spaces stay what they are.
 * @example logField('gpt-4o\n200 ok') // '"gpt-4o\\n200 ok"'
 */
export function logField(value: string): string {
  // Most values (methods, paths, model names, ids) are plain: checked without the Unicode tables.
  if (isPlain(value)) return value;
  const escaped = value.replace(UNSAFE, escapeCharacter);
  return escaped === "" || escaped === "-" || /[ "]/.test(escaped) ? `"${escaped}"` : escaped;
}

/**
 * Printable ASCII other than space, quote and backslash, and not `-` alone: a value of these is
 * its own field as it is. A loop over the code units rather than a regex: six fields a line, one
 * line a request, and a regex's call costs more than the loop on a short value (about 250
 * instructions a call under callgrind).
 */
function isPlain(value: string): boolean {
  if (value.length === 0 || value === "-") return false;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 0x21 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
  }
  return true;
}

function escapeCharacter(character: string): string {
  const named = NAMED[character];
  if (named !== undefined) return named;
  const code = character.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\u{${code.toString(16)}}`;
}
