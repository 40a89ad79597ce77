import { describe, expect, it } from "vitest";
import { findCycles } from "../support/import-cycles.ts";

describe("findCycles", () => {
  it("finds the four-file cycle the core once had, and nothing in a tree", () => {
    const graph = new Map([
      ["gateway.ts", ["request-context.ts", "gateway-answers.ts", "http-provider-call.ts", "errors.ts"]],
      ["request-context.ts", ["gateway.ts"]],
      ["gateway-answers.ts", ["gateway.ts", "request-context.ts"]],
      ["http-provider-call.ts", ["gateway.ts"]],
      ["errors.ts", []],
      ["tree-a.ts", ["tree-b.ts"]],
      ["tree-b.ts", []],
    ]);
    expect(findCycles(graph)).toEqual([["gateway-answers.ts", "gateway.ts", "http-provider-call.ts", "request-context.ts"]]);
  });

  it("counts a file that imports itself", () => {
    expect(findCycles(new Map([["a.ts", ["a.ts"]]]))).toEqual([["a.ts"]]);
  });

  it("finds two separate cycles", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["a.ts"]],
      ["c.ts", ["d.ts"]],
      ["d.ts", ["c.ts"]],
    ]);
    expect(findCycles(graph)).toHaveLength(2);
  });
});
