/**
 * The shape of functions/: no import cycles, the stages below core/ never
 * import core/, and the leaves (config/, http/errors.ts, observability/) import
 * no stage. Every relative import counts, type-only ones included: a cycle of
 * types is still a knot a reader has to untie.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findCycles, type ImportGraph } from "../support/import-cycles.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHARED = "functions/shared/";

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Every file of functions/ with the files it imports (repo-relative paths). */
function importGraph(): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles("functions")) {
    const text = readFileSync(join(ROOT, file), "utf8");
    const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((match) =>
      relative(ROOT, resolve(ROOT, dirname(file), match[1] as string)),
    );
    graph.set(file, imports);
  }
  return graph;
}

const graph = importGraph();
const stageOf = (file: string) => (file.startsWith(SHARED) ? file.slice(SHARED.length).split("/")[0] : undefined);
const LEAVES = new Set(["config", "observability"]);
const isLeaf = (file: string) => LEAVES.has(stageOf(file) ?? "") || file === `${SHARED}http/errors.ts` || file === `${SHARED}http/headers.ts`;

describe("functions/ import graph", () => {
  it("reads the files of every stage", () => {
    expect(graph.size).toBeGreaterThan(40);
    for (const stage of ["core", "http", "endpoints", "access", "routing", "providers", "upstream", "streaming", "usage", "cache", "stores", "observability", "config"]) {
      expect([...graph.keys()].some((file) => stageOf(file) === stage), stage).toBe(true);
    }
  });

  it("has no import cycles", () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it("the stages below core/ never import core/", () => {
    const offenders = [...graph].flatMap(([file, imports]) =>
      stageOf(file) !== undefined && stageOf(file) !== "core" ? imports.filter((target) => stageOf(target) === "core").map((target) => `${file} -> ${target}`) : [],
    );
    expect(offenders).toEqual([]);
  });

  it("the leaves (config/, observability/, http/errors.ts, http/headers.ts) import only leaves and types of usage/", () => {
    const offenders = [...graph].flatMap(([file, imports]) =>
      isLeaf(file)
        ? imports.filter((target) => !isLeaf(target) && target !== `${SHARED}usage/usage-readers.ts`).map((target) => `${file} -> ${target}`)
        : [],
    );
    expect(offenders).toEqual([]);
  });
});
