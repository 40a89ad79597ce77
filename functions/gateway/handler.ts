/**
 * The Lambda adapter: a middy streaming handler behind a Function URL
 * (InvokeMode RESPONSE_STREAM) over the shared gateway core.
 *
 * middy's StreamifyResponse mode writes status and headers through
 * `awslambda.HttpResponseStream.from` (flushing them at once, so an empty body
 * still delivers them) and pipes the body chunk by chunk. middy runs `after`
 * middlewares before the body streams, so the request's metrics and log line
 * are published by the body itself, as it ends, inside the invocation.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import { executionModeStreamifyResponse } from "@middy/core/StreamifyResponse";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { ConfigError, loadConfig } from "../shared/config/config.ts";
import { createCredentialStore } from "../shared/access/create-credential-store.ts";
import { ConfigurationError, errorResponse } from "../shared/http/errors.ts";
import { createGateway, type Gateway } from "../shared/core/gateway.ts";
import type { GatewayResponse } from "../shared/http/wire.ts";
import { SERVICE_NAME } from "../shared/observability/metric-catalogue.ts";
import { createRequestObserver, type RequestObserver } from "../shared/observability/observer.ts";
import { toGatewayRequest } from "./function-url-event.ts";
import { allowConcurrentRuntimeResponses } from "./runtime-response-sockets.ts";

/** What middy's streaming mode writes: the prelude fields and a readable body. */
export interface StreamingResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

/** Time kept back from the function timeout so the gateway ends a stream itself, with an error event. */
const DEADLINE_MARGIN_MS = 1_000;

const logger = new Logger({ serviceName: SERVICE_NAME });

interface Environment {
  readonly gateway: Gateway;
  readonly observe: RequestObserver;
}

/** The core and its instrumentation, built once per execution environment; a configuration error is answered on every request instead. */
function createEnvironment(): Environment | ConfigError {
  try {
    const config = loadConfig();
    const credentials = createCredentialStore(config.credentials, (error) =>
      logger.error("secret fetch failed", { error_code: error.code, cause: error.message }),
    );
    const gateway = createGateway({
      config,
      credentials,
      onStoreError: (error, operation) => logger.warn("store operation failed", { operation, cause: error instanceof Error ? error.name : String(error) }),
    });
    return { gateway, observe: createRequestObserver(config.observability, logger) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error("gateway misconfigured", { cause: error.message });
    return error;
  }
}

const environment = createEnvironment();
// Lambda Managed Instances: one worker thread's streams must not wait on each other (see the module).
allowConcurrentRuntimeResponses();

/** Handles one Function URL invocation. */
export async function handleFunctionUrl(
  event: LambdaFunctionURLEvent,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<StreamingResult> {
  if (environment instanceof ConfigError) {
    const error = new ConfigurationError(`The gateway is misconfigured: setting ${environment.variable} is invalid (the function's log says why).`);
    const { status, headers, body } = errorResponse(error, randomUUID());
    return { statusCode: status, headers, body: Readable.from([body]) };
  }
  // Lambda does not report a client disconnect to a streaming function: the deadline bounds the call
  // instead. middy's signal fires when the handler itself is about to time out before answering.
  const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
  const response = await environment.gateway.handle(toGatewayRequest(event, signal, deadline));
  const { "content-length": _streamedWithoutLength, ...headers } = response.headers;
  return {
    statusCode: response.status,
    headers,
    body: Readable.from(bodyThenObserve(response, environment.observe), { objectMode: false }),
  };
}

/** Relays the body, then records the request before the stream (and so the invocation) ends. */
async function* bodyThenObserve(response: GatewayResponse, observe: RequestObserver): AsyncGenerator<Uint8Array> {
  try {
    yield* response.body;
  } finally {
    observe(await response.completed);
  }
}

/** The function's entry point (`index.handler` in the bundle). */
export const handler = middy<LambdaFunctionURLEvent, StreamingResult>({
  executionMode: executionModeStreamifyResponse,
})
  .use(injectLambdaContext(logger))
  .handler(handleFunctionUrl);
