/**
 * The endpoints that never stream: POST /v1/embeddings (deterministic unit
 * vectors, float or base64), POST /v1/moderations (flags violent words), and
 * GET /v1/models and /v1/models/{id}.
 */
import { createHash } from "node:crypto";
import { approxTokens, contentText, hex, modelOf } from "./common.ts";
import { badRequest, missingParam, modelNotFound, sendError } from "./errors.ts";
import type { Ctx } from "./types.ts";
import { sendJson } from "./wire.ts";

// ---- embeddings ----

/** Deterministic unit vector of float32-exact values derived from the text. */
function embeddingVector(text: string, dims: number): number[] {
  const seed = createHash("sha256").update(text).digest();
  let s0 = seed.readUInt32LE(0) || 1;
  let s1 = seed.readUInt32LE(4) || 2;
  const raw: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // xorshift64-ish on two 32-bit halves
    let t = s0 ^ (s0 << 11);
    s0 = s1;
    s1 = (s1 ^ (s1 >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    t = s1 / 0x100000000; // [0,1)
    const v = t * 2 - 1;
    raw.push(v);
    norm += v * v;
  }
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  return raw.map((v) => Math.fround(v * k));
}

function float32Base64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i] ?? 0, i * 4);
  return buf.toString("base64");
}

export function handleEmbeddings(ctx: Ctx, body: Record<string, unknown>): void {
  const input = body["input"];
  if (input === undefined) return missingParam(ctx, "input");
  const fmt = body["encoding_format"] ?? "float";
  if (fmt !== "float" && fmt !== "base64") {
    return sendError(ctx, 400, {
      message: `Invalid value for 'encoding_format': '${String(fmt)}'. Supported values are: 'float' and 'base64'.`,
      type: "invalid_request_error",
      param: "encoding_format",
      code: "invalid_value",
    });
  }
  const model = modelOf(body, "text-embedding-3-small");
  const dims =
    typeof body["dimensions"] === "number" && body["dimensions"] > 0
      ? Math.floor(body["dimensions"])
      : model.includes("3-large")
        ? 3072
        : 1536;
  let texts: string[];
  if (typeof input === "string") texts = [input];
  else if (Array.isArray(input) && input.length > 0 && typeof input[0] === "number") texts = [input.join(",")];
  else if (Array.isArray(input)) texts = input.map((x: unknown) => (Array.isArray(x) ? x.join(",") : String(x)));
  else texts = [String(input)];
  if (texts.length === 0 || texts.some((t) => t === "")) {
    return badRequest(ctx, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
  }
  const tokens = texts.reduce((n, t) => n + approxTokens(t), 0);
  sendJson(ctx, 200, {
    object: "list",
    data: texts.map((t, index) => {
      const v = embeddingVector(t, dims);
      return { object: "embedding", index, embedding: fmt === "base64" ? float32Base64(v) : v };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---- moderations ----

const MOD_CATEGORIES = [
  "harassment",
  "harassment/threatening",
  "hate",
  "hate/threatening",
  "illicit",
  "illicit/violent",
  "self-harm",
  "self-harm/instructions",
  "self-harm/intent",
  "sexual",
  "sexual/minors",
  "violence",
  "violence/graphic",
] as const;

function moderationResult(text: string): Record<string, unknown> {
  const violent = /\b(kill|murder|attack)\b/i.test(text);
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const c of MOD_CATEGORIES) {
    const hit = violent && c === "violence";
    categories[c] = hit;
    scores[c] = hit ? 0.91 : 0.0000123;
    applied[c] = ["text"];
  }
  return { flagged: violent, categories, category_scores: scores, category_applied_input_types: applied };
}

export function handleModerations(ctx: Ctx, body: Record<string, unknown>): void {
  const input = body["input"];
  if (input === undefined) return missingParam(ctx, "input");
  let results: Record<string, unknown>[];
  if (typeof input === "string") results = [moderationResult(input)];
  else if (Array.isArray(input) && input.every((x) => typeof x === "string")) {
    results = input.map((x) => moderationResult(String(x)));
  } else if (Array.isArray(input)) results = [moderationResult(contentText(input))];
  else results = [moderationResult(String(input))];
  sendJson(ctx, 200, {
    id: `modr-${hex(16)}`,
    model: modelOf(body, "omni-moderation-latest"),
    results,
  });
}

// ---- models ----

function modelObject(id: string, organization: string): Record<string, unknown> {
  // Stable pseudo creation date per id.
  const h = createHash("sha256").update(id).digest().readUInt32LE(0);
  return { id, object: "model", created: 1_680_000_000 + (h % 60_000_000), owned_by: id.startsWith("ft:") ? organization : "system" };
}

/** GET /v1/models. */
export function listModels(ctx: Ctx): void {
  const { models, organization } = ctx.state;
  sendJson(ctx, 200, { object: "list", data: models.map((id) => modelObject(id, organization)) });
}

/** GET /v1/models/{id}: the model, or 404 model_not_found. */
export function retrieveModel(ctx: Ctx, id: string): void {
  if (!ctx.state.models.includes(id)) return modelNotFound(ctx, id);
  sendJson(ctx, 200, modelObject(id, ctx.state.organization));
}
