/**
 * What a deploy, diff or destroy has in flight, for the CLI to say when the run is interrupted (SIGINT,
 * SIGTERM) or ends because AWS stopped answering: the step, the phase, the stack being changed with its last
 * known CloudFormation status, the peering connection or authentication-mode update being waited for, and
 * whether anything was changed yet. The library keeps it up to date (mostly from its own progress events) and
 * never prints; the CLI reads it. Plain data; the JSON form (`InterruptedResult`) is public.
 */
import { shellWord } from "../domain/shell.js";
import { stackSetOperationCommand } from "../domain/stackset.js";
import type { DeployEvent, DeployRunResult, DestroyRunResult, StackAction, StackRunReport } from "./types.js";

export type RunCommand = "deploy" | "diff" | "destroy";

/** Where a run is, in order. */
export type RunStep =
  /** Local checks. */
  | "starting"
  /** sts:GetCallerIdentity per set of credentials. */
  | "credentials"
  /** Synthesizing the topology into --out. */
  | "synthesis"
  /** Reading the cluster and the stacks, diffing the templates (reads only). */
  | "reading"
  /** Asking the user. */
  | "confirmation"
  /** Changing things: the authentication mode, then the stacks, phase by phase. */
  | "changing"
  /** deploy: the doctor's checks on the live state, after every stack is deployed. */
  | "chain-check"
  | "finished";

/** The stack a run is changing. */
export interface StackInFlight {
  name: string;
  phase: number;
  account: string;
  region: string;
  /** "cluster" or "client ops". */
  credentials: string;
  /** The profile of those credentials (undefined: the ambient credentials, or an assumed `role`). */
  profile?: string;
  /** `--assume-role-name`: the role ARN the run assumed in `account` for these credentials. */
  role?: string;
  /** With `role`: the profile of the base session that assumed it (undefined: the ambient credentials). */
  baseProfile?: string;
  action: StackAction;
  /**
   * The stack's CloudFormation status, as last known: asked just now (`statusFrom: "now"`), from its own
   * latest stack event of this run (`"event"`), or read before the run changed it (`"before-run"`).
   * Undefined: no status known (a stack that did not exist before, and no event yet).
   */
  status?: string;
  statusFrom?: "now" | "event" | "before-run";
  /** CloudFormation's reason for that status, when it gave one. */
  statusReason?: string;
  /** false: asked just now, CloudFormation has no such stack (not created yet, or deleted). */
  exists?: boolean;
}

/** What a run had in flight at a given moment. */
export interface InFlightState {
  command: RunCommand;
  step: RunStep;
  /** The phase in progress (destroy: in reverse order). */
  phase?: { number: number; name: string; of: number };
  stack?: StackInFlight;
  /**
   * The other stacks in flight at the same time (the stacks of one phase run in parallel, `--concurrency`):
   * their names, in order of start; `stack` is the one started first. Absent when `stack` is the only one.
   */
  alsoInFlight?: string[];
  /** deploy: the peering connection being waited for, before `stack` (the cluster-link stack) is deployed. */
  peering?: { id: string; status: string; stack: string; account: string; region: string } & Reach;
  /** deploy: the authentication-mode update being waited for. */
  authModeUpdate?: { cluster: string; region: string; updateId: string; status: string } & Reach;
  /**
   * deploy: the StackSet operation being followed (phase 1, a client from an organization), in the StackSet's
   * administrator account; CloudFormation goes on with it without xeks.
   */
  stackSetOperation?: {
    stackSet: string;
    operationId: string;
    /** What the operation does, in words. */
    what: string;
    account: string;
    region: string;
    callAs: string;
  } & Reach;
  /**
   * Whether the run had started changing anything (a change set, a deletion, the authentication mode, a StackSet
   * write call).
   */
  changed: boolean;
  /** Stacks this run created, updated, recreated or deleted, in order. */
  done: string[];
}

/**
 * How an account was reached: its own `profile`, or (`--assume-role-name`) a `role` ARN assumed with the base
 * session (`baseProfile`, undefined for the ambient credentials); neither: the ambient credentials.
 */
export interface Reach {
  profile?: string;
  role?: string;
  baseProfile?: string;
}

/** Where each stack lives and how it stood before the run; given to the tracker by the run. */
export interface KnownStack extends Reach {
  name: string;
  phase: number;
  account: string;
  region: string;
  credentials: string;
  /** Status before the run (undefined: no such stack). */
  status?: string;
}

/** Asks CloudFormation for a stack's status now (undefined: no such stack). */
export type StackLook = (
  stack: StackInFlight,
) => Promise<{ status: string; statusReason?: string } | undefined>;

/**
 * Keeps the in-flight state of one run. Pass one in `RunOptions.tracker` to read it while the run goes on
 * (`state`, a copy); the run calls the other methods.
 */
export class RunTracker {
  private readonly s: InFlightState;
  private readonly known = new Map<string, KnownStack>();
  /** The stacks in flight, in order of start (several at once within a phase). */
  private readonly flying = new Map<string, StackInFlight>();
  private look?: StackLook;
  /** The run's result so far (deploy and destroy, once their plan is known); mutated as the run goes on. */
  result?: DeployRunResult | DestroyRunResult;
  /** The cluster the run is for. */
  cluster?: { name: string; account: string; region: string };
  /** When the run started (ms since the epoch). */
  readonly startedAt = Date.now();
  /** Set when the run's promise has settled: later events of abandoned work are not passed on. */
  settled = false;

  constructor(command: RunCommand) {
    this.s = { command, step: "starting", changed: false, done: [] };
  }

  /** A copy of the state now. */
  get state(): InFlightState {
    return structuredClone(this.s);
  }

  step(step: RunStep): void {
    this.s.step = step;
  }

  /** The run is about to change something (the first write call). */
  markChanged(): void {
    this.s.changed = true;
  }

  /** The StackSet operation the run follows now (undefined: none any more). */
  stackSetOperation(op: InFlightState["stackSetOperation"]): void {
    if (op) this.s.stackSetOperation = { ...op };
    else delete this.s.stackSetOperation;
  }

  /** Where the stacks live (and their status before the run), and how to ask for a stack's status now. */
  know(stacks: readonly KnownStack[], look?: StackLook): void {
    for (const k of stacks) this.known.set(k.name, { ...this.known.get(k.name), ...k });
    if (look) this.look = look;
  }

  /** The status each stack had before the run (from the run's own DescribeStacks). */
  knowStatus(statuses: ReadonlyMap<string, string | undefined>): void {
    for (const [name, status] of statuses) {
      const k = this.known.get(name);
      if (k) k.status = status;
    }
  }

  /** Follow the run's progress events. */
  observe(e: DeployEvent): void {
    const s = this.s;
    switch (e.type) {
      case "identity":
        s.step = "credentials";
        return;
      case "synthesized":
        s.step = "reading";
        return;
      case "auth-mode-update": {
        s.step = "changing";
        s.changed = true;
        if (e.status === "successful") {
          s.authModeUpdate = undefined;
          return;
        }
        const c = this.cluster;
        s.authModeUpdate = {
          cluster: e.cluster,
          region: c?.region ?? "",
          updateId: e.updateId,
          status: "InProgress",
          ...reachOf([...this.known.values()].find((x) => x.credentials === "cluster")),
        };
        return;
      }
      case "phase":
        s.step = "changing";
        s.phase = { number: e.number, name: e.name, of: e.of };
        s.peering = undefined;
        return;
      case "stack": {
        if (e.status === "started") {
          const k = this.known.get(e.stack);
          s.changed = true;
          if (!s.peering || s.peering.stack === e.stack) s.peering = undefined;
          this.flying.set(e.stack, {
            name: e.stack,
            phase: e.phase,
            account: e.account,
            region: k?.region ?? "",
            credentials: k?.credentials ?? "",
            ...reachOf(k),
            action: e.action,
            ...(k?.status ? { status: k.status, statusFrom: "before-run" as const } : {}),
          });
          this.showFlying();
          return;
        }
        if (e.status === "done") s.done.push(e.stack);
        this.flying.delete(e.stack);
        this.showFlying();
        return;
      }
      case "resource": {
        const st = this.flying.get(e.stack);
        if (!st || e.resourceType !== "AWS::CloudFormation::Stack") return;
        st.status = e.status;
        st.statusFrom = "event";
        if (e.reason) st.statusReason = e.reason;
        else delete st.statusReason;
        return;
      }
      case "peering": {
        const k = this.known.get(e.stack);
        s.peering = {
          id: e.peeringId,
          status: e.status,
          stack: e.stack,
          account: k?.account ?? "",
          region: k?.region ?? "",
          ...reachOf(k),
        };
        return;
      }
      default:
        return;
    }
  }

  /** `stack` is the first stack in flight, `alsoInFlight` the others. */
  private showFlying(): void {
    const [first, ...others] = this.flying.values();
    this.s.stack = first;
    if (others.length > 0) this.s.alsoInFlight = others.map((o) => o.name);
    else delete this.s.alsoInFlight;
  }

  /**
   * Ask CloudFormation for the status of the stack in flight, within `timeoutMs`, and return the state with it
   * (`statusFrom: "now"`). Never throws: without an answer in time (or a stack in flight) the state keeps the
   * last known status. The request may go on in the background; the caller is about to exit.
   */
  async refresh(timeoutMs: number): Promise<InFlightState> {
    const st = this.s.stack;
    if (!st || !this.look) return this.state;
    let timer: NodeJS.Timeout | undefined;
    try {
      const now = await Promise.race([
        this.look({ ...st }),
        new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), timeoutMs);
        }),
      ]);
      if (now !== "late" && this.s.stack?.name === st.name) {
        if (now) {
          st.status = now.status;
          st.statusFrom = "now";
          st.exists = true;
          if (now.statusReason) st.statusReason = now.statusReason;
          else delete st.statusReason;
        } else {
          st.exists = false;
          delete st.status;
          delete st.statusReason;
          st.statusFrom = "now";
        }
      }
    } catch {
      // no answer: the last known status stands
    } finally {
      if (timer) clearTimeout(timer);
    }
    return this.state;
  }
}

/** The `Reach` fields of a known stack, without undefined ones. */
function reachOf(k: Reach | undefined): Reach {
  return {
    ...(k?.profile !== undefined ? { profile: k.profile } : {}),
    ...(k?.role !== undefined ? { role: k.role } : {}),
    ...(k?.baseProfile !== undefined ? { baseProfile: k.baseProfile } : {}),
  };
}

const STEP_WORDS: Record<RunStep, string> = {
  starting: "before any AWS call",
  credentials: "while checking the credentials",
  synthesis: "while synthesizing the topology",
  reading: "while reading the cluster and the stacks",
  confirmation: "while asking for confirmation",
  changing: "between two steps",
  "chain-check": "during the chain check after the deploy (every stack was deployed)",
  finished: "after the run",
};

/**
 * Where a run was, in words: "in phase 3/4 (client-link), stack xeks-c-client-ops-link", "while reading the
 * cluster and the stacks", ...
 */
export function describeWhere(state: InFlightState): string {
  const phase = state.phase ? `in phase ${state.phase.number}/${state.phase.of} (${state.phase.name})` : "";
  if (state.stack) {
    const more = state.alsoInFlight?.length
      ? ` (and ${state.alsoInFlight.length} more stack(s) of the phase)`
      : "";
    return `${phase || `in phase ${state.stack.phase}`}, stack ${state.stack.name}${more}`;
  }
  if (state.peering) {
    return `${phase}, waiting for peering connection ${state.peering.id} before stack ${state.peering.stack}`;
  }
  if (state.stackSetOperation) {
    const o = state.stackSetOperation;
    return `${phase || "in phase 1"}, StackSet ${o.stackSet} (operation ${o.operationId})`;
  }
  if (state.authModeUpdate) {
    return `switching cluster ${state.authModeUpdate.cluster} to API_AND_CONFIG_MAP (update ${state.authModeUpdate.updateId})`;
  }
  if (phase && state.step === "changing") return `${phase}, between two stacks`;
  return STEP_WORDS[state.step];
}

/** A word for the shell: as is when safe, else single-quoted (src/domain/shell.ts). */

/** The session name of the role session a printed watch command starts (`--assume-role-name`). */
export const WATCH_SESSION = "xeks-watch";

/**
 * `command` (an `aws ...` command line) run with the credentials of `reach`: `--profile P` for a profile; for a
 * role assumed with `--assume-role-name`, a POSIX shell line that assumes the role with the base session (its
 * `--profile`, or the ambient credentials) and runs `command` with the role's temporary credentials in its
 * environment (the AWS CLI takes AWS_ACCESS_KEY_ID & co. before AWS_PROFILE). Without them the command would
 * ask the base session's own account.
 */
function withReach(command: string, reach: Reach, region: string): string {
  const profile = (p?: string) => (p !== undefined ? ` --profile ${shellWord(p)}` : "");
  if (reach.role === undefined) return `${command}${profile(reach.profile)}`;
  return (
    `aws sts assume-role --role-arn ${shellWord(reach.role)} --role-session-name ${WATCH_SESSION} --region ${shellWord(region)}${profile(reach.baseProfile)} ` +
    `--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text | ` +
    `{ read -r k s t; AWS_ACCESS_KEY_ID="$k" AWS_SECRET_ACCESS_KEY="$s" AWS_SESSION_TOKEN="$t" ${command}; }`
  );
}

/**
 * The AWS CLI command that shows what AWS is doing with what was in flight: `aws cloudformation
 * describe-stacks` for a stack, `aws ec2 describe-vpc-peering-connections` for a peering connection, `aws eks
 * describe-update` for the authentication-mode update, each with the credentials the run used for it (its
 * profile; for a role assumed with `--assume-role-name`, a line that assumes the role first). Undefined when
 * nothing was in flight.
 */
export function watchCommand(state: InFlightState): string | undefined {
  if (state.stack) {
    const s = state.stack;
    return withReach(
      `aws cloudformation describe-stacks --stack-name ${shellWord(s.name)} --region ${shellWord(s.region)}`,
      s,
      s.region,
    );
  }
  if (state.peering) {
    const p = state.peering;
    return withReach(
      `aws ec2 describe-vpc-peering-connections --vpc-peering-connection-ids ${shellWord(p.id)} --region ${shellWord(p.region)}`,
      p,
      p.region,
    );
  }
  if (state.stackSetOperation) {
    const o = state.stackSetOperation;
    return withReach(stackSetOperationCommand(o), o, o.region);
  }
  if (state.authModeUpdate) {
    const u = state.authModeUpdate;
    return withReach(
      `aws eks describe-update --name ${shellWord(u.cluster)} --update-id ${shellWord(u.updateId)} --region ${shellWord(u.region)}`,
      u,
      u.region,
    );
  }
  return undefined;
}

/** Whether CloudFormation may still be working on the stack in flight (its last known status says so). */
export function stillInProgress(state: InFlightState): boolean {
  const status = state.stack?.status ?? "";
  return status.endsWith("_IN_PROGRESS") && status !== "REVIEW_IN_PROGRESS";
}

/**
 * `--output json` when a run is interrupted: one document of this kind on stdout, instead of the command's
 * result (exit 130 for SIGINT, 143 for SIGTERM).
 */
export interface InterruptedResult {
  kind: "Interrupted";
  version: 1;
  command: RunCommand;
  signal: "SIGINT" | "SIGTERM";
  exitCode: number;
  cluster?: { name: string; account: string; region: string };
  /** What was in flight (see InFlightState). */
  inFlight: InFlightState;
  /** The AWS CLI command that shows what AWS is still doing with it, when something was in flight. */
  watch?: string;
  /** The command that resumes the run. */
  resume: string;
  /** deploy, destroy: each stack's outcome so far (the one in flight is still `not-reached` or `kept`). */
  stacks?: StackRunReport[];
}

/** The `--output json` document of an interrupted run. */
export function interruptedResult(
  tracker: RunTracker,
  state: InFlightState,
  signal: "SIGINT" | "SIGTERM",
  exitCode: number,
  resume: string,
): InterruptedResult {
  const watch = watchCommand(state);
  return {
    kind: "Interrupted",
    version: 1,
    command: state.command,
    signal,
    exitCode,
    ...(tracker.cluster ? { cluster: tracker.cluster } : {}),
    inFlight: state,
    ...(watch ? { watch } : {}),
    resume,
    ...(tracker.result ? { stacks: structuredClone(tracker.result.stacks) } : {}),
  };
}
