/**
 * Edit distance with adjacent transpositions (optimal string alignment), bounded: returns
 * `max + 1` as soon as the distance exceeds `max`. A swap of two neighbouring characters
 * (`biuld` for `build`) is one edit, as a person counts typos.
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (before[j - 2] ?? 0) + 1);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    before = prev;
    prev = cur;
  }
  return prev[b.length] ?? max + 1;
}

/** How many names a "did you mean" hint offers at most. */
const MAX_SUGGESTIONS = 3;
/** A word this long or longer may be the start of a name (`deploy_prod` for `deploy_production`). */
const MIN_PREFIX = 3;

/**
 * The candidates a person most likely meant by `word` (case-insensitive), best first, at most
 * three; none when nothing is close. Close: within a third of the word's length in edits (at
 * least one; a transposition is one edit), or, for a word of three characters or more, a name
 * that starts with it. The same rule for every typo hint of Causeway, in files and on the
 * command line, so that a typo gets a hint wherever it is made.
 */
export function nearestNames(word: string, candidates: Iterable<string>): string[] {
  const lower = word.toLowerCase();
  const max = Math.max(1, Math.floor(word.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    const candidate = name.toLowerCase();
    if (candidate === lower) return [name];
    const d = editDistance(lower, candidate, max);
    // Edits rank before prefixes; among prefixes, the shortest completion first.
    if (d <= max) scored.push({ name, score: d });
    else if (lower.length >= MIN_PREFIX && candidate.startsWith(lower))
      scored.push({ name, score: max + 1 + (candidate.length - lower.length) / 1000 });
  }
  scored.sort((x, y) => x.score - y.score || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, MAX_SUGGESTIONS).map((s) => s.name);
}

/** The closest candidate to `word` (see {@link nearestNames}), or undefined when none is close. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  return nearestNames(word, candidates)[0];
}

/** A "did you mean" hint naming the nearest candidates, or undefined when none is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const names = nearestNames(word, candidates).map((n) => `"${n}"`);
  if (names.length === 0) return undefined;
  const last = names.pop() as string;
  return `did you mean ${names.length === 0 ? last : `${names.join(", ")} or ${last}`}?`;
}
