/**
 * Turns a Lambda Function URL event (payload format 2.0) into a gateway request.
 */
import type { LambdaFunctionURLEvent } from "aws-lambda";
import type { GatewayRequest } from "../shared/http/wire.ts";

/**
 * Maps the event: `rawPath`, `rawQueryString`, lower-cased `headers`,
 * `requestContext.http.method`, and `body` decoded from base64 when
 * `isBase64Encoded` says so.
 * @param deadline wall-clock time (ms) by which the response must be complete
 */
export function toGatewayRequest(event: LambdaFunctionURLEvent, signal: AbortSignal, deadline?: number): GatewayRequest {
  const body =
    event.body === undefined || event.body === ""
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.rawQueryString ?? "",
    headers: event.headers ?? {},
    body,
    signal,
    deadline,
  };
}
