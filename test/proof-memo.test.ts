/**
 * The proof's memos (src/chain/memo.ts: route, peering and security group indexes, parsed CIDRs, identical IAM
 * decisions once) change nothing: every link of a plan proof gives the same finding as the same link evaluated on
 * its own, outside a proof (no memo), on a topology with overlapping CIDRs, a covering, a shadowing and a
 * conflicting route, and declared ingress rules. One synthesis, several proofs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { allowAll, decide, type IamRequest } from "../src/chain/iam.js";
import type { Finding, Link } from "../src/chain/link.js";
import { LINKS } from "../src/chain/links/index.js";
import { decisionMemo, withProofScope } from "../src/chain/memo.js";
import { prove, subjectsOf } from "../src/chain/prove.js";
import { safeFix } from "../src/chain/safety.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import { generatedInput, topologyOf } from "./helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-proof-memo-"));
after(() => rmSync(work, { recursive: true, force: true }));

const input = generatedInput(12);
const clients = input.clients as { vpc: { cidr: string } }[];
// team-3 has team-2's CIDR; team-5's /23 covers team-6's /24.
(clients[2] as { vpc: { cidr: string } }).vpc.cidr = "172.16.1.0/24";
(clients[4] as { vpc: { cidr: string } }).vpc.cidr = "172.16.4.0/23";
const [t1, t2, t3] = ["rtb-0aaa1111bbbb2222c", "rtb-0aaa1111bbbb3333d", "rtb-0aaa1111bbbb4444e"];
Object.assign(input.cluster.vpc, {
  routes: [
    { routeTable: t1, destination: "172.16.0.0/16", target: "pcx-0fff0000000000001" },
    { routeTable: t1, destination: "172.16.9.0/25", target: "igw-0fff0000000000002" },
    { routeTable: t2, destination: "172.16.11.0/24", target: "pcx-0fff0000000000003" },
    { routeTable: t3, destination: "172.16.8.128/25", target: "tgw-0fff0000000000004" },
    { routeTable: t3, destination: "0.0.0.0/0", target: "igw-0fff0000000000002" },
  ],
});
Object.assign(input.cluster, {
  ingressRules: [
    { id: "sgr-0123456789abcdef1", protocol: "tcp", fromPort: 443, toPort: 443, cidr: "172.16.3.0/24" },
    { id: "sgr-0123456789abcdef2", protocol: "-1", fromPort: 0, toPort: 65535, cidr: "172.16.0.0/20" },
    { id: "sgr-0123456789abcdef3", protocol: "tcp", fromPort: 22, toPort: 22, cidr: "172.16.0.0/16" },
  ],
});
const topology = topologyOf(input);
const outDir = join(work, "out");
synthesize(topology, { outDir });
const model = modelFromAssembly(topology, outDir);

/** A finding as the report records it (the runner passes each fix through safeFix). */
function recorded(f: Finding) {
  return {
    status: f.status,
    summary: f.summary,
    fix: f.fix === undefined ? undefined : safeFix(f.fix),
    evidence: f.evidence,
  };
}

test("every link gives the same finding inside a proof (memos) as on its own (none)", async () => {
  const report = await prove(topology, model, "plan");
  const alone: ReturnType<typeof recorded>[] = [];
  for (const subject of subjectsOf(topology)) {
    for (const link of LINKS.filter((l) => l.subject === subject.kind) as Link[]) {
      const f = await link.evaluate({ topology, model }, subject as never);
      if (f !== null) alone.push(recorded(f));
    }
  }
  assert.deepEqual(
    report.links.map((l) => ({ status: l.status, summary: l.summary, fix: l.fix, evidence: l.evidence })),
    alone,
  );
  // The cases the indexes answer are there: overlaps, a conflicting route, a shadowing route.
  const summaries = report.links.map((l) => l.summary).join("\n");
  assert.match(summaries, /client VPC 172\.16\.1\.0\/24 overlaps client team-2's VPC/);
  assert.match(summaries, /client VPC 172\.16\.5\.0\/24 overlaps client team-5's VPC 172\.16\.4\.0\/23/);
  assert.match(summaries, /would hold two routes to 172\.16\.11\.0\/24/);
  assert.match(summaries, /the more specific route 172\.16\.9\.0\/25 -> igw-0fff0000000000002/);
  // A second proof of the same model gives the same report: nothing is kept between proofs.
  assert.deepEqual(await prove(topology, model, "plan"), report);
  assert.equal(decisionMemo(), undefined);
});

test("identical IAM requests within a proof scope share one simulation, each caller gets its own copy", async () => {
  const request: IamRequest = {
    principal: "arn:aws:sts::222222222222:assumed-role/R/s",
    principalArn: "arn:aws:iam::222222222222:role/R",
    principalAccount: "222222222222",
    action: "sts:AssumeRole",
    resource: "arn:aws:iam::111111111111:role/A",
    resourceAccount: "111111111111",
    identityPolicies: [allowAll("sts:AssumeRole")],
    resourcePolicy: {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Principal: { AWS: "arn:aws:iam::222222222222:role/R" }, Action: "sts:AssumeRole" },
      ],
    },
  };
  const outside = await decide(request);
  await withProofScope(topology, model, async () => {
    const a = await decide(request);
    const b = await decide({ ...request, identityPolicies: [allowAll("sts:AssumeRole")] });
    assert.equal(decisionMemo()?.size, 1);
    assert.deepEqual(a, outside);
    assert.deepEqual(b, outside);
    assert.notEqual(a, b);
    assert.notEqual(a.denials, b.denials);
  });
  assert.equal(decisionMemo(), undefined);
});
