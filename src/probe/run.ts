/**
 * The client probe: run the steps in chain order, each under the step timeout and the overall deadline, and
 * gather a ChainReport with mode "client". A step whose prerequisite failed is not run: its link is
 * `unknown` ("not tried: client.X failed"). Dependencies:
 *
 *   client.identity -> client.assume-role -> client.token ------------------+
 *                                  \-> (DescribeCluster, when the topology   |
 *                                       lacks endpoint or CA)                v
 *   endpoint -> client.dns -> client.tcp -> client.tls ----------> client.whoami -> client.permissions
 *
 * A wrong but working identity fails client.identity yet lets the later steps run with it, as kubectl would.
 */
import { type Finding, unknown } from "../chain/link.js";
import type { ChainReport, LinkId, LinkResult } from "../chain/types.js";
import { verdictOf } from "../chain/types.js";
import { InputError } from "../errors.js";
import { chooseAccessRole } from "../kubeconfig/target.js";
import { defaultSessionName } from "../token/environment.js";
import type { Client } from "../topology/types.js";
import { checkAssumeRole } from "./assume-role.js";
import { Budget, formatMs } from "./bounded.js";
import { classifier } from "./classify.js";
import { clusterTarget } from "./cluster.js";
import { checkDns } from "./dns.js";
import { checkIdentity } from "./identity.js";
import { checkPermissions } from "./permissions.js";
import { systemResolver } from "./resolve.js";
import { checkTcp } from "./tcp.js";
import { checkTls } from "./tls.js";
import { checkToken } from "./token.js";
import type { CredentialProvider, ProbeOptions, ProbeScope, StepOutcome } from "./types.js";
import { checkWhoami } from "./whoami.js";

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_DEADLINE_MS = 30_000;

/** The client the probe runs as: the named one, or the only one. */
export function chooseClient(options: Pick<ProbeOptions, "topology" | "client">): Client {
  const { topology } = options;
  const names = topology.clients.map((c) => c.name).join(", ");
  if (options.client !== undefined) {
    const found = topology.clients.find((c) => c.name === options.client);
    if (!found) {
      throw new InputError(`no client ${options.client} in ${topology.file ?? "the topology"}`, [
        { path: "--client", message: `expected one of: ${names}` },
      ]);
    }
    return found;
  }
  if (topology.clients.length !== 1) {
    throw new InputError(
      `${topology.file ?? "the topology"} has ${topology.clients.length} clients; say which one this instance is with --client`,
      [{ path: "--client", message: `one of: ${names}` }],
    );
  }
  return topology.clients[0] as Client;
}

/** Walk the chain from the client. Throws InputError for a client or access role the topology lacks. */
export async function probeFromClient(options: ProbeOptions): Promise<ChainReport> {
  const { topology } = options;
  const client = chooseClient(options);
  const access = chooseAccessRole(topology, client.name, options.accessRole);
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const budget = new Budget(timeoutMs, deadlineMs);
  const scope: ProbeScope = {
    topology,
    client,
    access,
    env,
    file: topology.file ?? "xeks.yaml",
    now: options.now ?? (() => new Date()),
  };
  const cluster = topology.cluster;
  const region = cluster.region;
  const resolver = options.resolver ?? systemResolver(options.resolvConf);
  const classify = classifier(cluster.vpc.cidr, options.classification);
  let credentials: CredentialProvider | undefined = options.credentials;
  const baseCredentials = async (): Promise<CredentialProvider> => {
    if (!credentials) {
      const { baseCredentialProvider } = await import("../token/credentials.js");
      credentials = baseCredentialProvider({ region }) as CredentialProvider;
    }
    return credentials;
  };

  const links: LinkResult[] = [];
  const statusOf = new Map<LinkId, string>();
  const clientSubject = `client ${client.name}`;
  const pairSubject = `client ${client.name} -> access role ${access.role}`;
  const record = (id: LinkId, finding: Finding, pair: boolean) => {
    const link: LinkResult = {
      id,
      subject: pair ? pairSubject : clientSubject,
      status: finding.status,
      summary: finding.summary,
    };
    if (finding.fix !== undefined) link.fix = finding.fix;
    if (finding.evidence !== undefined && finding.evidence.length > 0) link.evidence = finding.evidence;
    link.client = client.name;
    link.accessRole = access.role;
    links.push(link);
    statusOf.set(id, finding.status);
  };
  // A step not tried because of another names the step that actually failed (the root of the chain).
  const notTried = new Set<LinkId>();
  const rootOf = new Map<LinkId, LinkId>();
  const blocker = (id: LinkId): string => {
    const s = statusOf.get(id);
    if (notTried.has(id)) return `${id} was not tried (the overall deadline passed)`;
    if (s === "fail") return `${id} failed`;
    if (s === "unknown") return `${id} could not be decided`;
    return `${id} did not get far enough`;
  };
  const deadlinePassed = (): Finding =>
    unknown(
      `not tried: the overall deadline of ${formatMs(deadlineMs)} passed`,
      "run the probe again with a longer --deadline, and look at the steps that took their whole --timeout",
    );

  /** Run one step unless blocked; record its link; return what dependents need. */
  async function step<T>(
    id: LinkId,
    pair: boolean,
    blockedBy: LinkId | undefined,
    run: (ms: number) => Promise<StepOutcome<T>>,
  ): Promise<T | undefined> {
    if (blockedBy !== undefined) {
      const root = rootOf.get(blockedBy) ?? blockedBy;
      rootOf.set(id, root);
      const via = root === blockedBy ? "" : ` (needed by ${blockedBy})`;
      record(
        id,
        unknown(`not tried: ${blocker(root)}${via}`, `fix ${root} first, then run the probe again`),
        pair,
      );
      return undefined;
    }
    if (budget.expired()) {
      record(id, deadlinePassed(), pair);
      notTried.add(id);
      return undefined;
    }
    let outcome: StepOutcome<T>;
    try {
      outcome = await run(budget.forStep());
    } catch (err) {
      outcome = {
        finding: unknown(
          `the check itself failed: ${(err as Error)?.message ?? String(err)}`,
          "report this as a bug in xeks, with the topology file and the probe's --output json",
        ),
      };
    }
    record(id, outcome.finding, pair);
    return outcome.value;
  }

  const endpoints = options.endpoints ?? {};
  const identity = await step("client.identity", false, undefined, async (ms) =>
    checkIdentity(scope, {
      credentials: await baseCredentials(),
      region,
      ...(endpoints.sts ? { endpoint: endpoints.sts } : {}),
      timeoutMs: ms,
    }),
  );
  const sessionName = options.sessionName ?? defaultSessionName(env);
  const assumed = await step(
    "client.assume-role",
    true,
    identity ? undefined : "client.identity",
    async (ms) =>
      checkAssumeRole(scope, {
        credentials: await baseCredentials(),
        region,
        ...(endpoints.sts ? { endpoint: endpoints.sts } : {}),
        sessionName,
        timeoutMs: ms,
      }),
  );

  // The endpoint and CA: the topology's, else DescribeCluster as the access role (within the deadline).
  const needsDescribe = !cluster.endpoint || !cluster.certificateAuthority;
  const target = await clusterTarget(scope, {
    ...(assumed ? { assumed: assumed.credentials } : {}),
    ...(endpoints.eks ? { endpoint: endpoints.eks } : {}),
    timeoutMs: needsDescribe && assumed ? Math.max(1, budget.forStep()) : timeoutMs,
    noCredentials: blocker("client.assume-role"),
  });

  const dns = await step("client.dns", false, undefined, (ms) =>
    checkDns(scope, target, { resolver, classifier: classify, timeoutMs: ms }),
  );
  const tcp = await step("client.tcp", false, dns ? undefined : "client.dns", (ms) =>
    dns ? checkTcp(scope, dns, { timeoutMs: ms }) : Promise.reject(new Error("unreachable")),
  );
  const tls = await step("client.tls", false, tcp ? undefined : "client.tcp", (ms) =>
    dns && tcp
      ? checkTls(scope, target, dns, tcp.reachable, { timeoutMs: ms })
      : Promise.reject(new Error("unreachable")),
  );
  const token = await step("client.token", true, assumed ? undefined : "client.assume-role", () =>
    assumed ? checkToken(scope, assumed, target.clusterId) : Promise.reject(new Error("unreachable")),
  );
  const whoami = await step(
    "client.whoami",
    true,
    tls ? (token ? undefined : "client.token") : "client.tls",
    (ms) =>
      tls && token && assumed
        ? checkWhoami(scope, tls, token.token, assumed.sessionName, { timeoutMs: ms })
        : Promise.reject(new Error("unreachable")),
  );
  await step("client.permissions", true, whoami ? undefined : "client.whoami", (ms) =>
    tls && token
      ? checkPermissions(scope, tls, token.token, { timeoutMs: ms })
      : Promise.reject(new Error("unreachable")),
  );

  return {
    kind: "ChainReport",
    version: 1,
    mode: "client",
    verdict: verdictOf(links),
    cluster: { name: cluster.name, account: cluster.account, region: cluster.region },
    clients: [{ name: client.name, account: client.account, region: client.region }],
    links,
  };
}
