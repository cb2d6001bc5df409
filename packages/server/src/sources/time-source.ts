import { dueTick, nextTick, readSchedule, type ResourceDef, type Schedule } from "@causeway/core";
import type { SourceSink, SourceWatch, VersionSource } from "./version-source.js";

/** The longest a timer is set for: later ticks are reached by setting it again (Node's timers overflow past 24.8 days). */
const MAX_TIMER_MS = 60 * 60 * 1000;
/** After a failed record, the tick is tried again after this long (the key keeps it single). */
const RETRY_MS = 5_000;

/**
 * `time` resources (shippable.md §4.13): each tick of the resource's cron schedule records one
 * version (created by `time`, named after the tick's ISO time, key the same), which triggers the
 * resource's consumers. At the start of a watch (a server start, a new or changed schedule),
 * the latest tick since the resource's latest version, if any, is recorded once: a server that
 * was down for a day with a one-minute schedule records one tick, not 1,440. A tick recorded
 * before (a restart right after it) creates nothing: the key.
 */
export function timeSource(): VersionSource {
  return {
    name: "time",
    createdBy: "time",
    watchKey(def) {
      const schedule = scheduleOf(def);
      return schedule === undefined ? undefined : `${schedule.interval}\0${schedule.timeZone}`;
    },
    watch(def, sink) {
      const schedule = scheduleOf(def);
      if (schedule === undefined) return { stop: () => Promise.resolve() };
      return watchSchedule(schedule, sink);
    },
  };
}

function scheduleOf(def: ResourceDef): Schedule | undefined {
  if (def.type !== "time") return undefined;
  const result = readSchedule(def.template);
  return result.ok ? result.schedule : undefined;
}

function watchSchedule(schedule: Schedule, sink: SourceSink): SourceWatch {
  const { timers } = sink;
  // Ticks after this time are still to be recorded. A version made when the resource was
  // defined or its schedule changed counts as a start: a schedule defined at 10:03 does not
  // fire its 10:00 tick.
  const createdAt = sink.latest()?.createdAt;
  let after = createdAt === undefined ? timers.now() : new Date(createdAt);
  let timer: unknown;
  let recording: Promise<void> | undefined;
  let stopped = false;

  let said = false;
  const arm = (ms: number, retry = false): void => {
    if (stopped) return;
    timer = timers.setTimeout(wake, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    // Once per watch (a start, a new schedule), after any missed tick was recorded.
    if (said || retry) return;
    said = true;
    const next = new Date(timers.now().getTime() + ms).toISOString();
    sink.logger.info(`${sink.resource}: schedule "${schedule.interval}" (${schedule.timeZone}), next tick ${next}`, {
      event: "schedule",
      resource: sink.resource,
      next,
    });
  };

  const record = async (tick: Date): Promise<void> => {
    const at = tick.toISOString();
    const { duplicate } = await sink.record({ versionName: at, propertyBag: { tickAt: at } }, at);
    if (!duplicate)
      sink.logger.info(`${sink.resource}: tick ${at}`, { event: "tick", resource: sink.resource, tick: at });
  };

  function wake(): void {
    timer = undefined;
    const now = timers.now();
    const tick = dueTick(schedule, after, now);
    if (tick === undefined) {
      const next = nextTick(schedule, now);
      if (next !== undefined) arm(next.getTime() - now.getTime());
      return;
    }
    recording = record(tick).then(
      () => {
        after = now;
        recording = undefined;
        // From the wake's time: a tick that fell while the record was written is not skipped.
        const next = nextTick(schedule, now);
        if (next !== undefined) arm(next.getTime() - timers.now().getTime());
      },
      (error: unknown) => {
        recording = undefined;
        if (stopped) return;
        sink.logger.error(`${sink.resource}: cannot record the tick ${tick.toISOString()}`, error, {
          event: "tick",
          resource: sink.resource,
        });
        arm(RETRY_MS, true);
      },
    );
  }

  wake();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      await recording;
    },
  };
}
