import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { hashSecret, newSecret } from "../src/index.js";

// Secrets are cut from a pool of random bytes drawn 64 secrets at a time: each is whole, and
// none repeats within a pool or across pools.
describe("newSecret", () => {
  it("makes distinct secrets of 32 random bytes after their prefix, across many pools", () => {
    const made = Array.from({ length: 1000 }, (_, i) => newSecret(i % 2 === 0 ? "cw_" : "cwj_"));
    expect(new Set(made).size).toBe(made.length);
    for (const secret of made) {
      expect(secret).toMatch(/^cwj?_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret.replace(/^cwj?_/, ""), "base64url")).toHaveLength(32);
    }
    // No secret's bytes are another's shifted: the pool's slices do not overlap.
    const bytes = new Set(made.flatMap((s) => [s.slice(-43, -33), s.slice(-20)]));
    expect(bytes.size).toBe(made.length * 2);
    // The default prefix is the API token's.
    expect(newSecret()).toMatch(/^cw_[A-Za-z0-9_-]{43}$/);
  });
});

describe("hashSecret", () => {
  it("is the SHA-256 of the secret's UTF-8 in lowercase hex, as stored tokens were hashed", () => {
    expect(hashSecret("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const secret = "cw_é€😀";
    expect(hashSecret(secret)).toBe(createHash("sha256").update(Buffer.from(secret, "utf8")).digest("hex"));
  });
});
