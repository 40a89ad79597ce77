/**
 * A CPU limit for a child process, the way Lambda gives CPU: in proportion to
 * memory, one vCPU at 1,769 MB. The process is started inside its own cgroup
 * with a CFS quota (cgroup v1 `cpu.cfs_quota_us`, or v2 `cpu.max`), so the
 * limit holds from its first instruction: a shell joins the group and then
 * `exec`s the command.
 *
 * Needs a writable cgroup hierarchy (root on a machine without systemd owning
 * it); `createCpuLimit` throws a clear error when there is none, and callers
 * skip what needs it.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Lambda's CPU for a memory size: 1,769 MB is one vCPU (AWS Lambda docs, "Configuring Lambda function memory"). */
export function lambdaCpuShare(memoryMb: number): number {
  return memoryMb / 1769;
}

/** A cgroup that limits the processes started through it. */
export interface CpuLimit {
  /** The share of one CPU (0.072 at 128 MB). */
  readonly share: number;
  /** A command and arguments that run `command args…` inside the group. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Removes the group (its processes must have exited). */
  remove(): void;
}

const PERIOD_US = 100_000;
const V1_ROOT = "/sys/fs/cgroup/cpu";
const V2_ROOT = "/sys/fs/cgroup";

let sequence = 0;

/**
 * Creates a cgroup limited to `share` of one CPU.
 * @throws when no writable cgroup CPU controller is available
 */
export function createCpuLimit(share: number): CpuLimit {
  if (!(share > 0)) throw new Error(`cpu-limit: share must be above 0, got ${share}`);
  const quota = Math.max(1_000, Math.round(share * PERIOD_US)); // the kernel's smallest quota is 1 ms
  const name = `gateway-bench-${process.pid}-${(sequence += 1)}`;
  let dir: string;
  if (existsSync(join(V1_ROOT, "cpu.cfs_quota_us"))) {
    dir = join(V1_ROOT, name);
    tryWrite(() => {
      mkdirSync(dir);
      writeFileSync(join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
      writeFileSync(join(dir, "cpu.cfs_quota_us"), String(quota));
    }, dir);
  } else if (existsSync(join(V2_ROOT, "cgroup.controllers")) && readFileSync(join(V2_ROOT, "cgroup.controllers"), "utf8").includes("cpu")) {
    dir = join(V2_ROOT, name);
    tryWrite(() => {
      // A child group gets a cpu.max only once the parent hands the controller down.
      if (!readFileSync(join(V2_ROOT, "cgroup.subtree_control"), "utf8").includes("cpu")) writeFileSync(join(V2_ROOT, "cgroup.subtree_control"), "+cpu");
      mkdirSync(dir);
      writeFileSync(join(dir, "cpu.max"), `${quota} ${PERIOD_US}`);
    }, dir);
  } else {
    throw new Error("cpu-limit: no cgroup CPU controller under /sys/fs/cgroup");
  }
  const procs = join(dir, "cgroup.procs");
  return {
    share,
    wrap: (command, args) => ({
      command: "/bin/sh",
      // $$ is the shell's pid; exec keeps it, so the command runs in the group from its start.
      args: ["-c", `echo $$ > '${procs}' && exec "$0" "$@"`, command, ...args],
    }),
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // still busy or already gone: the kernel removes nothing by itself, but a later run uses a new name
      }
    },
  };
}

function tryWrite(write: () => void, dir: string): void {
  try {
    write();
  } catch (error) {
    try {
      rmdirSync(dir);
    } catch {
      // not created
    }
    throw new Error(`cpu-limit: cannot set up ${dir} (${(error as Error).message}); run as root with a writable cgroup CPU controller`);
  }
}
