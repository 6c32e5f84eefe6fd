/**
 * `xeks deploy` as a library: deploy every phase of the topology in order, on toolkit-lib. What it shares with
 * diff and destroy is in run.ts.
 */
import { importPending, readAdoptions, withImports } from "./adopt.js";
import { authModeBlocked, updateAuthMode } from "./auth-mode.js";
import { awsError, isNoAnswer } from "./aws.js";
import { describeFailure } from "./failure.js";
import type { RunTracker } from "./in-flight.js";
import { waitForPeering } from "./peering.js";
import { type DeployStep, deploySteps, parameterChanges, resolveParameters } from "./plan.js";
import {
  countOutcomes,
  DEFAULT_STACK_CONCURRENCY,
  describeCounts,
  runBounded,
  type UnitOutcome,
} from "./pool.js";
import { refuseConflicts } from "./preflight.js";
import {
  authMode,
  clusterOf,
  DeployFailedError,
  guarded,
  planStacks,
  prepare,
  type RunOptions,
  readDiffs,
  readStates,
  stackEvent,
  stackSteps,
} from "./run.js";
import { deployStackSet, planStackSets, sdkStackSetApi } from "./stackset.js";
import type {
  DeployRunResult,
  PhaseRunReport,
  StackFailure,
  StackOutcome,
  StackPlan,
  StackRunReport,
} from "./types.js";

/**
 * Deploy every phase in order. Throws DeployFailedError (with the partial result) when a stack fails, and
 * NoAnswerError (with the partial result) when AWS stops answering (src/aws/watchdog.ts).
 */
export function deploy(opts: RunOptions): Promise<DeployRunResult> {
  return guarded("deploy", opts, deployRun);
}

async function deployRun(opts: RunOptions, tracker: RunTracker): Promise<DeployRunResult> {
  const started = Date.now();
  const ctx = await prepare(opts, tracker);
  // Offline, before any AWS read of the stacks: conflicts the plan already sees (src/deploy/preflight.ts).
  await refuseConflicts(ctx);
  const allSteps = deploySteps(ctx.manifest);
  const steps = stackSteps(allSteps);
  const auth = await authMode(ctx, opts.allowAuthModeChange ?? false);
  if (auth.action === "blocked") throw authModeBlocked(auth, opts.topology);
  const states = await readStates(ctx, steps);
  const diffs = await readDiffs(ctx, steps);
  // Adopted pieces not yet in their stacks; every one of them checked to exist before any change.
  const adoptions = await readAdoptions(ctx, steps, states);
  const plans = withImports(planStacks(ctx, steps, states, diffs), adoptions);
  tracker.knowStatus(new Map([...states].map(([name, st]) => [name, st?.status])));
  const planOf = new Map(plans.map((p) => [p.name, p]));

  const result: DeployRunResult = {
    kind: "DeployResult",
    version: 1,
    cluster: clusterOf(opts.topology),
    outDir: ctx.outDir,
    outcome: "deployed",
    identities: ctx.identities,
    authMode: { ...auth },
    plan: plans,
    phases: [],
    stacks: steps.map((s) => ({
      name: s.stack.name,
      phase: s.phase,
      account: s.stack.account,
      region: s.stack.region,
      credentials: s.credentials,
      outcome: "not-reached" as StackOutcome,
    })),
    durationMs: 0,
  };
  tracker.result = result;
  const reportOf = new Map(result.stacks.map((r) => [r.name, r]));
  const finish = (outcome: DeployRunResult["outcome"]): DeployRunResult => {
    result.outcome = outcome;
    result.durationMs = Date.now() - started;
    return result;
  };

  const stackSets = ctx.manifest.stackSets ?? [];
  // What each StackSet would get (reads only), for the confirmation and the no-change answer.
  const setPlans = await planStackSets(ctx);
  for (const p of setPlans.values()) {
    if (p.note) ctx.emit({ type: "notice", level: "warn", message: `StackSet ${p.name}: ${p.note}` });
  }
  if (
    auth.action === "none" &&
    adoptions.size === 0 &&
    [...setPlans.values()].every((p) => p.action === "unchanged") &&
    plans.every((p) => p.action === "unchanged")
  ) {
    if (stackSets.length > 0) {
      result.stackSets = stackSets.map((s) => ({
        name: s.name,
        client: s.client,
        account: s.account,
        region: s.region,
        outcome: "unchanged",
        operations: [],
      }));
    }
    for (const r of result.stacks) {
      r.outcome = "unchanged";
      const outputs = states.get(r.name)?.outputs;
      if (outputs && Object.keys(outputs).length > 0) r.outputs = outputs;
    }
    ctx.emit({
      type: "notice",
      level: "info",
      message: "nothing to change: every stack is deployed and identical",
    });
    return finish("no-changes");
  }
  if (opts.confirm) {
    tracker.step("confirmation");
    const ok = await opts.confirm({
      command: "deploy",
      cluster: opts.topology.cluster.name,
      stacks: plans,
      authMode: auth,
      ...(stackSets.length > 0
        ? {
            stackSets: stackSets.map((s) => ({
              name: s.name,
              client: s.client,
              account: s.account,
              organizationalUnits: [...s.organizationalUnits],
              regions: [...s.regions],
              ...(setPlans.get(s.name)
                ? { action: setPlans.get(s.name)?.action, reasons: setPlans.get(s.name)?.reasons }
                : {}),
            })),
          }
        : {}),
    });
    if (!ok) return finish("cancelled");
  }
  tracker.step("changing");

  if (auth.action === "update") {
    const cluster = ctx.set("cluster");
    tracker.markChanged();
    try {
      await updateAuthMode(
        opts.topology,
        ctx.apis.eks(cluster, opts.topology.cluster.region),
        ctx.emit,
        opts.wait,
      );
    } catch (err) {
      throw awsError(err, `switching cluster ${opts.topology.cluster.name} to API_AND_CONFIG_MAP`, cluster);
    }
    result.authMode.updated = true;
  }

  // Phase 1's StackSets (clients from an organization, docs/organizations.md), in their administrator accounts.
  for (const set of stackSets) {
    const credentials = ctx.set(`client ${set.client}`);
    try {
      const done = await deployStackSet(
        sdkStackSetApi(credentials, set.region),
        set,
        JSON.stringify(ctx.templates.get(set.name) ?? {}),
        opts.topology.cluster.name,
        ctx.emit,
        opts.wait,
        {
          onWrite: () => tracker.markChanged(),
          onOperation: (op) =>
            tracker.stackSetOperation(
              op && {
                stackSet: set.name,
                operationId: op.id,
                what: op.what,
                account: set.account,
                region: set.region,
                callAs: set.callAs,
                ...(credentials.profile !== undefined ? { profile: credentials.profile } : {}),
                ...(credentials.role !== undefined ? { role: credentials.role } : {}),
                ...(credentials.base?.startsWith("profile ")
                  ? { baseProfile: credentials.base.slice(8) }
                  : {}),
              },
            ),
        },
      );
      if (done.outcome !== "unchanged") tracker.markChanged();
      result.stackSets = [...(result.stackSets ?? []), done];
    } catch (err) {
      if (isNoAnswer(err)) throw err;
      tracker.stackSetOperation(undefined);
      const e = awsError(err, `StackSet ${set.name}`, credentials);
      result.failure = { stack: set.name, reason: e.message, phase: 1 };
      result.failures = [result.failure];
      finish("failed");
      const failed = new DeployFailedError(
        `deploy failed in phase 1 (client-identity): ${e.message}`,
        result,
        "fix the cause, then run xeks deploy again: it waits for a StackSet operation still running, retries the stack instances that are not CURRENT and creates the missing ones",
      );
      (failed as { cause?: unknown }).cause = err;
      throw failed;
    }
  }

  const outputs = new Map<string, Record<string, string>>();
  const concurrency = opts.concurrency ?? DEFAULT_STACK_CONCURRENCY;
  /** Failures of the phase in progress, in the phase's stack order. */
  let failures: { order: number; failure: StackFailure & { phase: number }; cause?: unknown }[] = [];

  /** One stack and the peering waits before it; "failed" after recording the failure in its report. */
  const deployUnit = async (unit: PhaseUnit, order: number): Promise<UnitOutcome> => {
    const { stack } = unit.step;
    const phaseNumber = unit.step.phase;
    const report = reportOf.get(stack.name) as StackRunReport;
    const plan = planOf.get(stack.name) as StackPlan;
    const state = states.get(stack.name);
    const failed = (failure: StackFailure, cause?: unknown): UnitOutcome => {
      report.outcome = "failed";
      report.failure = failure;
      failures.push({ order, failure: { ...failure, phase: phaseNumber }, cause });
      return "failed";
    };
    for (const wait of unit.waits) {
      const id = outputs.get(wait.source.stack)?.[wait.source.output];
      if (!id) {
        return failed({
          stack: wait.stack,
          reason: `output ${wait.source.output} of ${wait.source.stack} is missing: no peering connection id to wait for`,
        });
      }
      const set = ctx.set(wait.credentials);
      try {
        await waitForPeering(
          id,
          ctx.apis.ec2(set, wait.region),
          { stack: wait.stack, account: wait.account, region: wait.region },
          ctx.emit,
          opts.wait,
        );
      } catch (err) {
        if (isNoAnswer(err)) throw err;
        const e = awsError(err, `waiting for peering connection ${id}`, set);
        return failed({ stack: wait.stack, reason: e.message }, err);
      }
    }
    let params: Record<string, string>;
    try {
      params = resolveParameters(stack, outputs);
    } catch (err) {
      return failed({ stack: stack.name, reason: (err as Error).message }, err);
    }
    if (Object.keys(params).length > 0) report.parameters = params;
    let action = plan.action;
    if (action === "pending") {
      const changed = parameterChanges(state?.parameters, params);
      action = changed.length > 0 ? "update" : "unchanged";
      plan.parameters = changed;
    }
    if (action === "unchanged") {
      report.outcome = "unchanged";
      const out = state?.outputs ?? {};
      outputs.set(stack.name, out);
      if (Object.keys(out).length > 0) report.outputs = out;
      stackEvent(ctx, stack, phaseNumber, action, "skipped", { message: plan.reason });
      return "skipped";
    }
    if (action === "recreate") {
      ctx.emit({
        type: "notice",
        level: "warn",
        message: `${stack.name}: ${state?.status ?? "its creation failed earlier"}: deleting the failed stack and creating it again`,
      });
    }
    stackEvent(ctx, stack, phaseNumber, action, "started");
    const t0 = Date.now();
    const toolkit = ctx.toolkitFor(unit.step.credentials);
    const todo = adoptions.get(stack.name);
    if (todo) {
      ctx.emit({
        type: "notice",
        level: "info",
        message: `${stack.name}: importing ${todo.length} existing resource(s) unchanged: ${todo.map((i) => i.piece).join("; ")}`,
      });
      try {
        await importPending(ctx, unit.step, todo);
      } catch (err) {
        if (isNoAnswer(err)) throw err;
        report.durationMs = Date.now() - t0;
        const e = awsError(
          err,
          `importing the existing resources of stack ${stack.name}`,
          ctx.set(unit.step.credentials),
        );
        // The import's own messages start with the stack's name, which the failure names already.
        e.message = e.message.replace(`stack ${stack.name}: `, "");
        stackEvent(ctx, stack, phaseNumber, action, "failed", {
          durationMs: report.durationMs,
          message: e.message,
        });
        return failed({ stack: stack.name, reason: e.message }, err);
      }
    }
    try {
      const r = await toolkit.deploy(stack.name, params);
      let out = r.outputs;
      if (stack.outputs.some((o) => out[o.name] === undefined)) {
        const again = await ctx.apis.cfn(toolkit.credentials, stack.region).describeStack(stack.name);
        out = { ...(again?.outputs ?? {}), ...out };
      }
      outputs.set(stack.name, out);
      report.outcome = action === "create" ? "created" : action === "recreate" ? "recreated" : "updated";
      report.durationMs = Date.now() - t0;
      if (Object.keys(out).length > 0) report.outputs = out;
      stackEvent(ctx, stack, phaseNumber, action, "done", { durationMs: report.durationMs });
      return "done";
    } catch (err) {
      if (isNoAnswer(err)) throw err;
      report.durationMs = Date.now() - t0;
      let events = ctx.host.failures.get(stack.name) ?? [];
      if (events.length === 0) {
        try {
          const all = await ctx.apis.cfn(toolkit.credentials, stack.region).stackEvents(stack.name, 50);
          events = all.filter((e) => !e.time || e.time.getTime() >= t0 - 1000);
        } catch {
          // the stack may not exist at all (the change set was refused): the error says why
        }
      }
      const failure = describeFailure(stack.name, events, err, ctx.templates.get(stack.name));
      stackEvent(ctx, stack, phaseNumber, action, "failed", {
        durationMs: report.durationMs,
        message: failure.reason,
      });
      return failed(failure, err);
    }
  };

  for (const phase of phaseUnits(allSteps)) {
    const { step } = phase;
    const phaseStarted = Date.now();
    failures = [];
    ctx.emit({
      type: "phase",
      number: step.phase,
      name: step.name,
      title: step.title,
      stacks: step.stacks,
      of: ctx.manifest.phases.length,
    });
    // The phase's stacks in parallel (at most `concurrency` at once); with --fail-fast, a failure stops the
    // phase from starting more.
    const outcomes = await runBounded(
      phase.units,
      concurrency,
      deployUnit,
      () => Boolean(opts.failFast) && failures.length > 0,
    );
    // Phase 1 counts its StackSets too (deployed before its stacks): created or updated is done, unchanged skipped.
    const setOutcomes: UnitOutcome[] =
      step.phase === 1
        ? (result.stackSets ?? []).map((s) => (s.outcome === "unchanged" ? "skipped" : "done"))
        : [];
    const counts = countOutcomes([...outcomes, ...setOutcomes]);
    const report: PhaseRunReport = {
      number: step.phase,
      name: step.name,
      durationMs: Date.now() - phaseStarted,
      counts,
    };
    result.phases.push(report);
    ctx.emit({ type: "phase-done", ...report });
    if (failures.length === 0) continue;
    // The phase barrier (docs/deploy.md, "Parallel phases"): a later phase starts only when every stack of
    // this one is in place.
    failures.sort((a, b) => a.order - b.order);
    const first = failures[0] as (typeof failures)[number];
    result.failure = first.failure;
    result.failures = failures.map((f) => f.failure);
    finish("failed");
    const where = (f: StackFailure) =>
      f.resource
        ? `stack ${f.stack}, resource ${f.resource}${f.resourceType ? ` (${f.resourceType})` : ""}${f.inferred ? " [inferred from the reason]" : ""}`
        : `stack ${f.stack}`;
    const message =
      failures.length === 1
        ? `deploy failed in phase ${step.phase} (${step.name}): ${where(first.failure)}: ${first.failure.reason}`
        : `deploy failed in phase ${step.phase} (${step.name}): ${failures.length} stacks failed (${describeCounts(counts)}): ` +
          failures
            .slice(0, 5)
            .map((f) => `${where(f.failure)}: ${f.failure.reason}`)
            .join("; ") +
          (failures.length > 5 ? `; and ${failures.length - 5} more (see the summary)` : "");
    const err = new DeployFailedError(
      message,
      result,
      "fix the cause, then run xeks deploy again: it resumes with the stacks not done (deployed stacks are kept and skipped)",
    );
    if (first.cause !== undefined) (err as { cause?: unknown }).cause = first.cause;
    throw err;
  }
  return finish("deployed");
}

type WaitStep = Extract<DeployStep, { kind: "wait-peering" }>;
type StackStep = Extract<DeployStep, { kind: "stack" }>;
type PhaseStep = Extract<DeployStep, { kind: "phase" }>;

/** One stack of a phase, with the peering waits that come before it. */
export interface PhaseUnit {
  waits: WaitStep[];
  step: StackStep;
}

/** The steps of a deploy (plan.ts `deploySteps`) grouped by phase, each stack with the waits before it. */
export function phaseUnits(steps: readonly DeployStep[]): { step: PhaseStep; units: PhaseUnit[] }[] {
  const phases: { step: PhaseStep; units: PhaseUnit[] }[] = [];
  let waits: WaitStep[] = [];
  for (const s of steps) {
    if (s.kind === "phase") {
      phases.push({ step: s, units: [] });
      waits = [];
    } else if (s.kind === "wait-peering") {
      waits.push(s);
    } else {
      phases[phases.length - 1]?.units.push({ waits, step: s });
      waits = [];
    }
  }
  return phases;
}
