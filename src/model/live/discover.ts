/**
 * `xeks discover`: a topology file written from live state, ready for `plan` and `doctor`. Read-only, through
 * the same readers as doctor's model. The rules (docs/doctor.md "discover"):
 *
 * - cluster: DescribeCluster gives the authentication mode, endpoint access, endpoint, CA, the cluster security
 *   group and the VPC; the VPC's primary CIDR; its route tables are those of the cluster's subnets (the table a
 *   subnet is explicitly associated with, else the VPC's main table).
 * - each `--client NAME=ACCOUNT[:ROLE]`: its VPC is the other side of the peering connection between the cluster
 *   VPC and a VPC of ACCOUNT (an active one first); its route tables are those of its subnets, as above. ROLE,
 *   when not given, is the one role of ACCOUNT the access roles trust. The role is written as `existing: true`
 *   with its trust policy, policies, boundary and instance profile (declared facts).
 * - access roles: the `--access-role` names, else every role of the cluster account with a STANDARD access entry
 *   whose trust policy lets in at least one client role. Each gets the clients it trusts, the policies and
 *   scopes of its entry, its groups, a custom username and the external id its trust policy asks for.
 * - every other access entry of the cluster goes to `cluster.accessEntries` (declared facts).
 * - routes in the listed tables that send a peer CIDR elsewhere than the discovered peering are declared
 *   (`vpc.routes`): they are conflicts the plan must see. Routes through the peering are not: xeks manages them.
 * The text is validated with the topology loader before it is returned.
 */
import { STSClient } from "@aws-sdk/client-sts";
import { stringify } from "yaml";
import { accessPolicyName, KNOWN_ACCESS_POLICIES, partitionOf } from "../../access/names.js";
import { trustDecision } from "../../chain/links/assume.js";
import { findAccessEntryArn, isSessionArn } from "../../domain/access-entry.js";
import { parseArn, roleOfArn } from "../../domain/arn.js";
import { cidrOverlaps } from "../../domain/cidr.js";
import { externalIdsOf, trustedAwsPrincipals } from "../../domain/trust.js";
import { InputError, OperationError } from "../../errors.js";
import { parseTopology } from "../../topology/load.js";
import type { Topology } from "../../topology/types.js";
import type { AccessEntryFact, PeeringFact, PolicyDocument, RoleFact, RouteTableFact } from "../types.js";
import { ReadFailure } from "./errors.js";
import { clientSource, clusterSource, openSessions } from "./load.js";
import {
  listAccessEntries,
  PolicyCache,
  readAccessEntry,
  readCluster,
  readPeerings,
  readRole,
  readRouteTables,
  readSubnets,
  readVpc,
} from "./read.js";
import { AwsContext, type Session, type SessionOptions, whoAmI } from "./session.js";

export interface DiscoverClient {
  name: string;
  account: string;
  /** The client's EC2 role name; found from the access roles' trust policies when absent. */
  role?: string;
}

export interface DiscoverOptions extends SessionOptions {
  clusterName: string;
  /** Default: AWS_REGION / the cluster profile's region. */
  region?: string;
  clients: DiscoverClient[];
  /** Access role names; default: found from the access entries. */
  accessRoles?: string[];
  clusterProfile?: string;
  clientProfiles?: Record<string, string>;
  /** The file the text is for (messages, and the comment at its top). */
  file?: string;
}

export interface Discovery {
  /** The topology file, validated. */
  text: string;
  topology: Topology;
  /** What the reader should know: choices made, things left out. */
  notes: string[];
  calls: number;
}

/** `NAME=ACCOUNT[:ROLE]` of `--client`. */
export function parseClientSpec(spec: string): DiscoverClient {
  const m = /^([a-z][a-z0-9-]{0,30})=(\d{12})(?::([\w+=,.@-]{1,64}))?$/.exec(spec);
  if (!m?.[1] || !m[2]) {
    throw new InputError(`bad --client "${spec}"`, [
      {
        path: "--client",
        message:
          "expected NAME=ACCOUNT[:ROLE]: a short client name (a-z, 0-9, -), =, a 12-digit account id, and optionally : and the client's EC2 role name",
      },
    ]);
  }
  return { name: m[1], account: m[2], ...(m[3] ? { role: m[3] } : {}) };
}

async function resolveRegion(profile: string | undefined): Promise<string> {
  const probe = new STSClient(profile ? { profile } : {});
  try {
    return await probe.config.region();
  } catch {
    throw new InputError("no region for the cluster", [
      { path: "--region", message: "give --region, or set AWS_REGION or a region in the cluster profile" },
    ]);
  } finally {
    probe.destroy();
  }
}

/** The route tables of a VPC's subnets: the explicitly associated table, else the main table. */
export function subnetRouteTables(tables: RouteTableFact[], subnets: string[]): string[] {
  const main = tables.find((t) => t.main);
  const out = new Set<string>();
  for (const subnet of subnets) {
    const explicit = tables.find((t) => t.subnets?.includes(subnet));
    const id = explicit?.id ?? main?.id;
    if (id) out.add(id);
  }
  if (out.size === 0 && main) out.add(main.id);
  return [...out];
}

const DECLARABLE_TARGET = /^(local|(pcx|tgw|igw|nat|eni|vgw|vpce|eigw|lgw|cagw)-[0-9a-f]{8,17})$/;

/** Routes in `tables` that take part of a peer CIDR somewhere other than the known peerings. */
function conflictingRoutes(
  tables: RouteTableFact[],
  listed: string[],
  peerCidrs: string[],
  peerings: Set<string>,
  notes: string[],
): { routeTable: string; destination: string; target: string }[] {
  const out: { routeTable: string; destination: string; target: string }[] = [];
  for (const t of tables.filter((x) => listed.includes(x.id))) {
    for (const r of t.routes) {
      if (r.target === "local" || peerings.has(r.target)) continue;
      if (!peerCidrs.some((c) => cidrOverlaps(c, r.destination))) continue;
      if (!DECLARABLE_TARGET.test(r.target)) {
        notes.push(
          `${t.id}: the route ${r.destination} -> ${r.target} overlaps a peer CIDR; its target cannot be declared`,
        );
        continue;
      }
      out.push({ routeTable: t.id, destination: r.destination, target: r.target });
    }
  }
  return out;
}

function orderPeerings(ps: PeeringFact[]): PeeringFact[] {
  const rank: Record<string, number> = {
    active: 0,
    "pending-acceptance": 1,
    provisioning: 2,
    "initiating-request": 3,
  };
  return [...ps].sort((a, b) => (rank[a.status] ?? 9) - (rank[b.status] ?? 9));
}

/** Role ARNs of `account` that a trust policy names under Principal.AWS. */
function trustedRoleArns(trust: PolicyDocument, account: string): string[] {
  return trustedAwsPrincipals(trust).filter(
    (arn) => roleOfArn(arn)?.account === account && !isSessionArn(arn),
  );
}

function policyRef(
  p: AccessEntryFact["policies"][number],
): string | { policy: string; namespaces: string[] } {
  const name = accessPolicyName(p.policyArn);
  const known = name && (KNOWN_ACCESS_POLICIES as readonly string[]).includes(name);
  const policy = known && parseArn(p.policyArn)?.partition === "aws" ? (name as string) : p.policyArn;
  return p.scope.type === "namespace" ? { policy, namespaces: p.scope.namespaces } : policy;
}

function failed(what: string, err: unknown): never {
  if (err instanceof ReadFailure) {
    throw new OperationError(
      `cannot read ${what}: ${err.error.detail}`,
      err.error.kind === "denied"
        ? `allow ${err.error.permission} to the credentials used (see docs/doctor.md for a read-only policy)`
        : err.error.hint,
    );
  }
  throw err;
}

async function need<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    failed(what, err);
  }
}

/** Read live state and write the topology text. Library: prints nothing. */
export async function discover(options: DiscoverOptions): Promise<Discovery> {
  if (options.clients.length === 0) {
    throw new InputError("discover needs at least one client", [
      { path: "--client", message: "give --client NAME=ACCOUNT[:ROLE] for each client account" },
    ]);
  }
  const names = new Set<string>();
  for (const c of options.clients) {
    if (names.has(c.name))
      throw new InputError(`client ${c.name} is given twice`, [
        { path: "--client", message: "one --client per name" },
      ]);
    names.add(c.name);
  }
  const unknownProfiles = Object.keys(options.clientProfiles ?? {}).filter((n) => !names.has(n));
  if (unknownProfiles.length > 0) {
    throw new InputError(`--client-profile names unknown clients: ${unknownProfiles.join(", ")}`, [
      {
        path: "--client-profile",
        message: `expected NAME=PROFILE with NAME one of ${[...names].join(", ")}`,
      },
    ]);
  }
  const region = options.region ?? (await resolveRegion(options.clusterProfile));
  const ctx = new AwsContext(options);
  const notes: string[] = [];
  try {
    // Who the cluster credentials are decides the cluster account; the client credentials must match --client.
    const clusterSession = ctx.session(clusterSource(options.clusterProfile), region);
    const clientSessions = new Map(
      options.clients.map((c) => [
        c.name,
        ctx.session(clientSource(c.name, options.clientProfiles?.[c.name]), region),
      ]),
    );
    const { account } = await whoAmI(clusterSession);
    await openSessions(
      options.clients.map((c) => ({
        session: clientSessions.get(c.name) as Session,
        account: c.account,
        source: clientSource(c.name, options.clientProfiles?.[c.name]),
      })),
    );
    if (options.clients.some((c) => c.account === account)) {
      throw new InputError("a client account is the cluster account", [
        {
          path: "--client",
          message: `the cluster credentials are for account ${account}: clients must be other accounts`,
        },
      ]);
    }

    // The cluster.
    const cluster = await need(
      `cluster ${options.clusterName}`,
      readCluster(clusterSession, options.clusterName),
    );
    if (!cluster) {
      throw new OperationError(
        `cluster ${options.clusterName} was not found in account ${account}, region ${region}`,
        "check --cluster-name, --region and the credentials' account",
      );
    }
    const clusterVpcId = cluster.vpcId;
    const sg = cluster.securityGroupIds[0];
    if (!clusterVpcId || !sg) {
      throw new OperationError(
        `DescribeCluster of ${options.clusterName} gave no VPC or cluster security group`,
      );
    }
    const cache = new PolicyCache();
    const [clusterVpc, clusterTables, peerings, entryArns] = await Promise.all([
      need(`VPC ${clusterVpcId}`, readVpc(clusterSession, clusterVpcId)),
      need(`the route tables of ${clusterVpcId}`, readRouteTables(clusterSession, clusterVpcId, account)),
      need(`the peering connections of ${clusterVpcId}`, readPeerings(clusterSession, clusterVpcId)),
      need(
        `the access entries of ${options.clusterName}`,
        listAccessEntries(clusterSession, options.clusterName),
      ),
    ]);
    if (!clusterVpc) throw new OperationError(`the cluster VPC ${clusterVpcId} was not found`);
    const clusterCidr = clusterVpc.cidrs[0] as string;
    if (clusterVpc.cidrs.length > 1) {
      notes.push(
        `the cluster VPC also has ${clusterVpc.cidrs.slice(1).join(", ")}: only ${clusterCidr} is routed to clients`,
      );
    }
    const clusterTableIds = subnetRouteTables(clusterTables, cluster.subnetIds);

    // The clients: VPC from the peering, route tables of its subnets, its role.
    const clients = await Promise.all(
      options.clients.map(async (c) => {
        const candidates = orderPeerings(
          peerings.filter((p) => {
            const other = p.requester.vpcId === clusterVpcId ? p.accepter : p.requester;
            return other.account === c.account && other.vpcId !== clusterVpcId;
          }),
        ).filter((p) => !["deleted", "deleting", "rejected", "failed", "expired"].includes(p.status));
        const best = candidates[0];
        if (!best) {
          throw new OperationError(
            `no peering connection joins the cluster VPC ${clusterVpcId} with a VPC of account ${c.account} (client ${c.name})`,
            "create and accept the peering first, or write the client's vpc in the topology by hand",
          );
        }
        const side = best.requester.vpcId === clusterVpcId ? best.accepter : best.requester;
        const others = candidates.filter((p) => {
          const o = p.requester.vpcId === clusterVpcId ? p.accepter : p.requester;
          return o.vpcId !== side.vpcId && p.status === best.status;
        });
        if (others.length > 0) {
          throw new OperationError(
            `account ${c.account} has several VPCs peered with the cluster VPC (${[best, ...others].map((p) => p.id).join(", ")}): discover cannot tell which is client ${c.name}'s`,
            "write the client's vpc in the topology by hand",
          );
        }
        if (best.status !== "active") notes.push(`client ${c.name}: peering ${best.id} is ${best.status}`);
        const session = ctx.session(clientSource(c.name, options.clientProfiles?.[c.name]), side.region);
        const [vpc, subnets, tables] = await Promise.all([
          need(`VPC ${side.vpcId} of client ${c.name}`, readVpc(session, side.vpcId)),
          need(`the subnets of ${side.vpcId}`, readSubnets(session, side.vpcId)),
          need(`the route tables of ${side.vpcId}`, readRouteTables(session, side.vpcId, c.account)),
        ]);
        if (!vpc)
          throw new OperationError(
            `VPC ${side.vpcId} of client ${c.name} was not found in account ${c.account}`,
          );
        return {
          spec: c,
          session,
          region: side.region,
          peering: best,
          vpc,
          tables,
          tableIds: subnetRouteTables(tables, subnets),
        };
      }),
    );

    // Candidate access roles: named, or roles of the cluster account with an access entry.
    const roleOf = (arn: string) => (isSessionArn(arn) ? undefined : roleOfArn(arn)?.name);
    const named = options.accessRoles ?? [];
    const candidateNames =
      named.length > 0
        ? named
        : [
            ...new Set(
              entryArns.filter((a) => a.includes(`:iam::${account}:role/`)).map((a) => roleOf(a) ?? ""),
            ),
          ].filter(Boolean);
    const candidateRoles = (
      await Promise.all(
        candidateNames.map(async (name) => {
          const role = await need(`access role ${name}`, readRole(clusterSession, name, account, cache));
          if (!role && named.includes(name)) {
            throw new OperationError(`access role ${name} was not found in account ${account}`);
          }
          return role;
        }),
      )
    ).filter((r): r is RoleFact => r !== undefined);

    // Client roles: named, or the one role of the client account the candidates trust.
    const clientRoles = await Promise.all(
      clients.map(async (c) => {
        let name = c.spec.role;
        if (!name) {
          const arns = [
            ...new Set(candidateRoles.flatMap((r) => trustedRoleArns(r.trustPolicy, c.spec.account))),
          ];
          if (arns.length !== 1) {
            throw new OperationError(
              arns.length === 0
                ? `no access role trusts a role of account ${c.spec.account}: discover cannot tell client ${c.spec.name}'s role`
                : `access roles trust several roles of account ${c.spec.account} (${arns.join(", ")})`,
              `name it: --client ${c.spec.name}=${c.spec.account}:ROLE`,
            );
          }
          name = roleOf(arns[0] as string) as string;
        }
        const role = await need(
          `role ${name} of client ${c.spec.name}`,
          readRole(c.session, name, c.spec.account, cache),
        );
        if (!role)
          throw new OperationError(
            `role ${name} of client ${c.spec.name} was not found in account ${c.spec.account}`,
          );
        return role;
      }),
    );

    // Which clients each candidate trusts (the same decision the proof makes), with its external id.
    const trusts = await Promise.all(
      candidateRoles.map(async (role) => {
        const externalId = externalIdsOf(role.trustPolicy)[0];
        const trusted: string[] = [];
        for (const [i, c] of clients.entries()) {
          const clientRole = clientRoles[i] as RoleFact;
          // The same decision as the iam.access-role-trust link.
          const d = await trustDecision({
            partition: partitionOf(region),
            caller: { account: c.spec.account, roleName: clientRole.name, roleArn: clientRole.arn },
            target: { arn: role.arn, account, externalId },
            trustPolicy: role.trustPolicy,
          });
          if (d.result === "Allowed") trusted.push(c.spec.name);
        }
        return { role, trusted, externalId };
      }),
    );
    const selected = trusts.filter((t) => named.length > 0 || t.trusted.length > 0);
    if (selected.length === 0) {
      throw new OperationError(
        `no role of account ${account} with an access entry on ${options.clusterName} trusts the clients' roles`,
        "name the access role with --access-role NAME",
      );
    }

    // Entries: the selected roles' own (their policies), and every other one (declared facts).
    const mine = new Map<string, string>();
    for (const t of selected) {
      const arn = findAccessEntryArn(entryArns, t.role.arn);
      if (arn) mine.set(t.role.name, arn);
    }
    const ownArns = new Set(mine.values());
    const entries = new Map<string, AccessEntryFact>();
    await Promise.all(
      entryArns.map(async (arn) => {
        const e = await need(
          `access entry ${arn}`,
          readAccessEntry(clusterSession, options.clusterName, arn),
        );
        if (e) entries.set(arn, e);
      }),
    );
    const access = selected.map((t) => {
      const arn = mine.get(t.role.name);
      const entry = arn ? entries.get(arn) : undefined;
      if (!entry || entry.policies.length === 0) {
        throw new OperationError(
          `access role ${t.role.name} has ${entry ? "an access entry with no access policy" : "no access entry"} on ${options.clusterName}: discover cannot tell what access it should grant`,
          `associate its access policy (aws eks associate-access-policy …), or write access[].policies by hand`,
        );
      }
      if (entry.type !== "STANDARD")
        notes.push(`access role ${t.role.name}: its entry has type ${entry.type}`);
      let clientsOf = t.trusted;
      if (clientsOf.length === 0) {
        clientsOf = clients.map((c) => c.spec.name);
        notes.push(
          `access role ${t.role.name} trusts none of the clients' roles: listed for all clients (doctor will say so)`,
        );
      }
      if (t.role.path !== "/")
        notes.push(`access role ${t.role.name} has the path ${t.role.path}: the topology names it without`);
      const username =
        entry.username && !entry.username.endsWith(`:assumed-role/${t.role.name}/{{SessionName}}`)
          ? entry.username
          : undefined;
      return {
        role: t.role.name,
        clients: clientsOf,
        policies: entry.policies.map(policyRef),
        ...(entry.kubernetesGroups.length > 0 ? { kubernetesGroups: entry.kubernetesGroups } : {}),
        ...(username ? { username } : {}),
        ...(t.externalId ? { externalId: t.externalId } : {}),
      };
    });
    const otherEntries = [...entries.values()]
      .filter((e) => !ownArns.has(e.principalArn))
      .sort((a, b) => a.principalArn.localeCompare(b.principalArn))
      .map((e) => ({
        principalArn: e.principalArn,
        type: e.type,
        ...(e.username ? { username: e.username } : {}),
        ...(e.kubernetesGroups.length > 0 ? { kubernetesGroups: e.kubernetesGroups } : {}),
        ...(e.policies.length > 0
          ? {
              policies: e.policies.map((p) => {
                const r = policyRef(p);
                return typeof r === "string" ? { policy: r } : r;
              }),
            }
          : {}),
      }));

    // Conflicting routes: to a peer CIDR, not through a discovered peering.
    const peeringIds = new Set(clients.map((c) => c.peering.id));
    const clientCidrs = clients.map((c) => c.vpc.cidrs[0] as string);
    const clusterRoutes = conflictingRoutes(clusterTables, clusterTableIds, clientCidrs, peeringIds, notes);

    const doc = {
      version: 1,
      cluster: {
        name: options.clusterName,
        account,
        region,
        ...(cluster.authenticationMode ? { authenticationMode: cluster.authenticationMode } : {}),
        endpointAccess: cluster.endpointAccess,
        ...(cluster.endpoint ? { endpoint: cluster.endpoint } : {}),
        ...(cluster.certificateAuthority ? { certificateAuthority: cluster.certificateAuthority } : {}),
        securityGroupId: sg,
        vpc: {
          id: clusterVpcId,
          cidr: clusterCidr,
          routeTables: clusterTableIds,
          ...(clusterRoutes.length > 0 ? { routes: clusterRoutes } : {}),
        },
        ...(otherEntries.length > 0 ? { accessEntries: otherEntries } : {}),
      },
      clients: clients.map((c, i) => {
        const role = clientRoles[i] as RoleFact;
        const routes = conflictingRoutes(c.tables, c.tableIds, [clusterCidr], peeringIds, notes);
        const boundary = role.permissionsBoundary;
        return {
          name: c.spec.name,
          account: c.spec.account,
          ...(c.region !== region ? { region: c.region } : {}),
          vpc: {
            id: c.vpc.id,
            cidr: c.vpc.cidrs[0],
            routeTables: c.tableIds,
            ...(routes.length > 0 ? { routes } : {}),
          },
          role: {
            name: role.name,
            existing: true,
            ...(role.path !== "/" ? { path: role.path } : {}),
            ...(role.instanceProfiles[0] && role.instanceProfiles[0] !== role.name
              ? { instanceProfile: role.instanceProfiles[0] }
              : {}),
            trustPolicy: role.trustPolicy,
            ...(boundary
              ? {
                  permissionsBoundary: {
                    ...(boundary.name.startsWith("arn:") ? { arn: boundary.name } : {}),
                    document: boundary.document,
                  },
                }
              : {}),
            ...(role.policies.length > 0
              ? { policies: role.policies.map((p) => ({ name: p.name, document: p.document })) }
              : {}),
          },
        };
      }),
      access,
    };
    for (const [i, c] of clients.entries()) {
      if ((clientRoles[i] as RoleFact).instanceProfiles.length === 0)
        notes.push(
          `client ${c.spec.name}: role ${(clientRoles[i] as RoleFact).name} is in no instance profile`,
        );
    }
    const file = options.file ?? "xeks.yaml";
    const header = [
      `# Written by xeks discover from the live state of cluster ${options.clusterName} (account ${account}, ${region}).`,
      "# Facts about what exists (cluster, VPCs, route tables, the clients' roles, other access entries) are declared;",
      "# the access roles and their policies are what the topology asks for. Check it with: xeks doctor " +
        file,
      "",
    ].join("\n");
    // YAML 1.1 quoting: date-like and yes/no-like strings ("2012-10-17") stay strings for every YAML reader.
    const text = header + stringify(doc, { lineWidth: 0, version: "1.1" });
    let topology: Topology;
    try {
      topology = parseTopology(text, file);
    } catch (err) {
      if (err instanceof InputError) {
        throw new OperationError(
          `the discovered topology does not validate: ${err.message}: ${err.issues.map((x) => `${x.path} ${x.message}`).join("; ")}`,
          "report this as a bug in xeks, with the live setup",
        );
      }
      throw err;
    }
    return { text, topology, notes, calls: ctx.stats.calls };
  } finally {
    ctx.destroy();
  }
}
