/**
 * What a request is expected to use, reserved against its key's token and
 * budget windows before the provider is called (access/key-limits.ts), and
 * replaced by the real usage when the answer ends.
 *
 * - input: the body's bytes / 4 (JSON punctuation counts too, so this is on
 *   the high side);
 * - output, for endpoints that generate: the request's own cap
 *   (`max_completion_tokens`, `max_tokens` or `max_output_tokens`) times `n`,
 *   else {@link DEFAULT_OUTPUT_RESERVATION} tokens times `n`.
 *
 * With a cap in the request the estimate bounds the real usage, and a burst of
 * requests ends at most one request past a limit; without one, an answer
 * longer than the default can take a window past it by the difference.
 */
import type { EndpointDefinition } from "../endpoints/catalogue.ts";
import type { JsonBody } from "../http/request-body.ts";
import { BYTES_PER_TOKEN } from "../usage/estimate.ts";
import type { TokenUsage } from "../usage/usage-readers.ts";

/** Output tokens reserved for a request that does not cap its answer. */
export const DEFAULT_OUTPUT_RESERVATION = 1_024;

const OUTPUT_CAPS = ["max_completion_tokens", "max_tokens", "max_output_tokens"] as const;

/** The usage to reserve for a request to `endpoint`. */
export function estimateReservation(endpoint: EndpointDefinition, json: JsonBody | undefined, requestBytes: number): TokenUsage {
  if (endpoint.usage === "none") return usage(0, 0);
  const promptTokens = Math.ceil(requestBytes / BYTES_PER_TOKEN);
  if (endpoint.usage === "embedding") return usage(promptTokens, 0);
  const cap = OUTPUT_CAPS.map((name) => json?.[name]).find((value) => isCount(value, 1_000_000));
  const choices = isCount(json?.n, 128) ? (json?.n as number) : 1;
  return usage(promptTokens, ((cap as number | undefined) ?? DEFAULT_OUTPUT_RESERVATION) * choices);
}

function isCount(value: unknown, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max;
}

function usage(promptTokens: number, completionTokens: number): TokenUsage {
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedPromptTokens: 0, reasoningTokens: 0 };
}
