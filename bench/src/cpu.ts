import { readFileSync } from "node:fs";

/**
 * The CPU time the whole machine has spent busy so far, in seconds (Linux: `/proc/stat`, every
 * state but idle and iowait), or undefined where it cannot be read. The difference of two
 * readings is what everything on the machine cost between them: the server, its task
 * processes, the kernel's work for them (and anything else running, hence a quiet machine).
 */
export function machineBusySeconds(): number | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/stat", "latin1");
  } catch {
    return undefined;
  }
  return busyFromProcStat(text);
}

/**
 * The busy seconds of `/proc/stat`'s first line: user, nice, system, irq, softirq and steal
 * (not idle, iowait, nor guest time, which user already counts), in USER_HZ ticks (100 a second).
 */
export function busyFromProcStat(text: string): number | undefined {
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (fields === undefined || fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const busy = fields.reduce((sum, n, i) => (i === 3 || i === 4 || i > 7 ? sum : sum + n), 0);
  return busy / 100;
}

/** A process's CPU time and page faults, its own and its reaped children's (`/proc/<pid>/stat`). */
export interface ProcessCost {
  readonly cpuSeconds: number;
  readonly faults: number;
}

/** Reads a `/proc/<pid>/stat` text (times in USER_HZ ticks, as `/proc/stat`); undefined when it is not one. */
export function processCost(stat: string): ProcessCost | undefined {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 10 and 11 (minflt, cminflt), 14 to 17 (utime, stime, cutime, cstime), from field 3.
  const at = (n: number): number => Number(fields[n - 3]);
  const numbers = [10, 11, 14, 15, 16, 17].map(at);
  if (!stat.includes(")") || numbers.some((n) => !Number.isInteger(n) || n < 0)) return undefined;
  const [minflt = 0, cminflt = 0, utime = 0, stime = 0, cutime = 0, cstime = 0] = numbers;
  return { cpuSeconds: (utime + stime + cutime + cstime) / 100, faults: minflt + cminflt };
}

/** What a scenario cost in CPU, as `cpuFigures` reads it. */
export interface ScenarioCpu {
  /** The server process's CPU seconds (user + system) while the scenario ran. */
  readonly serverSeconds: number;
  /** The whole machine's busy CPU seconds meanwhile, or null where they cannot be read. */
  readonly machineSeconds: number | null;
}

/**
 * Where a scenario's time went, in CPU: the server process's milliseconds per job; and, where
 * the machine's busy CPU was read for both, the machine's busy seconds against make's on the
 * same work (`*_cpu_s`), and per job: everything but the server (the task processes and the
 * kernel's work for them, `*_tasks_cpu_ms_per_job`) against all of make's
 * (`make_*_cpu_ms_per_job`, make and its shells). Where both cores are busy throughout, the
 * wall ratio follows the CPU ratio, and these say which side of it grew.
 */
export function cpuFigures(
  name: string,
  jobs: number,
  scenario: ScenarioCpu,
  makeBusy: number | undefined,
): Record<string, number> {
  const out: Record<string, number> = { [`${name}_server_cpu_ms_per_job`]: (scenario.serverSeconds / jobs) * 1000 };
  if (scenario.machineSeconds !== null && makeBusy !== undefined) {
    out[`${name}_cpu_s`] = scenario.machineSeconds;
    out[`make_${name}_cpu_s`] = makeBusy;
    out[`${name}_tasks_cpu_ms_per_job`] = ((scenario.machineSeconds - scenario.serverSeconds) / jobs) * 1000;
    out[`make_${name}_cpu_ms_per_job`] = (makeBusy / jobs) * 1000;
  }
  return out;
}
