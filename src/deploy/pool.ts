/**
 * Bounded concurrency for the stacks of one phase (deploy and destroy, `--concurrency N`): at most `limit` tasks
 * run at once, started in the order given; a task never throws into the pool (each returns its own outcome).
 * `stop()` returning true stops starting new tasks (`--fail-fast`); the tasks already running finish (a
 * CloudFormation operation cannot be recalled halfway). No timers: every task's own waits are bounded.
 */
import type { PhaseCounts } from "./types.js";

/** The default of `--concurrency` for deploy and destroy: stacks of one phase in flight at once. */
export const DEFAULT_STACK_CONCURRENCY = 8;

/** The most `--concurrency` accepts (CloudFormation's own limits on concurrent operations are far above it). */
export const MAX_STACK_CONCURRENCY = 64;

/**
 * Run `task` on each item, at most `limit` at once, in order of start. Resolves, once every started task has
 * settled, with each item's result, or undefined for an item never started (because `stop()` said so).
 * A task that throws stops the pool from starting others and rejects it at once with that error (the running
 * tasks are left to finish on their own: the caller is ending the run). Throws RangeError for a limit that is
 * not a whole number from 1.
 */
export async function runBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
  stop: () => boolean = () => false,
): Promise<(R | undefined)[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be >= 1, got ${limit}`);
  const results: (R | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  let broken = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !broken && !stop()) {
      const i = next++;
      try {
        results[i] = await task(items[i] as T, i);
      } catch (err) {
        broken = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** How the stacks of one phase ended: `{ done: 18, failed: 1, skipped: 1, notReached: 0 }` (types.ts). */
export type Counts = PhaseCounts;

/** How one stack of a phase ended (deploy: skipped = unchanged; destroy: skipped = kept for a dependent). */
export type UnitOutcome = "done" | "skipped" | "failed";

/** How the stacks of a phase ended: undefined is a stack not started (--fail-fast). */
export function countOutcomes(outcomes: readonly (UnitOutcome | undefined)[]): Counts {
  const c: Counts = { done: 0, failed: 0, skipped: 0, notReached: 0 };
  for (const o of outcomes) {
    if (o === "done") c.done++;
    else if (o === "failed") c.failed++;
    else if (o === "skipped") c.skipped++;
    else c.notReached++;
  }
  return c;
}

/** "18 done, 1 failed, 1 skipped" (zero counts left out, except done; "not reached" with --fail-fast). */
export function describeCounts(c: Counts): string {
  const parts = [`${c.done} done`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.notReached) parts.push(`${c.notReached} not reached`);
  return parts.join(", ");
}
