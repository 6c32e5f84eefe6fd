/** RESOURCE, VERB and namespace as `xeks can-i` reads them (kubectl auth can-i spellings, offline). */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CLUSTER_SCOPED_RESOURCES,
  isClusterScoped,
  parseNamespace,
  parseResource,
  parseVerb,
} from "../src/access/index.js";
import { InputError } from "../src/errors.js";

/** `group/resource/sub` of a parsed resource, or `url:…`. */
function show(text: string, subresource?: string): string {
  const t = parseResource(text, { subresource });
  if (t.kind === "nonResource") return `url:${t.nonResourceURL}`;
  return `${t.apiGroup}/${t.resource}${t.subresource ? `/${t.subresource}` : ""}${t.clusterScoped ? " C" : ""}`;
}

const RESOURCES: [string, string][] = [
  ["pods", "/pods"],
  ["pod", "/pods"],
  ["Pods", "/pods"],
  ["deployments.apps", "apps/deployments"],
  ["deployments.v1.apps", "apps/deployments"],
  ["deployment", "apps/deployments"],
  ["deploy.apps", "apps/deployments"],
  ["deployments.extensions", "extensions/deployments"],
  ["roles", "rbac.authorization.k8s.io/roles"],
  ["roles.rbac.authorization.k8s.io", "rbac.authorization.k8s.io/roles"],
  ["clusterroles", "rbac.authorization.k8s.io/clusterroles C"],
  ["pods/exec", "/pods/exec"],
  ["po/log", "/pods/log"],
  ["deployments.apps/scale", "apps/deployments/scale"],
  ["ingresses", "networking.k8s.io/ingresses"],
  ["events", "/events"],
  ["events.events.k8s.io", "events.k8s.io/events"],
  ["localsubjectaccessreviews", "authorization.k8s.io/localsubjectaccessreviews"],
  ["storageclass", "storage.k8s.io/storageclasses C"],
  ["ingress", "networking.k8s.io/ingresses"],
  ["networkpolicy", "networking.k8s.io/networkpolicies"],
  ["endpoints", "/endpoints"],
  ["*", "/*"],
  ["/healthz", "url:/healthz"],
  ["/api/*", "url:/api/*"],
];

for (const [text, want] of RESOURCES) {
  test(`parseResource ${text} -> ${want}`, () => assert.equal(show(text), want));
}

const SHORT: [string, string][] = [
  ["po", "/pods"],
  ["deploy", "apps/deployments"],
  ["svc", "/services"],
  ["cm", "/configmaps"],
  ["ns", "/namespaces C"],
  ["no", "/nodes C"],
  ["pvc", "/persistentvolumeclaims"],
  ["sa", "/serviceaccounts"],
  ["ds", "apps/daemonsets"],
  ["rs", "apps/replicasets"],
  ["sts", "apps/statefulsets"],
  ["ing", "networking.k8s.io/ingresses"],
  ["netpol", "networking.k8s.io/networkpolicies"],
  ["pdb", "policy/poddisruptionbudgets"],
  ["hpa", "autoscaling/horizontalpodautoscalers"],
  ["cj", "batch/cronjobs"],
  ["ep", "/endpoints"],
  ["ev", "/events"],
  ["crd", "apiextensions.k8s.io/customresourcedefinitions C"],
  ["crds", "apiextensions.k8s.io/customresourcedefinitions C"],
  ["pv", "/persistentvolumes C"],
  ["sc", "storage.k8s.io/storageclasses C"],
  ["rc", "/replicationcontrollers"],
  ["quota", "/resourcequotas"],
  ["limits", "/limitranges"],
  ["csr", "certificates.k8s.io/certificatesigningrequests C"],
  ["pc", "scheduling.k8s.io/priorityclasses C"],
];

test("kubectl short names", () => {
  for (const [short, want] of SHORT) assert.equal(show(short), want, short);
});

test("--subresource is the same as RESOURCE/SUB; with it, RESOURCE/X names an object (as kubectl)", () => {
  assert.equal(show("pods", "exec"), "/pods/exec");
  const named = parseResource("pods/exec", { subresource: "log" });
  assert.ok(named.kind === "resource");
  assert.deepEqual([named.subresource, named.name], ["log", "exec"]);
  assert.throws(() => parseResource("/healthz", { subresource: "exec" }), InputError);
  assert.throws(() => parseResource("pods", { subresource: "" }), InputError);
});

test("unknown resources: core and namespaced, with a warning", () => {
  const w = parseResource("widgets");
  assert.ok(w.kind === "resource");
  assert.deepEqual([w.apiGroup, w.resource, w.known, w.clusterScoped], ["", "widgets", false, false]);
  assert.match(w.warnings.join(), /not a well-known resource/);
  const crd = parseResource("widgets.example.com");
  assert.ok(crd.kind === "resource");
  assert.deepEqual([crd.apiGroup, crd.resource, crd.known], ["example.com", "widgets", false]);
  const odd = parseResource("pods.apps");
  assert.match(odd.warnings.join(), /core group, not of apps/);
  const sub = parseResource("pods", { subresource: "frobnicate" });
  assert.match(sub.warnings.join(), /not a known subresource/);
  assert.deepEqual(parseResource("pods/exec").warnings, []);
});

test("bad RESOURCE text is an InputError", () => {
  for (const bad of [
    "",
    "  ",
    "pods/exec/x",
    "po ds",
    "pods!",
    "-pods",
    "pods..apps",
    "pods/",
    "/with space",
  ]) {
    assert.throws(() => parseResource(bad), InputError, JSON.stringify(bad));
  }
});

test("verbs", () => {
  for (const v of ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]) {
    assert.equal(parseVerb(v), v);
  }
  for (const v of ["impersonate", "bind", "escalate", "use", "*"]) assert.equal(parseVerb(v), v);
  assert.equal(parseVerb("post", { nonResource: true }), "post");
  assert.throws(() => parseVerb("post"), InputError);
  assert.throws(() => parseVerb("fly"), InputError);
  assert.throws(() => parseVerb("GET"), /verbs are lowercase: get/);
  assert.throws(() => parseVerb("exec"), InputError);
});

test("namespaces", () => {
  assert.equal(parseNamespace("team-a"), "team-a");
  assert.equal(parseNamespace("a".repeat(63)), "a".repeat(63));
  for (const bad of ["Bad_ns", "a".repeat(64), "*", "team-*", "-x", "x-", "", "a.b"]) {
    assert.throws(() => parseNamespace(bad), InputError, bad);
  }
});

test("the table of cluster-scoped resources", () => {
  for (const r of [
    "nodes",
    "namespaces",
    "persistentvolumes",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
    "storageclasses.storage.k8s.io",
    "ingressclasses.networking.k8s.io",
    "priorityclasses.scheduling.k8s.io",
  ]) {
    assert.ok(CLUSTER_SCOPED_RESOURCES.includes(r), r);
  }
  assert.equal(isClusterScoped("", "nodes"), true);
  assert.equal(isClusterScoped("", "pods"), false);
  assert.equal(isClusterScoped("rbac.authorization.k8s.io", "roles"), false);
  assert.equal(isClusterScoped("example.com", "widgets"), false);
});
