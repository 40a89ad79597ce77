/**
 * The local server's request line: values from a request (path, model,
 * provider…) cannot forge a line, clear the terminal or split a field.
 */
import { describe, expect, it } from "vitest";
import { formatRequestLine, logField } from "../../functions/local/request-log.ts";
import { measureRequest, ModelDimensionLimiter } from "../../functions/shared/observability/request-metrics.ts";
import type { RequestSummary } from "../../functions/shared/observability/request-summary.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";

const ID = "6f1c2c1e-0000-4000-8000-000000000000";
const base: RequestSummary = {
  requestId: ID,
  method: "POST",
  path: "/v1/chat/completions",
  endpoint: "chat.completions",
  provider: "openai",
  model: "gpt-4o",
  stream: false,
  status: 200,
  outcome: "ok",
  retries: 0,
  firstByteMs: 95.12,
  totalMs: 412.34,
  usage: { promptTokens: 12, completionTokens: 30, totalTokens: 42, cachedPromptTokens: 0, reasoningTokens: 0 },
  costUsd: 0.00033,
};

function line(changes: Partial<RequestSummary>): string {
  const summary = { ...base, ...changes };
  return formatRequestLine(summary);
}

/** Splits a line the way a reader would: on spaces, except inside "…" (where \" and \\ are escapes). */
function fields(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? "");
}

/** Characters that must never reach the terminal raw. */
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

describe("the request line", () => {
  it("is unchanged for ordinary values", () => {
    expect(line({})).toBe(`POST /v1/chat/completions openai gpt-4o 200 412.3ms ttfb=95.1ms tokens=12+30=42 cost=$0.000330 ok id=${ID}`);
    expect(line({ provider: undefined, model: undefined, usage: undefined, costUsd: undefined, status: 404, outcome: "gateway_error", errorCode: "not_found" })).toBe(
      `POST /v1/chat/completions - - 404 412.3ms ttfb=95.1ms gateway_error code=not_found id=${ID}`,
    );
  });

  it("shows the cost the Lambda function publishes as its estimatedCost metric, and none where that metric has none", () => {
    const summaries: RequestSummary[] = [base, { ...base, costUsd: 0.000001234 }, { ...base, costUsd: undefined }, { ...base, usage: undefined }];
    for (const summary of summaries) {
      const cost = measureRequest(summary, new ModelDimensionLimiter()).values.estimatedCost;
      const shown = /cost=\$(\S+)/.exec(formatRequestLine(summary))?.[1];
      expect(shown).toBe(cost === undefined ? undefined : cost.toFixed(6));
    }
  });

  it("a model with CR LF cannot forge a second line", () => {
    const forged = `gpt-4o 200 1.0ms ttfb=1.0ms ok id=x\r\nPOST /v1/admin openai gpt-4o 200 1.0ms ok id=${ID}`;
    const text = line({ model: forged });
    expect(text).not.toMatch(/[\r\n]/);
    expect(text).toContain("\\r\\nPOST /v1/admin");
    // The forged text stays inside the model's one field.
    const parts = fields(text);
    expect(parts.slice(0, 4)).toEqual(["POST", "/v1/chat/completions", "openai", expect.stringContaining("\\r\\nPOST")]);
    expect(parts[4]).toBe("200");
    // As many fields as a line for a plain unpriced model (no cost field).
    expect(parts).toHaveLength(fields(line({ model: "plain" })).length);
  });

  it.each([
    ["ESC sequences that clear the screen or move the cursor", "\u001b[2J\u001b[H\u001b]0;title\u0007", "\\x1b[2J\\x1b[H\\x1b]0;title\\x07"],
    ["NUL, backspace, DEL", "a\u0000b\bc\u007f", "a\\x00b\\x08c\\x7f"],
    ["C1 controls such as NEL and CSI", "a\u0085b\u009bc", "a\\x85b\\x9bc"],
    ["tab, vertical tab, form feed", "a\tb\u000bc\u000cd", "a\\tb\\x0bc\\x0cd"],
    ["Unicode line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    ["bidi overrides and zero-width characters", "a\u202eb\u2066c\u200bd\ufeff", "a\\u202eb\\u2066c\\u200bd\\ufeff"],
    ["a lone surrogate", "a\ud800b", "a\\ud800b"],
    ["a backslash, so that an escape cannot be faked", "a\\nb", "a\\\\nb"],
  ])("%s: escaped visibly in every text field", (_label, raw, escaped) => {
    for (const field of ["model", "path", "provider", "method"] as const) {
      const text = line({ [field]: raw });
      expect(text).not.toMatch(RAW_UNSAFE);
      expect(text).toContain(escaped);
    }
  });

  it("a value with spaces (or look-alike spaces) stays one field: quoted, with look-alikes escaped", () => {
    const text = line({ model: "gpt 4o 200 ok", path: "/v1/x\u00a0y\u3000z" });
    expect(text).toContain('"gpt 4o 200 ok"');
    expect(text).toContain("/v1/x\\xa0y\\u3000z");
    const parts = fields(text);
    expect(parts[1]).toBe("/v1/x\\xa0y\\u3000z");
    expect(parts[3]).toBe("gpt 4o 200 ok");
    // As many fields as a line for a plain unpriced model (no cost field).
    expect(parts).toHaveLength(fields(line({ model: "plain" })).length);
  });

  it("quotes inside a value are escaped, and empty or '-' values are quoted apart from a missing one", () => {
    expect(logField('say "hi" now')).toBe('"say \\"hi\\" now"');
    expect(logField('a"b')).toBe('"a\\"b"');
    expect(logField("")).toBe('""');
    expect(logField("-")).toBe('"-"');
    expect(fields(line({ model: "" }))[3]).toBe("");
    expect(line({ model: "-" })).toContain(' openai "-" 200 ');
  });

  it("astral characters are kept; unassigned and private-use ones escaped", () => {
    expect(logField("model-🚀-é")).toBe("model-🚀-é");
    expect(logField("a\ue000b")).toBe("a\\ue000b");
    expect(logField("a\u{10ffff}b")).toBe("a\\u{10ffff}b");
  });
});
