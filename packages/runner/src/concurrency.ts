/** The default number of file operations a runner keeps in flight at once. */
export const FILE_CONCURRENCY = 16;

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep the input
 * order. The first rejection rejects the whole call (calls already started still finish).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (items.length <= limit) return Promise.all(items.map(fn));
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}
