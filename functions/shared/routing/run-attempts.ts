/**
 * Runs a request's attempt plan until a response is worth relaying, all
 * before the first byte reaches the client.
 *
 * Each attempt takes a key from the target provider's pool (rotated across
 * requests), has the provider prepare and authorize the request, and sends
 * it. After each attempt the strategies, in order, say what comes next: the
 * first that decides wins, and when none does the outcome stands. A target's
 * final outcome then goes to the plan, which says whether the request moves
 * on to its next target (a route's fall-back) while time is left.
 *
 * A target's provider may answer from its configuration alone
 * (`answerLocally`: Bedrock's model list), or take the call in parts
 * (`split`: Titan embeds one text per request), each part attempted as a
 * call of its own and the answers merged; either way, as a route's target
 * as much as when named alone.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Caller } from "../access/authenticate.ts";
import type { Credentials, CredentialStore } from "../access/credentials.ts";
import type { GatewayConfig, RetryConfig } from "../config/config.ts";
import { ConfigurationError, UpstreamTimeoutError, UpstreamUnavailableError } from "../http/errors.ts";
import type { ProviderCall, ProviderCredential, UpstreamRequest } from "../providers/types.ts";
import type { UpstreamClient, UpstreamResponse } from "../upstream/client.ts";
import type { AttemptOutcome, AttemptPlan, AttemptTarget } from "./attempt-plan.ts";
import { callInParts } from "./call-in-parts.ts";
import { STRATEGIES, type AttemptState, type StrategyContext } from "./strategies.ts";

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
  /** Told of each target's end: its attempts, how it ended, and whether the request moved on to the next target. */
  onTargetEnd?(report: TargetReport): void;
}

/** How one target of a request fared. */
export interface TargetReport {
  readonly target: AttemptTarget;
  /** Attempts made at the target (1 plus its retries). */
  readonly attempts: number;
  /** The status of its last answer, or the gateway error code of its last failure. */
  readonly result: number | string;
  /** Whether the request moved on to the next target after it. */
  readonly fellBack: boolean;
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
      const call = run.callFor(target);
      const { outcome, attempts, decoded } = await runTarget(target, call, run);
      const fallBack = run.plan.fallBack(outcome, target);
      const last = index === targets.length - 1 || !fallBack || run.signal.aborted || run.remainingMs() <= 0;
      run.onTargetEnd?.({ target, attempts, result: resultOf(outcome), fellBack: !last });
      if (last) {
        if ("error" in outcome) throw outcome.error;
        return { response: decoded ? outcome.response : decode(target, call, outcome.response), target };
      }
      if ("response" in outcome) outcome.response.discard();
    }
  };

  /**
   * A target's outcome: its answer from configuration, its parts' merged
   * answer, or its attempts' last; `decoded` when already in OpenAI's wire.
   * (Not an async function: the usual target, attempted whole, goes without
   * a frame and a promise of its own; npm run bench.)
   */
  function runTarget(target: AttemptTarget, call: ProviderCall, run: AttemptRun): Promise<TargetRun> {
    const local = target.provider.answerLocally?.(call);
    // Counted as one attempt: the target answered, without a request.
    if (local !== undefined) {
      return Promise.resolve({ outcome: { response: { ...local, abort: () => undefined, discard: () => undefined } }, attempts: 1, decoded: true });
    }
    const parts = target.provider.split?.(call);
    return parts === undefined ? attemptTarget(target, call, run) : runParts(target, run, parts);
  }

  /** A target whose call goes in parts, each attempted as a call of its own; the answers merged. */
  async function runParts(target: AttemptTarget, run: AttemptRun, parts: readonly ProviderCall[]): Promise<TargetRun> {
    let attempts = 0;
    try {
      const response = await callInParts(parts, async (part) => {
        const result = await attemptTarget(target, part, run);
        attempts += result.attempts;
        if ("error" in result.outcome) throw new PartFailure(result.outcome.error);
        return decode(target, part, result.outcome.response);
      });
      return { outcome: { response }, attempts, decoded: true };
    } catch (error) {
      // A part's failure is the target's, for the plan to judge; anything else (the client left) is thrown.
      if (error instanceof PartFailure) return { outcome: { error: error.failure }, attempts, decoded: true };
      throw error;
    }
  }

  /**
   * A target attempted whole: its last attempt's outcome (not yet in OpenAI's wire).
   * Every strategy is about a failure (a rejected key, a status or error worth a retry):
   * an answer below 400 skips them, and the state they keep is made only when they
   * have a say (most requests end at their first attempt; npm run bench, the hot path).
   */
  async function attemptTarget(target: AttemptTarget, call: ProviderCall, run: AttemptRun): Promise<TargetRun> {
    const keyIndex = nextPoolPosition(target.provider.name, run.credentials);
    const outcome = await attempt(target, call, run, run.credentials, keyIndex);
    if ("response" in outcome && outcome.response.status < 400) return { outcome, attempts: 1, decoded: false };
    return retryTarget(target, call, run, outcome, { provider: target.provider.name, credentials: run.credentials, keyIndex, attempt: 0, refreshed: false });
  }

  /** The strategies' say on a target's attempts, from its first outcome on, and the attempts they ask for. */
  async function retryTarget(target: AttemptTarget, call: ProviderCall, run: AttemptRun, first: AttemptOutcome, state: AttemptState): Promise<TargetRun> {
    const context: StrategyContext = { caller: run.caller, retry: run.retry, remainingMs: () => run.remainingMs(), store };
    for (let outcome = first; ; outcome = await attempt(target, call, run, state.credentials, state.keyIndex)) {
      if ("response" in outcome && outcome.response.status < 400) return { outcome, attempts: state.attempt + 1, decoded: false };
      let step;
      for (const strategy of STRATEGIES) {
        step = await strategy(outcome, state, context);
        if (step !== undefined) break;
      }
      if (step === undefined) return { outcome, attempts: state.attempt + 1, decoded: false };
      if ("response" in outcome) outcome.response.discard();
      if (step.kind === "fail") return { outcome: { error: step.error }, attempts: state.attempt + 1, decoded: false };
      if (step.delayMs > 0) await sleep(step.delayMs, undefined, { signal: run.signal });
      state.attempt += 1;
      run.onRetry();
    }
  }

  /**
   * One attempt with the pool key at `keyIndex` of `credentials`. A failure to
   * get an answer from the provider (unreachable, too slow, not HTTP) becomes
   * an outcome for the strategies and the plan; anything else (the client
   * left, a misconfiguration) is thrown. (Not an async function: its caller's
   * frame is enough; npm run bench.)
   */
  function attempt(target: AttemptTarget, call: ProviderCall, run: AttemptRun, credentials: Credentials, keyIndex: number): Promise<AttemptOutcome> {
    const { provider } = target;
    const credential = credentialFor(run.caller, provider.name, credentials, keyIndex, provider.capabilities.keyRequired);
    const authorized = provider.authorize(provider.prepare(call), credential);
    // A header is set at once; only a signature (SigV4) is awaited (a promise less per request, npm run bench).
    if (authorized instanceof Promise) return authorized.then((prepared) => send(prepared, run).then(answered, unanswered));
    return send(authorized, run).then(answered, unanswered);
  }

  function send(prepared: UpstreamRequest, run: AttemptRun): Promise<UpstreamResponse> {
    return upstream.send({
      ...prepared,
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

/** How a target ended, and whether its answer is in OpenAI's wire already. */
interface TargetRun {
  readonly outcome: AttemptOutcome;
  readonly attempts: number;
  readonly decoded: boolean;
}

/** A part's failed outcome, carried out of {@link callInParts}. */
class PartFailure extends Error {
  readonly failure: unknown;
  constructor(failure: unknown) {
    super("a part of the call failed");
    this.failure = failure;
  }
}

/** An attempt's answer. */
function answered(response: UpstreamResponse): AttemptOutcome {
  return { response };
}

/** An attempt's failure: the provider's (an outcome), or anything else (thrown on). */
function unanswered(error: unknown): AttemptOutcome {
  if (error instanceof UpstreamUnavailableError || error instanceof UpstreamTimeoutError) return { error };
  throw error;
}

/**
 * The credential an attempt sends: the pool key at `keyIndex` (managed: the
 * key's own provider key when it has one, else the shared pool; none for a
 * provider that needs no key and has none), the caller's own, or none.
 */
function credentialFor(caller: Caller, provider: string, credentials: Credentials, keyIndex: number, keyRequired: boolean): ProviderCredential {
  if (caller.mode === "passthrough") return { kind: "passthrough", authorization: caller.authorization };
  if (caller.mode === "anonymous") return { kind: "none" };
  const own = caller.providerAccounts?.[provider];
  const shared = credentials.providers[provider];
  const apiKeys = own?.apiKeys ?? shared?.apiKeys;
  const apiKey = apiKeys === undefined || apiKeys.length === 0 ? undefined : apiKeys[keyIndex % apiKeys.length];
  if (apiKey === undefined) {
    if (!keyRequired) return { kind: "none" };
    throw new ConfigurationError(`The gateway has no API key for provider ${provider}.`);
  }
  // A key with its own provider key is its own account: the shared key's organization and project are not its.
  const account = own?.apiKeys === undefined ? shared : undefined;
  // Its own account's project first, then the project the key is bound to (`npm run keys -- … --project`), then the shared one.
  return { kind: "managed", apiKey, organization: own?.organization ?? account?.organization, project: own?.project ?? caller.project ?? account?.project };
}

function resultOf(outcome: AttemptOutcome): number | string {
  if ("response" in outcome) return outcome.response.status;
  const code = (outcome.error as { code?: unknown }).code;
  return typeof code === "string" ? code : "upstream_error";
}

/** The response in OpenAI's wire, for providers that speak another. */
function decode(target: AttemptTarget, call: ProviderCall, response: UpstreamResponse): UpstreamResponse {
  const decoded = target.provider.decode?.(response, call);
  return decoded === undefined ? response : { ...decoded, abort: response.abort, discard: response.discard };
}
