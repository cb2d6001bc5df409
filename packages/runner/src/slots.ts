import { mkdirSync, renameSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { basename } from "node:path";
import { BUILD_LINK } from "./sandbox.js";

/**
 * The slots of a runner whose tasks run in a sandbox: directories `<workDir>/slot-<k>`, each
 * held by one run at a time, which makes its workspace inside. A slot's task worker runs in a
 * sandbox that shows it that directory and nothing else of the work directory (launcher.ts),
 * so a task never sees the workspace of a run in another slot; the run that held a slot before
 * moved its workspace out of it when it ended (to the trash or, kept, to the work directory).
 * The lowest free slot is taken, so a runner uses as many slots, and keeps as many sandboxed
 * workers, as it ran runs at once.
 */
export class SlotPool {
  readonly #workDir: string;
  /** Free slot numbers, lowest last. */
  readonly #free: number[] = [];
  /** The slots whose directory this pool made (or found), until `removeFree` removes it. */
  readonly #made = new Set<number>();
  #count = 0;

  constructor(workDir: string) {
    this.#workDir = workDir;
  }

  /** Takes a free slot: its directory (created when missing, owner-only). */
  take(): string {
    const k = this.#free.pop() ?? this.#count++;
    const dir = `${this.#workDir}/slot-${k}`;
    // Made once: a mkdir of a slot that is there throws EEXIST, and the error (its message and
    // stack) cost 90 µs of the server's thread per run in the 1,000-job DAG. The work directory
    // is made with the first slot.
    if (this.#made.has(k)) return dir;
    try {
      if (!madeOrThere(() => mkdirSync(dir, 0o700))) mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      this.release(dir);
      throw error;
    }
    this.#made.add(k);
    return dir;
  }

  /**
   * Removes the directories of the free slots that hold nothing but their `.build` link (at
   * the runner's end, so that no empty work directory is left behind). Never throws.
   */
  removeFree(): void {
    for (const k of this.#free) {
      const dir = `${this.#workDir}/slot-${k}`;
      try {
        rmSync(`${dir}/${BUILD_LINK}`, { force: true });
        rmdirSync(dir);
        this.#made.delete(k);
      } catch {
        // Not empty (a kept workspace), or gone.
      }
    }
  }

  /** Gives the slot `dir` back; it must hold nothing of its run any more. */
  release(dir: string): void {
    const k = Number(dir.slice(dir.lastIndexOf("-") + 1));
    if (!Number.isSafeInteger(k) || this.#free.includes(k)) return;
    this.#free.push(k);
    this.#free.sort((a, b) => b - a);
  }
}

/**
 * Points `<slot>/.build`, which the sandbox's `/build` links to, at the workspace `root` (a
 * directory of `slot`): a relative link, replaced in one rename.
 */
export function pointBuild(slot: string, root: string): void {
  const temp = `${slot}/${BUILD_LINK}.new`;
  // A link left by a runner that died between the two calls is replaced; none, mostly (rmSync
  // first cost a recursive removal's lstats on every run).
  try {
    symlinkSync(basename(root), temp);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    unlinkSync(temp);
    symlinkSync(basename(root), temp);
  }
  renameSync(temp, `${slot}/${BUILD_LINK}`);
}

/** Runs `make`: true when it made the directory or it was there, false when its parent is missing. */
function madeOrThere(make: () => void): boolean {
  try {
    make();
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return true;
    if (code === "ENOENT") return false;
    throw error;
  }
}
