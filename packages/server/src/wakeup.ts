/**
 * A level-triggered wake-up: `wake()` before `wait()` is not lost. One waiter at a time (each
 * stream owns its own).
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** Resolves at the next wake (or at once if one is pending), or after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<void> {
    if (!this.#pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#resolve = undefined;
          resolve();
        }, timeoutMs);
        this.#resolve = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#pending = false;
  }
}
