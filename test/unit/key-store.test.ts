/**
 * Managed key records and where the gateway finds them: the record's rules
 * (revoked, expired, rotated keys), the key file followed as it changes, the
 * lookup cache in front of the table (positive and negative answers, bounded,
 * rationed against floods of wrong keys), and callers identified by hash.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createCredentials } from "../../functions/shared/access/credentials.ts";
import { createFileKeyStore } from "../../functions/shared/access/file-key-store.ts";
import { identifyCaller } from "../../functions/shared/access/identify-caller.ts";
import { createKeyLookupCache, KeyLookupThrottledError } from "../../functions/shared/access/key-lookup-cache.ts";
import { formatKeyFile, keyStanding, parseKeyFile, parseKeyRecord, sha256Hex, type KeyRecord } from "../../functions/shared/access/key-record.ts";
import type { GatewayKeyStore } from "../../functions/shared/access/key-store.ts";
import { loadConfig } from "../../functions/shared/config/config.ts";
import { AuthenticationError, ConfigurationError } from "../../functions/shared/http/errors.ts";

const KEY = `gw-${"A".repeat(43)}`;
const OTHER = `gw-${"B".repeat(43)}`;
const T0 = "2026-01-29T10:00:00.000Z";

function record(id: string, keys: readonly string[], extra: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id,
    createdAt: T0,
    updatedAt: T0,
    secrets: keys.map((key) => ({ sha256: sha256Hex(key), prefix: key.slice(0, 10), createdAt: T0 })),
    ...extra,
  };
}

/** A store over fixed records that counts its lookups. */
function countingStore(records: readonly KeyRecord[]) {
  const byHash = new Map(records.flatMap((entry) => entry.secrets.map((secret) => [secret.sha256, entry] as const)));
  const findByHash = vi.fn(async (sha256: string) => byHash.get(sha256));
  return { store: { findByHash } satisfies GatewayKeyStore, findByHash };
}

describe("a key record", () => {
  it("parses what the key command writes, and names the field at fault otherwise, never a key", () => {
    const good = record("team-a", [KEY], { limits: { usdPerDay: 5, requestsPerMinute: 60 }, permissions: { models: ["gpt-4o*"], providers: ["OpenAI"] } });
    const parsed = parseKeyRecord(JSON.parse(JSON.stringify(good)));
    expect(parsed.permissions?.providers).toEqual(["openai"]);
    expect(parsed.limits).toEqual({ usdPerDay: 5, requestsPerMinute: 60 });
    const bad = (change: Record<string, unknown>) => () => parseKeyRecord({ ...JSON.parse(JSON.stringify(good)), ...change });
    expect(bad({ id: "has space" })).toThrow(/key\.id must be 1-64 characters/);
    expect(bad({ limits: { usdPerDay: -1 } })).toThrow(/key\.limits\.usdPerDay must be a number of US dollars above 0/);
    expect(bad({ limits: { dollars: 1 } })).toThrow(/key\.limits\.dollars is not a limit/);
    expect(bad({ permissions: { models: [] } })).toThrow(/key\.permissions\.models must be a list of 1 to 100 names/);
    expect(bad({ secrets: [{ sha256: KEY, prefix: "gw-AAAA", createdAt: T0 }] })).toThrow(/key\.secrets\[0\]\.sha256 must be 64 lower-case hex digits/);
    expect(bad({ expiresAt: "tomorrow" })).toThrow(/key\.expiresAt must be an ISO date-time/);
    try {
      bad({ secrets: [{ sha256: KEY, prefix: "gw-AAAA", createdAt: T0 }] })();
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY);
    }
  });

  it("is usable until revoked, expired, or rotated past its grace period, with a reason for the holder", () => {
    const now = Date.parse(T0) + 1_000;
    expect(keyStanding(record("a", [KEY]), sha256Hex(KEY), now)).toEqual({ usable: true });
    expect(keyStanding(record("a", [KEY]), sha256Hex(OTHER), now)).toMatchObject({ usable: false, reason: "Incorrect gateway key provided." });
    expect(keyStanding(record("a", [KEY], { revokedAt: T0 }), sha256Hex(KEY), now)).toMatchObject({ usable: false, reason: "This gateway key has been revoked." });
    expect(keyStanding(record("a", [KEY], { expiresAt: T0 }), sha256Hex(KEY), now)).toMatchObject({ reason: `This gateway key expired at ${T0}.` });
    expect(keyStanding(record("a", [KEY], { expiresAt: "2026-01-29T10:00:02.000Z" }), sha256Hex(KEY), now)).toEqual({ usable: true });
    const rotated: KeyRecord = {
      ...record("a", [OTHER]),
      secrets: [...record("a", [OTHER]).secrets, { ...record("a", [KEY]).secrets[0]!, retiresAt: "2026-01-29T10:00:05.000Z" }],
    };
    expect(keyStanding(rotated, sha256Hex(KEY), now)).toEqual({ usable: true });
    expect(keyStanding(rotated, sha256Hex(KEY), now + 5_000)).toMatchObject({ usable: false, reason: expect.stringContaining("was rotated") });
    expect(keyStanding(rotated, sha256Hex(OTHER), now + 5_000)).toEqual({ usable: true });
  });

  it("a key file refuses repeated ids and repeated hashes", () => {
    expect(parseKeyFile(formatKeyFile([record("a", [KEY]), record("b", [OTHER])]))).toHaveLength(2);
    expect(() => parseKeyFile(formatKeyFile([record("a", [KEY]), record("a", [OTHER])]))).toThrow(/repeats the id a/);
    expect(() => parseKeyFile(formatKeyFile([record("a", [KEY]), record("b", [KEY])]))).toThrow(/repeats a key hash/);
    expect(() => parseKeyFile('{"keys": []}')).toThrow(/"version": 1/);
  });
});

describe("the key file store", () => {
  function tempFile(): string {
    return join(mkdtempSync(join(tmpdir(), "keys-")), "keys.json");
  }

  it("has no keys while the file is missing, and follows the file as it is replaced", async () => {
    const path = tempFile();
    let time = 0;
    const store = createFileKeyStore({ path, checkIntervalMs: 100, now: () => time });
    expect(await store.findByHash(sha256Hex(KEY))).toBeUndefined();
    writeFileSync(`${path}.tmp`, formatKeyFile([record("team-a", [KEY])]));
    renameSync(`${path}.tmp`, path);
    // Within the check interval the file is not looked at again.
    expect(await store.findByHash(sha256Hex(KEY))).toBeUndefined();
    time += 100;
    expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
    writeFileSync(`${path}.tmp`, formatKeyFile([record("team-a", [KEY], { revokedAt: T0 })]));
    renameSync(`${path}.tmp`, path);
    time += 100;
    expect((await store.findByHash(sha256Hex(KEY)))?.revokedAt).toBe(T0);
  });

  it("keeps the previous keys when a change cannot be parsed, reports it once, and takes the next good version", async () => {
    const path = tempFile();
    writeFileSync(path, formatKeyFile([record("team-a", [KEY])]));
    let time = 0;
    const onReloadError = vi.fn();
    const store = createFileKeyStore({ path, checkIntervalMs: 10, now: () => time, onReloadError });
    expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
    writeFileSync(path, '{"version": 1, "keys": [{"id": ');
    for (let step = 0; step < 3; step += 1) {
      time += 10;
      expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
    }
    expect(onReloadError).toHaveBeenCalledTimes(1);
    expect(onReloadError.mock.calls[0]?.[0]).toBeInstanceOf(ConfigurationError);
    expect((onReloadError.mock.calls[0]?.[0] as Error).message).toBe("The key file (GATEWAY_KEYS_FILE) cannot be used: the key file is not valid JSON.");
    writeFileSync(path, formatKeyFile([record("team-b", [KEY])]));
    time += 10;
    expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-b");
  });

  it("keeps the previous keys while the file cannot even be looked at, and reports that once", async () => {
    const folder = mkdtempSync(join(tmpdir(), "keys-"));
    const path = join(folder, "keys.json");
    writeFileSync(path, formatKeyFile([record("team-a", [KEY])]));
    let time = 0;
    const onReloadError = vi.fn();
    const store = createFileKeyStore({ path, checkIntervalMs: 10, now: () => time, onReloadError });
    expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
    // The folder becomes a plain file: looking at keys.json fails with ENOTDIR.
    renameSync(folder, `${folder}.away`);
    writeFileSync(folder, "");
    try {
      for (let step = 0; step < 3; step += 1) {
        time += 10;
        expect((await store.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
      }
    } finally {
      rmSync(folder);
      renameSync(`${folder}.away`, folder);
    }
    expect(onReloadError).toHaveBeenCalledTimes(1);
    expect((onReloadError.mock.calls[0]?.[0] as Error).message).toBe("The key file (GATEWAY_KEYS_FILE) cannot be used: it cannot be read (ENOTDIR).");
  });

  it("answers 500 naming the variable when the file is unusable from the start", async () => {
    const path = tempFile();
    writeFileSync(path, JSON.stringify({ version: 1, keys: [{ id: "x", secrets: [] }] }));
    const error = await createFileKeyStore({ path }).findByHash(sha256Hex(KEY)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).message).toMatch(/^The key file \(GATEWAY_KEYS_FILE\) cannot be used: keys\[0\]\.createdAt/);
  });
});

describe("the key lookup cache", () => {
  it("keeps found and not-found answers for the TTL, then asks the store again", async () => {
    const { store, findByHash } = countingStore([record("team-a", [KEY])]);
    let time = 0;
    const cache = createKeyLookupCache(store, { ttlMs: 30_000, now: () => time });
    for (let index = 0; index < 5; index += 1) {
      expect((await cache.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
      expect(await cache.findByHash(sha256Hex(OTHER))).toBeUndefined();
    }
    expect(findByHash).toHaveBeenCalledTimes(2);
    time += 29_999;
    await cache.findByHash(sha256Hex(KEY));
    expect(findByHash).toHaveBeenCalledTimes(2);
    time += 1;
    await cache.findByHash(sha256Hex(KEY));
    await cache.findByHash(sha256Hex(OTHER));
    expect(findByHash).toHaveBeenCalledTimes(4);
  });

  it("shares one store read among concurrent lookups of one hash, and does not cache failures", async () => {
    const { store, findByHash } = countingStore([record("team-a", [KEY])]);
    const cache = createKeyLookupCache(store, { ttlMs: 30_000 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.findByHash(sha256Hex(KEY))));
    expect(answers.every((answer) => answer?.id === "team-a")).toBe(true);
    expect(findByHash).toHaveBeenCalledTimes(1);
    findByHash.mockRejectedValueOnce(new Error("table down"));
    await expect(cache.findByHash(sha256Hex(OTHER))).rejects.toThrow("table down");
    expect(await cache.findByHash(sha256Hex(OTHER))).toBeUndefined();
    expect(findByHash).toHaveBeenCalledTimes(3);
  });

  it("holds at most maxEntries answers, dropping the oldest", async () => {
    const { store, findByHash } = countingStore([]);
    const cache = createKeyLookupCache(store, { ttlMs: 30_000, maxEntries: 3 });
    for (const hash of ["1", "2", "3", "4"]) await cache.findByHash(hash);
    await cache.findByHash("4");
    await cache.findByHash("2");
    expect(findByHash).toHaveBeenCalledTimes(4);
    await cache.findByHash("1");
    expect(findByHash).toHaveBeenCalledTimes(5);
  });

  it("rations store reads during a flood of different wrong keys, while known keys keep working", async () => {
    const { store, findByHash } = countingStore([record("team-a", [KEY])]);
    let time = 0;
    const cache = createKeyLookupCache(store, { ttlMs: 30_000, lookupsPerSecond: 10, lookupBurst: 20, now: () => time });
    await cache.findByHash(sha256Hex(KEY));
    const flood = await Promise.allSettled(Array.from({ length: 500 }, (_, index) => cache.findByHash(sha256Hex(`gw-wrong-${index}`))));
    const throttled = flood.filter((result) => result.status === "rejected");
    expect(findByHash).toHaveBeenCalledTimes(20);
    expect(throttled).toHaveLength(481);
    const error = (throttled[0] as PromiseRejectedResult).reason as KeyLookupThrottledError;
    expect(error).toBeInstanceOf(KeyLookupThrottledError);
    expect(error).toMatchObject({ status: 503, code: "key_lookups_throttled", headers: { "retry-after": "1" } });
    expect((await cache.findByHash(sha256Hex(KEY)))?.id).toBe("team-a");
    // The ration refills with time: ten reads a second.
    time += 1_000;
    await Promise.allSettled(Array.from({ length: 50 }, (_, index) => cache.findByHash(sha256Hex(`gw-later-${index}`))));
    expect(findByHash).toHaveBeenCalledTimes(30);
  });
});

describe("identifying a caller with a key store", () => {
  // A caller known without the store comes at once (a thrown error, not a rejection): one way to await both here.
  const identify = async (...args: Parameters<typeof identifyCaller>) => identifyCaller(...args);
  const store = countingStore([
    record("team-a", [KEY], { limits: { usdPerDay: 5 }, permissions: { models: ["gpt-4o"] }, project: "proj_a", expiresAt: "2099-01-01T00:00:00.000Z" }),
    record("gone", [OTHER], { revokedAt: T0 }),
  ]).store;
  const managedOnly = createCredentials({ providers: {}, gatewayKeys: [{ id: "secret-key", key: "gw-from-the-secret-0123" }], allowPassthrough: false });
  const mixed = createCredentials({ providers: {}, gatewayKeys: [], allowPassthrough: true });

  it("finds a generated key by its hash, with its limits, permissions, project and prefix", async () => {
    const caller = await identify(`Bearer ${KEY}`, managedOnly, store, true);
    expect(caller).toEqual({
      mode: "managed",
      keyId: "team-a",
      keyDigest: sha256Hex(KEY),
      limits: { usdPerDay: 5 },
      permissions: { models: ["gpt-4o"] },
      project: "proj_a",
      prefix: KEY.slice(0, 10),
      expiresAt: "2099-01-01T00:00:00.000Z",
    });
  });

  it("still takes the secret's keys, and refuses a revoked key with its reason", async () => {
    expect(await identify("Bearer gw-from-the-secret-0123", managedOnly, store, true)).toMatchObject({ mode: "managed", keyId: "secret-key" });
    const error = await identify(`Bearer ${OTHER}`, managedOnly, store, true).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key", message: "This gateway key has been revoked." });
  });

  it("never passes an unknown gw- key to a provider as the caller's own key, while other keys pass", async () => {
    const unknown = `gw-${"C".repeat(43)}`;
    await expect(identify(`Bearer ${unknown}`, mixed, store, true)).rejects.toMatchObject({ status: 401, message: "Incorrect gateway key provided." });
    await expect(identify("Bearer gw-short", mixed, store, true)).rejects.toMatchObject({ status: 401 });
    expect(await identify("Bearer sk-my-own-provider-key", mixed, store, true)).toEqual({ mode: "passthrough", authorization: "Bearer sk-my-own-provider-key" });
  });

  it("does not look up tokens that cannot be generated keys", async () => {
    const counted = countingStore([]);
    await identify("Bearer sk-my-own-provider-key", mixed, counted.store, true);
    await identify(`Bearer gw-${"A".repeat(42)}!`, mixed, counted.store, true).catch(() => undefined);
    expect(counted.findByHash).not.toHaveBeenCalled();
  });
});

describe("key store settings", () => {
  it("GATEWAY_KEYS_FILE or GATEWAY_KEYS_TABLE (with its cache time) names the store, and turns passthrough off unless asked", () => {
    expect(loadConfig({ GATEWAY_KEYS_FILE: "./keys.json" })).toMatchObject({ keys: { source: "file", path: "./keys.json" }, credentials: { allowPassthrough: false } });
    expect(loadConfig({ GATEWAY_KEYS_TABLE: "T" })).toMatchObject({ keys: { source: "dynamodb", tableName: "T", cacheTtlMs: 30_000 } });
    expect(loadConfig({ GATEWAY_KEYS_TABLE: "T", GATEWAY_KEYS_CACHE_TTL_SECONDS: "5" }).keys).toMatchObject({ cacheTtlMs: 5_000 });
    expect(loadConfig({ GATEWAY_KEYS_FILE: "k", GATEWAY_ALLOW_PASSTHROUGH: "true" }).credentials).toMatchObject({ allowPassthrough: true });
    expect(loadConfig({}).keys).toBeUndefined();
    expect(loadConfig({}).credentials).toMatchObject({ allowPassthrough: true });
  });

  it("refuses both stores at once, or a cache time past an hour, naming the variable", () => {
    expect(() => loadConfig({ GATEWAY_KEYS_FILE: "k", GATEWAY_KEYS_TABLE: "T" })).toThrow("GATEWAY_KEYS_FILE and GATEWAY_KEYS_TABLE are both set; keys live in one place.");
    expect(() => loadConfig({ GATEWAY_KEYS_TABLE: "T", GATEWAY_KEYS_CACHE_TTL_SECONDS: "7200" })).toThrow(/GATEWAY_KEYS_CACHE_TTL_SECONDS must be an integer from 0 to 3600/);
  });
});
