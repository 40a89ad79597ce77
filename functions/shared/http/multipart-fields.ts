/**
 * Reads a few short text fields (`model`, `stream`) of a multipart form
 * without decoding or changing it: the body still goes upstream byte for byte.
 * The gateway needs them for what it reports (the model in metrics and its
 * price, whether the answer streams), never for forwarding.
 *
 * Only part headers found right after a boundary delimiter are read (RFC 7578:
 * a delimiter is CRLF, `--`, the boundary; a part's content never contains
 * it), so a file whose bytes happen to look like a part header is never taken
 * for one. Values longer than {@link MAX_VALUE_BYTES} are ignored.
 */

/** The longest field value read (a model name, `true`). */
const MAX_VALUE_BYTES = 256;
/** The most part headers looked at: a form with more parts is read as far as this. */
const MAX_PARTS = 64;
const HEADER_END = Buffer.from("\r\n\r\n");
const BOUNDARY = /;\s*boundary=(?:"([^"]{1,70})"|([^";\s]{1,70}))/i;
const NAME = /^content-disposition:\s*form-data\s*;(?:.*;)?\s*name="([^"]*)"/im;
const FILENAME = /;\s*filename\*?=/i;

/** The text fields named in `names` that the form carries, by name (the first of each). */
export function readFormFields(body: Uint8Array, contentType: string, names: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  const boundary = BOUNDARY.exec(contentType);
  const value = boundary?.[1] ?? boundary?.[2];
  if (value === undefined) return found;
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`\r\n--${value}`);
  // The first delimiter may open the body without the CRLF before it.
  let at: number;
  if (bytes.subarray(0, delimiter.length - 2).equals(delimiter.subarray(2))) at = delimiter.length - 2;
  else {
    const first = bytes.indexOf(delimiter);
    at = first < 0 ? -1 : first + delimiter.length;
  }
  for (let parts = 0; at >= 0 && parts < MAX_PARTS && Object.keys(found).length < names.length; parts += 1) {
    // After the boundary: "--" ends the form, else CRLF and the part's headers.
    if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) break;
    const headersStart = at + 2;
    const headersEnd = bytes.indexOf(HEADER_END, headersStart);
    if (headersEnd < 0) break;
    const next = bytes.indexOf(delimiter, headersEnd);
    if (next < 0) break;
    const headers = bytes.toString("latin1", headersStart, headersEnd);
    const name = NAME.exec(headers)?.[1];
    const contentStart = headersEnd + HEADER_END.length;
    if (name !== undefined && names.includes(name) && found[name] === undefined && !FILENAME.test(headers) && next - contentStart <= MAX_VALUE_BYTES) {
      found[name] = bytes.toString("utf8", contentStart, next);
    }
    at = next + delimiter.length;
  }
  return found;
}
