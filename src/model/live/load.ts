/**
 * The live source of the model (`xeks doctor`): the real state of the cluster account and every client account,
 * read through the AWS SDK v3 with one set of credentials per account. Read-only, bounded concurrency, retries
 * with backoff. A read that fails (denied by IAM, or anything else) becomes an `unread` fact naming the missing
 * permission, so the links that need it say `unknown` instead of guessing.
 */

import { checkAccounts, clientProfileFlag, clusterProfileFlag } from "../../aws/accounts.js";
import {
  listAccessEntries,
  listRolesUnderPath,
  PolicyCache,
  readAccessEntry,
  readCluster,
  readInstances,
  readOidcProvider,
  readPeerings,
  readPodIdentityAssociations,
  readRole,
  readRouteTables,
  readSecurityGroupRules,
  readVpc,
} from "../../aws/read.js";
import { ReadFailure } from "../../aws/read-errors.js";
import {
  AwsContext,
  type CredentialSource,
  type Session,
  type SessionOptions,
  whoAmI,
} from "../../aws/session.js";
import { readStackInstances } from "../../aws/stackset.js";
import { entryArnsOfRole } from "../../domain/access-entry.js";
import { SSO_ROLE_PATH } from "../../domain/principal.js";
import { InputError, OperationError } from "../../errors.js";
import { stackNames } from "../../layout/names.js";
import type { Client, Topology } from "../../topology/types.js";
import { emptyLiveModel, factKey, type Model, type PolicyFact, type RoleFact } from "../types.js";

export interface LiveOptions extends SessionOptions {
  /** Profile for the cluster account; default: the ambient credentials. */
  clusterProfile?: string;
  /** Profile per client name; a client without one uses the ambient credentials. */
  clientProfiles?: Record<string, string>;
}

export interface LiveStats {
  /** API calls made (logical calls; SDK retries not counted). */
  calls: number;
  byAction: Record<string, number>;
  /** Most calls in flight at once. */
  peak: number;
  concurrency: number;
  ms: number;
}

export interface LiveModel {
  model: Model;
  stats: LiveStats;
  /** Who the credentials of each account are (sts:GetCallerIdentity). */
  identities: { label: string; account: string; arn: string }[];
}

interface Expectation {
  session: Session;
  account: string;
  /**
   * Whose credentials these are. Not `session.source`: sessions are shared by credentials and region, so the
   * cluster's session also serves a client with the same (ambient) credentials in the same region.
   */
  source: CredentialSource;
}

/**
 * Sessions for the cluster and every client, their accounts checked before any other call, with the one
 * account check (src/aws/accounts.ts): a mismatch names the flag of the credentials that are wrong.
 */
export async function openSessions(
  expectations: Expectation[],
): Promise<{ label: string; account: string; arn: string }[]> {
  // One GetCallerIdentity per set of credentials (a profile, or the ambient chain).
  const byCredentials = new Map<string, Promise<{ account: string; arn: string }>>();
  for (const e of expectations) {
    const key = e.session.credentialsKey ?? e.source.profile ?? "";
    if (!byCredentials.has(key)) byCredentials.set(key, whoAmI(e.session));
  }
  const settled = await Promise.allSettled(byCredentials.values());
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  const identities: { label: string; account: string; arn: string }[] = [];
  const pairs: Parameters<typeof checkAccounts>[0] = [];
  const seen = new Set<string>();
  for (const e of expectations) {
    const id = await byCredentials.get(e.session.credentialsKey ?? e.source.profile ?? "");
    if (!id) continue;
    const src = e.source;
    if (!seen.has(src.label)) {
      seen.add(src.label);
      identities.push({ label: src.label, ...id });
    }
    pairs.push({
      expect: {
        who: src.label,
        account: e.account,
        ...(src.profile !== undefined ? { profile: src.profile } : {}),
        flag: src.flag,
      },
      identity: id,
    });
  }
  checkAccounts(pairs, "nothing else was read");
  return identities;
}

/** Check `--client-profile` names against the topology. */
export function checkClientProfiles(topology: Topology, profiles: Record<string, string> = {}): void {
  const names = topology.clients.map((c) => c.name);
  const unknown = Object.keys(profiles).filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new InputError(
      `--client-profile names ${unknown.length === 1 ? "a client" : "clients"} the topology does not have: ${unknown.join(", ")}`,
      [{ path: "--client-profile", message: `expected NAME=PROFILE with NAME one of ${names.join(", ")}` }],
    );
  }
}

export function clusterSource(profile: string | undefined): CredentialSource {
  return { profile, label: "the cluster", flag: clusterProfileFlag() };
}

export function clientSource(name: string, profile: string | undefined): CredentialSource {
  return { profile, label: `client ${name}`, flag: clientProfileFlag(name) };
}

/** Read the live model of a topology. Throws InputError for credentials of the wrong account. */
export async function loadLiveModel(topology: Topology, options: LiveOptions = {}): Promise<LiveModel> {
  checkClientProfiles(topology, options.clientProfiles);
  const started = performance.now();
  const ctx = new AwsContext(options);
  try {
    const c = topology.cluster;
    const cluster = ctx.session(clusterSource(options.clusterProfile), c.region);
    const clients = new Map<string, Session>(
      topology.clients.map((cl) => [
        cl.name,
        ctx.session(clientSource(cl.name, options.clientProfiles?.[cl.name]), cl.region),
      ]),
    );
    const identities = await openSessions([
      { session: cluster, account: c.account, source: clusterSource(options.clusterProfile) },
      ...topology.clients.map((cl) => ({
        session: clients.get(cl.name) as Session,
        account: cl.account,
        source: clientSource(cl.name, options.clientProfiles?.[cl.name]),
      })),
    ]);

    const model = emptyLiveModel(c);
    declaredOrganizationFacts(topology, model);
    const reader = new LiveReader(topology, model, cluster, clients);
    await reader.readAll();
    const s = ctx.stats;
    return {
      model,
      identities,
      stats: {
        calls: s.calls,
        byAction: s.byAction,
        peak: s.peak,
        concurrency: ctx.limiter.limit,
        ms: Math.round(performance.now() - started),
      },
    };
  } finally {
    ctx.destroy();
  }
}

/** SCPs, RCPs and organization ids cannot be read from a member account: they stay declared facts. */
function declaredOrganizationFacts(topology: Topology, model: Model): void {
  const declared = (ps: { name: string; document: PolicyFact["document"] }[]): PolicyFact[] =>
    ps.map((p) => ({ name: p.name, document: p.document, source: "declared" }));
  const c = topology.cluster;
  if (c.scps.length > 0) model.scps[c.account] = declared(c.scps);
  if (c.rcps.length > 0) model.rcps[c.account] = declared(c.rcps);
  for (const client of topology.clients) {
    if (client.scps.length > 0) model.scps[client.account] = declared(client.scps);
    if (client.organizationId) model.organizations[client.account] = client.organizationId;
  }
}

/** Fills one model; every read records its failure against the facts it was for. */
class LiveReader {
  private readonly policies = new PolicyCache();
  constructor(
    private readonly topology: Topology,
    private readonly model: Model,
    private readonly cluster: Session,
    private readonly clients: Map<string, Session>,
  ) {}

  /** Run `fn`; if a read fails, mark `keys` unread with the reason and the missing permission. */
  private async guarded(keys: string[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof ReadFailure)) throw err;
      for (const key of keys) {
        if (this.model.unread.some((u) => u.key === key)) continue;
        this.model.unread.push({
          key,
          reason: err.error.detail,
          ...(err.error.kind === "denied"
            ? { permission: err.error.permission }
            : { hint: err.error.hint ?? `AWS answered ${err.error.code}: see the reason` }),
        });
      }
    }
  }

  async readAll(): Promise<void> {
    const t = this.topology;
    await Promise.all([
      this.readCluster(),
      this.readAccessEntries(),
      ...t.access.map((a) => this.readRole(this.cluster, a.role, t.cluster.account, [a.arn])),
      this.readNetwork(this.cluster, t.cluster.account, t.cluster.region, t.cluster.vpc),
      this.guarded([factKey.securityGroup(t.cluster.securityGroupId)], async () => {
        this.model.securityGroupRules.push(
          ...(await readSecurityGroupRules(this.cluster, t.cluster.securityGroupId)),
        );
      }),
      this.readPeerings(),
      ...t.clients.map((client) => this.readClient(client)),
    ]);
    // Any group on the control plane's interfaces may admit 443: read the ones the topology does not name.
    const others = (this.model.cluster.securityGroupIds ?? []).filter((g) => g !== t.cluster.securityGroupId);
    await Promise.all(
      others.map((g) =>
        this.guarded([factKey.securityGroup(g)], async () => {
          this.model.securityGroupRules.push(...(await readSecurityGroupRules(this.cluster, g)));
        }),
      ),
    );
  }

  private async readCluster(): Promise<void> {
    const c = this.topology.cluster;
    const keys = [factKey.authenticationMode(), factKey.endpointAccess(), factKey.publicAccessCidrs()];
    await this.guarded(keys, async () => {
      const live = await readCluster(this.cluster, c.name);
      if (!live) {
        throw new OperationError(
          `cluster ${c.name} was not found in account ${c.account}, region ${c.region}`,
          "check cluster.name, cluster.region and the credentials' account (xeks discover writes a topology from a live cluster)",
        );
      }
      const f = this.model.cluster;
      if (live.authenticationMode) f.authenticationMode = live.authenticationMode;
      f.endpointAccess = live.endpointAccess;
      if (live.publicAccessCidrs) f.publicAccessCidrs = [...live.publicAccessCidrs];
      if (live.endpoint) f.endpoint = live.endpoint;
      if (live.certificateAuthority) f.certificateAuthority = live.certificateAuthority;
      if (live.arn) f.arn = live.arn;
      if (live.vpcId) f.vpcId = live.vpcId;
      if (live.securityGroupIds.length > 0) f.securityGroupIds = live.securityGroupIds;
    });
  }

  /** The entries of the access roles (and any session-ARN entries for them), with their policies. */
  private async readAccessEntries(): Promise<void> {
    const t = this.topology;
    let arns: string[] = [];
    let listed = false;
    await this.guarded([factKey.accessEntries()], async () => {
      arns = await listAccessEntries(this.cluster, t.cluster.name);
      listed = true;
    });
    if (!listed) return;
    await Promise.all(
      t.access.map((access) => {
        const mine = entryArnsOfRole(arns, access.arn);
        return this.guarded([factKey.accessEntry(access.arn)], async () => {
          for (const fact of await Promise.all(
            mine.map((arn) => readAccessEntry(this.cluster, t.cluster.name, arn)),
          )) {
            if (fact) this.model.accessEntries[fact.principalArn] = fact;
          }
        });
      }),
    );
  }

  private async readRole(session: Session, name: string, account: string, keys: string[]): Promise<void> {
    await this.guarded(
      keys.map((k) => factKey.role(k)),
      async () => {
        const role: RoleFact | undefined = await readRole(session, name, account, this.policies);
        if (!role) return;
        this.model.roles[role.arn] = role;
        for (const k of keys) this.model.roles[k] = role;
      },
    );
  }

  private async readNetwork(
    session: Session,
    account: string,
    region: string,
    vpc: { id: string; routeTables: string[] },
  ): Promise<void> {
    await Promise.all([
      this.guarded([factKey.vpc(vpc.id)], async () => {
        const live = await readVpc(session, vpc.id);
        if (live)
          this.model.vpcs[vpc.id] = { id: vpc.id, account, region, cidrs: live.cidrs, source: "live" };
      }),
      this.guarded(
        vpc.routeTables.map((id) => factKey.routeTable(id)),
        async () => {
          for (const table of await readRouteTables(session, vpc.id, account)) {
            this.model.routeTables[table.id] = table;
          }
        },
      ),
    ]);
  }

  /**
   * Peerings as the cluster account sees them: both sides of a peering see it, so one account's answer
   * covers every client. When the cluster account may not read them, each client account is asked instead.
   */
  private async readPeerings(): Promise<void> {
    const t = this.topology;
    // Clients without a VPC reach the public endpoint: no peering to read for them.
    const peered = t.clients.flatMap((client) => (client.vpc ? [{ client, vpc: client.vpc }] : []));
    if (peered.length === 0) return;
    const add = (facts: Model["peerings"]) => {
      for (const p of facts) if (!this.model.peerings.some((q) => q.id === p.id)) this.model.peerings.push(p);
    };
    let read = false;
    await this.guarded([factKey.peerings(t.cluster.account)], async () => {
      add(await readPeerings(this.cluster, t.cluster.vpc.id));
      read = true;
    });
    if (read) return;
    await Promise.all(
      peered.map(({ client, vpc }) =>
        this.guarded([factKey.peerings(client.account)], async () => {
          add(await readPeerings(this.session(client), vpc.id));
        }),
      ),
    );
  }

  private session(client: Client): Session {
    const s = this.clients.get(client.name);
    if (!s) throw new Error(`no session for client ${client.name}`);
    return s;
  }

  /**
   * One client: its VPC and route tables (a client with a VPC), its role (every kind but sso), and what its
   * kind needs: the permission set's roles (sso), the OIDC provider (oidc), the Pod Identity associations
   * (pod-identity), the instances of its subnet (a declared instance).
   */
  private async readClient(client: Client): Promise<void> {
    const session = this.session(client);
    const instance = client.instance;
    if (client.fromOrganization) return this.readStackSetClient(client, session);
    await Promise.all([
      client.vpc ? this.readNetwork(session, client.account, client.region, client.vpc) : Promise.resolve(),
      client.role
        ? this.readRole(session, client.role.name, client.account, [client.role.arn])
        : Promise.resolve(),
      this.readIdentity(client, session),
      instance
        ? this.guarded([factKey.instances(client.account)], async () => {
            this.model.instances.push(...(await readInstances(session, instance.subnetId, client.account)));
          })
        : Promise.resolve(),
    ]);
  }

  /**
   * A StackSet client (docs/organizations.md): the stack instances of its StackSet, read in its administrator account
   * (the client's credentials act there). Its role is in every member account, which the client's credentials do
   * not reach: the role is recorded unread (iam.client-role and iam.assume-permission say unknown, with how to
   * check one member), and stackset.instances reports every instance.
   */
  private async readStackSetClient(client: Client, session: Session): Promise<void> {
    const from = client.fromOrganization;
    if (!from) return;
    const name = stackNames.clientIdentity(this.topology.cluster.name, client.name);
    await this.guarded([factKey.stackSetInstances(client.name)], async () => {
      const found = await readStackInstances(session, name, from.callAs);
      this.model.stackSetInstances = { ...this.model.stackSetInstances, [client.name]: found ?? [] };
    });
    if (!client.role) return;
    for (const arn of [client.role.arn, client.principal.example.arn]) {
      this.model.unread.push({
        key: factKey.role(arn),
        reason: `the role ${client.role.name} is in every account of the StackSet ${name} (${from.organizationalUnits.join(", ")}), not in the administrator account ${client.account}; stackset.instances reports whether each has it`,
        hint: `to check one member account's role, declare that account as a plain client (account: MEMBER, role: ${client.role.name}) and run xeks doctor with its credentials (--client-profile or --assume-role-name)`,
      });
    }
  }

  /** The facts a client's kind needs beyond its role (see readClient). */
  private async readIdentity(client: Client, session: Session): Promise<void> {
    const id = client.identity;
    switch (id.kind) {
      case "sso":
        return this.readPrincipalRoles(client, session);
      case "oidc":
        return this.guarded([factKey.oidcProvider(id.providerArn)], async () => {
          const provider = await readOidcProvider(session, id.providerArn, client.account);
          if (provider) this.model.oidcProviders[provider.arn] = provider;
        });
      case "pod-identity":
        return this.guarded([factKey.podIdentityAssociations(id.clusterArn)], async () => {
          const found = await readPodIdentityAssociations(session, {
            cluster: id.cluster,
            namespace: id.namespace,
            serviceAccount: id.serviceAccount,
            account: client.account,
            region: client.region,
          });
          for (const a of found) {
            if (!this.model.podIdentityAssociations.some((b) => b.id !== undefined && b.id === a.id)) {
              this.model.podIdentityAssociations.push(a);
            }
          }
        });
      default:
        return;
    }
  }

  /**
   * The roles of a pattern principal (sso): IAM ListRoles under /aws-reserved/sso.amazonaws.com/ in the client
   * account, kept when an `arnPatterns` entry matches (ArnLike), each read like any role. Sets
   * `model.principalRoles[client.name]` (possibly []) once the list is read; a role that cannot be read is
   * unread under its own key and the client's.
   */
  private async readPrincipalRoles(client: Client, session: Session): Promise<void> {
    const patterns = client.principal.arnPatterns ?? [];
    const key = factKey.principalRoles(client.name);
    let arns: { name: string; arn: string }[] = [];
    let listed = false;
    await this.guarded([key], async () => {
      const roles = await listRolesUnderPath(session, SSO_ROLE_PATH);
      arns = roles.filter((r) => patterns.some((p) => arnLike(p, r.arn)));
      listed = true;
    });
    if (!listed) return;
    this.model.principalRoles[client.name] = arns.map((r) => r.arn);
    await Promise.all(
      arns.map((r) =>
        this.guarded([factKey.role(r.arn), key], async () => {
          const role = await readRole(session, r.name, client.account, this.policies);
          if (role) this.model.roles[role.arn] = role;
        }),
      ),
    );
  }
}

/**
 * IAM's ArnLike: the six colon-separated parts of the ARN are compared one by one, case-sensitively, each
 * pattern part with `*` (any characters, `/` included) and `?` (one character). Source: IAM User Guide, "IAM
 * JSON policy elements: Condition operators", ARN condition operators.
 */
export function arnLike(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(":");
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
  };
  const p = split(pattern);
  const a = split(arn);
  if (!p || !a) return false;
  return p.every((part, i) => {
    const re = new RegExp(
      `^${part
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
      "s",
    );
    return re.test(a[i] ?? "");
  });
}
