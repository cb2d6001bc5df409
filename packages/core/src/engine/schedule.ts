import { Cron } from "croner";

/**
 * The schedule of a `time` resource: a 5-field cron expression as Shippable wrote it
 * (`versionTemplate.interval`, legacy `seed.interval`), evaluated in UTC unless the resource
 * names a time zone (`timeZone`, a Causeway extension: an IANA name such as `Europe/Paris`).
 */
export interface Schedule {
  readonly interval: string;
  readonly timeZone: string;
}

/** A schedule read from a definition, or the problem that makes it unusable. */
export type ScheduleResult =
  | { readonly ok: true; readonly schedule: Schedule }
  | {
      readonly ok: false;
      /** The key the problem is about: `interval` or `timeZone`. */
      readonly key: "interval" | "timeZone";
      readonly message: string;
    };

/** The default time zone of a schedule: Shippable evaluated every `time` resource in UTC. */
export const DEFAULT_TIME_ZONE = "UTC";

/**
 * The schedule of a `time` resource from its definition's data (`interval` and `timeZone`
 * of its `versionTemplate`, or of its legacy `seed` / `pointer`). Never throws: an absent,
 * non-string, malformed or never-firing expression, or an unknown time zone, is a problem.
 */
export function readSchedule(data: Readonly<Record<string, unknown>>): ScheduleResult {
  const interval = data.interval;
  const timeZone = data.timeZone ?? DEFAULT_TIME_ZONE;
  if (interval === undefined || interval === null || interval === "")
    return {
      ok: false,
      key: "interval",
      message: 'a time resource needs an interval (a cron expression, "0 3 * * *")',
    };
  if (typeof interval !== "string")
    return { ok: false, key: "interval", message: `interval must be a cron expression string, not ${typeof interval}` };
  if (typeof timeZone !== "string" || timeZone === "")
    return { ok: false, key: "timeZone", message: "timeZone must be an IANA time zone name such as Europe/Paris" };
  // Pure, and costly (a time-zone lookup, a compiled cron, a search for its first run): a line
  // of thousands of time resources repeats a few schedules, each checked once.
  const memoKey = `${timeZone}\0${interval}`;
  const known = checkedSchedules.get(memoKey);
  if (known !== undefined) return known;
  const result = checkSchedule(interval, timeZone);
  if (checkedSchedules.size >= MAX_CHECKED) checkedSchedules.clear();
  checkedSchedules.set(memoKey, result);
  return result;
}

const checkedSchedules = new Map<string, ScheduleResult>();
const MAX_CHECKED = 1024;

function checkSchedule(interval: string, timeZone: string): ScheduleResult {
  if (!validTimeZone(timeZone))
    return { ok: false, key: "timeZone", message: `unknown time zone ${JSON.stringify(timeZone)}` };
  let cron: Cron;
  try {
    cron = compile({ interval, timeZone });
  } catch (error) {
    return {
      ok: false,
      key: "interval",
      message: `invalid cron expression ${JSON.stringify(interval)}: ${cronMessage(error)}`,
    };
  }
  if (cron.nextRun(new Date(0)) === null)
    return { ok: false, key: "interval", message: `the cron expression ${JSON.stringify(interval)} never fires` };
  return { ok: true, schedule: { interval: interval.trim(), timeZone } };
}

/**
 * The tick that is due at `now`: the latest time of the schedule that is after `after` and at
 * or before `now`, or undefined when there is none. A server that was down for a week with a
 * one-minute schedule gets one tick (the latest), never one per minute it missed.
 */
export function dueTick(schedule: Schedule, after: Date, now: Date): Date | undefined {
  if (now.getTime() <= after.getTime()) return undefined;
  // previousRuns excludes a run exactly at its reference: one millisecond more includes it.
  const [latest] = compile(schedule).previousRuns(1, new Date(now.getTime() + 1));
  return latest !== undefined && latest.getTime() > after.getTime() ? latest : undefined;
}

/** The first time of the schedule strictly after `after`, or undefined when it never fires again. */
export function nextTick(schedule: Schedule, after: Date): Date | undefined {
  return compile(schedule).nextRun(after) ?? undefined;
}

// `5-part`: exactly the five fields Shippable took (no seconds); OR of day-of-month and
// day-of-week when both are restricted, as cron has always done.
function compile(schedule: Schedule): Cron {
  return new Cron(schedule.interval.trim(), { timezone: schedule.timeZone, mode: "5-part", domAndDow: false });
}

function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

// croner's messages start with the class that threw ("CronPattern: Invalid value for minute: 61").
function cronMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron\w*: /, "");
}
