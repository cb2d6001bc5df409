import type { Clock } from "@causeway/core";

/** setTimeout's longest delay; a later deadline is waited for in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** After a failed read or expiry (a store error), the timer tries again after this long. */
const RETRY_MS = 1_000;

/**
 * One timer for the earliest deadline of the pending approval gates: no polling loop. `arm`
 * reads the earliest deadline (`next`) and waits for it; at the deadline `fire` decides what
 * expired, then the timer arms itself again. The engine arms it at start (a deadline passed
 * while the server was down fires at once) and after every commit that opened or decided a gate.
 */
export class GateTimer {
  readonly #next: () => Promise<string | undefined>;
  readonly #fire: () => Promise<unknown>;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by every arm: a read answered after a newer arm began is dropped. */
  #generation = 0;
  #stopped = false;

  constructor(next: () => Promise<string | undefined>, fire: () => Promise<unknown>, clock: Clock) {
    this.#next = next;
    this.#fire = fire;
    this.#clock = clock;
  }

  /** (Re)arms the timer for the earliest pending deadline; none: no timer. Never throws. */
  async arm(): Promise<void> {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    let deadline: string | undefined;
    try {
      deadline = await this.#next();
    } catch {
      if (generation === this.#generation) this.#set(RETRY_MS, () => this.arm());
      return;
    }
    if (generation !== this.#generation || this.#stopped) return;
    this.#clear();
    if (deadline === undefined) return;
    const delay = Math.min(Math.max(0, Date.parse(deadline) - this.#clock.now().getTime()), MAX_DELAY_MS);
    this.#set(delay, async () => {
      try {
        await this.#fire();
      } catch {
        this.#set(RETRY_MS, () => this.arm());
        return;
      }
      await this.arm();
    });
  }

  /** Clears the timer for good (the engine stops). */
  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #set(delay: number, run: () => Promise<void>): void {
    this.#clear();
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void run();
    }, delay);
    // The server's own handles keep the process alive; a waiting gate alone does not.
    this.#timer.unref();
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
