/**
 * Phase 1 for clients from an organization (docs/organizations.md): each StackSet of the manifest is created (or
 * updated when its member template or settings changed) in its administrator account through the StackSets API,
 * its stack instances created in the accounts of its OUs, and every operation followed to its end within
 * STACKSET_OPERATION_WAIT (30 minutes, polled every 5 s). An unchanged StackSet makes no write call. The API
 * path, not an AWS::CloudFormation::StackSet resource: moto 5.2 skips that resource type silently
 * (docs/deploy.md, "What moto cannot do"), and the API runs the same at moto and on AWS.
 */
import {
  RUNNING_OPERATION,
  type StackInstanceInfo,
  type StackSetApi,
  type StackSetSpec,
  type StackSetState,
  stackSetApi,
} from "../aws/stackset.js";
import { sameJson } from "../domain/json.js";
import { STACKSET_OPERATION_WAIT, stackSetOperationCommand } from "../domain/stackset.js";
import { OperationError } from "../errors.js";
import type { XeksManifestStackSet } from "../infra/manifest.js";
import { TAG_CLIENT, TAG_CLUSTER, TAG_STACK } from "../layout/names.js";
import { defaultSleep, type WaitOptions } from "./auth-mode.js";
import { awsError, isNoAnswer } from "./aws.js";
import type { CredentialSet } from "./credentials.js";
import type { EventSink } from "./types.js";

/** What happened to one StackSet. */
export interface StackSetOutcome {
  name: string;
  client: string;
  account: string;
  region: string;
  outcome: "created" | "updated" | "unchanged";
  /** The operations followed (CreateStackInstances, UpdateStackSet). */
  operations: string[];
}

/** Hooks of deployStackSet, for the run's in-flight state (src/deploy/in-flight.ts). */
export interface StackSetHooks {
  /** Called right before each write call (CreateStackSet, UpdateStackSet, CreateStackInstances, DeleteStackInstances). */
  onWrite?: () => void;
  /** Called with the operation being followed, then with undefined once it has ended. */
  onOperation?: (op: { id: string; what: string } | undefined) => void;
}

/** The StackSet call spec of a manifest entry. */
export function stackSetSpec(set: XeksManifestStackSet, cluster: string): StackSetSpec {
  return {
    name: set.name,
    callAs: set.callAs,
    autoDeployment: { ...set.autoDeployment },
    organizationalUnits: [...set.organizationalUnits],
    regions: [...set.regions],
    capabilities: [...set.capabilities],
    description: set.description,
    tags: { [TAG_CLUSTER]: cluster, [TAG_STACK]: set.name, [TAG_CLIENT]: set.client },
  };
}

/** JSON equality of two template bodies (key order ignored), false when either is not JSON. */
function sameTemplate(a: string, b: string): boolean {
  try {
    return sameJson(JSON.parse(a), JSON.parse(b));
  } catch {
    return false;
  }
}

/** The `aws cloudformation describe-stack-set-operation` command line of an operation. */
export function operationCommand(
  set: Pick<XeksManifestStackSet, "name" | "callAs" | "region">,
  operationId: string,
): string {
  return stackSetOperationCommand({
    stackSet: set.name,
    operationId,
    callAs: set.callAs,
    region: set.region,
  });
}

/**
 * Follow a StackSet operation until it ends and return its end status (SUCCEEDED, FAILED, STOPPED). Throws
 * OperationError when it is still running after `wait.timeoutMs` (default STACKSET_OPERATION_WAIT), and, unless
 * `failIfNotSucceeded` is false, when it ends other than SUCCEEDED (with CloudFormation's reason).
 */
export async function waitForOperation(
  api: StackSetApi,
  set: Pick<XeksManifestStackSet, "name" | "callAs" | "account" | "region">,
  operationId: string,
  what: string,
  wait: WaitOptions = {},
  failIfNotSucceeded = true,
): Promise<string> {
  const pollMs = wait.pollMs ?? STACKSET_OPERATION_WAIT.pollMs;
  const timeoutMs = wait.timeoutMs ?? STACKSET_OPERATION_WAIT.timeoutMs;
  const sleep = wait.sleep ?? defaultSleep;
  const deadline = Date.now() + timeoutMs;
  const look = `${operationCommand(set, operationId)} (account ${set.account})`;
  for (;;) {
    const op = await api.operation(set.name, operationId, set.callAs);
    if (op.status === "SUCCEEDED") return op.status;
    if (!RUNNING_OPERATION.has(op.status)) {
      if (!failIfNotSucceeded) return op.status;
      throw new OperationError(
        `StackSet ${set.name}: ${what} (operation ${operationId}) ended ${op.status}${op.reason ? `: ${op.reason}` : ""}`,
        `see which accounts failed: aws cloudformation list-stack-set-operation-results --stack-set-name ${set.name} --operation-id ${operationId} --call-as ${set.callAs}; fix, then run xeks deploy again: it retries the instances that are not CURRENT`,
      );
    }
    if (Date.now() > deadline) {
      throw new OperationError(
        `StackSet ${set.name}: ${what} (operation ${operationId}) is still ${op.status} after ${Math.round(timeoutMs / 1000)} s`,
        `follow it with ${look}; run xeks deploy again once it has ended`,
      );
    }
    await sleep(pollMs);
  }
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/** Said when CloudFormation names no OU of the deployed instances (moto 5.2: docs/deploy.md, gap 17). */
const UNKNOWN_OUS =
  "CloudFormation does not say which OUs have instances (no OrganizationalUnitIds): OUs added to the topology are not checked; xeks doctor's stackset.instances lists the instances";

/** How a deployed StackSet differs from the manifest's (see deployStackSet). */
export interface StackSetComparison {
  /** undefined: CloudFormation does not say (no OrganizationalUnitIds, no OrganizationalUnitId: moto 5.2). */
  deployedOus: string[] | undefined;
  deployedRegions: string[];
  keptOus: string[];
  newOus: string[];
  removedOus: string[];
  keptRegions: string[];
  newRegions: string[];
  removedRegions: string[];
  /** The member template (JSON compared, key order ignored) or AutoDeployment differs. */
  changedSettings: boolean;
  notCurrent: StackInstanceInfo[];
}

/** Compare a deployed StackSet (DescribeStackSet, ListStackInstances) with the manifest's; pure. */
export function compareStackSet(
  set: Pick<XeksManifestStackSet, "organizationalUnits" | "regions" | "autoDeployment">,
  templateBody: string,
  now: StackSetState,
  instances: readonly StackInstanceInfo[],
): StackSetComparison {
  const instanceOus = instances.map((i) => i.organizationalUnit ?? "");
  const deployedOus =
    instances.length === 0
      ? []
      : (now.organizationalUnits ?? (instanceOus.every((o) => o) ? unique(instanceOus) : undefined));
  const deployedRegions =
    instances.length === 0 ? [] : (now.regions ?? unique(instances.map((i) => i.region)));
  const auto = now.autoDeployment;
  const autoChanged =
    auto !== undefined &&
    (auto.enabled !== set.autoDeployment.enabled ||
      auto.retainStacksOnAccountRemoval !== set.autoDeployment.retainStacksOnAccountRemoval);
  return {
    deployedOus,
    deployedRegions,
    keptOus: deployedOus
      ? set.organizationalUnits.filter((o) => deployedOus.includes(o))
      : [...set.organizationalUnits],
    newOus: deployedOus ? minus(set.organizationalUnits, deployedOus) : [],
    removedOus: deployedOus ? minus(deployedOus, set.organizationalUnits) : [],
    keptRegions: set.regions.filter((r) => deployedRegions.includes(r)),
    newRegions: minus(set.regions, deployedRegions),
    removedRegions: minus(deployedRegions, set.regions),
    changedSettings: !sameTemplate(now.templateBody, templateBody) || autoChanged,
    notCurrent: instances.filter((i) => i.status !== "CURRENT"),
  };
}

/** What deploy would do to a StackSet, from reads only (diff, and deploy's confirmation). */
export interface StackSetPlan {
  name: string;
  client: string;
  account: string;
  action: "create" | "update" | "unchanged";
  /** Why, in words (empty when unchanged). */
  reasons: string[];
  /** What could not be compared, in words (absent: everything was). */
  note?: string;
}

/**
 * What deployStackSet would do, read-only (DescribeStackSet, ListStackSetOperations, ListStackInstances): create
 * it, update it (and why), or nothing.
 */
export async function planStackSet(
  api: StackSetApi,
  set: XeksManifestStackSet,
  templateBody: string,
): Promise<StackSetPlan> {
  const base = { name: set.name, client: set.client, account: set.account };
  const now = await api.describe(set.name, set.callAs);
  if (!now) {
    return {
      ...base,
      action: "create",
      reasons: [
        `created with its stack instances in ${set.organizationalUnits.join(", ")} (${set.regions.join(", ")})`,
      ],
    };
  }
  const running = await api.runningOperations(set.name, set.callAs);
  const instances = await api.listInstances(set.name, set.callAs);
  const c = compareStackSet(set, templateBody, now, instances);
  const reasons = [
    ...running.map((o) => `operation ${o.id} (${o.action}) still ${o.status}: waited for first`),
    ...(c.changedSettings ? ["member template or AutoDeployment changed"] : []),
    ...(c.notCurrent.length > 0 ? [`${c.notCurrent.length} stack instance(s) not CURRENT retried`] : []),
    ...(instances.length === 0 ? ["no stack instance: created"] : []),
    ...(instances.length > 0 && c.newOus.length > 0
      ? [`instances created in the new OU(s) ${c.newOus.join(", ")}`]
      : []),
    ...(instances.length > 0 && c.newRegions.length > 0
      ? [`instances created in the new region(s) ${c.newRegions.join(", ")}`]
      : []),
    ...(c.removedOus.length > 0
      ? [`instances deleted in the OU(s) no longer declared ${c.removedOus.join(", ")}`]
      : []),
    ...(instances.length > 0 && c.removedRegions.length > 0
      ? [`instances deleted in the region(s) no longer declared ${c.removedRegions.join(", ")}`]
      : []),
  ];
  return {
    ...base,
    action: reasons.length > 0 ? "update" : "unchanged",
    reasons,
    ...(instances.length > 0 && !c.deployedOus ? { note: UNKNOWN_OUS } : {}),
  };
}
const minus = (xs: readonly string[], ys: readonly string[]): string[] => xs.filter((x) => !ys.includes(x));

/**
 * Deploy one StackSet (docs/organizations.md, "Deploy"):
 * - none yet: CreateStackSet, then CreateStackInstances on the OUs and regions;
 * - an operation of an earlier run still running (ListStackSetOperations): wait for it (bounded) first;
 * - the member template or AutoDeployment differs from the deployed one, or a stack instance is not CURRENT (an
 *   earlier operation failed): UpdateStackSet on the OUs and regions that have instances (a retry of the failed
 *   instances);
 * - an OU or region no longer declared: DeleteStackInstances there (RetainStacks false), first;
 * - a declared OU or region without instances: CreateStackInstances there (the deployed OUs and regions come
 *   from DescribeStackSet's OrganizationalUnitIds and Regions, else from the instances);
 * - else nothing (no write call).
 */
export async function deployStackSet(
  api: StackSetApi,
  set: XeksManifestStackSet,
  templateBody: string,
  cluster: string,
  emit: EventSink,
  wait: WaitOptions = {},
  hooks: StackSetHooks = {},
): Promise<StackSetOutcome> {
  const spec = stackSetSpec(set, cluster);
  const base = { name: set.name, client: set.client, account: set.account, region: set.region };
  const operations: string[] = [];
  const say = (message: string) =>
    emit({ type: "notice", level: "info", message: `StackSet ${set.name}: ${message}` });
  const follow = async (id: string, what: string, failIfNotSucceeded = true): Promise<string> => {
    operations.push(id);
    say(`${what} (operation ${id})`);
    hooks.onOperation?.({ id, what });
    const status = await waitForOperation(api, set, id, what, wait, failIfNotSucceeded);
    hooks.onOperation?.(undefined);
    return status;
  };
  const write = <T>(call: () => Promise<T>): Promise<T> => {
    hooks.onWrite?.();
    return call();
  };
  const targets = (ous: string[], regions: string[]) => `${ous.join(", ")} (${regions.join(", ")})`;
  const now = await api.describe(set.name, set.callAs);
  if (!now) {
    say(`creating it in account ${set.account} (${set.region}, callAs ${set.callAs})`);
    await write(() => api.create(spec, templateBody));
    await follow(
      await write(() => api.createInstances(spec)),
      `creating the stack instances in ${targets(set.organizationalUnits, set.regions)}`,
    );
    return { ...base, outcome: "created", operations };
  }
  for (const op of await api.runningOperations(set.name, set.callAs)) {
    await follow(
      op.id,
      `waiting for the ${op.action} operation of an earlier run, still ${op.status}`,
      false,
    );
  }
  const instances = await api.listInstances(set.name, set.callAs);
  const {
    deployedRegions,
    keptOus,
    newOus,
    removedOus,
    keptRegions,
    newRegions,
    removedRegions,
    changedSettings,
    notCurrent,
  } = compareStackSet(set, templateBody, now, instances);
  let changed = false;

  if (changedSettings || notCurrent.length > 0) {
    const ous = instances.length > 0 ? keptOus : [];
    const regions = instances.length > 0 ? keptRegions : [];
    const why = [
      ...(changedSettings ? ["updating the member template and settings"] : []),
      ...(notCurrent.length > 0
        ? [
            `retrying ${notCurrent.length} stack instance(s) not CURRENT (${notCurrent
              .slice(0, 5)
              .map((i) => `${i.account} ${i.region} ${i.status}`)
              .join(", ")}${notCurrent.length > 5 ? ", ..." : ""})`,
          ]
        : []),
    ].join(", ");
    const id = await write(() => api.update({ ...spec, organizationalUnits: ous, regions }, templateBody));
    await follow(id, ous.length > 0 ? `${why} in ${targets(ous, regions)}` : why);
    changed = true;
  }
  if (instances.length === 0) {
    await follow(
      await write(() => api.createInstances(spec)),
      `creating the stack instances in ${targets(set.organizationalUnits, set.regions)}`,
    );
    changed = true;
  } else {
    // Deletions first: a region replaced by another would otherwise hold the named role twice in an account.
    if (removedOus.length > 0) {
      await follow(
        await write(() => api.deleteInstances(set.name, set.callAs, removedOus, deployedRegions)),
        `deleting the stack instances of the OU(s) no longer declared ${targets(removedOus, deployedRegions)}`,
      );
      changed = true;
    }
    if (removedRegions.length > 0 && keptOus.length > 0) {
      await follow(
        await write(() => api.deleteInstances(set.name, set.callAs, keptOus, removedRegions)),
        `deleting the stack instances of the region(s) no longer declared ${targets(keptOus, removedRegions)}`,
      );
      changed = true;
    }
    if (newOus.length > 0) {
      await follow(
        await write(() => api.createInstances({ ...spec, organizationalUnits: newOus })),
        `creating the stack instances of the new OU(s) ${targets(newOus, set.regions)}`,
      );
      changed = true;
    }
    if (newRegions.length > 0 && keptOus.length > 0) {
      await follow(
        await write(() =>
          api.createInstances({ ...spec, organizationalUnits: keptOus, regions: newRegions }),
        ),
        `creating the stack instances of the new region(s) ${targets(keptOus, newRegions)}`,
      );
      changed = true;
    }
  }
  return { ...base, outcome: changed ? "updated" : "unchanged", operations };
}

/**
 * planStackSet for every StackSet of a run, in manifest order, with the credentials of its client (the
 * administrator account's). AWS errors as awsError gives them, naming the StackSet; NoAnswerError passes through.
 */
export async function planStackSets(
  ctx: {
    manifest: { stackSets?: XeksManifestStackSet[] };
    templates: Map<string, Record<string, unknown>>;
    set(credentials: string): CredentialSet;
  },
  factory: StackSetApiFactory = sdkStackSetApi,
): Promise<Map<string, StackSetPlan>> {
  const out = new Map<string, StackSetPlan>();
  for (const set of ctx.manifest.stackSets ?? []) {
    const credentials = ctx.set(`client ${set.client}`);
    try {
      out.set(
        set.name,
        await planStackSet(
          factory(credentials, set.region),
          set,
          JSON.stringify(ctx.templates.get(set.name) ?? {}),
        ),
      );
    } catch (err) {
      if (isNoAnswer(err)) throw err;
      throw awsError(err, `StackSet ${set.name}`, credentials);
    }
  }
  return out;
}

/** The StackSets API for a set of credentials (the SDK's, unless a test passes its own factory). */
export type StackSetApiFactory = (set: CredentialSet, region: string) => StackSetApi;

export const sdkStackSetApi: StackSetApiFactory = (set, region) => stackSetApi(set.provider, region);
