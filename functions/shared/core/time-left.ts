/**
 * How long a request may still take: the gateway's own total bound, or the
 * runtime's deadline (Lambda's remaining time), whichever comes first.
 */
import type { GatewayConfig } from "../config/config.ts";
import type { GatewayRequest } from "../http/wire.ts";

/**
 * Milliseconds left, at least 1, at `at` for a request that started at `startedAt` (both on the
 * core's clock: a caller that has just read it passes that reading rather than reading it again).
 */
export function timeLeftMs(config: GatewayConfig, request: GatewayRequest, startedAt: number, at: number): number {
  const byConfig = config.timeouts.totalMs - (at - startedAt);
  const byDeadline = request.deadline === undefined ? byConfig : request.deadline - Date.now();
  return Math.max(1, Math.min(byConfig, byDeadline));
}
