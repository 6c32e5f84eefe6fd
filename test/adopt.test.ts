/**
 * Adoption, offline: the topology keys for pieces that exist (docs/adopt.md), the layout's create/adopt/leave per
 * piece, the templates (Retain, import metadata, no PeerRoleArn on an adopted connection), the manifest's import
 * records (identifiers = each type's primary identifier in the CloudFormation registry schemas cfn-lint bundles),
 * the proof on the planned state, and `xeks plan` showing adopt actions and the trust tightening.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { manifestStacks } from "../src/infra/manifest.js";
import { ROOT, xeks } from "./helpers/cli.js";
import { synth, tempDir } from "./helpers/infra.js";
import { topologyOf } from "./helpers/topologies.js";

/** Test data read from YAML and templates: loosely typed on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: test data of any shape
type Json = any;

const ADOPT_YAML = join(ROOT, "examples/adopt.yaml");
const adoptInput = () => parse(readFileSync(ADOPT_YAML, "utf8")) as Record<string, Json>;
const PCX = "pcx-0123456789abcdef0";

function writeTopology(doc: unknown): string {
  const file = join(tempDir("xeks-adopt-"), "xeks.yaml");
  writeFileSync(file, stringify(doc));
  return file;
}

test("plan of the hand-built system: exit 0, adopt actions, the trust tightening shown", () => {
  const out = join(tempDir("xeks-adopt-"), "out");
  const r = xeks(["plan", ADOPT_YAML, "--out", out]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /~ adopt access role EKS-CrossAccount-Access-Role/);
  assert.match(r.stdout, /~ adopt VPC peering connection pcx-0123456789abcdef0/);
  assert.match(r.stdout, /Existing pieces \(docs\/adopt\.md\): 7 adopted, 1 left as they are, 0 created/);
  assert.match(
    r.stdout,
    /~ trust policy: trusts arn:aws:iam::222222222222:root -> trusts arn:aws:iam::222222222222:role\/EC2-EKS-CrossAccount-Role/,
  );
  assert.match(r.stdout, /leave {2}client role EC2-EKS-CrossAccount-Role/);
  assert.match(r.stdout, /verdict: pass/);
  // No accepter role: every peering exists already.
  assert.doesNotMatch(r.stdout, /peering accepter role xeks-/);

  const json = xeks(["plan", ADOPT_YAML, "--out", out, "-o", "json"]);
  assert.equal(json.status, 0, json.stderr);
  const pieces = (JSON.parse(json.stdout) as { plan: { pieces: { action: string; changes: string[] }[] } })
    .plan.pieces;
  assert.deepEqual(
    pieces.map((p) => p.action),
    ["leave", "adopt", "adopt", "adopt", "adopt", "adopt", "adopt", "adopt"],
  );
});

test("templates: adopted resources are retained, carry their identifier, and the peering names no accepter role", () => {
  const result = synth(topologyOf(adoptInput()));
  const imports = manifestStacks(result.manifest).flatMap((s) =>
    s.imports.map((i) => ({ stack: s.name, ...i })),
  );
  assert.deepEqual(imports.map((i) => `${i.resourceType} ${JSON.stringify(i.identifier)}`).sort(), [
    `AWS::EC2::Route {"RouteTableId":"rtb-0aaa1111bbbb2222c","CidrBlock":"172.31.0.0/16"}`,
    `AWS::EC2::Route {"RouteTableId":"rtb-0ddd3333eeee4444f","CidrBlock":"10.0.0.0/16"}`,
    `AWS::EC2::SecurityGroupIngress {"Id":"sgr-0123456789abcdef0"}`,
    `AWS::EC2::VPCPeeringConnection {"Id":"${PCX}"}`,
    `AWS::EKS::AccessEntry {"PrincipalArn":"arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role","ClusterName":"prac-eks-abhi"}`,
    `AWS::IAM::Role {"RoleName":"EKS-CrossAccount-Access-Role"}`,
    `AWS::IAM::RolePolicy {"PolicyName":"AssumeEKSAccessRole","RoleName":"EC2-EKS-CrossAccount-Role"}`,
  ]);
  for (const i of imports) {
    const resources = (result.templates.get(i.stack) as Json).Resources as Record<
      string,
      Record<string, unknown>
    >;
    const res = resources[i.logicalId];
    assert.ok(res, `${i.logicalId} in ${i.stack}`);
    assert.equal(res.Type, i.resourceType);
    assert.equal(res.DeletionPolicy, "Retain", i.logicalId);
    assert.equal(res.UpdateReplacePolicy, "Retain", i.logicalId);
    assert.deepEqual((res.Metadata as Record<string, Json>)["xeks:adopted"].identifier, i.identifier);
    // The import properties are literal: no Ref or Fn:: left (the route's peering is the found id).
    assert.doesNotMatch(JSON.stringify(i.properties), /"Ref"|"Fn::/, i.logicalId);
  }
  const peering = imports.find((i) => i.resourceType === "AWS::EC2::VPCPeeringConnection");
  assert.equal(peering?.properties.PeerRoleArn, undefined);
  const role = imports.find((i) => i.resourceType === "AWS::IAM::Role");
  assert.deepEqual(role?.properties.AssumeRolePolicyDocument, {
    Version: "2012-10-17",
    ...adoptInput().access[0].adopt.trustPolicy,
  });
  assert.deepEqual(
    role?.differences.map((d) => d.property),
    ["AssumeRolePolicyDocument", "Policies", "Description"],
  );
  assert.ok(
    !result.manifest.phases.flatMap((p) => p.stacks).some((s) => s.kind === "cluster-base"),
    "no accepter stack",
  );
});

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" }).status === 0;

test("import identifiers are the primary identifiers of the CloudFormation registry schemas; cfn-lint is clean", {
  skip: !hasCfnLint && "cfn-lint is not installed",
}, () => {
  const result = synth(topologyOf(adoptInput()));
  const imports = manifestStacks(result.manifest).flatMap((s) => s.imports);
  const types = [...new Set(imports.map((i) => i.resourceType))];
  const py = spawnSync(
    "python3",
    [
      "-c",
      "import json,sys\nfrom cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as M\n" +
        "print(json.dumps({t: [p.split('/')[-1] for p in M.get_resource_schema('us-east-1', t).schema['primaryIdentifier']] for t in sys.argv[1:]}))",
      ...types,
    ],
    { encoding: "utf8" },
  );
  assert.equal(py.status, 0, py.stderr);
  const primary = JSON.parse(py.stdout) as Record<string, string[]>;
  for (const i of imports) {
    assert.deepEqual(
      Object.keys(i.identifier).sort(),
      [...(primary[i.resourceType] ?? [])].sort(),
      i.resourceType,
    );
  }
  const files = readdirSync(result.outDir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(result.outDir, f));
  const lint = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
});

test("half adopted: the peering exists, the roles do not: only the peering and its routes are adopted", () => {
  const doc = adoptInput();
  doc.clients[0].role = "EC2-EKS-CrossAccount-Role";
  delete doc.access[0].adopt;
  doc.cluster.accessEntries = [];
  doc.cluster.ingressRules = [];
  const result = synth(topologyOf(doc));
  const actions = Object.fromEntries(result.manifest.pieces.map((p) => [p.piece, p.action]));
  assert.equal(actions["client role EC2-EKS-CrossAccount-Role (client ops)"], "create");
  assert.equal(actions["access role EKS-CrossAccount-Access-Role"], "create");
  assert.equal(actions["access entry of EKS-CrossAccount-Access-Role"], "create");
  assert.equal(actions[`peering connection ${PCX} (client ops)`], "adopt");
  assert.equal(actions["443 rule from 172.31.0.0/16 on sg-0123456789abcdef0"], "create");
  assert.deepEqual(
    manifestStacks(result.manifest)
      .flatMap((s) => s.imports)
      .map((i) => i.resourceType)
      .sort(),
    ["AWS::EC2::Route", "AWS::EC2::Route", "AWS::EC2::VPCPeeringConnection"],
  );
});

test("a peering left as it is (adopt: false): no peering resource, routes by id, no parameter", () => {
  const doc = adoptInput();
  doc.clients[0].peering.adopt = false;
  const result = synth(topologyOf(doc));
  const link = result.templates.get("xeks-prac-eks-abhi-client-ops-link") as Record<string, Json>;
  const types = Object.values(link.Resources).map((r: Json) => r.Type);
  assert.ok(!types.includes("AWS::EC2::VPCPeeringConnection"));
  const clusterLink = result.templates.get("xeks-prac-eks-abhi-cluster-link-ops") as Record<string, Json>;
  assert.equal(clusterLink.Parameters?.PeeringConnectionId, undefined);
  const route = Object.values(clusterLink.Resources).find((r: Json) => r.Type === "AWS::EC2::Route") as Json;
  assert.equal(route.Properties.VpcPeeringConnectionId, PCX);
  const piece = result.manifest.pieces.find((p) => p.piece.startsWith(`peering connection ${PCX}`));
  assert.equal(piece?.action, "leave");
  // Left, it is a declared fact: the proof sees it active and the routes through it.
  const r = xeks(["plan", writeTopology(doc), "--out", join(tempDir(), "out")]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ network\.peering {18}peering pcx-0123456789abcdef0 is active/);
});

test("a route to the peer CIDR through something else than the declared peering is still a conflict", () => {
  const doc = adoptInput();
  doc.cluster.vpc.routes[0].target = "tgw-0123456789abcdef0";
  const file = writeTopology(doc);
  const r = xeks(["plan", file, "--out", join(tempDir(), "out")]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ network\.route\.cluster-to-client .*would hold two routes/);
});

test("input errors: adoption keys that cannot hold (exit 2, the field's path)", () => {
  const cases: [string, (doc: Record<string, Json>) => void, RegExp][] = [
    [
      "assumePolicy on a role xeks creates",
      (d) => {
        d.clients[0].role.existing = false;
      },
      /clients\[0\]\.role\.assumePolicy.*set existing: true/,
    ],
    [
      "assumePolicy naming no declared policy",
      (d) => {
        d.clients[0].role.assumePolicy = "Other";
      },
      /clients\[0\]\.role\.assumePolicy.*no policy named Other.*AssumeEKSAccessRole/,
    ],
    [
      "a bad peering id",
      (d) => {
        d.clients[0].peering.id = "pcx-12";
      },
      /clients\[0\]\.peering\.id/,
    ],
    [
      "a rule listed twice",
      (d) => {
        d.cluster.ingressRules.push({ ...d.cluster.ingressRules[0] });
      },
      /cluster\.ingressRules\[1\]\.id.*list each rule once/,
    ],
  ];
  for (const [what, change, expected] of cases) {
    const doc = adoptInput();
    change(doc);
    const r = xeks(["plan", writeTopology(doc), "--out", join(tempDir(), "out")]);
    assert.equal(r.status, 2, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  }
});

test("an entry in the way of an access role xeks would create fails the proof, with adopting as the first fix", () => {
  const doc = adoptInput();
  delete doc.access[0].adopt;
  const r = xeks(["plan", writeTopology(doc), "--out", join(tempDir(), "out")]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ eks\.access-entry .*exists already/);
  assert.match(r.stdout, /fix: adopt the role and its entry instead/);
});

test("an entry whose ARN differs in case or path is the role's entry: adopted under the ARN it was made with", () => {
  for (const arn of [
    "arn:aws:iam::111111111111:role/eks-crossaccount-access-role",
    "arn:aws:iam::111111111111:role/teams/EKS-CrossAccount-Access-Role",
  ]) {
    const doc = adoptInput();
    doc.cluster.accessEntries[0].principalArn = arn;
    const result = synth(topologyOf(doc));
    const entry = manifestStacks(result.manifest)
      .flatMap((s) => s.imports)
      .find((i) => i.resourceType === "AWS::EKS::AccessEntry");
    assert.equal(entry?.identifier.PrincipalArn, arn);
    assert.equal(
      entry?.properties.PrincipalArn,
      arn,
      "the template keeps the entry's principal: no replacement",
    );
  }
});

test("a found trust policy that lets in any principal is shown as such", () => {
  const doc = adoptInput();
  doc.access[0].adopt.trustPolicy = {
    Statement: [{ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" }],
  };
  const r = xeks(["plan", writeTopology(doc), "--out", join(tempDir(), "out")]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(
    r.stdout,
    /~ trust policy: trusts any principal \(\*\) -> trusts arn:aws:iam::222222222222:role\/EC2-EKS-CrossAccount-Role/,
  );
});
