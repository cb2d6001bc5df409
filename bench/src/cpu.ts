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
