/**
 * Runs async tasks one at a time, in the order they were queued. A task that rejects does not
 * stop the queue. Used to give the single SQLite connection one user at a time.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Queues `task`; resolves or rejects with its outcome. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#pending--,
      () => this.#pending--,
    );
    return result;
  }

  /** Number of queued or running tasks. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once every task queued so far has settled. */
  async drain(): Promise<void> {
    await this.#tail;
  }
}
