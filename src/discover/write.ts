/**
 * discover's output: the topology document built from what was read, and its YAML text, validated by the topology
 * loader before it is returned (docs/doctor.md, "discover").
 */
import { stringify } from "yaml";
import { accessPolicyName, KNOWN_ACCESS_POLICIES } from "../access/names.js";
import type { ClusterDescription } from "../aws/eks.js";
import { parseArn } from "../domain/arn.js";
import { InputError, OperationError } from "../errors.js";
import type { AccessEntryFact, RoleFact } from "../model/types.js";
import { parseTopology } from "../topology/load.js";
import type { Topology } from "../topology/types.js";
import type { DeclaredRoute } from "./network.js";

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
  routes: DeclaredRoute[];
  /** Access entries of principals other than the access roles (declared facts). */
  otherEntries: AccessEntryFact[];
}

/** One client as discovered. */
export interface ClientFound {
  name: string;
  account: string;
  /** The region of its VPC (the peering's side). */
  region: string;
  vpcId: string;
  cidr: string;
  routeTables: string[];
  routes: DeclaredRoute[];
  role: RoleFact;
}

/** One access role as the topology asks for it. */
export interface AccessFound {
  role: string;
  clients: string[];
  policies: PolicyRef[];
  kubernetesGroups?: string[];
  username?: string;
  externalId?: string;
}

/** The topology document (version 1) for what was found; optional keys are left out when empty. */
export function topologyDocument(cluster: ClusterFound, clients: ClientFound[], access: AccessFound[]) {
  const c = cluster.description;
  const otherEntries = [...cluster.otherEntries]
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
  return {
    version: 1,
    cluster: {
      name: cluster.name,
      account: cluster.account,
      region: cluster.region,
      ...(c.authenticationMode ? { authenticationMode: c.authenticationMode } : {}),
      endpointAccess: c.endpointAccess,
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(c.certificateAuthority ? { certificateAuthority: c.certificateAuthority } : {}),
      securityGroupId: cluster.securityGroupId,
      vpc: {
        id: cluster.vpcId,
        cidr: cluster.cidr,
        routeTables: cluster.routeTables,
        ...(cluster.routes.length > 0 ? { routes: cluster.routes } : {}),
      },
      ...(otherEntries.length > 0 ? { accessEntries: otherEntries } : {}),
    },
    clients: clients.map((k) => {
      const role = k.role;
      const boundary = role.permissionsBoundary;
      return {
        name: k.name,
        account: k.account,
        ...(k.region !== cluster.region ? { region: k.region } : {}),
        vpc: {
          id: k.vpcId,
          cidr: k.cidr,
          routeTables: k.routeTables,
          ...(k.routes.length > 0 ? { routes: k.routes } : {}),
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
    "# Facts about what exists (cluster, VPCs, route tables, the clients' roles, other access entries) are declared;",
    `# the access roles and their policies are what the topology asks for. Check it with: xeks doctor ${file}`,
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
