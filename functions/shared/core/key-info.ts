/**
 * GET /v1/gateway/key: a gateway key asks about itself. The answer is the
 * caller's own key only (there is no way to name another): its id and
 * prefix, expiry, permissions, and each limit and budget with what has been
 * used in the current window and when that window resets.
 *
 * ```json
 * {"object": "gateway.key", "id": "team-a", "prefix": "gw-AbCdEfG", "expires_at": null, "project": null,
 *  "permissions": {"models": ["gpt-4o*"], "providers": null, "endpoints": null},
 *  "limits": {"requests_per_minute": {"limit": 60, "used": 3, "remaining": 57, "resets_at": "2026-11-29T10:01:00.000Z", "resets_in_seconds": 42}},
 *  "budgets": {"usd_per_day": {"limit": 5, "used": 0.0123, "remaining": 4.9877, "resets_at": "2026-11-30T00:00:00.000Z", "resets_in_seconds": 50400}}}
 * ```
 * Asking counts against no limit and reaches no provider.
 */
import type { Caller } from "../access/authenticate.ts";
import { MICRO_USD, readKeyUsage, type WindowUsage } from "../access/key-limits.ts";
import { AuthenticationError, DependencyUnavailableError } from "../http/errors.ts";
import { stampGatewayHeaders } from "../http/headers.ts";
import type { GatewayResponse } from "../http/wire.ts";
import type { GatewayStore } from "../stores/types.ts";
import type { RequestRecorder } from "./request-recorder.ts";

/** One window of a limit or budget, as the answer shows it. */
interface WindowInfo {
  limit: number;
  used: number;
  remaining: number;
  resets_at: string;
  resets_in_seconds: number;
}

/**
 * Answers GET /v1/gateway/key for the caller.
 * @throws {AuthenticationError} for a caller without a gateway key (passthrough)
 * @throws {DependencyUnavailableError} when the usage counters cannot be read
 */
export async function answerKeyInfo(
  recorder: RequestRecorder,
  caller: Caller,
  store: GatewayStore,
  now: () => number,
  onStoreError: (error: unknown, operation: string) => void,
): Promise<GatewayResponse> {
  if (caller.mode !== "managed") {
    throw new AuthenticationError("GET /v1/gateway/key describes a gateway key; send one as 'Authorization: Bearer <gateway key>'.");
  }
  let usage: WindowUsage[] = [];
  const time = Date.now();
  if (caller.limits !== undefined) {
    try {
      usage = await readKeyUsage(store, caller.keyId, caller.limits, time);
    } catch (error) {
      onStoreError(error, "quota read");
      throw new DependencyUnavailableError("The gateway cannot read its usage counters right now; try again.", {
        code: "usage_unavailable",
        headers: { "retry-after": "1" },
      });
    }
  }
  const limits: Record<string, WindowInfo> = {};
  const budgets: Record<string, WindowInfo> = {};
  for (const { window, used } of usage) {
    const scale = window.measure === "usd" ? MICRO_USD : 1;
    const info: WindowInfo = {
      limit: window.limit / scale,
      used: used / scale,
      remaining: Math.max(0, window.limit - used) / scale,
      resets_at: new Date(window.endsAt).toISOString(),
      resets_in_seconds: Math.max(1, Math.ceil((window.endsAt - time) / 1000)),
    };
    (window.measure === "usd" ? budgets : limits)[window.name] = info;
  }
  const body = Buffer.from(
    JSON.stringify({
      object: "gateway.key",
      id: caller.keyId,
      prefix: caller.prefix ?? null,
      expires_at: caller.expiresAt ?? null,
      project: caller.project ?? null,
      permissions: {
        models: caller.permissions?.models ?? null,
        providers: caller.permissions?.providers ?? null,
        endpoints: caller.permissions?.endpoints ?? null,
      },
      limits,
      budgets,
    }),
  );
  const headers = stampGatewayHeaders(
    { "content-type": "application/json", "content-length": String(body.byteLength), "cache-control": "no-store" },
    recorder.requestId,
    0,
  );
  const endedAt = now();
  const summary = recorder.summary({ status: 200, outcome: "ok", firstByteAt: endedAt, endedAt });
  return { status: 200, headers, body: [body], completed: Promise.resolve(summary) };
}
