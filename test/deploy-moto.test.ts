/**
 * `xeks deploy|diff|destroy` end to end against a private moto_server in two accounts (assume-role profiles in
 * a temporary AWS config), with moto's CloudFormation completed by src/sandbox/moto-patches (cross-account
 * peering, failures with rollback, deletions; see docs/deploy.md) and the EKS fixture for the cluster's
 * authentication mode. Run `npm run build` first: these run bin/xeks. The tests share one emulator and run in
 * order: refusals on an empty lab, a failed phase and its resumption, a no-op run, diff, destroy.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CLIENT_ACCOUNT,
  CLUSTER_ACCOUNT,
  type Lab,
  leftovers,
  PROFILE_FLAGS,
  READ_ONLY,
  STACKS,
  stackInfo,
  stackResources,
  startLab,
} from "./helpers/moto-deploy.js";
import { xeksAsync } from "./helpers/spawn.js";

const CLUSTER_STACKS = [STACKS.base, STACKS.access, STACKS.clusterLink];
const CLIENT_STACKS = [STACKS.identity, STACKS.clientLink];

describe("deploy, diff and destroy against the emulator", () => {
  let lab: Lab;
  let file: string;

  before(async () => {
    lab = await startLab();
    file = lab.writeTopology();
  });
  after(async () => {
    await lab?.stop();
  });

  /** AWS actions that reached moto since the last clear, as `service:Action`. */
  const actions = () => lab.requests().map((r) => `${r.service}:${r.action}`);
  const writes = () => lab.requests().filter((r) => !READ_ONLY.test(r.action ?? ""));

  test("credentials of the wrong account are refused before any call that changes anything", async () => {
    await lab.clearRecording();
    const r = await lab.run([
      "deploy",
      file,
      "--yes",
      "--cluster-profile",
      "cluster",
      "--client-profile",
      "ops=wrong",
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /do not match the topology's accounts.*nothing was changed/);
    assert.match(r.stderr, /profile wrong \(for client ops\) belong to account 333333333333/);
    assert.match(r.stderr, /not 222222222222, the account of client ops in the topology/);
    assert.match(r.stderr, /--client-profile ops=PROFILE/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
    const seen = new Set(actions());
    assert.deepEqual([...seen].sort(), ["sts:AssumeRole", "sts:GetCallerIdentity"]);
    assert.deepEqual(lab.eks.calls, [], "not even the cluster was read");
    assert.deepEqual([...(await lab.stacks(CLUSTER_ACCOUNT)).keys()], []);
    assert.equal(existsSync(join(lab.dir, "xeks.out")), false, "--out is not synthesized before the check");
  });

  test("ambient credentials of one account cannot act for the other: refused, naming the flag to use", async () => {
    // The ambient credentials (AWS_PROFILE) are the cluster account's; client ops needs its own.
    const r = await xeksAsync(["deploy", file, "--yes", "--cluster-profile", "cluster"], {
      cwd: lab.dir,
      env: { ...lab.env, AWS_PROFILE: "cluster" },
      timeoutMs: 180_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /the ambient credentials \(for client ops\) belong to account 111111111111/);
    assert.match(r.stderr, /--client-profile ops=PROFILE/);
  });

  test("no ambient credentials at all: an operation failure (exit 1) saying how to configure them", async () => {
    const r = await lab.run(["deploy", file, "--yes", "--cluster-profile", "cluster"]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /client ops .*cannot load the ambient credentials/);
    assert.match(r.stderr, /configure credentials .* or name a profile with --client-profile ops=PROFILE/);
  });

  test("without --yes and without a terminal: refused at once, before any AWS call, with a clear message", async () => {
    await lab.clearRecording();
    const r = await lab.run(["deploy", file, ...PROFILE_FLAGS]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /stdin is not a terminal/);
    assert.match(r.stderr, /use --yes/);
    assert.match(r.stderr, /nothing was changed/);
    assert.doesNotMatch(r.stderr, /synthesized/, "nothing was synthesized either");
    assert.deepEqual(actions(), [], "not a single AWS request");
    assert.deepEqual(lab.eks.calls, []);
    assert.deepEqual([...(await lab.stacks(CLIENT_ACCOUNT)).keys()], []);
  });

  test("a CONFIG_MAP cluster stops the deploy before any change and says how to move on", async () => {
    lab.setAuthMode("CONFIG_MAP");
    await lab.clearRecording();
    const r = await lab.run(["deploy", file, "--yes", ...PROFILE_FLAGS]);
    lab.setAuthMode("API_AND_CONFIG_MAP");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /uses authentication mode CONFIG_MAP/);
    assert.match(r.stderr, /--allow-auth-mode-change/);
    assert.match(r.stderr, /aws eks update-cluster-config --name prac-eks-abhi/);
    assert.deepEqual(writes(), []);
    assert.deepEqual([...new Set(lab.eks.calls.map((c) => c.operation))], ["DescribeCluster"]);
  });

  test("a phase CloudFormation rejects stops the run, naming stack, resource and reason, and the command that resumes", async () => {
    lab.setAuthMode("CONFIG_MAP");
    const bad = lab.writeTopology({
      clusterRouteTables: [lab.cluster.routeTableId, "rtb-0bad0bad0bad0bad0"],
    });
    const r = await lab.run([
      "deploy",
      bad,
      "--yes",
      "--allow-auth-mode-change",
      "--no-doctor",
      ...PROFILE_FLAGS,
    ]);
    assert.equal(r.status, 1, r.stderr);
    // The authentication mode was switched first, with consent.
    assert.equal(lab.eks.clusters.get("prac-eks-abhi")?.authenticationMode, "API_AND_CONFIG_MAP");
    assert.ok(lab.eks.calls.some((c) => c.operation === "UpdateClusterConfig"));
    assert.match(r.stderr, /deploy failed in phase 4 \(cluster-link\)/);
    assert.match(
      r.stderr,
      new RegExp(
        `stack ${STACKS.clusterLink}, resource RouteToClientRtb0bad0bad0bad0bad0 \\(AWS::EC2::Route\\)`,
      ),
    );
    assert.match(r.stderr, /The routeTable ID 'rtb-0bad0bad0bad0bad0' does not exist/);
    assert.match(
      r.stderr,
      /resume with: xeks deploy \S*xeks\.yaml --cluster-profile cluster --client-profile ops=ops --allow-auth-mode-change --yes --no-doctor/,
    );
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
    // Library noise never reaches the terminal raw: no SDK warning, no toolkit message codes or decorations.
    assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning|CDK_TOOLKIT|CDK_SDK|✨|❌|Total time/);
    // Progress per phase and per resource (plain lines: no terminal).
    assert.match(r.stderr, /phase 3\/4 client-link/);
    assert.match(r.stderr, /PeeringConnection {2}AWS::EC2::VPCPeeringConnection {2}CREATE_COMPLETE/);
    assert.match(r.stderr, /peering connection pcx-\w+ active/);
    // The summary, with the durations of what was done.
    assert.match(r.stdout, /failed in phase 4/);
    assert.match(r.stdout, new RegExp(`created +${STACKS.clientLink} +\\(222222222222\\) +\\d+\\.\\d s`));
    // Phases 1-3 stand, in their own accounts; the failed stack rolled back.
    const a = await lab.stacks(CLUSTER_ACCOUNT);
    const b = await lab.stacks(CLIENT_ACCOUNT);
    assert.deepEqual(
      [...a.entries()].sort(),
      [
        [STACKS.access, "CREATE_COMPLETE"],
        [STACKS.base, "CREATE_COMPLETE"],
        [STACKS.clusterLink, "ROLLBACK_COMPLETE"],
      ].sort(),
    );
    assert.deepEqual(
      [...b.entries()].sort(),
      [
        [STACKS.clientLink, "CREATE_COMPLETE"],
        [STACKS.identity, "CREATE_COMPLETE"],
      ].sort(),
    );
  });

  test("after the cause is fixed, re-running resumes at the failed phase; earlier stacks are left unchanged", async () => {
    file = lab.writeTopology();
    await lab.createAccessEntry();
    await lab.clearRecording();
    const r = await lab.run(["deploy", file, "--yes", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    for (const s of [STACKS.identity, STACKS.base, STACKS.access, STACKS.clientLink]) {
      assert.match(r.stderr, new RegExp(`${s}: skipped \\(deployed and identical`));
    }
    assert.match(
      r.stderr,
      new RegExp(`${STACKS.clusterLink}: ROLLBACK_COMPLETE: deleting the failed stack and creating it again`),
    );
    assert.match(r.stdout, new RegExp(`recreated +${STACKS.clusterLink}`));
    // Only the failed stack was touched.
    const changed = new Set(
      lab
        .requests()
        .filter((q) => /^(CreateChangeSet|ExecuteChangeSet|DeleteStack)$/.test(q.action ?? ""))
        .map(
          (q) =>
            new URLSearchParams(q.body).get("StackName")?.split("/")[1] ??
            new URLSearchParams(q.body).get("StackName"),
        ),
    );
    assert.deepEqual([...changed], [STACKS.clusterLink]);
    // Each stack in its own account.
    assert.deepEqual([...(await lab.stacks(CLUSTER_ACCOUNT)).keys()].sort(), [...CLUSTER_STACKS].sort());
    assert.deepEqual([...(await lab.stacks(CLIENT_ACCOUNT)).keys()].sort(), [...CLIENT_STACKS].sort());
    // The peering id crossed from the client account's output to the cluster account's parameter.
    const link = await stackInfo(lab, CLIENT_ACCOUNT, STACKS.clientLink);
    const pcx = link.outputs.PeeringConnectionId;
    assert.match(pcx ?? "", /^pcx-[0-9a-f]+$/);
    const back = await stackInfo(lab, CLUSTER_ACCOUNT, STACKS.clusterLink);
    assert.deepEqual(back.parameters, { PeeringConnectionId: pcx });
    // moto skips AWS::EKS::AccessEntry (docs/deploy.md): the stack holds only the role.
    const access = await stackResources(lab, CLUSTER_ACCOUNT, STACKS.access);
    assert.equal(access.get("AccessRole"), "AWS::IAM::Role");
    assert.equal([...access.values()].includes("AWS::EKS::AccessEntry"), false);
    // Then the doctor's checks on the live state, which pass (the access entry stands in the EKS fixture).
    assert.match(r.stdout, /Chain check on the live state/);
    assert.match(r.stdout, /network\.route\.cluster-to-client/);
    assert.match(r.stdout, /verdict: pass/);
  });

  test("a second deploy reports no changes and changes nothing", async () => {
    await lab.clearRecording();
    const r = await lab.run(["deploy", file, "--yes", "--no-doctor", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /No changes: the 5 stack\(s\) of cluster prac-eks-abhi are deployed and identical/,
    );
    assert.match(r.stderr, /nothing to change/);
    assert.deepEqual(writes(), [], `only reads: ${actions().join(", ")}`);
  });

  test("--output json: one document", async () => {
    const r = await lab.run(["deploy", file, "--yes", "--no-doctor", "--output", "json", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, "DeployResult");
    assert.equal(doc.outcome, "no-changes");
    assert.deepEqual(
      doc.stacks.map((s: { name: string; outcome: string }) => s.outcome),
      ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"],
    );
    assert.deepEqual(
      doc.identities.map((i: { credentials: string; account: string }) => [i.credentials, i.account]),
      [
        ["cluster", CLUSTER_ACCOUNT],
        ["client ops", CLIENT_ACCOUNT],
      ],
    );
  });

  test("diff shows per-stack changes against what is deployed", async () => {
    await lab.clearRecording();
    let r = await lab.run(["diff", file, ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nothing to change/);
    // A second cluster route table (it exists): the cluster-side stack gains a route.
    const ec2 = await lab.ec2(CLUSTER_ACCOUNT);
    const { CreateRouteTableCommand } = await import("@aws-sdk/client-ec2");
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: lab.cluster.vpcId }))).RouteTable
      ?.RouteTableId;
    const more = lab.writeTopology({ clusterRouteTables: [lab.cluster.routeTableId, rtb as string] });
    await lab.clearRecording();
    r = await lab.run(["diff", more, ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /deploy would change/);
    assert.match(r.stdout, new RegExp(`phase 4 {2}${STACKS.clusterLink} {2}\\(111111111111\\): update`));
    assert.match(
      r.stdout,
      new RegExp(`\\+ RouteToClient${rtb?.replace("rtb-", "Rtb")} {2}AWS::EC2::Route`, "i"),
    );
    assert.match(r.stdout, new RegExp(`phase 1 {2}${STACKS.identity} {2}\\(222222222222\\): unchanged`));
    r = await lab.run(["diff", more, "--output", "json", ...PROFILE_FLAGS]);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, "DiffResult");
    assert.equal(doc.changes, true);
    assert.deepEqual(writes(), [], "diff only reads");
    lab.writeTopology();
  });

  test("destroy asks, removes the stacks in reverse phase order and leaves no xeks stack or resource", async () => {
    await lab.clearRecording();
    let r = await lab.run(["destroy", file, ...PROFILE_FLAGS]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /refusing to destroy without confirmation.*use --yes/s);
    assert.deepEqual(actions(), [], "refused before any AWS request");
    await lab.clearRecording();
    // --concurrency 1: one stack after the other, in exactly the reverse of the manifest's order.
    r = await lab.run(["destroy", file, "--yes", "--concurrency", "1", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    // Reverse phase order, each stack deleted in its own account (the ARN names the account).
    const deletes = lab
      .requests()
      .filter((q) => q.action === "DeleteStack")
      .map((q) => {
        const arn = new URLSearchParams(q.body).get("StackName") ?? "";
        const m = /^arn:aws:cloudformation:[^:]+:(\d{12}):stack\/([^/]+)\//.exec(arn);
        return m ? `${m[2]}@${m[1]}` : arn;
      });
    assert.deepEqual(deletes, [
      `${STACKS.clusterLink}@${CLUSTER_ACCOUNT}`,
      `${STACKS.clientLink}@${CLIENT_ACCOUNT}`,
      `${STACKS.access}@${CLUSTER_ACCOUNT}`,
      `${STACKS.base}@${CLUSTER_ACCOUNT}`,
      `${STACKS.identity}@${CLIENT_ACCOUNT}`,
    ]);
    assert.match(r.stdout, /Destroyed the stacks of cluster prac-eks-abhi/);
    assert.deepEqual(await leftovers(lab), []);
    r = await lab.run(["destroy", file, "--yes", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Nothing to destroy/);
  });

  test("a clean deploy of everything the emulator can create succeeds in one run", async () => {
    const r = await lab.run(["deploy", file, "--yes", "--no-doctor", ...PROFILE_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Deployed cluster prac-eks-abhi: 5 stack\(s\) in 4 phase\(s\)/);
    for (const s of Object.values(STACKS)) assert.match(r.stdout, new RegExp(`created +${s} `));
    const destroyed = await lab.run(["destroy", file, "--yes", ...PROFILE_FLAGS]);
    assert.equal(destroyed.status, 0, destroyed.stderr);
    assert.deepEqual(await leftovers(lab), []);
  });
});
