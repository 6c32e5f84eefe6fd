/**
 * `xeks deploy` as a library: deploy every phase of the topology in order, on toolkit-lib. What it shares with
 * diff and destroy is in run.ts.
 */
import { importPending, readAdoptions, withImports } from "./adopt.js";
import { authModeBlocked, updateAuthMode } from "./auth-mode.js";
import { awsError } from "./aws.js";
import { describeFailure } from "./failure.js";
import type { RunTracker } from "./in-flight.js";
import { waitForPeering } from "./peering.js";
import { deploySteps, parameterChanges, resolveParameters } from "./plan.js";
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

  if (auth.action === "none" && adoptions.size === 0 && plans.every((p) => p.action === "unchanged")) {
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

  const outputs = new Map<string, Record<string, string>>();
  let phase: { number: number; name: string; started: number } | undefined;
  const closePhase = () => {
    if (!phase) return;
    const report: PhaseRunReport = {
      number: phase.number,
      name: phase.name,
      durationMs: Date.now() - phase.started,
    };
    result.phases.push(report);
    ctx.emit({ type: "phase-done", ...report });
  };
  const fail = (failure: StackFailure, phaseNumber: number, cause?: unknown): never => {
    result.failure = { ...failure, phase: phaseNumber };
    finish("failed");
    const where = failure.resource
      ? `stack ${failure.stack}, resource ${failure.resource}${failure.resourceType ? ` (${failure.resourceType})` : ""}${failure.inferred ? " [inferred from the reason]" : ""}`
      : `stack ${failure.stack}`;
    const phaseName = ctx.manifest.phases.find((p) => p.number === phaseNumber)?.name ?? "";
    const err = new DeployFailedError(
      `deploy failed in phase ${phaseNumber} (${phaseName}): ${where}: ${failure.reason}`,
      result,
      "fix the cause, then run xeks deploy again: it resumes at this stack (deployed stacks are kept and skipped)",
    );
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    throw err;
  };

  for (const step of allSteps) {
    if (step.kind === "phase") {
      closePhase();
      phase = { number: step.phase, name: step.name, started: Date.now() };
      ctx.emit({
        type: "phase",
        number: step.phase,
        name: step.name,
        title: step.title,
        stacks: step.stacks,
        of: ctx.manifest.phases.length,
      });
      continue;
    }
    if (step.kind === "wait-peering") {
      const id = outputs.get(step.source.stack)?.[step.source.output];
      if (!id) {
        fail(
          {
            stack: step.stack,
            reason: `output ${step.source.output} of ${step.source.stack} is missing: no peering connection id to wait for`,
          },
          step.phase,
        );
        return result;
      }
      const set = ctx.set(step.credentials);
      try {
        await waitForPeering(
          id,
          ctx.apis.ec2(set, step.region),
          { stack: step.stack, account: step.account, region: step.region },
          ctx.emit,
          opts.wait,
        );
      } catch (err) {
        const e = awsError(err, `waiting for peering connection ${id}`, set);
        fail({ stack: step.stack, reason: e.message }, step.phase, err);
      }
      continue;
    }
    const { stack } = step;
    const report = reportOf.get(stack.name) as StackRunReport;
    const plan = planOf.get(stack.name) as StackPlan;
    const state = states.get(stack.name);
    let params: Record<string, string>;
    try {
      params = resolveParameters(stack, outputs);
    } catch (err) {
      fail({ stack: stack.name, reason: (err as Error).message }, step.phase, err);
      return result;
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
      stackEvent(ctx, stack, step.phase, action, "skipped", { message: plan.reason });
      continue;
    }
    if (action === "recreate") {
      ctx.emit({
        type: "notice",
        level: "warn",
        message: `${stack.name}: ${state?.status ?? "its creation failed earlier"}: deleting the failed stack and creating it again`,
      });
    }
    stackEvent(ctx, stack, step.phase, action, "started");
    const t0 = Date.now();
    const toolkit = ctx.toolkitFor(step.credentials);
    const todo = adoptions.get(stack.name);
    if (todo) {
      ctx.emit({
        type: "notice",
        level: "info",
        message: `${stack.name}: importing ${todo.length} existing resource(s) unchanged: ${todo.map((i) => i.piece).join("; ")}`,
      });
      try {
        await importPending(ctx, step, todo);
      } catch (err) {
        report.outcome = "failed";
        report.durationMs = Date.now() - t0;
        const e = awsError(
          err,
          `importing the existing resources of stack ${stack.name}`,
          ctx.set(step.credentials),
        );
        // The import's own messages start with the stack's name, which the failure names already.
        e.message = e.message.replace(`stack ${stack.name}: `, "");
        stackEvent(ctx, stack, step.phase, action, "failed", {
          durationMs: report.durationMs,
          message: e.message,
        });
        closePhase();
        fail({ stack: stack.name, reason: e.message }, step.phase, err);
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
      stackEvent(ctx, stack, step.phase, action, "done", { durationMs: report.durationMs });
    } catch (err) {
      report.outcome = "failed";
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
      report.failure = failure;
      stackEvent(ctx, stack, step.phase, action, "failed", {
        durationMs: report.durationMs,
        message: failure.reason,
      });
      closePhase();
      fail(failure, step.phase, err);
    }
  }
  closePhase();
  return finish("deployed");
}
