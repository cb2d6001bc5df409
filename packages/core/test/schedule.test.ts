import { describe, expect, it } from "vitest";
import { dueTick, nextTick, readSchedule, type Schedule } from "../src/index.js";

// The rules of `time` resources (docs/semantics.md, "Versions"): a 5-field cron expression in
// UTC, or in the resource's timeZone; a tick missed while the server was down is one tick, the
// latest, never one per missed time.

const utc = (interval: string): Schedule => ({ interval, timeZone: "UTC" });
const t = (iso: string): Date => new Date(iso);

describe("readSchedule", () => {
  it.each([
    [{ interval: "0 3 * * *" }, { interval: "0 3 * * *", timeZone: "UTC" }],
    [{ interval: " */2 * * * * " }, { interval: "*/2 * * * *", timeZone: "UTC" }],
    [
      { interval: "0 5 * * 1-5", timeZone: "Europe/Paris" },
      { interval: "0 5 * * 1-5", timeZone: "Europe/Paris" },
    ],
    [{ interval: "@daily" }, { interval: "@daily", timeZone: "UTC" }],
    [{ interval: "0 6 * * MON" }, { interval: "0 6 * * MON", timeZone: "UTC" }],
  ])("accepts %j", (data, schedule) => {
    expect(readSchedule(data)).toEqual({ ok: true, schedule });
  });

  it.each([
    [{}, "interval", /needs an interval/],
    [{ interval: "" }, "interval", /needs an interval/],
    [{ interval: 5 }, "interval", /must be a cron expression string, not number/],
    [{ interval: "0 25 * * *" }, "interval", /invalid cron expression "0 25 \* \* \*": .*hour/i],
    [{ interval: "* * * * * *" }, "interval", /exactly 5 parts/],
    [{ interval: "every day" }, "interval", /invalid cron expression/],
    [{ interval: "0 0 31 2 *" }, "interval", /never fires/],
    [{ interval: "0 3 * * *", timeZone: "Mars/Olympus" }, "timeZone", /unknown time zone "Mars\/Olympus"/],
    [{ interval: "0 3 * * *", timeZone: 2 }, "timeZone", /IANA/],
  ])("refuses %j, about its %s", (data, key, message) => {
    const result = readSchedule(data);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.key).toBe(key);
    expect(result.message).toMatch(message);
  });
});

describe("dueTick", () => {
  // after ────── tick? ────── now: the latest tick in (after, now], or none.
  it.each([
    [
      "a tick exactly at now is due",
      "*/5 * * * *",
      "2026-01-01T10:00:00Z",
      "2026-01-01T10:05:00Z",
      "2026-01-01T10:05:00.000Z",
    ],
    [
      "a tick just before now is due",
      "*/5 * * * *",
      "2026-01-01T10:00:00Z",
      "2026-01-01T10:06:30Z",
      "2026-01-01T10:05:00.000Z",
    ],
    ["no tick between after and now", "*/5 * * * *", "2026-01-01T10:05:00Z", "2026-01-01T10:09:59Z", undefined],
    [
      "a tick at after itself is not due again",
      "*/5 * * * *",
      "2026-01-01T10:05:00Z",
      "2026-01-01T10:05:00Z",
      undefined,
    ],
    [
      "a week down, a one-minute schedule: only the latest minute",
      "* * * * *",
      "2026-01-01T00:00:00Z",
      "2026-01-08T12:34:56Z",
      "2026-01-08T12:34:00.000Z",
    ],
    [
      "a nightly tick missed while down",
      "0 3 * * *",
      "2026-01-01T02:00:00Z",
      "2026-01-03T01:00:00Z",
      "2026-01-02T03:00:00.000Z",
    ],
    ["now before after: nothing", "* * * * *", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", undefined],
  ])("%s", (_, interval, after, now, due) => {
    expect(dueTick(utc(interval), t(after), t(now))?.toISOString()).toBe(due);
  });

  it("evaluates in the schedule's time zone", () => {
    // 03:00 in Paris is 02:00 UTC in winter.
    const paris = { interval: "0 3 * * *", timeZone: "Europe/Paris" };
    expect(dueTick(paris, t("2026-01-01T00:00:00Z"), t("2026-01-01T02:30:00Z"))?.toISOString()).toBe(
      "2026-01-01T02:00:00.000Z",
    );
    expect(dueTick(utc("0 3 * * *"), t("2026-01-01T00:00:00Z"), t("2026-01-01T02:30:00Z"))).toBeUndefined();
  });
});

describe("nextTick", () => {
  it.each([
    ["*/5 * * * *", "2026-01-01T10:05:00Z", "2026-01-01T10:10:00.000Z"],
    ["*/5 * * * *", "2026-01-01T10:04:59.999Z", "2026-01-01T10:05:00.000Z"],
    ["0 3 * * *", "2026-01-01T03:00:00Z", "2026-01-02T03:00:00.000Z"],
    ["0 5 * * 1-5", "2026-01-02T06:00:00Z", "2026-01-05T05:00:00.000Z"],
  ])("%s after %s is %s", (interval, after, next) => {
    expect(nextTick(utc(interval), t(after))?.toISOString()).toBe(next);
  });
});
