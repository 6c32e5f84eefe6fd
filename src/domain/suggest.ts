/**
 * "Did you mean": the nearest known word to a misspelt one, by edit distance. Used for unknown keys of the
 * topology file (src/topology/validate.ts) and unknown flags of `xeks token` (src/cli/token.ts); commander
 * makes the same suggestion for the other commands' flags and subcommands. Pure: imports nothing.
 */

/**
 * Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), as commander's own
 * suggestion uses: insertions, deletions, substitutions and swaps of two neighbours each cost 1.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d[i] = [i];
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known word nearest to `word` (case-insensitive), or undefined when none is close: at most 2 edits and
 * fewer than half of `word`'s length (so a short unrelated word gets no suggestion). Ties go to the first of
 * `known`.
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const distance = editDistance(w, k.toLowerCase());
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  if (best === undefined || bestDistance === 0) return best;
  return bestDistance <= 2 && bestDistance * 2 < w.length ? best : undefined;
}
