/**
 * CPU time a process has used, from /proc/<pid>/stat: what the benchmark and
 * the Lambda emulator compare, because on a shared machine CPU time moves far
 * less with the neighbours' load than wall time does.
 */
import { readFileSync } from "node:fs";

/** USER_HZ, the unit of /proc/<pid>/stat times: 100 on every common Linux build (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process in ms (10 ms resolution); NaN when /proc cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name (which may hold spaces) start after its closing ")"; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
