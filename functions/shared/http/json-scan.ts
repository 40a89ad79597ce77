/**
 * Walking JSON text without parsing it: how deep it nests (checked before
 * parsing, so nothing recursive can overflow), and where one object's members
 * lie in raw bytes (so a value can be replaced or a member added without
 * re-serialising the rest). Structural characters are ASCII, and every byte
 * of a multi-byte UTF-8 character is above 0x7f, so scanning bytes is safe.
 */

/** Where one member's value lies: `bytes.subarray(valueStart, valueEnd)`. */
export interface MemberSpan {
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** The members of an object by (decoded) key, the last of a repeated key winning as in `JSON.parse`. */
export interface ObjectMembers extends ReadonlyMap<string, MemberSpan> {
  /** Just past the object's opening brace, where a new first member goes. */
  readonly contentStart: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isBlank(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function skipBlanks(bytes: Uint8Array, index: number): number {
  while (isBlank(bytes[index])) index += 1;
  return index;
}

/** The index just past the string that starts at `index` (its opening quote). */
function skipString(bytes: Uint8Array, index: number): number {
  for (let at = index + 1; at < bytes.length; at += 1) {
    if (bytes[at] === BACKSLASH) at += 1;
    else if (bytes[at] === QUOTE) return at + 1;
  }
  return bytes.length;
}

/** The index just past the value that starts at `index`. */
function skipValue(bytes: Uint8Array, index: number): number {
  const first = bytes[index];
  if (first === QUOTE) return skipString(bytes, index);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let at = index; at < bytes.length; ) {
      const byte = bytes[at];
      if (byte === QUOTE) {
        at = skipString(bytes, at);
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
      else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return at + 1;
      at += 1;
    }
    return bytes.length;
  }
  let at = index;
  while (at < bytes.length && bytes[at] !== COMMA && bytes[at] !== CLOSE_BRACE && bytes[at] !== CLOSE_BRACKET && !isBlank(bytes[at])) at += 1;
  return at;
}

/** Lists the members of the object whose opening brace is at `start` (in a body `JSON.parse` accepted). */
export function objectMembers(bytes: Uint8Array, start: number): ObjectMembers {
  const members = new Map<string, MemberSpan>();
  let index = skipBlanks(bytes, start + 1);
  while (index < bytes.length && bytes[index] === QUOTE) {
    const keyEnd = skipString(bytes, index);
    const key = JSON.parse(Buffer.from(bytes.subarray(index, keyEnd)).toString("utf8")) as string;
    index = skipBlanks(bytes, keyEnd);
    if (bytes[index] !== COLON) break;
    const valueStart = skipBlanks(bytes, index + 1);
    const valueEnd = skipValue(bytes, valueStart);
    members.delete(key);
    members.set(key, { valueStart, valueEnd });
    index = skipBlanks(bytes, valueEnd);
    if (bytes[index] === COMMA) index = skipBlanks(bytes, index + 1);
  }
  return Object.assign(members, { contentStart: start + 1 });
}

/**
 * Whether the text holds more than `limit` opening brackets at all, a cheap
 * necessary condition (native `indexOf`) that spares most bodies the full scan.
 */
export function hasMoreOpenings(text: string, limit: number): boolean {
  let count = 0;
  for (const bracket of ["{", "["]) {
    for (let index = text.indexOf(bracket); index !== -1; index = text.indexOf(bracket, index + 1)) {
      if (++count > limit) return true;
    }
  }
  return false;
}

/** Whether objects and arrays nest deeper than `limit` (brackets inside strings do not count). */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index += 1;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth -= 1;
  }
  return false;
}
