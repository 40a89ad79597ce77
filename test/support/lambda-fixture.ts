/**
 * Vitest fixtures for the Lambda tests: the gateway's Lambda bundle under
 * aws-lambda-ric behind an emulated Function URL, started before the tests of
 * the enclosing `describe` (or file) and stopped after them, and the fakes it
 * calls. Like gateway-fixture.ts, the returned objects have getters.
 */
import OpenAI from "openai";
import { beforeAll } from "vitest";
import type { FakeOpenAI, FakeOpenAIOptions } from "./fake-openai.ts";
import { startFakeSecretsManager, type FakeSecretsManager } from "./fake-secrets-manager.ts";
import { started, useFakeUpstream, useStarted } from "./gateway-fixture.ts";
import { synthesizeGatewayBundle } from "./lambda-bundle.ts";
import { startFunctionUrlEmulator, type FunctionUrlEmulator } from "./lambda-emulator.ts";

/** Building the bundle and starting the runtime take a while. */
const START_TIMEOUT_MS = 120_000;

/** Options of {@link useGatewayFunction}. */
export interface GatewayFunctionOptions {
  /** The function's timeout in ms (default: the emulator's, 60 s). */
  readonly timeoutMs?: number;
}

/** The gateway function with `env` (read when it starts) on top of the bundle's environment. */
export function useGatewayFunction(env: () => Record<string, string>, options: GatewayFunctionOptions = {}): { readonly lambda: FunctionUrlEmulator } {
  const lambda = useStarted(
    () => {
      const bundle = synthesizeGatewayBundle();
      return startFunctionUrlEmulator({
        taskRoot: bundle.taskRoot,
        handler: bundle.handler,
        env: { ...bundle.environment, ...env() },
        timeoutMs: options.timeoutMs,
      });
    },
    { what: "the gateway function", timeoutMs: START_TIMEOUT_MS },
  );
  return {
    get lambda() {
      return lambda();
    },
  };
}

export interface GatewayFunctionWithSecretOptions {
  /** The ARN of the gateway's secret (GATEWAY_SECRET_ID). */
  readonly secretId: string;
  /** The secret's value as the function starts; without, tests set it. */
  readonly secret?: string;
  /** Options of the fake OpenAI upstream. */
  readonly upstream?: FakeOpenAIOptions;
  /** The function's environment besides the secret's id, the upstream's URL and the AWS endpoint and credentials. */
  readonly env?: Record<string, string>;
  /** The gateway key of `client`. */
  readonly apiKey: string;
  /** The default headers of `client`. */
  readonly headers?: Record<string, string>;
}

export interface GatewayFunctionWithSecret {
  readonly upstream: FakeOpenAI;
  readonly secrets: FakeSecretsManager;
  readonly lambda: FunctionUrlEmulator;
  /** An SDK client of the function's Function URL (no retries). */
  readonly client: OpenAI;
}

/**
 * The gateway function reading its keys from a fake Secrets Manager and calling
 * a fake OpenAI upstream. Before each test the upstream is reset and any
 * Secrets Manager fault (or hang) cleared.
 */
export function useGatewayFunctionWithSecret(options: GatewayFunctionWithSecretOptions): GatewayFunctionWithSecret {
  const fake = useFakeUpstream(options.upstream);
  const secrets = useStarted(
    async () => {
      const manager = await startFakeSecretsManager();
      if (options.secret !== undefined) manager.setSecret(options.secretId, options.secret);
      return manager;
    },
    {
      what: "the fake Secrets Manager",
      reset: (manager) => {
        manager.setFault(undefined);
        manager.setHanging(false);
      },
    },
  );
  const fn = useGatewayFunction(() => ({
    GATEWAY_SECRET_ID: options.secretId,
    OPENAI_BASE_URL: fake.upstream.baseUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets().endpoint,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret-access-key-example",
    ...options.env,
  }));
  let client: OpenAI | undefined;
  beforeAll(() => {
    client = new OpenAI({ apiKey: options.apiKey, baseURL: `${fn.lambda.url}/v1/`, maxRetries: 0, defaultHeaders: options.headers });
  });
  return {
    get upstream() {
      return fake.upstream;
    },
    get secrets() {
      return secrets();
    },
    get lambda() {
      return fn.lambda;
    },
    get client() {
      return started(client, "the function's client");
    },
  };
}
