/**
 * The EKS managed access policies against the permission tables of token-and-access.md §6.2, scope semantics
 * (§6.3) and the unknown-policy rule: table-driven, through the library.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ACCESS_POLICY_RULES,
  type AccessRequest,
  accessPolicyArn,
  evaluateAccess,
  KNOWN_ACCESS_POLICIES,
  namespaceMatches,
  type PolicyAssociation,
  policyRules,
  ruleAllows,
} from "../src/access/index.js";

type Name =
  | "ClusterAdmin"
  | "AdminView"
  | "View"
  | "Edit"
  | "Admin"
  | "Hybrid"
  | "AutoNode"
  | "BlockStorageCluster";

/** An association: `p("Edit", ["dev"])` is namespace-scoped, `p("View")` cluster-scoped. */
function p(name: Name, namespaces?: string[]): PolicyAssociation {
  return {
    arn: accessPolicyArn(`AmazonEKS${name}Policy`),
    scope: namespaces ? { type: "namespace", namespaces } : { type: "cluster" },
  };
}

/**
 * A request: `q("create", "pods/exec", "dev")`; RESOURCE is `resource[.group][/sub]` (no dot: core) or a URL;
 * namespace null = across all namespaces.
 */
function q(verb: string, what: string, namespace: string | null = "default"): AccessRequest {
  if (what.startsWith("/")) return { verb, nonResourceURL: what };
  const [base = "", subresource = ""] = what.split("/");
  const dot = base.indexOf(".");
  return {
    verb,
    resource: dot < 0 ? base : base.slice(0, dot),
    apiGroup: dot < 0 ? "" : base.slice(dot + 1),
    subresource,
    namespace,
  };
}

type Expect = "yes" | "no" | "unknown";
type Case = [label: string, policies: PolicyAssociation[], request: AccessRequest, expect: Expect];

const CLUSTER_ADMIN = [p("ClusterAdmin")];
const ADMIN_VIEW = [p("AdminView")];
const VIEW_NS = [p("View", ["analytics"])];
const VIEW = [p("View")];
const EDIT_NS = [p("Edit", ["payments", "team-*"])];
const ADMIN_NS = [p("Admin", ["dev"])];
const ADMIN = [p("Admin")];
const HYBRID = [p("Hybrid")];

const CASES: Case[] = [
  // AmazonEKSClusterAdminPolicy: everything, including non-resource URLs.
  ["ClusterAdmin: get pods", CLUSTER_ADMIN, q("get", "pods"), "yes"],
  ["ClusterAdmin: delete nodes", CLUSTER_ADMIN, q("delete", "nodes"), "yes"],
  ["ClusterAdmin: get /healthz", CLUSTER_ADMIN, q("get", "/healthz"), "yes"],
  ["ClusterAdmin: post /api/v1/anything", CLUSTER_ADMIN, q("post", "/api/v1/anything"), "yes"],
  ["ClusterAdmin: * *", CLUSTER_ADMIN, q("*", "*"), "yes"],
  [
    "ClusterAdmin: create CRDs",
    CLUSTER_ADMIN,
    q("create", "customresourcedefinitions.apiextensions.k8s.io"),
    "yes",
  ],
  ["ClusterAdmin: list pods in all namespaces", CLUSTER_ADMIN, q("list", "pods", null), "yes"],
  [
    "ClusterAdmin: escalate clusterroles",
    CLUSTER_ADMIN,
    q("escalate", "clusterroles.rbac.authorization.k8s.io"),
    "yes",
  ],
  ["ClusterAdmin: create pods/exec", CLUSTER_ADMIN, q("create", "pods/exec", "kube-system"), "yes"],
  // AmazonEKSAdminViewPolicy: read everything, Secrets included; no writes, no URLs.
  ["AdminView: get secrets", ADMIN_VIEW, q("get", "secrets"), "yes"],
  ["AdminView: list nodes", ADMIN_VIEW, q("list", "nodes"), "yes"],
  ["AdminView: watch CRDs", ADMIN_VIEW, q("watch", "customresourcedefinitions.apiextensions.k8s.io"), "yes"],
  ["AdminView: get pods/log (resources * covers subresources)", ADMIN_VIEW, q("get", "pods/log"), "yes"],
  ["AdminView: list pods in all namespaces", ADMIN_VIEW, q("list", "pods", null), "yes"],
  ["AdminView: create pods", ADMIN_VIEW, q("create", "pods"), "no"],
  ["AdminView: delete secrets", ADMIN_VIEW, q("delete", "secrets"), "no"],
  ["AdminView: get /healthz", ADMIN_VIEW, q("get", "/healthz"), "no"],
  ["AdminView: * verb", ADMIN_VIEW, q("*", "pods"), "no"],
  // AmazonEKSViewPolicy, namespace analytics.
  ["View: get secrets", VIEW_NS, q("get", "secrets", "analytics"), "no"],
  ["View: list pods", VIEW_NS, q("list", "pods", "analytics"), "yes"],
  ["View: get pods/log", VIEW_NS, q("get", "pods/log", "analytics"), "yes"],
  ["View: get pods/status", VIEW_NS, q("get", "pods/status", "analytics"), "yes"],
  ["View: create pods/exec", VIEW_NS, q("create", "pods/exec", "analytics"), "no"],
  ["View: get pods/exec", VIEW_NS, q("get", "pods/exec", "analytics"), "no"],
  ["View: list pods in another namespace", VIEW_NS, q("list", "pods", "payments"), "no"],
  ["View: get deployments/scale", VIEW_NS, q("get", "deployments.apps/scale", "analytics"), "yes"],
  ["View: update deployments/scale", VIEW_NS, q("update", "deployments.apps/scale", "analytics"), "no"],
  ["View: list endpointslices", VIEW_NS, q("list", "endpointslices.discovery.k8s.io", "analytics"), "yes"],
  ["View: get ingresses/status", VIEW_NS, q("get", "ingresses.networking.k8s.io/status", "analytics"), "yes"],
  ["View: get hpa", VIEW_NS, q("get", "horizontalpodautoscalers.autoscaling", "analytics"), "yes"],
  ["View: get jobs/status", VIEW_NS, q("get", "jobs.batch/status", "analytics"), "yes"],
  ["View: watch events", VIEW_NS, q("watch", "events", "analytics"), "yes"],
  ["View: get configmaps", VIEW_NS, q("get", "configmaps", "analytics"), "yes"],
  ["View: get deployments.extensions", VIEW_NS, q("get", "deployments.extensions", "analytics"), "yes"],
  ["View: list roles", VIEW_NS, q("list", "roles.rbac.authorization.k8s.io", "analytics"), "no"],
  ["View: delete pods", VIEW_NS, q("delete", "pods", "analytics"), "no"],
  ["View: list namespaces under a namespace scope", VIEW_NS, q("list", "namespaces", "analytics"), "no"],
  [
    "View: list pods/exec — a pods rule does not grant pods/exec",
    VIEW_NS,
    q("list", "pods/exec", "analytics"),
    "no",
  ],
  // AmazonEKSViewPolicy, cluster scope.
  ["View (cluster): list namespaces", VIEW, q("list", "namespaces", null), "yes"],
  ["View (cluster): list nodes", VIEW, q("list", "nodes", null), "no"],
  ["View (cluster): list pods in all namespaces", VIEW, q("list", "pods", null), "yes"],
  ["View (cluster): get /version", VIEW, q("get", "/version"), "no"],
  // AmazonEKSEditPolicy, namespaces payments and team-*.
  ["Edit: create pods/exec in team-a (glob)", EDIT_NS, q("create", "pods/exec", "team-a"), "yes"],
  ["Edit: get pods/exec", EDIT_NS, q("get", "pods/exec", "payments"), "yes"],
  ["Edit: create pods/exec in teams (not team-*)", EDIT_NS, q("create", "pods/exec", "teams"), "no"],
  ["Edit: create pods/exec in other", EDIT_NS, q("create", "pods/exec", "other"), "no"],
  ["Edit: get secrets", EDIT_NS, q("get", "secrets", "payments"), "yes"],
  ["Edit: create secrets", EDIT_NS, q("create", "secrets", "payments"), "yes"],
  ["Edit: create roles", EDIT_NS, q("create", "roles.rbac.authorization.k8s.io", "payments"), "no"],
  ["Edit: impersonate serviceaccounts", EDIT_NS, q("impersonate", "serviceaccounts", "payments"), "yes"],
  ["Edit: impersonate users", EDIT_NS, q("impersonate", "users", "payments"), "no"],
  ["Edit: update deployments/scale", EDIT_NS, q("update", "deployments.apps/scale", "team-x"), "yes"],
  ["Edit: patch statefulsets/scale", EDIT_NS, q("patch", "statefulsets.apps/scale", "payments"), "yes"],
  ["Edit: create deployments/rollback", EDIT_NS, q("create", "deployments.apps/rollback", "payments"), "yes"],
  ["Edit: create pods/eviction", EDIT_NS, q("create", "pods/eviction", "payments"), "no"],
  [
    "Edit: create localsubjectaccessreviews",
    EDIT_NS,
    q("create", "localsubjectaccessreviews.authorization.k8s.io", "payments"),
    "no",
  ],
  ["Edit: list nodes", EDIT_NS, q("list", "nodes"), "no"],
  ["Edit: get /healthz", EDIT_NS, q("get", "/healthz"), "no"],
  ["Edit: deletecollection configmaps", EDIT_NS, q("deletecollection", "configmaps", "payments"), "yes"],
  ["Edit: create pods/portforward", EDIT_NS, q("create", "pods/portforward", "payments"), "yes"],
  ["Edit: get services/proxy", EDIT_NS, q("get", "services/proxy", "payments"), "yes"],
  ["Edit: create cronjobs", EDIT_NS, q("create", "cronjobs.batch", "payments"), "yes"],
  ["Edit: create pods across all namespaces", EDIT_NS, q("create", "pods", null), "no"],
  ["Edit: bind roles", EDIT_NS, q("bind", "roles.rbac.authorization.k8s.io", "payments"), "no"],
  [
    "Edit: update replicationcontrollers/scale",
    EDIT_NS,
    q("update", "replicationcontrollers/scale", "payments"),
    "yes",
  ],
  [
    "Edit: create poddisruptionbudgets",
    EDIT_NS,
    q("create", "poddisruptionbudgets.policy", "payments"),
    "yes",
  ],
  [
    "Edit: update ingresses/status",
    EDIT_NS,
    q("update", "ingresses.networking.k8s.io/status", "payments"),
    "no",
  ],
  [
    "Edit: create networkpolicies.extensions",
    EDIT_NS,
    q("create", "networkpolicies.extensions", "payments"),
    "yes",
  ],
  ["Edit: update pods/status", EDIT_NS, q("update", "pods/status", "payments"), "no"],
  // AmazonEKSAdminPolicy, namespace dev.
  ["Admin: create roles", ADMIN_NS, q("create", "roles.rbac.authorization.k8s.io", "dev"), "yes"],
  [
    "Admin: delete rolebindings",
    ADMIN_NS,
    q("delete", "rolebindings.rbac.authorization.k8s.io", "dev"),
    "yes",
  ],
  ["Admin: watch roles", ADMIN_NS, q("watch", "roles.rbac.authorization.k8s.io", "dev"), "yes"],
  [
    "Admin: create localsubjectaccessreviews",
    ADMIN_NS,
    q("create", "localsubjectaccessreviews.authorization.k8s.io", "dev"),
    "yes",
  ],
  [
    "Admin: get localsubjectaccessreviews",
    ADMIN_NS,
    q("get", "localsubjectaccessreviews.authorization.k8s.io", "dev"),
    "no",
  ],
  [
    "Admin: create clusterroles",
    ADMIN_NS,
    q("create", "clusterroles.rbac.authorization.k8s.io", "dev"),
    "no",
  ],
  ["Admin: get /healthz (namespace scope)", ADMIN_NS, q("get", "/healthz"), "no"],
  ["Admin: escalate roles", ADMIN_NS, q("escalate", "roles.rbac.authorization.k8s.io", "dev"), "no"],
  ["Admin: create pods/exec (inherited from Edit)", ADMIN_NS, q("create", "pods/exec", "dev"), "yes"],
  ["Admin: get secrets (inherited from Edit)", ADMIN_NS, q("get", "secrets", "dev"), "yes"],
  ["Admin: list namespaces (namespace scope)", ADMIN_NS, q("list", "namespaces"), "no"],
  [
    "Admin: create roles in another namespace",
    ADMIN_NS,
    q("create", "roles.rbac.authorization.k8s.io", "prod"),
    "no",
  ],
  ["Admin (cluster): list pods in all namespaces", ADMIN, q("list", "pods", null), "yes"],
  [
    "Admin (cluster): create selfsubjectaccessreviews",
    ADMIN,
    q("create", "selfsubjectaccessreviews.authorization.k8s.io"),
    "no",
  ],
  // AmazonEKSHybridPolicy: list nodes, nothing else.
  ["Hybrid: list nodes", HYBRID, q("list", "nodes"), "yes"],
  ["Hybrid: get nodes", HYBRID, q("get", "nodes"), "no"],
  ["Hybrid: list pods", HYBRID, q("list", "pods"), "no"],
  ["Hybrid: list nodes/status", HYBRID, q("list", "nodes/status"), "no"],
  ["Hybrid: list nodes of any group", HYBRID, q("list", "nodes.metrics.k8s.io"), "yes"],
  ["Hybrid (namespace scope): list nodes", [p("Hybrid", ["dev"])], q("list", "nodes"), "no"],
  // Cluster-only policies with a namespace scope (possible in live state): only inside the namespaces.
  [
    "ClusterAdmin (namespace scope): get pods in dev",
    [p("ClusterAdmin", ["dev"])],
    q("get", "pods", "dev"),
    "yes",
  ],
  ["ClusterAdmin (namespace scope): get nodes", [p("ClusterAdmin", ["dev"])], q("get", "nodes"), "no"],
  ["ClusterAdmin (namespace scope): get /healthz", [p("ClusterAdmin", ["dev"])], q("get", "/healthz"), "no"],
  // Namespace globs.
  ["glob *: list pods in anything", [p("View", ["*"])], q("list", "pods", "whatever"), "yes"],
  ["glob *: list pods in all namespaces", [p("View", ["*"])], q("list", "pods", null), "no"],
  ["glob team-*: xteam-a", EDIT_NS, q("get", "pods", "xteam-a"), "no"],
  ["glob *-prod: api-prod", [p("View", ["*-prod"])], q("get", "pods", "api-prod"), "yes"],
  ["glob *-prod: prod", [p("View", ["*-prod"])], q("get", "pods", "prod"), "no"],
  ["glob a*b*c: axxbyyc", [p("View", ["a*b*c"])], q("get", "pods", "axxbyyc"), "yes"],
  // A custom resource (not in the table) is namespaced.
  [
    "AdminView (namespace): get a custom resource",
    [p("AdminView", ["dev"])],
    q("get", "widgets.example.com", "dev"),
    "yes",
  ],
  // Unions of associations.
  [
    "union: Edit in payments wins for create",
    [...VIEW_NS, p("Edit", ["payments"])],
    q("create", "pods", "payments"),
    "yes",
  ],
  [
    "union: View does not write in analytics",
    [...VIEW_NS, p("Edit", ["payments"])],
    q("create", "pods", "analytics"),
    "no",
  ],
  ["union: Hybrid adds list nodes to Edit", [...EDIT_NS, ...HYBRID], q("list", "nodes"), "yes"],
  ["no associations", [], q("get", "pods"), "no"],
  // Unknown policies are never taken as allowing.
  ["unknown ARN alone", [p("AutoNode")], q("get", "pods"), "unknown"],
  ["unknown ARN beside View: View allows get", [p("AutoNode"), ...VIEW], q("get", "pods"), "yes"],
  ["unknown ARN beside View: create undecided", [p("AutoNode"), ...VIEW], q("create", "pods"), "unknown"],
  ["two unknown ARNs", [p("AutoNode"), p("BlockStorageCluster")], q("list", "nodes"), "unknown"],
];

test("the table has at least 60 cases", () => assert.ok(CASES.length >= 60, String(CASES.length)));

for (const [label, policies, request, expect] of CASES) {
  test(`table: ${label} -> ${expect}`, () => {
    const d = evaluateAccess(policies, request);
    assert.equal(d.verdict, expect, d.reason);
    assert.equal(d.allowed, expect === "yes");
    assert.equal(d.undecided.length > 0, expect === "unknown");
    if (d.allowed) assert.ok(d.policy !== null && d.scope !== null);
    else assert.ok(d.policy === null && d.scope === null);
  });
}

test("an allowed request names the policy and scope that decided it", () => {
  const edit = p("Edit", ["payments", "team-*"]);
  const d = evaluateAccess([p("View", ["analytics"]), edit], q("create", "pods/exec", "team-a"));
  assert.deepEqual(
    { allowed: d.allowed, policy: d.policy, scope: d.scope },
    { allowed: true, policy: edit.arn, scope: { type: "namespace", namespaces: ["payments", "team-*"] } },
  );
  assert.match(d.reason, /AmazonEKSEditPolicy allows create pods\/exec in namespace team-a/);
  // The first association that allows is reported.
  const first = evaluateAccess([p("View"), p("Edit")], q("get", "pods"));
  assert.equal(first.policy, accessPolicyArn("AmazonEKSViewPolicy"));
});

test("a denial says why: out of scope, or not granted at all", () => {
  const nodes = evaluateAccess([p("View", ["analytics"])], q("list", "namespaces"));
  assert.match(nodes.reason, /scope \(namespace analytics\) does not cover cluster-scoped namespaces/);
  const other = evaluateAccess([p("Edit", ["payments", "team-*"])], q("get", "pods", "teams"));
  assert.match(other.reason, /does not include namespace teams/);
  const all = evaluateAccess([p("Edit", ["payments"])], q("list", "pods", null));
  assert.match(all.reason, /across all namespaces/);
  const url = evaluateAccess([p("ClusterAdmin", ["dev"])], q("get", "/healthz"));
  assert.match(url.reason, /does not cover non-resource URLs/);
  const none = evaluateAccess([p("View", ["analytics"])], q("get", "secrets", "analytics"));
  assert.match(none.reason, /none of the associated policies allows get secrets in namespace analytics/);
  assert.match(evaluateAccess([], q("get", "pods")).reason, /no access policies/);
});

test("an unknown policy ARN is 'cannot evaluate', never allowed", () => {
  const auto = accessPolicyArn("AmazonEKSAutoNodePolicy");
  const d = evaluateAccess([{ arn: auto, scope: { type: "cluster" } }], q("get", "pods"));
  assert.equal(d.allowed, false);
  assert.equal(d.verdict, "unknown");
  assert.deepEqual(d.undecided, [auto]);
  assert.equal(d.policy, null);
  assert.match(d.reason, /^cannot evaluate: AmazonEKSAutoNodePolicy is not in xeks's policy data/);
  // Not even a policy ARN at all.
  const junk = evaluateAccess(
    [{ arn: "arn:aws:iam::aws:policy/AdministratorAccess", scope: { type: "cluster" } }],
    q("get", "pods"),
  );
  assert.equal(junk.verdict, "unknown");
});

test("policies are found by ARN in any partition, or by short name", () => {
  const cn = accessPolicyArn("AmazonEKSViewPolicy", "aws-cn");
  assert.equal(policyRules(cn), ACCESS_POLICY_RULES.AmazonEKSViewPolicy);
  assert.equal(policyRules("AmazonEKSEditPolicy"), ACCESS_POLICY_RULES.AmazonEKSEditPolicy);
  assert.equal(policyRules("toString"), undefined, "no prototype keys");
  const d = evaluateAccess([{ arn: cn, scope: { type: "cluster" } }], q("get", "pods"));
  assert.equal(d.policy, cn);
  for (const name of KNOWN_ACCESS_POLICIES) assert.ok(policyRules(name), name);
});

test("View ⊂ Edit ⊂ Admin by composition", () => {
  const {
    AmazonEKSViewPolicy: view,
    AmazonEKSEditPolicy: edit,
    AmazonEKSAdminPolicy: admin,
  } = ACCESS_POLICY_RULES;
  assert.deepEqual(edit.slice(0, view.length), view);
  assert.deepEqual(admin.slice(0, edit.length), edit);
  assert.ok(view.length < edit.length && edit.length < admin.length);
});

test("Kubernetes wildcard semantics of single rules", () => {
  const scale = { apiGroups: ["*"], resources: ["*/scale"], verbs: ["update"] };
  assert.equal(ruleAllows(scale, q("update", "deployments.apps/scale")), true);
  assert.equal(ruleAllows(scale, q("update", "deployments.apps")), false);
  assert.equal(ruleAllows(scale, q("update", "deployments.apps/status")), false);
  const urls = { nonResourceURLs: ["/api/*", "/healthz"], verbs: ["get"] };
  assert.equal(ruleAllows(urls, q("get", "/api/v1")), true);
  assert.equal(ruleAllows(urls, q("get", "/api/")), true);
  assert.equal(ruleAllows(urls, q("get", "/api")), false);
  assert.equal(ruleAllows(urls, q("get", "/healthz")), true);
  assert.equal(ruleAllows(urls, q("get", "/healthz/etcd")), false);
  assert.equal(ruleAllows(urls, q("post", "/healthz")), false);
  assert.equal(ruleAllows(urls, q("get", "pods")), false, "URL rules never grant resources");
  const pods = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };
  assert.equal(ruleAllows(pods, q("get", "pods")), true);
  assert.equal(ruleAllows(pods, q("get", "pods/exec")), false);
  assert.equal(ruleAllows(pods, q("get", "pods.apps")), false);
  assert.equal(ruleAllows(pods, q("*", "pods")), false, "a * request needs a * rule");
  assert.equal(ruleAllows(pods, q("get", "*")), false);
  assert.equal(ruleAllows(pods, q("get", "/pods")), false, "resource rules never grant URLs");
});

test("namespace globs", () => {
  assert.equal(namespaceMatches("team-*", "team-a"), true);
  assert.equal(namespaceMatches("team-*", "teams"), false);
  assert.equal(namespaceMatches("team-*", "xteam-a"), false);
  assert.equal(namespaceMatches("dev", "dev"), true);
  assert.equal(namespaceMatches("dev", "dev2"), false);
  assert.equal(namespaceMatches("*", "kube-system"), true);
  assert.equal(namespaceMatches("a.b*", "axb"), false, "only * is special");
});
