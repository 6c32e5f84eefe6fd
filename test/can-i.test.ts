/** The real `bin/xeks can-i` (after `npm run build`) on the bundled examples: text, JSON, exit codes. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { xeks } from "./helpers/cli.js";

const TEAMS = "examples/teams.yaml";
const SEED = "examples/seed.yaml";
const PAYMENTS = "arn:aws:iam::111111111111:role/Payments-EKS-Edit-Role";
const ANALYTICS = "Analytics-EKS-View-Role";

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

test("yes: exit 0, `yes` alone on stdout, the deciding policy on stderr", () => {
  const r = xeks(["can-i", "create", "pods/exec", "-n", "team-a", "--role-arn", PAYMENTS, TEAMS]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "yes\n");
  assert.match(r.stderr, /AmazonEKSEditPolicy allows create pods\/exec in namespace team-a/);
  const sub = xeks([
    "can-i",
    "create",
    "pods",
    "--subresource",
    "exec",
    "-n",
    "payments",
    "--role-arn",
    PAYMENTS,
    TEAMS,
  ]);
  assert.equal(sub.status, 0, sub.stderr);
  assert.equal(sub.stdout, "yes\n");
});

test("no: exit 1, `no` on stdout, why on stderr (with the RBAC caveat for groups)", () => {
  const r = xeks(["can-i", "get", "secrets", "-n", "analytics", "--role-arn", ANALYTICS, TEAMS]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, "no\n");
  assert.match(r.stderr, /none of the associated policies allows get secrets in namespace analytics/);
  assert.match(r.stderr, /analytics-readers/);
  const q = xeks(["can-i", "list", "nodes", "-q", "--role-arn", PAYMENTS, TEAMS]);
  assert.deepEqual([q.status, q.stdout, q.stderr], [1, "", ""]);
});

test("--output json: allowed, policy, scope, reason", () => {
  const yes = xeks(["can-i", "get", "/healthz", "-o", "json", SEED]);
  assert.equal(yes.status, 0, yes.stderr);
  const y = JSON.parse(yes.stdout);
  assert.deepEqual(Object.keys(y).slice(0, 4), ["allowed", "policy", "scope", "reason"]);
  assert.equal(y.allowed, true);
  assert.equal(y.policy, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
  assert.deepEqual(y.scope, { type: "cluster" });
  assert.equal(y.role, "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role");
  const edit = xeks([
    "can-i",
    "update",
    "deploy/scale",
    "-n",
    "team-x",
    "--role-arn",
    PAYMENTS,
    "--output",
    "json",
    TEAMS,
  ]);
  assert.equal(edit.status, 0, edit.stderr);
  assert.deepEqual(JSON.parse(edit.stdout).scope, { type: "namespace", namespaces: ["payments", "team-*"] });
  const no = xeks(["can-i", "list", "pods", "-A", "--role-arn", PAYMENTS, "-o", "json", TEAMS]);
  assert.equal(no.status, 1, no.stderr);
  const n = JSON.parse(no.stdout);
  assert.deepEqual([n.allowed, n.policy, n.scope], [false, null, null]);
  assert.match(n.reason, /across all namespaces/);
});

test("a policy xeks has no rules for: `unknown`, exit 3, never yes", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-can-i-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "xeks.yaml");
  const seed = readFileSync(SEED, "utf8").replace(
    "- AmazonEKSClusterAdminPolicy",
    "- arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy",
  );
  writeFileSync(file, seed);
  const r = xeks(["can-i", "get", "pods", file]);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, "unknown\n");
  assert.match(r.stderr, /cannot evaluate: AmazonEKSAutoNodePolicy/);
  const j = xeks(["can-i", "get", "pods", "-o", "json", file]);
  assert.equal(j.status, 3);
  const d = JSON.parse(j.stdout);
  assert.deepEqual(
    [d.allowed, d.verdict, d.undecided],
    [false, "unknown", ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"]],
  );
});

test("the default file is xeks.yaml in the working directory, and the lone role needs no --role-arn", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-can-i-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "xeks.yaml"), readFileSync(SEED, "utf8"));
  const r = xeks(["can-i", "delete", "nodes"], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "yes\n");
});

test("bad input: exit 2 with a message, no stack trace", () => {
  const cases: [string[], RegExp][] = [
    [
      ["can-i", "get", "pods", "--role-arn", "Nope-Role", TEAMS],
      /unknown access role "Nope-Role".*\n.*Payments-EKS-Edit-Role.*Analytics-EKS-View-Role/,
    ],
    [["can-i", "get", "pods", TEAMS], /name the access role with --role/],
    [["can-i", "fly", "pods", "--role-arn", PAYMENTS, TEAMS], /unknown verb "fly"/],
    [["can-i", "get", "pods", "-n", "Bad_NS", "--role-arn", PAYMENTS, TEAMS], /bad namespace "Bad_NS"/],
    [["can-i", "get", "pods/exec/x", "--role-arn", PAYMENTS, TEAMS], /more than one slash/],
    [
      ["can-i", "get", "pods", "-n", "a", "-A", "--role-arn", PAYMENTS, TEAMS],
      /both --namespace and --all-namespaces/,
    ],
    [["can-i", "get", "pods", "-o", "yaml", "--role-arn", PAYMENTS, TEAMS], /unknown output format "yaml"/],
    [["can-i", "get", "pods", "no-such-file.yaml"], /cannot read topology file no-such-file.yaml/],
    [["can-i", "get"], /missing required argument/],
  ];
  for (const [args, message] of cases) {
    const r = xeks(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
    assert.match(r.stderr, message, args.join(" "));
    noStack(r.stderr);
  }
});
