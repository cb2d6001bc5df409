import type { RunObserver } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { hashSecret } from "../src/index.js";
import { Attempt } from "../src/runners/attempt.js";
import { AttemptTokens } from "../src/runners/attempt-tokens.js";

const observer: RunObserver = { onStarted: () => undefined, onLog: () => undefined };
const attempt = (runId: number): Attempt => new Attempt(runId, "default", undefined, observer);

describe("AttemptTokens", () => {
  it("finds an attempt by the token issued for it, and by no other", () => {
    const tokens = new AttemptTokens();
    const a = attempt(1);
    const { token, hash } = tokens.issue();
    expect(token).toMatch(/^cwj_/);
    expect(hash).toBe(hashSecret(token));
    expect(tokens.get(token)).toBeUndefined();
    tokens.set(hash, a, token);
    expect(tokens.get(token)).toBe(a);
    expect(tokens.kept).toBe(1);
    expect(tokens.get(tokens.issue().token)).toBeUndefined();
    expect(tokens.get(hash)).toBeUndefined();
  });

  it("finds the attempt of a lease read after a restart by the token its runner presents", () => {
    const tokens = new AttemptTokens();
    const a = attempt(2);
    const token = "cwj_a-token-issued-before-the-restart";
    tokens.set(hashSecret(token), a);
    expect(tokens.get(token)).toBe(a);
  });

  it("knows a token no more once deleted, issued or read", () => {
    const tokens = new AttemptTokens();
    const issued = tokens.issue();
    tokens.set(issued.hash, attempt(3), issued.token);
    const read = "cwj_a-lease-token";
    tokens.set(hashSecret(read), attempt(4));
    tokens.delete(issued.hash);
    tokens.delete(hashSecret(read));
    expect(tokens.get(issued.token)).toBeUndefined();
    expect(tokens.get(read)).toBeUndefined();
    expect(tokens.kept).toBe(0);
    // A token given to a new attempt after its old one was forgotten is the new one's.
    const again = attempt(5);
    tokens.set(issued.hash, again, issued.token);
    expect(tokens.get(issued.token)).toBe(again);
  });
});
