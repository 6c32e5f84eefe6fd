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
 * The steps run through the chain runner (src/chain/runner.ts), the same one `prove()` uses: it holds the
 * ordering, the "not tried" propagation, the deadline gate and the verdict.
 */
import { unknown } from "../chain/link.js";
import { ChainRun, type LinkStep } from "../chain/runner.js";
import type { ChainReport, LinkId } from "../chain/types.js";
import { InputError } from "../errors.js";
import { chooseAccessRole } from "../kubeconfig/target.js";
import { defaultSessionName } from "../token/environment.js";
import type { Client } from "../topology/types.js";
import { type AssumeValue, checkAssumeRole } from "./assume-role.js";
import { Budget, formatMs } from "./bounded.js";
import { classifier } from "./classify.js";
import { clusterTarget } from "./cluster.js";
import { checkDns, type DnsValue } from "./dns.js";
import { checkIdentity } from "./identity.js";
import { checkPermissions } from "./permissions.js";
import { systemResolver } from "./resolve.js";
import { checkTcp, type TcpValue } from "./tcp.js";
import { checkTls, type TlsValue } from "./tls.js";
import { checkToken, type TokenValue } from "./token.js";
import type { CredentialProvider, ProbeOptions, ProbeScope, StepOutcome } from "./types.js";
import { checkWhoami } from "./whoami.js";

/** A probe link is about the client alone, or about the client and its access role (the pair). */
type ProbeSubject = "client" | "pair";

/** A probe step: a runner step with the subject it is about. */
interface ProbeStep<T = unknown> extends LinkStep<ProbeSubject, T> {
  subject: ProbeSubject;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_DEADLINE_MS = 30_000;

/** The client the probe runs as: the named one, or the only one. */
function chooseClient(options: Pick<ProbeOptions, "topology" | "client">): Client {
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

  const run = new ChainRun<ProbeSubject>({
    place: (subject) => ({
      subject:
        subject === "pair" ? `client ${client.name} -> access role ${access.role}` : `client ${client.name}`,
      client: client.name,
      accessRole: access.role,
    }),
    crashFix: "report this as a bug in xeks, with the topology file and the probe's --output json",
    rerun: "run the probe again",
    gate: () =>
      budget.expired()
        ? {
            reason: "the overall deadline passed",
            finding: unknown(
              `not tried: the overall deadline of ${formatMs(deadlineMs)} passed`,
              "run the probe again with a longer --deadline, and look at the steps that took their whole --timeout",
            ),
          }
        : undefined,
  });
  /** A probe step as a runner step: its subject, prerequisites, and the check run under the step budget. */
  const step = <T>(
    id: LinkId,
    subject: ProbeSubject,
    prerequisites: LinkId[],
    check: (ms: number) => Promise<StepOutcome<T>>,
  ): ProbeStep<T> => ({
    id,
    subject,
    prerequisites,
    evaluate: async () => {
      const outcome = await check(budget.forStep());
      const e = outcome.finding.evidence;
      // The probe reports evidence only when there is some.
      return e !== undefined && e.length === 0
        ? { ...outcome, finding: { ...outcome.finding, evidence: undefined } }
        : outcome;
    },
  });
  const runStep = <T>(s: ProbeStep<T>) => run.run(s, s.subject);
  const needed = <T>(id: LinkId): T => {
    const v = run.value<T>(id);
    if (v === undefined) throw new Error(`${id} has no value`);
    return v;
  };

  const endpoints = options.endpoints ?? {};
  await runStep(
    step("client.identity", "client", [], async (ms) =>
      checkIdentity(scope, {
        credentials: await baseCredentials(),
        region,
        ...(endpoints.sts ? { endpoint: endpoints.sts } : {}),
        timeoutMs: ms,
      }),
    ),
  );
  const sessionName = options.sessionName ?? defaultSessionName(env);
  const assumed = await runStep(
    step("client.assume-role", "pair", ["client.identity"], async (ms) =>
      checkAssumeRole(scope, {
        credentials: await baseCredentials(),
        region,
        ...(endpoints.sts ? { endpoint: endpoints.sts } : {}),
        sessionName,
        timeoutMs: ms,
      }),
    ),
  );

  // The endpoint and CA: the topology's, else DescribeCluster as the access role (within the deadline).
  // Not a link of its own: client.dns and client.tls report it.
  const needsDescribe = !cluster.endpoint || !cluster.certificateAuthority;
  const target = await clusterTarget(scope, {
    ...(assumed ? { assumed: assumed.credentials } : {}),
    ...(endpoints.eks ? { endpoint: endpoints.eks } : {}),
    timeoutMs: needsDescribe && assumed ? Math.max(1, budget.forStep()) : timeoutMs,
    noCredentials: run.blocker("client.assume-role"),
  });

  const steps: ProbeStep[] = [
    step("client.dns", "client", [], (ms) =>
      checkDns(scope, target, { resolver, classifier: classify, timeoutMs: ms }),
    ),
    step("client.tcp", "client", ["client.dns"], (ms) =>
      checkTcp(scope, needed<DnsValue>("client.dns"), { timeoutMs: ms }),
    ),
    step("client.tls", "client", ["client.tcp"], (ms) =>
      checkTls(scope, target, needed<DnsValue>("client.dns"), needed<TcpValue>("client.tcp").reachable, {
        timeoutMs: ms,
      }),
    ),
    step("client.token", "pair", ["client.assume-role"], () =>
      checkToken(scope, needed<AssumeValue>("client.assume-role"), target.clusterId),
    ),
    step("client.whoami", "pair", ["client.tls", "client.token"], (ms) =>
      checkWhoami(
        scope,
        needed<TlsValue>("client.tls"),
        needed<TokenValue>("client.token").token,
        needed<AssumeValue>("client.assume-role").sessionName,
        { timeoutMs: ms },
      ),
    ),
    step("client.permissions", "pair", ["client.whoami"], (ms) =>
      checkPermissions(scope, needed<TlsValue>("client.tls"), needed<TokenValue>("client.token").token, {
        timeoutMs: ms,
      }),
    ),
  ];
  for (const s of steps) await runStep(s);

  return run.report("client", { name: cluster.name, account: cluster.account, region: cluster.region }, [
    { name: client.name, account: client.account, region: client.region },
  ]);
}
