import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CausewayError, type NewRun } from "@causeway/core";
import { openSqliteStore, type SqliteStores } from "@causeway/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFlow } from "../src/app.js";

// `runs --flow PREFIX` (GET /runs?flow=): a flow is named by its id or by any prefix that starts
// exactly one flow id, as git names commits. Against a real store, with flows chosen to collide.

let dir = "";
let stores: SqliteStores;

function run(flow: string): NewRun {
  return {
    job: "build",
    status: "success",
    statusReason: null,
    trigger: { kind: "manual", by: "test" },
    flow,
    inputs: [],
    params: {},
    secretParams: [],
    priority: 0,
    attempt: 1,
    rerunOf: null,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "causeway-flows-"));
  stores = await openSqliteStore({ dataDir: dir });
  await stores.store.transaction(async (tx) => {
    for (const flow of ["0f1e2d3c-aaaa", "0f1e2d3c-aaaa", "0f1e9999-bbbb", "77aa0000-cccc", "77"])
      await tx.insertRun(run(flow));
  });
});
afterAll(async () => {
  await stores.store.close();
  await rm(dir, { recursive: true, force: true });
});

async function failure(text: string): Promise<CausewayError> {
  const error: unknown = await resolveFlow(stores.store.read, text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CausewayError);
  return error as CausewayError;
}

describe("resolveFlow", () => {
  it.each([
    ["a whole flow id", "0f1e2d3c-aaaa", "0f1e2d3c-aaaa"],
    ["a unique prefix (8 characters, as tables show)", "0f1e2d3c", "0f1e2d3c-aaaa"],
    ["a unique shorter prefix", "0f1e2", "0f1e2d3c-aaaa"],
    ["a whole flow id that also starts another", "77", "77"],
    ["a prefix of that other one", "77a", "77aa0000-cccc"],
  ])("takes %s", async (_what, text, flow) => {
    expect(await resolveFlow(stores.store.read, text)).toBe(flow);
  });

  it("says which flows an ambiguous prefix starts (FLOW_AMBIGUOUS, exit 2)", async () => {
    const error = await failure("0f1e");
    expect(error.code).toBe("FLOW_AMBIGUOUS");
    expect(error.message).toBe('"0f1e" starts several flow ids: 0f1e2d3c-aaaa, 0f1e9999-bbbb');
    expect(error.details).toEqual({ candidates: ["0f1e2d3c-aaaa", "0f1e9999-bbbb"] });
    expect(error.hint).toMatch(/more characters/);
  });

  it("answers FLOW_NOT_FOUND for a prefix that starts no flow id", async () => {
    expect((await failure("dead")).code).toBe("FLOW_NOT_FOUND");
  });
});
