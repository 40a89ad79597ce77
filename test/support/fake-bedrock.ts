/**
 * A fake Amazon Bedrock runtime endpoint on 127.0.0.1 that speaks its wire:
 * it checks every request's SigV4 signature (sigv4-verify.ts, independent of
 * the gateway's signer) or its Bedrock API key, decodes the model id from the
 * one path segment it must be, refuses what Converse refuses (roles that do
 * not alternate, tool turns without `toolConfig`, a `toolUse` without its
 * `toolResult` in the next user turn), and answers Converse with its JSON,
 * ConverseStream with the binary event stream (frames built by the AWS codec,
 * CRCs included), InvokeModel with Titan's or Cohere's embeddings; or what a
 * test queued: an HTTP error with Bedrock's `x-amzn-errortype`, an exception
 * frame in mid-stream, a frame with a broken CRC.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { converseResponse, converseStreamEvents, eventFrame, exceptionFrame, type BedrockAnswer, type BedrockBlock } from "./bedrock-wire.ts";
import { scriptedAnswer } from "./fake-conversation.ts";
import { sigV4Problem, type SigningCredentials } from "./sigv4-verify.ts";

/** What the next request gets, instead of the scripted conversation. */
export type BedrockBehaviour =
  | { readonly kind: "answer"; readonly answer: BedrockAnswer; readonly intervalMs?: number }
  | { readonly kind: "error"; readonly status: number; readonly exception: string; readonly message: string }
  /** The stream sends `after` events, then an exception frame. */
  | { readonly kind: "exception"; readonly after: number; readonly exception: string; readonly message: string }
  /** The stream sends `after` events, then a frame whose message CRC is wrong. */
  | { readonly kind: "bad-crc"; readonly after: number };

/** A request as the fake received it. */
export interface BedrockRequest {
  readonly url: string;
  /** The model id, decoded from its path segment. */
  readonly modelId: string;
  readonly operation: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown>;
}

export interface FakeBedrock {
  /** e.g. http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly requests: BedrockRequest[];
  enqueue(behaviour: BedrockBehaviour): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeBedrockOptions {
  readonly region: string;
  /** The credentials requests must be signed with. */
  readonly credentials: SigningCredentials;
  /** A Bedrock API key it also accepts as a bearer token. */
  readonly apiKey?: string;
}

type Json = Record<string, unknown>;

const PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

/** Starts the fake. */
export async function startFakeBedrock(options: FakeBedrockOptions): Promise<FakeBedrock> {
  const requests: BedrockRequest[] = [];
  const queue: BedrockBehaviour[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const auth = authProblem(req, body, options);
      if (auth !== undefined) return sendError(res, 403, auth.exception, auth.message);
      const match = PATH.exec(req.url ?? "");
      if (req.method !== "POST" || match === null) return sendError(res, 404, "UnknownOperationException", `No operation at ${req.url}`);
      const json = JSON.parse(body.toString("utf8")) as Json;
      const request = { url: req.url ?? "", modelId: decodeURIComponent(match[1] as string), operation: match[2] as string, headers: req.headers, json };
      requests.push(request);
      void answer(res, request, queue.shift());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    enqueue: (behaviour) => void queue.push(behaviour),
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function authProblem(req: http.IncomingMessage, body: Buffer, options: FakeBedrockOptions): { exception: string; message: string } | undefined {
  const authorization = req.headers.authorization ?? "";
  if (authorization.startsWith("Bearer ")) {
    return authorization === `Bearer ${options.apiKey}` ? undefined : { exception: "UnrecognizedClientException", message: "The security token included in the request is invalid." };
  }
  const problem = sigV4Problem({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body }, options.credentials, options.region, "bedrock");
  return problem === undefined ? undefined : { exception: "InvalidSignatureException", message: `The request signature we calculated does not match the signature you provided (${problem}).` };
}

function sendError(res: http.ServerResponse, status: number, exception: string, message: string): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "x-amzn-requestid": randomUUID(),
    "x-amzn-errortype": `${exception}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(JSON.stringify({ message }));
}

async function answer(res: http.ServerResponse, request: BedrockRequest, behaviour: BedrockBehaviour | undefined): Promise<void> {
  if (behaviour?.kind === "error") return sendError(res, behaviour.status, behaviour.exception, behaviour.message);
  if (request.operation === "invoke") return answerEmbeddings(res, request);
  const problem = conversationProblem(request.json);
  if (problem !== undefined) return sendError(res, 400, "ValidationException", problem);
  const scripted = behaviour?.kind === "answer" ? behaviour.answer : conversationAnswer(request.json);
  const requestId = randomUUID();
  if (request.operation === "converse") {
    res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": requestId });
    return void res.end(JSON.stringify(converseResponse(scripted)));
  }
  res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-requestid": requestId });
  const events = converseStreamEvents(scripted);
  const limit = behaviour?.kind === "exception" || behaviour?.kind === "bad-crc" ? behaviour.after : events.length;
  for (const event of events.slice(0, limit)) {
    if (res.destroyed) return;
    res.write(eventFrame(event));
    const interval = behaviour?.kind === "answer" ? (behaviour.intervalMs ?? 0) : 0;
    if (interval > 0) await new Promise((resolve) => setTimeout(resolve, interval));
  }
  if (behaviour?.kind === "exception") res.write(exceptionFrame(behaviour.exception, behaviour.message));
  if (behaviour?.kind === "bad-crc") {
    const frame = Buffer.from(eventFrame(events[limit] ?? { type: "messageStop", payload: { stopReason: "end_turn" } }));
    frame[frame.byteLength - 1] = (frame[frame.byteLength - 1] as number) ^ 0xff;
    res.write(frame);
  }
  res.end();
}

function answerEmbeddings(res: http.ServerResponse, request: BedrockRequest): void {
  const vector = (text: string, size: number) => Array.from({ length: size }, (_, index) => ((text.length + index) % 7) / 7);
  const { json } = request;
  res.setHeader("x-amzn-requestid", randomUUID());
  res.setHeader("content-type", "application/json");
  if (request.modelId.includes("titan-embed-text-v2")) {
    const text = json.inputText as string;
    const size = (json.dimensions as number | undefined) ?? 1024;
    res.setHeader("x-amzn-bedrock-input-token-count", String(text.split(" ").length));
    return void res.end(JSON.stringify({ embedding: vector(text, size), inputTextTokenCount: text.split(" ").length, embeddingsByType: { float: vector(text, size) } }));
  }
  const texts = json.texts as string[];
  if (texts.length > 96) return sendError(res, 400, "ValidationException", "texts: at most 96");
  res.setHeader("x-amzn-bedrock-input-token-count", String(texts.length * 2));
  res.end(JSON.stringify({ id: randomUUID(), embeddings: texts.map((text) => vector(text, 1024)), response_type: "embeddings_floats", texts }));
}

/** What Converse would refuse in a conversation, or undefined. */
function conversationProblem(body: Json): string | undefined {
  const messages = body.messages as { role: string; content: Json[] }[];
  let previousToolUses: string[] = [];
  let toolBlocks = false;
  for (const [index, message] of messages.entries()) {
    if (index > 0 && messages[index - 1]?.role === message.role) return "A conversation must alternate between user and assistant roles.";
    const uses = message.content.filter((block) => block.toolUse !== undefined).map((block) => (block.toolUse as Json).toolUseId as string);
    const results = message.content.filter((block) => block.toolResult !== undefined).map((block) => (block.toolResult as Json).toolUseId as string);
    toolBlocks ||= uses.length > 0 || results.length > 0;
    if (message.role === "user") {
      const missing = previousToolUses.find((id) => !results.includes(id));
      if (missing !== undefined) return `Expected toolResult blocks at messages.${index}.content for the following Ids: ${missing}`;
    }
    previousToolUses = message.role === "assistant" ? uses : [];
  }
  if (toolBlocks && body.toolConfig === undefined) return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
  return undefined;
}

function conversationAnswer(body: Json): BedrockAnswer {
  const messages = body.messages as { role: string; content: Json[] }[];
  const last = messages.at(-1)?.content ?? [];
  const toolResults = new Map(
    last
      .filter((block) => block.toolResult !== undefined)
      .map((block) => {
        const result = block.toolResult as { toolUseId: string; content: Json[] };
        return [result.toolUseId, result.content.map((item) => item.text ?? JSON.stringify(item.json)).join(" ")];
      }),
  );
  const lastUserText = last.filter((block) => typeof block.text === "string").map((block) => block.text).join(" ");
  const toolConfig = body.toolConfig as { tools: { toolSpec: { name: string } }[] } | undefined;
  const scripted = scriptedAnswer({ toolNames: toolConfig?.tools.map((tool) => tool.toolSpec.name) ?? [], toolResults, lastUserText });
  const reasoning: BedrockBlock[] = body.additionalModelRequestFields === undefined ? [] : [{ type: "reasoning", text: "Thinking it through." }];
  return {
    blocks: [...reasoning, ...scripted.blocks.map((block): BedrockBlock => (block.type === "text" ? block : { type: "toolUse", toolUseId: block.id, name: block.name, input: block.input }))],
    stopReason: scripted.stop,
    usage: { inputTokens: 40, outputTokens: 20, cacheReadInputTokens: 100, cacheWriteInputTokens: 10 },
  };
}
