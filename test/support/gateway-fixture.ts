/**
 * Vitest fixtures for the integration tests: a fake OpenAI upstream, a local
 * gateway in front of it, and an SDK client of that gateway, started before
 * the tests of the enclosing `describe` (or file), reset before each test and
 * closed after them.
 *
 *   const fixture = useFakeUpstreamAndGateway({ upstream: { requireAuth: "Bearer sk-caller" }, env: { GATEWAY_MAX_RETRIES: "0" } });
 *   it("...", async () => {
 *     fixture.upstream.enqueue({ kind: "error", status: 429 });
 *     await fixture.client.chat.completions.create(...);
 *   });
 *
 * The returned objects have getters: read them inside tests and hooks, not
 * while the file is collected. Hooks of one fixture registered after another
 * start after it and (vitest runs after-hooks in reverse) close before it.
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import type OpenAI from "openai";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { CredentialStore } from "../../functions/shared/access/credentials.ts";
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from "./fake-openai.ts";
import { startTestGateway, type TestGateway } from "./local-gateway.ts";

/** What the fixtures need of a gateway: TestGateway and StoreGateway both fit. */
export interface GatewayLike {
  client(apiKey: string, headers?: Record<string, string>): OpenAI;
  reset(): void;
  close(): Promise<void>;
}

/** Options of the gateway's `client`. */
export interface ClientOptions {
  /** Its API key (default "sk-caller"). */
  readonly apiKey?: string;
  /** Its default headers besides the gateway client's own (`x-provider: openai`). */
  readonly headers?: Record<string, string>;
}

export interface GatewayFixture<G extends GatewayLike = TestGateway> {
  readonly gateway: G;
  /** `gateway.client(apiKey, headers)`, made once the gateway is up. */
  readonly client: OpenAI;
}

export interface UpstreamAndGatewayFixture<G extends GatewayLike = TestGateway> extends GatewayFixture<G> {
  readonly upstream: FakeOpenAI;
}

export interface UpstreamAndGatewayOptions extends ClientOptions {
  /** Options of the fake upstream. */
  readonly upstream?: FakeOpenAIOptions;
  /** The gateway's environment besides OPENAI_BASE_URL, which is the upstream's. */
  readonly env?: Record<string, string>;
  /** The gateway's credential store (startTestGateway's default without). */
  readonly credentials?: CredentialStore;
}

/** `value` once a fixture has started it; throws a clear error before. */
export function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: read it inside a test or hook`);
  return value;
}

/** Options of {@link useStarted}. */
export interface UseStartedOptions<T> {
  /** What it is, for the error when it is read before it started. */
  readonly what: string;
  /** Called before each test (e.g. to forget what earlier tests did). */
  readonly reset?: (value: T) => void;
  /** The start hook's time limit (default: the configured hookTimeout). */
  readonly timeoutMs?: number;
}

/**
 * Starts what `start` starts before the tests of the enclosing describe (or
 * file) and closes it after them. Returns a getter for it.
 */
export function useStarted<T extends { close(): Promise<void> }>(start: () => Promise<T>, options: UseStartedOptions<T>): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  }, options.timeoutMs);
  afterAll(async () => {
    await value?.close();
  });
  const { reset } = options;
  if (reset !== undefined) {
    beforeEach(() => {
      if (value !== undefined) reset(value);
    });
  }
  return () => started(value, options.what);
}

/** A fake OpenAI upstream: started before the tests, reset before each, closed after them. */
export function useFakeUpstream(options: FakeOpenAIOptions = {}): { readonly upstream: FakeOpenAI } {
  const upstream = useStarted(() => startFakeOpenAI(options), { what: "the fake upstream", reset: (fake) => fake.reset() });
  return {
    get upstream() {
      return upstream();
    },
  };
}

/** A gateway started by `start`: started before the tests, reset before each (its summaries), closed after them. */
export function useGateway<G extends GatewayLike>(start: () => Promise<G>, options: ClientOptions = {}): GatewayFixture<G> {
  const gateway = useStarted(start, { what: "the gateway", reset: (started) => started.reset() });
  let client: OpenAI | undefined;
  beforeAll(() => {
    client = gateway().client(options.apiKey ?? "sk-caller", options.headers);
  });
  return {
    get gateway() {
      return gateway();
    },
    get client() {
      return started(client, "the gateway's client");
    },
  };
}

/** {@link useGateway} for a local gateway configured by `env` (read when it starts). */
export function useTestGateway(
  env: () => Record<string, string> | Promise<Record<string, string>>,
  options: ClientOptions & { readonly credentials?: CredentialStore } = {},
): GatewayFixture {
  return useGateway(async () => startTestGateway(await env(), options.credentials), options);
}

/**
 * A fake upstream and a gateway in front of it (see the file's comment): a local
 * gateway, or the one `start` starts from its environment (e.g. startStoreGateway).
 */
export function useFakeUpstreamAndGateway(options?: UpstreamAndGatewayOptions): UpstreamAndGatewayFixture;
export function useFakeUpstreamAndGateway<G extends GatewayLike>(
  options: UpstreamAndGatewayOptions & { readonly start: (env: Record<string, string>) => Promise<G> },
): UpstreamAndGatewayFixture<G>;
export function useFakeUpstreamAndGateway(
  options: UpstreamAndGatewayOptions & { readonly start?: (env: Record<string, string>) => Promise<GatewayLike> } = {},
): UpstreamAndGatewayFixture<GatewayLike> {
  const fake = useFakeUpstream(options.upstream);
  const start = options.start ?? ((env: Record<string, string>) => startTestGateway(env, options.credentials));
  const local = useGateway(() => start({ OPENAI_BASE_URL: fake.upstream.baseUrl, ...options.env }), options);
  return {
    get upstream() {
      return fake.upstream;
    },
    get gateway() {
      return local.gateway;
    },
    get client() {
      return local.client;
    },
  };
}

/** The whole body of a request to a test's own upstream, parsed as JSON. */
export async function readJsonBody<T>(request: http.IncomingMessage): Promise<T> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString("utf8")) as T;
}

/** An upstream of the test's own (`handler`) on 127.0.0.1, for answers the fake cannot give; closed after the tests. */
export function useHttpUpstream(handler: http.RequestListener): { readonly baseUrl: string } {
  const upstream = useStarted(
    async () => {
      const server = http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return {
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        async close() {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
    { what: "the upstream" },
  );
  return {
    get baseUrl() {
      return upstream().baseUrl;
    },
  };
}

/** An OpenAI base URL nothing listens on (a port just freed): a request to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/v1`;
}
