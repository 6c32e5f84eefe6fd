/**
 * `xeks discover`: a topology file written from live state, ready for `plan` and `doctor`. Read-only, through
 * the same live reader as doctor's model (src/aws/read.ts). The rules (docs/doctor.md "discover"):
 *
 * - cluster: DescribeCluster gives the authentication mode, endpoint access, endpoint, CA, the cluster security
 *   group and the VPC; the VPC's primary CIDR; its route tables are those of the cluster's subnets (the table a
 *   subnet is explicitly associated with, else the VPC's main table).
 * - each `--client-account NAME=ACCOUNT[:ROLE]`: its VPC is the other side of the peering connection between the
 *   cluster VPC and a VPC of ACCOUNT (an active one first); its route tables are those of its subnets, as above.
 *   ROLE, when not given, is the one role of ACCOUNT the access roles trust. The role is written as
 *   `existing: true` with its trust policy, policies, boundary and instance profile (declared facts), and
 *   `assumePolicy` naming its inline policy that allows only sts:AssumeRole on its access roles (./adopt.ts).
 *   The peering is written as `clients[].peering` (adopt: false when the cluster side requested it).
 * - a client of people, `NAME=ACCOUNT:sso:PERMISSIONSET` (or a client whose role, given or trusted, is an IAM
 *   Identity Center role `AWSReservedSSO_NAME_<hex>`, or whose access roles trust that pattern of its account):
 *   the permission set's roles are found in the account by name (./read.ts `readPermissionSetRoles`) and the
 *   client is written as `identity: { kind: sso, permissionSet, policies }`, never as an existing role (IAM
 *   refuses writes to roles under /aws-reserved/). Without a peering it gets `publicCidrs`: the CIDRs the
 *   public endpoint admits (an error when the public endpoint is off).
 * - access roles: the `--role-arn` names, else every role of the cluster account with a STANDARD access entry
 *   whose trust policy lets in at least one client role. Each gets the clients it trusts, the policies and
 *   scopes of its entry, its groups, a custom username, the external id its trust policy asks for, and
 *   `adopt` with its trust policy and inline policies as found.
 * - every access entry of the cluster goes to `cluster.accessEntries`: the access roles' own (adopted with the
 *   role) and the others (declared facts).
 * - routes in the listed tables to part of a peer CIDR (`vpc.routes`): through the peering to the peer CIDR they
 *   are adopted on deploy; through anything else they are conflicts the plan must see.
 * - inbound rules of the cluster security group from a client CIDR (or covering it): `cluster.ingressRules`; the
 *   tcp 443 one from exactly the client CIDR is adopted on deploy.
 * What is adopted and how: docs/adopt.md. The text is validated with the topology loader before it is returned.
 *
 * Files: ./read.ts (the reads), ./network.ts (route tables, peerings, routes, inbound rules), ./adopt.ts (the
 * peering's and the AssumeRole policy's adoption), ./write.ts (the document and its YAML). This module decides the access roles and puts the pieces together.
 */
import { partitionOf } from "../access/names.js";
import {
  listAccessEntries,
  PolicyCache,
  readAccessEntry,
  readCluster,
  readPeerings,
  readRouteTables,
  readSecurityGroupRules,
  readVpc,
} from "../aws/read.js";
import { configuredRegion } from "../aws/region.js";
import { AwsContext, type Session, type SessionOptions, whoAmI } from "../aws/session.js";
import { trustDecision } from "../chain/links/assume.js";
import { findAccessEntryArn } from "../domain/access-entry.js";
import { ssoExampleRole } from "../domain/principal.js";
import { externalIdsOf } from "../domain/trust.js";
import { InputError, OperationError } from "../errors.js";
import { clientSource, clusterSource, openSessions } from "../model/live/load.js";
import type { AccessEntryFact, RoleFact } from "../model/types.js";
import type { Topology } from "../topology/types.js";
import { assumePolicyOf, peeringOf } from "./adopt.js";
import { clientIngressRules, peerRoutes, subnetRouteTables } from "./network.js";
import {
  type ClientRead,
  type DiscoverClient,
  need,
  permissionSetOf,
  readCandidateRoles,
  readClientRole,
  readClientSide,
  readPermissionSetRoles,
} from "./read.js";
import {
  type AccessFound,
  type ClientFound,
  inlinePolicies,
  isDefaultUsername,
  permissionSetPolicies,
  policyRef,
  topologyDocument,
  topologyText,
} from "./write.js";

export { subnetRouteTables } from "./network.js";
export type { DiscoverClient } from "./read.js";

/** What to discover, and with which credentials. */
export interface DiscoverOptions extends SessionOptions {
  clusterName: string;
  /** Default: AWS_REGION / the cluster profile's region. */
  region?: string;
  clients: DiscoverClient[];
  /** Access role names; default: found from the access entries. */
  accessRoles?: string[];
  /** Default: the ambient credentials. */
  clusterProfile?: string;
  /** Client name -> profile for its account. */
  clientProfiles?: Record<string, string>;
  /** The file the text is for (messages, and the comment at its top). Default: xeks.yaml. */
  file?: string;
}

/** What discover found. */
export interface Discovery {
  /** The topology file, validated. */
  text: string;
  topology: Topology;
  /** What the reader should know: choices made, things left out. */
  notes: string[];
  /** AWS calls made. */
  calls: number;
}

/**
 * `NAME=ACCOUNT[:ROLE]` or `NAME=ACCOUNT:sso:PERMISSIONSET` of `--client-account`: a short client name, a
 * 12-digit account id and optionally the client's EC2 role name, or the IAM Identity Center permission set of
 * a client of people (kind sso). Errors: InputError naming `--client-account`.
 */
export function parseClientSpec(spec: string): DiscoverClient {
  const m = /^([a-z][a-z0-9-]{0,30})=(\d{12})(?::sso:([\w+=,.@-]{1,32})|:([\w+=,.@-]{1,64}))?$/.exec(spec);
  if (!m?.[1] || !m[2]) {
    throw new InputError(`bad --client-account "${spec}"`, [
      {
        path: "--client-account",
        message:
          "expected NAME=ACCOUNT[:ROLE] or NAME=ACCOUNT:sso:PERMISSIONSET: a short client name (a-z, 0-9, -), =, a 12-digit account id, and optionally : and the client's EC2 role name, or :sso: and an IAM Identity Center permission set name",
      },
    ]);
  }
  return {
    name: m[1],
    account: m[2],
    ...(m[3] ? { permissionSet: m[3] } : {}),
    ...(m[4] ? { role: m[4] } : {}),
  };
}

/** The roles that act for a client: its role, or the roles of its permission set (kind sso). */
interface ClientCallers {
  /** The client's role (kinds other than sso). */
  role?: RoleFact;
  /** The permission set's roles found in the account (kind sso; may be empty). */
  ssoRoles: RoleFact[];
}

/** Refuse bad client lists before any AWS call: none, a name twice, a profile for an unknown client. */
function checkClients(options: DiscoverOptions): void {
  if (options.clients.length === 0) {
    throw new InputError("discover needs at least one client", [
      {
        path: "--client-account",
        message: "give --client-account NAME=ACCOUNT[:ROLE] for each client account",
      },
    ]);
  }
  const names = new Set<string>();
  for (const c of options.clients) {
    if (names.has(c.name))
      throw new InputError(`client ${c.name} is given twice`, [
        { path: "--client-account", message: "one --client-account per name" },
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
}

/**
 * The access roles for the topology: for each candidate, the clients whose roles it lets in (the decision of the
 * iam.access-role-trust link) and its external id, then its access entry's policies, groups and username.
 * Errors: OperationError when no candidate trusts a client (and none was named) or a role has no policy.
 */
async function accessRoles(
  region: string,
  account: string,
  clusterName: string,
  named: string[],
  candidates: RoleFact[],
  clients: ClientRead[],
  clientRoles: ClientCallers[],
  entryArns: string[],
  entries: Map<string, AccessEntryFact>,
  notes: string[],
): Promise<{ access: AccessFound[]; ownArns: Set<string>; roleArns: Map<string, string> }> {
  const trusts = await Promise.all(
    candidates.map(async (role) => {
      const externalId = externalIdsOf(role.trustPolicy)[0];
      const trusted: string[] = [];
      for (const [i, c] of clients.entries()) {
        const found = clientRoles[i] as ClientCallers;
        // A permission set without a role in the account yet: the role Identity Center would make.
        const callers: { name: string; arn: string }[] = found.role
          ? [found.role]
          : found.ssoRoles.length > 0
            ? found.ssoRoles
            : [ssoExampleRole(partitionOf(region), c.spec.account, c.permissionSet ?? "")];
        for (const caller of callers) {
          const d = await trustDecision({
            partition: partitionOf(region),
            caller: { account: c.spec.account, roleName: caller.name, roleArn: caller.arn },
            target: { arn: role.arn, account, externalId },
            trustPolicy: role.trustPolicy,
          });
          if (d.result === "Allowed") {
            trusted.push(c.spec.name);
            break;
          }
        }
      }
      return { role, trusted, externalId };
    }),
  );
  const selected = trusts.filter((t) => named.length > 0 || t.trusted.length > 0);
  if (selected.length === 0) {
    throw new OperationError(
      `no role of account ${account} with an access entry on ${clusterName} trusts the clients' roles`,
      "name the access role with --role-arn ARN",
    );
  }
  const mine = new Map<string, string>();
  for (const t of selected) {
    const arn = findAccessEntryArn(entryArns, t.role.arn);
    if (arn) mine.set(t.role.name, arn);
    const plainArn = `arn:${partitionOf(region)}:iam::${account}:role/${t.role.name}`;
    if (arn && arn !== plainArn) {
      notes.push(
        `access role ${t.role.name}: its access entry is for ${arn}, not ${plainArn}: deploy cannot adopt that entry`,
      );
    }
  }
  const access = selected.map((t): AccessFound => {
    const arn = mine.get(t.role.name);
    const entry = arn ? entries.get(arn) : undefined;
    if (!entry || entry.policies.length === 0) {
      throw new OperationError(
        `access role ${t.role.name} has ${entry ? "an access entry with no access policy" : "no access entry"} on ${clusterName}: discover cannot tell what access it should grant`,
        `associate its access policy (aws eks associate-access-policy …), or write access[].policies by hand`,
      );
    }
    if (entry.type !== "STANDARD") notes.push(`access role ${t.role.name}: its entry has type ${entry.type}`);
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
      entry.username && !isDefaultUsername(entry.username, t.role.name) ? entry.username : undefined;
    return {
      role: t.role.name,
      clients: clientsOf,
      policies: entry.policies.map(policyRef),
      ...(entry.kubernetesGroups.length > 0 ? { kubernetesGroups: entry.kubernetesGroups } : {}),
      ...(username ? { username } : {}),
      ...(t.externalId ? { externalId: t.externalId } : {}),
      adopt: { trustPolicy: t.role.trustPolicy, policies: inlinePolicies(t.role) },
    };
  });
  const roleArns = new Map(selected.map((t) => [t.role.name, t.role.arn]));
  return { access, ownArns: new Set(mine.values()), roleArns };
}

/**
 * Read live state and write the topology text. Library: prints nothing. Errors: InputError (bad clients, no
 * region, a client account that is the cluster's, credentials of the wrong account), OperationError (a read that
 * failed, live state discover cannot describe).
 */
export async function discover(options: DiscoverOptions): Promise<Discovery> {
  checkClients(options);
  const region = options.region ?? (await configuredRegion(options.clusterProfile ?? options.baseProfile));
  if (!region) {
    throw new InputError("no region for the cluster", [
      { path: "--region", message: "give --region, or set AWS_REGION or a region in the cluster profile" },
    ]);
  }
  // --assume-role-name: each client account is known (--client-account), so each client assumes the role there;
  // the cluster's account is what discover finds out, so the cluster is read with --cluster-profile or the base
  // session itself (src/aws/session.ts: a source of no known account uses the base session).
  const ctx = new AwsContext({
    accountOf: (source) => options.clients.find((c) => `client ${c.name}` === source.label)?.account,
    ...options,
  });
  const notes: string[] = [];
  try {
    // Who the cluster credentials are decides the cluster account; the client credentials must match
    // --client-account.
    const clusterSession = ctx.session(clusterSource(options.clusterProfile), region);
    const profileOf = (name: string) => options.clientProfiles?.[name];
    const clientSessions = new Map(
      options.clients.map((c) => [c.name, ctx.session(clientSource(c.name, profileOf(c.name)), region)]),
    );
    const { account } = await whoAmI(clusterSession);
    await openSessions(
      options.clients.map((c) => ({
        session: clientSessions.get(c.name) as Session,
        account: c.account,
        source: clientSource(c.name, profileOf(c.name)),
      })),
    );
    if (options.clients.some((c) => c.account === account)) {
      throw new InputError("a client account is the cluster account", [
        {
          path: "--client-account",
          message: `the cluster credentials are for account ${account}: clients must be other accounts`,
        },
      ]);
    }

    // The cluster.
    const clusterName = options.clusterName;
    const cluster = await need(`cluster ${clusterName}`, readCluster(clusterSession, clusterName));
    if (!cluster) {
      throw new OperationError(
        `cluster ${clusterName} was not found in account ${account}, region ${region}`,
        "check --cluster-name, --region and the credentials' account",
      );
    }
    const clusterVpcId = cluster.vpcId;
    const sg = cluster.securityGroupIds[0];
    if (!clusterVpcId || !sg) {
      throw new OperationError(`DescribeCluster of ${clusterName} gave no VPC or cluster security group`);
    }
    const cache = new PolicyCache();
    const [clusterVpc, clusterTables, peerings, entryArns, sgRules] = await Promise.all([
      need(`VPC ${clusterVpcId}`, readVpc(clusterSession, clusterVpcId)),
      need(`the route tables of ${clusterVpcId}`, readRouteTables(clusterSession, clusterVpcId, account)),
      need(`the peering connections of ${clusterVpcId}`, readPeerings(clusterSession, clusterVpcId)),
      need(`the access entries of ${clusterName}`, listAccessEntries(clusterSession, clusterName)),
      need(`the rules of security group ${sg}`, readSecurityGroupRules(clusterSession, sg)),
    ]);
    if (!clusterVpc) throw new OperationError(`the cluster VPC ${clusterVpcId} was not found`);
    const clusterCidr = clusterVpc.cidrs[0] as string;
    if (clusterVpc.cidrs.length > 1) {
      notes.push(
        `the cluster VPC also has ${clusterVpc.cidrs.slice(1).join(", ")}: only ${clusterCidr} is routed to clients`,
      );
    }
    const clusterTableIds = subnetRouteTables(clusterTables, cluster.subnetIds);

    // The access role candidates, the clients (people: by their permission set), their roles, the entries.
    const named = options.accessRoles ?? [];
    const candidates = await readCandidateRoles(clusterSession, account, named, entryArns, cache);
    const clients = await Promise.all(
      options.clients.map((c) => {
        const permissionSet = permissionSetOf(c, candidates);
        return readClientSide(
          ctx,
          c,
          profileOf(c.name),
          peerings,
          clusterVpcId,
          notes,
          permissionSet !== undefined ? { permissionSet, region } : undefined,
        );
      }),
    );
    const clientRoles = await Promise.all(
      clients.map(async (c): Promise<ClientCallers> => {
        if (c.permissionSet === undefined)
          return { role: await readClientRole(c, candidates, cache), ssoRoles: [] };
        const ssoRoles = await readPermissionSetRoles(c.session, c.spec.account, c.permissionSet, cache);
        notes.push(
          ssoRoles.length > 0
            ? `client ${c.spec.name}: the people of IAM Identity Center permission set ${c.permissionSet} (role${ssoRoles.length === 1 ? "" : "s"} ${ssoRoles.map((r) => r.name).join(", ")}): written as identity kind sso; xeks writes nothing in account ${c.spec.account}`
            : `client ${c.spec.name}: no role of permission set ${c.permissionSet} in account ${c.spec.account} yet (assign the permission set to the account): written as identity kind sso`,
        );
        return { ssoRoles };
      }),
    );
    const entries = new Map<string, AccessEntryFact>();
    await Promise.all(
      entryArns.map(async (arn) => {
        const e = await need(`access entry ${arn}`, readAccessEntry(clusterSession, clusterName, arn));
        if (e) entries.set(arn, e);
      }),
    );
    const { access, ownArns, roleArns } = await accessRoles(
      region,
      account,
      clusterName,
      named,
      candidates,
      clients,
      clientRoles,
      entryArns,
      entries,
      notes,
    );

    // Routes to a peer CIDR (through the peering: adopted; through anything else: conflicts), the inbound rules
    // from a client CIDR (the 443 one adopted), each client's peering and its role's AssumeRole policy.
    const clientCidrs = clients.flatMap((c) => (c.vpc ? [c.vpc.cidrs[0] as string] : []));
    const clusterRoutes = peerRoutes(clusterTables, clusterTableIds, clientCidrs, notes);
    const clientRoutes = clients.map((c) =>
      c.vpc ? peerRoutes(c.tables, c.tableIds, [clusterCidr], notes) : [],
    );
    const ingressRules = clientIngressRules(sgRules, clientCidrs, notes);
    const clientPeerings = clients.map((c) =>
      c.peering && c.vpc ? peeringOf(c.peering, c.vpc.id, c.spec.name, notes) : undefined,
    );
    const assumePolicies = await Promise.all(
      clients.map((c, i) => {
        const role = clientRoles[i]?.role;
        // A permission set's roles are Identity Center's: xeks adopts nothing on them.
        if (!role) return Promise.resolve(undefined);
        return assumePolicyOf(
          role,
          access.filter((a) => a.clients.includes(c.spec.name)).map((a) => roleArns.get(a.role) as string),
          account,
          partitionOf(region),
          c.spec.name,
          notes,
        );
      }),
    );
    for (const [i, c] of clients.entries()) {
      const role = clientRoles[i]?.role;
      if (role && role.instanceProfiles.length === 0)
        notes.push(`client ${c.spec.name}: role ${role.name} is in no instance profile`);
    }
    // People without a peered VPC reach the public endpoint: their publicCidrs are what it admits today.
    const publicCidrs = cluster.endpointAccess.public ? (cluster.publicAccessCidrs ?? ["0.0.0.0/0"]) : [];
    for (const c of clients) {
      if (c.vpc) continue;
      if (publicCidrs.length === 0) {
        throw new OperationError(
          `client ${c.spec.name} (permission set ${c.permissionSet}) has no VPC peered with the cluster VPC, and the public endpoint of ${clusterName} is off: its people cannot reach the cluster`,
          `turn the public endpoint on for their egress CIDRs (aws eks update-cluster-config --name ${clusterName} --region ${region} --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=CIDR,...), or write the client's publicCidrs by hand`,
        );
      }
      notes.push(
        `client ${c.spec.name}: no peered VPC, so publicCidrs are the CIDRs the public endpoint admits (${publicCidrs.join(", ")}): narrow them to the people's egress CIDRs`,
      );
    }

    const doc = topologyDocument(
      {
        name: clusterName,
        account,
        region,
        description: cluster,
        securityGroupId: sg,
        vpcId: clusterVpcId,
        cidr: clusterCidr,
        routeTables: clusterTableIds,
        routes: clusterRoutes,
        ingressRules,
        entries: [...entries.values()].map((fact) => ({ fact, own: ownArns.has(fact.principalArn) })),
      },
      clients.map((c, i): ClientFound => {
        const found = clientRoles[i] as ClientCallers;
        const peering = clientPeerings[i];
        return {
          name: c.spec.name,
          account: c.spec.account,
          region: c.region,
          ...(c.vpc
            ? {
                network: {
                  vpcId: c.vpc.id,
                  cidr: c.vpc.cidrs[0] as string,
                  routeTables: c.tableIds,
                  routes: clientRoutes[i] ?? [],
                  ...(peering ? { peering } : {}),
                },
              }
            : { publicCidrs }),
          ...(found.role
            ? { role: found.role }
            : {
                permissionSet: {
                  name: c.permissionSet ?? "",
                  policies: found.ssoRoles[0] ? permissionSetPolicies(found.ssoRoles[0]) : [],
                },
              }),
          ...(assumePolicies[i] ? { assumePolicy: assumePolicies[i] } : {}),
        };
      }),
      access,
    );
    const { text, topology } = topologyText(doc, options.file ?? "xeks.yaml");
    return { text, topology, notes, calls: ctx.stats.calls };
  } finally {
    ctx.destroy();
  }
}
