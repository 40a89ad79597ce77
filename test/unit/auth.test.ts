import { timingSafeEqual } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { authenticate } from "../../functions/shared/access/authenticate.ts";
import { createCredentials, type Credentials } from "../../functions/shared/access/credentials.ts";
import { AuthenticationError } from "../../functions/shared/http/errors.ts";

// Spy on the constant-time comparison to check it runs over every key.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const KEY_A = "gw-key-one-0123456789";
const KEY_B = "gw-key-two-0123456789";

function credentials(keys: readonly { id: string; key: string }[], allowPassthrough: boolean): Credentials {
  return createCredentials({ providers: { openai: { apiKeys: ["sk-provider"] } }, gatewayKeys: keys, allowPassthrough });
}

const managed = credentials(
  [
    { id: "team-a", key: KEY_A },
    { id: "team-b", key: KEY_B },
  ],
  false,
);
const passthrough = credentials([], true);
const mixed = credentials([{ id: "team-a", key: KEY_A }], true);

function rejection(authorization: string | undefined, creds: Credentials, needsProviderKey = true): AuthenticationError {
  try {
    authenticate(authorization, creds, needsProviderKey);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  }
  throw new Error("authenticate did not throw");
}

beforeEach(() => {
  vi.mocked(timingSafeEqual).mockClear();
});

describe("managed mode (gateway keys, no passthrough)", () => {
  it("identifies each gateway key by its id", () => {
    expect(authenticate(`Bearer ${KEY_A}`, managed, true)).toMatchObject({ mode: "managed", keyId: "team-a" });
    expect(authenticate(`Bearer ${KEY_B}`, managed, true)).toMatchObject({ mode: "managed", keyId: "team-b" });
  });

  it("accepts any case of Bearer and surrounding whitespace", () => {
    expect(authenticate(`bearer ${KEY_B}`, managed, true)).toMatchObject({ mode: "managed", keyId: "team-b" });
    expect(authenticate(`  BEARER\t${KEY_A}   `, managed, true)).toMatchObject({ mode: "managed", keyId: "team-a" });
  });

  it("also requires the key for a provider that needs none (mock)", () => {
    expect(authenticate(`Bearer ${KEY_A}`, managed, false)).toMatchObject({ mode: "managed", keyId: "team-a" });
    expect(rejection(undefined, managed, false).status).toBe(401);
  });

  it("rejects a wrong key with 401 invalid_api_key, without echoing it", () => {
    for (const wrong of ["gw-key-three-0123456789", KEY_A.slice(0, -1), `${KEY_A}x`, KEY_A.toUpperCase(), "sk-provider"]) {
      const error = rejection(`Bearer ${wrong}`, managed);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", message: "Incorrect gateway key provided." });
      expect(JSON.stringify(error.toJSON())).not.toContain(wrong);
    }
  });

  it("rejects a missing key, an empty one, or another scheme with 401 asking for the key", () => {
    for (const authorization of [undefined, "", "   ", "Bearer", "Bearer    ", `Basic ${KEY_A}`, KEY_A]) {
      const error = rejection(authorization, managed);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
      expect(error.message).toContain("Missing gateway key");
      expect(error.message).not.toContain(KEY_A);
    }
  });

  it("compares against every key, in constant time, even after a match", () => {
    const ids = Array.from({ length: 12 }, (_, index) => ({ id: `team-${index}`, key: `gw-pool-key-${index}-0123456789` }));
    const pool = credentials(ids, false);
    for (const { id, key } of ids) {
      vi.mocked(timingSafeEqual).mockClear();
      expect(authenticate(`Bearer ${key}`, pool, true)).toMatchObject({ mode: "managed", keyId: id });
      expect(timingSafeEqual).toHaveBeenCalledTimes(ids.length);
    }
    vi.mocked(timingSafeEqual).mockClear();
    rejection("Bearer gw-pool-key-99-0123456789", pool);
    expect(timingSafeEqual).toHaveBeenCalledTimes(ids.length);
  });

  it("compares digests, so keys of any length are safe to compare", () => {
    const pool = credentials([{ id: "long", key: "k".repeat(500) }], false);
    expect(() => authenticate("Bearer short", pool, true)).toThrow(AuthenticationError);
    expect(authenticate(`Bearer ${"k".repeat(500)}`, pool, true)).toMatchObject({ mode: "managed", keyId: "long" });
  });

  it("takes the first id when the same key is listed twice", () => {
    const pool = credentials(
      [
        { id: "first", key: KEY_A },
        { id: "second", key: KEY_A },
      ],
      false,
    );
    expect(authenticate(`Bearer ${KEY_A}`, pool, true)).toMatchObject({ mode: "managed", keyId: "first" });
  });
});

describe("passthrough mode (no gateway keys)", () => {
  it("forwards the caller's Authorization exactly as given", () => {
    expect(authenticate("Bearer sk-caller", passthrough, true)).toEqual({ mode: "passthrough", authorization: "Bearer sk-caller" });
    expect(authenticate("  bearer   sk-caller ", passthrough, true)).toEqual({
      mode: "passthrough",
      authorization: "  bearer   sk-caller ",
    });
    expect(authenticate("Basic dXNlcjpwYXNz", passthrough, true)).toEqual({ mode: "passthrough", authorization: "Basic dXNlcjpwYXNz" });
  });

  it("rejects a request without Authorization for a provider that needs a key", () => {
    for (const authorization of [undefined, "", "  "]) {
      const error = rejection(authorization, passthrough, true);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key" });
      expect(error.message).toContain("You didn't provide an API key");
    }
  });

  it("lets a request without Authorization through anonymously for a provider that needs none", () => {
    expect(authenticate(undefined, passthrough, false)).toEqual({ mode: "anonymous" });
    expect(authenticate("  ", passthrough, false)).toEqual({ mode: "anonymous" });
    expect(authenticate("Bearer anything", passthrough, false)).toEqual({ mode: "passthrough", authorization: "Bearer anything" });
  });

  it("does not compare keys when there are none", () => {
    authenticate("Bearer sk-caller", passthrough, true);
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });
});

describe("gateway keys with passthrough allowed", () => {
  it("uses managed mode for a gateway key and passthrough for any other key", () => {
    expect(authenticate(`Bearer ${KEY_A}`, mixed, true)).toMatchObject({ mode: "managed", keyId: "team-a" });
    expect(authenticate("Bearer sk-own-key", mixed, true)).toEqual({ mode: "passthrough", authorization: "Bearer sk-own-key" });
    expect(rejection(undefined, mixed, true).message).toContain("You didn't provide an API key");
    expect(authenticate(undefined, mixed, false)).toEqual({ mode: "anonymous" });
  });

  it("refuses a token with the gateway key prefix that matches no key, in any case, with or without Bearer, never echoing it", () => {
    const typo = `${KEY_A.slice(0, -1)}x`;
    for (const authorization of [`Bearer ${typo}`, ` bearer\t${typo} `, `Bearer ${KEY_A.toUpperCase()}`, typo, `  Gw-${typo.slice(3)}`]) {
      const error = rejection(authorization, mixed);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", message: "Incorrect gateway key provided." });
      expect(JSON.stringify(error.toJSON())).not.toContain(typo.slice(3));
    }
  });

  it("passes through tokens that merely contain the prefix elsewhere", () => {
    for (const authorization of ["Bearer sk-gw-lookalike", "Bearer sk-proj-abc", "Basic Z3ctdXNlcjpwYXNz"]) {
      expect(authenticate(authorization, mixed, true)).toEqual({ mode: "passthrough", authorization });
    }
  });

  it("carries the key's allowAccountHeaders to the caller", () => {
    const keys = createCredentials({
      providers: {},
      gatewayKeys: [
        { id: "operator", key: KEY_A, allowAccountHeaders: true },
        { id: "tenant", key: KEY_B },
      ],
      allowPassthrough: true,
    });
    expect(authenticate(`Bearer ${KEY_A}`, keys, true)).toMatchObject({ mode: "managed", keyId: "operator", allowAccountHeaders: true });
    expect(authenticate(`Bearer ${KEY_B}`, keys, true)).toMatchObject({ mode: "managed", keyId: "tenant", allowAccountHeaders: false });
  });
});

describe("passthrough only (no gateway keys)", () => {
  it("passes a token with the gateway key prefix through: there is no gateway key to mistake it for", () => {
    expect(authenticate(`Bearer ${KEY_A}`, passthrough, true)).toEqual({ mode: "passthrough", authorization: `Bearer ${KEY_A}` });
  });
});
