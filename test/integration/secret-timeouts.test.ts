/**
 * A Secrets Manager that accepts the connection and never answers, behind the
 * real SecretsManagerClient: every fetch of the secret ends within
 * GATEWAY_SECRET_TIMEOUT_MS. A first fetch answers 503 and the next request
 * tries again; a refresh keeps serving the last good secret and tries again
 * later. Then each layer of the bound on its own (see stores/deadline.ts).
 */
import { performance } from "node:perf_hooks";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsManagerStore } from "../../functions/shared/access/secrets-manager-store.ts";
import { GatewayError } from "../../functions/shared/http/errors.ts";
import { LOCAL_AWS_ENV, setProcessEnv, within } from "../support/aws-env.ts";
import { startFakeSecretsManager } from "../support/fake-secrets-manager.ts";
import { useFakeUpstream, useGateway, useStarted } from "../support/gateway-fixture.ts";
import { startTestGateway } from "../support/local-gateway.ts";
import { startSilentServer } from "../support/silent-server.ts";
import { postJson } from "../support/store-gateway.ts";

const SECRET_ID = "hang/gateway";
const GATEWAY_KEY = "gw-hang-test-0123456789";
const PROVIDER_KEY = "sk-from-the-secret";
const ROTATED_KEY = "sk-rotated-in-the-secret";
const secretWith = (apiKey: string) => JSON.stringify({ openai: { apiKey }, gatewayKeys: [{ id: "hang", key: GATEWAY_KEY }] });
const TIMEOUT_MS = 1_000;
/** Room for two busy cores: a bounded call ends within its bound plus this. */
const SLACK_MS = 3_000;
const chat = { model: "gpt-4o", messages: [{ role: "user" as const, content: "hi" }] };

const secrets = useStarted(() => startFakeSecretsManager(), {
  what: "the fake Secrets Manager",
  reset: (fake) => {
    fake.setHanging(false);
    fake.setSecret(SECRET_ID, secretWith(PROVIDER_KEY));
  },
});
const provider = useFakeUpstream({ requireAuth: `Bearer ${PROVIDER_KEY}` });

/** Points the clients the gateway creates at `endpoint()` for the tests of the enclosing describe. */
function useSecretsManagerEndpoint(endpoint: () => string): void {
  let restore: (() => void) | undefined;
  beforeAll(() => {
    restore = setProcessEnv({ ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint() });
  });
  afterAll(() => restore?.());
}

/** A gateway reading its keys from the secret, with the bound under test. */
function useSecretGateway(env: Record<string, string> = {}) {
  return useGateway(
    () =>
      startTestGateway({
        OPENAI_BASE_URL: provider.upstream.baseUrl,
        GATEWAY_SECRET_ID: SECRET_ID,
        GATEWAY_SECRET_TIMEOUT_MS: String(TIMEOUT_MS),
        ...env,
      }),
    { apiKey: GATEWAY_KEY },
  );
}

/** The error a store call rejected with, as the gateway would answer it. */
async function gatewayErrorOf(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe("a first fetch that hangs, through the gateway", () => {
  const silent = useStarted(() => startSilentServer({ forwardTo: secrets().endpoint }), { what: "the silent server" });
  useSecretsManagerEndpoint(() => silent().endpoint);
  const fixture = useSecretGateway();

  it("answers 503 with retry-after within the bound, with or without a key, and the next request tries again", async () => {
    const started = performance.now();
    const answers = await within(
      Promise.all([
        postJson(fixture.gateway.baseURL, "chat/completions", chat, { authorization: `Bearer ${GATEWAY_KEY}` }),
        postJson(fixture.gateway.baseURL, "chat/completions", chat),
      ]),
      TIMEOUT_MS + SLACK_MS,
      "the answers to requests waiting on a hung secret fetch",
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(JSON.parse(answer.text)).toEqual({
        error: { message: `Secrets Manager did not answer within ${TIMEOUT_MS} ms; try again.`, type: "server_error", param: null, code: "secret_unavailable" },
      });
    }
    expect(provider.upstream.requests).toHaveLength(0);

    // The hung fetch is over, not left behind: its connections are closed, and the next request fetches anew.
    await within(silent().silentClosed(), SLACK_MS, "the hung connections closed");
    silent().setSilent(false);
    const completion = await fixture.client.chat.completions.create(chat);
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    expect(secrets().calls).toBe(1);
  });
});

describe("a refresh that hangs, through the gateway", () => {
  useSecretsManagerEndpoint(() => secrets().endpoint);
  // TTL 0: every request refreshes the secret, until a refresh fails.
  const fixture = useSecretGateway({ GATEWAY_SECRET_TTL_SECONDS: "0" });

  it("serves the last good secret within the bound, and does not wait on Secrets Manager again right away", async () => {
    const callsBefore = secrets().calls;
    await fixture.client.chat.completions.create(chat);
    expect(secrets().calls).toBe(callsBefore + 1);
    secrets().setHanging(true);
    secrets().setSecret(SECRET_ID, secretWith(ROTATED_KEY));
    const hungBefore = secrets().hungCalls;

    const started = performance.now();
    const completion = await within(fixture.client.chat.completions.create(chat), TIMEOUT_MS + SLACK_MS, "the answer during a hung refresh");
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(completion.choices[0]?.message.content).toBe("Echo: hi");
    const hung = secrets().hungCalls;
    expect(hung).toBeGreaterThanOrEqual(hungBefore + 1);

    // The next request does not try again yet: the last good secret answers at once.
    await fixture.client.chat.completions.create(chat);
    expect(secrets().hungCalls).toBe(hung);
    expect(provider.upstream.requests.map((request) => request.headers.authorization)).toEqual(Array(3).fill(`Bearer ${PROVIDER_KEY}`));
  });
});

describe("after a failed refresh", () => {
  it("the last good secret serves for retryAfterFailureMs (refresh included), then the store tries again", async () => {
    let time = 1_000_000;
    const store = createSecretsManagerStore({
      secretId: SECRET_ID,
      ttlMs: 1_000,
      timeoutMs: 300,
      retryAfterFailureMs: 10_000,
      client: localSecretsManagerClient(secrets().endpoint, { maxAttempts: 1 }),
      now: () => time,
    });
    const first = await store.get();
    time += 2_000;
    secrets().setHanging(true);
    const hungBefore = secrets().hungCalls;
    expect(await store.get()).toBe(first);
    expect(secrets().hungCalls).toBe(hungBefore + 1);
    // A copy that may answer comes at once, without a promise (every request asks).
    expect(store.get()).toBe(first);
    expect(await store.refresh()).toBe(first);
    expect(secrets().hungCalls).toBe(hungBefore + 1);

    time += 10_000;
    secrets().setHanging(false);
    secrets().setSecret(SECRET_ID, secretWith(ROTATED_KEY));
    const callsBefore = secrets().calls;
    expect(await store.get()).not.toBe(first);
    expect(secrets().calls).toBe(callsBefore + 1);
  });
});

describe("each layer of the bound", () => {
  const silent = useStarted(() => startSilentServer({ forwardTo: secrets().endpoint }), {
    what: "the silent server",
    reset: (server) => server.setSilent(true),
  });

  describe("the client the store creates", () => {
    useSecretsManagerEndpoint(() => silent().endpoint);

    it("ends a hung first attempt at half the bound (throwOnRequestTimeout) and retries it in time", async () => {
      const store = createSecretsManagerStore({ secretId: SECRET_ID, ttlMs: 60_000, timeoutMs: 2 * TIMEOUT_MS });
      const acceptedBefore = silent().accepted;
      void silent()
        .acceptedCount(acceptedBefore + 1)
        .then(() => silent().setSilent(false));
      const credentials = await within(Promise.resolve(store.get()), 2 * TIMEOUT_MS + SLACK_MS, "the fetch");
      expect(credentials.providers.openai?.apiKeys).toEqual([PROVIDER_KEY]);
      expect(silent().accepted).toBe(acceptedBefore + 2);
    });
  });

  it("aborts the call at the deadline: the hung connection is closed, not left open", async () => {
    // A client without a request timeout of its own: only the deadline's signal can end the attempt.
    const client = localSecretsManagerClient(silent().endpoint, { maxAttempts: 1 });
    const store = createSecretsManagerStore({ secretId: SECRET_ID, ttlMs: 60_000, timeoutMs: TIMEOUT_MS, client });
    const acceptedBefore = silent().accepted;
    const error = await within(gatewayErrorOf(Promise.resolve(store.get())), TIMEOUT_MS + SLACK_MS, "the failed fetch");
    expect(error).toMatchObject({ status: 503, code: "secret_unavailable" });
    expect(silent().accepted).toBe(acceptedBefore + 1);
    await within(silent().silentClosed(), SLACK_MS, "the hung connection closed");
  });

  it("settles at the deadline even when the wait is out of the signal's reach (credentials that never come)", async () => {
    const client = localSecretsManagerClient(silent().endpoint, { credentials: () => new Promise(() => undefined) });
    const store = createSecretsManagerStore({ secretId: SECRET_ID, ttlMs: 60_000, timeoutMs: TIMEOUT_MS, client });
    const acceptedBefore = silent().accepted;
    const error = await within(gatewayErrorOf(Promise.resolve(store.get())), TIMEOUT_MS + SLACK_MS, "the failed fetch");
    expect(error).toMatchObject({ status: 503, code: "secret_unavailable", message: `Secrets Manager did not answer within ${TIMEOUT_MS} ms; try again.` });
    expect(silent().accepted).toBe(acceptedBefore);
  });
});

/** A real SecretsManagerClient for a local endpoint, with dummy credentials unless `overrides` say otherwise. */
function localSecretsManagerClient(endpoint: string, overrides: ConstructorParameters<typeof SecretsManagerClient>[0] = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
    ...overrides,
  });
}
