/**
 * `xeks destroy` as a library: delete the stacks of the topology in reverse phase order. What it shares with
 * deploy and diff is in run.ts.
 */
import type { XeksManifestImport } from "../domain/adoption.js";
import { shellWord } from "../domain/shell.js";
import type { XeksManifestStackSet } from "../infra/manifest.js";
import { adoptedInStack, adoptionFor } from "./adopt.js";
import { awsError, isNoAnswer, type StackEventInfo } from "./aws.js";
import { describeFailure } from "./failure.js";
import type { RunTracker } from "./in-flight.js";
import { blockedByDependents, destroyOrder } from "./plan.js";
import { countOutcomes, DEFAULT_STACK_CONCURRENCY, runBounded, type UnitOutcome } from "./pool.js";
import {
  type Context,
  clusterOf,
  guarded,
  prepare,
  type RunOptions,
  readStates,
  stackEvent,
  templateResources,
} from "./run.js";
import type { DestroyRunResult, StackOutcome, StackPlan, StackRunReport } from "./types.js";

/**
 * Delete the stacks in reverse phase order; keep a stack while a stack depending on it remains. Throws
 * NoAnswerError (with the partial result) when AWS stops answering (src/aws/watchdog.ts).
 */
export function destroy(opts: RunOptions): Promise<DestroyRunResult> {
  return guarded("destroy", opts, destroyRun);
}

/**
 * The two AWS CLI commands that delete a StackSet of the manifest (DeleteStackInstances on its OUs and regions,
 * stacks not retained; then DeleteStackSet, which CloudFormation refuses while an instance remains).
 */
export function stackSetDeleteCommands(s: XeksManifestStackSet): [string, string] {
  return [
    `aws cloudformation delete-stack-instances --stack-set-name ${shellWord(s.name)} --deployment-targets OrganizationalUnitIds=${shellWord(s.organizationalUnits.join(","))} --regions ${s.regions.map(shellWord).join(" ")} --no-retain-stacks --call-as ${shellWord(s.callAs)} --region ${shellWord(s.region)}`,
    `aws cloudformation delete-stack-set --stack-set-name ${shellWord(s.name)} --call-as ${shellWord(s.callAs)} --region ${shellWord(s.region)}`,
  ];
}

async function destroyRun(opts: RunOptions, tracker: RunTracker): Promise<DestroyRunResult> {
  const started = Date.now();
  const ctx = await prepare(opts, tracker);
  const order = destroyOrder(ctx.manifest);
  const states = await readStates(ctx, order);
  tracker.knowStatus(new Map([...states].map(([name, st]) => [name, st?.status])));
  const result: DestroyRunResult = {
    kind: "DestroyResult",
    version: 1,
    cluster: clusterOf(opts.topology),
    outDir: ctx.outDir,
    outcome: "destroyed",
    identities: ctx.identities,
    stacks: [],
    durationMs: 0,
  };
  const finish = (outcome: DestroyRunResult["outcome"]) => {
    result.outcome = outcome;
    result.durationMs = Date.now() - started;
    return result;
  };
  const reports: StackRunReport[] = order.map(({ phase, stack, credentials }) => ({
    name: stack.name,
    phase,
    account: stack.account,
    region: stack.region,
    credentials,
    outcome: (states.get(stack.name) ? "kept" : "absent") as StackOutcome,
  }));
  result.stacks = reports;
  tracker.result = result;
  const existing = order.filter((o) => states.get(o.stack.name));
  // Adopted pieces each deployed stack holds: kept (Retain) unless --including-adopted.
  const adopted = new Map<string, XeksManifestImport[]>();
  for (const o of existing) {
    const held = await adoptedInStack(ctx, o);
    if (held.length > 0) adopted.set(o.stack.name, held);
  }
  const including = opts.includingAdopted ?? false;
  // The StackSets of phase 1 are not deleted by destroy (docs/organizations.md, "Destroy"): said, with the commands.
  const sets = ctx.manifest.stackSets ?? [];
  if (sets.length > 0) {
    result.stackSetsLeft = sets.map((s) => ({
      name: s.name,
      account: s.account,
      region: s.region,
      commands: stackSetDeleteCommands(s),
    }));
    for (const s of result.stackSetsLeft) {
      ctx.emit({
        type: "notice",
        level: "warn",
        message: `StackSet ${s.name} (account ${s.account}) is not deleted by xeks destroy: with the administrator's credentials, run ${s.commands[0]}, wait until aws cloudformation list-stack-instances lists none, then ${s.commands[1]}`,
      });
    }
  }
  if (existing.length === 0) {
    ctx.emit({
      type: "notice",
      level: "info",
      message: "nothing to destroy: no stack of this topology exists",
    });
    return finish("nothing-to-destroy");
  }
  if (opts.confirm) {
    const plans: StackPlan[] = order.map(({ phase, stack, credentials }) => {
      const state = states.get(stack.name);
      return {
        name: stack.name,
        phase,
        account: stack.account,
        region: stack.region,
        credentials,
        action: state ? "delete" : "absent",
        ...(state ? { status: state.status } : {}),
        reason: state ? `deployed (${state.status})` : "not deployed",
        resources: state
          ? templateResources(ctx.templates.get(stack.name))
              .filter(
                (r) => including || !(adopted.get(stack.name) ?? []).some((i) => i.logicalId === r.logicalId),
              )
              .map((r) => ({ ...r, change: "remove" as const }))
          : [],
        parameters: [],
        ...(adopted.has(stack.name)
          ? {
              imports: (adopted.get(stack.name) ?? []).map((i) => ({
                piece: i.piece,
                logicalId: i.logicalId,
                note: including
                  ? "adopted: deleted too (--including-adopted)"
                  : "adopted: kept in place (it existed before xeks; --including-adopted deletes it)",
                changes: [],
              })),
            }
          : {}),
      };
    });
    tracker.step("confirmation");
    const ok = await opts.confirm({ command: "destroy", cluster: opts.topology.cluster.name, stacks: plans });
    if (!ok) return finish("cancelled");
  }
  tracker.step("changing");
  const remaining = new Set(existing.map((o) => o.stack.name));
  const concurrency = opts.concurrency ?? DEFAULT_STACK_CONCURRENCY;
  /** Delete one stack; its report says how it ended. */
  const destroyOne = async ({ phase, stack, credentials }: DestroyItem, i: number): Promise<UnitOutcome> => {
    const report = reports[i] as StackRunReport;
    const blockers = blockedByDependents(ctx.manifest, stack.name, remaining);
    if (blockers.length > 0) {
      report.outcome = "kept";
      report.failure = {
        stack: stack.name,
        reason: `kept: ${blockers.join(", ")} depends on it and could not be removed`,
      };
      stackEvent(ctx, stack, phase, "delete", "skipped", { message: report.failure.reason });
      return "skipped";
    }
    stackEvent(ctx, stack, phase, "delete", "started");
    const t0 = Date.now();
    const toolkit = ctx.toolkitFor(credentials);
    const held = adopted.get(stack.name) ?? [];
    const heldIds = new Set(held.map((h) => h.logicalId));
    try {
      if (including && held.length > 0) {
        try {
          await adoptionFor(ctx, credentials, stack.region).releaseAdopted(stack.name, [...heldIds]);
        } catch (err) {
          throw awsError(
            err,
            `letting stack ${stack.name} delete its adopted resources`,
            ctx.set(credentials),
          );
        }
      }
      await toolkit.destroy(stack.name);
      remaining.delete(stack.name);
      report.outcome = "deleted";
      report.durationMs = Date.now() - t0;
      // Adopted pieces CloudFormation kept (DELETE_SKIPPED: Retain) are kept on purpose, not left behind.
      const left = (ctx.host.leftBehind.get(stack.name) ?? []).filter(
        (e) => including || !heldIds.has(e.logicalId),
      );
      if (left.length) report.leftBehind = leftBehindOf(left);
      if (!including && held.length > 0) {
        report.adoptedKept = held.map((h) => ({ logicalId: h.logicalId, piece: h.piece }));
      }
      stackEvent(ctx, stack, phase, "delete", "done", { durationMs: report.durationMs });
      return "done";
    } catch (err) {
      if (isNoAnswer(err)) throw err;
      report.outcome = "failed";
      report.durationMs = Date.now() - t0;
      const events = [
        ...(ctx.host.failures.get(stack.name) ?? []),
        ...(ctx.host.leftBehind.get(stack.name) ?? []),
      ];
      report.failure = describeFailure(stack.name, events, err, ctx.templates.get(stack.name));
      if (events.length) report.leftBehind = leftBehindOf(events);
      stackEvent(ctx, stack, phase, "delete", "failed", {
        durationMs: report.durationMs,
        message: report.failure.reason,
      });
      return "failed";
    }
  };
  let failed = false;
  // Phase by phase in reverse; the stacks of one phase in parallel (at most `concurrency` at once).
  for (const phase of [...new Set(order.map((o) => o.phase))]) {
    const items = order
      .map((o, i) => ({ o, i }))
      .filter(({ o }) => o.phase === phase && states.get(o.stack.name));
    if (items.length === 0) continue;
    if (opts.failFast && failed) {
      for (const { o } of items) {
        stackEvent(ctx, o.stack, phase, "delete", "skipped", { message: "not reached (--fail-fast)" });
      }
      continue;
    }
    const phaseStarted = Date.now();
    const p = ctx.manifest.phases.find((x) => x.number === phase);
    ctx.emit({
      type: "phase",
      number: phase,
      name: p?.name ?? "",
      title: `removing: ${p?.title ?? ""}`,
      stacks: items.map(({ o }) => o.stack.name),
      of: ctx.manifest.phases.length,
    });
    const outcomes = await runBounded(
      items,
      concurrency,
      async ({ o, i }) => {
        const outcome = await destroyOne(o, i);
        if (outcome === "failed") failed = true;
        return outcome;
      },
      () => Boolean(opts.failFast) && failed,
    );
    ctx.emit({
      type: "phase-done",
      number: phase,
      name: phaseName(ctx, phase),
      durationMs: Date.now() - phaseStarted,
      counts: countOutcomes(outcomes),
    });
  }
  const incomplete = reports.some(
    (r) => r.outcome === "failed" || r.outcome === "kept" || r.leftBehind?.length,
  );
  return finish(incomplete ? "incomplete" : "destroyed");
}

type DestroyItem = ReturnType<typeof destroyOrder>[number];

function phaseName(ctx: Context, n: number): string {
  return ctx.manifest.phases.find((p) => p.number === n)?.name ?? "";
}

/** What a failed or partial delete left behind, for the destroy report. */
function leftBehindOf(events: readonly StackEventInfo[]): NonNullable<StackRunReport["leftBehind"]> {
  return events.map((e) => ({
    logicalId: e.logicalId,
    resourceType: e.resourceType,
    ...(e.physicalId ? { physicalId: e.physicalId } : {}),
    reason: e.reason ?? e.status,
  }));
}
