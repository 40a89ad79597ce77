/**
 * A route target's model in place of the request's: the `model` member's
 * value is replaced in the client's bytes, every other byte kept as sent (the
 * body must still mean what the gateway checked; see usage/include-usage.ts).
 */
import { objectMembers } from "../http/json-scan.ts";

/** The JSON object body with its `model` set to `model` (added first when it has none). */
export function withModel(raw: Uint8Array, model: string): Uint8Array {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const members = objectMembers(bytes, bytes.indexOf(0x7b));
  const value = Buffer.from(JSON.stringify(model));
  const current = members.get("model");
  if (current !== undefined) return Buffer.concat([bytes.subarray(0, current.valueStart), value, bytes.subarray(current.valueEnd)]);
  const separator = members.size === 0 ? "" : ",";
  const start = members.contentStart;
  return Buffer.concat([bytes.subarray(0, start), Buffer.from(`"model":`), value, Buffer.from(separator), bytes.subarray(start)]);
}
