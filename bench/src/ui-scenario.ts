import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { passthroughEnv } from "@causeway/runner";
import { silentLogger, startServer } from "@causeway/server";
import { chromium } from "playwright-core";

// The web UI scenario in its own process: a real server (store, engine, embedded runner, the
// built UI) on a generated line of JOBS jobs, and Debian's Chromium driven by playwright-core.
// Prints one JSON object.
//
//   node bench/dist/src/ui-scenario.js JOBS
//
// - first render: from the navigation's start to the first graph node drawn (the layout of
//   the whole line done), in the page's own clock;
// - panning: the frame times (requestAnimationFrame deltas) while the mouse drags the graph;
// - live updates: the 100 jobs of one flag run at once (a new version of their shared input),
//   their status changes counted as the page shows them (a MutationObserver on data-state), and
//   their final states compared with the server's: a state the page does not show is dropped.

const CHROMIUM = process.env.CAUSEWAY_CHROMIUM ?? "/usr/bin/chromium";
const WEB_DIST = fileURLToPath(new URL("../../../packages/web/dist", import.meta.url));
const LIVE_JOBS = 100;

// The generated line: `jobs - LIVE_JOBS` jobs in layers of 50, each taking one or two jobs of the
// layer before (a wide DAG, as a large organisation's line), and LIVE_JOBS jobs flagged `live`
// that all take the resource `tick`.
function uiLine(jobs: number): string {
  const out: string[] = ["resources:", "  - name: tick", "    type: params", "    flags: [live]"];
  out.push("    versionTemplate:", "      params:", '        N: "0"', "jobs:");
  const width = 50;
  const dag = Math.max(0, jobs - LIVE_JOBS);
  for (let i = 0; i < dag; i++) {
    out.push(`  - name: j${i}`, "    type: runSh", "    steps:");
    if (i >= width) out.push(`      - IN: j${i - width}`);
    if (i >= width && i % width !== width - 1) out.push(`      - IN: j${i - width + 1}`);
    out.push("      - TASK:", "          script:", "            - true");
  }
  for (let i = 0; i < LIVE_JOBS; i++) {
    out.push(`  - name: live${i}`, "    type: runSh", "    flags: [live]", "    steps:");
    out.push("      - IN: tick", "      - TASK:", "          script:", "            - true");
  }
  return `${out.join("\n")}\n`;
}

const jobs = Number(process.argv[2] ?? "2000");
const dir = await mkdtemp(join(tmpdir(), "causeway-bench-ui-"));
try {
  await mkdir(join(dir, "line"));
  await writeFile(join(dir, "line", "causeway.yml"), uiLine(jobs));
  const server = await startServer({
    dir: join(dir, "line"),
    dataDir: join(dir, "data"),
    port: 0,
    watch: false,
    env: passthroughEnv(process.env),
    sandbox: "off",
    // Enough slots that the 100 live jobs change state faster than 100 times a second: the
    // figure is then the page's pace, not the runner's.
    slots: 16,
    webDir: WEB_DIST,
    logger: silentLogger,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"].concat([
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ]),
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(`${server.url}/#token=${server.token}`);
    await page.waitForSelector("[data-node]", { timeout: 120_000 });
    const firstRenderMs = await page.evaluate<number>("performance.now()");

    // Panning: 60 mouse moves over two seconds, frames recorded meanwhile.
    // In-page scripts are given as text: this file is compiled for Node, without the DOM's types.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__recording = true;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (window.__recording) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const pane = await page.$(".react-flow__pane");
    const box = (await pane?.boundingBox()) ?? { x: 0, y: 0, width: 1600, height: 1000 };
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 60; i++) {
      await page.mouse.move(box.x + box.width / 2 - i * 10, box.y + box.height / 2 - i * 4);
      await page.waitForTimeout(33);
    }
    await page.mouse.up();
    const frames = await page.evaluate<number[]>(`(() => {
      window.__recording = false;
      return window.__frames.slice(1);
    })()`);

    // Live updates: the flag's chain alone, so all its nodes are drawn.
    await page.goto(`${server.url}/?flag=live`);
    await page.waitForSelector(`[data-node="live${LIVE_JOBS - 1}"]`, { timeout: 60_000 });
    await page.evaluate(`(() => {
      window.__changes = 0;
      window.__firstAt = 0;
      window.__lastAt = 0;
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.attributeName !== "data-state" || !(r.target.getAttribute("data-node") ?? "").startsWith("live")) continue;
          window.__changes++;
          const now = performance.now();
          if (window.__firstAt === 0) window.__firstAt = now;
          window.__lastAt = now;
        }
      }).observe(document.body, { attributes: true, subtree: true, attributeFilter: ["data-state"] });
    })()`);
    const putAt = performance.now();
    const put = await fetch(`${server.url}/api/v1/objects/tick/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ versionName: "bench" }),
    });
    if (put.status !== 201) throw new Error(`a version of tick: ${put.status} ${await put.text()}`);
    const expected = await waitForServer(server.url, server.token);
    // How long the server took to run them all (seen from here, by polling): the pace the page
    // had to keep.
    const serverSpanMs = performance.now() - putAt;
    await page
      .waitForFunction(
        `document.querySelectorAll('[data-node^="live"][data-state="success"]').length >= ${LIVE_JOBS}`,
        undefined,
        { timeout: 60_000 },
      )
      .catch(() => undefined);
    const shown = await page.evaluate<{ changes: number; spanMs: number; states: Record<string, string> }>(`(() => {
      const states = {};
      for (const el of document.querySelectorAll("[data-node]")) states[el.getAttribute("data-node")] = el.getAttribute("data-state");
      return { changes: window.__changes, spanMs: window.__lastAt - window.__firstAt, states };
    })()`);
    const dropped = Object.entries(expected).filter(([name, state]) => shown.states[name] !== state).length;
    process.stdout.write(
      `${JSON.stringify({
        jobs,
        first_render_ms: firstRenderMs,
        frames_ms: frames,
        live_changes: shown.changes,
        live_span_ms: shown.spanMs,
        live_server_ms: serverSpanMs,
        live_dropped: dropped,
      })}\n`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

// The final states of the live jobs, once every one of them has succeeded, from the server.
async function waitForServer(url: string, token: string): Promise<Record<string, string>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/graph`, { headers: { authorization: `Bearer ${token}` } });
    const graph = (await res.json()) as { nodes: { name: string; state: string }[] };
    const live = graph.nodes.filter((n) => n.name.startsWith("live"));
    if (live.every((n) => n.state === "success")) return Object.fromEntries(live.map((n) => [n.name, n.state]));
    if (Date.now() > deadline) throw new Error("the live jobs did not all succeed in 60 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}
