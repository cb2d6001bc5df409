import { cp, mkdir, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { RunSchema, SESSION_COOKIE, type RunJson } from "@causeway/protocol";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDemoRepo } from "../../../../scripts/demo-repo.mjs";
import {
  browserMissing,
  ensureBuilt,
  launchBrowser,
  REPO,
  screenshot,
  startUiServer,
  stopUiServer,
  tempRoot,
  writeLine,
  type UiServer,
} from "./harness.js";

// The web UI end to end: the built server serving the built UI, on the example line
// (examples/hello-line, with its app repository made in a temp directory) and a line of this
// test's own (a job that waits for a gate file, one that fails, one behind an approval gate,
// one that sleeps until cancelled), in Debian's Chromium. Each check watches the page change
// by itself, from the server's events: the page is never reloaded to see a state.

const missing = browserMissing();
if (missing !== undefined) console.log(`web UI end-to-end tests skipped: ${missing}`);

const STEP_MS = 20_000;

describe.skipIf(missing !== undefined)("the web UI in Chromium", () => {
  let root: { dir: string; remove(): Promise<void> };
  let server: UiServer | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let gate = "";
  let lines: string[] = [];
  let dataDir = "";

  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    if (server === undefined) throw new Error("no server");
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  };
  const trigger = async (job: string): Promise<RunJson> => RunSchema.parse(await api("POST", `/jobs/${job}/runs`));
  const node = (name: string) => page.locator(`[data-node="${name}"]`);
  const expectState = async (name: string, state: string): Promise<void> => {
    await node(name)
      .and(page.locator(`[data-state="${state}"]`))
      .waitFor({ timeout: STEP_MS });
  };
  const openGraph = async (query = ""): Promise<void> => {
    await page.goto(`${server?.url ?? ""}/${query}`);
    await page.locator('[data-testid="graph"][data-layout="done"]').waitFor({ timeout: STEP_MS });
  };

  beforeAll(async () => {
    ensureBuilt();
    root = await tempRoot();
    // The example line as `npm start` runs it (its deploy root in the temp directory).
    const example = join(REPO, "examples/hello-line");
    const hello = join(root.dir, "hello-line");
    await cp(example, hello, {
      recursive: true,
      filter: (src) => !relative(example, src).split(sep)[0]?.includes("app-repo"),
    });
    const home = join(root.dir, "home");
    await mkdir(home);
    ensureDemoRepo(join(hello, "app-repo"), { env: { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: "1" } });
    gate = join(root.dir, "gate");
    const own = await writeLine(join(root.dir, "ui-line"), {
      "causeway.yml": `
jobs:
  - name: slow
    type: runSh
    steps:
      - TASK:
          script:
            - while [ ! -e ${gate} ]; do sleep 0.05; done
            - echo passed the gate
  - name: broken
    type: runSh
    steps:
      - TASK:
          name: compile
          script:
            - echo compiling
            - ls /no/such/directory
            - echo never here
  - name: gated
    type: runSh
    requiresApproval: true
    steps:
      - TASK:
          script:
            - echo released
  - name: deploy_to
    type: runSh
    params:
      TARGET:
        type: choice
        choices: [staging, production]
        required: true
      DRY_RUN:
        type: boolean
        default: false
    steps:
      - TASK:
          script:
            - echo "to $TARGET (dry run $DRY_RUN)"
  - name: sleeper
    type: runSh
    steps:
      - TASK:
          script:
            - sleep 600
`,
    });
    lines = [hello, own];
    dataDir = join(root.dir, "data");
    server = await startUiServer(lines, dataDir);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopUiServer(server);
    await root?.remove();
  });

  it("logs in from the link up prints, keeping the token out of the address and in no cookie", async () => {
    expect(server?.output).toContain(`web UI:   ${server?.url}/#token=${server?.token}`);
    await page.goto(`${server?.url}/#token=${server?.token}`);
    await page.locator('[data-testid="graph"][data-layout="done"]').waitFor({ timeout: STEP_MS });
    expect(page.url()).not.toContain("token");
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(cookies.map((c) => c.value).join(" ")).not.toContain(server?.token ?? "?");
  });

  it("asks a visitor without a session for a token, refuses a wrong one, and shows a viewer no action", async () => {
    const made = (await api("POST", "/tokens", { name: "visitor", role: "viewer" })) as { token: string };
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await visitor.newPage();
      await page.goto(`${server?.url}/?select=build`);
      await page.locator('[data-testid="login-form"]').waitFor({ timeout: STEP_MS });
      await page.locator('[data-testid="login-token"]').fill("cw_not-a-token");
      await page.locator('[data-testid="login-submit"]').click();
      await page.locator('[data-testid="problem"][data-code="UNAUTHORIZED"]').waitFor({ timeout: STEP_MS });
      await page.locator('[data-testid="login-token"]').fill(made.token);
      await page.locator('[data-testid="login-submit"]').click();
      await page.locator('[data-testid="graph"][data-layout="done"]').waitFor({ timeout: STEP_MS });
      await page.locator('[data-testid="role"][data-role="viewer"]').waitFor({ timeout: STEP_MS });
      // The panel of the deep link opens, with the job's runs but no action for a viewer.
      await page.locator('[data-testid="panel"][data-panel="build"]').waitFor({ timeout: STEP_MS });
      await expect(page.locator('[data-testid="run"]').count()).resolves.toBe(0);
    } finally {
      await visitor.close();
    }
  });

  it("draws the example line: its jobs and resources, IN and OUT edges, the switched-off edge dotted", async () => {
    await openGraph();
    for (const [name, kind] of [
      ["app_repo", "resource"],
      ["build", "job"],
      ["app_build", "resource"],
      ["deploy_staging", "job"],
      ["smoke_test", "job"],
      ["deploy_production", "job"],
      ["slow", "job"],
    ] as const) {
      await expect(node(name).getAttribute("data-kind")).resolves.toBe(kind);
    }
    await expect(page.locator('[data-edge="app_repo->build"]').count()).resolves.toBe(1);
    await expect(page.locator('[data-edge="build->app_build"]').count()).resolves.toBe(1);
    await expect(
      page.locator('[data-edge="smoke_test->deploy_production"]').getAttribute("data-switch-off"),
    ).resolves.toBe("true");
    // The first commit of the app builds by itself.
    await expectState("build", "success");
    await screenshot(page, "graph");
  });

  it("turns a job blue then green live when it is run by hand", async () => {
    await openGraph("?select=slow");
    // Where the layout put the node, in the graph's coordinates (the view may pan to it).
    const placed = () => node("slow").evaluate((el) => el.closest<HTMLElement>(".react-flow__node")?.style.transform);
    const before = await placed();
    expect(before).toMatch(/translate/);
    await page.locator('[data-testid="run"]').click();
    await expectState("slow", "processing");
    await writeFile(gate, "");
    await expectState("slow", "success");
    // A state change never moves a node.
    expect(await placed()).toBe(before);
  });

  it("runs a job with typed parameters from its form", async () => {
    await openGraph("?select=deploy_to");
    // TARGET is required and has no default: the form asks for it at once.
    const target = page.locator('[data-testid="param-TARGET"]');
    await target.waitFor({ timeout: STEP_MS });
    await target.selectOption("production");
    await page.locator('[data-testid="param-DRY_RUN"]').check();
    await page.locator('[data-testid="run"]').click();
    await page.locator('[data-testid="run-result"]').waitFor({ timeout: STEP_MS });
    const runs = (await api("GET", "/runs?job=deploy_to")) as RunJson[];
    expect(runs[0]?.params).toEqual({ TARGET: "production", DRY_RUN: "true" });
    await expectState("deploy_to", "success");
  });

  it("turns a failing job red, and its console shows the failing command", async () => {
    const run = await trigger("broken");
    await openGraph();
    await expectState("broken", "failure");
    await page.goto(`${server?.url}/runs/${run.id}`);
    const failed = page.locator('[data-testid="console-command"][data-failed="true"]');
    await failed.first().waitFor({ timeout: STEP_MS });
    await expect(failed.count()).resolves.toBe(1);
    await expect(failed.innerText()).resolves.toContain("ls /no/such/directory");
    // The run page says how the run ended, live from the run's events.
    await page.locator('[data-testid="run-page"][data-status="failure"]').waitFor({ timeout: STEP_MS });
    await screenshot(page, "run");
  });

  it("approves a gated run and cancels a running one", async () => {
    await trigger("gated");
    await openGraph("?select=gated");
    await expectState("gated", "waiting_approval");
    await page
      .getByRole("button", { name: /^Approve/ })
      .first()
      .click();
    await expectState("gated", "success");

    await trigger("sleeper");
    await openGraph("?select=sleeper");
    await expectState("sleeper", "processing");
    await page
      .getByRole("button", { name: /^Cancel/ })
      .first()
      .click();
    await expectState("sleeper", "cancelled");
  });

  it("restores a view from its link: a flag's chain and a selected job", async () => {
    await openGraph("?flag=build&select=build");
    await node("build").waitFor({ timeout: STEP_MS });
    // The flag's chain: the build and everything up- and downstream of it; not the test's jobs.
    await expect(node("deploy_production").count()).resolves.toBe(1);
    await expect(node("slow").count()).resolves.toBe(0);
    await expect(page.locator('[data-testid="panel"]').innerText()).resolves.toContain("build");
    await screenshot(page, "panel");
  });

  it("survives a server restart: it reconnects by itself and shows what happened meanwhile", async () => {
    await openGraph();
    const port = server?.port ?? 0;
    await stopUiServer(server);
    server = undefined;
    // The page says it lost the server, and tries again by itself.
    await page.locator('[data-testid="reconnecting"]').waitFor({ timeout: STEP_MS });
    server = await startUiServer(lines, dataDir, port);
    // gated was a success: its new run waits for approval, a state the page can only learn live.
    await trigger("gated");
    await expectState("gated", "waiting_approval");
    await page.locator('[data-testid="reconnecting"]').waitFor({ state: "detached", timeout: STEP_MS });
    await screenshot(page, "graph-live");
  });
});
