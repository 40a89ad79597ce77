/**
 * Fuzzing the local gateway over raw sockets: valid chat/embeddings/... bodies
 * mutated (bytes flipped, inserted, deleted; wrong types; deep nesting; huge
 * strings), random methods, paths, headers and content types, and bodies whose
 * content-length lies. Half go to the fake OpenAI upstream, the rest to the
 * in-process mock provider (`x-provider: mock`).
 *
 * Properties checked for every request:
 * - it is answered (or cleanly closed) within the bound: nothing hangs;
 * - no 5xx made by the gateway itself (a 5xx is fine only when it is the fake's own answer,
 *   recognised by the fake's `x-request-id: req_<32 hex>`), and no gateway error event in a 200 stream;
 * - every error answer is OpenAI's error JSON and carries `x-gateway-request-id`;
 * and afterwards the server still answers a normal SDK request correctly.
 *
 * FUZZ_SEED=<n> reruns one sequence; FUZZ_COUNT=<n> changes its length.
 */
import { beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { generate, mulberry32, type FuzzCase } from "../support/fuzz-requests.ts";
import { useFakeUpstreamAndGateway } from "../support/gateway-fixture.ts";
import { isOpenAIErrorShape, rawExchange, sseEvents, type RawExchange } from "../support/raw-http.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3_000);
const CONCURRENCY = 16;
const BOUND_MS = 2_000;

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

interface Finding {
  readonly category: string;
  readonly example: string;
}

const fixture = useFakeUpstreamAndGateway({
  env: { GATEWAY_MAX_RETRIES: "0", GATEWAY_MOCK_PROVIDER: "true", GATEWAY_MOCK_CHUNK_DELAY_MS: "0", GATEWAY_FIRST_BYTE_TIMEOUT_MS: "1500" },
});
let consoleError: MockInstance<typeof console.error>;
const results: { fuzzCase: FuzzCase; exchange: RawExchange }[] = [];
let runMs = 0;

beforeAll(async () => {
  consoleError = vi.spyOn(console, "error").mockImplementation(() => undefined);
  const port = Number(new URL(fixture.gateway.url).port);
  const random = mulberry32(SEED);
  const cases = Array.from({ length: COUNT }, (_, index) => generate(random, index));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const fuzzCase = cases[next] as FuzzCase;
        next += 1;
        const exchange = await rawExchange(port, fuzzCase.bytes, { timeoutMs: BOUND_MS, halfClose: fuzzCase.halfClose, head: fuzzCase.head });
        results.push({ fuzzCase, exchange });
      }
    }),
  );
  runMs = performance.now() - started;
  consoleError.mockRestore();
}, 120_000);

const FAKE_REQUEST_ID = /^req_[0-9a-f]{32}$/;

function describeExchange(fuzzCase: FuzzCase, exchange: RawExchange): string {
  return `${fuzzCase.label} → ${exchange.ending}${exchange.errorCode ? `/${exchange.errorCode}` : ""} ${JSON.stringify(exchange.raw.toString("latin1").slice(0, 160))}`;
}

/** Groups findings by category: count and the first few examples. */
function report(findings: readonly Finding[]): string {
  const byCategory = new Map<string, string[]>();
  for (const finding of findings) byCategory.set(finding.category, [...(byCategory.get(finding.category) ?? []), finding.example]);
  return [...byCategory.entries()]
    .map(([category, examples]) => `${category}: ${examples.length}\n    ${examples.slice(0, 3).join("\n    ")}`)
    .join("\n");
}

function check(predicate: (fuzzCase: FuzzCase, exchange: RawExchange) => string | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const { fuzzCase, exchange } of results) {
    const category = predicate(fuzzCase, exchange);
    if (category !== undefined) findings.push({ category, example: describeExchange(fuzzCase, exchange) });
  }
  return findings;
}

describe(`fuzzing the local gateway (seed ${SEED}, ${COUNT} requests)`, () => {
  it("ran every request within the time budget", () => {
    expect(results).toHaveLength(COUNT);
    const statuses = new Map<string, number>();
    for (const { exchange } of results) {
      const key = exchange.response === undefined ? `no-response(${exchange.ending})` : String(exchange.response.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    console.info(`fuzz: ${COUNT} requests in ${(runMs / 1000).toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(runMs).toBeLessThan(45_000);
  });

  it("no connection hangs: every request is answered or cleanly closed within 2 s", () => {
    const findings = check((_fuzzCase, exchange) => (exchange.ending === "timeout" ? "hung (no answer, no close)" : undefined));
    expect(findings, report(findings)).toHaveLength(0);
  });

  it("every answer is a whole HTTP response (or a close before any byte)", () => {
    const findings = check((_fuzzCase, exchange) => {
      if (exchange.raw.length > 0 && exchange.response === undefined) return "unparseable bytes";
      if (exchange.response !== undefined && !exchange.response.complete) return "response cut short";
      return undefined;
    });
    expect(findings, report(findings)).toHaveLength(0);
  });

  it("no 5xx made by the gateway itself", () => {
    const findings = check((_fuzzCase, exchange) => {
      const response = exchange.response;
      if (response === undefined || response.status < 500) return undefined;
      if (FAKE_REQUEST_ID.test(response.headers.get("x-request-id") ?? "")) return undefined;
      return `gateway ${response.status} ${response.body.toString().slice(0, 120)}`;
    });
    expect(findings, report(findings)).toHaveLength(0);
  });

  it("no gateway error event inside a 200 stream", () => {
    const findings = check((_fuzzCase, exchange) => {
      const response = exchange.response;
      if (response === undefined || response.status !== 200 || !response.headers.get("content-type")?.startsWith("text/event-stream")) return undefined;
      const events = sseEvents(response.body.toString());
      const gatewayError = events.find((event) => /^data: \{"error":\{.*"code":"upstream_/.test(event));
      return gatewayError === undefined ? undefined : `stream error event ${gatewayError.slice(0, 160)}`;
    });
    expect(findings, report(findings)).toHaveLength(0);
  });

  it("every error answer is OpenAI's error JSON with an x-gateway-request-id", () => {
    const findings = check((fuzzCase, exchange) => {
      const response = exchange.response;
      if (response === undefined || response.status < 400) return undefined;
      if (response.headers.get("x-gateway-request-id") === undefined) return `${response.status} without x-gateway-request-id`;
      if (fuzzCase.head) return undefined;
      let body: unknown;
      try {
        body = JSON.parse(response.body.toString("utf8"));
      } catch {
        return `${response.status} with a body that is not JSON`;
      }
      return isOpenAIErrorShape(body) ? undefined : `${response.status} with JSON that is not OpenAI's error shape`;
    });
    expect(findings, report(findings)).toHaveLength(0);
  });

  it("the server logged no unexpected failure", () => {
    const unexpected = consoleError.mock.calls.map((call) => call.map(String).join(" ")).filter((line) => line.includes("unexpected failure"));
    expect(unexpected.slice(0, 5)).toEqual([]);
  });

  it("afterwards the server still answers a normal SDK request correctly", async () => {
    const client = fixture.gateway.client("sk-fuzz");
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "still there?" }] });
    expect(completion.choices[0]?.message.content).toBe("Echo: still there?");
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "and streaming?" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Echo: and streaming?");
    const embedding = await fixture.gateway.client("sk-fuzz", { "x-provider": "mock" }).embeddings.create({ model: "mock-text-embedding-3-small", input: "x" });
    expect(embedding.data[0]?.embedding.length).toBeGreaterThan(0);
  });
});
