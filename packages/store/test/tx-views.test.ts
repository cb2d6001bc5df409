import type { StoreTx } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { scopedStoreTx, STORE_TX_METHODS } from "../src/tx-views.js";

// A transaction's StoreTx is a view of the repo that works while its transaction is open.

/** A StoreTx whose every method answers with its name and arguments. */
function echoTx(): StoreTx {
  const target: Record<string, unknown> = {};
  for (const method of STORE_TX_METHODS) target[method] = (...args: unknown[]) => Promise.resolve([method, ...args]);
  return target as unknown as StoreTx;
}

const ended = (): Promise<never> => Promise.reject(new Error("ended"));

describe("scopedStoreTx", () => {
  it("calls the target's method while the view's scope is open, and rejects once it is not", async () => {
    const view = scopedStoreTx(echoTx(), ended);
    const scope = { open: true };
    const tx = view(scope);
    await expect(tx.getRun(7)).resolves.toEqual(["getRun", 7]);
    for (const method of STORE_TX_METHODS) expect(typeof tx[method]).toBe("function");
    scope.open = false;
    await expect(tx.getRun(7)).rejects.toThrow("ended");
  });

  it("each view answers for its own transaction: an ended one rejects while a later one works", async () => {
    const view = scopedStoreTx(echoTx(), ended);
    const first = { open: true };
    const leaked = view(first);
    first.open = false;
    const second = view({ open: true });
    await expect(leaked.insertExplain({} as never)).rejects.toThrow("ended");
    await expect(second.insertExplain({} as never)).resolves.toEqual(["insertExplain", {}]);
  });

  it("a method called without its view rejects", async () => {
    const tx = scopedStoreTx(echoTx(), ended)({ open: true });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- what the rule prevents, on purpose
    const detached = tx.getRun;
    await expect(detached(1)).rejects.toThrow("ended");
  });
});
