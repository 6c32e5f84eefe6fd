/**
 * Organization trust (issue 14, docs/organizations.md): with a top-level `organization`, the access roles trust the
 * covered clients (kinds instance, role, oidc of the organization) through one statement (aws:PrincipalOrgID,
 * aws:PrincipalOrgPaths, ArnLike aws:PrincipalArn on role name patterns) and the peering accepter role trusts the
 * organization, its requester VPCs moved into customer managed policies when they outgrow the inline quota. The exact
 * documents (literal JSON, from the synthesized templates), the normalization and its refusals, the proof's reach
 * (negatives decided by iam-simulate), and the acceptance: 300 clients with VPCs, every trust policy under 2,048
 * characters, the only failing link network.peering-quota; 40 clients pass. Each plan is synthesized once.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { pathsOutside, trustDecision } from "../src/chain/links/assume.js";
import { policySizeCluster } from "../src/chain/links/quotas.js";
import { prove } from "../src/chain/prove.js";
import type { ChainReport, LinkId, LinkResult } from "../src/chain/types.js";
import { globsIntersect, wellKnownRoleAdmitted } from "../src/domain/organization.js";
import { documentSize, QUOTAS } from "../src/domain/quotas.js";
import { accepterTrustPolicy, accessTrustPolicy } from "../src/domain/trust.js";
import { InputError } from "../src/errors.js";
import { describeDifference, describePlan } from "../src/infra/describe.js";
import { synthesize } from "../src/infra/synthesize.js";
import { planLayout } from "../src/layout/layout.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import type { Model, PolicyDocument } from "../src/model/types.js";
import { parseTopology } from "../src/topology/index.js";
import type { Topology } from "../src/topology/types.js";
import { ROOT } from "./helpers/cli.js";
import { generatedInput } from "./helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-organization-"));
after(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the tests change plain documents freely.
type Doc = Record<string, any>;
const ORG = "o-a1b2c3d4e5";
const OU = `${ORG}/r-ab12/ou-ab12-11111111/`;

/**
 * Four clients, each with a VPC: alpha (instance) and beta (oidc, xeks's default role name) in the organization; gamma (instance, VPC) in another organization; delta (pod-identity) in the organization but not
 * covered (it needs sts:TagSession). Two access roles, one with an external id.
 */
function small(): Doc {
  return {
    version: 1,
    cluster: {
      name: "prac",
      account: "111111111111",
      region: "eu-west-1",
      authenticationMode: "API",
      endpointAccess: { private: true, public: false },
      securityGroupId: "sg-0123456789abcdef0",
      vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
    },
    clients: [
      {
        name: "alpha",
        account: "222222222222",
        vpc: { id: "vpc-0ddd3333eeee4444f", cidr: "172.31.0.0/16", routeTables: ["rtb-0ddd3333eeee4444f"] },
        role: "Team-Alpha-EKS-Client-Role",
      },
      {
        name: "beta",
        account: "333333333333",
        vpc: { id: "vpc-0ddd3333eeee6666f", cidr: "172.29.0.0/16", routeTables: ["rtb-0ddd3333eeee6666f"] },
        identity: {
          kind: "oidc",
          provider: "token.actions.githubusercontent.com",
          subjects: ["repo:acme/deploy:ref:refs/heads/main"],
        },
      },
      {
        name: "gamma",
        account: "444444444444",
        organizationId: "o-otherorg000",
        vpc: { id: "vpc-0ddd3333eeee5555f", cidr: "172.30.0.0/16", routeTables: ["rtb-0ddd3333eeee5555f"] },
        role: "Gamma-Role",
      },
      {
        name: "delta",
        account: "555555555555",
        vpc: { id: "vpc-0ddd3333eeee7777f", cidr: "172.28.0.0/16", routeTables: ["rtb-0ddd3333eeee7777f"] },
        identity: { kind: "pod-identity", cluster: "apps", namespace: "web", serviceAccount: "web" },
      },
    ],
    access: [
      {
        role: "EKS-View-Role",
        clients: ["alpha", "beta", "gamma", "delta"],
        policies: ["AmazonEKSViewPolicy"],
      },
      {
        role: "EKS-Admin-Role",
        clients: ["alpha"],
        policies: ["AmazonEKSClusterAdminPolicy"],
        externalId: "ext-1",
      },
    ],
    organization: { id: ORG },
  };
}

/** The same with organization paths declared, and alpha's path (beta's is not declared). */
function withPaths(): Doc {
  const d = small();
  d.organization.paths = [OU];
  d.clients[0].organizationPath = `${OU}ou-ab12-22222222/`;
  return d;
}

/** n generated clients (each with its own account, VPC and access role), the organization and a role pattern. */
function fleet(n: number): Doc {
  const d = generatedInput(n) as Doc;
  d.organization = { id: ORG, rolePattern: "Team*-EKS-Client-Role" };
  return d;
}

const topo = (d: Doc) => parseTopology(stringify(d), "org.yaml");

interface Plan {
  topology: Topology;
  outDir: string;
  model: Model;
  report: ChainReport;
  templates: Map<string, Doc>;
}

async function plan(name: string, d: Doc): Promise<Plan> {
  const topology = topo(d);
  const outDir = join(work, name);
  await synthesize(topology, { outDir });
  const model = modelFromAssembly(topology, outDir);
  const report = await prove(topology, model, "plan");
  const templates = new Map<string, Doc>();
  for (const f of readdirSync(outDir).filter((x) => x.endsWith(".template.json"))) {
    templates.set(f, JSON.parse(readFileSync(join(outDir, f), "utf8")));
  }
  return { topology, outDir, model, report, templates };
}

/** The resources of a type across the templates whose file name contains `stack`. */
function resources(p: Plan, stack: string, type: string): Doc[] {
  return [...p.templates]
    .filter(([f]) => f.includes(stack))
    .flatMap(([, t]) => Object.values(t.Resources ?? {}) as Doc[])
    .filter((r) => r.Type === type);
}

function roleNamed(p: Plan, name: string): Doc {
  const all = [...p.templates.values()]
    .flatMap((t) => Object.values(t.Resources ?? {}) as Doc[])
    .filter((r) => r.Type === "AWS::IAM::Role" && r.Properties?.RoleName === name);
  assert.equal(all.length, 1, `role ${name}`);
  return (all[0] as Doc).Properties;
}

function link(report: ChainReport, id: LinkId, subject: string): LinkResult {
  const found = report.links.filter((l) => l.id === id && l.subject === subject);
  assert.equal(found.length, 1, `${id} of ${subject}: ${found.length} results`);
  return found[0] as LinkResult;
}

const details = (l: LinkResult) => (l.evidence ?? []).map((e) => e.detail ?? "");

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" }).status === 0;
function cfnLint(files: string[]) {
  const r = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  assert.equal(`${r.stdout}${r.stderr}`.trim(), "");
  assert.equal(r.status, 0);
}

describe("the trust documents", () => {
  let base: Plan;
  before(async () => {
    base = await plan("small", small());
  });

  test("normalized: organization id as the clients' default, role patterns from the covered roles", () => {
    const t = base.topology;
    assert.deepEqual(t.organization, {
      id: ORG,
      paths: [],
      rolePatterns: ["Team-Alpha-EKS-Client-Role", "xeks-prac-*"],
    });
    assert.deepEqual(
      t.clients.map((c) => c.organizationId),
      [ORG, ORG, "o-otherorg000", ORG],
    );
  });

  test("an access role: one organization statement for the covered clients, exact statements for the others", () => {
    assert.deepEqual(roleNamed(base, "EKS-View-Role").AssumeRolePolicyDocument, {
      Version: "2012-10-17",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Condition: {
            StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
            StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
            ArnLike: {
              "aws:PrincipalArn": [
                "arn:aws:iam::*:role/Team-Alpha-EKS-Client-Role",
                "arn:aws:iam::*:role/xeks-prac-*",
              ],
            },
          },
        },
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::444444444444:role/Gamma-Role" },
        },
        {
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::555555555555:role/xeks-prac-delta" },
        },
      ],
    });
  });

  test("plan's description of an adopted role's new trust names the organization, not any principal", () => {
    const line = describeDifference(
      "AssumeRolePolicyDocument",
      {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { AWS: "*" } }],
      },
      roleNamed(base, "EKS-View-Role").AssumeRolePolicyDocument,
    );
    assert.match(
      line,
      /^trust policy: trusts any principal \(\*\) -> trusts principals of organization o-a1b2c3d4e5, /,
    );
    assert.match(line, /only roles like arn:aws:iam::\*:role\/Team-Alpha-EKS-Client-Role/);
    assert.doesNotMatch(line.split("->")[1] ?? "", /any principal/);
  });

  test("plan's text names the organization statement", () => {
    const texts = JSON.stringify(describePlan(planLayout(base.topology)));
    assert.ok(
      texts.includes(
        "access role EKS-View-Role trusted by roles like Team-Alpha-EKS-Client-Role, xeks-prac-* in accounts of organization o-a1b2c3d4e5 (2 client roles), arn:aws:iam::444444444444:role/Gamma-Role, arn:aws:iam::555555555555:role/xeks-prac-delta (sts:AssumeRole, sts:TagSession);",
      ),
      texts,
    );
    assert.ok(
      texts.includes(
        "peering accepter role xeks-prac-peering-accepter trusted by accounts of organization o-a1b2c3d4e5, account 444444444444;",
      ),
    );
  });

  test("with an external id: merged into the StringEquals block; only the access role's own patterns", () => {
    assert.deepEqual(roleNamed(base, "EKS-Admin-Role").AssumeRolePolicyDocument, {
      Version: "2012-10-17",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Condition: {
            StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5", "sts:ExternalId": "ext-1" },
            StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
            ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/Team-Alpha-EKS-Client-Role" },
          },
        },
      ],
    });
  });

  test("the peering accepter role: the organization, and the account root of a client outside it", () => {
    assert.deepEqual(roleNamed(base, "xeks-prac-peering-accepter").AssumeRolePolicyDocument, {
      Version: "2012-10-17",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Condition: {
            StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
            StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
          },
        },
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: "arn:aws:iam::444444444444:root" } },
      ],
    });
    // Two requester VPCs fit the inline policy: no managed policy.
    assert.equal(resources(base, "cluster-base", "AWS::IAM::ManagedPolicy").length, 0);
  });

  test("with paths: ForAnyValue:StringLike aws:PrincipalOrgPaths PATH* (the builders)", () => {
    const t = topo(withPaths());
    const view = t.access[0];
    assert.ok(view);
    const alpha = t.clients[0]?.principal;
    assert.ok(alpha);
    assert.deepEqual(
      accessTrustPolicy([alpha], null, "aws", {
        id: ORG,
        paths: [OU, `${ORG}/r-ab12/ou-ab12-33333333/`],
        rolePatterns: ["Team-*-EKS-Client-Role", "Other-*"],
        covered: [alpha.arn as string],
        clusterAccount: "111111111111",
      }),
      {
        Version: "2012-10-17",
        Statement: [
          {
            Action: "sts:AssumeRole",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Condition: {
              StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
              StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
              "ForAnyValue:StringLike": {
                "aws:PrincipalOrgPaths": [
                  "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*",
                  "o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/*",
                ],
              },
              ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/Team-*-EKS-Client-Role" },
            },
          },
        ],
      },
    );
    assert.deepEqual(accepterTrustPolicy([], { id: ORG, paths: [OU], clusterAccount: "111111111111" }), {
      Version: "2012-10-17",
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Condition: {
            StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
            StringNotEquals: { "aws:PrincipalAccount": "111111111111" },
            "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*" },
          },
        },
      ],
    });
    // Without covered principals the document is exactly the one without an organization.
    assert.deepEqual(
      accessTrustPolicy([alpha], null, "aws", {
        id: ORG,
        paths: [],
        rolePatterns: ["x*"],
        covered: [],
        clusterAccount: "111111111111",
      }),
      accessTrustPolicy([alpha], null, "aws"),
    );
  });

  test("the plan passes; each covered client gets in through the organization, the negatives do not", () => {
    assert.equal(
      base.report.verdict,
      "pass",
      JSON.stringify(base.report.links.filter((l) => l.status !== "pass")),
    );
    const l = link(base.report, "iam.access-role-trust", "client alpha -> access role EKS-View-Role");
    assert.equal(l.status, "pass");
    const reach = details(l).filter((d) => /gets? in:/.test(d));
    assert.deepEqual(reach, [
      "gets in: arn:aws:iam::222222222222:role/Team-Alpha-EKS-Client-Role (Team-Alpha-EKS-Client-Role in o-a1b2c3d4e5)",
      "does not get in: arn:aws:iam::999999999999:role/Team-Alpha-EKS-Client-Role (the same role name in account 999999999999 of another organization, o-outsideorg0)",
      "does not get in: arn:aws:iam::222222222222:role/NotA-Client-Role (a role of account 222222222222 outside the role name patterns Team-Alpha-EKS-Client-Role, xeks-prac-*)",
      "does not get in: arn:aws:iam::111111111111:role/xeks-prac-peering-accepter (the peering accepter role of the cluster account 111111111111, excluded by aws:PrincipalAccount)",
      "does not get in: arn:aws:iam::111111111111:role/Team-Alpha-EKS-Client-Role (a role of the cluster account 111111111111 matching Team-Alpha-EKS-Client-Role, excluded by aws:PrincipalAccount)",
      "does not get in: arn:aws:iam::222222222222:role/OrganizationAccountAccessRole (OrganizationAccountAccessRole, AWS Organizations' administrator role of member accounts, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/AWSControlTowerExecution (AWSControlTowerExecution, AWS Control Tower's administrator role, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/AWSAFTExecution (AWSAFTExecution, Account Factory for Terraform's administrator role, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/stacksets-exec-0123456789abcdef0123456789abcdef (stacksets-exec-*, the execution roles of service-managed CloudFormation StackSets, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/AWSCloudFormationStackSetExecutionRole (AWSCloudFormationStackSetExecutionRole, the execution role of self-managed CloudFormation StackSets, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef (the roles under /aws-reserved/, IAM Identity Center's AWSReservedSSO_* roles, in member account 222222222222)",
      "does not get in: arn:aws:iam::222222222222:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS (the service-linked roles under /aws-service-role/, in member account 222222222222)",
    ]);
    // The delegation is visible: a role matching the pattern in another member account, no declared client.
    assert.ok(
      details(l).includes(
        "gets in (by design): arn:aws:iam::999999999998:role/Team-Alpha-EKS-Client-Role (a role matching Team-Alpha-EKS-Client-Role in account 999999999998 of o-a1b2c3d4e5, not a declared client: the organization statement lets every member account's matching roles in)",
      ),
      JSON.stringify(details(l)),
    );
    // beta's default pattern xeks-prac-* matches the cluster account's accepter role: aws:PrincipalAccount keeps it out
    // (alpha's listing above decides the accepter role against the same trust policy). The reach is decided once per
    // class of access roles: beta's pair names the pair that lists it.
    const beta = link(base.report, "iam.access-role-trust", "client beta -> access role EKS-View-Role");
    assert.equal(beta.status, "pass");
    assert.deepEqual(
      (beta.evidence ?? [])
        .filter((e) => e.fact === `reach of organization ${ORG} (iam-simulate)`)
        .map((e) => e.detail),
      [
        "gets in: arn:aws:iam::333333333333:role/xeks-prac-beta (xeks-prac-beta in o-a1b2c3d4e5)",
        "the same as under client alpha with access role EKS-View-Role (the same trust policy)",
      ],
    );
    // Outside the organization: no reach lines (its exact statement lets it in).
    const gamma = link(base.report, "iam.access-role-trust", "client gamma -> access role EKS-View-Role");
    assert.equal(gamma.status, "pass");
    assert.ok(!details(gamma).some((d) => /gets? in:/.test(d)));
    const peering = link(base.report, "network.peering", "client alpha");
    assert.equal(peering.status, "pass");
    assert.ok(
      details(peering).some((d) =>
        d.includes("does not get in: account 999999999999 of another organization, o-outsideorg0"),
      ),
      JSON.stringify(details(peering)),
    );
    assert.ok(
      details(peering).includes(
        "does not get in: the cluster account 111111111111, excluded by aws:PrincipalAccount",
      ),
    );
  });

  test("the cluster account is excluded: an access role matching the pattern cannot chain into another", async () => {
    // View and Edit access roles both match the pattern Team-*: without aws:PrincipalAccount, View's sessions would
    // get into Edit. Decided by iam-simulate against the built document.
    const alpha = base.topology.clients[0]?.principal;
    assert.ok(alpha);
    const doc = accessTrustPolicy([alpha], null, "aws", {
      id: ORG,
      paths: [],
      rolePatterns: ["Team-*"],
      covered: [alpha.arn as string],
      clusterAccount: "111111111111",
    });
    const target = { arn: "arn:aws:iam::111111111111:role/Team-Edit-Role", account: "111111111111" };
    const caller = (account: string) => ({
      account,
      roleName: "Team-View-Role",
      roleArn: `arn:aws:iam::${account}:role/Team-View-Role`,
      organizationId: ORG,
    });
    const decision = async (account: string) =>
      (await trustDecision({ partition: "aws", caller: caller(account), target, trustPolicy: doc })).result;
    assert.equal(await decision("111111111111"), "ImplicitlyDenied");
    assert.equal(await decision("222222222222"), "Allowed");
  });

  test("with paths: an account under another path does not get in; a covered client without its path is unknown", async () => {
    const p = await plan("paths", withPaths());
    const alpha = link(p.report, "iam.access-role-trust", "client alpha -> access role EKS-View-Role");
    assert.equal(alpha.status, "pass");
    const out = details(alpha).filter((d) => d.startsWith("does not get in"));
    assert.equal(out.length, 13, JSON.stringify(out));
    // A sibling OU under the same root, and the root itself (the declared path is deeper): accounts that exist.
    assert.deepEqual(out.slice(2, 4), [
      "does not get in: arn:aws:iam::999999999999:role/Team-Alpha-EKS-Client-Role (the same role name in account 999999999999 of o-a1b2c3d4e5 under another path, o-a1b2c3d4e5/r-ab12/ou-ab12-zzzzzzzz/)",
      "does not get in: arn:aws:iam::999999999999:role/Team-Alpha-EKS-Client-Role (the same role name in account 999999999999 of o-a1b2c3d4e5 under another path, o-a1b2c3d4e5/r-ab12/)",
    ]);
    assert.deepEqual(pathsOutside([`${ORG}/r-ab12/`]), []);
    assert.deepEqual(pathsOutside([`${ORG}/r-ab12/ou-ab12-zzzzzzzz/`]), [
      `${ORG}/r-ab12/ou-ab12-yyyyyyyy/`,
      `${ORG}/r-ab12/`,
    ]);
    assert.match(
      details(alpha).find((d) => d.startsWith("gets in")) ?? "",
      /gets in: .* path o-a1b2c3d4e5\/r-ab12\/ou-ab12-11111111\/ou-ab12-22222222\//,
    );
    const beta = link(p.report, "iam.access-role-trust", "client beta -> access role EKS-View-Role");
    assert.equal(beta.status, "unknown");
    assert.match(beta.fix ?? "", /declare clients\[1\]\.organizationPath/);
    const betaPeering = link(p.report, "network.peering", "client beta");
    assert.equal(betaPeering.status, "unknown");
    assert.match(betaPeering.fix ?? "", /declare clients\[1\]\.organizationPath/);
    const alphaPeering = link(p.report, "network.peering", "client alpha");
    assert.equal(alphaPeering.status, "pass");
    assert.deepEqual(
      details(alphaPeering).filter((d) => d.includes("under another path")),
      [
        "does not get in: account 999999999999 of o-a1b2c3d4e5 under another path, o-a1b2c3d4e5/r-ab12/ou-ab12-zzzzzzzz/",
        "does not get in: account 999999999999 of o-a1b2c3d4e5 under another path, o-a1b2c3d4e5/r-ab12/",
      ],
    );
    if (hasCfnLint) cfnLint([...p.templates.keys()].map((f) => join(p.outDir, f)));
  });

  test("cfn-lint: the templates have no error and no warning", {
    skip: !hasCfnLint && "cfn-lint is not installed",
  }, () => {
    cfnLint([...base.templates.keys()].map((f) => join(base.outDir, f)));
  });
});

describe("refusals (InputError, exit 2)", () => {
  const refused = (d: Doc): { path: string; message: string }[] => {
    try {
      topo(d);
    } catch (e) {
      assert.ok(e instanceof InputError, String(e));
      return e.issues;
    }
    assert.fail("accepted");
  };

  test("a rolePattern that does not match a covered client's role names the client's field and the pattern", () => {
    const d = small();
    d.organization.rolePattern = "Team-*-EKS-Client-Role";
    const issues = refused(d);
    // beta's default role xeks-prac-beta does not match; gamma (another organization) and delta (pod-identity) are
    // not covered.
    assert.deepEqual(
      issues.map((i) => i.path),
      ["clients[1].identity.kind"],
    );
    assert.match(
      issues[0]?.message ?? "",
      /xeks-prac-beta does not match organization\.rolePattern Team-\*-EKS-Client-Role/,
    );
    d.clients[0].role = "Alpha-Role";
    assert.deepEqual(
      refused(d).map((i) => i.path),
      ["clients[0].role", "clients[1].identity.kind"],
    );
  });

  test("xeks plan exits 2 with the file, line, field and pattern", () => {
    const d = small();
    d.organization.rolePattern = "Team-*-EKS-Client-Role";
    const file = join(work, "bad.yaml");
    writeFileSync(file, stringify(d));
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `const m = await import("./src/cli/main.ts"); await m.run(["plan", ${JSON.stringify(file)}, "--out", ${JSON.stringify(join(work, "bad-out"))}]);`,
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /bad\.yaml:\d+:\d+: clients\[1\]\.identity\.kind: role xeks-prac-beta does not match organization\.rolePattern Team-\*-EKS-Client-Role/,
    );
    assert.equal(r.stdout, "");
  });

  for (const [pattern, role] of [
    ["*e*", "OrganizationAccountAccessRole"],
    ["*-Role", "stacksets-exec-*"],
    ["Organization*", "OrganizationAccountAccessRole"],
    ["AWSControl*", "AWSControlTowerExecution"],
    ["AWSAFT*", "AWSAFTExecution"],
    ["stacksets-*", "stacksets-exec-*"],
    ["AWSCloudFormation*Role", "AWSCloudFormationStackSetExecutionRole"],
    ["aws-*/AWSReservedSSO_*", "the roles under /aws-reserved/"],
    ["aws-service-role/*", "the service-linked roles under /aws-service-role/"],
  ]) {
    test(`a pattern that could match a role AWS creates in member accounts is refused: ${pattern}`, () => {
      const d = small();
      d.organization.rolePattern = pattern;
      const issues = refused(d).filter((i) => i.path === "organization.rolePattern");
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.ok(issues[0]?.message.includes(`could match ${role}`), issues[0]?.message);
      assert.match(issues[0]?.message ?? "", /e\.g\. Team\*-EKS-Client-Role/);
    });
  }

  test("accepted patterns match none of them; the length limit is in the message", () => {
    for (const p of ["Team*-EKS-Client-Role", "xeks-prac-*", "T*", "teams/*"])
      assert.equal(wellKnownRoleAdmitted(p), undefined, p);
    assert.equal(globsIntersect("a*c", "*b*"), true);
    assert.equal(globsIntersect("a?c", "ab"), false);
    const d = small();
    d.organization.rolePattern = `T${"x".repeat(576)}`;
    assert.match(refused(d)[0]?.message ?? "", /1 to 576 characters/);
  });

  test("a client path not under organization.paths, and paths with inconsistent roots", () => {
    const d = withPaths();
    d.clients[0].organizationPath = `${ORG}/r-ab12/ou-ab12-33333333/`;
    const issues = refused(d);
    assert.deepEqual(
      issues.map((i) => i.path),
      ["clients[0].organizationPath"],
    );
    assert.match(
      issues[0]?.message ?? "",
      /not under organization\.paths .*add its OU to organization\.paths or give the client another organizationId/,
    );
    const e = withPaths();
    e.organization.paths = [OU, `${ORG}/r-cd34/ou-cd34-11111111/`, `${ORG}/r-ab12/ou-cd34-22222222/`];
    const rootIssues = refused(e);
    assert.deepEqual(
      rootIssues.map((i) => i.path),
      ["organization.paths[1]", "organization.paths[2]"],
    );
    assert.match(rootIssues[0]?.message ?? "", /an organization has one root: r-cd34 differs from r-ab12/);
    assert.match(rootIssues[1]?.message ?? "", /ou-cd34-… is not under root r-ab12/);
  });

  for (const pattern of ["*", "*?*", "*/*"]) {
    test(`a pattern of only wildcards is refused: ${pattern}`, () => {
      const d = small();
      d.organization.rolePattern = pattern;
      const issues = refused(d);
      assert.deepEqual(
        issues.map((i) => i.path),
        ["organization.rolePattern"],
      );
      assert.match(issues[0]?.message ?? "", /every role of every member account/);
    });
  }

  test("paths and organizationPath outside the organization", () => {
    const d = withPaths();
    d.organization.paths = ["o-zzzzzzzzzz/r-ab12/", OU, OU];
    d.clients[2].organizationPath = OU;
    assert.deepEqual(
      refused(d).map((i) => i.path),
      ["clients[2].organizationPath", "organization.paths[0]", "organization.paths[2]"],
    );
    const e = small();
    e.organization.paths = ["o-a1b2c3d4e5/ou-ab12-11111111/"];
    assert.deepEqual(
      refused(e).map((i) => i.path),
      ["organization.paths[0]"],
    );
  });
});

describe("300 clients with VPCs in one organization", () => {
  let p: Plan;
  before(async () => {
    p = await plan("fleet-300", fleet(300));
  });

  test("every trust policy of the synthesized templates is under 2,048 characters", () => {
    let roles = 0;
    for (const [file, t] of p.templates) {
      for (const r of Object.values(t.Resources ?? {}) as Doc[]) {
        if (r.Type !== "AWS::IAM::Role") continue;
        roles++;
        const size = documentSize(r.Properties.AssumeRolePolicyDocument);
        assert.ok(size < QUOTAS.trustPolicyLength, `${file} ${r.Properties.RoleName}: ${size}`);
      }
    }
    // 300 client roles, 301 access roles, the accepter role.
    assert.equal(roles, 602);
  });

  test("the only failing link is network.peering-quota", () => {
    const notPassing = p.report.links.filter((l) => l.status !== "pass");
    assert.deepEqual(
      notPassing.map((l) => `${l.id} ${l.subject} ${l.status}`),
      ["network.peering-quota cluster bench-cluster fail"],
    );
    assert.match(notPassing[0]?.summary ?? "", /300 peering connections/);
  });

  test("the accepter role names each requester VPC, in managed policies of at most 6,144 characters", () => {
    const managed = resources(p, "cluster-base", "AWS::IAM::ManagedPolicy");
    assert.ok(managed.length >= 2 && managed.length <= QUOTAS.managedPoliciesPerRole, `${managed.length}`);
    const named = new Set<string>();
    for (const m of managed) {
      assert.ok(documentSize(m.Properties.PolicyDocument) <= QUOTAS.managedPolicySize);
      for (const s of m.Properties.PolicyDocument.Statement) {
        for (const v of [s.Condition.ArnEquals["ec2:RequesterVpc"]].flat()) named.add(v);
      }
    }
    assert.equal(named.size, 300);
    const accepter = roleNamed(p, "xeks-bench-cluster-peering-accepter");
    const inline = (accepter.Policies as Doc[]).reduce((n, x) => n + documentSize(x.PolicyDocument), 0);
    assert.ok(inline <= QUOTAS.inlinePoliciesPerRole);
    // The model reads them, and iam.policy-size measures them.
    const role = Object.values(p.model.roles).find((r) => r.name === "xeks-bench-cluster-peering-accepter");
    assert.equal(role?.policies.filter((x) => x.name.startsWith("managed ")).length, managed.length);
    const size = link(p.report, "iam.policy-size", "cluster bench-cluster");
    assert.equal(size.status, "pass");
    assert.ok(details(size).includes(`${managed.length} of 10 (Managed policies attached to an IAM role)`));
    assert.match(
      size.summary,
      /xeks-bench-cluster-peering-accepter-requesters-1: [\d,]+ of 6,144 characters/,
    );
    // plan's listing names each managed policy and its share of the requester VPCs, as synthesized.
    const listed = JSON.stringify(describePlan(planLayout(p.topology)));
    const counts = managed.map((m, i) => {
      const found = listed.match(
        new RegExp(
          `managed policy xeks-bench-cluster-peering-accepter-requesters-${i + 1} attached to xeks-bench-cluster-peering-accepter: (\\d+) requester VPCs`,
        ),
      );
      assert.ok(found, `requesters-${i + 1}`);
      const vpcs = [m.Properties.PolicyDocument.Statement[0].Condition.ArnEquals["ec2:RequesterVpc"]].flat();
      assert.equal(Number(found[1]), vpcs.length);
      return vpcs.length;
    });
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      300,
    );
    assert.equal(
      details(size).filter((d) => d.endsWith("characters (Managed policy size)")).length,
      managed.length,
    );
  });

  test("negatives are denied by the simulation, once per class of access roles", () => {
    const trust = p.report.links.filter((l) => l.id === "iam.access-role-trust");
    assert.equal(trust.length, 310);
    // Two classes: the access roles with an external id (Team1, Team4, ...) and those without (Platform, Team2,
    // ...), each listed in full on its first pair (team-1's), by reference on the others.
    const full = trust.filter((l) => details(l).some((d) => d.startsWith("gets in (by design): ")));
    assert.deepEqual(
      full.map((l) => l.subject),
      [
        "client team-1 -> access role Team1-EKS-View-Role",
        "client team-1 -> access role Platform-EKS-Admin-Role",
      ],
    );
    for (const l of trust) {
      assert.equal(l.status, "pass");
      assert.equal(details(l).filter((d) => d.startsWith("gets in: ")).length, 1, l.subject);
      const negatives = details(l).filter((d) => d.startsWith("does not get in")).length;
      const references = details(l).filter((d) => d.startsWith("the same as under client team-1 "));
      assert.deepEqual([negatives, references.length], full.includes(l) ? [11, 0] : [0, 1], l.subject);
    }
    assert.ok(
      details(
        link(p.report, "iam.access-role-trust", "client team-4 -> access role Team4-EKS-View-Role"),
      ).includes(
        "the same as under client team-1 with access role Team1-EKS-View-Role (trust policies equal but for the external id)",
      ),
    );
    assert.ok(
      details(
        link(p.report, "iam.access-role-trust", "client team-2 -> access role Team2-EKS-View-Role"),
      ).includes(
        "the same as under client team-1 with access role Platform-EKS-Admin-Role (equal trust policies)",
      ),
    );
  });

  test("cfn-lint: the cluster base and an access stack", {
    skip: !hasCfnLint && "cfn-lint is not installed",
  }, () => {
    const files = [...p.templates.keys()].filter(
      (f) => f.includes("cluster-base") || f.includes("Team1-EKS-View-Role") || f.includes("Platform"),
    );
    assert.ok(files.length >= 2, files.join(", "));
    cfnLint(files.map((f) => join(p.outDir, f)));
  });
});

test("iam.policy-size: more than 10 managed policies on the accepter role fail, naming the quota", async () => {
  // A small plan's accepter role given 11 managed policies in the model (more than 800 requester VPCs would need
  // that many): measured, not synthesized.
  const p = await plan("fleet-small", fleet(3));
  const role = Object.values(p.model.roles).find((r) => r.name === "xeks-bench-cluster-peering-accepter");
  assert.ok(role);
  const doc: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "ec2:AcceptVpcPeeringConnection", Resource: "*" }],
  };
  role.policies.push(
    ...Array.from({ length: 11 }, (_, i) => ({
      name: `managed r-${i + 1}`,
      document: doc,
      source: "template" as const,
    })),
  );
  const f = await policySizeCluster.evaluate({ topology: p.topology, model: p.model }, { kind: "cluster" });
  assert.equal(f?.status, "fail");
  assert.match(
    f?.summary ?? "",
    /11 managed policies attached, over the IAM quota "Managed policies attached to an IAM role" of 10/,
  );
  assert.match(f?.fix ?? "", /peer fewer client VPCs/);
});

test("40 clients: the same file passes", async () => {
  const p = await plan("fleet-40", fleet(40));
  assert.equal(p.report.verdict, "pass", JSON.stringify(p.report.links.filter((l) => l.status !== "pass")));
});
