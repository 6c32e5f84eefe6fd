/**
 * `xeks diff` as a library: what `deploy` would change, against what is deployed. What it shares with deploy
 * and destroy is in run.ts.
 */
import { readAdoptions, withImports } from "./adopt.js";
import type { RunTracker } from "./in-flight.js";
import { deploySteps } from "./plan.js";
import {
  authMode,
  clusterOf,
  guarded,
  planStacks,
  prepare,
  type RunOptions,
  readDiffs,
  readStates,
  stackSteps,
} from "./run.js";
import { planStackSets } from "./stackset.js";
import type { DiffRunResult } from "./types.js";

/**
 * What `deploy` would change, against what is deployed. Reads only. Throws NoAnswerError when AWS stops
 * answering (src/aws/watchdog.ts).
 */
export function diff(opts: RunOptions): Promise<DiffRunResult> {
  return guarded("diff", opts, diffRun);
}

async function diffRun(opts: RunOptions, tracker: RunTracker): Promise<DiffRunResult> {
  const ctx = await prepare(opts, tracker);
  const steps = stackSteps(deploySteps(ctx.manifest));
  const auth = await authMode(ctx, false);
  const states = await readStates(ctx, steps);
  const diffs = await readDiffs(ctx, steps);
  const adoptions = await readAdoptions(ctx, steps, states);
  const plans = withImports(planStacks(ctx, steps, states, diffs), adoptions);
  const setPlans = [...(await planStackSets(ctx)).values()];
  return {
    kind: "DiffResult",
    version: 1,
    cluster: clusterOf(opts.topology),
    outDir: ctx.outDir,
    identities: ctx.identities,
    authMode: auth,
    stacks: plans,
    ...(setPlans.length > 0 ? { stackSets: setPlans } : {}),
    changes:
      auth.action !== "none" ||
      plans.some((p) => p.action !== "unchanged") ||
      setPlans.some((p) => p.action !== "unchanged"),
  };
}
