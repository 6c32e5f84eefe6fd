/**
 * `xeks deploy` of a topology with a StackSet client (issue 14, docs/organizations.md, "Clients from an
 * organization: a StackSet") in the deploy lab (test/helpers/moto-deploy.ts: moto with the sandbox's patches, the
 * EKS emulator, profiles per account): the organization's management account is the client account of the lab
 * (222222222222, profile `ops`), with an OU of two member accounts. Phase 1 creates the service-managed StackSet in
 * the administrator account with the client's credentials (`--client-profile fleet=ops`) and its instances in
 * both members; phase 2 deploys the access role in the cluster account; a second deploy changes nothing. Wrong
 * credentials for the administrator are refused before any write. Run `npm run build` first: this runs bin/xeks.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ListStackInstancesCommand } from "@aws-sdk/client-cloudformation";
import { stackSetApi } from "../src/aws/stackset.js";
import { inFlightLines } from "../src/cli/interrupt.js";
import { describeWhere, RunTracker, stillInProgress, watchCommand } from "../src/deploy/in-flight.js";
import { deployStackSet } from "../src/deploy/stackset.js";
import {
  CLIENT_ACCOUNT,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  type Lab,
  REGION,
  startLab,
} from "./helpers/moto-deploy.js";

// biome-ignore lint/suspicious/noExplicitAny: plain JSON answers.
type Doc = Record<string, any>;

describe("deploy: a StackSet client at moto", () => {
  let lab: Lab;
  let file = "";
  let members: string[] = [];
  let ou = "";
  let ou2 = "";
  let m3 = "";
  let organizationId = "";
  /** The topology, with these OUs and extra fromOrganization settings. */
  const topo = (ous: string[], extra = "") =>
    writeFileSync(
      file,
      [
        ...lab.clusterYaml({
          endpoint: { private: true, public: true },
          publicAccessCidrs: ["203.0.113.0/24"],
        }),
        "organization:",
        `  id: ${organizationId}`,
        "  rolePattern: Fleet-EKS-Client-Role",
        "clients:",
        "  - name: fleet",
        `    fromOrganization: { organizationalUnits: [${ous.join(", ")}], administrator: "${CLIENT_ACCOUNT}"${extra} }`,
        "    role: Fleet-EKS-Client-Role",
        "    publicCidrs: [203.0.113.0/24]",
        "access:",
        "  - role: EKS-Fleet-Access-Role",
        "    clients: [fleet]",
        "    policies: [AmazonEKSViewPolicy]",
        "",
      ].join("\n"),
    );

  /** One AWS Organizations call (JSON protocol) to moto, acting in the account of `accessKeyId`. */
  const org = async (accessKeyId: string, action: string, body: Doc = {}): Promise<Doc> => {
    const r = await fetch(lab.moto.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AWSOrganizationsV20161128.${action}`,
        authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return (text ? JSON.parse(text) : {}) as Doc;
  };

  before(async () => {
    lab = await startLab();
    // The organization of the client account (its credentials: an assumed role of 222222222222 at moto).
    const iam = await lab.iam(CLIENT_ACCOUNT);
    const key = (await iam.config.credentials()).accessKeyId;
    await org(key, "CreateOrganization", { FeatureSet: "ALL" });
    const root = (await org(key, "ListRoots")).Roots[0].Id as string;
    ou = (await org(key, "CreateOrganizationalUnit", { ParentId: root, Name: "fleet" })).OrganizationalUnit
      .Id as string;
    ou2 = (await org(key, "CreateOrganizationalUnit", { ParentId: root, Name: "fleet2" })).OrganizationalUnit
      .Id as string;
    for (const n of ["m1", "m2", "m3"])
      await org(key, "CreateAccount", { Email: `${n}@example.com`, AccountName: n });
    const accounts = (await org(key, "ListAccounts")).Accounts as Doc[];
    organizationId = (await org(key, "DescribeOrganization")).Organization.Id as string;
    members = accounts.filter((a) => a.Name === "m1" || a.Name === "m2").map((a) => a.Id as string);
    m3 = accounts.find((a) => a.Name === "m3")?.Id as string;
    for (const id of members) {
      await org(key, "MoveAccount", { AccountId: id, SourceParentId: root, DestinationParentId: ou });
    }
    await org(key, "MoveAccount", { AccountId: m3, SourceParentId: root, DestinationParentId: ou2 });
    file = join(lab.dir, "fleet.yaml");
    topo([ou]);
  });
  after(async () => {
    await lab?.stop();
  });

  test("wrong credentials for the administrator account are refused before any write", async () => {
    await lab.clearRecording();
    const r = await lab.run([
      "deploy",
      file,
      "--yes",
      "--cluster-profile",
      "cluster",
      "--client-profile",
      "fleet=wrong",
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /profile wrong \(for client fleet\) belong to account 333333333333/);
    assert.match(r.stderr, /not 222222222222, the account of client fleet in the topology/);
    const writes = lab
      .requests()
      .map((q) => q.action ?? "")
      .filter((a) => !/^(Describe|List|Get|AssumeRole$)/.test(a));
    assert.deepEqual(writes, []);
  });

  test("phase 1 creates the StackSet in the administrator account, phase 2 the access role; again: no change", async () => {
    const flags = ["--yes", "--no-doctor", "--cluster-profile", "cluster", "--client-profile", "fleet=ops"];
    const r = await lab.run(["deploy", file, ...flags, "--output", "json"]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as Doc;
    assert.deepEqual(
      (result.stackSets as Doc[]).map((s) => [s.name, s.account, s.outcome]),
      [[`xeks-${CLUSTER_NAME}-client-fleet-identity`, CLIENT_ACCOUNT, "created"]],
    );
    const cfn = await lab.cfn(CLIENT_ACCOUNT);
    const instances = await cfn.send(
      new ListStackInstancesCommand({
        StackSetName: `xeks-${CLUSTER_NAME}-client-fleet-identity`,
        CallAs: "SELF",
      }),
    );
    assert.deepEqual((instances.Summaries ?? []).map((s) => s.Account).sort(), [...members].sort());
    assert.ok(
      (await lab.stacks(CLUSTER_ACCOUNT)).has(`xeks-${CLUSTER_NAME}-cluster-access-EKS-Fleet-Access-Role`),
    );
    assert.equal((await lab.stacks(CLIENT_ACCOUNT)).size, 0, "no client stack in the administrator account");

    // doctor lists the stack instances in the administrator account with the client's credentials.
    const doctor = await lab.run([
      "doctor",
      file,
      "--output",
      "json",
      "--cluster-profile",
      "cluster",
      "--client-profile",
      "fleet=ops",
    ]);
    const report = JSON.parse(doctor.stdout) as Doc;
    const link = (report.links as Doc[]).find((l) => l.id === "stackset.instances");
    assert.equal(link?.status, "pass", JSON.stringify(link));
    assert.equal(link?.evidence.length, 2);
    for (const account of members) assert.ok(String(link?.summary).includes(account), account);

    await lab.clearRecording();
    const again = await lab.run(["deploy", file, ...flags, "--output", "json"]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Doc).stackSets[0].outcome, "unchanged");
    const writes = lab
      .requests()
      .map((q) => q.action ?? "")
      .filter((a) => !/^(Describe|List|Get|AssumeRole$)/.test(a));
    assert.deepEqual(writes, [], "the second deploy writes nothing");
  });

  /**
   * A proxy in front of moto that rewrites answers into what AWS gives in the cases moto cannot reach (moto's
   * instances are always CURRENT and carry no OrganizationalUnitId, its DescribeStackSet no AutoDeployment, its
   * operations end at once).
   */
  const rewrite: {
    outdated?: boolean;
    ous?: Map<string, string>;
    auto?: boolean;
    running?: boolean;
    failed?: boolean;
  } = {};
  let proxy: http.Server | undefined;
  const startProxy = async (): Promise<string> => {
    proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      const action = /Action=([A-Za-z]+)/.exec(body)?.[1] ?? "";
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string" && k !== "host" && k !== "content-length") headers[k] = v;
      }
      const up = await fetch(lab.moto.url + (req.url ?? "/"), {
        method: req.method,
        headers,
        ...(req.method === "GET" ? {} : { body }),
      });
      let text = await up.text();
      if (action === "ListStackInstances") {
        if (rewrite.outdated) text = text.replace(/<Status>CURRENT<\/Status>/g, "<Status>OUTDATED</Status>");
        for (const [account, unit] of rewrite.ous ?? []) {
          text = text.replaceAll(
            `<Account>${account}</Account>`,
            `<Account>${account}</Account><OrganizationalUnitId>${unit}</OrganizationalUnitId>`,
          );
        }
      }
      if (action === "DescribeStackSet" && rewrite.auto) {
        text = text.replace(
          "<StackSet>",
          "<StackSet><AutoDeployment><Enabled>true</Enabled><RetainStacksOnAccountRemoval>false</RetainStacksOnAccountRemoval></AutoDeployment>",
        );
      }
      if (action === "DescribeStackSetOperation" && rewrite.failed) {
        text = text.replace(/<Status>[A-Z]+<\/Status>/, "<Status>FAILED</Status>");
      }
      if (action === "DescribeStackSetOperation" && rewrite.running) {
        text = text.replace(/<Status>[A-Z]+<\/Status>/, "<Status>RUNNING</Status>");
      }
      res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "text/xml" });
      res.end(text);
    });
    await new Promise<void>((r) => proxy?.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  };
  after(() => proxy?.close());

  test("a re-run retries instances not CURRENT, creates the instances of a new OU, deletes a removed OU's, applies AutoDeployment", async () => {
    const flags = ["--yes", "--no-doctor", "--cluster-profile", "cluster", "--client-profile", "fleet=ops"];
    const name = `xeks-${CLUSTER_NAME}-client-fleet-identity`;
    const motoUrl = lab.env.AWS_ENDPOINT_URL;
    lab.env.AWS_ENDPOINT_URL = await startProxy();
    const deploy = async () => {
      await lab.clearRecording();
      const r = await lab.run(["deploy", file, ...flags, "--output", "json"]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const writes = lab
        .requests()
        .filter((q) => /^(Create|Update|Delete)Stack(Set|Instances)$/.test(q.action ?? ""));
      return { set: (JSON.parse(r.stdout) as Doc).stackSets[0] as Doc, writes, stderr: r.stderr };
    };
    try {
      // An earlier operation failed: the instances are OUTDATED though the template is the deployed one.
      rewrite.outdated = true;
      const retry = await deploy();
      assert.equal(retry.set.outcome, "updated");
      assert.deepEqual(
        retry.writes.map((q) => q.action),
        ["UpdateStackSet"],
      );
      assert.match(retry.stderr, /retrying 2 stack instance\(s\) not CURRENT/);
      rewrite.outdated = false;

      // A new OU: CreateStackInstances on it alone.
      rewrite.ous = new Map([...members.map((m): [string, string] => [m, ou]), [m3, ou2]]);
      topo([ou, ou2]);
      const added = await deploy();
      assert.equal(added.set.outcome, "updated");
      assert.deepEqual(
        added.writes.map((q) => q.action),
        ["CreateStackInstances"],
      );
      assert.match(added.writes[0]?.body ?? "", new RegExp(`OrganizationalUnitIds.member.1=${ou2}`));
      assert.doesNotMatch(added.writes[0]?.body ?? "", new RegExp(`=${ou}(&|$)`));
      const cfn = await lab.cfn(CLIENT_ACCOUNT);
      const listed = await cfn.send(new ListStackInstancesCommand({ StackSetName: name, CallAs: "SELF" }));
      assert.ok(
        (listed.Summaries ?? []).some((x) => x.Account === m3),
        "m3 of the new OU has an instance",
      );

      // The OU removed again: DeleteStackInstances on it, the stacks not retained.
      topo([ou]);
      const removed = await deploy();
      assert.deepEqual(
        removed.writes.map((q) => q.action),
        ["DeleteStackInstances"],
      );
      assert.match(removed.writes[0]?.body ?? "", new RegExp(`OrganizationalUnitIds.member.1=${ou2}`));
      assert.match(removed.writes[0]?.body ?? "", /RetainStacks=false/);
      rewrite.ous = undefined;

      // retainStacksOnAccountRemoval alone changed: UpdateStackSet with the new AutoDeployment.
      rewrite.auto = true;
      topo([ou], ", retainStacksOnAccountRemoval: true");
      const auto = await deploy();
      assert.equal(auto.set.outcome, "updated");
      assert.deepEqual(
        auto.writes.map((q) => q.action),
        ["UpdateStackSet"],
      );
      assert.match(auto.writes[0]?.body ?? "", /AutoDeployment.RetainStacksOnAccountRemoval=true/);
      rewrite.auto = false;
    } finally {
      lab.env.AWS_ENDPOINT_URL = motoUrl;
      topo([ou]);
      Object.assign(rewrite, { outdated: false, auto: false, ous: undefined });
    }
  });

  test("an interrupt during a StackSet operation says that the run changed something and names the operation", async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = proxy
      ? `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      : await startProxy();
    rewrite.running = true;
    const tracker = new RunTracker("deploy");
    const credentials = (await lab.cfn(CLIENT_ACCOUNT)).config.credentials;
    const set = {
      name: "xeks-interrupted-identity",
      client: "fleet",
      phase: 1 as const,
      account: CLIENT_ACCOUNT,
      region: REGION,
      permissionModel: "SERVICE_MANAGED" as const,
      callAs: "SELF" as const,
      autoDeployment: { enabled: true as const, retainStacksOnAccountRemoval: false },
      organizationalUnits: [ou2],
      regions: [REGION],
      capabilities: ["CAPABILITY_NAMED_IAM"],
      description: "test",
      templateFile: "",
      templateBytes: 0,
    };
    let operation = "";
    try {
      await assert.rejects(
        deployStackSet(
          stackSetApi(credentials, REGION),
          set,
          JSON.stringify({ Resources: { Topic: { Type: "AWS::SNS::Topic" } } }),
          CLUSTER_NAME,
          () => {},
          { timeoutMs: 0, pollMs: 1, sleep: async () => {} },
          {
            onWrite: () => tracker.markChanged(),
            onOperation: (op) => {
              if (op) operation = op.id;
              // What the CLI reads when SIGINT comes while the operation runs.
              if (op) {
                tracker.stackSetOperation({
                  stackSet: set.name,
                  operationId: op.id,
                  what: op.what,
                  account: set.account,
                  region: set.region,
                  callAs: set.callAs,
                  profile: "ops",
                });
              }
            },
          },
        ),
        /still RUNNING/,
      );
    } finally {
      rewrite.running = false;
      process.env.AWS_ENDPOINT_URL = saved;
    }
    const state = tracker.state;
    assert.equal(state.changed, true);
    const lines = inFlightLines(state, "xeks deploy fleet.yaml", {
      describeWhere,
      watchCommand,
      stillInProgress,
    });
    assert.ok(!lines.includes("nothing was changed."), lines.join("\n"));
    assert.ok(operation);
    assert.ok(
      lines.some((l) =>
        l.includes(
          `aws cloudformation describe-stack-set-operation --stack-set-name ${set.name} --operation-id ${operation} --call-as SELF --region ${REGION} --profile ops`,
        ),
      ),
      lines.join("\n"),
    );
  });

  test("diff says what deploy would do to the StackSet; deploy's summary counts it; destroy names the delete commands", async () => {
    const profiles = ["--cluster-profile", "cluster", "--client-profile", "fleet=ops"];
    const name = `xeks-${CLUSTER_NAME}-client-fleet-identity`;
    const same = await lab.run(["diff", file, ...profiles, "--output", "json"]);
    assert.equal(same.status, 0, same.stderr);
    const sameSets = (JSON.parse(same.stdout) as Doc).stackSets as Doc[];
    assert.deepEqual(
      sameSets.map((p) => [p.name, p.action]),
      [[name, "unchanged"]],
    );
    // The instances not CURRENT (an earlier operation failed): diff says update and why (reads only); deploy retries.
    const motoUrl = lab.env.AWS_ENDPOINT_URL;
    lab.env.AWS_ENDPOINT_URL = proxy
      ? `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      : await startProxy();
    rewrite.outdated = true;
    try {
      await lab.clearRecording();
      const more = await lab.run(["diff", file, ...profiles]);
      assert.match(
        more.stdout,
        new RegExp(`StackSet ${name} .*: update - \\d+ stack instance\\(s\\) not CURRENT retried`),
      );
      assert.deepEqual(
        lab
          .requests()
          .filter((q) => !/^(Describe|List|Get|AssumeRole$)/.test(q.action ?? ""))
          .map((q) => q.action),
        [],
        "diff writes nothing",
      );
      const r = await lab.run(["deploy", file, "--yes", "--no-doctor", ...profiles]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(`phase 1 StackSet updated +${name}`));
      assert.match(`${r.stdout}\n${r.stderr}`, /phase 1 client-identity: 1 done/);
      // The retry's operation fails: the StackSet is named once, and the hint says what a re-run does.
      rewrite.failed = true;
      const failed = await lab.run(["deploy", file, "--yes", "--no-doctor", ...profiles]);
      assert.equal(failed.status, 1, failed.stderr);
      assert.match(
        failed.stderr,
        new RegExp(`deploy failed in phase 1 \\(client-identity\\): StackSet ${name}: `),
      );
      assert.doesNotMatch(failed.stderr, /StackSet [\w-]+: (deploying )?StackSet /);
      assert.match(failed.stderr, /retries its stack instances that are not CURRENT/);
    } finally {
      rewrite.failed = false;
      rewrite.outdated = false;
      lab.env.AWS_ENDPOINT_URL = motoUrl;
    }
    const destroy = await lab.run(["destroy", file, "--yes", ...profiles]);
    assert.equal(destroy.status, 0, `${destroy.stdout}\n${destroy.stderr}`);
    assert.match(
      destroy.stdout,
      new RegExp(
        `StackSet ${name} .*destroy does not delete it[\\s\\S]*aws cloudformation delete-stack-instances --stack-set-name ${name} --deployment-targets OrganizationalUnitIds=${ou} --regions ${REGION} --no-retain-stacks --call-as SELF`,
      ),
    );
    assert.match(
      destroy.stdout,
      new RegExp(`aws cloudformation delete-stack-set --stack-set-name ${name} --call-as SELF`),
    );
  });
});
