/**
 * The key file as the key command writes it: read whole, changed, and
 * replaced atomically (a new file renamed over the old one, mode 0600), under
 * a lock file so that two commands run at once do not lose a change. A
 * gateway following the file (access/file-key-store.ts) sees either the old
 * file or the new one.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { formatKeyFile, parseKeyFile, type KeyRecord } from "../shared/access/key-record.ts";
import type { KeyAdminStore } from "./key-admin-store.ts";
import { KeyCommandError } from "./key-changes.ts";

/** A lock older than this was left by a command that died: it is broken. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

/** Opens the key file at `path` (created by the first change). */
export function createFileKeyAdmin(path: string): KeyAdminStore {
  async function read(): Promise<KeyRecord[]> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new KeyCommandError(`Cannot read the key file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}).`);
    }
    try {
      return parseKeyFile(text);
    } catch (error) {
      throw new KeyCommandError(`The key file ${path} cannot be used: ${(error as Error).message}.`);
    }
  }

  async function write(records: readonly KeyRecord[]): Promise<void> {
    const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(temporary, formatKeyFile([...records].sort((a, b) => a.id.localeCompare(b.id))), { mode: 0o600, flag: "wx" });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new KeyCommandError(`Cannot write the key file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}).`);
    }
  }

  /** Runs `work` holding the lock file `<path>.lock`. */
  async function locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${path}.lock`;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const until = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, "wx", 0o600)).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new KeyCommandError(`Cannot lock the key file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}).`);
        const age = await stat(lock).then((info) => Date.now() - info.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        else if (Date.now() > until) throw new KeyCommandError(`The key file ${path} is locked by another command (${lock}); try again.`);
        else await sleep(20 + Math.random() * 30);
      }
    }
    try {
      return await work();
    } finally {
      await rm(lock, { force: true });
    }
  }

  return {
    description: `key file ${path}`,
    async list() {
      return (await read()).sort((a, b) => a.id.localeCompare(b.id));
    },
    async get(id) {
      return (await read()).find((record) => record.id === id);
    },
    create(record) {
      return locked(async () => {
        const records = await read();
        if (records.some((existing) => existing.id === record.id)) throw new KeyCommandError(`A gateway key with id ${record.id} exists already (update or rotate it).`);
        await write([...records, record]);
      });
    },
    update(id, change) {
      return locked(async () => {
        const records = await read();
        const index = records.findIndex((record) => record.id === id);
        const current = records[index];
        if (current === undefined) throw new KeyCommandError(`No gateway key with id ${id} in the key file ${path}.`);
        const changed = change(current);
        records[index] = changed;
        await write(records);
        return changed;
      });
    },
    close() {},
  };
}
