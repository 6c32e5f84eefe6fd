/**
 * The rules of the EKS managed access policies, written as Kubernetes PolicyRules. Source: the EKS user guide
 * "Review access policy permissions" (access-policy-reference), as summarized in token-and-access.md §6.2.
 * AWS does not expose the contents through the API, so this table is the only place they live in xeks.
 *
 * View ⊂ Edit ⊂ Admin by construction: Edit is View plus its additions, Admin is Edit plus its additions.
 */
import type { KnownAccessPolicy } from "./names.js";

/**
 * A rule on API resources: `apiGroups` ("" is core), `resources` (`pods`, `pods/exec`, `*`), `verbs`, and, as in
 * Kubernetes RBAC, optional `resourceNames`: absent or empty grants every object; otherwise only requests that
 * name one of them (a request without a name, such as list or create, does not match). The six policies below
 * have none in AWS's published tables.
 */
export interface ResourceRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** A rule on non-resource URLs (`/healthz`, `/api/*`, `*`). */
export interface NonResourceRule {
  readonly nonResourceURLs: readonly string[];
  readonly verbs: readonly string[];
}

export type PolicyRule = ResourceRule | NonResourceRule;

export function isNonResourceRule(rule: PolicyRule): rule is NonResourceRule {
  return "nonResourceURLs" in rule;
}

const READ = ["get", "list", "watch"] as const;
const WRITE = ["create", "delete", "deletecollection", "patch", "update"] as const;

function rule(apiGroup: string, resources: string[], verbs: readonly string[]): ResourceRule {
  return { apiGroups: [apiGroup], resources, verbs };
}

/** AmazonEKSViewPolicy: read workloads, services and config, not Secrets. */
const VIEW: readonly PolicyRule[] = [
  rule(
    "",
    [
      "configmaps",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "pods",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "replicationcontrollers/status",
      "serviceaccounts",
      "services",
      "services/status",
      "bindings",
      "events",
      "limitranges",
      "namespaces",
      "namespaces/status",
      "pods/log",
      "pods/status",
      "resourcequotas",
      "resourcequotas/status",
    ],
    READ,
  ),
  rule(
    "apps",
    [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
    READ,
  ),
  rule("autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
  rule("batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
  rule("discovery.k8s.io", ["endpointslices"], READ),
  rule(
    "extensions",
    [
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "ingresses",
      "ingresses/status",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "replicationcontrollers/scale",
    ],
    READ,
  ),
  rule("networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"], READ),
  rule("policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
];

/** AmazonEKSEditPolicy: View plus writes on workloads, Secrets, exec/attach/port-forward, impersonating SAs. */
const EDIT: readonly PolicyRule[] = [
  ...VIEW,
  rule(
    "apps",
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
    ],
    WRITE,
  ),
  rule("autoscaling", ["horizontalpodautoscalers"], WRITE),
  rule("batch", ["cronjobs", "jobs"], WRITE),
  rule(
    "extensions",
    [
      "daemonsets",
      "deployments",
      "deployments/rollback",
      "deployments/scale",
      "ingresses",
      "networkpolicies",
      "replicasets",
      "replicasets/scale",
      "replicationcontrollers/scale",
    ],
    WRITE,
  ),
  rule("networking.k8s.io", ["ingresses", "networkpolicies"], WRITE),
  rule("policy", ["poddisruptionbudgets"], WRITE),
  rule(
    "",
    [
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
      "pods",
      "pods/attach",
      "pods/exec",
      "pods/portforward",
      "pods/proxy",
    ],
    WRITE,
  ),
  rule("", ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
  rule("", ["serviceaccounts"], ["impersonate"]),
];

/** AmazonEKSAdminPolicy: Edit plus Roles/RoleBindings and local subject access reviews. */
const ADMIN: readonly PolicyRule[] = [
  ...EDIT,
  rule("rbac.authorization.k8s.io", ["roles", "rolebindings"], [...WRITE, ...READ]),
  rule("authorization.k8s.io", ["localsubjectaccessreviews"], ["create"]),
];

/** The rules of every managed access policy xeks can evaluate, by short name. */
export const ACCESS_POLICY_RULES: Readonly<Record<KnownAccessPolicy, readonly PolicyRule[]>> = {
  AmazonEKSClusterAdminPolicy: [
    { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
    { nonResourceURLs: ["*"], verbs: ["*"] },
  ],
  AmazonEKSAdminViewPolicy: [{ apiGroups: ["*"], resources: ["*"], verbs: READ }],
  AmazonEKSViewPolicy: VIEW,
  AmazonEKSEditPolicy: EDIT,
  AmazonEKSAdminPolicy: ADMIN,
  AmazonEKSHybridPolicy: [{ apiGroups: ["*"], resources: ["nodes"], verbs: ["list"] }],
};
