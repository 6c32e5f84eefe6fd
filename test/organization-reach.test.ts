/**
 * The organization reach decided once per class of access roles (issue 14, docs/organizations.md "What the proof
 * shows"): access roles whose trust policies are equal but for their own external id share one decision of the
 * callers that must not get in; the class's first pair lists them, the others name it. An RCP on the cluster account
 * or a trust policy that differs makes each access role a class of its own; a widened class warns on every pair; a
 * statement naming a pair's own account adds that account's negatives to the pair; findings are the same inside a
 * proof (memo) and outside one. One synthesis; the model is copied and changed per case.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { accessRoleTrust } from "../src/chain/links/assume.js";
import { prove } from "../src/chain/prove.js";
import { safeFix } from "../src/chain/safety.js";
import type { ChainReport, LinkResult } from "../src/chain/types.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import type { Model, PolicyDocument, PolicyStatement } from "../src/model/types.js";
import { parseTopology } from "../src/topology/index.js";
import type { Topology } from "../src/topology/types.js";

const work = mkdtempSync(join(tmpdir(), "xeks-organization-reach-"));
after(() => rmSync(work, { recursive: true, force: true }));

const ORG = "o-a1b2c3d4e5";
const REACH = `reach of organization ${ORG} (iam-simulate)`;
const A = "arn:aws:iam::111111111111:role/View-A";
const B = "arn:aws:iam::111111111111:role/View-B";

/** alpha and beta in the organization, one rolePattern; View-A (alpha) and View-B (beta), each its external id. */
const input = {
  version: 1,
  cluster: {
    name: "prac",
    account: "111111111111",
    region: "eu-west-1",
    authenticationMode: "API",
    endpointAccess: { private: false, public: true },
    securityGroupId: "sg-0123456789abcdef0",
    vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
  },
  clients: [
    {
      name: "alpha",
      account: "222222222222",
      publicCidrs: ["203.0.113.0/24"],
      role: "TeamAlpha-EKS-Client-Role",
    },
    {
      name: "beta",
      account: "333333333333",
      publicCidrs: ["203.0.113.0/24"],
      role: "TeamBeta-EKS-Client-Role",
    },
  ],
  access: [
    { role: "View-A", clients: ["alpha"], policies: ["AmazonEKSViewPolicy"], externalId: "ext-a" },
    { role: "View-B", clients: ["beta"], policies: ["AmazonEKSViewPolicy"], externalId: "ext-b" },
  ],
  organization: { id: ORG, rolePattern: "Team*-EKS-Client-Role" },
};

let topology: Topology;
let model: Model;
before(async () => {
  topology = parseTopology(stringify(input), "reach.yaml");
  const outDir = join(work, "out");
  await synthesize(topology, { outDir });
  model = modelFromAssembly(topology, outDir);
});

/** The model with `statement` added to the trust policy of each role of `arns`. */
function withStatement(arns: string[], statement: PolicyStatement): Model {
  const m = structuredClone(model);
  for (const arn of arns) {
    const role = m.roles[arn];
    assert.ok(role, arn);
    const doc: PolicyDocument = role.trustPolicy;
    role.trustPolicy = { ...doc, Statement: [...[doc.Statement].flat(), statement] };
  }
  return m;
}

function trustOf(report: ChainReport, client: string): LinkResult {
  const found = report.links.filter(
    (l) => l.id === "iam.access-role-trust" && l.subject.startsWith(`client ${client} ->`),
  );
  assert.equal(found.length, 1, client);
  return found[0] as LinkResult;
}

const reach = (l: LinkResult) =>
  (l.evidence ?? []).filter((e) => e.fact === REACH).map((e) => e.detail ?? "");

test("two access roles equal but for the external id share the reach: one listing, one reference", async () => {
  const report = await prove(topology, model, "plan");
  const alpha = trustOf(report, "alpha");
  const beta = trustOf(report, "beta");
  assert.equal(alpha.status, "pass");
  assert.equal(beta.status, "pass");
  assert.equal(reach(alpha).filter((d) => d.startsWith("does not get in")).length, 11);
  assert.ok(reach(alpha).some((d) => d.startsWith("gets in (by design): ")));
  assert.deepEqual(reach(beta), [
    "gets in: arn:aws:iam::333333333333:role/TeamBeta-EKS-Client-Role (TeamBeta-EKS-Client-Role in o-a1b2c3d4e5)",
    "the same as under client alpha with access role View-A (trust policies equal but for the external id)",
  ]);
});

test("an RCP on the cluster account, or a trust policy that differs: each access role lists its own reach", async () => {
  const rcp = structuredClone(model);
  rcp.rcps["111111111111"] = [
    {
      name: "deny-one-account",
      source: "declared",
      document: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "sts:AssumeRole",
            Resource: "*",
            Condition: { StringEquals: { "aws:PrincipalAccount": "000000000000" } },
          },
        ],
      },
    },
  ];
  const other = withStatement([B], {
    Effect: "Allow",
    Principal: { AWS: "arn:aws:iam::444444444444:role/Ops" },
    Action: "sts:AssumeRole",
  });
  for (const m of [rcp, other]) {
    const report = await prove(topology, m, "plan");
    for (const client of ["alpha", "beta"]) {
      const l = trustOf(report, client);
      assert.equal(l.status, "pass", client);
      assert.equal(reach(l).filter((d) => d.startsWith("does not get in")).length, 11, client);
      assert.ok(!reach(l).some((d) => d.startsWith("the same as under")), client);
    }
    assert.ok(
      reach(trustOf(report, "beta")).includes(
        "does not get in: arn:aws:iam::333333333333:role/OrganizationAccountAccessRole (OrganizationAccountAccessRole, AWS Organizations' administrator role of member accounts, in member account 333333333333)",
      ),
    );
  }
});

test("a widened class warns on every pair, naming the caller that gets in", async () => {
  const m = withStatement([A, B], {
    Effect: "Allow",
    Principal: { AWS: "arn:aws:iam::999999999999:root" },
    Action: "sts:AssumeRole",
  });
  const report = await prove(topology, m, "plan");
  for (const [client, role] of [
    ["alpha", "View-A"],
    ["beta", "View-B"],
  ]) {
    const l = trustOf(report, client as string);
    assert.equal(l.status, "warn", client);
    assert.match(
      l.summary,
      new RegExp(
        `^${role}'s trust is wider than declared: arn:aws:iam::999999999999:role/TeamAlpha-EKS-Client-Role gets in besides`,
      ),
    );
  }
  assert.ok(reach(trustOf(report, "beta")).some((d) => d.startsWith("the same as under client alpha")));
});

test("a statement naming a pair's own account adds that account's negatives, decided for the pair", async () => {
  const m = withStatement([A, B], {
    Effect: "Allow",
    Principal: { AWS: "arn:aws:iam::333333333333:role/Ops" },
    Action: "sts:AssumeRole",
  });
  const beta = trustOf(await prove(topology, m, "plan"), "beta");
  assert.equal(beta.status, "pass");
  const lines = reach(beta);
  assert.equal(
    lines[1],
    "the same as under client alpha with access role View-A (trust policies equal but for the external id)",
  );
  const own = lines.slice(2);
  assert.equal(own.length, 8, JSON.stringify(own));
  assert.ok(own.every((d) => d.startsWith("does not get in: arn:aws:iam::333333333333:role/")));
  assert.ok(own[0]?.includes("NotA-Client-Role"));
});

test("the findings are the same inside a proof (the class memo) and on their own (none)", async () => {
  for (const m of [
    model,
    withStatement([A, B], {
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::999999999999:root" },
      Action: "sts:AssumeRole",
    }),
  ]) {
    const report = await prove(topology, m, "plan");
    for (const l of report.links.filter((x) => x.id === "iam.access-role-trust")) {
      const client = topology.clients.find((c) => c.name === l.client);
      const access = topology.access.find((a) => a.role === l.accessRole);
      assert.ok(client && access);
      const f = await accessRoleTrust.evaluate({ topology, model: m }, { kind: "pair", client, access });
      assert.ok(f);
      assert.deepEqual(
        {
          status: f.status,
          summary: f.summary,
          fix: f.fix === undefined ? undefined : safeFix(f.fix),
          evidence: f.evidence,
        },
        { status: l.status, summary: l.summary, fix: l.fix, evidence: l.evidence },
      );
    }
  }
});

test("a statement naming accounts by a pattern makes each access role a class of its own (review: 33333333333?)", async () => {
  const conditions: Record<string, Record<string, unknown>>[] = [
    { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::33333333333?:role/*" } },
    { StringLike: { "aws:PrincipalAccount": "3333*" } },
  ];
  for (const condition of conditions) {
    const m = withStatement([A, B], {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
      Condition: condition,
    });
    const report = await prove(topology, m, "plan");
    const beta = trustOf(report, "beta");
    assert.equal(beta.status, "warn", JSON.stringify(condition));
    assert.match(beta.summary, /^View-B's trust is wider than declared: .*arn:aws:iam::333333333333:role\//);
    assert.ok(!reach(beta).some((d) => d.startsWith("the same as under")));
    assert.equal(trustOf(report, "alpha").status, "pass");
  }
});
