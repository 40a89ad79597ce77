/**
 * The gateway's estimate of a request's usage, for when an answer is cut
 * short before the provider reported it: the client left (a caller must not
 * dodge its token limits by closing the connection at `finish_reason`), the
 * provider broke off, or a time bound hit. The provider has done the work.
 *
 * Deliberately on the high side, and documented in the README:
 * - prompt tokens: the request body's bytes / 4 (JSON punctuation and field
 *   names count too, so this over-counts the prompt);
 * - completion tokens: one per stream data line read (OpenAI sends about one
 *   token per chunk), or the relayed bytes / 4 for a body that is not a stream.
 */
import type { TokenUsage } from "./usage-readers.ts";

/** What the gateway saw of an answer it could not read usage from. */
export interface UsageEvidence {
  readonly requestBytes: number;
  /** Data events relayed, for an event stream. */
  readonly dataEvents?: number;
  /** Body bytes relayed. */
  readonly relayedBytes: number;
}

/** Bytes per token assumed by the estimate. */
export const BYTES_PER_TOKEN = 4;

/** Estimates usage from what was sent and relayed. */
export function estimateUsage(evidence: UsageEvidence): TokenUsage {
  const promptTokens = Math.ceil(evidence.requestBytes / BYTES_PER_TOKEN);
  const completionTokens = evidence.dataEvents ?? Math.ceil(evidence.relayedBytes / BYTES_PER_TOKEN);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedPromptTokens: 0, reasoningTokens: 0 };
}
