/** `bin/xeks plan` end to end (needs `npm run build`): output, exit codes, files, phase order and parameters. */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { XeksManifest } from "../src/infra/manifest.js";
import { xeks } from "./helpers/cli.js";
import { tempDir } from "./helpers/infra.js";
import { generatedYaml } from "./helpers/topologies.js";

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

test("xeks plan examples/seed.yaml --out DIR: prints the phases per account, writes the assembly, exit 0", () => {
  const out = join(tempDir(), "plan-out");
  const r = xeks(["plan", "examples/seed.yaml", "--out", out], { env: offline });
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  const text = r.stdout;
  const order = [
    "Phase 1 (client-identity)",
    "client account 222222222222 (ap-south-1)",
    "stack xeks-prac-eks-abhi-client-ops-identity",
    "client role EC2-EKS-CrossAccount-Role (arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role) trusted by ec2.amazonaws.com",
    "Phase 2 (cluster-access)",
    "cluster account 111111111111 (ap-south-1)",
    "peering accepter role xeks-prac-eks-abhi-peering-accepter trusted by account 222222222222",
    "access role EKS-CrossAccount-Access-Role trusted by arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role",
    "EKS access entry (STANDARD) on cluster prac-eks-abhi for arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role: AmazonEKSClusterAdminPolicy (cluster)",
    "Phase 3 (client-link)",
    "VPC peering request vpc-0ddd3333eeee4444f -> vpc-0aaa1111bbbb2222c",
    "route 10.0.0.0/16 -> peering (this stack) in rtb-0ddd3333eeee4444f",
    "Phase 4 (cluster-link)",
    "parameter PeeringConnectionId <- output PeeringConnectionId of xeks-prac-eks-abhi-client-ops-link (phase 3)",
    "route 172.31.0.0/16 -> peering (from phase 3, xeks-prac-eks-abhi-client-ops-link) in rtb-0aaa1111bbbb2222c",
    "ingress TCP 443 from 172.31.0.0/16",
  ];
  let at = 0;
  for (const needle of order) {
    const i = text.indexOf(needle, at);
    assert.ok(i >= 0, `missing or out of order: ${needle}\n---\n${text}`);
    at = i + needle.length;
  }
  const files = readdirSync(out);
  assert.ok(files.includes("manifest.json"));
  assert.ok(files.includes("xeks.manifest.json"));
  assert.equal(files.filter((f) => f.endsWith(".template.json")).length, 5);
  const manifest = JSON.parse(readFileSync(join(out, "xeks.manifest.json"), "utf8")) as XeksManifest;
  assert.deepEqual(
    manifest.phases.map((p) => p.stacks.map((s) => [s.name, s.account, s.parameters.map((x) => x.source)])),
    [
      [["xeks-prac-eks-abhi-client-ops-identity", "222222222222", []]],
      [
        ["xeks-prac-eks-abhi-cluster-base", "111111111111", []],
        ["xeks-prac-eks-abhi-cluster-access-EKS-CrossAccount-Access-Role", "111111111111", []],
      ],
      [["xeks-prac-eks-abhi-client-ops-link", "222222222222", []]],
      [
        [
          "xeks-prac-eks-abhi-cluster-link-ops",
          "111111111111",
          [{ stack: "xeks-prac-eks-abhi-client-ops-link", output: "PeeringConnectionId", phase: 3 }],
        ],
      ],
    ],
  );
});

test("xeks plan --output json prints one ChainReport with the plan's phases under `plan`", () => {
  const out = join(tempDir(), "o");
  const r = xeks(["plan", "examples/teams.yaml", "--out", out, "--output", "json"], { env: offline });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  const report = JSON.parse(r.stdout) as {
    kind: string;
    mode: string;
    verdict: string;
    plan: {
      kind: string;
      phases: {
        number: number;
        accounts: { account: string; stacks: { name: string; items: unknown[] }[] }[];
      }[];
      nag: { ran: boolean; acknowledged: number };
    };
  };
  assert.equal(report.kind, "ChainReport");
  assert.equal(report.mode, "plan");
  assert.equal(report.verdict, "pass");
  const doc = report.plan;
  assert.equal(doc.kind, "XeksPlan");
  assert.deepEqual(
    doc.phases.map((p) => [p.number, p.accounts.map((a) => a.account)]),
    [
      [1, ["222222222222", "333333333333"]],
      [2, ["111111111111"]],
      [3, ["222222222222", "333333333333"]],
      [4, ["111111111111"]],
    ],
  );
  assert.equal(doc.nag.ran, true);
  assert.ok(doc.nag.acknowledged > 0);
});

test("xeks plan: invalid topology exits 2 and writes nothing; a bad --output exits 2", () => {
  const dir = tempDir();
  const file = join(dir, "bad.yaml");
  writeFileSync(file, "version: 1\ncluster: {}\n");
  const out = join(dir, "out");
  const r = xeks(["plan", file, "--out", out], { env: offline });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.yaml/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.equal(existsSync(out), false);
  const r2 = xeks(["plan", "examples/seed.yaml", "--out", out, "--output", "yaml"], { env: offline });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /--output/);
  assert.equal(existsSync(out), false);
});

test("xeks plan refuses to replace a directory it did not write (exit 2)", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "precious.txt"), "keep");
  const r = xeks(["plan", "examples/seed.yaml", "--out", dir], { env: offline });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing to replace/);
  assert.deepEqual(readdirSync(dir), ["precious.txt"]);
});

test("xeks plan of a 50-client topology", () => {
  const dir = tempDir();
  const file = join(dir, "fifty.yaml");
  writeFileSync(file, generatedYaml(50));
  const r = xeks(["plan", file, "--out", join(dir, "out")], { env: offline });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /Synthesized 202 stacks in 4 phases/);
});
