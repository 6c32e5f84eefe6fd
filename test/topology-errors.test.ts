/**
 * Malformed topology files: each exits 2, names the field path (and line), says what would be valid, prints
 * no stack trace and writes nothing to the out directory. Runs the real bin/xeks.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ROOT, xeks } from "./helpers/cli.js";

const seed = readFileSync(join(ROOT, "examples/seed.yaml"), "utf8");
const teams = readFileSync(join(ROOT, "examples/teams.yaml"), "utf8");
const work = mkdtempSync(join(tmpdir(), "xeks-topology-"));
after(() => rmSync(work, { recursive: true, force: true }));

function replaced(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `fixture text not found: ${from}`);
  return text.replace(from, to);
}

interface Case {
  name: string;
  text: string;
  /** Expected in the message: the field path (or a location) and what would be valid. */
  expect: (string | RegExp)[];
}

const cases: Case[] = [
  {
    name: "bad YAML",
    text: replaced(seed, "clients:", "clients: ["),
    expect: [/is not valid YAML/, /:\d+:\d+: YAML:/],
  },
  {
    name: "duplicate YAML key",
    text: replaced(seed, "  region: ap-south-1", "  region: ap-south-1\n  region: eu-west-1"),
    expect: ["Map keys must be unique"],
  },
  { name: "not a mapping", text: "- just\n- a list\n", expect: ["must be a YAML mapping"] },
  { name: "empty file", text: "", expect: ["must be a YAML mapping"] },
  {
    name: "wrong version",
    text: replaced(seed, "version: 1", "version: 2"),
    expect: ["version: expected version: 1"],
  },
  {
    name: "missing version",
    text: replaced(seed, "version: 1\n", ""),
    expect: ["version: required field is missing"],
  },
  {
    name: "unknown top-level key",
    text: `${seed}extras: true\n`,
    expect: ["extras: unknown key"],
  },
  {
    name: "unknown key in a client",
    text: replaced(seed, "    role: EC2", "    rol: x\n    role: EC2"),
    expect: ["clients[0].rol: unknown key"],
  },
  {
    name: "account id as a number",
    text: replaced(seed, 'account: "222222222222"', "account: 222222222222"),
    expect: ["clients[0].account:", "12-digit account id as a quoted string"],
  },
  {
    name: "account id too short",
    text: replaced(seed, 'account: "111111111111"', 'account: "11111111111"'),
    expect: ["cluster.account:", "12-digit"],
  },
  {
    name: "bad region",
    text: replaced(seed, "region: ap-south-1", "region: mumbai"),
    expect: ["cluster.region:", "AWS region such as"],
  },
  {
    name: "CIDR with host bits",
    text: replaced(seed, "172.31.0.0/16", "172.31.0.1/16"),
    expect: ["clients[0].vpc.cidr:", "IPv4 CIDR", '"172.31.0.1/16"'],
  },
  {
    name: "CIDR prefix out of range",
    text: replaced(seed, "10.0.0.0/16", "10.0.0.0/33"),
    expect: ["cluster.vpc.cidr:", "IPv4 CIDR"],
  },
  {
    name: "bad VPC id",
    text: replaced(seed, "id: vpc-0aaa1111bbbb2222c", "id: vpc-XYZ"),
    expect: ["cluster.vpc.id:", "expected a vpc id"],
  },
  {
    name: "bad security group id",
    text: replaced(seed, "sg-0123456789abcdef0", "sg-123"),
    expect: ["cluster.securityGroupId:", "expected a sg id"],
  },
  {
    name: "no route tables",
    text: replaced(seed, "routeTables: [rtb-0ddd3333eeee4444f]", "routeTables: []"),
    expect: ["clients[0].vpc.routeTables:", "at least one route table"],
  },
  {
    name: "bad route table id",
    text: replaced(seed, "routeTables: [rtb-0ddd3333eeee4444f]", "routeTables: [rt-1]"),
    expect: ["clients[0].vpc.routeTables[0]:", "rtb"],
  },
  {
    name: "bad role name",
    text: replaced(seed, "role: EC2-EKS-CrossAccount-Role", "role: EC2 EKS Role"),
    expect: ["clients[0].role:", "IAM role name"],
  },
  {
    name: "missing client role",
    text: replaced(seed, "    role: EC2-EKS-CrossAccount-Role\n", ""),
    expect: ["clients[0].role: required field is missing"],
  },
  {
    name: "bad client name",
    text: replaced(seed, "name: ops", "name: Ops_Team"),
    expect: ["clients[0].name:", "lowercase letter"],
  },
  {
    name: "unknown client in access",
    text: replaced(seed, "clients: [ops]", "clients: [ops, dev]"),
    expect: ['access[0].clients[1]: unknown client "dev"', "known clients: ops"],
  },
  {
    name: "unknown access policy",
    text: replaced(seed, "- AmazonEKSClusterAdminPolicy", "- AmazonEKSGodPolicy"),
    expect: ['access[0].policies[0]: unknown access policy "AmazonEKSGodPolicy"', "AmazonEKSViewPolicy"],
  },
  {
    name: "namespaces on a cluster-only policy",
    text: replaced(
      seed,
      "- AmazonEKSClusterAdminPolicy",
      "- { policy: AmazonEKSClusterAdminPolicy, namespaces: [dev] }",
    ),
    expect: ["access[0].policies[0].namespaces:", "must be cluster-scoped"],
  },
  {
    name: "bad namespace",
    text: replaced(teams, "namespaces: [analytics]", "namespaces: [Analytics_NS]"),
    expect: ["access[1].policies[0].namespaces[0]:", "namespace name"],
  },
  {
    name: "duplicate client names",
    text: replaced(teams, "name: analytics", "name: payments"),
    expect: ['clients[1].name: duplicate client name "payments"'],
  },
  {
    name: "same access role twice",
    text: replaced(teams, "role: Analytics-EKS-View-Role", "role: Payments-EKS-Edit-Role"),
    expect: ['access[1].role: duplicate access role "Payments-EKS-Edit-Role"'],
  },
  {
    name: "same policy twice in one entry",
    text: replaced(
      seed,
      "- AmazonEKSClusterAdminPolicy",
      "- AmazonEKSClusterAdminPolicy\n      - AmazonEKSClusterAdminPolicy",
    ),
    expect: ["access[0].policies[1]:", "listed twice"],
  },
  {
    name: "client in the cluster account",
    text: replaced(seed, 'account: "222222222222"', 'account: "111111111111"'),
    expect: ["clients[0].account:", "must differ from the cluster account"],
  },
  {
    name: "missing cluster",
    text: seed.replace(/cluster:\n( {2}.*\n)+/, ""),
    expect: ["cluster: required field is missing"],
  },
  {
    name: "no access roles",
    text: seed.replace(/access:\n[\s\S]*$/, "access: []\n"),
    expect: ["access:", "at least one access role"],
  },
  {
    name: "bad authentication mode",
    text: replaced(seed, "authenticationMode: API_AND_CONFIG_MAP", "authenticationMode: IAM"),
    expect: ["cluster.authenticationMode:", '"API_AND_CONFIG_MAP"'],
  },
  {
    name: "reserved username prefix",
    text: replaced(teams, 'username: "analytics:{{SessionName}}"', 'username: "system:admin"'),
    expect: ["access[1].username:", "must not start with system:"],
  },
  {
    name: "SessionName without a colon before it",
    text: replaced(teams, 'username: "analytics:{{SessionName}}"', 'username: "{{SessionName}}"'),
    expect: ["access[1].username:", "needs a ':' before it"],
  },
  {
    name: "bad external id",
    text: replaced(teams, "externalId: analytics-7f3c2a", "externalId: x"),
    expect: ["access[1].externalId:", "2-1224 characters"],
  },
  {
    name: "endpoint not https",
    text: replaced(teams, "endpoint: https://", "endpoint: http://"),
    expect: ["cluster.endpoint:", "https:// URL"],
  },
  {
    name: "bad subnet id on the instance",
    text: replaced(teams, "subnetId: subnet-0fff5555aaaa6666b", "subnetId: sn-1"),
    expect: ["clients[1].instance.subnetId:", "subnet"],
  },
  {
    name: "bad policy ARN in a boundary",
    text: replaced(
      seed,
      "    role: EC2-EKS-CrossAccount-Role",
      '    role:\n      name: EC2-EKS-CrossAccount-Role\n      permissionsBoundary: { arn: "arn:aws:iam::222222222222:role/nope", document: { Statement: [{ Effect: Allow, Action: "*", Resource: "*" }] } }',
    ),
    expect: ["clients[0].role.permissionsBoundary.arn:", "managed policy ARN"],
  },
  {
    name: "policy statement with a bad effect",
    text: replaced(
      seed,
      "  vpc:\n    id: vpc-0aaa",
      '  scps: [{ name: deny-all, document: { Statement: [{ Effect: Maybe, Action: "*", Resource: "*" }] } }]\n  vpc:\n    id: vpc-0aaa',
    ),
    expect: ["cluster.scps[0].document.Statement", "Effect"],
  },
  {
    name: "a YAML alias bomb",
    text: `a0: &a0 [x]\n${Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(", ")}]`).join("\n")}\n`,
    expect: ["is not a usable YAML document", "write the values out"],
  },
];

test(`at least 25 malformed topologies (${cases.length})`, () => {
  assert.ok(cases.length >= 25);
});

for (const [i, c] of cases.entries()) {
  test(`malformed: ${c.name}`, () => {
    const file = join(work, `case-${i}.yaml`);
    const out = join(work, `out-${i}`);
    writeFileSync(file, c.text);
    const r = xeks(["plan", file, "--out", out]);
    assert.equal(r.status, 2, `exit code 2 expected; stderr:\n${r.stderr}`);
    for (const e of c.expect) {
      if (typeof e === "string")
        assert.ok(r.stderr.includes(e), `stderr lacks ${JSON.stringify(e)}:\n${r.stderr}`);
      else assert.match(r.stderr, e);
    }
    assert.ok(r.stderr.includes(file), "the message names the file");
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
    assert.equal(r.stdout, "", "nothing on stdout");
    assert.equal(existsSync(out), false, "nothing written to the out directory");
  });
}

test("a missing file is invalid input, not a crash", () => {
  const r = xeks(["plan", join(work, "nope.yaml"), "--out", join(work, "out-missing")]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read topology file .*nope\.yaml: no such file/);
});

test("an unknown flag is invalid input", () => {
  const r = xeks(["plan", "examples/seed.yaml", "--bogus"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
});
