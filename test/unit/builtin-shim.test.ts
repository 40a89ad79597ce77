/**
 * The bundle's stand-in for a statically imported Node built-in (see
 * infra/constructs/function-bundle.ts) behaves as the built-in does for the
 * ways code uses one: default and named imports, methods a built-in inherits,
 * exports that are not enumerable, assignments, class identity; and it loads
 * the built-in only when first used.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { BUNDLE_OPTIONS, builtinsWithoutEsmNamespace } from "../../infra/constructs/function-bundle.ts";

const ENTRY = `
import process from "node:process";
import http, { Agent } from "node:http";
import * as https from "node:https";
import zlib from "node:zlib";
import { createHash } from "node:crypto";
const beforeUse = process.moduleLoadList.includes("NativeModule zlib");
const out = {};
const t = (name, f) => { try { out[name] = String(f()); } catch (error) { out[name] = "throws " + error.message; } };
t("zlib loaded before use", () => beforeUse);
t("process.on", () => typeof process.on);
t("process.exitCode=", () => { process.exitCode = 0; return "ok"; });
t("http.globalAgent=", () => { http.globalAgent = new Agent({ keepAlive: true }); return http.globalAgent.keepAlive; });
t("Agent is http.Agent", () => Agent === http.Agent && new Agent() instanceof http.Agent);
t("https.request", () => typeof https.request);
t("zlib.Z_SYNC_FLUSH", () => zlib.Z_SYNC_FLUSH);
t("zlib loaded after use", () => process.moduleLoadList.includes("NativeModule zlib"));
t("createHash", () => createHash("sha256").update("x").digest("hex").slice(0, 8));
process.stdout.write(JSON.stringify(out));
`;

async function run(bundled: boolean): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), "builtin-shim-"));
  writeFileSync(join(dir, "entry.mjs"), ENTRY);
  let file = join(dir, "entry.mjs");
  if (bundled) {
    await build({ ...BUNDLE_OPTIONS, sourcemap: false, entryPoints: { index: file }, outdir: join(dir, "out"), plugins: [builtinsWithoutEsmNamespace] });
    file = join(dir, "out", "index.mjs");
  }
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: "utf8", timeout: 20_000 })) as Record<string, string>;
}

describe("a built-in in the bundle", () => {
  it("behaves as the built-in itself, and loads when first used", async () => {
    const [real, bundled] = await Promise.all([run(false), run(true)]);
    // Unbundled, the ESM import loads zlib at once; bundled, on first use.
    expect(real).toMatchObject({ "zlib loaded before use": "true", "process.on": "function", "http.globalAgent=": "true", "zlib.Z_SYNC_FLUSH": "2" });
    expect(bundled).toEqual({ ...real, "zlib loaded before use": "false" });
  }, 60_000);
});
