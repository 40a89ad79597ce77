/**
 * Runs a request's attempt plan until a response is worth relaying, all
 * before the first byte reaches the client.
 *
 * Each attempt takes a key from the target provider's pool (rotated across
 * requests), has the provider prepare and authorize the request, and sends
 * it. After each attempt the strategies, in order, say what comes next: the
 * first that decides wins, and when none does the outcome stands.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Caller } from "../access/authenticate.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import type { GatewayConfig, RetryConfig } from "../config/config.ts";
import { ConfigurationError } from "../http/errors.ts";
import type { ProviderCall, ProviderCredential } from "../providers/types.ts";
import type { UpstreamClient, UpstreamResponse } from "../upstream/client.ts";
import type { AttemptOutcome, AttemptPlan, AttemptTarget } from "./attempt-plan.ts";
import { isRetryableFailure } from "./retry-policy.ts";
import { STRATEGIES, type AttemptState } from "./strategies.ts";

/** One request's run through its plan. */
export interface AttemptRun {
  readonly plan: AttemptPlan;
  readonly caller: Caller;
  readonly credentials: Credentials;
  /** This request's retry settings (attempts and cap may come from its headers). */
  readonly retry: RetryConfig;
  readonly signal: AbortSignal;
  /** The call as a target receives it (the body may be adapted to the target's capabilities). */
  callFor(target: AttemptTarget): ProviderCall;
  /** Milliseconds left before the request's deadline. */
  remainingMs(): number;
  /** Told of each attempt after the first, before it is sent. */
  onRetry(): void;
}

/** The response to relay, and the target that gave it. */
export interface AttemptResult {
  readonly response: UpstreamResponse;
  readonly target: AttemptTarget;
}

/** Runs attempt plans. */
export type AttemptRunner = (run: AttemptRun) => Promise<AttemptResult>;

/** Dependencies of the runner. */
export interface AttemptRunnerDependencies {
  readonly config: GatewayConfig;
  readonly store: CredentialStore;
  readonly upstream: UpstreamClient;
}

/** Creates the runner; it keeps one rotating position per provider key pool. */
export function createAttemptRunner(dependencies: AttemptRunnerDependencies): AttemptRunner {
  const { config, store, upstream } = dependencies;
  // Where each provider's key pool starts for the next request, so load spreads over the keys.
  const poolPositions = new Map<string, number>();

  return async (run) => {
    const { targets } = run.plan;
    for (let index = 0; ; index += 1) {
      const target = targets[index] as AttemptTarget;
      if (index > 0) run.onRetry();
      const outcome = await runTarget(target, run);
      const last = index === targets.length - 1 || run.signal.aborted || !run.plan.fallBack(outcome);
      if (last) {
        if ("error" in outcome) throw outcome.error;
        return { response: decode(target, run, outcome.response), target };
      }
      if ("response" in outcome) outcome.response.discard();
    }
  };

  async function runTarget(target: AttemptTarget, run: AttemptRun): Promise<AttemptOutcome> {
    const state: AttemptState = {
      provider: target.provider.name,
      credentials: run.credentials,
      keyIndex: nextPoolPosition(target.provider.name, run.credentials),
      attempt: 0,
      refreshed: false,
    };
    for (;;) {
      // One attempt; a failure worth retrying becomes an outcome, any other is thrown
      // (inline rather than a function of its own: one async frame less per request, npm run bench).
      let outcome: AttemptOutcome;
      try {
        outcome = { response: await send(target, run, state) };
      } catch (error) {
        if (!isRetryableFailure(error)) throw error;
        outcome = { error };
      }
      // Every strategy is about a failure (a rejected key, a status or error worth a retry): an
      // answer below 400 skips them, sparing each request of the hot path their promises.
      if ("response" in outcome && outcome.response.status < 400) return outcome;
      let step;
      for (const strategy of STRATEGIES) {
        step = await strategy(outcome, state, { caller: run.caller, retry: run.retry, remainingMs: run.remainingMs, store });
        if (step !== undefined) break;
      }
      if (step === undefined) return outcome;
      if ("response" in outcome) outcome.response.discard();
      if (step.kind === "fail") throw step.error;
      if (step.delayMs > 0) await sleep(step.delayMs, undefined, { signal: run.signal });
      state.attempt += 1;
      run.onRetry();
    }
  }

  async function send(target: AttemptTarget, run: AttemptRun, state: AttemptState): Promise<UpstreamResponse> {
    const { provider } = target;
    const credential = credentialFor(run.caller, state);
    const prepared = await provider.authorize(provider.prepare(run.callFor(target)), credential);
    const headers = prepared.body === undefined ? prepared.headers : { ...prepared.headers, "content-length": String(prepared.body.byteLength) };
    return upstream.send({
      ...prepared,
      headers,
      connectTimeoutMs: config.timeouts.connectMs,
      firstByteTimeoutMs: Math.min(config.timeouts.firstByteMs, run.remainingMs()),
      signal: run.signal,
    });
  }

  function nextPoolPosition(provider: string, credentials: Credentials): number {
    const size = credentials.providers[provider]?.apiKeys.length ?? 1;
    const position = poolPositions.get(provider) ?? 0;
    poolPositions.set(provider, (position + 1) % size);
    return position;
  }
}

/** The credential an attempt sends: the pool key at the state's position (managed), the caller's own, or none. */
function credentialFor(caller: Caller, state: AttemptState): ProviderCredential {
  if (caller.mode === "passthrough") return { kind: "passthrough", authorization: caller.authorization };
  if (caller.mode === "anonymous") return { kind: "none" };
  const keys = state.credentials.providers[state.provider];
  const apiKey = keys === undefined || keys.apiKeys.length === 0 ? undefined : keys.apiKeys[state.keyIndex % keys.apiKeys.length];
  if (keys === undefined || apiKey === undefined) {
    throw new ConfigurationError(`The gateway has no API key for provider ${state.provider}.`);
  }
  return { kind: "managed", apiKey, organization: keys.organization, project: keys.project };
}

/** The response in OpenAI's wire, for providers that speak another. */
function decode(target: AttemptTarget, run: AttemptRun, response: UpstreamResponse): UpstreamResponse {
  const decoded = target.provider.decode?.(response, run.callFor(target));
  return decoded === undefined ? response : { ...decoded, abort: response.abort, discard: response.discard };
}
