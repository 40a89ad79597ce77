/**
 * Lets every streamed response of a worker thread have its own connection to
 * the Runtime API, on Lambda Managed Instances.
 *
 * There (`AWS_LAMBDA_MAX_CONCURRENCY` set), the Node.js runtime client runs
 * several invocations at once in each worker thread, but it posts their
 * streamed responses through one `http.Agent` per thread created with
 * `maxSockets: 1` (aws-lambda-ric 4.0.2, `RAPIDClient`'s constructor). The
 * response of an invocation that arrives while another one of the same thread
 * is streaming waits for that stream's socket: a short answer behind a long
 * one gets its first byte only when the long one ends
 * (test/lambda/managed-instances.test.ts measures both). The agent is not
 * reachable from the handler, so the first request the runtime makes to the
 * Runtime API is caught on Node's `http.client.request.created` diagnostics
 * channel, and its agent's socket limit is lifted; requests to the Runtime API
 * are then each sent at once, as they are by different worker threads.
 *
 * A runtime that does not use such an agent is left as it is.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Agent, ClientRequest } from "node:http";

const CHANNEL = "http.client.request.created";

/** Installs the fix in this worker thread when invocations run concurrently; returns whether it did. */
export function allowConcurrentRuntimeResponses(env: NodeJS.ProcessEnv = process.env): boolean {
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  if (env.AWS_LAMBDA_MAX_CONCURRENCY === undefined || runtimeApi === undefined) return false;
  const onRequest = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    if (request === undefined || request.getHeader("host") !== runtimeApi) return;
    const agent = (request as ClientRequest & { agent?: Agent }).agent;
    if (agent !== undefined && agent.maxSockets === 1) agent.maxSockets = Number.POSITIVE_INFINITY;
    // One agent per worker thread: once seen, the channel is no longer needed.
    queueMicrotask(() => unsubscribe(CHANNEL, onRequest));
  };
  subscribe(CHANNEL, onRequest);
  return true;
}
