/**
 * What the function's cold start reads: the entry file and the chunks it
 * imports statically, never the AWS SDK clients, which a deployment loads on
 * first use only if it has a secret or a table (see
 * infra/constructs/function-bundle.ts). Checked on the synthesized asset,
 * structurally (source maps of the start-up files) and by running it under
 * aws-lambda-ric with every other chunk deleted.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { synthesizeGatewayBundle, type LambdaBundle } from "../support/lambda-bundle.ts";
import { startFunctionUrlEmulator } from "../support/lambda-emulator.ts";

/** The files `file` (relative to `root`) imports statically, itself included, transitively. */
function staticImportClosure(root: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const code = readFileSync(join(root, file), "utf8");
  // Minified ESM: import{…}from"./chunks/x.mjs" or import"./chunks/x.mjs"; import("…") is dynamic and skipped.
  for (const match of code.matchAll(/(?:from|import)\s*"\.\/((?:chunks\/)?[^"]+\.mjs)"/g)) {
    const target = join(file, "..", match[1] as string).replace(/^\.\//, "");
    staticImportClosure(root, target, seen);
  }
  return seen;
}

/** The sources a bundle file was built from, from its source map. */
function sourcesOf(root: string, file: string): string[] {
  return (JSON.parse(readFileSync(join(root, `${file}.map`), "utf8")) as { sources: string[] }).sources;
}

async function answerOf(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "mock-gpt-4o", messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: response.status, body: await response.text() };
}

describe("the function's cold start", () => {
  let bundle: LambdaBundle;
  let startupFiles: Set<string>;
  let lazyFiles: string[];
  let trimmedRoot: string;

  beforeAll(() => {
    bundle = synthesizeGatewayBundle();
    startupFiles = staticImportClosure(bundle.taskRoot, "index.mjs");
    lazyFiles = readdirSync(join(bundle.taskRoot, "chunks"))
      .filter((name) => name.endsWith(".mjs"))
      .map((name) => `chunks/${name}`)
      .filter((file) => !startupFiles.has(file));
    // The asset with only what start-up reads.
    trimmedRoot = mkdtempSync(join(tmpdir(), "gateway-startup-only-"));
    cpSync(bundle.taskRoot, trimmedRoot, { recursive: true });
    for (const file of lazyFiles) rmSync(join(trimmedRoot, file));
  }, 120_000);

  afterAll(() => {
    if (trimmedRoot !== undefined) rmSync(trimmedRoot, { recursive: true, force: true });
  });

  it("reads no AWS SDK code: the SDK clients are chunks reached only through import()", () => {
    const startupSources = [...startupFiles].flatMap((file) => sourcesOf(bundle.taskRoot, file));
    expect(startupSources.some((source) => source.includes("functions/gateway/handler.ts"))).toBe(true);
    expect(startupSources.filter((source) => /@aws-sdk\/|@smithy\//.test(source))).toEqual([]);
    const lazySources = lazyFiles.flatMap((file) => sourcesOf(bundle.taskRoot, file));
    expect(lazySources.some((source) => source.includes("@aws-sdk/client-secrets-manager/"))).toBe(true);
    expect(lazySources.some((source) => source.includes("@aws-sdk/client-dynamodb/"))).toBe(true);
  });

  it("imports Node built-ins without an ESM namespace (an ESM import of node:http loads undici at start-up)", () => {
    for (const file of [...startupFiles, ...lazyFiles]) {
      const code = readFileSync(join(bundle.taskRoot, file), "utf8");
      const esmBuiltins = [...code.matchAll(/(?:from|import)\s*"(node:[\w/]+)"/g)].map((match) => match[1]);
      // The banner's createRequire is the one left.
      expect(esmBuiltins.filter((name) => name !== "node:module"), file).toEqual([]);
    }
  });

  it("loads no Node module at start-up that only requests use, or that nothing uses", () => {
    // The runtime client's own (http, net, stream…) aside: TLS and crypto load with the first request, web streams and fs/promises never.
    const script = `globalThis.awslambda = { streamifyResponse: (handler) => handler, HttpResponseStream: { from: (stream) => stream } };
await import(${JSON.stringify(pathToFileURL(join(trimmedRoot, "index.mjs")).href)});
process.stdout.write(JSON.stringify(process.moduleLoadList));`;
    const loaded = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, AWS_REGION: "us-east-1", ...bundle.environment, GATEWAY_SECRET_ID: "", GATEWAY_MOCK_PROVIDER: "true" },
        timeout: 30_000,
      }),
    ) as string[];
    expect(loaded).toContain("NativeModule stream");
    for (const module of ["https", "tls", "crypto", "stream/web", "fs/promises", "zlib"]) expect(loaded, module).not.toContain(`NativeModule ${module}`);
  });

  it("starts and answers without a secret or a table when every chunk outside the start-up files is gone", async () => {
    const emulator = await startFunctionUrlEmulator({ taskRoot: trimmedRoot, handler: bundle.handler, env: { GATEWAY_MOCK_PROVIDER: "true" } });
    try {
      const { status, body } = await answerOf(emulator.url, { "x-provider": "mock" });
      expect(status, body).toBe(200);
    } finally {
      await emulator.close();
    }
  }, 60_000);

  it("loads the Secrets Manager client on the first request of a deployment with a secret", async () => {
    // Without its chunk the fetch fails (503): the client is read then, not at start-up, which succeeded.
    const emulator = await startFunctionUrlEmulator({
      taskRoot: trimmedRoot,
      handler: bundle.handler,
      env: { GATEWAY_SECRET_ID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-AbCdEf", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "example" },
    });
    try {
      const { status, body } = await answerOf(emulator.url, { "x-provider": "mock", authorization: "Bearer gw-key-that-needs-the-secret" });
      expect(status, body).toBe(503);
      expect(emulator.logs.some((line) => line.includes("secret fetch failed"))).toBe(true);
    } finally {
      await emulator.close();
    }
  }, 60_000);
});
