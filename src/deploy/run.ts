import { awsTimeoutMs } from "../aws/sdk.js";
import {
  AwsSilenceError,
  AwsWatchdog,
  describeSilence,
  describeSilentEndpoint,
  type SilentEndpoint,
  silenceBoundMs,
} from "../aws/watchdog.js";
import { OperationError } from "../errors.js";
import type { XeksManifest, XeksManifestStack } from "../infra/manifest.js";
import { checkOutDir, synthesize } from "../infra/synthesize.js";
import type { Topology } from "../topology/types.js";
import { authModeBlocked, readAuthMode, updateAuthMode, type WaitOptions } from "./auth-mode.js";
import { type AwsApis, awsError, isNoAnswer, type StackEventInfo, type StackState, sdkApis } from "./aws.js";
import {
  type CredentialProvider,
  type CredentialSet,
  credentialSets,
  defaultProviderFactory,
  type ProfileOptions,
  type ProviderFactory,
} from "./credentials.js";
import { describeFailure } from "./failure.js";
import { verifyIdentities } from "./identity.js";
import { describeWhere, type InFlightState, type RunCommand, RunTracker } from "./in-flight.js";
import { XeksIoHost } from "./io-host.js";
import { waitForPeering } from "./peering.js";
import {
  blockedByDependents,
  classifyStack,
  credentialsOf,
  type DeployStep,
  deploySteps,
  destroyOrder,
  parameterChanges,
  resolveParameters,
  tryResolveParameters,
} from "./plan.js";
import { AccountToolkit, type TemplateDiffLike } from "./toolkit.js";
import type {
  AuthModeState,
  DeployRunResult,
  DestroyRunResult,
  DiffRunResult,
  EventSink,
  IdentityCheck,
  PhaseRunReport,
  ResourceChange,
  StackAction,
  StackFailure,
  StackOutcome,
  StackPlan,
  StackRunReport,
} from "./types.js";

/** What the user is asked to confirm. */
export interface Confirmation {
  command: "deploy" | "destroy";
  cluster: string;
  stacks: StackPlan[];
  authMode?: AuthModeState;
}

export interface RunOptions {
  topology: Topology;
  /** The assembly directory, synthesized fresh by each run. */
  outDir: string;
  profiles?: ProfileOptions;
  emit?: EventSink;
  /**
   * Asked once, before anything changes, when there is something to change. Resolve false to cancel.
   * @default proceed without asking
   */
  confirm?: (question: Confirmation) => Promise<boolean>;
  /** deploy: switch a CONFIG_MAP cluster to API_AND_CONFIG_MAP (one-way). */
  allowAuthModeChange?: boolean;
  /** Waits for the authentication mode update and the peering connection. */
  wait?: WaitOptions;
  /** Between two polls of CloudFormation by toolkit-lib. */
  pollMs?: number;
  /** Run cdk-nag during synthesis (default true). */
  nag?: boolean;
  /**
   * Kept up to date with what the run has in flight (step, phase, stack and its last known status), for the
   * caller to say on an interrupt. @default a tracker of its own
   */
  tracker?: RunTracker;
  /** Test seams. */
  apis?: AwsApis;
  providerFactory?: ProviderFactory;
}

/** A deploy that failed after it started changing things; `result` says what was done. */
export class DeployFailedError extends OperationError {
  constructor(
    message: string,
    readonly result: DeployRunResult,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/**
 * A run that ended because AWS stopped answering: an endpoint was silent for the run's bound
 * (3 × XEKS_AWS_TIMEOUT_MS + 3 s, src/aws/watchdog.ts), or an AWS call failed for want of an answer. Says
 * which endpoint (when the watchdog saw it), what the run had in flight, and for deploy and destroy the result
 * so far (the stack in flight marked failed). Exit 1.
 */
export class NoAnswerError extends OperationError {
  constructor(
    message: string,
    /** The endpoint that stopped answering (undefined: the failed call did not go through a watched client). */
    readonly silent: SilentEndpoint | undefined,
    /** The run's bound, in ms. */
    readonly boundMs: number,
    readonly inFlight: InFlightState,
    readonly result?: DeployRunResult | DestroyRunResult,
  ) {
    super(
      message,
      "check the network path to the AWS endpoints (proxy, firewall, AWS_ENDPOINT_URL), then run again",
    );
  }
}

/**
 * Run one command under the AWS watchdog (no answer from an endpoint for the bound ends it) and turn a run that
 * ended for want of an answer into a NoAnswerError.
 */
async function guarded<T>(
  command: RunCommand,
  opts: RunOptions,
  run: (opts: RunOptions, tracker: RunTracker) => Promise<T>,
): Promise<T> {
  const tracker = opts.tracker ?? new RunTracker(command);
  tracker.cluster = clusterOf(opts.topology);
  const watchdog = new AwsWatchdog(silenceBoundMs(awsTimeoutMs(process.env)));
  try {
    const r = await watchdog.run(() => run(opts, tracker));
    tracker.step("finished");
    return r;
  } catch (err) {
    const silent =
      err instanceof AwsSilenceError ? err.silent : isNoAnswer(err) ? watchdog.silent() : undefined;
    if (!silent) throw err;
    throw noAnswer(tracker, silent, watchdog.boundMs, err);
  } finally {
    tracker.settled = true;
  }
}

function noAnswer(tracker: RunTracker, silent: SilentEndpoint, boundMs: number, err: unknown): NoAnswerError {
  const state = tracker.state;
  const silence = `${describeSilentEndpoint(silent)} ${describeSilence(silent)}`;
  // The watchdog's own error says it all; a call that failed by itself says what it was doing, and why.
  const base =
    err instanceof AwsSilenceError
      ? `no answer from AWS: ${silence}`
      : `${(err as Error).message.replace(/[.\s]+$/, "")}; ${silence}`;
  const message = `${base}; ${state.command} stopped ${describeWhere(state)}${state.changed ? "" : "; nothing was changed"}`;
  const partial = err instanceof DeployFailedError ? err.result : tracker.result;
  const result = partial ? structuredClone(partial) : undefined;
  if (result) {
    result.durationMs = Date.now() - tracker.startedAt;
    const report = state.stack ? result.stacks.find((r) => r.name === state.stack?.name) : undefined;
    if (report && report.outcome !== "failed") {
      report.outcome = "failed";
      delete report.durationMs;
      report.failure = { stack: report.name, reason: base };
    }
    if (result.kind === "DeployResult") {
      result.outcome = "failed";
      if (!result.failure) {
        const stack = state.stack?.name ?? state.peering?.stack;
        if (stack) result.failure = { stack, reason: base, phase: state.phase?.number ?? 0 };
      }
    } else {
      result.outcome = "incomplete";
    }
  }
  const e = new NoAnswerError(message, silent, boundMs, state, result);
  (e as { cause?: unknown }).cause = err;
  return e;
}

const noop: EventSink = () => {};

interface Context {
  topology: Topology;
  manifest: XeksManifest;
  outDir: string;
  templates: Map<string, Record<string, unknown>>;
  sets: Map<string, CredentialSet>;
  identities: IdentityCheck[];
  apis: AwsApis;
  host: XeksIoHost;
  emit: EventSink;
  toolkitFor(credentials: string): AccountToolkit;
  set(credentials: string): CredentialSet;
}

/**
 * In this order: local checks, then every set of credentials against its account (sts:GetCallerIdentity),
 * then synthesis into `outDir`. A run refused for its credentials leaves `outDir` as it was.
 */
async function prepare(opts: RunOptions, tracker: RunTracker): Promise<Context> {
  const userEmit = opts.emit ?? noop;
  const emit: EventSink = (e) => {
    if (tracker.settled) return; // work abandoned when AWS stopped answering: its events are not news
    tracker.observe(e);
    userEmit(e);
  };
  checkOutDir(opts.outDir);
  const apis = opts.apis ?? sdkApis;
  const sets = credentialSets(
    opts.topology,
    opts.profiles ?? {},
    opts.providerFactory ?? defaultProviderFactory,
  );
  tracker.step("credentials");
  const identities = await verifyIdentities(sets.values(), apis, emit);
  tracker.step("synthesis");
  const synth = synthesize(opts.topology, {
    outDir: opts.outDir,
    ...(opts.nag === false ? { nag: false } : {}),
  });
  const manifest = synth.manifest;
  tracker.know(
    manifest.phases.flatMap((phase) =>
      phase.stacks.map((stack) => {
        const credentials = credentialsOf(phase, stack);
        const profile = sets.get(credentials)?.profile;
        return {
          name: stack.name,
          phase: phase.number,
          account: stack.account,
          region: stack.region,
          credentials,
          ...(profile !== undefined ? { profile } : {}),
        };
      }),
    ),
    async (st) => {
      const set = sets.get(st.credentials);
      if (!set) return undefined;
      const now = await apis.cfn(set, st.region).describeStack(st.name);
      return now
        ? { status: now.status, ...(now.statusReason ? { statusReason: now.statusReason } : {}) }
        : undefined;
    },
  );
  emit({
    type: "synthesized",
    outDir: synth.outDir,
    stacks: manifest.phases.reduce((n, p) => n + p.stacks.length, 0),
    phases: manifest.phases.length,
  });
  const host = new XeksIoHost(emit);
  const toolkits = new Map<CredentialProvider, AccountToolkit>();
  const set = (key: string): CredentialSet => {
    const s = sets.get(key);
    if (!s) throw new OperationError(`manifest names credentials "${key}" that the topology does not have`);
    return s;
  };
  return {
    topology: opts.topology,
    manifest,
    outDir: synth.outDir,
    templates: synth.templates,
    sets,
    identities,
    apis,
    host,
    emit,
    set,
    toolkitFor(key) {
      const s = set(key);
      let t = toolkits.get(s.provider);
      if (!t) {
        t = new AccountToolkit(
          s,
          synth.outDir,
          host,
          opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {},
        );
        toolkits.set(s.provider, t);
      }
      return t;
    },
  };
}

type StackStep = Extract<DeployStep, { kind: "stack" }>;

function stackSteps(steps: DeployStep[]): StackStep[] {
  return steps.filter((s): s is StackStep => s.kind === "stack");
}

async function readStates(ctx: Context, stacks: { stack: XeksManifestStack; credentials: string }[]) {
  const states = new Map<string, StackState | undefined>();
  await Promise.all(
    stacks.map(async ({ stack, credentials }) => {
      const set = ctx.set(credentials);
      try {
        states.set(stack.name, await ctx.apis.cfn(set, stack.region).describeStack(stack.name));
      } catch (err) {
        throw awsError(err, `reading stack ${stack.name} in account ${stack.account}`, set);
      }
    }),
  );
  return states;
}

async function readDiffs(ctx: Context, steps: StackStep[]): Promise<Map<string, TemplateDiffLike>> {
  const groups = new Map<AccountToolkit, string[]>();
  for (const s of steps) {
    const t = ctx.toolkitFor(s.credentials);
    groups.set(t, [...(groups.get(t) ?? []), s.stack.name]);
  }
  const out = new Map<string, TemplateDiffLike>();
  for (const [t, names] of groups) {
    let diffs: Record<string, TemplateDiffLike>;
    try {
      diffs = await t.diff(names);
    } catch (err) {
      throw awsError(
        err,
        `comparing the stacks of account ${t.credentials.account} with what is deployed`,
        t.credentials,
      );
    }
    for (const [name, d] of Object.entries(diffs)) out.set(name, d);
  }
  return out;
}

function templateResources(template: Record<string, unknown> | undefined): ResourceChange[] {
  const resources = (template?.Resources ?? {}) as Record<string, { Type?: string }>;
  return Object.entries(resources).map(([logicalId, r]) => ({
    logicalId,
    resourceType: r.Type ?? "",
    change: "add" as const,
  }));
}

function diffResources(diff: TemplateDiffLike | undefined): ResourceChange[] {
  const out: ResourceChange[] = [];
  diff?.resources.forEachDifference((logicalId, c) => {
    const resourceType = c.newResourceType ?? c.oldResourceType ?? "";
    const change = c.isAddition
      ? "add"
      : c.isRemoval
        ? "remove"
        : c.changeImpact === "WILL_REPLACE" || c.changeImpact === "MAY_REPLACE"
          ? "replace"
          : "update";
    out.push({ logicalId, resourceType, change });
  });
  return out;
}

/** The plan of every stack from its state and diff; parameters read from deployed outputs where final. */
function planStacks(
  ctx: Context,
  steps: StackStep[],
  states: Map<string, StackState | undefined>,
  diffs: Map<string, TemplateDiffLike>,
): StackPlan[] {
  const finalOutputs = new Map<string, Record<string, string>>();
  const plans: StackPlan[] = [];
  for (const step of steps) {
    const { stack } = step;
    const state = states.get(stack.name);
    const diff = diffs.get(stack.name);
    const wanted = tryResolveParameters(stack, finalOutputs);
    const params = wanted ? parameterChanges(state?.parameters, wanted) : [];
    const c = classifyStack({
      name: stack.name,
      status: state?.status,
      templateChanged: diff ? !diff.isEmpty : true,
      parameters: params,
      parametersKnown: wanted !== undefined,
    });
    if (c.action === "blocked") {
      throw new OperationError(`cannot deploy: ${c.reason}; nothing was changed`, c.fix);
    }
    if (c.action === "unchanged" && state) finalOutputs.set(stack.name, state.outputs);
    const fresh = c.action === "create" || c.action === "recreate";
    const unknown = wanted
      ? []
      : stack.parameters.map((p) => ({
          name: p.name,
          ...(state?.parameters[p.name] ? { from: state.parameters[p.name] } : {}),
        }));
    const diffText = ctx.host.diffTexts.get(stack.name);
    plans.push({
      name: stack.name,
      phase: step.phase,
      account: stack.account,
      region: stack.region,
      credentials: step.credentials,
      action: c.action,
      ...(state ? { status: state.status } : {}),
      reason: c.reason,
      resources: fresh ? templateResources(ctx.templates.get(stack.name)) : diffResources(diff),
      parameters: wanted ? params : unknown,
      ...(diffText && c.action !== "unchanged" ? { diffText } : {}),
    });
  }
  return plans;
}

function clusterOf(t: Topology) {
  return { name: t.cluster.name, account: t.cluster.account, region: t.cluster.region };
}

async function authMode(ctx: Context, allow: boolean): Promise<AuthModeState> {
  const cluster = ctx.set("cluster");
  try {
    const state = await readAuthMode(ctx.topology, ctx.apis.eks(cluster, ctx.topology.cluster.region), allow);
    ctx.emit({ type: "auth-mode", state });
    return state;
  } catch (err) {
    throw awsError(err, `reading cluster ${ctx.topology.cluster.name}`, cluster);
  }
}

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
  const plans = planStacks(ctx, steps, states, diffs);
  return {
    kind: "DiffResult",
    version: 1,
    cluster: clusterOf(opts.topology),
    outDir: ctx.outDir,
    identities: ctx.identities,
    authMode: auth,
    stacks: plans,
    changes: auth.action !== "none" || plans.some((p) => p.action !== "unchanged"),
  };
}

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
  const allSteps = deploySteps(ctx.manifest);
  const steps = stackSteps(allSteps);
  const auth = await authMode(ctx, opts.allowAuthModeChange ?? false);
  if (auth.action === "blocked") throw authModeBlocked(auth, opts.topology);
  const states = await readStates(ctx, steps);
  const diffs = await readDiffs(ctx, steps);
  const plans = planStacks(ctx, steps, states, diffs);
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

  if (auth.action === "none" && plans.every((p) => p.action === "unchanged")) {
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

/**
 * Delete the stacks in reverse phase order; keep a stack while a stack depending on it remains. Throws
 * NoAnswerError (with the partial result) when AWS stops answering (src/aws/watchdog.ts).
 */
export function destroy(opts: RunOptions): Promise<DestroyRunResult> {
  return guarded("destroy", opts, destroyRun);
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
          ? templateResources(ctx.templates.get(stack.name)).map((r) => ({ ...r, change: "remove" as const }))
          : [],
        parameters: [],
      };
    });
    tracker.step("confirmation");
    const ok = await opts.confirm({ command: "destroy", cluster: opts.topology.cluster.name, stacks: plans });
    if (!ok) return finish("cancelled");
  }
  tracker.step("changing");
  const remaining = new Set(existing.map((o) => o.stack.name));
  let currentPhase = 0;
  let phaseStarted = Date.now();
  for (const [i, { phase, stack, credentials }] of order.entries()) {
    const report = reports[i] as StackRunReport;
    if (!states.get(stack.name)) continue;
    if (phase !== currentPhase) {
      if (currentPhase) {
        ctx.emit({
          type: "phase-done",
          number: currentPhase,
          name: phaseName(ctx, currentPhase),
          durationMs: Date.now() - phaseStarted,
        });
      }
      currentPhase = phase;
      phaseStarted = Date.now();
      const p = ctx.manifest.phases.find((x) => x.number === phase);
      ctx.emit({
        type: "phase",
        number: phase,
        name: p?.name ?? "",
        title: `removing: ${p?.title ?? ""}`,
        stacks: (p?.stacks ?? []).map((s) => s.name).filter((n) => states.get(n)),
        of: ctx.manifest.phases.length,
      });
    }
    const blockers = blockedByDependents(ctx.manifest, stack.name, remaining);
    if (blockers.length > 0) {
      report.outcome = "kept";
      report.failure = {
        stack: stack.name,
        reason: `kept: ${blockers.join(", ")} depends on it and could not be removed`,
      };
      stackEvent(ctx, stack, phase, "delete", "skipped", { message: report.failure.reason });
      continue;
    }
    stackEvent(ctx, stack, phase, "delete", "started");
    const t0 = Date.now();
    const toolkit = ctx.toolkitFor(credentials);
    try {
      await toolkit.destroy(stack.name);
      remaining.delete(stack.name);
      report.outcome = "deleted";
      report.durationMs = Date.now() - t0;
      const left = ctx.host.leftBehind.get(stack.name);
      if (left?.length) report.leftBehind = leftBehindOf(left);
      stackEvent(ctx, stack, phase, "delete", "done", { durationMs: report.durationMs });
    } catch (err) {
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
    }
  }
  if (currentPhase) {
    ctx.emit({
      type: "phase-done",
      number: currentPhase,
      name: phaseName(ctx, currentPhase),
      durationMs: Date.now() - phaseStarted,
    });
  }
  const incomplete = reports.some(
    (r) => r.outcome === "failed" || r.outcome === "kept" || r.leftBehind?.length,
  );
  return finish(incomplete ? "incomplete" : "destroyed");
}

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

/** One progress event about a stack. */
function stackEvent(
  ctx: { emit: EventSink },
  stack: { name: string; account: string },
  phase: number,
  action: StackAction,
  status: "started" | "done" | "skipped" | "failed",
  extra: { durationMs?: number; message?: string } = {},
): void {
  ctx.emit({ type: "stack", stack: stack.name, phase, account: stack.account, action, status, ...extra });
}
