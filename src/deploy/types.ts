/**
 * What `deploy`, `diff` and `destroy` report: progress events while they run (the CLI renders them) and a
 * result when they end. Plain, serializable data; the JSON form of the results is public.
 */
import type { ChainReport } from "../chain/types.js";
import type { AuthenticationMode } from "../topology/types.js";
import type { StackSetOutcome, StackSetPlan } from "./stackset.js";

/** What a stack needs, decided from its CloudFormation state and the diff against the synthesized template. */
export type StackAction =
  /** Not deployed (or only an empty shell from an earlier attempt): create it. */
  | "create"
  /** Deployed, with a different template or different parameters: update it. */
  | "update"
  /** Its creation failed earlier (ROLLBACK_COMPLETE): delete the empty stack, then create it again. */
  | "recreate"
  /** Deployed, same template, same parameters: skip it. */
  | "unchanged"
  /** Its parameters come from a stack deployed earlier in the same run: known only then. */
  | "pending"
  /** destroy: it exists; delete it. */
  | "delete"
  /** destroy: it does not exist. */
  | "absent";

/** One resource change in a stack, from the template diff. */
export interface ResourceChange {
  logicalId: string;
  resourceType: string;
  change: "add" | "remove" | "update" | "replace";
}

/** A parameter whose value changes (`from` absent: the stack has no value yet; `to` absent: not yet known). */
export interface ParameterChange {
  name: string;
  from?: string;
  to?: string;
}

/** The plan for one stack, shown before anything changes. */
export interface StackPlan {
  name: string;
  phase: number;
  account: string;
  region: string;
  /** Which credentials act on it: "cluster" or "client ops". */
  credentials: string;
  action: StackAction;
  /** The stack's current CloudFormation status (absent: no such stack). */
  status?: string;
  /** Why the action was chosen, in words. */
  reason: string;
  resources: ResourceChange[];
  parameters: ParameterChange[];
  /** The template diff as the CDK toolkit formats it (no colours), when there is one. */
  diffText?: string;
  /**
   * Pieces that exist and that deploy imports into this stack before updating it (docs/adopt.md), each with the
   * changes the update then makes to it ("trust policy: trusts ... -> trusts ...").
   */
  imports?: { piece: string; logicalId: string; note: string; changes: string[] }[];
}

/** The cluster's authentication mode before the run, and what the run does about it. */
export interface AuthModeState {
  cluster: string;
  /** undefined: neither DescribeCluster nor the topology says. */
  mode?: AuthenticationMode;
  source: "live" | "declared";
  /** "none": nothing to do; "update": CONFIG_MAP -> API_AND_CONFIG_MAP; "blocked": CONFIG_MAP without consent. */
  action: "none" | "update" | "blocked";
}

/** Who each set of credentials turned out to be (sts:GetCallerIdentity). */
export interface IdentityCheck {
  /** "cluster" or "client ops". */
  credentials: string;
  /** The profile, or undefined for the ambient credentials and for an assumed role. */
  profile?: string;
  /** The role assumed in the account with the base session (`--assume-role-name`), when one was. */
  role?: string;
  expectedAccount: string;
  account: string;
  arn: string;
}

export type StackOutcome =
  | "created"
  | "updated"
  | "recreated"
  | "unchanged"
  | "failed"
  | "not-reached"
  | "deleted"
  | "absent"
  | "kept";

export interface StackRunReport {
  name: string;
  phase: number;
  account: string;
  region: string;
  credentials: string;
  outcome: StackOutcome;
  durationMs?: number;
  outputs?: Record<string, string>;
  /** Parameters passed to CloudFormation (values from earlier phases' outputs). */
  parameters?: Record<string, string>;
  failure?: StackFailure;
  /** destroy: resources CloudFormation kept (DELETE_SKIPPED, retained) or could not delete. */
  leftBehind?: { logicalId: string; resourceType: string; physicalId?: string; reason: string }[];
  /** destroy: adopted pieces the stack held, kept in place (DeletionPolicy Retain; docs/adopt.md). */
  adoptedKept?: { logicalId: string; piece: string }[];
}

/** Where and why a stack operation failed. */
export interface StackFailure {
  stack: string;
  /** The logical id of the resource that failed, when CloudFormation (or the template) names one. */
  resource?: string;
  resourceType?: string;
  reason: string;
  /** The resource was inferred from the reason (the service named no failed resource). */
  inferred?: boolean;
}

/**
 * How the stacks of one phase ended: `done` (created, updated, recreated; destroy: deleted), `failed`,
 * `skipped` (deploy: unchanged; destroy: kept because a dependent stack remains), `notReached` (not started:
 * `--fail-fast` after a failure).
 */
export interface PhaseCounts {
  done: number;
  failed: number;
  skipped: number;
  notReached: number;
}

export interface PhaseRunReport {
  number: number;
  name: string;
  durationMs: number;
  /** How its stacks ended (absent in results of runs before parallel phases). */
  counts?: PhaseCounts;
}

/** The result of `deploy`. */
export interface DeployRunResult {
  kind: "DeployResult";
  version: 1;
  cluster: { name: string; account: string; region: string };
  /** The cloud assembly that was deployed. */
  outDir: string;
  outcome: "deployed" | "no-changes" | "failed" | "cancelled";
  identities: IdentityCheck[];
  authMode: AuthModeState & { updated?: boolean };
  plan: StackPlan[];
  phases: PhaseRunReport[];
  stacks: StackRunReport[];
  durationMs: number;
  failure?: StackFailure & { phase: number };
  /**
   * Every stack that failed in the phase that stopped the run (stacks of one phase deploy in parallel), in the
   * phase's order; `failure` is the first of them.
   */
  failures?: (StackFailure & { phase: number })[];
  /** The chain report of the live state after the deploy, when the doctor ran. */
  report?: ChainReport;
  /** Why the chain check did not run. */
  reportSkipped?: string;
  /** The StackSets of clients from an organization, deployed in phase 1 (docs/organizations.md); absent: none. */
  stackSets?: StackSetOutcome[];
}

/** The result of `diff`. */
export interface DiffRunResult {
  kind: "DiffResult";
  version: 1;
  cluster: { name: string; account: string; region: string };
  outDir: string;
  identities: IdentityCheck[];
  authMode: AuthModeState;
  stacks: StackPlan[];
  /** What deploy would do to each StackSet of phase 1 (docs/organizations.md); absent: none. */
  stackSets?: StackSetPlan[];
  /** Whether `deploy` would change anything. */
  changes: boolean;
}

/** The result of `destroy`. */
export interface DestroyRunResult {
  kind: "DestroyResult";
  version: 1;
  cluster: { name: string; account: string; region: string };
  outDir: string;
  outcome: "destroyed" | "nothing-to-destroy" | "incomplete" | "cancelled";
  identities: IdentityCheck[];
  stacks: StackRunReport[];
  /**
   * The StackSets of phase 1 (docs/organizations.md), which destroy does not delete, each with the two AWS CLI
   * commands that do (delete-stack-instances, then delete-stack-set); absent: none.
   */
  stackSetsLeft?: { name: string; account: string; region: string; commands: string[] }[];
  durationMs: number;
}

/** Progress while a command runs. The library emits them; only the CLI prints. */
export type DeployEvent =
  | { type: "synthesized"; outDir: string; stacks: number; phases: number }
  | { type: "identity"; check: IdentityCheck }
  | { type: "auth-mode"; state: AuthModeState }
  | {
      type: "auth-mode-update";
      cluster: string;
      updateId: string;
      status: "started" | "in-progress" | "successful";
    }
  | { type: "phase"; number: number; name: string; title: string; stacks: string[]; of: number }
  | { type: "phase-done"; number: number; name: string; durationMs: number; counts?: PhaseCounts }
  | {
      type: "stack";
      stack: string;
      phase: number;
      account: string;
      action: StackAction;
      status: "started" | "done" | "skipped" | "failed";
      durationMs?: number;
      message?: string;
    }
  | {
      type: "resource";
      stack: string;
      logicalId: string;
      resourceType: string;
      status: string;
      reason?: string;
      time?: string;
    }
  | { type: "peering"; stack: string; peeringId: string; status: string; message?: string }
  | { type: "notice"; level: "info" | "warn"; message: string }
  | { type: "debug"; message: string };

export type EventSink = (event: DeployEvent) => void;
