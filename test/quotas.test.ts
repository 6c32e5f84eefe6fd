/**
 * Quotas as links (issue 14): `iam.policy-size` measures the planned trust and inline policies of xeks's own
 * roles against IAM's quotas (2,048 characters of trust by default, or the declared `cluster.quotas.
 * trustPolicyLength`), `network.peering-quota` the peerings of the cluster VPC against 50 (or the declared
 * `cluster.quotas.peeringsPerVpc`). One plan of 60 clients (each in its own account with a VPC, one access role
 * naming them all) is synthesized once and proven under different declared quotas (quotas do not change the
 * templates): its access role's trust (about 3,500 characters) and its accepter role's trust (60 account roots,
 * about 2,100) are over 2,048, its 60 peerings over 50.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { prove } from "../src/chain/prove.js";
import type { ChainReport, LinkId, LinkResult } from "../src/chain/types.js";
import { documentSize, QUOTAS } from "../src/domain/quotas.js";
import { InputError } from "../src/errors.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import { emptyLiveModel, type Model } from "../src/model/types.js";
import { parseTopology } from "../src/topology/index.js";
import { ROOT } from "./helpers/cli.js";
import { generatedInput } from "./helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-quotas-"));
after(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the tests change parsed documents freely.
type Doc = Record<string, any>;
const ACCESS = "Fleet-EKS-Access-Role";
const CLIENTS = 60;

/** 60 clients, each in its own account with its own VPC, all named by one access role. */
function fleet(quotas?: { trustPolicyLength?: number; peeringsPerVpc?: number }): Doc {
  const d = generatedInput(CLIENTS) as Doc;
  d.access = [
    {
      role: ACCESS,
      clients: d.clients.map((c: Doc) => c.name),
      policies: ["AmazonEKSViewPolicy"],
    },
  ];
  if (quotas) d.cluster.quotas = quotas;
  return d;
}

function link(report: ChainReport, id: LinkId, subject: string): LinkResult {
  const found = report.links.filter((l) => l.id === id && l.subject === subject);
  assert.equal(found.length, 1, `${id} of ${subject}: ${found.length} results`);
  return found[0] as LinkResult;
}

let model: Model;
const proofOf = (d: Doc) => prove(parseTopology(stringify(d), "fleet.yaml"), model, "plan");
let defaults: ChainReport;
before(async () => {
  const topology = parseTopology(stringify(fleet()), "fleet.yaml");
  const outDir = join(work, "fleet");
  await synthesize(topology, { outDir });
  model = modelFromAssembly(topology, outDir);
  defaults = await prove(topology, model, "plan");
});

describe("iam.policy-size", () => {
  test("an access role naming 60 client roles is over the default trust quota: the link names it and the fix", () => {
    const trust = Object.values(model.roles).find((r) => r.name === ACCESS)?.trustPolicy;
    const size = documentSize(trust);
    assert.ok(size > QUOTAS.trustPolicyLength && size <= QUOTAS.trustPolicyLengthMax, `${size}`);
    const l = link(defaults, "iam.policy-size", `access role ${ACCESS}`);
    assert.equal(l.status, "fail");
    assert.match(l.summary, /"Role trust policy length" of 2,048/);
    assert.ok(l.summary.includes(size.toLocaleString("en-US")), l.summary);
    assert.match(l.fix ?? "", /Service Quotas \(up to 4,096/);
    assert.match(l.fix ?? "", /declare the granted value as cluster\.quotas\.trustPolicyLength/);
    assert.match(l.fix ?? "", /split access role Fleet-EKS-Access-Role \(fewer clients per role/);
    assert.equal(defaults.verdict, "fail");
  });

  test("declaring trustPolicyLength 4096 makes it pass", async () => {
    const r = await proofOf(fleet({ trustPolicyLength: 4096 }));
    const l = link(r, "iam.policy-size", `access role ${ACCESS}`);
    assert.equal(l.status, "pass", l.summary);
    assert.match(l.summary, /of 4,096 characters/);
    for (const x of r.links.filter((y) => y.id === "iam.policy-size")) assert.equal(x.status, "pass");
  });

  test("the accepter role trusting 60 client accounts is over it too; client roles are measured, inline against 10,240", () => {
    const cluster = link(defaults, "iam.policy-size", "cluster bench-cluster");
    assert.equal(cluster.status, "fail");
    assert.match(
      cluster.summary,
      /trust policy of xeks-bench-cluster-peering-accepter has 2,\d{3} characters/,
    );
    assert.match(cluster.fix ?? "", /peer fewer client accounts with this cluster/);
    const client = link(defaults, "iam.policy-size", "client team-1");
    assert.equal(client.status, "pass");
    assert.ok(client.evidence?.some((e) => /10,240 characters/.test(e.detail ?? "")));
  });
});

describe("network.peering-quota", () => {
  test("60 client VPCs on one cluster VPC are over the default 50: the link names the quota and the fix", () => {
    const l = link(defaults, "network.peering-quota", "cluster bench-cluster");
    assert.equal(l.status, "fail");
    assert.match(l.summary, /60 peering connections/);
    assert.match(l.summary, /"Active VPC peering connections per VPC" of 50 \(default\)/);
    assert.match(l.fix ?? "", /Service Quotas to at least 60 \(up to 125\)/);
    assert.match(l.fix ?? "", /declare the granted value as cluster\.quotas\.peeringsPerVpc/);
    assert.match(l.fix ?? "", /Transit Gateway/);
  });

  test("declaring peeringsPerVpc 60 makes it pass, at the quota (and leaves the trust quota failing)", async () => {
    const r = await proofOf(fleet({ peeringsPerVpc: 60 }));
    assert.equal(link(r, "network.peering-quota", "cluster bench-cluster").status, "pass");
    assert.equal(link(r, "iam.policy-size", `access role ${ACCESS}`).status, "fail");
  });

  test("doctor counts the live peerings of the cluster VPC and the ones deploy will create", async () => {
    const seed: Doc = parse(readFileSync(join(ROOT, "examples/seed.yaml"), "utf8"));
    const topology = parseTopology(stringify(seed), "seed.yaml");
    const live = emptyLiveModel(topology.cluster);
    const other = (i: number) => ({
      id: `pcx-${String(i).padStart(17, "0")}`,
      requester: {
        vpcId: `vpc-${String(i).padStart(17, "0")}`,
        account: "333333333333",
        region: "ap-south-1",
      },
      accepter: { vpcId: topology.cluster.vpc.id, account: "111111111111", region: "ap-south-1" },
      status: "active" as const,
      source: "live" as const,
    });
    live.peerings = Array.from({ length: 50 }, (_, i) => other(i + 1));
    live.peerings.push({ ...other(99), status: "deleted" });
    const over = link(await prove(topology, live, "live"), "network.peering-quota", "cluster prac-eks-abhi");
    assert.equal(over.status, "fail");
    assert.match(over.summary, /51 peering connections/);
    assert.match(over.evidence?.[0]?.detail ?? "", /50 active, 1 to create/);
    live.peerings.pop();
    live.peerings.pop();
    assert.equal(
      link(await prove(topology, live, "live"), "network.peering-quota", "cluster prac-eks-abhi").status,
      "pass",
    );
    // The cluster account may not read its peerings: the client accounts' count is partial (a warning).
    live.unread.push({ key: "peerings:111111111111", reason: "AccessDenied" });
    const quota = async () =>
      link(await prove(topology, live, "live"), "network.peering-quota", "cluster prac-eks-abhi");
    const partial = await quota();
    assert.equal(partial.status, "warn");
    assert.match(partial.summary, /those the client accounts see/);
    assert.match(partial.fix ?? "", /ec2:DescribeVpcPeeringConnections/);
    // Nobody may read them: unknown.
    live.unread.push({ key: "peerings:222222222222", reason: "AccessDenied" });
    const unread = await quota();
    assert.equal(unread.status, "unknown");
    assert.match(unread.fix ?? "", /ec2:DescribeVpcPeeringConnections/);
  });
});

describe("the seed and the declared quotas", () => {
  test("the seed passes both links", async () => {
    const seed: Doc = parse(readFileSync(join(ROOT, "examples/seed.yaml"), "utf8"));
    const topology = parseTopology(stringify(seed), "seed.yaml");
    const outDir = join(work, "seed");
    await synthesize(topology, { outDir });
    const r = await prove(topology, modelFromAssembly(topology, outDir), "plan");
    assert.equal(link(r, "network.peering-quota", "cluster prac-eks-abhi").status, "pass");
    for (const subject of [
      "cluster prac-eks-abhi",
      "client ops",
      "access role EKS-CrossAccount-Access-Role",
    ]) {
      assert.equal(link(r, "iam.policy-size", subject).status, "pass", subject);
    }
  });

  test("a quota outside what AWS allows is refused at its path", () => {
    for (const [key, value] of [
      ["trustPolicyLength", 4097],
      ["peeringsPerVpc", 126],
      ["peeringsPerVpc", 49],
    ] as const) {
      const d = fleet({ [key]: value });
      assert.throws(
        () => parseTopology(stringify(d), "fleet.yaml"),
        (e: unknown) =>
          e instanceof InputError &&
          `${e.message} ${JSON.stringify(e.issues)}`.includes(`cluster.quotas.${key}`),
        `${key} ${value}`,
      );
    }
  });
});
