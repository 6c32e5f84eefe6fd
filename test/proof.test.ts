/**
 * The chain proof on the planned state: both examples pass; each broken topology fails exactly one link (with
 * a fix) while every other link keeps its status; tampering with a synthesized template is caught.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { prove } from "../src/chain/prove.js";
import type { ChainReport, LinkId, LinkStatus } from "../src/chain/types.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly, readAssembly } from "../src/model/from-assembly.js";
import { parseTopology } from "../src/topology/index.js";
import { ROOT, XEKS, xeks } from "./helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "xeks-proof-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

// biome-ignore lint/suspicious/noExplicitAny: the tests mutate parsed YAML documents freely.
type Doc = Record<string, any>;
const seed: Doc = parse(readFileSync(join(ROOT, "examples/seed.yaml"), "utf8"));
const teams: Doc = parse(readFileSync(join(ROOT, "examples/teams.yaml"), "utf8"));

async function planProof(doc: Doc, tamper?: (dir: string) => void): Promise<ChainReport> {
  const topology = parseTopology(stringify(doc), "case.yaml");
  const outDir = join(work, `out-${counter++}`);
  await synthesize(topology, { outDir });
  tamper?.(outDir);
  return prove(topology, modelFromAssembly(topology, outDir), "plan");
}

const key = (l: { id: string; subject: string }) => `${l.id} @ ${l.subject}`;
const baselines = new Map<Doc, ChainReport>();
async function baseline(doc: Doc): Promise<ChainReport> {
  let b = baselines.get(doc);
  if (!b) {
    b = await planProof(doc);
    baselines.set(doc, b);
  }
  return b;
}

const statement = (Effect: "Allow" | "Deny", Action: string, Resource = "*", Condition?: object) => ({
  Effect,
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});
const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });

interface Broken {
  name: string;
  base: Doc;
  change: (d: Doc) => void;
  link: LinkId;
  status?: LinkStatus;
  /** Expected in the summary or the fix. */
  says?: RegExp;
}

const broken: Broken[] = [
  {
    name: "authentication mode CONFIG_MAP",
    base: seed,
    change: (d) => {
      d.cluster.authenticationMode = "CONFIG_MAP";
    },
    link: "eks.authentication-mode",
    says: /authenticationMode=API_AND_CONFIG_MAP/,
  },
  {
    name: "client CIDR inside the cluster CIDR",
    base: seed,
    change: (d) => {
      d.clients[0].vpc.cidr = "10.0.128.0/17";
    },
    link: "topology.cidr-overlap",
    says: /overlaps the cluster VPC/,
  },
  {
    name: "client CIDR equal to the cluster CIDR",
    base: seed,
    change: (d) => {
      d.clients[0].vpc.cidr = "10.0.0.0/16";
    },
    link: "topology.cidr-overlap",
  },
  {
    name: "two clients with overlapping CIDRs",
    base: teams,
    change: (d) => {
      d.clients[1].vpc.cidr = "172.31.128.0/20";
    },
    link: "topology.cidr-overlap",
    says: /cluster route tables cannot route both/,
  },
  {
    name: "public-only endpoint",
    base: seed,
    change: (d) => {
      d.cluster.endpointAccess = { private: false, public: true };
    },
    link: "network.endpoint",
    says: /endpointPrivateAccess=true/,
  },
  {
    name: "an SCP requires an external id the access role does not use",
    base: seed,
    change: (d) => {
      d.clients[0].scps = [
        {
          name: "require-external-id",
          document: doc(statement("Deny", "sts:AssumeRole", "*", { Null: { "sts:ExternalId": "true" } })),
        },
      ];
    },
    link: "iam.assume-permission",
    says: /service control policy require-external-id/,
  },
  {
    name: "an SCP denies sts:AssumeRole",
    base: seed,
    change: (d) => {
      d.clients[0].scps = [{ name: "deny-assume", document: doc(statement("Deny", "sts:AssumeRole")) }];
    },
    link: "iam.assume-permission",
    says: /SCP/,
  },
  {
    name: "an SCP denies assuming roles in the cluster account",
    base: seed,
    change: (d) => {
      d.clients[0].scps = [
        {
          name: "no-cluster-roles",
          document: doc(statement("Deny", "sts:*", "arn:aws:iam::111111111111:role/*")),
        },
      ];
    },
    link: "iam.assume-permission",
  },
  {
    name: "a data-perimeter SCP keeps principals in their own account",
    base: seed,
    change: (d) => {
      d.clients[0].scps = [
        {
          name: "data-perimeter",
          document: doc(
            statement("Deny", "sts:AssumeRole", "*", {
              StringNotEquals: { "aws:ResourceAccount": ["222222222222"] },
            }),
          ),
        },
      ];
    },
    link: "iam.assume-permission",
  },
  {
    name: "a permissions boundary on the created role leaves out sts:AssumeRole",
    base: seed,
    change: (d) => {
      d.clients[0].role = {
        name: "EC2-EKS-CrossAccount-Role",
        permissionsBoundary: {
          arn: "arn:aws:iam::222222222222:policy/s3-only",
          document: doc(statement("Allow", "s3:*")),
        },
      };
    },
    link: "iam.assume-permission",
    says: /permissions boundary/,
  },
  {
    name: "a permissions boundary allows assuming another role only",
    base: seed,
    change: (d) => {
      d.clients[0].role = {
        name: "EC2-EKS-CrossAccount-Role",
        permissionsBoundary: {
          arn: "arn:aws:iam::222222222222:policy/other-role",
          document: doc(statement("Allow", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Other")),
        },
      };
    },
    link: "iam.assume-permission",
  },
  {
    name: "an existing role's boundary denies sts:*",
    base: seed,
    change: (d) => {
      d.clients[0].role = {
        name: "Existing-Client-Role",
        existing: true,
        permissionsBoundary: { document: doc(statement("Allow", "*"), statement("Deny", "sts:*")) },
      };
    },
    link: "iam.assume-permission",
  },
  {
    name: "an existing role's policy denies sts:AssumeRole",
    base: seed,
    change: (d) => {
      d.clients[0].role = {
        name: "Existing-Client-Role",
        existing: true,
        policies: [{ name: "guardrail", document: doc(statement("Deny", "sts:AssumeRole")) }],
      };
    },
    link: "iam.assume-permission",
  },
  {
    name: "an existing role is trusted by Lambda, not EC2",
    base: seed,
    change: (d) => {
      d.clients[0].role = {
        name: "Existing-Client-Role",
        existing: true,
        trustPolicy: doc({
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        }),
      };
    },
    link: "iam.client-role",
    says: /does not trust ec2\.amazonaws\.com/,
  },
  {
    name: "an existing client route sends the cluster CIDR to a transit gateway",
    base: seed,
    change: (d) => {
      d.clients[0].vpc.routes = [
        { routeTable: "rtb-0ddd3333eeee4444f", destination: "10.0.0.0/16", target: "tgw-0123456789abcdef0" },
      ];
    },
    link: "network.route.client-to-cluster",
    says: /RouteAlreadyExists/,
  },
  {
    name: "an existing cluster route sends the client CIDR elsewhere",
    base: seed,
    change: (d) => {
      d.cluster.vpc.routes = [
        {
          routeTable: "rtb-0aaa1111bbbb2222c",
          destination: "172.31.0.0/16",
          target: "nat-0123456789abcdef0",
        },
      ];
    },
    link: "network.route.cluster-to-client",
  },
  {
    name: "an access entry for the access role exists already",
    base: seed,
    change: (d) => {
      d.cluster.accessEntries = [
        { principalArn: "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role", policies: [] },
      ];
    },
    link: "eks.access-entry",
    says: /ResourceInUseException/,
  },
  {
    name: "an SCP of the cluster account denies accepting peerings",
    base: seed,
    change: (d) => {
      d.cluster.scps = [
        { name: "no-peering", document: doc(statement("Deny", "ec2:AcceptVpcPeeringConnection")) },
      ];
    },
    link: "network.peering",
    says: /accept/,
  },
  {
    name: "an RCP requires principals of the organization, the client has none declared",
    base: seed,
    change: (d) => {
      d.cluster.rcps = [
        {
          name: "org-only",
          document: doc({
            Effect: "Deny",
            Principal: "*",
            Action: "sts:AssumeRole",
            Resource: "arn:aws:iam::111111111111:role/EKS-*",
            Condition: {
              StringNotEqualsIfExists: { "aws:PrincipalOrgID": "o-aaaaaaaaaa" },
              Null: { "aws:PrincipalOrgID": "true" },
            },
          }),
        },
      ];
    },
    link: "iam.access-role-trust",
  },
  {
    name: "an RCP requires another organization than the client's",
    base: seed,
    change: (d) => {
      d.clients[0].organizationId = "o-bbbbbbbbbb";
      d.cluster.rcps = [
        {
          name: "org-only",
          document: doc({
            Effect: "Deny",
            Principal: "*",
            Action: "sts:AssumeRole",
            Resource: "arn:aws:iam::111111111111:role/EKS-*",
            Condition: { StringNotEquals: { "aws:PrincipalOrgID": "o-aaaaaaaaaa" } },
          }),
        },
      ];
    },
    link: "iam.access-role-trust",
    says: /resource control policy/,
  },
  {
    name: "an SCP of the cluster account denies eks:DescribeCluster (warn: contract)",
    base: seed,
    change: (d) => {
      d.cluster.scps = [{ name: "no-describe", document: doc(statement("Deny", "eks:DescribeCluster")) }];
    },
    link: "iam.describe-cluster",
    status: "warn",
  },
  {
    name: "public and private endpoints both on",
    base: seed,
    change: (d) => {
      d.cluster.endpointAccess = { private: true, public: true };
    },
    link: "network.endpoint",
    status: "warn",
  },
  {
    name: "a more specific client route takes part of the cluster CIDR elsewhere",
    base: seed,
    change: (d) => {
      d.clients[0].vpc.routes = [
        { routeTable: "rtb-0ddd3333eeee4444f", destination: "10.0.5.0/24", target: "tgw-0123456789abcdef0" },
      ];
    },
    link: "network.route.client-to-cluster",
    status: "warn",
  },
  {
    name: "authentication mode not declared (unknown)",
    base: seed,
    change: (d) => {
      delete d.cluster.authenticationMode;
    },
    link: "eks.authentication-mode",
    status: "unknown",
  },
];

describe("both examples prove", () => {
  for (const [name, d] of [
    ["seed", seed],
    ["teams", teams],
  ] as const) {
    test(`${name}: verdict pass, every link passes`, async () => {
      const r = await baseline(d);
      assert.equal(r.verdict, "pass");
      assert.deepEqual(r.links.filter((l) => l.status !== "pass").map(key), []);
      // With the quota links: iam.policy-size per cluster (accepter role), client and access role, and
      // network.peering-quota per cluster (test/quotas.test.ts).
      assert.equal(r.links.length, name === "seed" ? 17 : 30);
    });
  }
});

describe("broken topologies fail exactly one link", () => {
  test(`at least 20 break a link so that it fails (${broken.filter((b) => !b.status).length})`, () => {
    assert.ok(broken.filter((b) => (b.status ?? "fail") === "fail").length >= 20);
  });
  for (const b of broken) {
    test(b.name, async () => {
      const base = await baseline(b.base);
      const d = structuredClone(b.base);
      b.change(d);
      const r = await planProof(d);
      const want = b.status ?? "fail";
      const changed = r.links.filter((l) => base.links.find((x) => key(x) === key(l))?.status !== l.status);
      assert.ok(changed.length > 0, `no link changed status; expected ${b.link} to ${want}`);
      for (const l of changed) {
        assert.equal(l.id, b.link, `only ${b.link} may change, but ${key(l)} is ${l.status}: ${l.summary}`);
        assert.equal(l.status, want, `${key(l)}: ${l.summary}`);
        assert.ok(l.fix && l.fix.length > 10, `${key(l)} has a fix`);
        if (b.says) assert.match(`${l.summary}\n${l.fix}`, b.says);
      }
      assert.equal(r.links.length, base.links.length, "same subjects");
      assert.equal(r.verdict, want === "fail" ? "fail" : want === "unknown" ? "unknown" : "pass");
    });
  }
});

// biome-ignore lint/suspicious/noExplicitAny: templates are edited as plain JSON.
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
function tamper(dir: string, kind: string, edit: (t: Template) => boolean): void {
  const { manifest } = readAssembly(dir);
  let done = false;
  for (const s of manifest.phases.flatMap((p) => p.stacks)) {
    if (s.kind !== kind) continue;
    const file = join(dir, s.templateFile);
    const t = JSON.parse(readFileSync(file, "utf8")) as Template;
    if (edit(t)) {
      writeFileSync(file, JSON.stringify(t));
      done = true;
    }
  }
  assert.ok(done, `nothing to tamper with in the ${kind} stacks`);
}
function dropResources(t: Template, type: string): boolean {
  const ids = Object.keys(t.Resources).filter((id) => t.Resources[id]?.Type === type);
  for (const id of ids) delete t.Resources[id];
  return ids.length > 0;
}

test("an RCP on every role of the cluster account also blocks the peering acceptance", async () => {
  const d = structuredClone(seed);
  d.clients[0].organizationId = "o-bbbbbbbbbb";
  d.cluster.rcps = [
    {
      name: "org-only-everywhere",
      document: doc({
        Effect: "Deny",
        Principal: "*",
        Action: "sts:AssumeRole",
        Resource: "*",
        Condition: { StringNotEquals: { "aws:PrincipalOrgID": "o-aaaaaaaaaa" } },
      }),
    },
  ];
  const r = await planProof(d);
  const failing = r.links.filter((l) => l.status === "fail").map((l) => l.id);
  assert.deepEqual(failing.sort(), ["iam.access-role-trust", "network.peering"]);
});

describe("tampering with a synthesized template is caught", () => {
  const mutations: { name: string; kind: string; edit: (t: Template) => boolean; link: LinkId }[] = [
    {
      name: "drop the route to the peer (cluster side)",
      kind: "cluster-link",
      edit: (t) => dropResources(t, "AWS::EC2::Route"),
      link: "network.route.cluster-to-client",
    },
    {
      name: "drop the route to the cluster (client side)",
      kind: "client-link",
      edit: (t) => dropResources(t, "AWS::EC2::Route"),
      link: "network.route.client-to-cluster",
    },
    {
      name: "change the trust principal",
      kind: "cluster-access",
      edit: (t) => {
        const role = Object.values(t.Resources).find((r) => r.Type === "AWS::IAM::Role");
        if (!role) return false;
        const text = JSON.stringify(role.Properties.AssumeRolePolicyDocument).replaceAll(
          "EC2-EKS-CrossAccount-Role",
          "Someone-Else",
        );
        role.Properties.AssumeRolePolicyDocument = JSON.parse(text);
        return true;
      },
      link: "iam.access-role-trust",
    },
    {
      name: "drop the access policy",
      kind: "cluster-access",
      edit: (t) => {
        const entry = Object.values(t.Resources).find((r) => r.Type === "AWS::EKS::AccessEntry");
        if (!entry) return false;
        entry.Properties.AccessPolicies = [];
        return true;
      },
      link: "eks.access-policy",
    },
    {
      name: "drop the 443 rule",
      kind: "cluster-link",
      edit: (t) => dropResources(t, "AWS::EC2::SecurityGroupIngress"),
      link: "network.security-group",
    },
    {
      name: "drop the instance profile",
      kind: "client-identity",
      edit: (t) => dropResources(t, "AWS::IAM::InstanceProfile"),
      link: "iam.client-role",
    },
    {
      name: "drop the client's sts:AssumeRole policy",
      kind: "client-identity",
      edit: (t) =>
        dropResources(t, "AWS::IAM::Policy") ||
        dropResources(t, "AWS::IAM::RolePolicy") ||
        Object.values(t.Resources).some((r) => r.Type === "AWS::IAM::Role" && delete r.Properties.Policies),
      link: "iam.assume-permission",
    },
  ];
  for (const m of mutations) {
    test(m.name, async () => {
      const r = await planProof(seed, (dir) => tamper(dir, m.kind, m.edit));
      const failing = r.links.filter((l) => l.status === "fail");
      assert.deepEqual([...new Set(failing.map((l) => l.id))], [m.link], JSON.stringify(failing, null, 1));
      assert.equal(r.verdict, "fail");
    });
  }
});

describe("xeks plan proves on the command line", () => {
  test("a broken topology: exit 1, one ChainReport on stdout, an HTML report with one SVG element per link", () => {
    const d = structuredClone(seed);
    d.cluster.authenticationMode = "CONFIG_MAP";
    const file = join(work, "broken.yaml");
    writeFileSync(file, stringify(d));
    const html = join(work, "broken.html");
    const r = xeks(["plan", file, "--out", join(work, "cli-out"), "--output", "json", "--report", html]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, "");
    const report = JSON.parse(r.stdout) as ChainReport;
    assert.equal(report.kind, "ChainReport");
    assert.equal(report.verdict, "fail");
    const failing = report.links.filter((l) => l.status === "fail");
    assert.deepEqual(
      failing.map((l) => [l.id, l.fix]),
      [
        [
          "eks.authentication-mode",
          "aws eks update-cluster-config --name prac-eks-abhi --region ap-south-1 --access-config authenticationMode=API_AND_CONFIG_MAP",
        ],
      ],
    );
    const page = readFileSync(html, "utf8");
    const elements = [...page.matchAll(/<g class="link status-(\w+)" data-link-id="([^"]+)"/g)];
    assert.equal(elements.length, report.links.length);
    assert.ok(elements.some((m) => m[2] === "eks.authentication-mode" && m[1] === "fail"));
  });

  test("a --report path that cannot be written is invalid input, checked before anything is written", () => {
    const out = join(work, "never-written");
    for (const report of [join(work, "no-such-dir", "r.html"), work]) {
      const r = xeks(["plan", "examples/seed.yaml", "--out", out, "--report", report]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /cannot write the report .*\n {2}--report: /);
      assert.equal(existsSync(out), false, "the assembly was not written");
    }
  });

  test("stdout that cannot be written: exit 1, one line, no stack trace", () => {
    const r = spawnSync(
      "sh",
      ["-c", `"${XEKS}" plan examples/seed.yaml --out "${join(work, "full-out")}" > /dev/full`],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "xeks: cannot write the output: ENOSPC\n");
  });

  test("the text report shows the failing link with its fix", () => {
    const d = structuredClone(seed);
    d.cluster.endpointAccess = { private: false, public: true };
    const file = join(work, "public.yaml");
    writeFileSync(file, stringify(d));
    const r = xeks(["plan", file, "--out", join(work, "cli-out-2")]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /network\.endpoint\s+the private endpoint is off/);
    assert.match(
      r.stdout,
      /fix: in account 111111111111: aws eks update-cluster-config --name prac-eks-abhi/,
    );
    assert.match(r.stdout, /verdict: fail/);
  });
});
