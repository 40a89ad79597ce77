import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFakeUpstream } from "../support/gateway-fixture.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The seed's curl examples, exactly as the README shows them. */
const CURL_STREAM = `curl -N http://localhost:3000/v1/chat/completions -H "Content-Type: application/json" \\
  -H "x-provider: openai" -H "Authorization: Bearer $OPENAI_API_KEY" \\
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}],"stream":true}'`;
const CURL_JSON = `curl http://localhost:3000/v1/chat/completions -H "Content-Type: application/json" \\
  -H "x-provider: openai" -H "Authorization: Bearer $OPENAI_API_KEY" \\
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}'`;

/** The README's mock example, which needs no key and no network. */
const CURL_MOCK = `curl -N http://localhost:3000/v1/chat/completions -H "Content-Type: application/json" \\
  -H "x-provider: mock" -d '{"model":"mock-gpt-4o","messages":[{"role":"user","content":"Hello!"}],"stream":true}'`;

const fake = useFakeUpstream({ requireAuth: "Bearer sk-from-the-shell" });
let server: ChildProcess;
let port: number;
const output: string[] = [];

async function portIsFree(candidate: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(candidate, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  if (await portIsFree(3000)) return 3000;
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port: ephemeral } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return ephemeral;
}

async function curl(command: string): Promise<string> {
  const { stdout } = await run("bash", ["-c", command.replaceAll("localhost:3000", `localhost:${port}`)], {
    env: { ...process.env, OPENAI_API_KEY: "sk-from-the-shell" },
  });
  return stdout;
}

beforeAll(async () => {
  port = await freePort();
  // What `npm start` runs, on the Node that npm puts first on PATH.
  server = spawn(process.execPath, ["functions/local/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), OPENAI_BASE_URL: fake.upstream.baseUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean)));
  server.stderr?.on("data", (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean)));
  for (let attempt = 0; attempt < 100 && !output.some((line) => line.includes("listening")); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(output.join("\n")).toContain(`listening on http://127.0.0.1:${port}/v1`);
});

// Registered after the upstream's hooks: the server is stopped before the upstream closes.
afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
});

describe("npm start", () => {
  it("serves the seed's streaming curl example", async () => {
    const stdout = await curl(CURL_STREAM);
    const events = stdout.split("\n\n").filter(Boolean);
    expect(events[0]).toMatch(/^data: \{"id":"chatcmpl-/);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(fake.upstream.requests.at(-1)?.headers.authorization).toBe("Bearer sk-from-the-shell");
  });

  it("serves the seed's non-streaming curl example", async () => {
    const stdout = await curl(CURL_JSON);
    const completion = JSON.parse(stdout) as { object: string; choices: { message: { content: string } }[] };
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toBe("Echo: Hello!");
  });

  it("serves the README's mock example out of the box (GATEWAY_MOCK_PROVIDER unset)", async () => {
    const stdout = await curl(CURL_MOCK);
    const events = stdout.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const text = events
      .slice(0, -1)
      .map((event) => (JSON.parse(event.slice("data: ".length)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe("This is a mock response to: Hello!");
    expect(output.join("\n")).toMatch(/providers: openai → \S+, mock;/);
  });

  it("logs one concise line per request with status, latency, time to first byte and tokens", async () => {
    const requestLines = () => output.filter((line) => line.startsWith("POST /v1/chat/completions openai"));
    // A line is written once the response has ended, so it may trail curl's exit a little.
    for (let attempt = 0; attempt < 100 && requestLines().length < 2; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const lines = requestLines();
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatch(/^POST \/v1\/chat\/completions openai gpt-4o 200 [\d.]+ms ttfb=[\d.]+ms tokens=\d+\+\d+=\d+ cost=\$\d+\.\d{6} ok id=[0-9a-f-]{36}$/);
    }
  });

  it("never logs the caller's key or the prompt", () => {
    const logs = output.join("\n");
    expect(logs).not.toContain("sk-from-the-shell");
    expect(logs).not.toContain("Hello!");
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = once(server, "exit");
    server.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(output.join("\n")).toContain("SIGTERM: finishing requests in flight");
  });
});
