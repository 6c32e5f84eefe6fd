/**
 * Valid-looking input never reaches a CDK error. A seeded generator builds a few hundred topologies from
 * tricky-but-plausible values (role names with `.@_+=,`, names at their length limits, names that differ only in
 * case or punctuation, repeated ids in every list, non-canonical CIDRs, tokens and dynamic references, other
 * partitions); each one either validates, synthesizes (with cdk-nag, as plan does) and gets a chain report (exit
 * 0 or 1), or is refused with issues that each name a field path and a line (exit 2). Synthesis costs ~0.4 s, so
 * only a sample of the valid ones is synthesized; the explicit tricky cases below all are.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { stringify } from "yaml";
import { prove } from "../src/chain/prove.js";
import { InputError } from "../src/errors.js";
import { synthesize } from "../src/infra/synthesize.js";
import { plannedStacks } from "../src/model/from-assembly.js";
import { type CfnTemplate, modelFromTemplates } from "../src/model/from-templates.js";
import { exitCodeFor } from "../src/report/index.js";
import { parseTopology } from "../src/topology/load.js";
import type { Topology } from "../src/topology/types.js";
import { validateTopology } from "../src/topology/validate.js";

const work = mkdtempSync(join(tmpdir(), "xeks-fuzz-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** mulberry32: a small seeded PRNG, so every run generates the same documents. */
function rngOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)] as T;
const chance = (r: Rng, p: number) => r() < p;
const hex = (r: Rng, n: number) => Array.from({ length: n }, () => int(r, 16).toString(16)).join("");
/** The list without repeats (by `key`), then, with chance `trick`, one of its items again. */
function maybeRepeat<T>(r: Rng, trick: number, list: T[], key: (x: T) => string = String): T[] {
  const seen = new Set<string>();
  const out = list.filter((x) => !seen.has(key(x)) && seen.add(key(x)));
  if (out.length > 0 && chance(r, trick)) out.push(pick(r, out));
  return out;
}
const word = (r: Rng, alphabet: string, min: number, max: number) =>
  Array.from({ length: min + int(r, max - min + 1) }, () => alphabet[int(r, alphabet.length)]).join("");

/** A CDK token marker (`${Token[KEY]}`), written out on purpose: the file must refuse it. */
const token = (key: string) => `${"$"}{Token[${key}]}`;

/** Test documents are edited freely by path. */
// biome-ignore lint/suspicious/noExplicitAny: documents of any shape, valid or not
type Doc = Record<string, any>;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const ALNUM = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`;
const ROLE_CHARS = `${ALNUM}+=,.@_-`;

/** Role names: plain, with every character IAM allows, at the limit, colliding after sanitizing or case. */
function roleName(r: Rng, trick: number): string {
  const plain = [
    "EKS-Admin",
    "EKS.Admin",
    "EKS_Admin",
    "eks-admin",
    "a.b",
    "a_b",
    "a-b",
    "a@b",
    "a+b=c,d",
    "R".repeat(64),
    `${"r".repeat(63)}.`,
    "_",
    "-",
  ];
  if (chance(r, trick)) return pick(r, ["R".repeat(65), "bad name", "x/y", "", "é"]);
  return chance(r, 0.5) ? pick(r, plain) : word(r, ROLE_CHARS, 1, 64);
}

/** CIDRs: mostly canonical VPC blocks; with `trick`, leading zeros, host bits, out-of-range prefixes. */
function vpcCidr(r: Rng, i: number, trick: number): string {
  const good = pick(r, [`172.${16 + (i % 16)}.0.0/16`, `192.168.${i}.0/24`, `10.${100 + i}.0.0/20`]);
  if (!chance(r, trick)) return good;
  return pick(r, [
    `0${good}`,
    good.replace(/\.0\//, ".1/"),
    `10.${i}.0.0/8`,
    "0.0.0.0/0",
    `10.${i}.0.0/33`,
    `10.${i}.0.0/016`,
    ` ${good}`,
    `256.${i}.0.0/16`,
    `10.${i}.0/16`,
    "fd00::/64",
  ]);
}

function routeTables(r: Rng, trick: number): string[] {
  return maybeRepeat(
    r,
    trick,
    Array.from({ length: 1 + int(r, 4) }, () => `rtb-${hex(r, pick(r, [8, 17]))}`),
  );
}

function policyDoc(r: Rng) {
  return { Statement: [{ Effect: pick(r, ["Allow", "Deny"]), Action: "sts:AssumeRole", Resource: "*" }] };
}

function namedPolicies(r: Rng, trick: number) {
  const list = Array.from({ length: int(r, 3) }, (_, k) => ({ name: `p${k}`, document: policyDoc(r) }));
  return maybeRepeat(r, trick, list, (p) => p.name);
}

function namespaces(r: Rng, trick: number): string[] {
  const ns = Array.from({ length: 1 + int(r, 3) }, () =>
    pick(r, ["dev", "team-*", "*", "a", "kube-system", word(r, LOWER, 1, 20)]),
  );
  return maybeRepeat(r, trick, ns);
}

const POLICIES = [
  "AmazonEKSAdminPolicy",
  "AmazonEKSEditPolicy",
  "AmazonEKSViewPolicy",
  "AmazonEKSAdminViewPolicy",
  "AmazonEKSClusterAdminPolicy",
];

function policyRefs(r: Rng, partition: string, trick: number): unknown[] {
  const names = [...POLICIES].sort(() => r() - 0.5).slice(0, 1 + int(r, 3));
  const refs: unknown[] = names.map((name) => {
    const arn = `arn:${chance(r, trick) ? "aws-cn" : partition}:eks::aws:cluster-access-policy/${name}`;
    if (name === "AmazonEKSClusterAdminPolicy") return chance(r, 0.5) ? name : arn;
    return pick(r, [name, arn, { policy: name, namespaces: namespaces(r, trick) }]);
  });
  return maybeRepeat(r, trick, refs, (x) => JSON.stringify(x));
}

function kubeStrings(r: Rng, trick: number): string[] {
  const groups = Array.from({ length: int(r, 3) }, () =>
    pick(r, ["admins", "team:readers", "g@x", word(r, ALNUM, 1, 40)]),
  );
  if (chance(r, trick)) groups.push(pick(r, [token("AWS.AccountId.1"), "{{resolve:ssm:/x}}", "#{Token[X]}"]));
  return maybeRepeat(r, trick, groups);
}

const PARTITION_OF: Record<string, string> = {
  "ap-south-1": "aws",
  "eu-west-1": "aws",
  "us-east-1": "aws",
  "cn-north-1": "aws-cn",
  "us-gov-west-1": "aws-us-gov",
};

/** One valid-looking topology document; `trick` is the chance of each invalid variation. */
function generate(r: Rng, trick: number): Record<string, unknown> {
  const region = pick(r, Object.keys(PARTITION_OF));
  const partition = PARTITION_OF[region] as string;
  const clusterName = pick(r, [
    "prod",
    "prac-eks-abhi",
    "C_1",
    "x".repeat(100),
    `a${"_b".repeat(49)}`,
    word(r, ALNUM, 1, 1) + word(r, `${ALNUM}-_`, 0, 99),
  ]);
  const nClients = 1 + int(r, 4);
  const clientNames: string[] = [];
  const clients = Array.from({ length: nClients }, (_, i) => {
    let name = pick(r, [
      "ops",
      "a",
      `${"c".repeat(31)}`,
      word(r, LOWER, 1, 1) + word(r, `${LOWER}0123456789-`, 0, 30),
    ]);
    if (clientNames.includes(name) && !chance(r, trick)) name = `${name.slice(0, 28)}-${i}`;
    clientNames.push(name);
    const account = chance(r, trick)
      ? "111111111111"
      : pick(r, ["222222222222", "333333333333", `4${i}${"0".repeat(10)}`]);
    const plainRole = roleName(r, trick);
    const role = chance(r, 0.6)
      ? plainRole
      : {
          name: plainRole,
          existing: chance(r, 0.5),
          path: pick(r, [
            "/",
            "/teams/",
            `/${"p".repeat(510)}/`,
            `/${"p".repeat(chance(r, trick) ? 511 : 509)}/`,
            "/a/b/",
          ]),
          ...(chance(r, 0.3) ? { instanceProfile: roleName(r, trick) } : {}),
          ...(chance(r, 0.3)
            ? {
                permissionsBoundary: {
                  arn: `arn:${partition}:iam::${account}:policy/Boundary`,
                  document: policyDoc(r),
                },
              }
            : {}),
          policies: namedPolicies(r, trick),
        };
    return {
      name,
      account,
      ...(chance(r, 0.3) ? { region: chance(r, trick) ? "cn-north-1" : region } : {}),
      vpc: {
        id: `vpc-${hex(r, 17)}`,
        cidr: vpcCidr(r, i, trick),
        routeTables: routeTables(r, trick),
      },
      role,
      ...(chance(r, 0.3)
        ? {
            instance: {
              subnetId: `subnet-${hex(r, 17)}`,
              type: pick(r, ["t3.micro", "t4g.small", "m7gd.large", "a1.medium"]),
            },
          }
        : {}),
      scps: namedPolicies(r, trick),
    };
  });
  const clusterTables = routeTables(r, trick);
  const routes = Array.from({ length: int(r, 3) }, () => ({
    routeTable: pick(r, clusterTables),
    destination: pick(r, [
      "172.16.0.0/16",
      "0.0.0.0/0",
      "192.168.0.0/24",
      chance(r, trick) ? "10.0.0.1/16" : "10.9.0.0/16",
    ]),
    target: pick(r, ["local", `tgw-${hex(r, 17)}`, `pcx-${hex(r, 8)}`]),
  }));
  const declared = maybeRepeat(r, trick, routes, (x) => `${x.routeTable} ${x.destination}`);
  const nAccess = 1 + int(r, 4);
  const roles = Array.from({ length: nAccess }, () => {
    const allowed = [...clientNames].sort(() => r() - 0.5).slice(0, 1 + int(r, clientNames.length));
    if (chance(r, trick)) allowed.push("nobody");
    const groups = kubeStrings(r, trick);
    return {
      role: chance(r, trick) ? `xeks-${clusterName}-peering-accepter` : roleName(r, trick),
      clients: maybeRepeat(r, trick, allowed),
      policies: policyRefs(r, partition, trick),
      ...(groups.length > 0 ? { kubernetesGroups: groups } : {}),
      ...(chance(r, 0.4)
        ? {
            username: pick(r, [
              "team:{{SessionName}}",
              "admin",
              chance(r, trick) ? token("X.1") : "u@x",
              chance(r, trick) ? "{{SessionName}}" : "a:b:{{SessionName}}",
            ]),
          }
        : {}),
      ...(chance(r, 0.3) ? { externalId: pick(r, ["ext-1", "a:b/c=d", word(r, ALNUM, 2, 60)]) } : {}),
    };
  });
  const access = maybeRepeat(r, trick, roles, (a) => a.role.toLowerCase());
  const entryArn = `arn:${partition}:iam::111111111111:role/Platform`;
  const accessEntries = chance(r, 0.3)
    ? [
        {
          principalArn: entryArn,
          kubernetesGroups: chance(r, trick) ? ["g", "g"] : ["g"],
          policies: [{ policy: "AmazonEKSViewPolicy", namespaces: chance(r, trick) ? ["a", "a"] : ["a"] }],
        },
        ...(chance(r, trick) ? [{ principalArn: entryArn }] : []),
      ]
    : [];
  return {
    version: 1,
    cluster: {
      name: clusterName,
      account: "111111111111",
      region,
      ...(chance(r, 0.5) ? { authenticationMode: pick(r, ["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"]) } : {}),
      ...(chance(r, 0.5) ? { endpointAccess: { private: true, public: chance(r, 0.3) } } : {}),
      ...(chance(r, 0.3)
        ? {
            endpoint: chance(r, trick)
              ? `https://x.example.com/${token("AWS.Region.1")}`
              : `https://${hex(r, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
          }
        : {}),
      securityGroupId: `sg-${hex(r, 17)}`,
      vpc: {
        id: `vpc-${hex(r, 17)}`,
        cidr: vpcCidr(r, 99, trick),
        routeTables: clusterTables,
        routes: declared,
      },
      scps: namedPolicies(r, trick),
      rcps: namedPolicies(r, trick),
      accessEntries,
    },
    clients,
    access,
  };
}

/** Synthesize (with cdk-nag) and prove, as `xeks plan` does; returns the plan's exit code. */
/**
 * Synthesize (with cdk-nag) and prove, as `xeks plan` does; returns the plan's exit code. The assembly is kept
 * when `keep` (for cfn-lint), else removed.
 */
async function plan(topology: Topology, name: string, keep = false): Promise<number> {
  const result = synthesize(topology, { outDir: join(work, name) });
  const stacks = plannedStacks(result.manifest, (s) => result.templates.get(s.name) as CfnTemplate);
  const report = await prove(topology, modelFromTemplates(topology, stacks), "plan");
  if (!keep) rmSync(join(work, name), { recursive: true, force: true });
  return exitCodeFor(report);
}

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" }).status === 0;

/** cfn-lint errors (E…) in the templates of the kept assemblies: what CloudFormation would refuse at deploy. */
function cfnLintErrors(dirs: string[]): string[] {
  const files = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".template.json"))
      .map((f) => join(d, f)),
  );
  const r = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.split("\n").filter((line) => /:E\d{4}:/.test(line));
}

/** Either a topology, or issues that each name a field path; the YAML text of it, if refused, names lines too. */
function check(doc: Record<string, unknown>, label: string): Topology | undefined {
  const r = validateTopology(doc);
  const text = stringify(doc);
  if ("topology" in r) {
    assert.doesNotThrow(() => parseTopology(text, "fuzz.yaml"), label);
    return r.topology;
  }
  assert.ok(r.issues.length > 0, label);
  for (const issue of r.issues) {
    assert.ok(issue.path.length > 0, `${label}: an issue without a path: ${issue.message}`);
    assert.ok(issue.message.length > 0, label);
  }
  assert.throws(
    () => parseTopology(text, "fuzz.yaml"),
    (err: unknown) =>
      err instanceof InputError &&
      err.issues.length > 0 &&
      err.issues.every((i) => i.path.length > 0 && typeof i.line === "number"),
    label,
  );
  return undefined;
}

const COUNT = 400;
const SYNTHESIZED = 40;

test(`${COUNT} generated topologies: each plans (exit 0/1) or is refused with field paths (exit 2)`, async (t) => {
  const rng = rngOf(0x5eed10);
  const valid: { topology: Topology; label: string }[] = [];
  let refused = 0;
  for (let n = 0; n < COUNT; n++) {
    const trick = [0, 0, 0.03, 0.15][n % 4] as number;
    const label = `document ${n} (trick ${trick})`;
    const topology = check(generate(rng, trick), label);
    if (topology) valid.push({ topology, label });
    else refused++;
  }
  // Both outcomes are well represented, so both paths are exercised.
  assert.ok(valid.length >= COUNT / 5, `only ${valid.length} valid documents`);
  assert.ok(refused >= COUNT / 5, `only ${refused} refused documents`);
  const step = Math.max(1, Math.floor(valid.length / SYNTHESIZED));
  t.diagnostic(`${valid.length} valid, ${refused} refused; synthesizing every ${step}th valid one`);
  const linted: string[] = [];
  for (let k = 0; k < valid.length; k += step) {
    const { topology, label } = valid[k] as (typeof valid)[0];
    // Every fifth synthesized assembly is kept for one cfn-lint run (~0.1 s a template).
    const keep = hasCfnLint && linted.length < 6 && k % (5 * step) === 0;
    const code = await plan(topology, `gen-${k}`, keep).catch((err: unknown) => {
      assert.fail(
        `${label}: validated, then synthesis failed: ${(err as Error).message}\n${stringify(topology)}`,
      );
    });
    assert.ok(code === 0 || code === 1, label);
    if (keep) linted.push(join(work, `gen-${k}`));
  }
  t.diagnostic(`${linted.length} assemblies cfn-linted`);
  if (linted.length > 0) assert.deepEqual(cfnLintErrors(linted), [], "cfn-lint errors");
});

// ---- The tricky cases, one by one: valid ones must plan, refused ones name the expected path. ----

const seed = (): Doc => ({
  version: 1,
  cluster: {
    name: "prac-eks-abhi",
    account: "111111111111",
    region: "ap-south-1",
    authenticationMode: "API",
    endpointAccess: { private: true, public: false },
    securityGroupId: "sg-0123456789abcdef0",
    vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
  },
  clients: [
    {
      name: "ops",
      account: "222222222222",
      vpc: { id: "vpc-0ddd3333eeee4444f", cidr: "172.31.0.0/16", routeTables: ["rtb-0ddd3333eeee4444f"] },
      role: "EC2-EKS-CrossAccount-Role",
    },
  ],
  access: [
    { role: "EKS-CrossAccount-Access-Role", clients: ["ops"], policies: ["AmazonEKSClusterAdminPolicy"] },
  ],
});

const role = (name: string) => ({ role: name, clients: ["ops"], policies: ["AmazonEKSViewPolicy"] });

interface Tricky {
  name: string;
  edit: (d: Doc) => void;
  /** The path of the (first) issue; undefined: the topology is valid and must plan. */
  path?: string;
}

const tricky: Tricky[] = [
  {
    name: "role names differing only in characters a stack name cannot hold",
    edit: (d) => d.access.push(role("a.b"), role("a_b"), role("a@b"), role("a-b")),
  },
  {
    name: "a role name chosen to equal the hashed stack name of another",
    edit: (d) => d.access.push(role("a.b"), role("a_b"), role("a-b-2e7336dc")),
    path: "access[3].role",
  },
  {
    name: "access roles differing only in case",
    edit: (d) => d.access.push(role("eks-crossaccount-access-role")),
    path: "access[1].role",
  },
  {
    name: "the peering accepter role's name",
    edit: (d) => d.access.push(role("xeks-prac-eks-abhi-peering-accepter")),
    path: "access[1].role",
  },
  {
    name: "a 100-character cluster name and 64-character role names",
    edit: (d) => {
      d.cluster.name = `c${"_x".repeat(49)}c`;
      d.clients[0].role = "R".repeat(64);
      d.access.push(role("A".repeat(64)), role(`${"A".repeat(63)}.`));
    },
  },
  {
    name: "a 512-character role path",
    edit: (d) => {
      d.clients[0].role = { name: "R", path: `/${"p".repeat(510)}/` };
    },
  },
  {
    name: "a 513-character role path",
    edit: (d) => {
      d.clients[0].role = { name: "R", path: `/${"p".repeat(511)}/` };
    },
    path: "clients[0].role.path",
  },
  {
    name: "the same route table twice (cluster)",
    edit: (d) => d.cluster.vpc.routeTables.push("rtb-0aaa1111bbbb2222c"),
    path: "cluster.vpc.routeTables[1]",
  },
  {
    name: "the same route table twice (client)",
    edit: (d) => d.clients[0].vpc.routeTables.push("rtb-0ddd3333eeee4444f"),
    path: "clients[0].vpc.routeTables[1]",
  },
  {
    name: "a CIDR with a leading zero",
    edit: (d) => (d.cluster.vpc.cidr = "010.0.0.0/16"),
    path: "cluster.vpc.cidr",
  },
  {
    name: "a VPC CIDR of /0",
    edit: (d) => (d.clients[0].vpc.cidr = "0.0.0.0/0"),
    path: "clients[0].vpc.cidr",
  },
  {
    name: "a CDK token in a username",
    edit: (d) => (d.access[0].username = `x:${token("AWS.AccountId.1")}`),
    path: "access[0].username",
  },
  {
    name: "a dynamic reference in a Kubernetes group",
    edit: (d) => (d.access[0].kubernetesGroups = ["{{resolve:ssm:/admins}}"]),
    path: "access[0].kubernetesGroups[0]",
  },
  {
    name: "an endpoint with a path",
    edit: (d) => (d.cluster.endpoint = `https://x.gr7.ap-south-1.eks.amazonaws.com/${token("AWS.Region.1")}`),
    path: "cluster.endpoint",
  },
  {
    name: "two clients whose instance profiles share a name",
    edit: (d) =>
      d.clients.push({
        ...d.clients[0],
        name: "dev",
        vpc: { id: "vpc-0ddd3333eeee5555f", cidr: "172.30.0.0/16", routeTables: ["rtb-0ddd3333eeee5555f"] },
        role: { name: "Dev-Role", instanceProfile: "ec2-eks-crossaccount-role" },
      }),
    path: "clients[1].role.instanceProfile",
  },
];

for (const c of tricky) {
  test(`tricky: ${c.name}`, async () => {
    const doc = seed();
    c.edit(doc);
    const topology = check(doc, c.name);
    if (c.path === undefined) {
      assert.ok(
        topology,
        `${c.name}: expected a valid topology: ${JSON.stringify(validateTopology(doc).issues)}`,
      );
      assert.ok([0, 1].includes(await plan(topology, "tricky")));
    } else {
      assert.equal(topology, undefined, `${c.name}: expected refusal at ${c.path}`);
      const r = validateTopology(doc);
      assert.equal("issues" in r && r.issues[0]?.path, c.path, JSON.stringify(r.issues));
    }
  });
}

// ---- The safety net: input that slips past validation still exits 2 with a path, never with a CDK error. ----

/** A valid topology, then edited past validation (as a library caller could), as synthesize sees it. */
function pastValidation(edit: (t: Doc) => void): Topology {
  const r = validateTopology(seed());
  assert.ok("topology" in r);
  edit(r.topology as Doc);
  return { ...r.topology, file: "past.yaml" };
}

const slipped: { name: string; edit: (t: Doc) => void; path: string; says: RegExp }[] = [
  {
    name: "a duplicate route table id (CDK: There is already a Construct with name)",
    edit: (t) => t.cluster.vpc.routeTables.push(t.cluster.vpc.routeTables[0]),
    path: "cluster.vpc.routeTables[1]",
    says: /There is already a Construct/,
  },
  {
    name: "a duplicate client route table id",
    edit: (t) => t.clients[0].vpc.routeTables.push(t.clients[0].vpc.routeTables[0]),
    path: "clients[0].vpc.routeTables[1]",
    says: /There is already a Construct/,
  },
  {
    name: "a role path over 512 characters (CDK's Role validation)",
    edit: (t) => (t.clients[0].role.path = `/${"p".repeat(600)}/`),
    path: "clients[0].role",
    says: /Role path must be between 1 and 512/,
  },
  {
    name: "an unknown CDK token in a username (resolution at synthesis, no construct path)",
    edit: (t) => (t.access[0].username = token("Nope.1")),
    path: "access[0].username",
    says: /Unrecognized token key/,
  },
  {
    name: "two access roles with one name (a duplicate stack)",
    edit: (t) => t.access.push({ ...t.access[0] }),
    path: "access[0].role",
    says: /There is already a Construct with name 'xeks-prac-eks-abhi-cluster-access/,
  },
];

for (const c of slipped) {
  test(`past validation: ${c.name} -> exit 2 at ${c.path}`, () => {
    const out = join(work, "slipped");
    assert.throws(
      () => synthesize(pastValidation(c.edit), { outDir: out }),
      (err: unknown) => {
        assert.ok(err instanceof InputError, `not an InputError: ${String(err)}`);
        assert.match(err.message, /^past\.yaml cannot be synthesized; nothing was written$/);
        assert.equal(err.issues.length, 1);
        assert.equal(err.issues[0]?.path, c.path);
        assert.match(err.issues[0]?.message ?? "", c.says);
        assert.doesNotMatch(err.issues[0]?.message ?? "", /\n/, "one line, no stack trace");
        return true;
      },
    );
    assert.deepEqual(
      readdirSync(work).filter((f) => f.includes("slipped")),
      [],
      "nothing written",
    );
  });
}
