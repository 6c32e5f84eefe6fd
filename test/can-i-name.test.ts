/**
 * `xeks can-i VERB TYPE NAME` and `TYPE/NAME` (issue 13): the object name as kubectl takes it, told apart from
 * `TYPE/SUBRESOURCE`, matched against rules' resourceNames, and said plainly not to matter when no rule has
 * them. Library checks, then the real `bin/xeks` (after `npm run build`), then the real kubectl's help.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  ACCESS_POLICY_RULES,
  type AccessRequest,
  evaluateAccess,
  evaluateAsCluster,
  parseResource,
  type ResourceRule,
  ruleAllows,
} from "../src/access/index.js";
import { InputError } from "../src/errors.js";
import { xeks } from "./helpers/cli.js";

const TEAMS = "examples/teams.yaml";
const PAYMENTS = "arn:aws:iam::111111111111:role/Payments-EKS-Edit-Role";
const ARN = "arn:aws:eks::aws:cluster-access-policy/";

/** [resource, subresource, name] of a parsed RESOURCE. */
function parts(text: string, opts: { subresource?: string; name?: string } = {}): [string, string, string] {
  const t = parseResource(text, opts);
  assert.ok(t.kind === "resource", text);
  return [t.resource, t.subresource, t.name];
}

test("TYPE/X: a known subresource stays one, anything else names an object (as kubectl)", () => {
  assert.deepEqual(parts("pods/exec"), ["pods", "exec", ""]);
  assert.deepEqual(parts("po/log"), ["pods", "log", ""]);
  assert.deepEqual(parts("deploy/scale"), ["deployments", "scale", ""]);
  assert.deepEqual(parts("pods/mypod"), ["pods", "", "mypod"]);
  assert.deepEqual(parts("jobs.batch/bar"), ["jobs", "", "bar"]);
  assert.deepEqual(parts("deployments/my-app"), ["deployments", "", "my-app"]);
  assert.deepEqual(parseResource("deployments/my-app").warnings, []);
  // Names keep their case and may hold dots and colons (ClusterRole names such as system:aggregate-to-edit).
  assert.deepEqual(parts("clusterroles/system:aggregate-to-edit"), [
    "clusterroles",
    "",
    "system:aggregate-to-edit",
  ]);
  assert.deepEqual(parts("configmaps/App.Config"), ["configmaps", "", "App.Config"]);
});

test("--subresource makes TYPE/X a name; NAME on its own combines with either form", () => {
  assert.deepEqual(parts("pods/mypod", { subresource: "log" }), ["pods", "log", "mypod"]);
  assert.deepEqual(parts("pods/log", { subresource: "log" }), ["pods", "log", "log"]);
  assert.deepEqual(parts("pods", { name: "mypod" }), ["pods", "", "mypod"]);
  assert.deepEqual(parts("pods/log", { name: "mypod" }), ["pods", "log", "mypod"]);
  assert.deepEqual(parts("pods", { subresource: "log", name: "log" }), ["pods", "log", "log"]);
});

test("bad names: InputError naming RESOURCE or NAME and what would be valid", () => {
  const cases: [string, { subresource?: string; name?: string }, string, RegExp][] = [
    ["pods/a/b", {}, "RESOURCE", /more than one slash/],
    ["pods/", {}, "RESOURCE", /bad resource name ""/],
    ["pods/my%pod", {}, "RESOURCE", /bad resource name/],
    ["pods", { name: ".." }, "NAME", /bad resource name/],
    ["pods", { name: "my pod" }, "NAME", /bad resource name/],
    ["pods", { name: "x".repeat(254) }, "NAME", /bad resource name/],
    ["pods/mypod", { name: "other" }, "NAME", /two names for one object/],
    ["pods/mypod", { subresource: "log", name: "mypod" }, "NAME", /two names/],
    ["/healthz", { name: "x" }, "NAME", /does not apply to the non-resource URL/],
  ];
  for (const [text, opts, path, message] of cases) {
    assert.throws(
      () => parseResource(text, opts),
      (e: unknown) =>
        e instanceof InputError &&
        message.test(e.message) &&
        e.issues.some((i) => i.path === path && i.message.length > 0),
      `${text} ${JSON.stringify(opts)}`,
    );
  }
  assert.equal(parts("pods", { name: "x".repeat(253) })[2].length, 253);
});

test("resourceNames, as Kubernetes RBAC: absent grants every object, a list only the named ones", () => {
  const rule: ResourceRule = {
    apiGroups: [""],
    resources: ["configmaps"],
    verbs: ["get"],
    resourceNames: ["cfg"],
  };
  const get = (name?: string): AccessRequest => ({
    verb: "get",
    apiGroup: "",
    resource: "configmaps",
    namespace: "a",
    ...(name === undefined ? {} : { name }),
  });
  assert.equal(ruleAllows(rule, get("cfg")), true);
  assert.equal(ruleAllows(rule, get("other")), false);
  assert.equal(ruleAllows(rule, get()), false, "a request without a name does not match a named rule");
  const open: ResourceRule = { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] };
  assert.equal(ruleAllows(open, get("anything")), true);
  assert.equal(ruleAllows({ ...open, resourceNames: [] }, get("anything")), true);
});

test("the published policies name no objects: a name never changes the answer, and the reason says so", () => {
  for (const rules of Object.values(ACCESS_POLICY_RULES)) {
    for (const r of rules) assert.ok(!("resourceNames" in r) || r.resourceNames?.length === 0);
  }
  const requests: AccessRequest[] = [
    { verb: "get", apiGroup: "", resource: "pods", namespace: "team-a" },
    { verb: "get", apiGroup: "", resource: "pods", subresource: "log", namespace: "team-a" },
    { verb: "delete", apiGroup: "", resource: "secrets", namespace: "payments" },
    { verb: "get", apiGroup: "", resource: "nodes", namespace: null },
    { verb: "update", apiGroup: "apps", resource: "deployments", subresource: "scale", namespace: "x" },
  ];
  for (const policy of Object.keys(ACCESS_POLICY_RULES)) {
    for (const scope of [
      { type: "cluster" as const },
      { type: "namespace" as const, namespaces: ["team-*"] },
    ]) {
      const policies = [{ arn: `${ARN}${policy}`, scope }];
      for (const request of requests) {
        const bare = evaluateAccess(policies, request);
        const named = evaluateAccess(policies, { ...request, name: "mypod" });
        assert.equal(named.verdict, bare.verdict, `${policy} ${JSON.stringify(request)}`);
        assert.equal(bare.nameMatters, null);
        assert.equal(named.nameMatters, false);
        assert.match(named.reason, /named mypod/);
        assert.match(named.reason, /the name mypod does not change this answer/);
        assert.doesNotMatch(bare.reason, /does not change/);
      }
    }
  }
  const unknown = evaluateAsCluster([{ arn: `${ARN}AmazonEKSAutoNodePolicy`, scope: { type: "cluster" } }], {
    verb: "get",
    apiGroup: "",
    resource: "pods",
    namespace: "a",
    name: "p",
  });
  assert.equal(unknown.verdict, "unknown");
  assert.match(unknown.reason, /xeks cannot tell for AmazonEKSAutoNodePolicy/);
});

test("xeks can-i get pods mypod: yes, with the name and a plain note that it did not matter", () => {
  const r = xeks(["can-i", "get", "pods", "mypod", "-n", "team-a", "--role-arn", PAYMENTS, TEAMS]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "yes\n");
  assert.match(r.stderr, /AmazonEKSEditPolicy allows get pods named mypod in namespace team-a/);
  assert.match(r.stderr, /the name mypod does not change this answer/);
  const no = xeks(["can-i", "delete", "nodes", "mynode", "--role-arn", PAYMENTS, TEAMS]);
  assert.equal(no.status, 1, no.stderr);
  assert.match(no.stderr, /named mynode.*the name mynode does not change this answer/);
});

test("JSON: request.name and nameMatters; the same request in every spelling", () => {
  const json = (args: string[]) => {
    const r = xeks(["can-i", ...args, "-n", "team-a", "--role-arn", PAYMENTS, "-o", "json", TEAMS]);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const spellings = [
    ["get", "pods/mypod", "--subresource", "log"],
    ["get", "pods/log", "mypod"],
    ["get", "pods", "mypod", "--subresource", "log"],
  ];
  for (const args of spellings) {
    const d = json(args);
    assert.deepEqual(
      [d.request.resource, d.request.subresource, d.request.name, d.nameMatters],
      ["pods", "log", "mypod", false],
      args.join(" "),
    );
    assert.match(d.reason, /does not change this answer/);
  }
  const bare = json(["get", "pods"]);
  assert.equal(bare.nameMatters, null);
  assert.equal("name" in bare.request, false);
  const sub = json(["create", "pods/exec"]);
  assert.deepEqual([sub.request.subresource, sub.nameMatters], ["exec", null]);
});

test("a third argument is the FILE when it reads as one, else the NAME; NAME FILE gives both", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-can-i-name-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const teams = readFileSync(TEAMS, "utf8");
  writeFileSync(join(dir, "topo"), teams); // an existing file without extension
  writeFileSync(join(dir, "xeks.yaml"), teams); // the default file, used when the third argument is a NAME
  const run = (args: string[]) =>
    xeks(["can-i", "get", "pods", ...args, "-n", "team-a", "--role-arn", PAYMENTS, "-o", "json"], {
      cwd: dir,
    });
  for (const [args, name] of [
    [["topo"], undefined],
    [["./topo"], undefined],
    [["mypod"], "mypod"],
    [["mypod", "topo"], "mypod"],
    [["topo", "topo"], "topo"],
  ] as const) {
    const r = run([...args]);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).request.name, name, args.join(" "));
  }
  const missing = run(["other.yaml"]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read topology file other.yaml/);
});

test("bad names at the command line: exit 2, the argument and what would be valid, no stack", () => {
  const cases: [string[], RegExp][] = [
    [
      ["get", "pods/mypod", "mypod"],
      /two names for one object: pods\/mypod and NAME mypod\n\s+NAME: give the name once/,
    ],
    [["get", "/healthz", "x"], /NAME x does not apply to the non-resource URL \/healthz/],
    [["get", "pods", "my%pod"], /bad resource name "my%pod"\n\s+NAME: expected the name of one object/],
    [
      ["get", "pods/a/b"],
      /more than one slash\n\s+RESOURCE: write TYPE\/NAME \(pods\/mypod\) or TYPE\/SUBRESOURCE/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = xeks(["can-i", ...args, "--role-arn", PAYMENTS, TEAMS]);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message, args.join(" "));
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
});

test("--help documents the forms", () => {
  const r = xeks(["can-i", "--help"]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /can-i \[options\] <verb> <resource> \[name\] \[file\]/);
  assert.match(r.stdout, /xeks can-i get pods mypod -n team-a/);
  assert.match(r.stdout, /pods\/mypod --subresource log/);
});

test("the real kubectl: its can-i forms parse in xeks; kubectl itself takes TYPE/NAME, not TYPE NAME", (t) => {
  const help = spawnSync("kubectl", ["auth", "can-i", "--help"], { encoding: "utf8", timeout: 30_000 });
  if (help.error) {
    t.skip("kubectl not found");
    return;
  }
  assert.match(help.stdout, /kubectl auth can-i VERB \[TYPE \| TYPE\/NAME \| NONRESOURCEURL\]/);
  assert.match(help.stdout, /--subresource=''/);
  // Every example of kubectl's help (but --list) names a resource xeks reads the same way.
  const section = help.stdout.slice(help.stdout.indexOf("Examples:"), help.stdout.indexOf("Options:"));
  const examples = [...section.matchAll(/^\s+kubectl auth can-i (\S+) (\S+)/gm)]
    .map((m) => [m[1] ?? "", (m[2] ?? "").replace(/^'(.*)'$/, "$1")])
    .filter(([verb]) => !verb.startsWith("--"));
  assert.ok(examples.length >= 6, JSON.stringify(examples));
  for (const [, resource] of examples) assert.doesNotThrow(() => parseResource(resource ?? ""), resource);
  assert.deepEqual(parts("jobs.batch/bar"), ["jobs", "", "bar"], "kubectl's own TYPE/NAME example");
  // kubectl refuses three arguments before it reads any kubeconfig or server (an empty kubeconfig here).
  const dir = mkdtempSync(join(tmpdir(), "xeks-kubectl-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "config"), "");
  const three = spawnSync("kubectl", ["auth", "can-i", "get", "pods", "mypod"], {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: join(dir, "config") },
  });
  assert.notEqual(three.status, 0);
  assert.match(three.stderr, /you must specify two arguments: verb resource or verb resource\/resourceName/);
});
