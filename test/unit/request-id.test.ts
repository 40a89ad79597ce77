/**
 * The gateway's request ids (observability/request-id.ts): random version 4
 * UUIDs in their usual form, different every time, across the batches of
 * random bytes they are drawn from.
 */
import { describe, expect, it } from "vitest";
import { RequestIds } from "../../functions/shared/observability/request-id.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("request ids", () => {
  it("are version 4 UUIDs, none the same, over many batches of random bytes (256 ids a batch)", () => {
    const ids = new RequestIds();
    const seen = new Set<string>();
    for (let index = 0; index < 5_000; index += 1) {
      const id = ids.next();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(5_000);
  });

  it("are random in every digit but the version's and the variant's bits", () => {
    const ids = new RequestIds();
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let index = 0; index < 2_000; index += 1) [...ids.next()].forEach((digit, at) => digits[at]?.add(digit));
    const counts = digits.map((seen) => seen.size);
    // Dashes at 8, 13, 18 and 23; the version digit at 14; the variant's two random bits at 19 (8, 9, a, b).
    const expected = counts.map((_, at) => ([8, 13, 18, 23, 14].includes(at) ? 1 : at === 19 ? 4 : 16));
    expect(counts).toEqual(expected);
  });
});
