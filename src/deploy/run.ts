/**
 * What `deploy`, `diff` and `destroy` share (one file each: deploy.ts, diff.ts, destroy.ts): their options,
 * their errors, the AWS watchdog around a run (`guarded`), the prepared context (credentials checked,
 * templates synthesized), reading stack states and diffs, the plan of every stack, and progress events.
 */
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
import { readAuthMode, type WaitOptions } from "./auth-mode.js";
import { type AwsApis, awsError, isNoAnswer, type StackState, sdkApis } from "./aws.js";
import {
  type CredentialProvider,
  type CredentialSet,
  credentialSets,
  defaultProviderFactory,
  type ProfileOptions,
  type ProviderFactory,
} from "./credentials.js";
import { verifyIdentities } from "./identity.js";
import { describeWhere, type InFlightState, type RunCommand, RunTracker } from "./in-flight.js";
import { XeksIoHost } from "./io-host.js";
import {
  classifyStack,
  credentialsOf,
  type DeployStep,
  parameterChanges,
  tryResolveParameters,
} from "./plan.js";
import { AccountToolkit, type TemplateDiffLike } from "./toolkit.js";
import type {
  AuthModeState,
  DeployRunResult,
  DestroyRunResult,
  EventSink,
  IdentityCheck,
  ResourceChange,
  StackAction,
  StackPlan,
} from "./types.js";

/** What the user is asked to confirm. */
export interface Confirmation {
  command: "deploy" | "destroy";
  cluster: string;
  stacks: StackPlan[];
  authMode?: AuthModeState;
  /**
   * deploy: the StackSets of phase 1 (docs/organizations.md), each created, or updated when its member template
   * changed, in its administrator account. Absent: none.
   */
  stackSets?: {
    name: string;
    client: string;
    account: string;
    organizationalUnits: string[];
    regions: string[];
    /** What deploy will do, from reads (src/deploy/stackset.ts planStackSet); absent: not known. */
    action?: "create" | "update" | "unchanged";
    /** Why, in words. */
    reasons?: string[];
  }[];
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
  /**
   * destroy: delete the adopted pieces too (pieces that existed before xeks, kept by default: docs/adopt.md).
   * @default false
   */
  includingAdopted?: boolean;
  /** deploy: switch a CONFIG_MAP cluster to API_AND_CONFIG_MAP (one-way). */
  allowAuthModeChange?: boolean;
  /**
   * deploy and destroy: stacks of one phase in flight at once (`--concurrency`); 1 is one after the other, in
   * the manifest's order. @default 8 (pool.ts DEFAULT_STACK_CONCURRENCY)
   */
  concurrency?: number;
  /**
   * deploy and destroy: after a stack fails, start no other stack of its phase (the ones in flight finish).
   * @default false: the other stacks of the phase go on
   */
  failFast?: boolean;
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
export async function guarded<T>(
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

/** What a prepared run works with: the synthesized manifest and templates, checked credentials, the AWS APIs. */
export interface Context {
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
export async function prepare(opts: RunOptions, tracker: RunTracker): Promise<Context> {
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
        const set = sets.get(credentials);
        const baseProfile = opts.profiles?.profile;
        return {
          name: stack.name,
          phase: phase.number,
          account: stack.account,
          region: stack.region,
          credentials,
          ...(set?.profile !== undefined ? { profile: set.profile } : {}),
          // --assume-role-name: the role and its base session, for the printed watch command.
          ...(set?.role !== undefined
            ? { role: set.role, ...(baseProfile !== undefined ? { baseProfile } : {}) }
            : {}),
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

/** The stack steps of a deploy plan (without its phase and wait-peering steps). */
export function stackSteps(steps: DeployStep[]): StackStep[] {
  return steps.filter((s): s is StackStep => s.kind === "stack");
}

/**
 * Each stack's state as CloudFormation has it (undefined: not deployed), read with the stack's credentials.
 * Throws OperationError (awsError) naming the stack and account when a read fails.
 */
export async function readStates(ctx: Context, stacks: { stack: XeksManifestStack; credentials: string }[]) {
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

/** toolkit-lib's template diff of each stack against what is deployed, one toolkit per credential set. */
export async function readDiffs(ctx: Context, steps: StackStep[]): Promise<Map<string, TemplateDiffLike>> {
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

/** Every resource of a template as an addition (a stack to create); `remove` for destroy is the caller's. */
export function templateResources(template: Record<string, unknown> | undefined): ResourceChange[] {
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
export function planStacks(
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

/** The cluster a result is about (name, account, region). */
export function clusterOf(t: Topology) {
  return { name: t.cluster.name, account: t.cluster.account, region: t.cluster.region };
}

/** The cluster's authentication mode and what the run does about it (`allow`: may switch it), emitted as an event. */
export async function authMode(ctx: Context, allow: boolean): Promise<AuthModeState> {
  const cluster = ctx.set("cluster");
  try {
    const state = await readAuthMode(ctx.topology, ctx.apis.eks(cluster, ctx.topology.cluster.region), allow);
    ctx.emit({ type: "auth-mode", state });
    return state;
  } catch (err) {
    throw awsError(err, `reading cluster ${ctx.topology.cluster.name}`, cluster);
  }
}

/** One progress event about a stack. */
export function stackEvent(
  ctx: { emit: EventSink; host?: { flush(): void } },
  stack: { name: string; account: string },
  phase: number,
  action: StackAction,
  status: "started" | "done" | "skipped" | "failed",
  extra: { durationMs?: number; message?: string } = {},
): void {
  // The stack's last resource events before its outcome (src/deploy/io-host.ts holds a batch to order it).
  if (status !== "started") ctx.host?.flush();
  ctx.emit({ type: "stack", stack: stack.name, phase, account: stack.account, action, status, ...extra });
}
