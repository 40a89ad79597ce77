/**
 * How long a request may still take: the gateway's own total bound, or the
 * runtime's deadline (Lambda's remaining time), whichever comes first.
 */
import type { GatewayConfig } from "../config/config.ts";
import type { GatewayRequest } from "../http/wire.ts";

/** Milliseconds left for a request that started at `startedAt` (on the `now` clock); at least 1. */
export function timeLeftMs(config: GatewayConfig, request: GatewayRequest, startedAt: number, now: () => number): number {
  const byConfig = config.timeouts.totalMs - (now() - startedAt);
  const byDeadline = request.deadline === undefined ? byConfig : request.deadline - Date.now();
  return Math.max(1, Math.min(byConfig, byDeadline));
}
