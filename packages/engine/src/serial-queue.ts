/**
 * Runs async tasks one at a time, in submission order. The engine's decisions read and write
 * its read model; running them one by one keeps that model and the store in step.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
