/**
 * What the fake Anthropic and Bedrock servers answer when a test queued
 * nothing: a scripted tool-calling conversation. With tools and no tool
 * results yet, the model says a sentence and calls the first tool twice
 * (Paris, then Oslo); once the results are in, it answers with them; without
 * tools it echoes the last user text.
 */

/** What the conversation looks like, read from a request in either wire. */
export interface ConversationView {
  readonly toolNames: readonly string[];
  /** The tool results of the last user turn, by tool call id. */
  readonly toolResults: ReadonlyMap<string, string>;
  readonly lastUserText: string;
}

/** A neutral answer block. */
export type ScriptedBlock = { type: "text"; text: string } | { type: "tool"; id: string; name: string; input: Record<string, unknown> };

/** The ids the fakes give their tool calls. */
export const TOOL_CALL_IDS = ["toolu_01Paris", "toolu_02Oslo"] as const;

/** The scripted answer for a conversation, and its stop reason. */
export function scriptedAnswer(view: ConversationView): { blocks: ScriptedBlock[]; stop: "end_turn" | "tool_use" } {
  if (view.toolResults.size > 0) {
    const results = [...view.toolResults.values()].join(" and ");
    return { blocks: [{ type: "text", text: `The weather is ${results}.` }], stop: "end_turn" };
  }
  const tool = view.toolNames[0];
  if (tool !== undefined) {
    return {
      blocks: [
        { type: "text", text: "Let me check both cities." },
        { type: "tool", id: TOOL_CALL_IDS[0], name: tool, input: { city: "Paris" } },
        { type: "tool", id: TOOL_CALL_IDS[1], name: tool, input: { city: "Oslo" } },
      ],
      stop: "tool_use",
    };
  }
  return { blocks: [{ type: "text", text: `Echo: ${view.lastUserText}` }], stop: "end_turn" };
}
