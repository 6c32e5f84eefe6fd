/**
 * `xeks sandbox up|down|status`: a two-account EKS lab on 127.0.0.1, for trying xeks without AWS (docs/tour.md).
 *
 * `up` starts two detached processes, both listening on 127.0.0.1 only:
 * - `moto_server` (the AWS emulator, when on PATH) with the project's moto patches (src/sandbox/patches.ts) and
 *   XEKS_SANDBOX_EKS_URL, so that a deployed AWS::EKS::AccessEntry lands in the EKS emulator;
 * - `node src/sandbox/serve.js DIR`: the EKS emulator (src/sandbox/eks.ts) and the Kubernetes API stand-in
 *   (src/sandbox/kube.ts) in one process, sharing the access entries.
 * It creates the starting state of the two accounts at moto (the cluster account 111111111111 and the client
 * account 222222222222 of examples/seed.yaml: VPCs, subnets, route tables, the cluster security group), the
 * cluster in the EKS emulator (endpoint: the stand-in, certificateAuthority: the sandbox CA), and writes in
 * DIR: env.sh, aws-config, xeks.yaml, state.json (the processes: pid, start time, command line and whether it
 * leads its process group, so that `down` from another shell stops exactly them), ca.crt and the logs.
 *
 * DIR (src/sandbox/files.ts): a new one is created mode 0700; an existing one must be a real directory of the
 * user's without group or other write bits, and empty or marked by an earlier `up` (.xeks-sandbox-dir, kept by
 * `down`); otherwise InputError on --dir. Files are replaced atomically, never written through a link.
 * state.json is rewritten as soon as each process starts; when `up` fails or is aborted (options.signal: the
 * CLI's SIGINT/SIGTERM), what it started is stopped and state.json removed.
 *
 * Bounded waits (each an OperationError naming the log when exceeded, after stopping what was started):
 * moto_server answers within 60 s, the serve process listens within 20 s, each moto call 30 s; `down` waits
 * 5 s after SIGTERM, then sends SIGKILL and waits 2 s more.
 *
 * Process identity (Linux /proc): a recorded pid is signalled only when /proc/PID/stat's start time and
 * /proc/PID/cmdline are those recorded; a pid reused by another process is left alone.
 *
 * The lab's pieces are library functions the tests call too (one implementation): moto_server with the patches
 * (src/sandbox/moto.ts startMoto), the EKS emulator and the Kubernetes stand-in (src/sandbox/serve.ts
 * startLabServers), the starting state (src/sandbox/starting-state.ts createStartingState, startingCluster, with
 * SANDBOX_STARTING_STATE here) and the process plumbing (src/sandbox/processes.ts). This module adds the state
 * directory, the detached processes' records and the files; like them, it never prints (src/cli/sandbox.ts does).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { shellQuote } from "../domain/shell.js";
import { InputError, OperationError } from "../errors.js";
import type { FixtureCluster } from "./eks.js";
import { checkSandboxDir, dirError, readOwnFile, SANDBOX_MARKER, writeDirFile } from "./files.js";
import { findMoto, startMoto } from "./moto.js";
import { SANDBOX_BASE_KEYS } from "./moto-api.js";
import {
  abortable,
  freePorts,
  httpAnswers,
  interrupted,
  listeningPorts,
  processGroupOf,
  processIdentity,
  SANDBOX_WAITS,
  sleep,
  startDetached,
  stopChild,
  tail,
  tcpAnswers,
  waitFor,
} from "./processes.js";
import {
  createStartingState,
  type StartingState,
  type StartingStateSpec,
  startingCluster,
} from "./starting-state.js";
import { makeSandboxTls } from "./tls.js";

export { MOTO_INSTALL_COMMAND } from "./moto.js";
export { findOnPath, freePorts, listeningPorts, processIdentity, SANDBOX_WAITS } from "./processes.js";

/** The default state directory, relative to the working directory. */
export const DEFAULT_SANDBOX_DIR = ".xeks-sandbox";

/**
 * The sandbox's fixed facts: those of examples/seed.yaml, but for the cluster VPC's CIDR: 127.0.0.0/16 instead
 * of 10.0.0.0/16, so that the Kubernetes stand-in on 127.0.0.1 is an address inside the cluster VPC, as a
 * private-only endpoint's addresses are (the client probe, `doctor --from-client`, checks it).
 */
export const SANDBOX = {
  region: "ap-south-1",
  clusterName: "prac-eks-abhi",
  clusterAccount: "111111111111",
  clientAccount: "222222222222",
  clusterCidr: "127.0.0.0/16",
  clientCidr: "172.31.0.0/16",
  clientName: "ops",
  clientRole: "EC2-EKS-CrossAccount-Role",
  accessRole: "EKS-CrossAccount-Access-Role",
  /** The role the sandbox profiles assume in each account (moto needs none to exist). */
  adminRole: "xeks-sandbox-admin",
} as const;

/**
 * What `up` creates at moto (src/sandbox/starting-state.ts): the cluster account's VPC (SANDBOX.clusterCidr) with
 * two subnets in zones a and b on its own route table and the cluster security group EKS makes; the client
 * account's VPC (SANDBOX.clientCidr) with one subnet on its route table.
 */
export const SANDBOX_STARTING_STATE: StartingStateSpec = {
  region: SANDBOX.region,
  setupRole: SANDBOX.adminRole,
  cluster: {
    account: SANDBOX.clusterAccount,
    cidr: SANDBOX.clusterCidr,
    subnets: [
      { cidr: "127.0.1.0/24", az: "a" },
      { cidr: "127.0.2.0/24", az: "b" },
    ],
    securityGroup: {
      name: `eks-cluster-sg-${SANDBOX.clusterName}`,
      description: "EKS created security group applied to ENI that is attached to EKS Control Plane",
    },
  },
  clients: [
    { account: SANDBOX.clientAccount, cidr: SANDBOX.clientCidr, subnet: { cidr: "172.31.1.0/24", az: "a" } },
  ],
};

/** One process `up` started. */
export interface SandboxProcess {
  name: "moto_server" | "serve";
  pid: number;
  /** /proc/PID/stat field 22 (clock ticks since boot) when recorded. */
  startTime: string;
  /** /proc/PID/cmdline, NUL-separated, when recorded. */
  cmdline: string;
  port: number;
  /**
   * Whether `up` started it as the leader of a new process group (spawned detached): only then does `down`
   * signal the group (-pid), and only while the pid still leads its group.
   */
  group: boolean;
}

/** The ids `up` created at moto. */
export interface SandboxIds {
  cluster: { vpcId: string; subnetIds: string[]; routeTableId: string; securityGroupId: string };
  client: { vpcId: string; subnetId: string; routeTableId: string };
}

/**
 * DIR/state.json, rewritten atomically as soon as each process starts (so that `down` stops what an interrupted
 * `up` left), and once more with `ids` when `up` is done.
 */
export interface SandboxState {
  version: 1;
  ports: { moto: number; eks: number; kube: number };
  processes: SandboxProcess[];
  /** The ids created at moto; absent while `up` runs. */
  ids?: SandboxIds;
}

/** DIR/serve.json: what the serve process needs. */
export interface ServeConfig {
  eksPort: number;
  kubePort: number;
  motoUrl: string;
  cluster: FixtureCluster;
}

/** Options of `sandboxUp`. */
export interface SandboxUpOptions {
  /** The state directory (created mode 0700). Default `.xeks-sandbox`. */
  dir?: string;
  /** Base port: moto P, EKS emulator P+1, Kubernetes stand-in P+2. Default: three free ports. */
  port?: number;
  /** Environment to find moto_server on (PATH) and start it with. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Aborting it (the CLI does on SIGINT/SIGTERM) stops the startup at the next wait: what was started is stopped,
   * state.json removed, and `up` rejects with an OperationError "interrupted".
   */
  signal?: AbortSignal;
}

/** What `up` made, for the CLI to print. */
export interface SandboxUpResult {
  dir: string;
  state: SandboxState & { ids: SandboxIds };
  urls: { moto: string; eks: string; kube: string };
  files: { env: string; topology: string; awsConfig: string };
}

/** Whether the recorded process still runs as itself (same start time and command line). */
export function isRecordedProcess(p: SandboxProcess): boolean {
  const now = processIdentity(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.cmdline === p.cmdline;
}

/** The serve entry point beside this module: serve.js in dist/, serve.ts under tsx. */
function serveEntry(): string {
  const js = fileURLToPath(new URL("./serve.js", import.meta.url));
  if (existsSync(js)) return js;
  return fileURLToPath(new URL("./serve.ts", import.meta.url));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
const isString = (v: unknown): v is string => typeof v === "string";

/**
 * Check a parsed state.json strictly: version 1; ports moto/eks/kube integers 1-65535; processes each with name
 * moto_server or serve, pid an integer >= 2 (never 0, 1 or negative: kill(-1) would signal every process), a
 * start time of digits, a non-empty command line, a port, `group` a boolean; ids (optional) all strings. Returns
 * the list of problems (empty when valid).
 */
export function stateProblems(v: unknown): string[] {
  if (!isObject(v)) return ["not a JSON object"];
  const out: string[] = [];
  if (v.version !== 1) out.push("version is not 1");
  const ports = v.ports;
  if (!isObject(ports) || !["moto", "eks", "kube"].every((k) => isPort(ports[k])))
    out.push("ports must hold moto, eks and kube, each an integer from 1 to 65535");
  if (!Array.isArray(v.processes)) out.push("processes is not a list");
  else
    for (const [i, p] of (v.processes as unknown[]).entries()) {
      const at = `processes[${i}]`;
      if (!isObject(p)) {
        out.push(`${at} is not an object`);
        continue;
      }
      if (p.name !== "moto_server" && p.name !== "serve") out.push(`${at}.name is not moto_server or serve`);
      if (!Number.isSafeInteger(p.pid) || (p.pid as number) < 2) out.push(`${at}.pid is not an integer >= 2`);
      if (!isString(p.startTime) || !/^\d+$/.test(p.startTime))
        out.push(`${at}.startTime is not a number string`);
      if (!isString(p.cmdline) || p.cmdline === "") out.push(`${at}.cmdline is not a non-empty string`);
      if (!isPort(p.port)) out.push(`${at}.port is not an integer from 1 to 65535`);
      if (typeof p.group !== "boolean") out.push(`${at}.group is not true or false`);
    }
  if (v.ids !== undefined) {
    const ids = v.ids;
    const cluster = isObject(ids) ? ids.cluster : undefined;
    const client = isObject(ids) ? ids.client : undefined;
    const ok =
      isObject(cluster) &&
      isObject(client) &&
      isString(cluster.vpcId) &&
      Array.isArray(cluster.subnetIds) &&
      cluster.subnetIds.every(isString) &&
      isString(cluster.routeTableId) &&
      isString(cluster.securityGroupId) &&
      isString(client.vpcId) &&
      isString(client.subnetId) &&
      isString(client.routeTableId);
    if (!ok) out.push("ids do not have the shape `up` writes (strings)");
  }
  return out;
}

/**
 * Read DIR/state.json, or undefined when there is none. The directory must pass checkSandboxDir (or not exist:
 * undefined) and state.json must be a regular file of the user's (files.ts). Errors: InputError (exit 2, `--dir`)
 * for a directory or file that fails those checks, for text that is not JSON and for a state that fails
 * stateProblems; the file is left as it is.
 */
export function readState(dir: string): SandboxState | undefined {
  if (!checkSandboxDir(dir)) return undefined;
  const text = readOwnFile(dir, "state.json");
  if (text === undefined) return undefined;
  const file = join(dir, "state.json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file} is not a sandbox state file (not JSON: ${(err as Error).message})`, [
      { path: "--dir", message: "name a directory `xeks sandbox up` wrote, or remove the file" },
    ]);
  }
  const problems = stateProblems(parsed);
  if (problems.length > 0)
    throw new InputError(`${file} is not a sandbox state file`, [
      ...problems.map((message) => ({ path: "--dir", message: `state.json: ${message}` })),
      { path: "--dir", message: "name a directory `xeks sandbox up` wrote, or remove the file" },
    ]);
  return parsed as SandboxState;
}

/** Write DIR/state.json atomically (files.ts writeDirFile). */
function writeState(dir: string, state: SandboxState): void {
  writeDirFile(dir, "state.json", `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * SIGTERM the recorded process, then SIGKILL after the bound. Only when its start time and command line are the
 * recorded ones; its process group (-pid) only when `up` recorded it as a group leader and it still leads its group.
 */
async function stopProcess(p: SandboxProcess): Promise<"stopped" | "gone" | "not ours"> {
  const now = processIdentity(p.pid);
  if (!now) return "gone";
  if (now.startTime !== p.startTime || now.cmdline !== p.cmdline) return "not ours";
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (!(p.group && p.pid >= 2 && processGroupOf(p.pid) === p.pid)) throw new Error("not a group leader");
      process.kill(-p.pid, sig);
    } catch {
      try {
        process.kill(p.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + SANDBOX_WAITS.stopMs;
  while (Date.now() < deadline) {
    if (!isRecordedProcess(p)) return "stopped";
    await sleep(100);
  }
  signal("SIGKILL");
  const killDeadline = Date.now() + SANDBOX_WAITS.killMs;
  while (Date.now() < killDeadline) {
    if (!isRecordedProcess(p)) return "stopped";
    await sleep(100);
  }
  throw new OperationError(`process ${p.pid} (${p.name}) did not stop after SIGKILL`);
}

/** What `down` did per process. */
export interface SandboxDownResult {
  dir: string;
  /** name, pid and outcome: stopped, gone (had already exited), not ours (pid reused: left alone). */
  processes: { name: string; pid: number; outcome: "stopped" | "gone" | "not ours" }[];
  /** Sandbox ports still listening afterwards (by another process). */
  stillListening: number[];
}

/**
 * Stop what `up` recorded in DIR/state.json (and only that), then remove state.json. Nothing recorded: an
 * empty result. The other files of DIR stay (env.sh, xeks.yaml, logs) for a look after the fact.
 */
export async function sandboxDown(dirOption?: string): Promise<SandboxDownResult> {
  const dir = resolve(dirOption ?? DEFAULT_SANDBOX_DIR);
  const state = readState(dir);
  if (!state) return { dir, processes: [], stillListening: [] };
  const processes: SandboxDownResult["processes"] = [];
  // The serve process first (its clients), then moto.
  for (const p of [...state.processes].reverse()) {
    processes.push({ name: p.name, pid: p.pid, outcome: await stopProcess(p) });
  }
  rmSync(join(dir, "state.json"), { force: true });
  const listening = listeningPorts();
  const stillListening = Object.values(state.ports).filter((port) => listening.has(port));
  return { dir, processes, stillListening };
}

/** What `status` sees per process. */
export interface SandboxStatus {
  dir: string;
  running: boolean;
  processes: { name: string; pid: number; port: number; alive: boolean; listening: boolean }[];
  urls?: { moto: string; eks: string; kube: string };
}

/** Which recorded processes run and listen. `running` only when every one does, on every sandbox port. */
export function sandboxStatus(dirOption?: string): SandboxStatus {
  const dir = resolve(dirOption ?? DEFAULT_SANDBOX_DIR);
  const state = readState(dir);
  if (!state) return { dir, running: false, processes: [] };
  const listening = listeningPorts();
  const processes = state.processes.map((p) => ({
    name: p.name,
    pid: p.pid,
    port: p.port,
    alive: isRecordedProcess(p),
    listening: listening.has(p.port),
  }));
  return {
    dir,
    // The serve process also holds the EKS emulator's port.
    running:
      processes.length > 0 &&
      processes.every((p) => p.alive && p.listening) &&
      listening.has(state.ports.eks),
    processes,
    urls: urlsOf(state.ports),
  };
}

function urlsOf(ports: SandboxState["ports"]): SandboxUpResult["urls"] {
  return {
    moto: `http://127.0.0.1:${ports.moto}`,
    eks: `http://127.0.0.1:${ports.eks}`,
    kube: `https://127.0.0.1:${ports.kube}`,
  };
}

/**
 * Create the sandbox's starting state at moto (SANDBOX_STARTING_STATE); returns the ids state.json keeps and the
 * full state.
 */
async function createSandboxState(motoUrl: string): Promise<{ ids: SandboxIds; state: StartingState }> {
  const state = await createStartingState(motoUrl, SANDBOX_STARTING_STATE);
  const client = state.clients[0];
  if (!client?.subnetId) throw new OperationError("the sandbox's starting state has no client subnet");
  const { vpcId, subnetIds, routeTableId, securityGroupId } = state.cluster;
  const ids: SandboxIds = {
    cluster: { vpcId, subnetIds, routeTableId, securityGroupId },
    client: { vpcId: client.vpcId, subnetId: client.subnetId, routeTableId: client.routeTableId },
  };
  return { ids, state };
}

/**
 * A tag unique to one `up` (16 hex digits from 8 random bytes), for the session names of DIR/aws-config: the aws
 * CLI caches assumed-role credentials in ~/.aws/cli/cache under a key made of the AssumeRole arguments (botocore
 * AssumeRoleCredentialFetcher: the role ARN and, when the profile sets one, the session name; not the endpoint),
 * so without a new session name a new moto_server would be sent the previous one's cached keys.
 */
export function newSessionTag(): string {
  return randomBytes(8).toString("hex");
}

/**
 * DIR/aws-config: a base profile with the fake keys and the account profiles assuming a role, each with a
 * `role_session_name` that contains `tag` (newSessionTag: one per `up`). The instance profile's session name is
 * an EC2 instance id (`i-0` and 16 hex digits: EC2 names an instance role's sessions after the instance id).
 */
export function awsConfigText(tag: string): string {
  const profile = (name: string, account: string) => [
    `[profile ${name}]`,
    `role_arn = arn:aws:iam::${account}:role/${SANDBOX.adminRole}`,
    "source_profile = sandbox-base",
    `role_session_name = xeks-sandbox-${tag}`,
    `region = ${SANDBOX.region}`,
    "",
  ];
  return [
    "# Written by `xeks sandbox up`: profiles of the sandbox's two accounts at its moto_server (fake keys).",
    "[profile sandbox-base]",
    `aws_access_key_id = ${SANDBOX_BASE_KEYS.accessKeyId}`,
    `aws_secret_access_key = ${SANDBOX_BASE_KEYS.secretAccessKey}`,
    `region = ${SANDBOX.region}`,
    "",
    ...profile("sandbox-cluster", SANDBOX.clusterAccount),
    ...profile("sandbox-ops", SANDBOX.clientAccount),
    "# The client instance's identity (its instance profile role), for `xeks doctor --from-client` in the sandbox.",
    "[profile sandbox-ops-instance]",
    `role_arn = arn:aws:iam::${SANDBOX.clientAccount}:role/${SANDBOX.clientRole}`,
    "source_profile = sandbox-base",
    `role_session_name = i-0${tag}`,
    `region = ${SANDBOX.region}`,
    "",
  ].join("\n");
}

/**
 * Variables env.sh unsets, beside every `AWS_ENDPOINT_URL_*` (unset by a loop over `env`, then the sandbox's two
 * set again): those that select other credentials (a profile, keys, a web identity, a container credentials URL,
 * which the SDKs and the aws CLI fetch from) or make the SDKs ignore AWS_ENDPOINT_URL
 * (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; AWS SDKs and Tools reference guide, "Service-specific endpoints").
 */
export const ENV_SH_UNSET = [
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_USE_FIPS_ENDPOINT",
  "AWS_USE_DUALSTACK_ENDPOINT",
] as const;

/**
 * DIR/env.sh: the lines a POSIX shell (sh, bash, zsh) sources to use the sandbox: it unsets ENV_SH_UNSET and every
 * exported AWS_ENDPOINT_URL_* (so no service-specific endpoint of the user's sends a call elsewhere), exports the
 * sandbox's config file, region, AWS_ENDPOINT_URL (moto) and AWS_ENDPOINT_URL_EKS (the EKS emulator), and adds
 * 127.0.0.1 to NO_PROXY/no_proxy so that a proxy setting does not carry sandbox calls off the machine.
 */
export function envShText(dir: string, urls: SandboxUpResult["urls"], ids: SandboxIds): string {
  return [
    "# Written by `xeks sandbox up`. Source it: every AWS call of this shell then goes to the sandbox on 127.0.0.1.",
    `unset ${ENV_SH_UNSET.join(" ")}`,
    "for xeks_v in $(env | sed -n 's/^\\(AWS_ENDPOINT_URL_[A-Za-z0-9_]*\\)=.*/\\1/p'); do unset \"$xeks_v\"; done",
    "unset xeks_v",
    `export NO_PROXY="127.0.0.1,localhost\${NO_PROXY:+,$NO_PROXY}"`,
    `export no_proxy="127.0.0.1,localhost\${no_proxy:+,$no_proxy}"`,
    `export AWS_CONFIG_FILE=${shellQuote(join(dir, "aws-config"))}`,
    `export AWS_SHARED_CREDENTIALS_FILE=${shellQuote(join(dir, "aws-credentials"))}`,
    `export AWS_REGION=${SANDBOX.region}`,
    `export AWS_DEFAULT_REGION=${SANDBOX.region}`,
    "export AWS_EC2_METADATA_DISABLED=true",
    `export AWS_ENDPOINT_URL=${urls.moto}`,
    `export AWS_ENDPOINT_URL_EKS=${urls.eks}`,
    `export KUBECONFIG=${shellQuote(join(dir, "kubeconfig"))}`,
    "# The ids the sandbox created (for the tour's aws commands).",
    `export XEKS_SANDBOX_CLUSTER_VPC=${ids.cluster.vpcId}`,
    `export XEKS_SANDBOX_CLUSTER_ROUTE_TABLE=${ids.cluster.routeTableId}`,
    `export XEKS_SANDBOX_CLUSTER_SECURITY_GROUP=${ids.cluster.securityGroupId}`,
    `export XEKS_SANDBOX_CLIENT_VPC=${ids.client.vpcId}`,
    `export XEKS_SANDBOX_CLIENT_ROUTE_TABLE=${ids.client.routeTableId}`,
    "",
  ].join("\n");
}

/** DIR/xeks.yaml: examples/seed.yaml with the sandbox's ids, endpoint and CA. */
export function topologyText(ids: SandboxIds, kubeUrl: string, caBase64: string): string {
  return [
    "# Written by `xeks sandbox up`: the original system of examples/seed.yaml, with the sandbox's ids, endpoint",
    "# and CA. Cluster prac-eks-abhi in account A (111111111111), one EC2 client in account B (222222222222) with",
    "# cluster-admin through EKS-CrossAccount-Access-Role. The cluster VPC is 127.0.0.0/16 (the seed's is",
    "# 10.0.0.0/16) so that the endpoint, on 127.0.0.1, is an address of the cluster VPC.",
    "version: 1",
    "cluster:",
    `  name: ${SANDBOX.clusterName}`,
    `  account: "${SANDBOX.clusterAccount}"`,
    `  region: ${SANDBOX.region}`,
    "  authenticationMode: API_AND_CONFIG_MAP",
    "  endpointAccess: { private: true, public: false }",
    `  endpoint: ${kubeUrl}`,
    `  certificateAuthority: ${caBase64}`,
    `  securityGroupId: ${ids.cluster.securityGroupId}`,
    "  vpc:",
    `    id: ${ids.cluster.vpcId}`,
    `    cidr: ${SANDBOX.clusterCidr}`,
    `    routeTables: [${ids.cluster.routeTableId}]`,
    "clients:",
    `  - name: ${SANDBOX.clientName}`,
    `    account: "${SANDBOX.clientAccount}"`,
    "    vpc:",
    `      id: ${ids.client.vpcId}`,
    `      cidr: ${SANDBOX.clientCidr}`,
    `      routeTables: [${ids.client.routeTableId}]`,
    `    role: ${SANDBOX.clientRole}`,
    "access:",
    `  - role: ${SANDBOX.accessRole}`,
    `    clients: [${SANDBOX.clientName}]`,
    "    policies:",
    "      - AmazonEKSClusterAdminPolicy",
    "",
  ].join("\n");
}

/** The record of a process `up` started detached (a group leader). */
function record(name: SandboxProcess["name"], pid: number, port: number): SandboxProcess {
  const id = processIdentity(pid);
  if (!id) throw new OperationError(`${name} (pid ${pid}) exited during startup`);
  return { name, pid, port, ...id, group: true };
}

/**
 * Start the sandbox (see the module comment). Errors: InputError (exit 2) when moto_server is not on PATH
 * (nothing is started, nothing written) or a sandbox of DIR still runs; OperationError when a process does not
 * come up within its bound (what was started is stopped).
 */
export async function sandboxUp(options: SandboxUpOptions = {}): Promise<SandboxUpResult> {
  const env = options.env ?? process.env;
  const dir = resolve(options.dir ?? DEFAULT_SANDBOX_DIR);
  findMoto(env);
  // The directory first: a file, a FIFO, a link, someone else's or a group-writable directory is refused (files.ts).
  const existed = checkSandboxDir(dir);
  const previous = readState(dir);
  if (previous?.processes.some(isRecordedProcess))
    throw new InputError(`a sandbox already runs from ${dir}`, [
      {
        path: "--dir",
        message: `stop it first (xeks sandbox down --dir ${shellQuote(dir)}) or choose another --dir`,
      },
    ]);
  if (existed && !previous && readdirSync(dir).length > 0 && readOwnFile(dir, SANDBOX_MARKER) === undefined)
    throw dirError(
      dir,
      "exists, is not empty and is not a sandbox directory (no state.json, no .xeks-sandbox-dir)",
      "name a new or empty directory, or one an earlier `xeks sandbox up` wrote",
    );
  const [p0, p1, p2] =
    options.port !== undefined ? [options.port, options.port + 1, options.port + 2] : await freePorts(3);
  const ports = { moto: p0 as number, eks: p1 as number, kube: p2 as number };
  const taken = listeningPorts();
  const busy = Object.values(ports).filter((p) => taken.has(p));
  if (busy.length > 0)
    throw new InputError(`port ${busy.join(", ")} of 127.0.0.1 is in use`, [
      {
        path: "--port",
        message: "choose another base port P (the sandbox uses P, P+1 and P+2) or leave it out",
      },
    ]);

  if (!existed) {
    // Only a directory `up` creates is given mode 0700; an existing one passed checkSandboxDir (no group or
    // other write bits) and keeps its mode.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    checkSandboxDir(dir);
  }
  writeDirFile(
    dir,
    SANDBOX_MARKER,
    "Written by `xeks sandbox up`: this directory holds a sandbox's files.\n",
  );
  const urls = urlsOf(ports);
  const signal = options.signal;
  const started: SandboxProcess[] = [];
  const state: SandboxState = { version: 1, ports, processes: started };
  const children: (ChildProcess & { pid: number })[] = [];
  /** Stop what was started (newest first); true when none is left running. */
  const stopStarted = async () => {
    let allStopped = true;
    for (const c of [...children].reverse()) if (!(await stopChild(c))) allStopped = false;
    return allStopped;
  };
  try {
    const tls = makeSandboxTls(dir);
    if (signal?.aborted) throw interrupted();
    let motoProc: SandboxProcess | undefined;
    const moto = await startMoto({
      port: ports.moto,
      env,
      vars: { XEKS_SANDBOX_EKS_URL: urls.eks },
      log: { dir, name: "moto.log" },
      signal,
      onSpawn: (child) => {
        children.push(child);
        // Recorded at once, in state.json too (pyenv shims exec python under the same pid: the identity is taken
        // again once it answers).
        motoProc = record("moto_server", child.pid, ports.moto);
        started.push(motoProc);
        writeState(dir, state);
      },
    });
    Object.assign(motoProc ?? {}, record("moto_server", moto.child.pid, ports.moto));
    writeState(dir, state);

    const { ids, state: starting } = await abortable(createSandboxState(urls.moto), signal);
    const caBase64 = Buffer.from(tls.caCert).toString("base64");
    const serveConfig: ServeConfig = {
      eksPort: ports.eks,
      kubePort: ports.kube,
      motoUrl: urls.moto,
      cluster: startingCluster(SANDBOX.clusterName, SANDBOX_STARTING_STATE, starting, {
        endpoint: urls.kube,
        certificateAuthority: caBase64,
      }),
    };
    writeDirFile(dir, "serve.json", `${JSON.stringify(serveConfig, null, 2)}\n`);
    const serveLog = join(dir, "serve.log");
    const serveChild = startDetached(
      process.execPath,
      [...process.execArgv, serveEntry(), dir],
      { ...env, NODE_OPTIONS: "" },
      dir,
      "serve.log",
      // The package root: node resolves --import loaders (tsx, when run from src/) from the working directory.
      fileURLToPath(new URL("../..", import.meta.url)),
    );
    children.push(serveChild);
    const servePid = serveChild.pid;
    started.push(record("serve", servePid, ports.kube));
    writeState(dir, state);
    const serveUp = async () => (await httpAnswers(urls.eks)) && (await tcpAnswers(ports.kube));
    if (!(await waitFor(serveUp, servePid, SANDBOX_WAITS.serveMs, signal)))
      throw new OperationError(
        processIdentity(servePid)
          ? `the EKS emulator and Kubernetes stand-in did not listen within ${SANDBOX_WAITS.serveMs / 1000} s (log ${serveLog}: ${tail(serveLog)})`
          : `the EKS emulator and Kubernetes stand-in exited before they listened (log ${serveLog}: ${tail(serveLog)})`,
      );

    if (signal?.aborted) throw interrupted();
    const done = { ...state, ids };
    const files = {
      awsConfig: writeDirFile(dir, "aws-config", awsConfigText(newSessionTag())),
      env: writeDirFile(dir, "env.sh", envShText(dir, urls, ids)),
      topology: writeDirFile(dir, "xeks.yaml", topologyText(ids, urls.kube, caBase64)),
    };
    writeDirFile(dir, "aws-credentials", "");
    writeState(dir, done);
    return { dir, state: done, urls, files };
  } catch (err) {
    // What was started is stopped; the partial state.json goes only when nothing recorded in it still runs.
    if ((await stopStarted()) && children.length > 0) rmSync(join(dir, "state.json"), { force: true });
    throw err;
  }
}
