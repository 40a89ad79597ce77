/**
 * Answering one request: authentication first (like the real API), then a
 * queued behaviour if one applies, else the endpoint's default answer after
 * OpenAI's own request checks.
 */
import { playBehaviour, takeBehaviour } from "./behaviours.ts";
import { chatAnswer, chatStreamPlan, refuseChatRequest, sendChatCompletion } from "./chat.ts";
import { isObject, splitInto } from "./common.ts";
import { completionAnswer, completionStreamPlan, sendCompletion } from "./completions.ts";
import { handleEmbeddings, handleModerations, listModels, retrieveModel } from "./embeddings-moderations-models.ts";
import { badRequest, invalidUrl, missingParam, modelNotFound, sendError, unauthorized } from "./errors.ts";
import { responsesAnswer, responsesStreamPlan, sendResponse } from "./responses.ts";
import { routeStoredObjects } from "./routes.ts";
import { refuseResponseReferences, rememberStreamedChatCompletion, rememberStreamedResponse } from "./stored-responses.ts";
import type { Ctx, Endpoint, StreamPlan, StreamShape } from "./types.ts";
import { emitStream, withLineEnd } from "./wire.ts";

const STREAMABLE: ReadonlySet<Endpoint> = new Set<Endpoint>(["chat", "completions", "responses"]);

function classify(method: string, pathname: string): { endpoint: Endpoint; modelId?: string } | undefined {
  if (method === "POST") {
    switch (pathname) {
      case "/v1/chat/completions":
        return { endpoint: "chat" };
      case "/v1/completions":
        return { endpoint: "completions" };
      case "/v1/responses":
        return { endpoint: "responses" };
      case "/v1/embeddings":
        return { endpoint: "embeddings" };
      case "/v1/moderations":
        return { endpoint: "moderations" };
    }
    return undefined;
  }
  if (method === "GET") {
    if (pathname === "/v1/models") return { endpoint: "models" };
    const m = /^\/v1\/models\/(.+)$/.exec(pathname);
    if (m?.[1]) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]);
      } catch {
        id = m[1];
      }
      return { endpoint: "model", modelId: id };
    }
  }
  return undefined;
}

/** The stream of a streamable endpoint (chat for any other) in the given shape. */
function streamPlanFor(ctx: Ctx, endpoint: Endpoint | undefined, body: Record<string, unknown>, shape: StreamShape): StreamPlan {
  const ep: Endpoint = endpoint && STREAMABLE.has(endpoint) ? endpoint : "chat";
  const answer = ep === "completions" ? completionAnswer : ep === "responses" ? responsesAnswer : chatAnswer;
  const { text, promptTokens } = answer(body);
  const pieces = shape.content && shape.content.length > 0 ? shape.content : splitInto(text, shape.chunks ?? ctx.state.streamChunks);
  const plan =
    ep === "completions"
      ? completionStreamPlan(body, pieces, promptTokens)
      : ep === "responses"
        ? responsesStreamPlan(body, pieces, promptTokens)
        : chatStreamPlan(body, pieces, promptTokens);
  return withLineEnd(plan, shape.lineEnd);
}

export async function handle(ctx: Ctx): Promise<void> {
  const { rec, pathname, state } = ctx;
  const route = classify(rec.method, pathname);
  const body = isObject(rec.json) ? rec.json : undefined;
  const streaming = !!route && STREAMABLE.has(route.endpoint) && body?.["stream"] === true;

  // Authentication comes first, like the real API (and does not consume queued behaviours).
  if (state.options.requireAuth !== undefined) {
    const auth = ctx.req.headers["authorization"];
    if (auth !== state.options.requireAuth) return unauthorized(ctx, auth);
  }

  const b = takeBehaviour(state.queue, rec, pathname, streaming);
  if (b && (await playBehaviour(ctx, b, (shape) => streamPlanFor(ctx, route?.endpoint, body ?? {}, shape)))) return;

  // ---- default behaviour ----
  const stored = routeStoredObjects(ctx);
  if (stored !== undefined) return stored;
  if (!route) return invalidUrl(ctx);
  const { endpoint } = route;

  if (endpoint === "models") return listModels(ctx);
  if (endpoint === "model") return retrieveModel(ctx, route.modelId ?? "");

  // POST endpoints need a JSON object body.
  if (rec.json === undefined) {
    return badRequest(
      ctx,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    );
  }
  if (!body) {
    return sendError(ctx, 400, {
      message: "Invalid type for request body: expected an object, but got something else instead.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_type",
    });
  }

  const model = body["model"];
  const needsModel = endpoint !== "moderations";
  if (needsModel && (typeof model !== "string" || model === "")) {
    if (endpoint === "chat" || endpoint === "completions") return badRequest(ctx, "you must provide a model parameter");
    return missingParam(ctx, "model");
  }
  if (state.options.strictModels && typeof model === "string" && !state.models.includes(model)) {
    return modelNotFound(ctx, model);
  }

  switch (endpoint) {
    case "chat":
      if (refuseChatRequest(ctx, body)) return;
      break;
    case "responses":
      if (refuseResponseReferences(ctx, body)) return;
      break;
    case "embeddings":
      return handleEmbeddings(ctx, body);
    case "moderations":
      return handleModerations(ctx, body);
  }

  if (streaming) {
    const plan = streamPlanFor(ctx, endpoint, body, {});
    // A streamed response is kept (unless store: false), a streamed chat completion with store: true too.
    if (endpoint === "responses") rememberStreamedResponse(ctx, body, plan);
    if (endpoint === "chat") rememberStreamedChatCompletion(ctx, body, plan);
    return emitStream(ctx, plan, state.streamInterval);
  }
  if (endpoint === "chat") return sendChatCompletion(ctx, body);
  if (endpoint === "completions") return sendCompletion(ctx, body);
  return sendResponse(ctx, body);
}
