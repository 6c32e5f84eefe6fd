/**
 * From parsed YAML to a normalized Topology: schema check (shape, defaults) and the cross-field rules the
 * schema cannot express. Every problem is reported with its field path; nothing here throws anything but
 * InputError.
 */
import type { z } from "zod";
import {
  accessPolicyArn,
  accessPolicyName,
  CLUSTER_ONLY_POLICIES,
  KNOWN_ACCESS_POLICIES,
  partitionOf,
} from "../access/names.js";
import { eksClusterArn, parseArn, roleArn } from "../domain/arn.js";
import { cidrOverlaps } from "../domain/cidr.js";
import {
  defaultRolePatterns,
  globMatch,
  ORGANIZATION_KINDS,
  pathRoots,
  patternName,
  underPaths,
} from "../domain/organization.js";
import {
  defaultClientRoleName,
  isReservedRole,
  isReservedRoleName,
  oidcProviderArn,
  permissionSetOfRoleName,
  ssoExampleRole,
  ssoRoleArnPatterns,
  subjectProblem,
} from "../domain/principal.js";
import { memberRoleArn } from "../domain/stackset.js";
import { nearest } from "../domain/suggest.js";
import type { InputIssue } from "../errors.js";
import { nameIssues } from "../layout/name-checks.js";
import {
  fromOrganizationIssues,
  memberIdentity,
  memberPrincipal,
  normalizeFromOrganization,
} from "./from-organization.js";
import { type ParsedTopology, topologySchema } from "./schema.js";
import type {
  AccessPolicyRef,
  AccessRole,
  Client,
  ClientIdentity,
  ClientPrincipal,
  ClientRole,
  NamedPolicy,
  PolicyDocument,
  Topology,
  Vpc,
} from "./types.js";

/** `["clients", 0, "vpc"]` -> `clients[0].vpc` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

type ZodIssue = z.core.$ZodIssue;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** A zod schema as far as knownKeysAt reads it (zod 4's `_zod.def`). */
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      innerType?: SchemaNode;
      in?: SchemaNode;
      options?: SchemaNode[];
      left?: SchemaNode;
      right?: SchemaNode;
      getter?: () => SchemaNode;
    };
  };
}

/**
 * The keys the topology schema allows in the mapping at `path` (every branch of a union counted), for "did
 * you mean": the nearest known key to an unknown one. Empty when the path leads nowhere known.
 */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const objects = (node: SchemaNode | undefined, depth = 0): SchemaNode[] => {
    if (!node || depth > 20) return [];
    const def = node._zod.def;
    switch (def.type) {
      case "object":
        return [node];
      case "union":
        return (def.options ?? []).flatMap((o) => objects(o, depth + 1));
      case "intersection":
        return [...objects(def.left, depth + 1), ...objects(def.right, depth + 1)];
      case "pipe":
        return objects(def.in, depth + 1);
      case "lazy":
        return objects(def.getter?.(), depth + 1);
      default:
        return def.innerType ? objects(def.innerType, depth + 1) : [];
    }
  };
  const element = (node: SchemaNode | undefined, depth = 0): SchemaNode | undefined => {
    if (!node || depth > 20) return undefined;
    const def = node._zod.def;
    return def.type === "array" ? def.element : element(def.innerType ?? def.in, depth + 1);
  };
  let nodes: SchemaNode[] = [topologySchema as unknown as SchemaNode];
  for (const part of path) {
    nodes = nodes.flatMap((node): SchemaNode[] => {
      if (typeof part === "number") {
        const item = element(node);
        return item ? [item] : [];
      }
      return objects(node).flatMap((o) => {
        const child = o._zod.def.shape?.[String(part)];
        return child ? [child] : [];
      });
    });
  }
  return [...new Set(nodes.flatMap((n) => objects(n)).flatMap((o) => Object.keys(o._zod.def.shape ?? {})))];
}

/** Turn zod issues into InputIssues with readable messages. Unions report the branch matching the input's type. */
export function describeIssues(
  issues: readonly ZodIssue[],
  input: unknown,
  prefix: PropertyKey[] = [],
): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const value = valueAt(input, path);
      // Prefer the branch whose first issue is not a type mismatch at the union's own level.
      const branch =
        issue.errors.find((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0)) ??
        issue.errors[0] ??
        [];
      if (branch.length === 0 || (value === undefined && path.length > 0)) {
        out.push({
          path: formatPath(path),
          message: value === undefined ? "required field is missing" : issue.message,
        });
      } else {
        out.push(...describeIssues(branch, input, path));
      }
      continue;
    }
    if (issue.code === "unrecognized_keys") {
      const present = valueAt(input, path);
      const known = knownKeysAt(path).filter(
        (k) => !(present && typeof present === "object" && k in (present as object)),
      );
      for (const key of issue.keys) {
        const near = nearest(key, known);
        out.push({
          path: formatPath([...path, key]),
          message: near
            ? `unknown key (did you mean "${near}"?)`
            : "unknown key (check its spelling and its place)",
        });
      }
      continue;
    }
    const value = valueAt(input, path);
    let message = issue.message;
    if (issue.code === "invalid_type" && value === undefined) {
      message = `required field is missing (expected ${issue.expected})`;
    } else if (issue.code === "invalid_value" && value === undefined) {
      message = `required field is missing (${message})`;
    } else if (issue.code === "invalid_type" && message.startsWith("Invalid input")) {
      message = `expected ${issue.expected}, got ${typeName(value)}`;
    } else if (issue.code === "invalid_value" && message.startsWith("Invalid option")) {
      message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${typeName(value)}`;
    } else if (value !== undefined && typeof value !== "object" && !message.includes("got ")) {
      message = `${message}; got ${JSON.stringify(value)}`;
    }
    out.push({ path: formatPath(path), message });
  }
  return out;
}

/**
 * One issue per repeated item of a list, at the path of the repeat: `what(item, firstPath)` says what is
 * repeated and what would be valid. `key` decides what counts as the same item.
 */
function repeats<T>(
  items: readonly T[],
  key: (item: T) => string,
  at: (index: number) => string,
  what: (item: T, firstPath: string) => string,
): InputIssue[] {
  const first = new Map<string, number>();
  const out: InputIssue[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const f = first.get(k);
    if (f === undefined) first.set(k, i);
    else out.push({ path: at(i), message: what(item, at(f)) });
  });
  return out;
}

const same = (x: string) => x;

/** Repeats in the id and name lists of a VPC: route tables, declared routes. */
function vpcRepeats(vpc: ParsedTopology["cluster"]["vpc"], at: string): InputIssue[] {
  return [
    ...repeats(
      vpc.routeTables,
      same,
      (j) => `${at}.routeTables[${j}]`,
      (id, f) => `route table ${id} is listed twice (first at ${f}); list each route table once`,
    ),
    ...repeats(
      vpc.routes,
      (r) => `${r.routeTable} ${r.destination}`,
      (j) => `${at}.routes[${j}]`,
      (r, f) =>
        `${f} already declares the route of ${r.routeTable} to ${r.destination}; a route table holds one route per destination, keep one`,
    ),
  ];
}

/** Repeated names in a list of declared policies (SCPs, RCPs, a role's policies). */
function policyNameRepeats(policies: readonly { name: string }[], at: string): InputIssue[] {
  return repeats(
    policies,
    (p) => p.name,
    (j) => `${at}[${j}].name`,
    (p, f) => `the policy name "${p.name}" is listed twice (first at ${f}); give each policy its own name`,
  );
}

/** Repeated namespaces in one scope. */
function namespaceRepeats(namespaces: readonly string[] | undefined, at: string): InputIssue[] {
  return repeats(
    namespaces ?? [],
    same,
    (k) => `${at}.namespaces[${k}]`,
    (ns, f) => `namespace "${ns}" is listed twice (first at ${f}); list each namespace once`,
  );
}

/** Repeated Kubernetes groups of one access entry. */
function groupRepeats(groups: readonly string[], at: string): InputIssue[] {
  return repeats(
    groups,
    same,
    (k) => `${at}.kubernetesGroups[${k}]`,
    (g, f) => `Kubernetes group "${g}" is listed twice (first at ${f}); list each group once`,
  );
}

function normalizeVpc(vpc: ParsedTopology["cluster"]["vpc"]): Vpc {
  return { id: vpc.id, cidr: vpc.cidr, routeTables: [...vpc.routeTables], routes: [...vpc.routes] };
}

/**
 * Check a parsed document and return the normalized topology, or the list of problems found.
 * `raw` is the document as parsed from YAML, used to show offending values. Besides the schema: repeats in every
 * list of ids or names (at the path of the second occurrence), names IAM compares ignoring case, partitions,
 * and the names xeks derives from the file (stack names, the peering accepter role: `src/layout/name-checks.ts`), so
 * that a valid topology never fails inside CDK (docs/security.md, "Input that never reaches CDK").
 */
export function validateTopology(
  raw: unknown,
): { topology: Topology; issues: [] } | { issues: InputIssue[] } {
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) return { issues: describeIssues(parsed.error.issues, raw) };
  const t = parsed.data;
  const issues: InputIssue[] = [];
  const partition = partitionOf(t.cluster.region);

  issues.push(...vpcRepeats(t.cluster.vpc, "cluster.vpc"));
  issues.push(...policyNameRepeats(t.cluster.scps, "cluster.scps"));
  issues.push(...policyNameRepeats(t.cluster.rcps, "cluster.rcps"));
  issues.push(
    ...repeats(
      t.cluster.accessEntries,
      (e) => e.principalArn,
      (j) => `cluster.accessEntries[${j}].principalArn`,
      (e, f) =>
        `${f} already declares the access entry of ${e.principalArn}; a cluster holds one access entry per principal, merge them`,
    ),
  );
  t.cluster.accessEntries.forEach((e, j) => {
    const at = `cluster.accessEntries[${j}]`;
    issues.push(...groupRepeats(e.kubernetesGroups, at));
    issues.push(
      ...repeats(
        e.policies,
        (p) => accessPolicyName(p.policy) ?? p.policy,
        (k) => `${at}.policies[${k}].policy`,
        (p, f) =>
          `policy ${accessPolicyName(p.policy) ?? p.policy} is listed twice (first at ${f}); an access entry holds each policy once`,
      ),
    );
    e.policies.forEach((p, k) => {
      issues.push(...namespaceRepeats(p.namespaces, `${at}.policies[${k}]`));
    });
  });

  issues.push(
    ...repeats(
      t.cluster.ingressRules,
      (r) => r.id,
      (j) => `cluster.ingressRules[${j}].id`,
      (r, f) => `${f} already declares the security group rule ${r.id}; list each rule once`,
    ),
  );
  const peeringIds = new Map<string, number>();
  const clientIndex = new Map<string, number>();
  const roleKeys = new Map<string, number>();
  const profileKeys = new Map<string, number>();
  const vpcKeys = new Map<string, number>();
  const roleSpecs = t.clients.map((c, i) => clientRoleSpec(c, i, t.cluster.name));
  t.clients.forEach((c, i) => {
    issues.push(...clientShapeIssues(c, i));
    issues.push(...fromOrganizationIssues(t, c, i));
    if (c.vpc) issues.push(...vpcRepeats(c.vpc, `clients[${i}].vpc`));
    issues.push(...policyNameRepeats(c.scps, `clients[${i}].scps`));
    const spec = roleSpecs[i];
    if (spec?.at.object) {
      issues.push(...policyNameRepeats(spec.policies, `${spec.at.object}.policies`));
      issues.push(...assumePolicyIssues(spec, spec.at.object));
    }
    if (c.identity?.kind === "sso") {
      issues.push(...policyNameRepeats(c.identity.policies, `clients[${i}].identity.policies`));
      // One client per permission set and account: their roles are the same principal.
      const key = `${c.account}/${c.identity.permissionSet.toLowerCase()}`;
      const firstSso = roleKeys.get(`sso:${key}`);
      if (firstSso !== undefined) {
        issues.push({
          path: `clients[${i}].identity.permissionSet`,
          message: `permission set ${c.identity.permissionSet} in account ${c.account} is already the client clients[${firstSso}]: its roles are one principal; name that client in more access roles instead`,
        });
      } else roleKeys.set(`sso:${key}`, i);
    }
    if (c.peering) {
      const firstPeering = peeringIds.get(c.peering.id);
      if (firstPeering !== undefined) {
        issues.push({
          path: `clients[${i}].peering.id`,
          message: `peering connection ${c.peering.id} is already the peering of clients[${firstPeering}]; one peering connection joins one client VPC to the cluster VPC`,
        });
      } else peeringIds.set(c.peering.id, i);
    }
    const clientRegion = c.region ?? t.cluster.region;
    if (partitionOf(clientRegion) !== partition) {
      issues.push({
        path: `clients[${i}].region`,
        message: `region ${clientRegion} is in partition ${partitionOf(clientRegion)}, the cluster's region ${t.cluster.region} in ${partition}; peering and IAM trust do not cross partitions`,
      });
    }
    const first = clientIndex.get(c.name);
    if (first !== undefined) {
      issues.push({
        path: `clients[${i}].name`,
        message: `duplicate client name "${c.name}" (also clients[${first}].name); give each client its own name`,
      });
    } else clientIndex.set(c.name, i);
    if (c.account === t.cluster.account && !c.fromOrganization) {
      issues.push({
        path: `clients[${i}].account`,
        message: `the client account must differ from the cluster account ${t.cluster.account}: xeks builds cross-account access`,
      });
    }
    if (spec) {
      // IAM role and instance profile names are unique per account, ignoring case (IAM CreateRole:
      // "Role names are not distinguished by case").
      const roleKey = `${spec.account}/${spec.name.toLowerCase()}`;
      const firstRole = roleKeys.get(roleKey);
      if (firstRole !== undefined) {
        issues.push({
          path: spec.at.name,
          message: `role ${spec.name} in account ${spec.account} is already the role of clients[${firstRole}] (IAM role names ignore case); give each client its own role`,
        });
      } else roleKeys.set(roleKey, i);
      const profile = spec.instanceProfile;
      if (profile !== undefined) {
        const profileKey = `${c.account}/${profile.toLowerCase()}`;
        const firstProfile = profileKeys.get(profileKey);
        if (firstProfile !== undefined && firstRole === undefined) {
          issues.push({
            path: spec.at.instanceProfile,
            message: `instance profile ${profile} in account ${c.account} is already the profile of clients[${firstProfile}] (an instance profile holds one role; names ignore case); name another profile`,
          });
        } else if (firstProfile === undefined) profileKeys.set(profileKey, i);
      }
    }
    if (c.vpc) {
      const vpcKey = `${c.account}/${c.vpc.id}`;
      const firstVpc = vpcKeys.get(vpcKey);
      if (firstVpc !== undefined) {
        issues.push({
          path: `clients[${i}].vpc.id`,
          message: `VPC ${c.vpc.id} is already the VPC of clients[${firstVpc}]; one peering connection joins one client VPC`,
        });
      } else vpcKeys.set(vpcKey, i);
      if (c.vpc.id === t.cluster.vpc.id) {
        issues.push({
          path: `clients[${i}].vpc.id`,
          message: "the client VPC must differ from the cluster VPC",
        });
      }
    }
  });

  const covered = organizationIssues(t, roleSpecs, issues);

  const accessIndex = new Map<string, number>();
  const access: AccessRole[] = [];
  t.access.forEach((a, i) => {
    if (isReservedRoleName(a.role)) {
      issues.push({
        path: `access[${i}].role`,
        message:
          "an access role named AWSReservedSSO_… or AWSServiceRoleFor… would be a role of IAM Identity Center or an AWS service: xeks would write its trust; give the access role a name of its own",
      });
    }
    // One account holds every access role: IAM role names are unique there, ignoring case.
    const first = accessIndex.get(a.role.toLowerCase());
    if (first !== undefined) {
      const also =
        t.access[first]?.role === a.role ? "" : ` as ${t.access[first]?.role}; IAM role names ignore case`;
      issues.push({
        path: `access[${i}].role`,
        message: `duplicate access role "${a.role}" (also access[${first}].role${also}); give each access role its own name`,
      });
    } else accessIndex.set(a.role.toLowerCase(), i);
    a.clients.forEach((name, j) => {
      if (!clientIndex.has(name)) {
        const known = [...clientIndex.keys()].join(", ");
        issues.push({
          path: `access[${i}].clients[${j}]`,
          message: `unknown client "${name}"; known clients: ${known}`,
        });
      }
    });
    issues.push(
      ...repeats(
        a.clients,
        same,
        (j) => `access[${i}].clients[${j}]`,
        (name, f) => `client "${name}" is listed twice (first at ${f}); list each client once`,
      ),
    );
    issues.push(...groupRepeats(a.kubernetesGroups, `access[${i}]`));
    const policies: AccessPolicyRef[] = [];
    const seenPolicies = new Map<string, string>();
    a.policies.forEach((p, j) => {
      const ref = typeof p === "string" ? { policy: p, namespaces: undefined } : p;
      const path =
        typeof p === "string" ? `access[${i}].policies[${j}]` : `access[${i}].policies[${j}].policy`;
      const fromArn = accessPolicyName(ref.policy);
      const name = fromArn ?? ref.policy;
      if (!fromArn && !(KNOWN_ACCESS_POLICIES as readonly string[]).includes(ref.policy)) {
        issues.push({
          path,
          message: `unknown access policy "${ref.policy}"; expected one of ${KNOWN_ACCESS_POLICIES.join(", ")} or an arn:aws:eks::aws:cluster-access-policy/… ARN`,
        });
        return;
      }
      const arnPartition = fromArn ? parseArn(ref.policy)?.partition : partition;
      if (arnPartition !== partition) {
        issues.push({
          path,
          message: `the ARN is in partition ${arnPartition}, the cluster (${t.cluster.region}) in ${partition}; write ${accessPolicyArn(name, partition)} or the short name ${name}`,
        });
      }
      const firstPolicy = seenPolicies.get(name);
      if (firstPolicy !== undefined) {
        issues.push({
          path,
          message: `policy ${name} is listed twice (first at ${firstPolicy}); an access entry holds each policy once`,
        });
      } else seenPolicies.set(name, path);
      if (ref.namespaces && CLUSTER_ONLY_POLICIES.has(name)) {
        issues.push({
          path: `access[${i}].policies[${j}].namespaces`,
          message: `${name} must be cluster-scoped; remove namespaces, or use AmazonEKSAdminPolicy for namespace admin`,
        });
      }
      issues.push(...namespaceRepeats(ref.namespaces, `access[${i}].policies[${j}]`));
      policies.push({
        name,
        arn: fromArn ? ref.policy : accessPolicyArn(name, partition),
        scope: ref.namespaces ? { type: "namespace", namespaces: [...ref.namespaces] } : { type: "cluster" },
      });
    });
    access.push({
      role: a.role,
      arn: roleArn(partition, t.cluster.account, a.role),
      clients: [...a.clients],
      policies,
      kubernetesGroups: [...a.kubernetesGroups],
      username: a.username,
      externalId: a.externalId,
      ...(a.adopt ? { adopt: { trustPolicy: a.adopt.trustPolicy, policies: [...a.adopt.policies] } } : {}),
    });
    if (a.adopt) issues.push(...policyNameRepeats(a.adopt.policies, `access[${i}].adopt.policies`));
  });

  if (issues.length > 0) return { issues };

  const clients: Client[] = t.clients.map((c, i) => {
    const region = c.region ?? t.cluster.region;
    const clientPartition = partitionOf(region);
    const spec = roleSpecs[i];
    const role: ClientRole | undefined = spec
      ? {
          name: spec.name,
          existing: spec.existing,
          path: spec.path,
          arn: c.fromOrganization
            ? memberRoleArn(clientPartition, spec.path, spec.name)
            : roleArn(clientPartition, c.account, spec.name, spec.path),
          ...(spec.instanceProfile !== undefined ? { instanceProfile: spec.instanceProfile } : {}),
          trustPolicy: spec.trustPolicy,
          permissionsBoundary: spec.permissionsBoundary,
          policies: [...spec.policies],
          ...(spec.assumePolicy ? { assumePolicy: spec.assumePolicy } : {}),
        }
      : undefined;
    const identity = c.fromOrganization
      ? memberIdentity(normalizeIdentity(c, clientPartition, region), clientPartition)
      : normalizeIdentity(c, clientPartition, region);
    return {
      name: c.name,
      account: c.account,
      region,
      identity,
      principal:
        c.fromOrganization && role
          ? memberPrincipal(
              clientPrincipal(identity, role, clientPartition, c.account, c.name),
              clientPartition,
              role.path,
              role.name,
            )
          : clientPrincipal(identity, role, clientPartition, c.account, c.name),
      ...(c.vpc ? { vpc: normalizeVpc(c.vpc) } : {}),
      publicCidrs: [...(c.publicCidrs ?? [])],
      ...(role ? { role } : {}),
      ...(c.peering ? { peering: { ...c.peering } } : {}),
      instance: c.instance ? { ...c.instance } : undefined,
      scps: [...c.scps],
      organizationId: c.organizationId ?? t.organization?.id,
      ...(c.organizationPath ? { organizationPath: c.organizationPath } : {}),
      ...(c.fromOrganization
        ? { fromOrganization: normalizeFromOrganization(c.fromOrganization, t.cluster.region) }
        : {}),
    };
  });

  const c = t.cluster;
  const topology: Topology = {
    cluster: {
      name: c.name,
      account: c.account,
      region: c.region,
      partition,
      arn: eksClusterArn(partition, c.region, c.account, c.name),
      authenticationMode: c.authenticationMode,
      endpointAccess: c.endpointAccess,
      ...(c.publicAccessCidrs ? { publicAccessCidrs: [...c.publicAccessCidrs] } : {}),
      ...(c.quotas ? { quotas: { ...c.quotas } } : {}),
      endpoint: c.endpoint,
      certificateAuthority: c.certificateAuthority,
      securityGroupId: c.securityGroupId,
      vpc: normalizeVpc(c.vpc),
      scps: [...c.scps],
      rcps: [...c.rcps],
      ingressRules: c.ingressRules.map((r) => ({ ...r })),
      accessEntries: c.accessEntries.map((e) => ({
        principalArn: e.principalArn,
        type: e.type,
        username: e.username,
        kubernetesGroups: [...e.kubernetesGroups],
        policies: e.policies.map((p) => ({
          name: accessPolicyName(p.policy) ?? p.policy,
          arn: accessPolicyName(p.policy) ? p.policy : accessPolicyArn(p.policy, partition),
          scope: p.namespaces
            ? { type: "namespace" as const, namespaces: [...p.namespaces] }
            : { type: "cluster" as const },
        })),
      })),
    },
    clients,
    access,
  };
  if (t.organization) {
    topology.organization = {
      id: t.organization.id,
      paths: [...(t.organization.paths ?? [])],
      rolePatterns: t.organization.rolePattern
        ? [t.organization.rolePattern]
        : defaultRolePatterns(
            c.name,
            covered.map((i) => {
              const spec = roleSpecs[i] as ClientRoleSpec;
              const name = t.clients[i]?.name ?? "";
              return {
                path: spec.path,
                name: spec.name,
                isDefault: spec.name === defaultClientRoleName(c.name, name),
              };
            }),
          ),
    };
  }
  // Names derived from the file (stack names, the peering accepter role) must not collide either.
  const named = nameIssues(topology);
  return named.length > 0 ? { issues: named } : { issues: [], topology };
}

/**
 * The cross-field rules of `organization` and `clients[].organizationPath` (docs/organizations.md): declared paths
 * in the organization, listed once; a client's path in its organization; a declared `rolePattern` that matches
 * every covered client's role. Pushes the issues to `issues` and returns the indexes of the covered clients: kinds
 * instance, role and oidc (one exact role each) of the organization (`organizationId` unset or `organization.id`).
 */
function organizationIssues(
  t: ParsedTopology,
  roleSpecs: readonly (ClientRoleSpec | undefined)[],
  issues: InputIssue[],
): number[] {
  const org = t.organization;
  issues.push(...rootIssues(t));
  t.clients.forEach((c, i) => {
    if (c.organizationPath === undefined) return;
    const id = c.organizationId ?? org?.id;
    if (id === undefined) {
      issues.push({
        path: `clients[${i}].organizationPath`,
        message:
          "an organization path needs the account's organization: declare organization.id (or clients[].organizationId)",
      });
    } else if (!c.organizationPath.startsWith(`${id}/`)) {
      issues.push({
        path: `clients[${i}].organizationPath`,
        message: `the path is not in the client's organization ${id}: it starts with ${id}/`,
      });
    } else if (org && id === org.id && org.paths && !underPaths(c.organizationPath, org.paths)) {
      // The access roles and the accepter role trust only accounts under organization.paths: the proof would fail
      // twice with fixes that do not help.
      issues.push({
        path: `clients[${i}].organizationPath`,
        message: `${c.organizationPath} is not under organization.paths (${org.paths.join(", ")}): the organization's trust would not let the account in; add its OU to organization.paths or give the client another organizationId`,
      });
    }
  });
  if (!org) return [];
  (org.paths ?? []).forEach((p, j) => {
    if (!p.startsWith(`${org.id}/`)) {
      issues.push({
        path: `organization.paths[${j}]`,
        message: `the path is not in organization ${org.id}: it starts with ${org.id}/ (aws organizations list-parents gives an account's OUs)`,
      });
    }
  });
  issues.push(
    ...repeats(
      org.paths ?? [],
      same,
      (j) => `organization.paths[${j}]`,
      (p, f) => `path ${p} is listed twice (first at ${f}); list each path once`,
    ),
  );
  const covered: number[] = [];
  t.clients.forEach((c, i) => {
    const spec = roleSpecs[i];
    const kind = c.identity?.kind ?? "instance";
    if (!spec || !ORGANIZATION_KINDS.includes(kind)) return;
    if ((c.organizationId ?? org.id) !== org.id) return;
    covered.push(i);
    const pattern = org.rolePattern;
    const name = patternName(spec.path, spec.name);
    if (pattern !== undefined && !globMatch(pattern, name)) {
      issues.push({
        path: spec.at.name,
        message: `role ${name} does not match organization.rolePattern ${pattern}: the access roles would not let it in; rename the role, widen the pattern, or give the client another organizationId`,
      });
    }
  });
  return covered;
}

/**
 * The root ids of the declared organization paths (`organization.paths`, `clients[].organizationPath`): an
 * organization has one root, and an OU id carries its root's id (`ou-ROOT-…`, AWS Organizations API Reference,
 * OrganizationalUnit `Id`). Paths of another organization (a client's own `organizationId`) are checked on their
 * own.
 */
function rootIssues(t: ParsedTopology): InputIssue[] {
  const issues: InputIssue[] = [];
  const rootOf = new Map<string, { root: string; at: string }>();
  const check = (path: string, at: string) => {
    const { root, ous } = pathRoots(path);
    const bad = ous.find((ou) => ou !== root);
    if (bad !== undefined) {
      issues.push({
        path: at,
        message: `an OU id carries its root's id (ou-ROOT-…): ou-${bad}-… is not under root r-${root}; copy the path from aws organizations list-parents`,
      });
      return;
    }
    const orgId = path.split("/")[0] ?? "";
    const first = rootOf.get(orgId);
    if (first === undefined) rootOf.set(orgId, { root, at });
    else if (first.root !== root) {
      issues.push({
        path: at,
        message: `an organization has one root: r-${root} differs from r-${first.root} of ${first.at} (aws organizations list-roots)`,
      });
    }
  };
  (t.organization?.paths ?? []).forEach((p, j) => {
    check(p, `organization.paths[${j}]`);
  });
  t.clients.forEach((c, i) => {
    if (c.organizationPath !== undefined) check(c.organizationPath, `clients[${i}].organizationPath`);
  });
  return issues;
}

/**
 * `role.assumePolicy` names the inline policy of an existing role that xeks adopts: the role must be existing
 * and the policy one of its declared `policies`.
 */
function assumePolicyIssues(
  role: { existing: boolean; policies: { name: string }[]; assumePolicy?: string },
  at: string,
): InputIssue[] {
  if (role.assumePolicy === undefined) return [];
  if (!role.existing) {
    return [
      {
        path: `${at}.assumePolicy`,
        message:
          "assumePolicy names an inline policy of an existing role: set existing: true, or drop assumePolicy",
      },
    ];
  }
  if (!role.policies.some((p) => p.name === role.assumePolicy)) {
    const names = role.policies.map((p) => p.name);
    return [
      {
        path: `${at}.assumePolicy`,
        message: `no policy named ${role.assumePolicy} in ${at}.policies; ${names.length > 0 ? `expected one of ${names.join(", ")}` : "declare it there with its document"}`,
      },
    ];
  }
  return [];
}

type ParsedClient = ParsedTopology["clients"][number];

/**
 * The client-account role a client declares, whatever the key that declares it (`role`, `identity.role` of
 * kind instance, oidc and pod-identity, `identity.arn` of kind role), with the field paths of its parts for
 * messages; undefined for kind sso (no single role) and for a client that declares neither key (an issue of
 * `clientShapeIssues`).
 */
interface ClientRoleSpec {
  account: string;
  name: string;
  path: string;
  existing: boolean;
  instanceProfile?: string;
  trustPolicy?: PolicyDocument;
  permissionsBoundary?: { arn?: string; document: PolicyDocument };
  policies: NamedPolicy[];
  assumePolicy?: string;
  /** Field paths: of the role's name, of its instance profile, of the object holding policies (if any). */
  at: { name: string; instanceProfile: string; object?: string };
}

function clientRoleSpec(c: ParsedClient, i: number, cluster: string): ClientRoleSpec | undefined {
  const instanceRole = c.identity?.kind === "instance" ? c.identity.role : c.role;
  const base = c.identity?.kind === "instance" ? `clients[${i}].identity.role` : `clients[${i}].role`;
  if (c.identity === undefined || c.identity.kind === "instance") {
    if (instanceRole === undefined) return undefined;
    if (typeof instanceRole === "string") {
      return {
        account: c.account,
        name: instanceRole,
        path: "/",
        existing: false,
        instanceProfile: instanceRole,
        policies: [],
        at: { name: base, instanceProfile: base },
      };
    }
    return {
      account: c.account,
      name: instanceRole.name,
      path: instanceRole.path,
      existing: instanceRole.existing,
      instanceProfile: instanceRole.instanceProfile ?? instanceRole.name,
      trustPolicy: instanceRole.trustPolicy,
      permissionsBoundary: instanceRole.permissionsBoundary,
      policies: instanceRole.policies,
      ...(instanceRole.assumePolicy ? { assumePolicy: instanceRole.assumePolicy } : {}),
      at: {
        name: `${base}.name`,
        instanceProfile: instanceRole.instanceProfile !== undefined ? `${base}.instanceProfile` : base,
        object: base,
      },
    };
  }
  const id = c.identity;
  const at = `clients[${i}].identity`;
  switch (id.kind) {
    case "sso":
      return undefined;
    case "oidc":
    case "pod-identity":
      return {
        account: c.account,
        name: id.role ?? defaultClientRoleName(cluster, c.name),
        path: "/",
        existing: false,
        policies: [],
        at: { name: id.role ? `${at}.role` : `${at}.kind`, instanceProfile: at },
      };
    case "role": {
      const parsed = parseArn(id.arn);
      const resource = parsed?.resource ?? "role/";
      const slash = resource.lastIndexOf("/");
      return {
        account: parsed?.account ?? c.account,
        name: resource.slice(slash + 1),
        path: resource.slice("role".length, slash + 1),
        existing: true,
        trustPolicy: id.trustPolicy,
        permissionsBoundary: id.permissionsBoundary,
        policies: id.policies,
        ...(id.assumePolicy ? { assumePolicy: id.assumePolicy } : {}),
        at: { name: `${at}.arn`, instanceProfile: at, object: at },
      };
    }
  }
}

/**
 * The ranges a public endpoint never sees as a source: private (RFC 1918), shared (RFC 6598), loopback and
 * link-local. A client behind NAT reaches the public endpoint from its NAT's public address.
 */
const NOT_PUBLIC = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
];

/** The shortest prefix accepted in `publicCidrs`: wider would open the endpoint to a large part of the internet. */
export const PUBLIC_CIDR_MIN_PREFIX = 8;

/** Why `cidr` cannot be a client's public egress CIDR, or undefined. */
function publicCidrProblem(cidr: string): string | undefined {
  const prefix = Number(cidr.split("/")[1]);
  if (prefix < PUBLIC_CIDR_MIN_PREFIX) {
    return `${cidr} is wider than /${PUBLIC_CIDR_MIN_PREFIX}: admitting it would open the cluster's public endpoint to a large part of the internet; list the egress CIDRs of the client (its NAT, office, VPN or runner addresses)`;
  }
  const range = NOT_PUBLIC.find((r) => cidrOverlaps(r, cidr));
  if (range) {
    return `${cidr} is in ${range}, which is not a public address: the public endpoint sees the client's public egress address (its NAT's); list that, or give the client a vpc to peer`;
  }
  return undefined;
}

/**
 * The cross-field rules of one client: exactly one of `role` and `identity`; exactly one of `vpc` and
 * `publicCidrs`; `peering` and `instance` need a VPC; an instance only for kind instance; no role under
 * `/aws-reserved/` (IAM refuses writes there: a permission set's role is kind sso); the role of kind `role` in
 * the client's account; OIDC subjects that name one repository.
 */
function clientShapeIssues(c: ParsedClient, i: number): InputIssue[] {
  const at = `clients[${i}]`;
  const out: InputIssue[] = [];
  if (c.role !== undefined && c.identity !== undefined) {
    out.push({
      path: `${at}.role`,
      message:
        "give either role (an EC2 role) or identity, not both; identity: { kind: instance, role } is the same as role",
    });
  } else if (c.role === undefined && c.identity === undefined) {
    out.push({
      path: `${at}.identity`,
      message:
        "say who the client is: identity: { kind: instance | sso | oidc | pod-identity | role, ... } (or role: NAME for an EC2 role)",
    });
  }
  if (c.vpc === undefined && c.publicCidrs === undefined) {
    out.push({
      path: `${at}.vpc`,
      message:
        "give the client's vpc (peered with the cluster VPC) or its publicCidrs (egress CIDRs that reach the public endpoint)",
    });
  } else if (c.vpc !== undefined && c.publicCidrs !== undefined) {
    out.push({
      path: `${at}.publicCidrs`,
      message: "give either vpc (a peered VPC) or publicCidrs (the public endpoint), not both",
    });
  }
  if (c.vpc === undefined) {
    if (c.peering)
      out.push({ path: `${at}.peering`, message: "a peering connection needs the client's vpc" });
    if (c.instance) out.push({ path: `${at}.instance`, message: "a client instance needs the client's vpc" });
  }
  const kind = c.identity?.kind ?? "instance";
  if (c.instance && kind !== "instance") {
    out.push({
      path: `${at}.instance`,
      message: `a client instance runs with an EC2 role: kind ${kind} has none; drop instance, or use kind instance`,
    });
  }
  const legacy = c.identity?.kind === "instance" ? c.identity.role : c.role;
  const legacyPath = c.identity?.kind === "instance" ? `${at}.identity.role` : `${at}.role`;
  const reservedPaths: { path: string; arnOrPath: string; name: string }[] = [];
  if (legacy !== undefined && typeof legacy !== "string") {
    reservedPaths.push({
      path: isReservedRole(legacy.path) ? `${legacyPath}.path` : `${legacyPath}.name`,
      arnOrPath: legacy.path,
      name: legacy.name,
    });
  } else if (typeof legacy === "string") {
    reservedPaths.push({ path: legacyPath, arnOrPath: "/", name: legacy });
  }
  if ((c.identity?.kind === "oidc" || c.identity?.kind === "pod-identity") && c.identity.role) {
    reservedPaths.push({ path: `${at}.identity.role`, arnOrPath: "/", name: c.identity.role });
  }
  if (c.identity?.kind === "role") {
    const arn = c.identity.arn;
    reservedPaths.push({
      path: `${at}.identity.arn`,
      arnOrPath: arn,
      name: arn.slice(arn.lastIndexOf("/") + 1),
    });
    const account = parseArn(arn)?.account;
    if (account !== c.account) {
      out.push({
        path: `${at}.identity.arn`,
        message: `the role is in account ${account ?? "?"}, the client in ${c.account}: give the client's own role, or set the client's account`,
      });
    }
  }
  for (const r of reservedPaths) {
    if (!isReservedRole(r.arnOrPath) && !isReservedRoleName(r.name)) continue;
    const set = permissionSetOfRoleName(r.name);
    out.push({
      path: r.path,
      message:
        "a role under /aws-reserved/ or /aws-service-role/, or named AWSReservedSSO_… or AWSServiceRoleFor…, belongs to IAM Identity Center or an AWS service: IAM refuses changes to it and its trust is not xeks's to prove; " +
        (set
          ? `for the people of permission set ${set}, use identity: { kind: sso, permissionSet: ${set} }`
          : "for an IAM Identity Center permission set use identity: { kind: sso, permissionSet: NAME }"),
    });
  }
  (c.publicCidrs ?? []).forEach((cidr, j) => {
    const problem = publicCidrProblem(cidr);
    if (problem) out.push({ path: `${at}.publicCidrs[${j}]`, message: problem });
  });
  if (c.identity?.kind === "oidc") {
    const provider = c.identity.provider;
    c.identity.subjects.forEach((s, j) => {
      const problem = subjectProblem(provider, s);
      if (problem) out.push({ path: `${at}.identity.subjects[${j}]`, message: problem });
    });
    out.push(
      ...repeats(
        c.identity.subjects,
        (s) => s,
        (j) => `${at}.identity.subjects[${j}]`,
        (s, f) => `subject ${s} is listed twice (first at ${f})`,
      ),
    );
  }
  return out;
}

function normalizeIdentity(c: ParsedClient, partition: string, region: string): ClientIdentity {
  const id = c.identity;
  if (id === undefined || id.kind === "instance") return { kind: "instance" };
  switch (id.kind) {
    case "sso":
      return { kind: "sso", permissionSet: id.permissionSet, policies: [...id.policies] };
    case "oidc":
      return {
        kind: "oidc",
        provider: id.provider,
        providerArn: oidcProviderArn(partition, c.account, id.provider),
        audience: id.audience,
        subjects: [...id.subjects],
      };
    case "pod-identity":
      return {
        kind: "pod-identity",
        cluster: id.cluster,
        clusterArn: eksClusterArn(partition, region, c.account, id.cluster),
        namespace: id.namespace,
        serviceAccount: id.serviceAccount,
      };
    case "role":
      return { kind: "role" };
  }
}

/** What the access roles trust for a client (docs/clients.md), see `ClientPrincipal`. */
function clientPrincipal(
  identity: ClientIdentity,
  role: ClientRole | undefined,
  partition: string,
  account: string,
  client: string,
): ClientPrincipal {
  if (identity.kind === "sso") {
    const example = ssoExampleRole(partition, account, identity.permissionSet);
    return {
      account,
      arnPatterns: ssoRoleArnPatterns(partition, account, identity.permissionSet),
      actions: ["sts:AssumeRole"],
      example: { ...example, session: "someone@example.com" },
      label: `permission set ${identity.permissionSet}`,
    };
  }
  const r = role as ClientRole;
  const session =
    identity.kind === "instance"
      ? "i-0123456789abcdef0"
      : identity.kind === "oidc"
        ? "GitHubActions"
        : identity.kind === "pod-identity"
          ? `eks-${client}-pod-0123456789`
          : "session";
  return {
    arn: r.arn,
    actions: identity.kind === "pod-identity" ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"],
    example: { name: r.name, arn: r.arn, session },
    label: `role ${r.name}`,
  };
}
