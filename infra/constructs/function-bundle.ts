/**
 * The function's code: an ESM bundle built by esbuild at synth, with every
 * dependency inside, laid out so that start-up reads only what start-up needs.
 *
 * - `index.mjs` is the entry; code reached only through `import()` (the AWS
 *   SDK clients, loaded on first use when a deployment has a secret or a
 *   table) goes to `chunks/`, so a cold start neither reads nor parses it.
 *   A single file would still make V8 scan the SDK's ~300 KB at start-up.
 * - Node built-ins are loaded through `process.getBuiltinModule()` instead of
 *   an ESM `import`: an ESM import of `node:http` makes Node build a module
 *   namespace with every export, and reading its lazy `WebSocket`,
 *   `MessageEvent`… getters loads Node's bundled undici, ~70 ms of CPU at
 *   start-up for nothing (measured, Node 24.21).
 *
 * The Lambda tests and the benchmark run exactly this output: they synthesize
 * the stack and take the asset folder the template references.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssetHashType, DockerImage } from "aws-cdk-lib";
import { Code } from "aws-cdk-lib/aws-lambda";
import { buildSync, type BuildOptions } from "esbuild";

/** esbuild options of the function bundle (entry and output folder come per function). */
export const BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  splitting: true,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
};

/**
 * Bundles `entry` (absolute path) into `outputDir` as `index.mjs` plus chunks.
 * @returns the files written, relative to `outputDir`
 */
export function bundleFunction(entry: string, outputDir: string): string[] {
  const result = buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: { index: entry },
    outdir: outputDir,
    alias: builtinShims(),
    metafile: true,
  });
  return Object.keys(result.metafile.outputs);
}

/** The function's code asset; the hash is the bundle's, so unchanged code is not uploaded again. */
export function functionCode(entry: string): Code {
  return Code.fromAsset(join(entry, ".."), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling below always runs (esbuild is a dependency of the project).
      image: DockerImage.fromRegistry("scratch"),
      local: {
        tryBundle(outputDir) {
          bundleFunction(entry, outputDir);
          return true;
        },
      },
    },
  });
}

let shims: Record<string, string> | undefined;

/** Maps every Node built-in (`http` and `node:http`) to a CommonJS shim that hands out the built-in without an ESM namespace. */
function builtinShims(): Record<string, string> {
  if (shims !== undefined) return shims;
  const dir = mkdtempSync(join(tmpdir(), "gateway-builtins-"));
  const map: Record<string, string> = {};
  for (const listed of builtinModules) {
    const name = listed.replace(/^node:/, ""); // node:sqlite, node:test… exist only with the prefix
    if (name.startsWith("_")) continue; // internals such as _http_agent are not imported by libraries
    const file = join(dir, `${name.replaceAll("/", "-")}.cjs`);
    writeFileSync(file, `module.exports = process.getBuiltinModule(${JSON.stringify(`node:${name}`)});\n`);
    if (!listed.startsWith("node:")) map[name] = file;
    map[`node:${name}`] = file;
  }
  shims = map;
  return map;
}
