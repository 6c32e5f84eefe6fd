/**
 * examples/people.yaml (docs/clients.md): the original cluster with one client of each kind but `role` (an EC2
 * instance client, an IAM Identity Center permission set, a GitHub Actions pipeline, Argo CD pods through EKS Pod
 * Identity), planned by the real CLI (`bin/xeks plan`, needs `npm run build`) as `npm start` plans seed.yaml:
 * exit 0, every link passes, and the plan has the pieces docs/clients.md says each kind gets (nothing in the
 * permission set's account; no network link for the clients with publicCidrs). Offline.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { ChainReport } from "../src/chain/types.js";
import { accessTrustPolicy, podIdentityTrustPolicy, webIdentityTrustPolicy } from "../src/domain/trust.js";
import { loadTopology } from "../src/topology/load.js";
import { ROOT, xeks } from "./helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "xeks-people-"));
after(() => rmSync(work, { recursive: true, force: true }));

const PEOPLE = join(ROOT, "examples/people.yaml");

interface PlanDoc extends ChainReport {
  plan: {
    phases: { accounts: { account: string; stacks: { name: string; client?: string }[] }[] }[];
    pieces: { piece: string; action: string; stack?: string }[];
  };
}

describe("examples/people.yaml", () => {
  let doc: PlanDoc;

  test("xeks plan exits 0 and every link passes, but the one warning of a cluster with both endpoints on", () => {
    const r = xeks(["plan", PEOPLE, "--out", join(work, "out"), "-o", "json"]);
    assert.equal(r.stderr, "");
    doc = JSON.parse(r.stdout) as PlanDoc;
    const notPassing = doc.links.filter((l) => l.status !== "pass");
    // Peered clients (ops, argocd) and public ones (people, the pipeline) on one cluster: both endpoints are on,
    // and a peered VPC resolves the name to the public addresses unless it forwards it (docs/clients.md, Network).
    assert.deepEqual(
      notPassing.map((l) => `${l.id} ${l.subject}: ${l.status}`),
      ["network.endpoint cluster prac-eks-abhi: warn"],
      "every other link passes",
    );
    assert.match(notPassing[0]?.summary ?? "", /clients platform-engineers, deploy need the public one/);
    assert.match(notPassing[0]?.fix ?? "", /Route 53 Resolver/);
    assert.equal(doc.verdict, "pass");
    assert.equal(r.status, 0);
    assert.deepEqual(doc.clients?.map((c) => c.name).sort(), [
      "argocd",
      "deploy",
      "ops",
      "platform-engineers",
    ]);
  });

  test("every client is proven: its network path and its access role", () => {
    const ids = (client: string) => new Set(doc.links.filter((l) => l.client === client).map((l) => l.id));
    for (const client of ["ops", "argocd"]) {
      assert.ok(ids(client).has("network.peering"), `${client} is peered`);
      assert.ok(!ids(client).has("network.public-access"), `${client} has a VPC`);
    }
    for (const client of ["platform-engineers", "deploy"]) {
      assert.ok(ids(client).has("network.public-access"), `${client} reaches the public endpoint`);
      assert.ok(!ids(client).has("network.peering"), `${client} has no peering`);
    }
    for (const client of ["ops", "platform-engineers", "deploy", "argocd"]) {
      assert.ok(ids(client).has("iam.access-role-trust"), `${client}: the access role's trust`);
    }
  });

  test("nothing is written in the permission set's account; the pipeline and the pods get their roles", () => {
    const stacks = doc.plan.phases.flatMap((p) =>
      p.accounts.flatMap((a) => a.stacks.map((s) => ({ ...s, account: a.account }))),
    );
    assert.ok(stacks.length > 0);
    assert.deepEqual(
      stacks.filter((s) => s.account === "333333333333"),
      [],
      "no stack in the Identity Center account",
    );
    const created = doc.plan.pieces.filter((p) => p.action === "create").map((p) => p.piece);
    assert.ok(
      created.some((p) => /xeks-prac-eks-abhi-deploy/.test(p)),
      "the web-identity role",
    );
    assert.ok(
      created.some((p) => /xeks-prac-eks-abhi-argocd/.test(p)),
      "the Pod Identity role",
    );
    assert.ok(
      created.some((p) => /Pod Identity association argocd\/argocd-application-controller/.test(p)),
      "the association",
    );
    const left = doc.plan.pieces.filter((p) => p.action === "leave").map((p) => p.piece);
    assert.ok(left.some((p) => /permission set PlatformEngineers/.test(p)));
    // No link stack for the clients without a VPC.
    for (const client of ["platform-engineers", "deploy"]) {
      assert.deepEqual(
        stacks.filter((s) => s.client === client && /link/.test(s.name)).map((s) => s.name),
        [],
        `${client}: no link stack`,
      );
    }
  });

  test("docs/clients.md shows exactly the trust documents the builders make and the plan synthesizes", () => {
    const topology = loadTopology(PEOPLE);
    const principal = (name: string) => {
      const c = topology.clients.find((x) => x.name === name);
      assert.ok(c);
      return c.principal;
    };
    const deploy = topology.clients.find((x) => x.name === "deploy")?.identity;
    assert.ok(deploy?.kind === "oidc");
    const built = [
      accessTrustPolicy([principal("ops")], null, "aws"),
      accessTrustPolicy([principal("platform-engineers")], null, "aws"),
      accessTrustPolicy([principal("deploy")], null, "aws"),
      accessTrustPolicy([principal("argocd")], null, "aws"),
      accessTrustPolicy([principal("argocd")], "argocd-7f3c2a", "aws"),
      accessTrustPolicy(
        [principal("ops"), principal("platform-engineers"), principal("argocd")],
        null,
        "aws",
      ),
      webIdentityTrustPolicy(deploy.providerArn, deploy.provider, deploy.audience, deploy.subjects),
      webIdentityTrustPolicy(deploy.providerArn, deploy.provider, deploy.audience, [
        "repo:acme/cluster-config:ref:refs/heads/main",
        "repo:acme/cluster-config:environment:*",
      ]),
      podIdentityTrustPolicy(),
    ];
    const doc = readFileSync(join(ROOT, "docs/clients.md"), "utf8");
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? ""));
    assert.equal(blocks.length, built.length, "one block per document");
    for (const [i, b] of blocks.entries()) {
      assert.ok(
        built.some((d) => JSON.stringify(d) === JSON.stringify(b)),
        `block ${i + 1} of docs/clients.md is a builder's output, as written (key order included)`,
      );
    }
    // The roles of the synthesized templates trust exactly what the docs show (the EC2 role and the peering
    // accepter excepted: their trust is not per kind).
    const out = join(work, "out");
    const trusts = readdirSync(out)
      .filter((f) => f.endsWith(".template.json"))
      .flatMap((f) =>
        Object.values(
          (
            JSON.parse(readFileSync(join(out, f), "utf8")) as {
              Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
            }
          ).Resources,
        ),
      )
      .filter((r) => r.Type === "AWS::IAM::Role")
      .filter(
        (r) =>
          !["EC2-EKS-CrossAccount-Role", "xeks-prac-eks-abhi-peering-accepter"].includes(
            String(r.Properties.RoleName),
          ),
      )
      .map((r) => ({ role: r.Properties.RoleName, trust: r.Properties.AssumeRolePolicyDocument }));
    assert.equal(trusts.length, 6, "four access roles, the web-identity role, the Pod Identity role");
    for (const t of trusts) {
      assert.ok(
        blocks.some((b) => JSON.stringify(b) === JSON.stringify(t.trust)),
        `the trust of ${String(t.role)} is shown in docs/clients.md`,
      );
    }
  });
});
