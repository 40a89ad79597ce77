/**
 * Calling the provider for a request: in-process for a local provider, else
 * through the attempt plan, with the body adapted to each target.
 */
import type { Caller } from "../access/authenticate.ts";
import type { Credentials } from "../access/credentials.ts";
import type { GatewayConfig, RetryConfig } from "../config/config.ts";
import { modelOfPath, type EndpointMatch } from "../endpoints/match.ts";
import { selectRequestHeaders } from "../http/headers.ts";
import type { RequestBody } from "../http/request-body.ts";
import type { GatewayRequest } from "../http/wire.ts";
import type { Provider, ProviderCall } from "../providers/types.ts";
import { singleProviderPlan } from "../routing/attempt-plan.ts";
import type { AttemptRun, AttemptRunner } from "../routing/run-attempts.ts";
import type { UpstreamResponse } from "../upstream/client.ts";
import { requestStreamUsage } from "../usage/include-usage.ts";
import { callInParts } from "./call-in-parts.ts";
import type { RequestRecorder } from "./request-recorder.ts";
import { timeLeftMs } from "./time-left.ts";

/** The provider's answer, and whether the gateway asked it for stream usage the client did not. */
export interface ProviderAnswer {
  readonly response: UpstreamResponse;
  readonly usageInjected: boolean;
}

/** What one call needs. */
export interface ProviderCallInput {
  readonly recorder: RequestRecorder;
  readonly request: GatewayRequest;
  readonly match: EndpointMatch;
  readonly provider: Provider;
  readonly body: RequestBody;
  readonly caller: Caller;
  readonly credentials: Credentials;
  readonly retry: RetryConfig;
}

/** Calls a request's provider. */
export type ProviderCaller = (input: ProviderCallInput) => Promise<ProviderAnswer>;

/** Creates the caller over an attempt runner. */
export function createProviderCaller(dependencies: { config: GatewayConfig; now: () => number; runAttempts: AttemptRunner }): ProviderCaller {
  const { config, now, runAttempts } = dependencies;

  return async ({ recorder, request, match, provider, body, caller, credentials, retry }) => {
    recorder.upstreamStarted(now());
    const json = body.kind === "json" ? body.json : undefined;
    if (provider.kind === "local") {
      const controller = new AbortController();
      request.signal.addEventListener("abort", () => controller.abort(request.signal.reason), { once: true });
      const answer = provider.answer({ endpoint: match, body: json, query: request.query, signal: controller.signal });
      const response = { ...answer, abort: (reason: Error) => controller.abort(reason), discard: () => controller.abort() };
      return { response, usageInjected: false };
    }
    const raw = body.kind === "none" ? undefined : body.raw;
    const withUsage = json === undefined ? undefined : requestStreamUsage(match.endpoint, json, raw as Uint8Array);
    const base: Omit<ProviderCall, "body"> = {
      endpoint: match,
      query: request.query,
      // A tenant must not steer the operator's key to another organization or project, unless its key allows it.
      headers: selectRequestHeaders(request.headers, { accountHeaders: caller.mode !== "managed" || caller.allowAccountHeaders === true }),
      model: typeof json?.model === "string" ? json.model : modelOfPath(match),
    };
    const injects = (candidate: Provider) => withUsage?.injected === true && candidate.kind === "http" && candidate.capabilities.streamUsageOption;
    // A provider may answer from its configuration (Bedrock's model list), or take the call in parts.
    const asSent: ProviderCall = { ...base, body: raw };
    const local = provider.answerLocally?.(asSent);
    if (local !== undefined) return { response: { ...local, abort: () => undefined, discard: () => undefined }, usageInjected: false };
    const run = (callFor: AttemptRun["callFor"]) =>
      runAttempts({
        plan: singleProviderPlan(provider),
        caller,
        credentials,
        retry,
        signal: request.signal,
        callFor,
        remainingMs: () => timeLeftMs(config, request, recorder.startedAt, now),
        onRetry: () => recorder.retried(),
      });
    const parts = provider.split?.(asSent);
    const result =
      parts === undefined
        ? await run((target) => ({ ...base, body: injects(target.provider) ? withUsage?.body : raw }))
        : await callInParts(parts, (part) => run(() => part));
    recorder.servedBy(result.target.provider.name);
    return { response: result.response, usageInjected: injects(result.target.provider) };
  };
}
