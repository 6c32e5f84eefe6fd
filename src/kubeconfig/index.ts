/**
 * `xeks kubeconfig` as a library call: find the cluster and access role (topology or flags), learn the
 * endpoint and CA (topology, or DescribeCluster as the access role), build the entries and merge them into
 * the kubeconfig file. Returns what it did; prints nothing.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.js";
import {
  awsTimeoutMs,
  configFilePath,
  credentialsFilePath,
  defaultSessionName,
  type Env,
  profileDefined,
  resolveRegion,
  SESSION_NAME_PATTERN,
} from "../token/environment.js";
import { REGION_PATTERN } from "../token/format.js";
import { CLUSTER_NAME_PATTERN, EXTERNAL_ID_PATTERN, ROLE_ARN_PATTERN } from "../token/plugin.js";
import {
  awsExecProblem,
  buildEntries,
  defaultContextName,
  type ExecFlavour,
  type KubeconfigEntries,
  type KubeconfigSpec,
} from "./entries.js";
import { checkKubeconfigTarget, kubeconfigPath, readKubeconfig, writeKubeconfigAtomic } from "./file.js";
import { checkProfileForClient, kindNotes } from "./kinds.js";
import { acquireKubeconfigLock, type HeldLock, lockWaitMs, withKubeconfigLock } from "./lock.js";
import {
  currentContextOf,
  type MergeAction,
  mergeKubeconfig,
  parseKubeconfig,
  standaloneKubeconfig,
} from "./merge.js";
import { type KubeconfigTarget, targetFromTopology } from "./target.js";

export type { ExecConfig, KubeconfigEntries, KubeconfigSpec } from "./entries.js";
export { buildEntries, defaultContextName, execConfig } from "./entries.js";
export { kubeconfigPath, writeKubeconfigAtomic } from "./file.js";
export { checkProfileForClient, kindNotes, permissionSetAdmits } from "./kinds.js";
export { lockPathFor, lockWaitMs, withKubeconfigLock } from "./lock.js";
export { currentContextOf, mergeKubeconfig, parseKubeconfig, standaloneKubeconfig } from "./merge.js";
export { chooseAccessRole, type KubeconfigClient, targetFromTopology } from "./target.js";

export interface KubeconfigRequest {
  /** Topology mode: the file and the client. */
  topologyFile?: string;
  client?: string;
  /** The access role (name or ARN) when the client may assume several. */
  accessRole?: string;
  /** Flag mode. */
  clusterName?: string;
  roleArn?: string;
  externalId?: string;
  region?: string;
  /** Passed to `xeks token --session-name` (and used for DescribeCluster). */
  sessionName?: string;
  exec?: ExecFlavour;
  /** The command kubectl runs (default `xeks` or `aws` on PATH). */
  command?: string;
  /** Context (and user) name. */
  alias?: string;
  namespace?: string;
  /** Pin AWS_PROFILE in the exec environment (default: AWS_PROFILE when set). */
  profile?: string;
  /**
   * Pin no profile, even with AWS_PROFILE set (`--no-profile`): the token starts from the credentials of the
   * environment kubectl runs in (a pipeline's environment, a pod's container credentials, an instance
   * profile). xeks's own calls, when the topology has no endpoint and CA, use the credentials at hand.
   */
  noProfile?: boolean;
  /**
   * The kubeconfig file (default: first of $KUBECONFIG, else ~/.kube/config). It is changed under kubectl's
   * lock `<file>.lock` (src/kubeconfig/lock.ts), waiting at most XEKS_KUBECONFIG_LOCK_WAIT_MS for it.
   */
  kubeconfig?: string;
  dryRun?: boolean;
}

export interface KubeconfigResult {
  /** The file written (or that would be, on a dry run). */
  file: string;
  dryRun: boolean;
  context: string;
  user: string;
  cluster: string;
  actions: { cluster: MergeAction; user: MergeAction; context: MergeAction };
  /**
   * The file's current context as kubectl reads it, before the merge and in the text written (on a dry run:
   * the text that would be written); null when there is none.
   */
  currentContext: { before: string | null; after: string | null };
  /** Where the endpoint and CA came from. */
  endpointSource: "topology" | "describe-cluster";
  server: string;
  entries: KubeconfigEntries;
  /**
   * How the exec command was chosen when `--exec-command` was not given: `path` (the plugin's name, found on
   * PATH), `checkout` (xeks is not on PATH, so the absolute path of the running CLI's bin/xeks is written) or
   * `npx` (the only xeks on PATH is the one `npx`/`npm exec` put there for this run, which later commands will
   * not have: the absolute path of the running CLI's bin/xeks, in npm's npx cache, is written). Absent with
   * `--exec-command`.
   */
  commandFrom?: "path" | "checkout" | "npx";
  /** On a dry run: a standalone kubeconfig with only these entries. */
  text?: string;
  /** Topology mode: the client and its kind (docs/clients.md). */
  client?: KubeconfigTarget["client"];
  /** Notes about the credentials kubectl's tokens start from, for this client's kind (src/kubeconfig/kinds.ts). */
  notes: string[];
}

/** A Kubernetes namespace name (RFC 1123 label). */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** An AWS profile name xeks will pin in the exec environment. */
export const PROFILE_PATTERN = /^[\w+=,.@:/-]{1,128}$/;

function check(
  cond: boolean,
  path: string,
  message: string,
  issues: { path: string; message: string }[],
): void {
  if (!cond) issues.push({ path, message });
}

function validate(req: KubeconfigRequest): void {
  const issues: { path: string; message: string }[] = [];
  const topologyMode = req.topologyFile !== undefined || req.client !== undefined;
  if (topologyMode) {
    check(
      req.clusterName === undefined,
      "--cluster-name",
      "comes from the topology; drop it or drop FILE/--client",
      issues,
    );
    check(
      req.roleArn === undefined,
      "--role-arn",
      "comes from the topology (with a topology, --role-arn chooses among the client's access roles)",
      issues,
    );
    check(req.externalId === undefined, "--external-id", "comes from the topology's access role", issues);
    check(
      req.client !== undefined,
      "--client",
      "required with a topology file: the client whose kubeconfig this is",
      issues,
    );
  } else {
    check(
      req.clusterName !== undefined,
      "--cluster-name",
      "required: give FILE --client NAME, or --cluster-name N --role-arn ARN",
      issues,
    );
    check(
      req.accessRole === undefined,
      "--role-arn",
      "an access role name only with a topology file and --client",
      issues,
    );
    if (req.externalId !== undefined)
      check(req.roleArn !== undefined, "--external-id", "only with --role-arn", issues);
  }
  if (req.clusterName !== undefined) {
    check(
      CLUSTER_NAME_PATTERN.test(req.clusterName),
      "--cluster-name",
      "expected an EKS cluster name",
      issues,
    );
  }
  if (req.roleArn !== undefined) {
    check(
      ROLE_ARN_PATTERN.test(req.roleArn),
      "--role-arn",
      "expected an IAM role ARN (arn:aws:iam::111111111111:role/NAME)",
      issues,
    );
  }
  if (req.externalId !== undefined) {
    check(
      EXTERNAL_ID_PATTERN.test(req.externalId),
      "--external-id",
      "expected 2-1224 characters of letters, digits and +=,.@:/_-",
      issues,
    );
  }
  if (req.sessionName !== undefined) {
    check(
      SESSION_NAME_PATTERN.test(req.sessionName),
      "--session-name",
      "expected 2-64 characters of letters, digits and +=,.@_-",
      issues,
    );
  }
  if (req.region !== undefined)
    check(REGION_PATTERN.test(req.region), "--region", "expected an AWS region", issues);
  if (req.exec !== undefined)
    check(req.exec === "xeks" || req.exec === "aws", "--exec", "expected xeks or aws", issues);
  if (req.alias !== undefined)
    check(
      /^\S.{0,252}$/.test(req.alias) && !/\s$/.test(req.alias),
      "--alias",
      "expected a non-blank name",
      issues,
    );
  if (req.namespace !== undefined)
    check(
      NAMESPACE_PATTERN.test(req.namespace),
      "--namespace",
      "expected a Kubernetes namespace name: 1-63 lower-case letters, digits and -, starting and ending with a letter or digit",
      issues,
    );
  if (req.noProfile === true)
    check(req.profile === undefined, "--no-profile", "drop --profile or --no-profile: not both", issues);
  if (req.profile !== undefined)
    check(
      PROFILE_PATTERN.test(req.profile),
      "--profile",
      "expected an AWS profile name: 1-128 letters, digits and _+=,.@:/-",
      issues,
    );
  if (req.kubeconfig !== undefined)
    check(req.kubeconfig !== "", "--kubeconfig", "expected a file path", issues);
  if (issues.length > 0) {
    throw new InputError(
      issues.length === 1 ? `invalid ${issues[0]?.path}` : "invalid flags for xeks kubeconfig",
      issues,
    );
  }
  // aws eks get-token can pass neither (flag mode; the topology's external id is checked once it is known).
  const awsProblem = awsExecProblem(req);
  if (awsProblem) throw awsProblem;
}

export async function generateKubeconfig(
  req: KubeconfigRequest,
  env: Env = process.env,
): Promise<KubeconfigResult> {
  validate(req);
  // The profile: pinned in the exec environment (AWS_PROFILE) and used for xeks's own AssumeRole and
  // DescribeCluster, so the identity that builds the kubeconfig is the one that signs the tokens. It must
  // exist: a kubeconfig pinned to a missing profile could never get a token.
  const profile = req.noProfile === true ? undefined : (req.profile ?? (env.AWS_PROFILE || undefined));
  const profileFlag = req.profile !== undefined ? "--profile" : "AWS_PROFILE";
  if (profile !== undefined && !PROFILE_PATTERN.test(profile)) {
    throw new InputError(`invalid AWS_PROFILE ${JSON.stringify(profile)} to pin in the kubeconfig`, [
      {
        path: "AWS_PROFILE",
        message: "expected an AWS profile name: 1-128 letters, digits and _+=,.@:/- (or give --profile)",
      },
    ]);
  }
  if (profile !== undefined && !profileDefined(env, profile)) {
    throw new InputError(`the AWS profile ${profile} does not exist`, [
      {
        path: profileFlag,
        message: `no [profile ${profile}] in ${configFilePath(env)} and no [${profile}] in ${credentialsFilePath(env)}; name a profile that exists (aws configure list-profiles)`,
      },
    ]);
  }
  // What the SDK reads from the environment (AWS_PROFILE, so the profile's region too) follows the profile.
  const awsEnv: Env = profile !== undefined ? { ...env, AWS_PROFILE: profile } : env;
  let target: KubeconfigTarget;
  if (req.client !== undefined) {
    const { loadTopology, DEFAULT_TOPOLOGY_FILE } = await import("../topology/load.js");
    const topology = loadTopology(req.topologyFile ?? DEFAULT_TOPOLOGY_FILE);
    target = targetFromTopology(topology, req.client, req.accessRole);
    checkProfileForClient(target.client, profile, profileFlag, env);
    if (req.region !== undefined && req.region !== target.region) {
      throw new InputError(
        `--region ${req.region} differs from the cluster's region ${target.region} in the topology`,
        [{ path: "--region", message: "drop it: the topology says where the cluster is" }],
      );
    }
    if (req.exec === "aws" && target.externalId !== undefined) {
      throw new InputError(
        `aws eks get-token has no --external-id, and the access role ${target.roleArn} asks for one (externalId in ${topology.file ?? "the topology"})`,
        [
          {
            path: "--exec",
            message: "use --exec xeks (the default), which passes the external id",
          },
        ],
      );
    }
  } else {
    const region = resolveRegion(req.region, awsEnv);
    if (!region) {
      throw new InputError("no AWS region for xeks kubeconfig", [
        {
          path: "--region",
          message: "give --region, set AWS_REGION or AWS_DEFAULT_REGION, or a region in the profile",
        },
      ]);
    }
    target = { clusterName: req.clusterName as string, region: region.region };
    if (req.roleArn) target.roleArn = req.roleArn;
    if (req.externalId) target.externalId = req.externalId;
  }

  // Everything local is checked before any AWS call: the profile, and the kubeconfig file (a directory, an
  // unreadable file, or text that is not a kubeconfig is refused here, not after STS and EKS).
  const file = kubeconfigPath(req.kubeconfig, env);
  const flag = req.kubeconfig !== undefined ? "--kubeconfig" : env.KUBECONFIG ? "KUBECONFIG" : "--kubeconfig";
  const lockWait = lockWaitMs(env);
  const existing = await readAndParse(file, flag, lockWait);
  const existingDoc = existing.doc;
  if (!req.dryRun) checkKubeconfigTarget(file, flag);

  let server = target.server;
  let ca = target.certificateAuthorityData;
  let clusterArn = target.clusterArn;
  let clusterId: string | undefined;
  let endpointSource: KubeconfigResult["endpointSource"] = "topology";
  if (!server || !ca) {
    const { describeClusterAs } = await import("./describe.js");
    const facts = await describeClusterAs({
      clusterName: target.clusterName,
      region: target.region,
      ...(target.roleArn ? { roleArn: target.roleArn } : {}),
      ...(target.externalId ? { externalId: target.externalId } : {}),
      sessionName: req.sessionName ?? defaultSessionName(env),
      timeoutMs: awsTimeoutMs(env),
      ...(profile !== undefined ? { profile } : {}),
    });
    server = facts.endpoint;
    ca = facts.certificateAuthorityData;
    clusterArn = facts.arn;
    clusterId = facts.localClusterId;
    endpointSource = "describe-cluster";
  }

  const contextName = req.alias ?? defaultContextName(target.clusterName, target.roleArn);
  const spec: KubeconfigSpec = {
    clusterName: target.clusterName,
    region: target.region,
    server,
    certificateAuthorityData: ca,
    exec: req.exec ?? "xeks",
    clusterEntryName: clusterArn ?? `${target.clusterName}.${target.region}.eks`,
    userName: contextName,
    contextName,
  };
  if (clusterId) spec.clusterId = clusterId;
  if (target.roleArn) spec.roleArn = target.roleArn;
  if (target.externalId) spec.externalId = target.externalId;
  if (req.sessionName) spec.sessionName = req.sessionName;
  if (profile) spec.profile = profile;
  const command = req.command !== undefined ? { path: req.command } : execCommand(spec.exec, env);
  if (command.path !== undefined) spec.command = command.path;
  if (req.namespace) spec.namespace = req.namespace;
  const entries = buildEntries(spec);

  const base = {
    dryRun: req.dryRun === true,
    context: entries.context.name,
    user: entries.user.name,
    cluster: entries.cluster.name,
    endpointSource,
    server,
    entries,
    ...("from" in command && command.from ? { commandFrom: command.from } : {}),
    ...(target.client ? { client: target.client } : {}),
    notes: kindNotes(target.client, profile, profileFlag),
  };
  if (req.dryRun) {
    const before = currentContextOf(existingDoc) ?? null;
    const merged = mergeKubeconfig(existing.text, entries, { file });
    return {
      ...base,
      file,
      actions: merged.actions,
      currentContext: { before, after: currentContextOf(parseKubeconfig(merged.text, file)) ?? null },
      text: standaloneKubeconfig(entries),
    };
  }
  // The read-merge-write runs under kubectl's lock (<file>.lock), on the file as it is now: what another
  // kubectl or xeks wrote since the check above is kept. The same checks run again on the text read here.
  return withKubeconfigLock(file, { waitMs: lockWait, flag }, () => {
    const text = readKubeconfig(file, flag);
    const before = currentContextOf(parseKubeconfig(text, file)) ?? null;
    // Only xeks's entries and current-context change; the rest of the text is kept as written.
    const merged = mergeKubeconfig(text, entries, { file });
    const written = writeKubeconfigAtomic(file, merged.text, flag);
    return {
      ...base,
      file: written,
      actions: merged.actions,
      currentContext: { before, after: currentContextOf(parseKubeconfig(merged.text, file)) ?? null },
    };
  });
}

/** The first directory of PATH that holds an executable `name`, or undefined. */
function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return dir;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Whether a PATH directory is one `npx`/`npm exec` added for this run only: the `.bin` of a package it
 * installed into npm's cache (`<cache>/_npx/<hash>/node_modules/.bin`, npm 7 and later).
 */
export function isNpxBinDir(dir: string): boolean {
  return /(^|[\\/])_npx[\\/][^\\/]+[\\/]node_modules[\\/]\.bin[\\/]?$/.test(dir);
}

/** bin/xeks of the running installation (a checkout, or the npm package). */
export const SELF_BIN = fileURLToPath(new URL("../../bin/xeks", import.meta.url));

/**
 * The command kubectl runs when `--exec-command` is not given. `aws`: the name (kubectl looks it up on PATH, as
 * `aws eks update-kubeconfig` writes it). `xeks`: the name when an `xeks` is on PATH (an npm install); else,
 * as in a checkout run through bin/xeks, the absolute path of this installation's bin/xeks, since a bare
 * `xeks` would fail in kubectl with "executable xeks not found". The same absolute path when the `xeks` on
 * PATH is the one `npx` put there for this run only (`isNpxBinDir`).
 */
function execCommand(exec: ExecFlavour, env: Env): { path?: string; from?: "path" | "checkout" | "npx" } {
  if (exec !== "xeks") return {};
  const dir = onPath("xeks", env);
  if (dir !== undefined && isNpxBinDir(dir)) {
    // `npx xeks kubeconfig` (a CI step): kubectl, run later, will not have npx's directory on its PATH.
    try {
      accessSync(SELF_BIN, constants.X_OK);
      return { path: SELF_BIN, from: "npx" };
    } catch {
      return { from: "path" };
    }
  }
  if (dir !== undefined) return { from: "path" };
  try {
    accessSync(SELF_BIN, constants.X_OK);
    return { path: SELF_BIN, from: "checkout" };
  } catch {
    return { from: "path" };
  }
}

/**
 * Read and parse the kubeconfig without its lock (kubectl only locks to write, and holding the lock across
 * the AWS calls would make a concurrent kubectl fail). kubectl rewrites the file in place under the lock, so
 * a read without it can see a half-written file: a refusal is therefore confirmed by reading again under
 * the lock, and only that verdict counts (when the lock stays held past the wait, the first one does).
 */
async function readAndParse(file: string, flag: string, waitMs: number) {
  // A path that is not a readable regular file is refused here, without a lock (no /dev/null.lock).
  const text = readKubeconfig(file, flag);
  try {
    return { text, doc: parseKubeconfig(text, file) };
  } catch (first) {
    if (!(first instanceof InputError)) throw first;
    let held: HeldLock;
    try {
      held = await acquireKubeconfigLock(file, { waitMs, flag });
    } catch {
      throw first;
    }
    try {
      const again = readKubeconfig(file, flag);
      return { text: again, doc: parseKubeconfig(again, file) };
    } finally {
      held.release();
    }
  }
}
