/**
 * The Lambda adapter: a middy streaming handler behind a Function URL
 * (InvokeMode RESPONSE_STREAM) over the shared gateway core.
 *
 * middy's StreamifyResponse mode writes status and headers through
 * `awslambda.HttpResponseStream.from` (flushing them at once, so an empty body
 * still delivers them) and pipes the body chunk by chunk.
 */
import { Readable } from "node:stream";
import middy from "@middy/core";
import { executionModeStreamifyResponse } from "@middy/core/StreamifyResponse";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { ConfigError, loadConfig } from "../shared/config.ts";
import { createCredentialStore } from "../shared/credentials/create-store.ts";
import { ConfigurationError, errorResponse } from "../shared/errors.ts";
import { createGateway, type Gateway } from "../shared/gateway.ts";
import { toGatewayRequest } from "./function-url-event.ts";

/** What middy's streaming mode writes: the prelude fields and a readable body. */
export interface StreamingResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

/** Time kept back from the function timeout so the gateway ends a stream itself, with an error event. */
const DEADLINE_MARGIN_MS = 1_000;

/** The core, built once per execution environment; a configuration error is answered on every request instead. */
function createGatewayOnce(): Gateway | ConfigError {
  try {
    const config = loadConfig();
    return createGateway({
      config,
      credentials: createCredentialStore(config.credentials, (error) =>
        console.error(JSON.stringify({ level: "ERROR", message: "secret fetch failed", cause: error.message })),
      ),
    });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

const gateway = createGatewayOnce();

/** Handles one Function URL invocation. */
export async function handleFunctionUrl(event: LambdaFunctionURLEvent, context: Context): Promise<StreamingResult> {
  if (gateway instanceof ConfigError) {
    const { status, headers, body } = errorResponse(new ConfigurationError(`The gateway is misconfigured: ${gateway.message}`));
    return { statusCode: status, headers, body: Readable.from([Buffer.from(body)]) };
  }
  // Lambda does not report a client disconnect to a streaming function: the deadline bounds the call instead.
  const controller = new AbortController();
  const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
  const response = await gateway.handle(toGatewayRequest(event, controller.signal, deadline));
  const { "content-length": _contentLength, ...headers } = response.headers;
  return { statusCode: response.status, headers, body: Readable.from(response.body, { objectMode: false }) };
}

/** The function's entry point (`handler.handler`). */
export const handler = middy<LambdaFunctionURLEvent, StreamingResult>({
  executionMode: executionModeStreamifyResponse,
}).handler(handleFunctionUrl);
