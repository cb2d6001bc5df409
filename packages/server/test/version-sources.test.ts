import type { ResourceDef } from "@causeway/core";
import { afterEach, describe, expect, it } from "vitest";
import { timeSource } from "../src/sources/time-source.js";
import type { SourceSink, VersionSource } from "../src/sources/version-source.js";
import { startVersionSources, type VersionSources } from "../src/sources/version-sources.js";
import { collectingLogger, waitFor } from "./helpers.js";
import { ManualTimers, sourcesHarness, type SourcesHarness } from "./sources-harness.js";

let h: SourcesHarness | undefined;
let sources: VersionSources | undefined;
afterEach(async () => {
  await sources?.stop();
  await h?.close();
  sources = undefined;
  h = undefined;
});

/** A source that watches params resources by their data, and says what it started and stopped. */
function recordingSource(): VersionSource & { log: string[]; sinks: Map<string, SourceSink> } {
  const log: string[] = [];
  const sinks = new Map<string, SourceSink>();
  return {
    name: "fake",
    createdBy: "fake",
    log,
    sinks,
    watchKey: (def: ResourceDef) => (def.type === "params" ? JSON.stringify(def.template) : undefined),
    watch(def, sink) {
      log.push(`start ${def.name} ${JSON.stringify(def.template)}`);
      sinks.set(def.name, sink);
      return {
        stop: () => {
          log.push(`stop ${def.name}`);
          return Promise.resolve();
        },
      };
    },
  };
}

const params = (...entries: [string, string][]): string =>
  `resources:\n${entries.map(([name, a]) => `  - name: ${name}\n    type: params\n    versionTemplate: { params: { A: "${a}" } }\n`).join("")}`;

describe("startVersionSources", () => {
  it("watches what each source watches, and follows every apply: added, changed, unchanged, removed", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:00Z");
    h = await sourcesHarness(timers);
    await h.apply(
      params(["a", "1"], ["b", "1"]) + "  - name: t\n    type: trigger\n    versionTemplate: { counter: 1 }\n",
    );
    const fake = recordingSource();
    sources = startVersionSources({ engine: h.engine, sources: [fake], logger: collectingLogger(), timers });
    expect(fake.log).toEqual(['start a {"params":{"A":"1"}}', 'start b {"params":{"A":"1"}}']);
    expect([...sources.watched()]).toEqual([
      ["a", ["fake"]],
      ["b", ["fake"]],
    ]);

    fake.log.length = 0;
    await h.apply(params(["a", "2"], ["b", "1"], ["c", "1"]));
    await waitFor("the reconcile after the apply", () => fake.log.length >= 3);
    expect(fake.log).toEqual(["stop a", 'start a {"params":{"A":"2"}}', 'start c {"params":{"A":"1"}}']);

    fake.log.length = 0;
    await h.apply(params(["a", "2"], ["c", "1"]));
    await waitFor("the reconcile after the removal", () => fake.log.length >= 1);
    expect(fake.log).toEqual(["stop b"]);
    expect([...sources.watched().keys()]).toEqual(["a", "c"]);

    // Every version goes through putVersion with the key: a repeat creates nothing.
    const sink = fake.sinks.get("a");
    const first = await sink?.record({ versionName: "x" }, "k1");
    const again = await sink?.record({ versionName: "y" }, "k1");
    expect(first).toMatchObject({ duplicate: false, version: { versionName: "x", createdBy: "fake" } });
    expect(again).toMatchObject({ duplicate: true, version: { id: first?.version.id } });

    fake.log.length = 0;
    await sources.stop();
    expect(fake.log.sort()).toEqual(["stop a", "stop c"]);
    await expect(sink?.record({ versionName: "z" }, "k2")).rejects.toThrow(/stopped/);
    expect((await h.versions("a")).map((v) => v.versionName)).toEqual(["", "", "x"]);
  });
});

const NIGHTLY = (interval: string, extra = "") => `
resources:
  - name: every5
    type: time
    versionTemplate:
      interval: "${interval}"${extra}
jobs:
  - name: on_tick
    type: runSh
    steps:
      - IN: every5
      - TASK: { script: [ "true" ] }
`;

describe("time resources", () => {
  it("creates one version per tick, named after it, that triggers the job", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:30Z");
    h = await sourcesHarness(timers);
    await h.apply(NIGHTLY("*/5 * * * *"));
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger: collectingLogger(), timers });
    expect(timers.pending).toBe(1);
    await timers.advanceTo("2026-03-02T10:04:59Z");
    expect(await h.versions("every5")).toHaveLength(1);

    await timers.advanceTo("2026-03-02T10:12:00Z");
    const versions = await h.versions("every5");
    expect(versions.map((v) => [v.versionName, v.createdBy])).toEqual([
      ["", "yaml"],
      ["2026-03-02T10:05:00.000Z", "time"],
      ["2026-03-02T10:10:00.000Z", "time"],
    ]);
    expect(versions[1]?.propertyBag).toMatchObject({ interval: "*/5 * * * *", tickAt: "2026-03-02T10:05:00.000Z" });
    await h.engine.idle();
    const runs = await h.stores.store.read.listRuns({ job: "on_tick" });
    expect(runs.map((r) => r.trigger)).toEqual([
      expect.objectContaining({ kind: "version", versionId: versions[2]?.id }),
      expect.objectContaining({ kind: "version", versionId: versions[1]?.id }),
    ]);
  });

  it("records a tick missed while the server was down once, the latest, and never again", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:30Z");
    h = await sourcesHarness(timers);
    await h.apply(NIGHTLY("* * * * *"));
    const logger = collectingLogger();
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger, timers });
    await timers.advanceTo("2026-03-02T10:01:00Z");
    await sources.stop();
    expect((await h.versions("every5")).map((v) => v.versionName)).toEqual(["", "2026-03-02T10:01:00.000Z"]);

    // Down for three hours: 180 ticks missed, one version at start.
    timers.jumpTo("2026-03-02T13:01:30Z");
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger, timers });
    await waitFor("the missed tick", async () => (await h?.versions("every5"))?.length === 3);
    await waitFor("the next timer", () => timers.pending === 1);
    await sources.stop();
    // Started again at the same moment: nothing more.
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger, timers });
    await waitFor("the next timer", () => timers.pending === 1);
    expect((await h.versions("every5")).map((v) => v.versionName)).toEqual([
      "",
      "2026-03-02T10:01:00.000Z",
      "2026-03-02T13:01:00.000Z",
    ]);
    expect(logger.lines.filter((l) => l.startsWith("every5: tick"))).toEqual([
      "every5: tick 2026-03-02T10:01:00.000Z",
      "every5: tick 2026-03-02T13:01:00.000Z",
    ]);
  });

  it("never records a tick twice: a tick whose key is recorded already creates nothing", async () => {
    const timers = new ManualTimers("2026-03-02T10:00:30Z");
    h = await sourcesHarness(timers);
    await h.apply(NIGHTLY("*/5 * * * *"));
    const logger = collectingLogger();
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger, timers });
    // The 10:05 tick recorded already (by a server that died right after its commit, or
    // another replica), while this watch still waits for it.
    await h.engine.putVersion("every5", { versionName: "2026-03-02T10:05:00.000Z" }, "time", {
      key: "2026-03-02T10:05:00.000Z",
    });
    const before = await h.versions("every5");
    await timers.advanceTo("2026-03-02T10:06:00Z");
    expect(await h.versions("every5")).toEqual(before);
    expect(logger.lines.filter((l) => l.startsWith("every5: tick"))).toEqual([]);
    await h.engine.idle();
    expect(await h.stores.store.read.listRuns({ job: "on_tick" })).toHaveLength(1);
  });

  it("does not fire a tick that passed before the schedule was defined or changed, and follows the new schedule", async () => {
    const timers = new ManualTimers("2026-03-02T10:03:00Z");
    h = await sourcesHarness(timers);
    await h.apply(NIGHTLY("0 * * * *"));
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger: collectingLogger(), timers });
    await timers.advanceTo("2026-03-02T10:59:00Z");
    await h.apply(NIGHTLY("30 11 * * *", "\n      timeZone: Europe/Paris"));
    await waitFor("the new schedule's timer", () => timers.pending === 1);
    // 11:00 UTC (the old schedule) passes; 11:30 in Paris is 10:30 UTC the next day.
    await timers.advanceTo("2026-03-03T10:29:00Z");
    expect((await h.versions("every5")).filter((v) => v.createdBy === "time")).toEqual([]);
    await timers.advanceTo("2026-03-03T10:31:00Z");
    expect((await h.versions("every5")).filter((v) => v.createdBy === "time").map((v) => v.versionName)).toEqual([
      "2026-03-03T10:30:00.000Z",
    ]);
  });

  it("reads the legacy seed.interval as Shippable wrote it", async () => {
    const timers = new ManualTimers("2026-03-02T10:03:00Z");
    h = await sourcesHarness(timers);
    await h.apply('resources:\n  - name: nightly\n    type: time\n    seed:\n      interval: "0 3 * * *"\n');
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger: collectingLogger(), timers });
    // Timers are set an hour at most (Node's overflow past 24.8 days), then set again.
    expect(timers.nextAt()).toBe("2026-03-02T11:03:00.000Z");
    await timers.advanceTo("2026-03-03T03:00:00Z");
    expect((await h.versions("nightly")).map((v) => v.versionName)).toEqual(["", "2026-03-03T03:00:00.000Z"]);
  });

  it("does not watch a time resource whose schedule is invalid (PIPELINE_INVALID_SCHEDULE)", async () => {
    const timers = new ManualTimers("2026-03-02T10:03:00Z");
    h = await sourcesHarness(timers);
    await h.apply(NIGHTLY("0 25 * * *"));
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger: collectingLogger(), timers });
    expect(sources.watched().size).toBe(0);
    expect(timers.pending).toBe(0);
  });
});

describe("a real one-minute schedule", () => {
  it("fires once at the next minute, on the real clock", async () => {
    const clock = {
      now: () => new Date(),
      setTimeout,
      clearTimeout: (t: unknown) => clearTimeout(t as NodeJS.Timeout),
    };
    h = await sourcesHarness(clock);
    await h.apply(NIGHTLY("* * * * *"));
    const started = new Date();
    sources = startVersionSources({ engine: h.engine, sources: [timeSource()], logger: collectingLogger() });
    const tick = await waitFor(
      "the first tick",
      async () => (await h?.versions("every5"))?.find((v) => v.createdBy === "time"),
      75_000,
    );
    await sources.stop();
    const minute = new Date(Math.ceil((started.getTime() + 1) / 60_000) * 60_000).toISOString();
    expect(tick.versionName).toBe(minute);
    expect((await h.versions("every5")).filter((v) => v.createdBy === "time")).toHaveLength(1);
  }, 90_000);
});
