/**
 * Managed gateway keys from a local key file (`GATEWAY_KEYS_FILE`), followed
 * as it changes: at most every `checkIntervalMs` a lookup checks the file's
 * identity, size and modification time, and reads it again when they changed.
 * `npm run keys` replaces the file atomically; a file caught half-edited by
 * hand keeps the previous keys in force until it parses again.
 */
import { readFile, stat } from "node:fs/promises";
import { ConfigurationError } from "../http/errors.ts";
import { KeyRecordError, parseKeyFile, type KeyRecord } from "./key-record.ts";
import type { GatewayKeyStore } from "./key-store.ts";

/** Options of the file key store. */
export interface FileKeyStoreOptions {
  readonly path: string;
  /** How often a lookup may look at the file again (default 500 ms). */
  readonly checkIntervalMs?: number;
  /** Told when a changed file cannot be used (the previous keys stay in force); the message never holds a key. */
  readonly onReloadError?: (error: Error) => void;
  readonly now?: () => number;
}

/** Creates the store; a missing file is a store without keys (the first `npm run keys -- create` writes it). */
export function createFileKeyStore(options: FileKeyStoreOptions): GatewayKeyStore {
  const now = options.now ?? Date.now;
  const checkIntervalMs = options.checkIntervalMs ?? 500;
  let byHash: Map<string, KeyRecord> | undefined;
  let signature: string | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  let reported: string | undefined;

  async function reload(): Promise<void> {
    let seen: string | undefined;
    try {
      seen = await fileSignature(options.path);
      if (seen === signature && byHash !== undefined) return;
      const records = seen === "missing" ? [] : parseKeyFile(await readFile(options.path, "utf8"));
      byHash = new Map(records.flatMap((record) => record.secrets.map((secret) => [secret.sha256, record] as const)));
      signature = seen;
      reported = undefined;
    } catch (error) {
      const problem = describeProblem(error);
      // A file that cannot be parsed is looked at again when it changes, not on every lookup.
      signature = seen;
      if (byHash === undefined) throw problem;
      if (problem.message !== reported) options.onReloadError?.(problem);
      reported = problem.message;
    } finally {
      checkedAt = now();
    }
  }

  return {
    async findByHash(sha256) {
      if (byHash === undefined || now() - checkedAt >= checkIntervalMs) {
        inFlight ??= reload().finally(() => {
          inFlight = undefined;
        });
        await inFlight;
      }
      return byHash?.get(sha256);
    },
  };
}

/** What identifies a version of the file: device, inode, size and modification time, or `missing`. */
async function fileSignature(path: string): Promise<string> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
}

/** The 500 a file problem answers; it names the fault, never the file's content. */
function describeProblem(error: unknown): ConfigurationError {
  const reason = error instanceof KeyRecordError ? error.message : `it cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`;
  return new ConfigurationError(`The key file (GATEWAY_KEYS_FILE) cannot be used: ${reason}.`, { code: "key_file_invalid" });
}
