/**
 * discover's output: the topology document built from what was read, and its YAML text, validated by the topology
 * loader before it is returned (docs/doctor.md, "discover").
 */
import { stringify } from "yaml";
import { accessPolicyName, KNOWN_ACCESS_POLICIES } from "../access/names.js";
import type { ClusterDescription } from "../aws/eks.js";
import { parseArn } from "../domain/arn.js";
import { InputError, OperationError } from "../errors.js";
import type { AccessEntryFact, PolicyDocument, RoleFact } from "../model/types.js";
import { parseTopology } from "../topology/load.js";
import type { Topology } from "../topology/types.js";
import type { DeclaredIngressRule, DeclaredRoute } from "./network.js";

/** An access policy of an entry as the topology names it: its short name when it is a known AWS one, else its ARN. */
export type PolicyRef = string | { policy: string; namespaces: string[] };

/** The topology's spelling of one associated access policy (a namespace scope keeps its namespaces). */
export function policyRef(p: AccessEntryFact["policies"][number]): PolicyRef {
  const name = accessPolicyName(p.policyArn);
  const known = name && (KNOWN_ACCESS_POLICIES as readonly string[]).includes(name);
  const policy = known && parseArn(p.policyArn)?.partition === "aws" ? (name as string) : p.policyArn;
  return p.scope.type === "namespace" ? { policy, namespaces: p.scope.namespaces } : policy;
}

/** The cluster as discovered. */
export interface ClusterFound {
  name: string;
  account: string;
  region: string;
  description: ClusterDescription;
  securityGroupId: string;
  vpcId: string;
  cidr: string;
  routeTables: string[];
  /** Routes to a client CIDR (through its peering: adopted; otherwise: declared facts, conflicts). */
  routes: DeclaredRoute[];
  /** Inbound rules of the cluster security group from a client CIDR (or a block covering it). */
  ingressRules: DeclaredIngressRule[];
  /**
   * Every access entry of the cluster (declared facts). `own`: the entry of an access role, adopted with the role;
   * its username is left out when it is EKS's default for the role.
   */
  entries: { fact: AccessEntryFact; own: boolean }[];
}

/**
 * One client as discovered: a peered VPC (`network`) or, for people without one, the `publicCidrs` they reach
 * the public endpoint from; an existing role (`role`, written `role: { existing: true, ... }`) or, for the
 * roles of an IAM Identity Center permission set, `permissionSet` (written `identity: { kind: sso, ... }`).
 */
export interface ClientFound {
  name: string;
  account: string;
  /** The region of its VPC (the peering's side); the cluster's for a client without one. */
  region: string;
  network?: {
    vpcId: string;
    cidr: string;
    routeTables: string[];
    /** Routes to the cluster CIDR (through the peering: adopted; otherwise: declared facts, conflicts). */
    routes: DeclaredRoute[];
    /** The peering connection found; `adopt: false` when it cannot be imported into xeks's client stack. */
    peering?: { id: string; adopt: boolean };
  };
  publicCidrs?: string[];
  role?: RoleFact;
  /** The permission set and its policies (as read from one of its roles: declared facts). */
  permissionSet?: { name: string; policies: { name: string; document: PolicyDocument }[] };
  /** The role's inline policy (bare name) that allows sts:AssumeRole on its access roles, adopted on deploy. */
  assumePolicy?: string;
}

/**
 * The policies of a permission set as one of its roles shows them (inline and managed, named as read), for
 * `identity.policies` (declared facts: the proof checks they allow sts:AssumeRole on the access roles).
 */
export function permissionSetPolicies(role: RoleFact): { name: string; document: PolicyDocument }[] {
  return role.policies.map((p) => ({ name: policyName(p), document: p.document }));
}

/** A client's role as the topology writes it: `existing: true` with the facts found. */
function existingRole(role: RoleFact, assumePolicy: string | undefined) {
  const boundary = role.permissionsBoundary;
  return {
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
    ...(assumePolicy ? { assumePolicy } : {}),
    ...(role.policies.length > 0
      ? { policies: role.policies.map((p) => ({ name: policyName(p), document: p.document })) }
      : {}),
  };
}

/** One access role as the topology asks for it. */
export interface AccessFound {
  role: string;
  clients: string[];
  policies: PolicyRef[];
  kubernetesGroups?: string[];
  username?: string;
  externalId?: string;
  /** The role as found: its trust policy and inline policies (bare names), adopted on deploy. */
  adopt: { trustPolicy: PolicyDocument; policies: { name: string; document: PolicyDocument }[] };
}

/**
 * The name the topology gives a policy of a role: an inline policy by its IAM name (what `assumePolicy` and
 * `adopt.policies` name, and CloudFormation's `PolicyName`), a managed one as "managed NAME" (as read).
 */
export function policyName(p: RoleFact["policies"][number]): string {
  return p.name.startsWith("inline ") ? p.name.slice("inline ".length) : p.name;
}

/** The role's inline policies, by their IAM names (read.ts names them "inline NAME"). */
export function inlinePolicies(role: RoleFact): { name: string; document: PolicyDocument }[] {
  return role.policies
    .filter((p) => p.name.startsWith("inline "))
    .map((p) => ({ name: policyName(p), document: p.document }));
}

/** EKS's default username of a role's entry: the assumed-role ARN with `{{SessionName}}`. */
export function isDefaultUsername(username: string, roleName: string): boolean {
  return username.endsWith(`:assumed-role/${roleName}/{{SessionName}}`);
}

/** The topology document (version 1) for what was found; optional keys are left out when empty. */
export function topologyDocument(cluster: ClusterFound, clients: ClientFound[], access: AccessFound[]) {
  const c = cluster.description;
  const accessEntries = [...cluster.entries]
    .sort((a, b) => a.fact.principalArn.localeCompare(b.fact.principalArn))
    .map(({ fact: e, own }) => ({
      principalArn: e.principalArn,
      type: e.type,
      ...(e.username && !(own && isDefaultUsername(e.username, e.principalArn.split("/").pop() ?? ""))
        ? { username: e.username }
        : {}),
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
  return {
    version: 1,
    cluster: {
      name: cluster.name,
      account: cluster.account,
      region: cluster.region,
      ...(c.authenticationMode ? { authenticationMode: c.authenticationMode } : {}),
      endpointAccess: c.endpointAccess,
      ...(c.endpointAccess.public && c.publicAccessCidrs && c.publicAccessCidrs.length > 0
        ? { publicAccessCidrs: c.publicAccessCidrs }
        : {}),
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(c.certificateAuthority ? { certificateAuthority: c.certificateAuthority } : {}),
      securityGroupId: cluster.securityGroupId,
      vpc: {
        id: cluster.vpcId,
        cidr: cluster.cidr,
        routeTables: cluster.routeTables,
        ...(cluster.routes.length > 0 ? { routes: cluster.routes } : {}),
      },
      ...(cluster.ingressRules.length > 0 ? { ingressRules: cluster.ingressRules } : {}),
      ...(accessEntries.length > 0 ? { accessEntries } : {}),
    },
    clients: clients.map((k) => {
      const net = k.network;
      return {
        name: k.name,
        account: k.account,
        ...(k.region !== cluster.region ? { region: k.region } : {}),
        ...(net
          ? {
              vpc: {
                id: net.vpcId,
                cidr: net.cidr,
                routeTables: net.routeTables,
                ...(net.routes.length > 0 ? { routes: net.routes } : {}),
              },
              ...(net.peering
                ? {
                    peering: net.peering.adopt
                      ? { id: net.peering.id }
                      : { id: net.peering.id, adopt: false },
                  }
                : {}),
            }
          : { publicCidrs: k.publicCidrs ?? [] }),
        ...(k.role
          ? { role: existingRole(k.role, k.assumePolicy) }
          : {
              identity: {
                kind: "sso",
                permissionSet: k.permissionSet?.name ?? "",
                policies: k.permissionSet?.policies ?? [],
              },
            }),
      };
    }),
    access,
  };
}

/**
 * The topology file's text (a comment header naming the source, then YAML 1.1) and the topology it loads as.
 * `file` is the name the header's "xeks doctor FILE" line and the loader's messages use. Errors: OperationError
 * when the text does not validate (a bug in xeks: discover writes only what the schema accepts).
 */
export function topologyText(
  doc: ReturnType<typeof topologyDocument>,
  file: string,
): { text: string; topology: Topology } {
  const { name, account, region } = doc.cluster;
  const header = [
    `# Written by xeks discover from the live state of cluster ${name} (account ${account}, ${region}).`,
    "# Facts about what exists (cluster, VPCs, route tables, routes, rules, the clients' roles, access entries) are",
    "# declared; the peering, the routes through it, the 443 rule, the access roles (adopt) and their entries, and the",
    "# clients' AssumeRole policies exist and are adopted on deploy (docs/adopt.md), never created a second time.",
    `# Check it with: xeks doctor ${file}; see what deploy would do with: xeks plan ${file}`,
    "",
  ].join("\n");
  // YAML 1.1 quoting: date-like and yes/no-like strings ("2012-10-17") stay strings for every YAML reader.
  const text = header + stringify(doc, { lineWidth: 0, version: "1.1" });
  try {
    return { text, topology: parseTopology(text, file) };
  } catch (err) {
    if (err instanceof InputError) {
      throw new OperationError(
        `the discovered topology does not validate: ${err.message}: ${err.issues.map((x) => `${x.path} ${x.message}`).join("; ")}`,
        "report this as a bug in xeks, with the live setup",
      );
    }
    throw err;
  }
}
