/**
 * A time bound on every call the gateway makes to an AWS dependency (Secrets
 * Manager, DynamoDB), so that a service that accepts the connection and never
 * answers cannot hold a request, or every request queued behind it, forever.
 *
 * The AWS SDK's own `requestTimeout` does not do this by itself. In
 * `@smithy/node-http-handler` 4.x (`dist-es/set-request-timeout.js`) the timer
 * only logs "[WARN] a request has exceeded the configured … ms requestTimeout"
 * unless the handler is created with `throwOnRequestTimeout: true`; and even
 * then it bounds one attempt from request to response headers, not the
 * retries, the backoff, the credential and endpoint resolution or the body
 * read around it. So each call gets three layers:
 *
 * 1. clients the gateway creates set `throwOnRequestTimeout` with a
 *    `requestTimeout` of half the deadline, so a hung first attempt is
 *    retried once in time ({@link boundedClientOptions});
 * 2. the call's abort signal fires at the deadline: the SDK destroys the
 *    socket and stops retrying (`abortSignal` of `client.send`);
 * 3. the returned promise rejects at the deadline whatever the SDK does, the
 *    last resort for a wait the signal does not reach (e.g. a credential
 *    provider that never answers).
 */

/** A dependency did not answer within its deadline. The message names the operation, never its data. */
export class DependencyTimeoutError extends Error {
  override name = "DependencyTimeoutError";
  /** The bound that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} did not answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs `call` with a signal that aborts after `timeoutMs`, and settles by then
 * even if `call` ignores the signal.
 * @example
 * const output = await withDeadline("DynamoDB GetItem", 1_000, (abortSignal) => client.send(command, { abortSignal }));
 * @throws {DependencyTimeoutError} when the deadline passes first
 */
export async function withDeadline<T>(operation: string, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DependencyTimeoutError(operation, timeoutMs);
      // Rejected before the abort, so the caller gets this error rather than the SDK's AbortError.
      reject(error);
      controller.abort(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Options for an AWS SDK client the gateway creates itself, whose calls are
 * then bounded by {@link withDeadline} with `timeoutMs`: two attempts of half
 * the deadline each, and a request timeout that ends the attempt instead of
 * only logging a warning.
 */
export function boundedClientOptions(timeoutMs: number) {
  const attemptMs = Math.max(1, Math.floor(timeoutMs / 2));
  return {
    maxAttempts: 2,
    requestHandler: { connectionTimeout: attemptMs, requestTimeout: attemptMs, throwOnRequestTimeout: true },
  };
}
