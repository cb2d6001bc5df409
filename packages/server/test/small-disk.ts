import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real small file system for the fault suite: a tmpfs of a few MiB, mounted where the test
// process may mount one (root, as this project's CI runs), filled to the last byte by a filler
// file and freed by deleting it. Where mounting is not permitted (a non-root clone) the tests
// that need it are skipped with a one-line reason, unless CI is set: then they run and fail.

/** True when `CI` is set to anything but an empty string, `0` or `false`. */
function isCi(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false"].includes(value.trim().toLowerCase());
}

/** Whether a tmpfs can be mounted here: probed once, by mounting a tiny one. */
function probe(): { readonly ok: true } | { readonly ok: false; readonly reason: string } {
  const dir = mkdtempSync(join(tmpdir(), "causeway-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "pipe" });
    execFileSync("umount", [dir], { stdio: "pipe" });
    return { ok: true };
  } catch (error) {
    const said = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    return { ok: false, reason: said.split("\n")[0] ?? "mount failed" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const probed = probe();

/** Skip the real small-disk tests (mounting is not permitted and CI is not set). */
export const SKIP_SMALL_DISK = !probed.ok && !isCi(process.env.CI);

/** Why they are skipped, or why they fail under CI; undefined when a tmpfs can be mounted. */
export const SMALL_DISK_UNAVAILABLE: string | undefined = probed.ok
  ? undefined
  : `cannot mount a tmpfs here (${probed.reason}): the tests on a real small file system ${
      SKIP_SMALL_DISK ? "are skipped (run as root, or set CI=true to require them)" : "are required (CI is set)"
    }`;

if (SMALL_DISK_UNAVAILABLE !== undefined) console.log(`fault suite: ${SMALL_DISK_UNAVAILABLE}`);

/** A mounted tmpfs of `sizeMiB` MiB; fill it to the last byte, free it, unmount it. */
export class SmallDisk {
  readonly dir: string;
  readonly #filler: string;
  #mounted = true;

  private constructor(dir: string) {
    this.dir = dir;
    this.#filler = join(dir, "filler.bin");
  }

  static mount(sizeMiB: number, at?: string): SmallDisk {
    if (SMALL_DISK_UNAVAILABLE !== undefined) throw new Error(SMALL_DISK_UNAVAILABLE);
    const dir = at ?? mkdtempSync(join(tmpdir(), "causeway-small-disk-"));
    mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", dir], { stdio: "pipe" });
    return new SmallDisk(dir);
  }

  /** Mounts a read-only tmpfs over `dir` (which must exist): every write there is EROFS. */
  static mountReadOnly(dir: string): SmallDisk {
    if (SMALL_DISK_UNAVAILABLE !== undefined) throw new Error(SMALL_DISK_UNAVAILABLE);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", dir], { stdio: "pipe" });
    return new SmallDisk(dir);
  }

  /** Writes the filler until the file system has no byte left (ENOSPC). */
  fill(): void {
    const fd = openSync(this.#filler, "a");
    try {
      for (const size of [1 << 20, 1 << 16, 1 << 12, 1]) {
        const chunk = Buffer.alloc(size, 0x5a);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the filler: the space is back. */
  free(): void {
    rmSync(this.#filler, { force: true });
  }

  /** Unmounts (lazily, should something still hold a file) and removes the mount point. */
  unmount(removeDir = true): void {
    if (!this.#mounted) return;
    this.#mounted = false;
    execFileSync("umount", ["-l", this.dir], { stdio: "pipe" });
    if (removeDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
