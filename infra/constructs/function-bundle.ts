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
import { spawnSync } from "node:child_process";
import { builtinModules } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { AssetHashType, DockerImage } from "aws-cdk-lib";
import { Code } from "aws-cdk-lib/aws-lambda";
import { build, type BuildOptions, type Plugin } from "esbuild";

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

const BUILTINS = new Set(builtinModules.map((name) => name.replace(/^node:/, "")));

/**
 * Static `import … from "node:x"` statements become a CommonJS module that
 * hands out `process.getBuiltinModule("node:x")`, which esbuild reads through
 * its own getters (no ESM namespace, no getter run at start-up). `import()`
 * and `require()` of a built-in stay as they are: they run only when called.
 */
export const builtinsWithoutEsmNamespace: Plugin = {
  name: "builtins-without-esm-namespace",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      if (args.kind !== "import-statement" || !BUILTINS.has(name)) return undefined;
      return { path: name, namespace: "node-builtin" };
    });
    esbuild.onLoad({ filter: /.*/, namespace: "node-builtin" }, (args) => ({ contents: builtinShim(args.path), loader: "js" }));
  },
};

/**
 * The CommonJS stand-in of built-in `name`: an object with an accessor per
 * export (every own property this Node has, enumerable or not, read and
 * written through), loading the built-in on first use, so that a module the
 * function imports but does not use (e.g. `node:stream/web` for middy's
 * `instanceof` check, `node:fs/promises` for a key file) is never loaded, and
 * one used only by requests (`node:crypto`, `node:https`) loads with the
 * first. A built-in that is a function (`events`, `stream`) or an object with
 * a prototype of its own (`process`, `console`: methods they inherit) cannot
 * be stood in for so: it is loaded when the bundle starts.
 */
export function builtinShim(name: string): string {
  const id = JSON.stringify(`node:${name}`);
  const builtin: unknown = process.getBuiltinModule(`node:${name}`);
  if (typeof builtin !== "object" || builtin === null || Object.getPrototypeOf(builtin) !== Object.prototype) {
    return `module.exports = process.getBuiltinModule(${id});`;
  }
  const accessors = Object.getOwnPropertyNames(builtin).map((key) => {
    const property = JSON.stringify(key);
    const enumerable = Object.getOwnPropertyDescriptor(builtin, key)?.enumerable === true;
    return `${property}: { get: () => load()[${property}], set: (value) => { load()[${property}] = value; }, enumerable: ${enumerable} }`;
  });
  return `let loaded;\nconst load = () => (loaded ??= process.getBuiltinModule(${id}));\nmodule.exports = Object.defineProperties({}, { ${accessors.join(", ")} });\n`;
}

/**
 * Bundles `entry` (absolute path) into `outputDir` as `index.mjs` plus chunks.
 * @returns the files written, relative to the working directory
 */
export async function bundleFunction(entry: string, outputDir: string): Promise<string[]> {
  const result = await build({ ...BUNDLE_OPTIONS, entryPoints: { index: entry }, outdir: outputDir, plugins: [builtinsWithoutEsmNamespace], metafile: true });
  return Object.keys(result.metafile.outputs);
}

const THIS_FILE = fileURLToPath(import.meta.url);

/** The function's code asset; the hash is the bundle's, so unchanged code is not uploaded again. */
export function functionCode(entry: string): Code {
  return Code.fromAsset(dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling below always runs (esbuild is a dependency of the project).
      image: DockerImage.fromRegistry("scratch"),
      local: {
        tryBundle(outputDir) {
          // esbuild plugins need its asynchronous API, and CDK bundles synchronously: a child process does it.
          const result = spawnSync(process.execPath, [THIS_FILE, entry, outputDir], { stdio: "inherit" });
          if (result.status !== 0) throw new Error(`bundling ${entry} failed (exit ${result.status ?? result.signal})`);
          return true;
        },
      },
    },
  });
}

if (process.argv[1] === THIS_FILE) {
  const [entry, outputDir] = process.argv.slice(2);
  if (entry === undefined || outputDir === undefined) throw new Error("usage: node function-bundle.ts <entry> <output folder>");
  await bundleFunction(entry, outputDir);
}
