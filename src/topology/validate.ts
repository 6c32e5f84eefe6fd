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
import { nearest } from "../domain/suggest.js";
import type { InputIssue } from "../errors.js";
import { nameIssues } from "../layout/name-checks.js";
import { type ParsedTopology, topologySchema } from "./schema.js";
import type { AccessPolicyRef, AccessRole, Client, Topology, Vpc } from "./types.js";

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
  t.clients.forEach((c, i) => {
    issues.push(...vpcRepeats(c.vpc, `clients[${i}].vpc`));
    issues.push(...policyNameRepeats(c.scps, `clients[${i}].scps`));
    if (typeof c.role !== "string") {
      issues.push(...policyNameRepeats(c.role.policies, `clients[${i}].role.policies`));
      issues.push(...assumePolicyIssues(c.role, `clients[${i}].role`));
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
    if (c.account === t.cluster.account) {
      issues.push({
        path: `clients[${i}].account`,
        message: `the client account must differ from the cluster account ${t.cluster.account}: xeks builds cross-account access`,
      });
    }
    const roleName = typeof c.role === "string" ? c.role : c.role.name;
    // IAM role and instance profile names are unique per account, ignoring case (IAM CreateRole:
    // "Role names are not distinguished by case").
    const roleKey = `${c.account}/${roleName.toLowerCase()}`;
    const firstRole = roleKeys.get(roleKey);
    if (firstRole !== undefined) {
      issues.push({
        path: typeof c.role === "string" ? `clients[${i}].role` : `clients[${i}].role.name`,
        message: `role ${roleName} in account ${c.account} is already the role of clients[${firstRole}] (IAM role names ignore case); give each client its own role`,
      });
    } else roleKeys.set(roleKey, i);
    const profile = typeof c.role === "string" ? c.role : (c.role.instanceProfile ?? c.role.name);
    const profileKey = `${c.account}/${profile.toLowerCase()}`;
    const firstProfile = profileKeys.get(profileKey);
    if (firstProfile !== undefined && firstRole === undefined) {
      issues.push({
        path:
          typeof c.role !== "string" && c.role.instanceProfile !== undefined
            ? `clients[${i}].role.instanceProfile`
            : `clients[${i}].role`,
        message: `instance profile ${profile} in account ${c.account} is already the profile of clients[${firstProfile}] (an instance profile holds one role; names ignore case); name another profile`,
      });
    } else if (firstProfile === undefined) profileKeys.set(profileKey, i);
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
  });

  const accessIndex = new Map<string, number>();
  const access: AccessRole[] = [];
  t.access.forEach((a, i) => {
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

  const clients: Client[] = t.clients.map((c) => {
    const r =
      typeof c.role === "string" ? { name: c.role, existing: false, path: "/", policies: [] } : c.role;
    const region = c.region ?? t.cluster.region;
    return {
      name: c.name,
      account: c.account,
      region,
      vpc: normalizeVpc(c.vpc),
      role: {
        name: r.name,
        existing: r.existing,
        path: r.path,
        arn: roleArn(partitionOf(region), c.account, r.name, r.path),
        instanceProfile: ("instanceProfile" in r && r.instanceProfile) || r.name,
        trustPolicy: "trustPolicy" in r ? r.trustPolicy : undefined,
        permissionsBoundary: "permissionsBoundary" in r ? r.permissionsBoundary : undefined,
        policies: [...r.policies],
        ...("assumePolicy" in r && r.assumePolicy ? { assumePolicy: r.assumePolicy } : {}),
      },
      ...(c.peering ? { peering: { ...c.peering } } : {}),
      instance: c.instance ? { ...c.instance } : undefined,
      scps: [...c.scps],
      organizationId: c.organizationId,
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
  // Names derived from the file (stack names, the peering accepter role) must not collide either.
  const named = nameIssues(topology);
  return named.length > 0 ? { issues: named } : { issues: [], topology };
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
