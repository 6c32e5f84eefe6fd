/**
 * Malformed topology files: each exits 2, names the field path (and line), says what would be valid, prints
 * no stack trace and writes nothing to the out directory. Runs the real bin/xeks.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { stackSizeIssues } from "../src/layout/name-checks.js";
import { parseTopology } from "../src/topology/load.js";
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
    expect: [/:\d+:3: YAML: the key "region" appears twice in one mapping; keep one of them/],
  },
  {
    name: "unknown key: located at the key, not at its value",
    text: replaced(seed, "    role: EC2-EKS-CrossAccount-Role", "    rol: EC2-EKS-CrossAccount-Role"),
    expect: [/:23:5: clients\[0\]\.rol: unknown key \(did you mean "role"\?\)/],
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
    expect: ["clients[0].vpc.cidr:", "host bits are set", "172.31.0.0/16", '"172.31.0.1/16"'],
  },
  {
    name: "CIDR prefix out of range",
    text: replaced(seed, "10.0.0.0/16", "10.0.0.0/33"),
    expect: ["cluster.vpc.cidr:", "prefix /33 is out of range", "/0 to /32"],
  },
  {
    name: "CIDR with a leading zero",
    text: replaced(seed, "cidr: 10.0.0.0/16", "cidr: 010.0.0.0/16"),
    expect: ["cluster.vpc.cidr:", "leading zeros are ambiguous", "write 10.0.0.0/16"],
  },
  {
    name: "CIDR prefix with a leading zero",
    text: replaced(seed, "172.31.0.0/16", "172.31.0.0/016"),
    expect: ["clients[0].vpc.cidr:", "write 172.31.0.0/16"],
  },
  {
    name: "CIDR octet over 255",
    text: replaced(seed, "172.31.0.0/16", "172.310.0.0/16"),
    expect: ["clients[0].vpc.cidr:", "octet 310 is over 255"],
  },
  {
    name: "VPC CIDR of the whole internet",
    text: replaced(seed, "172.31.0.0/16", "0.0.0.0/0"),
    expect: ["clients[0].vpc.cidr:", "prefix from /16 to /28"],
  },
  {
    name: "VPC CIDR larger than a VPC can be",
    text: replaced(seed, "cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"),
    expect: ["cluster.vpc.cidr:", "prefix from /16 to /28"],
  },
  {
    name: "declared route with host bits",
    text: replaced(
      seed,
      "    routeTables: [rtb-0aaa1111bbbb2222c]\n",
      "    routeTables: [rtb-0aaa1111bbbb2222c]\n    routes: [{ routeTable: rtb-0aaa1111bbbb2222c, destination: 172.31.5.0/16, target: tgw-0123456789abcdef0 }]\n",
    ),
    expect: ["cluster.vpc.routes[0].destination:", "172.31.0.0/16"],
  },
  {
    name: "the same cluster route table twice",
    text: replaced(
      seed,
      "routeTables: [rtb-0aaa1111bbbb2222c]",
      "routeTables: [rtb-0aaa1111bbbb2222c, rtb-0aaa1111bbbb2222c]",
    ),
    expect: [
      "cluster.vpc.routeTables[1]: route table rtb-0aaa1111bbbb2222c is listed twice",
      "first at cluster.vpc.routeTables[0]",
    ],
  },
  {
    name: "the same client route table twice",
    text: replaced(
      teams,
      "routeTables: [rtb-0fff5555aaaa6666b, rtb-0fff5555aaaa7777c]",
      "routeTables: [rtb-0fff5555aaaa6666b, rtb-0fff5555aaaa7777c, rtb-0fff5555aaaa6666b]",
    ),
    expect: ["clients[1].vpc.routeTables[2]: route table rtb-0fff5555aaaa6666b is listed twice"],
  },
  {
    name: "the same declared route twice",
    text: replaced(
      seed,
      "    routeTables: [rtb-0aaa1111bbbb2222c]\n",
      "    routeTables: [rtb-0aaa1111bbbb2222c]\n    routes:\n" +
        "      - { routeTable: rtb-0aaa1111bbbb2222c, destination: 172.31.0.0/16, target: tgw-0123456789abcdef0 }\n" +
        "      - { routeTable: rtb-0aaa1111bbbb2222c, destination: 172.31.0.0/16, target: pcx-0123456789abcdef0 }\n",
    ),
    expect: ["cluster.vpc.routes[1]:", "one route per destination"],
  },
  {
    name: "the same namespace twice",
    text: replaced(teams, "namespaces: [analytics]", "namespaces: [analytics, dev, analytics]"),
    expect: ['access[1].policies[0].namespaces[2]: namespace "analytics" is listed twice'],
  },
  {
    name: "the same Kubernetes group twice",
    text: replaced(
      teams,
      "kubernetesGroups: [analytics-readers]",
      "kubernetesGroups: [analytics-readers, analytics-readers]",
    ),
    expect: ['access[1].kubernetesGroups[1]: Kubernetes group "analytics-readers" is listed twice'],
  },
  {
    name: "the same client twice in an access role",
    text: replaced(seed, "clients: [ops]", "clients: [ops, ops]"),
    expect: ['access[0].clients[1]: client "ops" is listed twice', "first at access[0].clients[0]"],
  },
  {
    name: "the same policy as a short name and as an ARN",
    text: replaced(
      seed,
      "- AmazonEKSClusterAdminPolicy",
      "- AmazonEKSClusterAdminPolicy\n      - arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    ),
    expect: ["access[0].policies[1]: policy AmazonEKSClusterAdminPolicy is listed twice"],
  },
  {
    name: "an access policy ARN of another partition",
    text: replaced(
      seed,
      "- AmazonEKSClusterAdminPolicy",
      "- arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    ),
    expect: [
      "access[0].policies[0]:",
      "partition aws-cn",
      "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    ],
  },
  {
    name: "a client region in another partition",
    text: replaced(teams, "    region: ap-south-1\n    vpc:", "    region: cn-north-1\n    vpc:"),
    expect: ["clients[1].region:", "partition aws-cn", "do not cross partitions"],
  },
  {
    name: "the same access entry twice",
    text: replaced(
      seed,
      "  vpc:\n    id: vpc-0aaa",
      "  accessEntries:\n    - { principalArn: arn:aws:iam::111111111111:role/Ops }\n    - { principalArn: arn:aws:iam::111111111111:role/Ops }\n  vpc:\n    id: vpc-0aaa",
    ),
    expect: ["cluster.accessEntries[1].principalArn:", "one access entry per principal"],
  },
  {
    name: "two SCPs with one name",
    text: replaced(
      seed,
      "  vpc:\n    id: vpc-0aaa",
      '  scps:\n    - { name: guard, document: { Statement: [{ Effect: Deny, Action: "iam:*", Resource: "*" }] } }\n' +
        '    - { name: guard, document: { Statement: [{ Effect: Deny, Action: "s3:*", Resource: "*" }] } }\n  vpc:\n    id: vpc-0aaa',
    ),
    expect: ['cluster.scps[1].name: the policy name "guard" is listed twice'],
  },
  {
    name: "access roles differing only in case",
    text: replaced(teams, "role: Analytics-EKS-View-Role", "role: payments-eks-edit-role"),
    expect: ['access[1].role: duplicate access role "payments-eks-edit-role"', "IAM role names ignore case"],
  },
  {
    name: "client roles differing only in case in one account",
    text: replaced(
      replaced(teams, 'account: "333333333333"', 'account: "222222222222"'),
      "role: Analytics-EKS-Client-Role",
      "role: payments-eks-client-role",
    ),
    expect: ["clients[1].role:", "already the role of clients[0]"],
  },
  {
    name: "an access role named like the peering accepter role",
    text: replaced(seed, "role: EKS-CrossAccount-Access-Role", "role: xeks-prac-eks-abhi-peering-accepter"),
    expect: ["access[0].role:", "accept the VPC peering"],
  },
  {
    name: "an access role named like another's hashed stack name",
    text: replaced(
      seed,
      "      - AmazonEKSClusterAdminPolicy\n",
      "      - AmazonEKSClusterAdminPolicy\n" +
        ["a.b", "a_b", "a-b-2e7336dc"]
          .map((r) => `  - { role: "${r}", clients: [ops], policies: [AmazonEKSViewPolicy] }\n`)
          .join(""),
    ),
    expect: ["access[3].role:", "the name of the stack of access[1].role too"],
  },
  {
    name: "a role path over 512 characters",
    text: replaced(
      seed,
      "    role: EC2-EKS-CrossAccount-Role",
      `    role: { name: R, path: /${"p".repeat(511)}/ }`,
    ),
    expect: ["clients[0].role.path:", "at most 512 characters"],
  },
  {
    name: "a CDK token in a username",
    text: replaced(
      teams,
      'username: "analytics:{{SessionName}}"',
      `username: "analytics:${"$"}{Token[AWS.AccountId.1]}"`,
    ),
    expect: ["access[1].username:", "must not contain ${"],
  },
  {
    name: "a CloudFormation dynamic reference in a Kubernetes group",
    text: replaced(
      teams,
      "kubernetesGroups: [analytics-readers]",
      'kubernetesGroups: ["{{resolve:ssm:/groups}}"]',
    ),
    expect: ["access[1].kubernetesGroups[0]:", "{{resolve:"],
  },
  {
    name: "an endpoint with a path",
    text: replaced(teams, ".eks.amazonaws.com\n", ".eks.amazonaws.com/x?y=1\n"),
    expect: ["cluster.endpoint:", "origin only"],
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
    expect: [
      "clients[0].identity: say who the client is",
      "kind: instance | sso | oidc | pod-identity | role",
    ],
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
  {
    name: "201 cluster route tables (the quota of route tables per VPC is 200)",
    text: replaced(seed, "routeTables: [rtb-0aaa1111bbbb2222c]", `routeTables: [${routeTables(201, 0)}]`),
    expect: [/:15:\d+: cluster\.vpc\.routeTables: list at most 200 route tables/, "route tables per VPC"],
  },
  {
    name: "201 client route tables",
    text: replaced(seed, "routeTables: [rtb-0ddd3333eeee4444f]", `routeTables: [${routeTables(201, 0)}]`),
    expect: [/:22:\d+: clients\[0\]\.vpc\.routeTables: list at most 200 route tables/],
  },
  {
    name: "600 valid unique cluster route tables (was CDK's 500-resource limit, blamed on clients[0].name)",
    text: replaced(seed, "routeTables: [rtb-0aaa1111bbbb2222c]", `routeTables: [${routeTables(600, 0)}]`),
    expect: ["cluster.vpc.routeTables: list at most 200"],
  },
];

/** `n` distinct route table ids (17 hex digits), numbered from `from`. */
function routeTables(n: number, from: number): string {
  return Array.from({ length: n }, (_, i) => `rtb-${(from + i).toString(16).padStart(17, "0")}`).join(", ");
}

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

test("200 route tables on both sides plan; a stack over 500 resources is refused at the list that grows it", () => {
  const text = replaced(
    replaced(seed, "routeTables: [rtb-0aaa1111bbbb2222c]", `routeTables: [${routeTables(200, 0)}]`),
    "routeTables: [rtb-0ddd3333eeee4444f]",
    `routeTables: [${routeTables(200, 4096)}]`,
  );
  const file = join(work, "rtb-200.yaml");
  writeFileSync(file, text);
  const out = join(work, "out-rtb-200");
  const r = xeks(["plan", file, "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(out, "xeks.manifest.json"), "utf8")) as {
    phases: { stacks: { name: string; templateFile: string }[] }[];
  };
  for (const stack of manifest.phases.flatMap((p) => p.stacks)) {
    const t = JSON.parse(readFileSync(join(out, stack.templateFile), "utf8")) as { Resources: object };
    assert.ok(Object.keys(t.Resources).length <= 201, `${stack.name}: ${Object.keys(t.Resources).length}`);
  }
  // Past the schema (a caller building a Topology itself): the per-stack count from the layout still refuses.
  const topology = parseTopology(text, file);
  topology.cluster.vpc.routeTables = routeTables(600, 0).split(", ");
  topology.clients[0]?.vpc?.routeTables.push(...routeTables(400, 8192).split(", "));
  const issues = stackSizeIssues(topology);
  assert.deepEqual(
    issues.map((i) => i.path),
    ["clients[0].vpc.routeTables", "cluster.vpc.routeTables"],
  );
  assert.match(issues[0]?.message ?? "", /hold 601 resources, over CloudFormation's 500 per stack/);
});

test("a client link over the 50 KiB CloudFormation takes inline is refused at its route tables, nothing written", () => {
  const big = replaced(
    replaced(
      seed,
      "routeTables: [rtb-0ddd3333eeee4444f]",
      `routeTables: [${routeTables(200, 4096)}]\n    instance: { subnetId: subnet-0123456789abcdef0 }`,
    ),
    "  securityGroupId:",
    `  endpoint: https://0123456789ABCDEF0123456789ABCDEF.gr7.ap-south-1.eks.amazonaws.com\n  certificateAuthority: ${"A".repeat(1600)}\n  securityGroupId:`,
  );
  const file = join(work, "client-link-big.yaml");
  writeFileSync(file, big);
  const out = join(work, "out-client-link-big");
  const r = xeks(["plan", file, "--out", out]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /clients\[0\]\.vpc\.routeTables: makes the template of stack \S+-client-ops-link \d+ characters/,
  );
  assert.match(r.stderr, /over the 51200 CloudFormation takes inline/);
  assert.equal(existsSync(out), false, "nothing written");
});

test("control characters and bidi overrides of a hostile file are shown escaped, never written raw to the terminal", () => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-ctl-"));
  try {
    const file = join(dir, "xeks.yaml");
    const seed = readFileSync(join(ROOT, "examples/seed.yaml"), "utf8");
    writeFileSync(file, `${seed}"evil\u202Ekey\u001b[2J": 1\n`);
    const r = xeks(["plan", file, "--out", join(dir, "out")]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /evil\\u\{202e\}key\\u\{1b\}\[2J/);
    assert.ok(!r.stderr.includes("\u001b") && !r.stderr.includes("\u202e"), "no raw ESC or RLO on stderr");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
