/**
 * One request's run through its attempt plan (routing/run-attempts.ts), as
 * the core hands it to the attempt runner: the call each target receives,
 * its time left, and its recorder told of retries and of each target's end.
 */
import type { Caller } from "../access/authenticate.ts";
import type { Credentials } from "../access/credentials.ts";
import type { GatewayConfig, RetryConfig } from "../config/config.ts";
import type { JsonBody, RequestBody } from "../http/request-body.ts";
import type { GatewayRequest } from "../http/wire.ts";
import type { EndpointMatch } from "../endpoints/match.ts";
import type { ProviderCall } from "../providers/types.ts";
import type { AttemptPlan, AttemptTarget } from "../routing/attempt-plan.ts";
import { withModel } from "../routing/replace-model.ts";
import type { AttemptRun, TargetReport } from "../routing/run-attempts.ts";
import { requestStreamUsage } from "../usage/include-usage.ts";
import type { RequestRecorder } from "./request-recorder.ts";
import { timeLeftMs } from "./time-left.ts";

/** A target's call, and whether the gateway asked its provider for stream usage the client did not. */
export interface TargetCall {
  readonly call: ProviderCall;
  readonly usageInjected: boolean;
}

/** What a run is made of: the request's parts its calls and its bookkeeping need (the provider call's input has them all). */
export interface ProviderRunInput {
  readonly recorder: RequestRecorder;
  readonly request: GatewayRequest;
  readonly match: EndpointMatch;
  readonly body: RequestBody;
  readonly caller: Caller;
  readonly credentials: Credentials;
  readonly retry: RetryConfig;
}

/**
 * The run of one request. Each target's call is made once, on first use: its
 * body (the target's model, the stream usage option) is the same for every
 * attempt. A class rather than an object of closures, and the first target's
 * call kept in fields rather than a map: every request to a provider makes
 * one run, and most have one target (hot path, npm run bench).
 */
export class ProviderRun implements AttemptRun {
  readonly plan: AttemptPlan;
  readonly caller: Caller;
  readonly credentials: Credentials;
  readonly retry: RetryConfig;
  readonly signal: AbortSignal;
  readonly #input: ProviderRunInput;
  readonly #config: GatewayConfig;
  readonly #now: () => number;
  /** The request's JSON body, parsed. */
  readonly #json: JsonBody | undefined;
  readonly #base: Omit<ProviderCall, "body">;
  #firstTarget: AttemptTarget | undefined;
  #firstCall: TargetCall | undefined;
  #otherCalls: Map<AttemptTarget, TargetCall> | undefined;

  constructor(input: ProviderRunInput, plan: AttemptPlan, base: Omit<ProviderCall, "body">, config: GatewayConfig, now: () => number) {
    this.plan = plan;
    this.caller = input.caller;
    this.credentials = input.credentials;
    this.retry = input.retry;
    this.signal = input.request.signal;
    this.#input = input;
    this.#config = config;
    this.#now = now;
    this.#json = input.body.kind === "json" ? input.body.json : undefined;
    this.#base = base;
  }

  callFor(target: AttemptTarget): ProviderCall {
    return this.targetCall(target).call;
  }

  /** The call `target` receives, made on first use. */
  targetCall(target: AttemptTarget): TargetCall {
    if (target === this.#firstTarget) return this.#firstCall as TargetCall;
    let made = this.#otherCalls?.get(target);
    if (made !== undefined) return made;
    made = this.#make(target);
    if (this.#firstTarget === undefined) {
      this.#firstTarget = target;
      this.#firstCall = made;
    } else {
      (this.#otherCalls ??= new Map()).set(target, made);
    }
    return made;
  }

  remainingMs(): number {
    const { recorder, request } = this.#input;
    return timeLeftMs(this.#config, request, recorder.startedAt, this.#now());
  }

  onRetry(): void {
    this.#input.recorder.retried();
  }

  onTargetEnd(report: TargetReport): void {
    this.#input.recorder.targetEnded(report.target.provider.name, this.callFor(report.target).model, report);
  }

  #make(target: AttemptTarget): TargetCall {
    const { body, match } = this.#input;
    const json = this.#json;
    const raw = body.kind === "none" ? undefined : body.raw;
    const model = json !== undefined && target.model !== undefined ? target.model : undefined;
    let targetBody = model === undefined || raw === undefined ? raw : withModel(raw, model);
    let usageInjected = false;
    if (json !== undefined && targetBody !== undefined && target.provider.capabilities.streamUsageOption) {
      const withUsage = requestStreamUsage(match.endpoint, json, targetBody);
      targetBody = withUsage.body;
      usageInjected = withUsage.injected;
    }
    return { call: { ...this.#base, model: model ?? this.#base.model, body: targetBody }, usageInjected };
  }
}
