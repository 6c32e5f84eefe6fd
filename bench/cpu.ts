/**
 * CPU time of the processes a bench runs, from Linux's /proc (NaN where there is none), to tell waiting from
 * working: a wall time well above the CPU of xeks and moto together is time spent waiting (latency, polls, a
 * machine busy with other work). Not a `*.bench.ts` file: bench/run.ts does not run it.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Fields of a /proc/PID/stat line after the command name: index 0 is field 3 (state), so field N is N - 3. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const HZ = 100;

/**
 * CPU seconds (user + system) moto_server has used so far: the process whose command line is
 * `… moto_server … -p PORT`. moto works on one request at a time (Python), so its CPU close to the wall time
 * means moto is what the bench waits for.
 */
export function motoCpuSeconds(port: number): number {
  try {
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      let args: string[];
      try {
        args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      } catch {
        continue; // gone, or not ours to read
      }
      const p = args.indexOf("-p");
      if (p < 0 || args[p + 1] !== String(port) || !args.some((a) => a.endsWith("moto_server"))) continue;
      const f = statFields(`/proc/${pid}/stat`);
      return (Number(f[11]) + Number(f[12])) / HZ; // utime (14), stime (15)
    }
  } catch {
    // no /proc
  }
  return Number.NaN;
}

/** CPU seconds of this process's children that have exited and been waited for (cutime + cstime). */
export function exitedChildrenCpuSeconds(): number {
  try {
    const f = statFields("/proc/self/stat");
    return (Number(f[13]) + Number(f[14])) / HZ; // cutime (16), cstime (17)
  } catch {
    return Number.NaN;
  }
}
