/**
 * Plan-level tests of the templates per client kind (issue 13, docs/clients.md, docs/infra.md): for instance
 * (legacy `role:`), sso, oidc, pod-identity and role clients, the exact trust documents (against the builders of
 * src/domain/trust.ts and against literal JSON), the inline policies' actions and resources, the Pod Identity
 * association, which stacks exist, cfn-lint and cdk-nag clean; the reserved-role acceptance (no template resource
 * names a role under /aws-reserved/, and validation refuses one as a client role); the printed plan per kind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { parse, stringify } from "yaml";
import {
  accessTrustPolicy,
  podIdentityTrustPolicy,
  trustPolicy,
  webIdentityTrustPolicy,
} from "../src/domain/trust.js";
import { describeDifference, describePlan } from "../src/infra/describe.js";
import { AccessRole, ClientRole, PodIdentityAssociation } from "../src/infra/index.js";
import { manifestStacks } from "../src/infra/manifest.js";
import { findingsOf } from "../src/infra/nag.js";
import { fieldOfConstructPath } from "../src/infra/synthesis-errors.js";
import type { SynthesisResult } from "../src/infra/synthesize.js";
import type { TopologyInput } from "../src/topology/schema.js";
import type { Topology } from "../src/topology/types.js";
import { xeks } from "./helpers/cli.js";
import { onlyResource, resourcesOf, synth, tempDir, templateOf } from "./helpers/infra.js";
import { topologyOf } from "./helpers/topologies.js";

const A = "111111111111";
const CLUSTER = "prod";
const S = (suffix: string) => `xeks-${CLUSTER}-${suffix}`;
const accessArn = (name: string) => `arn:aws:iam::${A}:role/${name}`;

type ClientInput = Record<string, unknown>;
type AccessInput = Record<string, unknown>;

/** A cluster `prod` in 111111111111 (eu-west-1) with the given clients and access roles. */
function input(clients: ClientInput[], access: AccessInput[]): TopologyInput {
  return {
    version: 1,
    cluster: {
      name: CLUSTER,
      account: A,
      region: "eu-west-1",
      authenticationMode: "API",
      endpointAccess: { private: true, public: true },
      publicAccessCidrs: ["203.0.113.0/24", "198.51.100.0/24"],
      securityGroupId: "sg-0123456789abcdef0",
      vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
    },
    clients,
    access,
  } as unknown as TopologyInput;
}

const vpcOf = (n: number) => ({
  id: `vpc-0${n}dd3333eeee4444f`,
  cidr: `172.${16 + n}.0.0/16`,
  routeTables: [`rtb-0${n}dd3333eeee4444f`],
});

const OPS: ClientInput = {
  name: "ops",
  account: "222222222222",
  vpc: vpcOf(2),
  role: "EC2-Ops-Role",
};
const PEOPLE: ClientInput = {
  name: "people",
  account: "333333333333",
  publicCidrs: ["203.0.113.0/24"],
  identity: { kind: "sso", permissionSet: "PlatformEngineers" },
};
const CI: ClientInput = {
  name: "ci",
  account: "444444444444",
  publicCidrs: ["198.51.100.0/24"],
  identity: {
    kind: "oidc",
    provider: "token.actions.githubusercontent.com",
    subjects: ["repo:acme/deploy:ref:refs/heads/main"],
  },
};
const PODS: ClientInput = {
  name: "argocd",
  account: "555555555555",
  vpc: vpcOf(5),
  identity: {
    kind: "pod-identity",
    cluster: "mgmt",
    namespace: "argocd",
    serviceAccount: "argocd-application-controller",
  },
};
const EXISTING: ClientInput = {
  name: "legacy",
  account: "666666666666",
  publicCidrs: ["198.51.100.0/24"],
  identity: { kind: "role", arn: "arn:aws:iam::666666666666:role/team/Deployer" },
};

const access = (role: string, clients: string[], extra: AccessInput = {}): AccessInput => ({
  role,
  clients,
  policies: ["AmazonEKSViewPolicy"],
  ...extra,
});

const OPS_ROLE = "arn:aws:iam::222222222222:role/EC2-Ops-Role";
const CI_ROLE = "arn:aws:iam::444444444444:role/xeks-prod-ci";
const PODS_ROLE = "arn:aws:iam::555555555555:role/xeks-prod-argocd";
const EXISTING_ROLE = "arn:aws:iam::666666666666:role/team/Deployer";
const GITHUB = "token.actions.githubusercontent.com";
const GITHUB_PROVIDER = `arn:aws:iam::444444444444:oidc-provider/${GITHUB}`;
const SSO_PATTERNS = [
  "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformEngineers_*",
  "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformEngineers_*",
];

/** Every kind in one topology: one access role per client, plus one shared by all five. */
const allInput = input(
  [OPS, PEOPLE, CI, PODS, EXISTING],
  [
    access("Ops-Access", ["ops"]),
    access("People-Access", ["people"], { externalId: "people-ext-1" }),
    access("Ci-Access", ["ci"]),
    access("Pods-Access", ["argocd"]),
    access("Legacy-Access", ["legacy"]),
    access("Shared-Access", ["ops", "people", "ci", "argocd", "legacy"]),
  ],
);
const all = topologyOf(allInput);
const allResult = synth(all);

function roleOf(result: SynthesisResult, stack: string): Record<string, unknown> {
  return onlyResource(templateOf(result, stack), "AWS::IAM::Role");
}

function principalsOf(topology: Topology, role: string) {
  const a = topology.access.find((x) => x.role === role);
  assert.ok(a, role);
  return a.clients.map((n) => topology.clients.find((c) => c.name === n)?.principal as never);
}

/** The access role's trust: the builder's document and the literal one. */
function assertAccessTrust(role: string, literal: unknown): void {
  const doc = roleOf(allResult, S(`cluster-access-${role}`)).AssumeRolePolicyDocument;
  const a = all.access.find((x) => x.role === role);
  assert.deepEqual(doc, accessTrustPolicy(principalsOf(all, role), a?.externalId ?? null, "aws"));
  assert.deepEqual(doc, literal);
}

const assumeStatement = (resource: string | string[], actions: string | string[] = "sts:AssumeRole") => ({
  Version: "2012-10-17",
  Statement: [{ Action: actions, Effect: "Allow", Resource: resource, Sid: "AssumeTheAccessRoles" }],
});

test("stacks per kind: no identity stack for sso, none in its account; no link stacks for publicCidrs clients", () => {
  const names = manifestStacks(allResult.manifest).map((s) => s.name);
  assert.deepEqual(
    allResult.manifest.phases.map((p) => p.stacks.map((s) => s.name)),
    [
      [
        S("client-ops-identity"),
        S("client-ci-identity"),
        S("client-argocd-identity"),
        S("client-legacy-identity"),
      ],
      [
        S("cluster-base"),
        S("cluster-access-Ops-Access"),
        S("cluster-access-People-Access"),
        S("cluster-access-Ci-Access"),
        S("cluster-access-Pods-Access"),
        S("cluster-access-Legacy-Access"),
        S("cluster-access-Shared-Access"),
      ],
      [S("client-ops-link"), S("client-argocd-link")],
      [S("cluster-link-ops"), S("cluster-link-argocd")],
    ],
  );
  assert.ok(!names.some((n) => n.includes("-people-")), "nothing for the permission set");
  assert.ok(!manifestStacks(allResult.manifest).some((s) => s.account === "333333333333"));
  for (const client of ["people", "ci", "legacy"]) {
    assert.ok(!names.includes(S(`client-${client}-link`)), `no client link for ${client}`);
    assert.ok(!names.includes(S(`cluster-link-${client}`)), `no cluster link for ${client}`);
  }
  // The access stack of the sso client depends on no identity stack; the others on theirs.
  const stacks = manifestStacks(allResult.manifest);
  const dependsOn = (n: string) => stacks.find((s) => s.name === n)?.dependsOn;
  assert.deepEqual(dependsOn(S("cluster-access-People-Access")), []);
  assert.deepEqual(dependsOn(S("cluster-access-Shared-Access")), [
    S("client-ops-identity"),
    S("client-ci-identity"),
    S("client-argocd-identity"),
    S("client-legacy-identity"),
  ]);
  // The peering accepter role serves only the clients with a VPC.
  assert.deepEqual(roleOf(allResult, S("cluster-base")).AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::222222222222:root", "arn:aws:iam::555555555555:root"] },
      },
    ],
  });
});

test("instance (legacy role:): EC2 trust, instance profile, sts:AssumeRole on exactly its access roles", () => {
  const t = templateOf(allResult, S("client-ops-identity"));
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.deepEqual(role.AssumeRolePolicyDocument, trustPolicy({ service: "ec2.amazonaws.com" }));
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" } }],
  });
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-prod-assume-access-roles",
      PolicyDocument: assumeStatement([accessArn("Ops-Access"), accessArn("Shared-Access")]),
    },
  ]);
  assert.deepEqual(Object.values(resourcesOf(t, "AWS::IAM::InstanceProfile")), [
    { InstanceProfileName: "EC2-Ops-Role", Path: "/", Roles: [{ Ref: "ClientRole" }] },
  ]);
  assert.deepEqual(Object.keys(t.toJSON().Outputs ?? {}).sort(), ["ClientRoleArn", "InstanceProfileName"]);
  assertAccessTrust("Ops-Access", {
    Version: "2012-10-17",
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: OPS_ROLE } }],
  });
});

test("sso: the access role trusts the account root with ArnLike aws:PrincipalArn on both patterns", () => {
  assertAccessTrust("People-Access", {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:root" },
        Condition: {
          ArnLike: { "aws:PrincipalArn": SSO_PATTERNS },
          StringEquals: { "sts:ExternalId": "people-ext-1" },
        },
      },
    ],
  });
  // Without an external id: the ArnLike condition alone.
  const plain = synth(topologyOf(input([PEOPLE], [access("People-Access", ["people"])])));
  assert.deepEqual(
    manifestStacks(plain.manifest).map((s) => s.name),
    [S("cluster-access-People-Access")],
    "one stack: the access role; nothing in the client account, no accepter role, no link",
  );
  assert.deepEqual(roleOf(plain, S("cluster-access-People-Access")).AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:root" },
        Condition: { ArnLike: { "aws:PrincipalArn": SSO_PATTERNS } },
      },
    ],
  });
});

test("oidc: the web-identity role trusts the provider for aud and the exact sub; AssumeRole on its access roles", () => {
  const t = templateOf(allResult, S("client-ci-identity"));
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.equal(role.RoleName, "xeks-prod-ci");
  assert.equal(role.Path, "/");
  assert.deepEqual(
    role.AssumeRolePolicyDocument,
    webIdentityTrustPolicy(GITHUB_PROVIDER, GITHUB, "sts.amazonaws.com", [
      "repo:acme/deploy:ref:refs/heads/main",
    ]),
  );
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRoleWithWebIdentity",
        Effect: "Allow",
        Principal: { Federated: GITHUB_PROVIDER },
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/deploy:ref:refs/heads/main",
          },
        },
      },
    ],
  });
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-prod-assume-access-roles",
      PolicyDocument: assumeStatement([accessArn("Ci-Access"), accessArn("Shared-Access")]),
    },
  ]);
  assert.equal(role.ManagedPolicyArns, undefined);
  t.resourceCountIs("AWS::IAM::InstanceProfile", 0);
  assert.deepEqual(Object.keys(t.toJSON().Outputs ?? {}), ["ClientRoleArn"]);
  t.hasOutput("ClientRoleArn", { Value: CI_ROLE });
  assertAccessTrust("Ci-Access", {
    Version: "2012-10-17",
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: CI_ROLE } }],
  });
});

test("oidc: several subjects, one with a wildcard after repo:OWNER/REPO:, a named role and audience", () => {
  const ci = {
    ...CI,
    identity: {
      kind: "oidc",
      provider: GITHUB,
      audience: "sts.amazonaws.com",
      role: "Deploy-Pipeline",
      subjects: ["repo:acme/deploy:ref:refs/heads/*", "repo:acme/deploy:environment:prod"],
    },
  };
  const r = synth(topologyOf(input([ci], [access("Ci-Access", ["ci"])])));
  const role = roleOf(r, S("client-ci-identity"));
  assert.equal(role.RoleName, "Deploy-Pipeline");
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRoleWithWebIdentity",
        Effect: "Allow",
        Principal: { Federated: GITHUB_PROVIDER },
        Condition: {
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: {
            "token.actions.githubusercontent.com:sub": [
              "repo:acme/deploy:ref:refs/heads/*",
              "repo:acme/deploy:environment:prod",
            ],
          },
        },
      },
    ],
  });
  assert.deepEqual((role.Policies as { PolicyDocument: unknown }[])[0]?.PolicyDocument, {
    ...assumeStatement(accessArn("Ci-Access")),
  });
});

test("pod-identity: Pod Identity trust, AssumeRole+TagSession policy, the association, access trust with both actions", () => {
  const t = templateOf(allResult, S("client-argocd-identity"));
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.equal(role.RoleName, "xeks-prod-argocd");
  assert.deepEqual(role.AssumeRolePolicyDocument, podIdentityTrustPolicy());
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
      },
    ],
  });
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-prod-assume-access-roles",
      PolicyDocument: assumeStatement(
        [accessArn("Pods-Access"), accessArn("Shared-Access")],
        ["sts:AssumeRole", "sts:TagSession"],
      ),
    },
  ]);
  t.resourceCountIs("AWS::IAM::InstanceProfile", 0);
  const associations = t.findResources("AWS::EKS::PodIdentityAssociation");
  assert.equal(Object.keys(associations).length, 1);
  const association = Object.values(associations)[0] as {
    Properties: Record<string, unknown>;
    DependsOn?: string[];
  };
  const { Tags: _tags, ...props } = association.Properties;
  assert.deepEqual(props, {
    ClusterName: "mgmt",
    Namespace: "argocd",
    ServiceAccount: "argocd-application-controller",
    RoleArn: PODS_ROLE,
  });
  assert.equal(association.Properties.TargetRoleArn, undefined, "the plain form: no target role");
  assert.deepEqual(association.DependsOn, ["ClientRole"], "the association waits for its role");
  assertAccessTrust("Pods-Access", {
    Version: "2012-10-17",
    Statement: [
      {
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: { AWS: PODS_ROLE },
      },
    ],
  });
});

test("role: only an inline policy on the existing role (RolePolicy, path-free name); none without an access role", () => {
  const t = templateOf(allResult, S("client-legacy-identity"));
  t.resourceCountIs("AWS::IAM::Role", 0);
  t.resourceCountIs("AWS::IAM::InstanceProfile", 0);
  assert.deepEqual(Object.values(resourcesOf(t, "AWS::IAM::RolePolicy")), [
    {
      RoleName: "Deployer",
      PolicyName: "xeks-prod-assume-access-roles",
      PolicyDocument: assumeStatement([accessArn("Legacy-Access"), accessArn("Shared-Access")]),
    },
  ]);
  assert.deepEqual(Object.keys(t.toJSON().Outputs ?? {}), ["ClientRoleArn"]);
  t.hasOutput("ClientRoleArn", { Value: EXISTING_ROLE });
  assertAccessTrust("Legacy-Access", {
    Version: "2012-10-17",
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: EXISTING_ROLE } }],
  });
  // An existing role no access role names: no identity stack at all.
  const lone = synth(topologyOf(input([EXISTING, OPS], [access("Ops-Access", ["ops"])])));
  assert.ok(!manifestStacks(lone.manifest).some((s) => s.name === S("client-legacy-identity")));
});

test("an access role shared by every kind: one statement per form, exactly the builder's", () => {
  assertAccessTrust("Shared-Access", {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: [OPS_ROLE, CI_ROLE, EXISTING_ROLE] },
      },
      {
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: { AWS: PODS_ROLE },
      },
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:root" },
        Condition: { ArnLike: { "aws:PrincipalArn": SSO_PATTERNS } },
      },
    ],
  });
});

test("every trust document is literal JSON (no intrinsic function) and no policy names a wildcard principal", () => {
  for (const [name, template] of allResult.templates) {
    const resources = (template.Resources ?? {}) as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== "AWS::IAM::Role") continue;
      const text = JSON.stringify(r.Properties?.AssumeRolePolicyDocument);
      assert.ok(!/"(Fn::|Ref)/.test(text), `${name}/${id}: ${text}`);
      assert.ok(!text.includes('"*"'), `${name}/${id}: ${text}`);
    }
  }
});

test("cdk-nag: every kind synthesizes with no open finding and no new acknowledgement", () => {
  assert.equal(allResult.manifest.nag.ran, true);
  // The acknowledgements are the ones instance-only topologies have: eks:ListClusters on the access roles and the
  // peering connection ids the accepter role cannot know. None in an identity stack: the new roles need none.
  for (const a of allResult.acknowledged) {
    assert.match(
      a.path,
      /(cluster-access-.*\/AccessRole|cluster-base\/PeeringAccepterRole)\/Default$/,
      a.path,
    );
    assert.match(a.id, /^AwsSolutions-IAM5\[Resource::/, a.id);
  }
  assert.equal(
    allResult.acknowledged.filter((a) => a.path.endsWith("/AccessRole/Default")).length,
    all.access.length,
  );
});

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" }).status === 0;

test("cfn-lint: the templates of every kind have no error and no warning", {
  skip: !hasCfnLint && "cfn-lint is not installed",
}, () => {
  const files = readdirSync(allResult.outDir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(allResult.outDir, f));
  assert.equal(files.length, 4 + 7 + 2 + 2);
  const r = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  assert.equal(`${r.stdout}${r.stderr}`.trim(), "");
  assert.equal(r.status, 0);
});

/** The role names and paths a resource writes to (the properties that attach something to a role). */
function roleTargets(r: { Type: string; Properties?: Record<string, unknown> }): unknown[] {
  const p = r.Properties ?? {};
  switch (r.Type) {
    case "AWS::IAM::Role":
      return [p.RoleName, p.Path];
    case "AWS::IAM::RolePolicy":
      return [p.RoleName];
    case "AWS::IAM::Policy":
    case "AWS::IAM::ManagedPolicy":
    case "AWS::IAM::InstanceProfile":
      return (p.Roles as unknown[] | undefined) ?? [];
    case "AWS::EKS::PodIdentityAssociation":
      return [p.RoleArn, p.TargetRoleArn];
    default:
      return [];
  }
}

test("reserved roles: no template resource names or attaches anything to a role under /aws-reserved/", () => {
  const people = topologyOf(
    input(
      [
        PEOPLE,
        { ...PEOPLE, name: "admins", identity: { kind: "sso", permissionSet: "AWSAdministratorAccess" } },
        {
          ...PEOPLE,
          name: "viewers",
          account: "777777777777",
          identity: { kind: "sso", permissionSet: "View" },
        },
        OPS,
      ],
      [
        access("People-Access", ["people", "admins"]),
        access("Viewer-Access", ["viewers"], { externalId: "v-1" }),
        access("Ops-Access", ["ops", "viewers"]),
      ],
    ),
  );
  for (const result of [allResult, synth(people), synth(topologyOf(parseExample()))]) {
    let checked = 0;
    for (const [name, template] of result.templates) {
      const resources = (template.Resources ?? {}) as Record<
        string,
        { Type: string; Properties?: Record<string, unknown> }
      >;
      for (const [id, r] of Object.entries(resources)) {
        for (const target of roleTargets(r)) {
          checked++;
          assert.ok(
            !/aws-reserved|AWSReservedSSO_/i.test(JSON.stringify(target ?? null)),
            `${name}/${id} (${r.Type}) names a reserved role: ${JSON.stringify(target)}`,
          );
        }
        // The only place a reserved path may appear: an access role's trust condition (ArnLike aws:PrincipalArn).
        const { AssumeRolePolicyDocument: trust, ...rest } = r.Properties ?? {};
        assert.ok(!/aws-reserved|AWSReservedSSO_/i.test(JSON.stringify(rest)), `${name}/${id}`);
        for (const st of (trust as { Statement?: Record<string, unknown>[] })?.Statement ?? []) {
          const { Condition, ...others } = st;
          assert.ok(!JSON.stringify(others).includes("aws-reserved"), `${name}/${id}: ${JSON.stringify(st)}`);
          const cond = JSON.stringify(Condition ?? {});
          if (cond.includes("aws-reserved")) {
            assert.deepEqual(Object.keys((Condition as { ArnLike?: object }).ArnLike ?? {}), [
              "aws:PrincipalArn",
            ]);
          }
        }
      }
    }
    assert.ok(checked > 0);
  }
});

/** examples/people.yaml as a raw document (the example of issue 13). */
function parseExample(): unknown {
  return parse(readFileSync("examples/people.yaml", "utf8"));
}

test("reserved roles: plan refuses an Identity Center role as a client role (exit 2), pointing to kind sso", () => {
  const dir = tempDir("xeks-kinds-");
  const reservedPath = input(
    [
      {
        ...OPS,
        role: {
          name: "AWSReservedSSO_PlatformEngineers_0123456789abcdef",
          existing: true,
          path: "/aws-reserved/sso.amazonaws.com/",
        },
      },
    ],
    [access("Ops-Access", ["ops"])],
  );
  const reservedArn = input(
    [
      {
        ...EXISTING,
        identity: {
          kind: "role",
          arn: "arn:aws:iam::666666666666:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admins_0123456789abcdef",
        },
      },
    ],
    [access("Legacy-Access", ["legacy"])],
  );
  const cases = [
    { doc: reservedPath, field: "clients[0].role.path", set: "PlatformEngineers" },
    { doc: reservedArn, field: "clients[0].identity.arn", set: "Admins" },
  ];
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `reserved-${i}.yaml`);
    writeFileSync(file, stringify(c.doc));
    const out = join(dir, `out-${i}`);
    const r = xeks(["plan", file, "--out", out], { env: offline });
    assert.equal(r.status, 2, `${file}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.includes(c.field), `names ${c.field}:\n${r.stderr}`);
    assert.ok(r.stderr.includes("/aws-reserved/"), r.stderr);
    assert.ok(
      r.stderr.includes(`identity: { kind: sso, permissionSet: ${c.set} }`),
      `points to kind sso:\n${r.stderr}`,
    );
    assert.ok(!r.stderr.includes("update-assume-role-policy"), r.stderr);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
    assert.deepEqual(readdirSync(dir).includes(`out-${i}`), false, "nothing written");
  }
});

/** No AWS credentials and no way to reach AWS: plan is offline. */
const offline = {
  ...process.env,
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  AWS_PROFILE: "",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  JSII_DEPRECATED: "",
};

test("the printed plan says what each kind creates in which account", () => {
  const plan = describePlan(allResult.layout);
  const lines = plan.phases.flatMap((p) =>
    p.accounts.flatMap((a) =>
      a.stacks.flatMap((s) => s.items.map((i) => `${p.number} ${a.account} ${i.text}`)),
    ),
  );
  const expected = [
    "1 222222222222 client role EC2-Ops-Role (arn:aws:iam::222222222222:role/EC2-Ops-Role) trusted by ec2.amazonaws.com",
    "1 222222222222 instance profile EC2-Ops-Role for role EC2-Ops-Role",
    `1 444444444444 web-identity role xeks-prod-ci trusting ${GITHUB} for repo:acme/deploy:ref:refs/heads/main (audience sts.amazonaws.com; OIDC provider ${GITHUB_PROVIDER}, which must exist; ${CI_ROLE})`,
    `1 444444444444 inline policy xeks-prod-assume-access-roles on xeks-prod-ci: sts:AssumeRole on ${accessArn("Ci-Access")}, ${accessArn("Shared-Access")}`,
    `1 555555555555 Pod Identity role xeks-prod-argocd trusting pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession (${PODS_ROLE})`,
    `1 555555555555 inline policy xeks-prod-assume-access-roles on xeks-prod-argocd: sts:AssumeRole, sts:TagSession on ${accessArn("Pods-Access")}, ${accessArn("Shared-Access")}`,
    "1 555555555555 Pod Identity association on cluster mgmt: pods of service account argocd/argocd-application-controller get role xeks-prod-argocd",
    `1 666666666666 inline policy xeks-prod-assume-access-roles on the existing role ${EXISTING_ROLE}: sts:AssumeRole on ${accessArn("Legacy-Access")}, ${accessArn("Shared-Access")}`,
    `2 ${A} access role People-Access trusted by roles of permission set PlatformEngineers in account 333333333333 (aws:PrincipalArn like ${SSO_PATTERNS.join(", ")}) with sts:ExternalId; may eks:DescribeCluster on arn:aws:eks:eu-west-1:${A}:cluster/prod and eks:ListClusters`,
    `2 ${A} access role Pods-Access trusted by ${PODS_ROLE} (sts:AssumeRole, sts:TagSession); may eks:DescribeCluster on arn:aws:eks:eu-west-1:${A}:cluster/prod and eks:ListClusters`,
  ];
  for (const line of expected) assert.ok(lines.includes(line), `missing: ${line}\n---\n${lines.join("\n")}`);
  assert.ok(
    !lines.some((l) => l.includes("333333333333 ") && l.startsWith("1 ")),
    "nothing in the sso account",
  );
  // The permission set is a piece left as it is.
  assert.ok(
    plan.pieces.some(
      (p) => p.action === "leave" && p.piece === "roles of permission set PlatformEngineers (client people)",
    ),
  );
});

test("a construct of each kind that CDK refuses is traced back to its topology field", () => {
  const field = (stack: string, id: string) =>
    fieldOfConstructPath(all, allResult.layout, `/${S(stack)}/${id}/Default/Resource`);
  assert.equal(field("client-ops-identity", "ClientRole"), "clients[0].role");
  assert.equal(field("client-ci-identity", "ClientRole"), "clients[2].identity");
  assert.equal(field("client-argocd-identity", "ClientRole"), "clients[3].identity");
  assert.equal(field("client-argocd-identity", "PodIdentityAssociation"), "clients[3].identity");
  assert.equal(field("client-legacy-identity", "ClientRole"), "clients[4].identity.arn");
});

test("an adopted access role's trust change names the permission set's role patterns, not just the account root", () => {
  const root = "arn:aws:iam::333333333333:root";
  const planned = accessTrustPolicy(principalsOf(all, "People-Access"), null, "aws");
  assert.equal(
    describeDifference("AssumeRolePolicyDocument", trustPolicy({ aws: [root] }), planned),
    `trust policy: trusts ${root} -> trusts ${root}, only roles like ${SSO_PATTERNS.join(", ")}`,
  );
  assert.equal(
    describeDifference(
      "AssumeRolePolicyDocument",
      podIdentityTrustPolicy(),
      webIdentityTrustPolicy(GITHUB_PROVIDER, GITHUB, "sts.amazonaws.com", [
        "repo:acme/deploy:ref:refs/heads/main",
      ]),
    ),
    `trust policy: trusts pods.eks.amazonaws.com -> trusts ${GITHUB_PROVIDER}`,
  );
});

test("a trust change that keeps the principals names how its statements change (the Pod Identity external-id form)", () => {
  const pod = "arn:aws:iam::555555555555:role/xeks-prod-pods";
  const planned = accessTrustPolicy(
    [
      {
        arn: pod,
        actions: ["sts:AssumeRole", "sts:TagSession"],
        example: { name: "xeks-prod-pods", arn: pod, session: "eks-mgmt-pod" },
        label: "role xeks-prod-pods",
      },
    ],
    "pods-7f3c2a",
    "aws",
  );
  const earlier = {
    Version: "2012-10-17",
    Statement: [
      {
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: { AWS: pod },
        Condition: { StringEquals: { "sts:ExternalId": "pods-7f3c2a" } },
      },
    ],
  };
  assert.equal(
    describeDifference("AssumeRolePolicyDocument", earlier, planned),
    `trust policy: trusts ${pod} (with an external id); statements [sts:AssumeRole, sts:TagSession if sts:ExternalId] -> [sts:AssumeRole if sts:ExternalId; sts:TagSession]`,
  );
});

test("the constructs of the new kinds work in a user's own CDK app, cdk-nag clean", () => {
  const app = new App({ builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const client = new Stack(app, "Client", { env: { account: "555555555555", region: "eu-west-1" } });
  const pods = new ClientRole(client, "Pods", {
    roleName: "Mine-Pods",
    trust: { kind: "pod-identity" },
    accessRoleArns: [accessArn("Mine-Access")],
    assumeActions: ["sts:AssumeRole", "sts:TagSession"],
  });
  new PodIdentityAssociation(client, "Association", {
    clusterName: "mgmt",
    namespace: "argocd",
    serviceAccount: "argocd-server",
    roleArn: pods.roleArn,
    dependsOn: pods.role,
  });
  const ciTrust = {
    kind: "web-identity" as const,
    providerArn: "arn:aws:iam::555555555555:oidc-provider/token.actions.githubusercontent.com",
    provider: GITHUB,
    audience: "sts.amazonaws.com",
    subjects: ["repo:acme/deploy:environment:prod"],
  };
  const ci = new ClientRole(client, "Ci", {
    roleName: "Mine-Ci",
    trust: ciTrust,
    accessRoleArns: [accessArn("Mine-Access")],
  });
  assert.equal(pods.hasInstanceProfile, false);
  assert.equal(ci.hasInstanceProfile, false);
  assert.throws(() => ci.instanceProfileName, /has no instance profile/);
  const cluster = new Stack(app, "Cluster", { env: { account: A, region: "eu-west-1" } });
  const principals = principalsOf(all, "Shared-Access");
  new AccessRole(cluster, "Access", {
    roleName: "Mine-Access",
    principals,
    clusterArn: `arn:aws:eks:eu-west-1:${A}:cluster/mine`,
  });
  const asm = app.synth();
  const report = JSON.parse(readFileSync(join(asm.directory, "validation-report.json"), "utf8"));
  assert.deepEqual(findingsOf(report), []);
  const ct = Template.fromStack(client);
  ct.resourceCountIs("AWS::IAM::InstanceProfile", 0);
  ct.resourceCountIs("AWS::EKS::PodIdentityAssociation", 1);
  const roles = Object.values(resourcesOf(ct, "AWS::IAM::Role"));
  assert.deepEqual(
    roles.map((r) => r.AssumeRolePolicyDocument),
    [
      podIdentityTrustPolicy(),
      webIdentityTrustPolicy(ciTrust.providerArn, GITHUB, "sts.amazonaws.com", ciTrust.subjects),
    ],
  );
  assert.deepEqual(
    onlyResource(Template.fromStack(cluster), "AWS::IAM::Role").AssumeRolePolicyDocument,
    accessTrustPolicy(principals, null, "aws"),
  );
});
