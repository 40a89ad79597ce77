/**
 * The fuzz test's requests: a seeded PRNG (mulberry32), and raw HTTP/1.1
 * requests made from it: valid chat/embeddings/... bodies mutated (bytes
 * flipped, inserted, deleted; wrong types; deep nesting; huge strings), random
 * methods, paths, headers and content types, and bodies whose content-length
 * lies. The same seed gives the same sequence.
 */

// ---------------------------------------------------------------------------
// A seeded PRNG (mulberry32) and helpers
// ---------------------------------------------------------------------------

export type Random = () => number;

export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const chance = (random: Random, p: number) => random() < p;
function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const VALUE_CHARS = `${TOKEN_CHARS} \t"(),/:;<=>?@[\\]{}`;

function randomString(random: Random, alphabet: string, min: number, max: number): string {
  let text = "";
  for (let length = int(random, min, max); text.length < length; ) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** A header value that Node accepts as is: visible ASCII, spaces and tabs inside, none at the ends. */
const headerValueOf = (random: Random) => randomString(random, VALUE_CHARS, 1, 40).trim() || "x";

// ---------------------------------------------------------------------------
// Request generation
// ---------------------------------------------------------------------------

interface Template {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

const TEMPLATES: readonly Template[] = [
  { method: "POST", path: "/v1/chat/completions", body: { model: "gpt-4o", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello there" }] } },
  { method: "POST", path: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Stream please" }], stream: true } },
  { method: "POST", path: "/v1/chat/completions", body: { model: "gpt-4o", messages: [{ role: "user", content: [{ type: "text", text: "parts" }] }], stream: true, stream_options: { include_usage: true }, temperature: 0.2, max_tokens: 20 } },
  { method: "POST", path: "/v1/completions", body: { model: "gpt-3.5-turbo-instruct", prompt: "Say this is a test", max_tokens: 7 } },
  { method: "POST", path: "/v1/completions", body: { model: "gpt-3.5-turbo-instruct", prompt: ["a", "b"], stream: true } },
  { method: "POST", path: "/v1/responses", body: { model: "gpt-4o", input: "Tell me a joke" } },
  { method: "POST", path: "/v1/responses", body: { model: "gpt-4o", input: [{ role: "user", content: "hi" }], stream: true } },
  { method: "POST", path: "/v1/embeddings", body: { model: "text-embedding-3-small", input: "The food was delicious" } },
  { method: "POST", path: "/v1/embeddings", body: { model: "text-embedding-3-small", input: ["a", "b", "c"], encoding_format: "base64", dimensions: 8 } },
  { method: "POST", path: "/v1/moderations", body: { model: "omni-moderation-latest", input: "I want to attack" } },
  { method: "GET", path: "/v1/models" },
  { method: "GET", path: "/v1/models/gpt-4o" },
];

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW", "get", "P0ST"];
const PATHS = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/responses",
  "/v1/embeddings",
  "/v1/moderations",
  "/v1/models",
  "/v1/models/gpt-4o",
  "/v1/models/ft:gpt-4o:org:custom:abc",
  "/v1/models/%2e%2e",
  "/v1/models/..%2f..%2fsecrets",
  "/v1/models/a%00b",
  "/v1/models/%zz",
  "/v1/",
  "/v1",
  "/",
  "/v1/chat/completions/",
  "//v1/chat/completions",
  "/v1//chat/completions",
  "/v1/chat/../models",
  "/V1/MODELS",
  "/v1/files",
  "/v1/assistants",
  "/health",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/JSON",
  "application/vnd.api+json",
  "application/merge-patch+json",
  "application/jsonl",
  "text/plain",
  "text/json",
  "multipart/form-data; boundary=----x",
  "application/x-www-form-urlencoded",
  "application/octet-stream",
  "*/*",
  "application/json;;;",
  "; application/json",
];
const INTERESTING_HEADERS: readonly [string, (random: Random) => string][] = [
  ["x-provider", (random) => pick(random, ["openai", "mock", "OpenAI", "MOCK", " mock ", "anthropic", "", "mock,openai"])],
  ["x-gateway-max-retries", (random) => pick(random, ["0", "1", "10", "11", "-1", "1e1", "0x2", " 2 ", "abc", String(int(random, 0, 99))])],
  ["x-gateway-cache-ttl", (random) => pick(random, ["0", "1", "60", "86400", "86401", "-5", "1.5", "abc", "99999999999999999999"])],
  ["cache-control", (random) => pick(random, ["no-cache", "no-store", "max-age=0", "private"])],
  ["authorization", (random) => pick(random, ["Bearer sk-fuzz", "Bearer", "Basic dXNlcjpwYXNz", "bearer   sk-x", `Bearer ${headerValueOf(random)}`])],
  ["accept", (random) => pick(random, ["application/json", "text/event-stream", "*/*", headerValueOf(random)])],
  ["accept-encoding", (random) => pick(random, ["gzip", "br, gzip, deflate", "identity", "*"])],
  ["openai-organization", headerValueOf],
  ["openai-project", headerValueOf],
  ["openai-beta", (random) => pick(random, ["assistants=v2", headerValueOf(random)])],
  ["idempotency-key", headerValueOf],
  ["x-stainless-lang", headerValueOf],
  ["user-agent", headerValueOf],
  ["x-client-request-id", headerValueOf],
  ["x-forwarded-for", () => "10.0.0.1, 10.0.0.2"],
  ["cookie", headerValueOf],
  ["origin", () => "https://evil.example"],
  ["te", () => "trailers"],
];

export interface FuzzCase {
  readonly index: number;
  readonly label: string;
  readonly bytes: Buffer;
  readonly halfClose: boolean;
  readonly head: boolean;
}

function randomJsonValue(random: Random, depth = 0): unknown {
  switch (int(random, 0, depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return chance(random, 0.5);
    case 2:
      return pick(random, [0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, -0]);
    case 3:
      return randomString(random, VALUE_CHARS, 0, 20);
    case 4:
      return pick(random, ["", "\u0000", "\ud83d\ude00", "\u202e", "a".repeat(int(random, 100, 5_000)), "<script>", "${jndi:x}", "[DONE]", "data: {}\n\n"]);
    case 5:
      return "user";
    case 6:
      return pick(random, ["gpt-4o", "mock-gpt-4o", "text-embedding-3-small", "../../etc/passwd"]);
    case 7:
      return Array.from({ length: int(random, 0, 4) }, () => randomJsonValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let index = int(random, 0, 4); index > 0; index -= 1) object[randomString(random, TOKEN_CHARS, 1, 8)] = randomJsonValue(random, depth + 1);
      if (chance(random, 0.3)) object.role = pick(random, ["user", "assistant", "system", "tool", 5]);
      if (chance(random, 0.3)) object.content = randomJsonValue(random, depth + 1);
      return object;
    }
  }
}

/** Replaces a random value somewhere in `value` (objects and arrays, a few levels down). */
function replaceSomewhere(random: Random, value: unknown, replacement: () => unknown, depth = 0): unknown {
  if (depth > 0 && (chance(random, 0.35) || typeof value !== "object" || value === null)) return replacement();
  if (Array.isArray(value)) {
    if (value.length === 0) return [replacement()];
    const copy = [...value];
    const index = int(random, 0, copy.length - 1);
    copy[index] = replaceSomewhere(random, copy[index], replacement, depth + 1);
    return copy;
  }
  if (typeof value === "object" && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length === 0 || chance(random, 0.15)) {
      copy[pick(random, ["stream", "stream_options", "model", "messages", "input", "prompt", "n", "metadata", randomString(random, TOKEN_CHARS, 1, 10)])] = replacement();
    } else {
      const key = pick(random, keys);
      copy[key] = replaceSomewhere(random, copy[key], replacement, depth + 1);
    }
    return copy;
  }
  return replacement();
}

function mutateBytes(random: Random, bytes: Buffer): Buffer {
  let data = Buffer.from(bytes);
  for (let count = int(random, 1, 8); count > 0; count -= 1) {
    const at = int(random, 0, Math.max(0, data.length - 1));
    switch (int(random, 0, 3)) {
      case 0: // flip a bit
        if (data.length > 0) data[at] = (data[at] ?? 0) ^ (1 << int(random, 0, 7));
        break;
      case 1: // insert random bytes (sometimes JSON punctuation)
        data = Buffer.concat([
          data.subarray(0, at),
          chance(random, 0.5) ? Buffer.from(pick(random, ["{", "}", "[", "]", '"', ",", ":", "\\", "\\u", "\u0000", "null", "\n"])) : Buffer.from(Array.from({ length: int(random, 1, 4) }, () => int(random, 0, 255))),
          data.subarray(at),
        ]);
        break;
      case 2: // delete a range
        data = Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + int(random, 1, 12)))]);
        break;
      default: // duplicate a range
        data = Buffer.concat([data.subarray(0, at), data.subarray(at, at + int(random, 1, 20)), data.subarray(at)]);
    }
  }
  return data;
}

export function generate(random: Random, index: number): FuzzCase {
  const template = pick(random, TEMPLATES);
  let method: string = template.method;
  let path = template.path;
  let bodyValue: unknown = template.body;
  let body: Buffer | undefined;
  const labels: string[] = [];
  const headers: [string, string][] = [];
  let host = true;
  let contentType: string | undefined = template.body === undefined ? undefined : "application/json";
  let lengthMismatch: "more" | "less" | undefined;

  const toMock = chance(random, 0.5);
  if (toMock) headers.push(["x-provider", "mock"]);
  if (chance(random, 0.9)) headers.push(["authorization", "Bearer sk-fuzz"]);

  const mutations = int(random, 1, 3);
  for (let count = 0; count < mutations; count += 1) {
    const kind = int(random, 0, 99);
    if (kind < 18) {
      labels.push("wrong-type");
      bodyValue = replaceSomewhere(random, bodyValue ?? {}, () => randomJsonValue(random));
    } else if (kind < 23) {
      const depth = pick(random, [10, 100, 1_000, 3_000, 6_000, 20_000, 100_000]);
      const open = pick(random, ["[", '{"a":']);
      const close = open === "[" ? "]" : "}";
      labels.push(`deep-${depth}`);
      const deep = { __deep__: `${open.repeat(depth)}${close.repeat(depth)}` };
      if (chance(random, 0.5)) {
        // Structure-aware: a field the gateway or the mock provider reads.
        const field = pick(random, ["input", "prompt", "messages", "stream_options", "metadata"]);
        bodyValue = { ...((bodyValue as Record<string, unknown>) ?? {}), [field]: deep };
        if (chance(random, 0.5)) Object.assign(bodyValue as Record<string, unknown>, { stream: true, stream_options: pick(random, [null, {}, deep]) });
      } else {
        bodyValue = replaceSomewhere(random, bodyValue ?? {}, () => deep);
      }
    } else if (kind < 26) {
      const size = pick(random, [64 * 1024, 512 * 1024, 2 * 1024 * 1024]);
      labels.push(`huge-string-${size}`);
      bodyValue = replaceSomewhere(random, bodyValue ?? {}, () => "y".repeat(size));
    } else if (kind < 46) {
      labels.push("bytes");
      body = mutateBytes(random, body ?? Buffer.from(serialize(bodyValue ?? {})));
    } else if (kind < 56) {
      method = pick(random, METHODS);
      labels.push(`method-${method}`);
    } else if (kind < 66) {
      path = mutatePath(random, chance(random, 0.5) ? pick(random, PATHS) : path);
      labels.push("path");
    } else if (kind < 78) {
      labels.push("headers");
      for (let extra = int(random, 1, 6); extra > 0; extra -= 1) {
        if (chance(random, 0.5)) {
          const [name, value] = pick(random, INTERESTING_HEADERS);
          headers.push([name, value(random)]);
        } else {
          headers.push([randomString(random, TOKEN_CHARS, 1, 24), headerValueOf(random)]);
        }
      }
    } else if (kind < 86) {
      contentType = chance(random, 0.15) ? undefined : pick(random, CONTENT_TYPES);
      labels.push(`content-type-${contentType ?? "none"}`);
    } else if (kind < 93) {
      lengthMismatch = chance(random, 0.5) ? "more" : "less";
      labels.push(`length-${lengthMismatch}`);
    } else if (kind < 96) {
      labels.push("empty-body");
      body = Buffer.alloc(0);
    } else if (kind < 98) {
      labels.push("no-host");
      host = false;
    } else {
      labels.push("stream-flag");
      bodyValue = { ...((bodyValue as Record<string, unknown>) ?? {}), stream: pick(random, [true, false, "true", 1, null]) };
    }
  }

  if (body === undefined && bodyValue !== undefined && (method !== "GET" || chance(random, 0.2))) body = Buffer.from(serialize(bodyValue));
  let declaredLength: number | undefined;
  if (lengthMismatch === "less" && body !== undefined && body.length > 0) declaredLength = int(random, 0, body.length - 1);
  if (lengthMismatch === "more") declaredLength = (body?.length ?? 0) + int(random, 1, 500);
  // A client that declares more than it sends then closes its side: no server could wait forever for the rest.
  const halfClose = declaredLength !== undefined && declaredLength > (body?.length ?? 0);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (host) head += "host: 127.0.0.1\r\n";
  head += "connection: close\r\n";
  if (contentType !== undefined && body !== undefined) head += `content-type: ${contentType}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  if (body !== undefined || declaredLength !== undefined) head += `content-length: ${declaredLength ?? body?.length ?? 0}\r\n`;
  head += "\r\n";
  const bytes = body === undefined ? Buffer.from(head, "latin1") : Buffer.concat([Buffer.from(head, "latin1"), body]);
  return {
    index,
    label: `#${index} ${method} ${path.slice(0, 60)} ${toMock ? "mock" : "openai"} [${labels.join(",")}]`,
    bytes,
    halfClose,
    head: method === "HEAD",
  };
}

/** JSON text, with the deep-nesting placeholder spliced in raw (building it as objects would overflow the stack). */
function serialize(value: unknown): string {
  return JSON.stringify(value).replace(/\{"__deep__":"([^"]*)"\}/g, (_match, raw: string) => raw);
}

function mutatePath(random: Random, path: string): string {
  switch (int(random, 0, 6)) {
    case 0:
      return `${path}?${randomString(random, "abcxyz=&%20", 1, 30)}`;
    case 1:
      return `${path}/${encodeURIComponent(randomString(random, VALUE_CHARS, 1, 20))}`;
    case 2:
      return path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`);
    case 3:
      return `${path}${"/x".repeat(int(random, 1, 200))}`;
    case 4:
      return path.toUpperCase();
    case 5:
      return `${path}%${randomString(random, "0123456789abcdefgz", 0, 2)}`;
    default:
      return `${path}#${randomString(random, TOKEN_CHARS, 1, 8)}`;
  }
}
