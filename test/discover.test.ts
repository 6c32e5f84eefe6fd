/**
 * `xeks discover` against the emulators (moto_server + the EKS fixture): on the hand-built good setup it writes
 * a topology that validates and on which both `xeks plan` (its chain proof) and `xeks doctor` pass; it never
 * overwrites a file without --force; it makes no write call; it explains what it cannot describe.
 * Needs `npm run build`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { parse } from "yaml";
import type { ChainReport } from "../src/chain/types.js";
import { DOCTOR_ACTIONS } from "../src/model/live/permissions.js";
import { type EksFixture, startEksFixture } from "./helpers/eks-fixture.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import {
  ACCESS_ROLE,
  buildSetup,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  REGION,
  type Setup,
  type SetupOptions,
} from "./helpers/live-setup.js";
import { type Moto, startMoto } from "./helpers/moto-server.js";

const CLIENT_ACCOUNT = "222222222222";
const PROFILES = ["--cluster-profile", "cluster", "--client-profile", "ops=ops"];

let moto: Moto;
let eks: EksFixture;
const live: { setup?: Setup; home?: AwsHome } = {};

before(async () => {
  moto = await startMoto();
  eks = await startEksFixture();
});

after(async () => {
  cleanup();
  await eks?.stop();
  await moto?.stop();
});

function cleanup(): void {
  live.setup?.destroy();
  live.home?.cleanup();
  live.setup = undefined;
  live.home = undefined;
}

async function fresh(options?: SetupOptions) {
  cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  const setup = await buildSetup(moto, eks, options);
  const home = await makeAwsHome(moto, eks, {
    cluster: CLUSTER_ACCOUNT,
    ops: CLIENT_ACCOUNT,
    other: "333333333333",
  });
  live.setup = setup;
  live.home = home;
  moto.clearCalls();
  eks.clearCalls();
  return { setup, home, out: join(home.dir, "discovered.yaml") };
}

function discover(home: AwsHome, args: string[]) {
  return xeksAsync(["discover", "--cluster-name", CLUSTER_NAME, "--region", REGION, ...args], {
    env: home.env,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is checked by the assertions
type Doc = Record<string, any>;

/** `xeks plan FILE -o json`: its chain proof on the planned state. */
async function planProof(file: string, home: AwsHome): Promise<ChainReport & { status: number | null }> {
  const r = await xeksAsync(["plan", file, "--out", join(home.dir, "xeks.out"), "-o", "json"], {
    env: home.env,
  });
  assert.equal(r.stderr, "", "plan writes nothing on stderr");
  return { ...(JSON.parse(r.stdout) as ChainReport), status: r.status };
}

describe("discover on the good setup", () => {
  test("writes a valid topology; doctor and the plan proof both pass on it", async () => {
    const { setup, home, out } = await fresh();
    const r = await discover(home, ["--client-account", `ops=${CLIENT_ACCOUNT}`, ...PROFILES, "--out", out]);
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /Wrote .*discovered\.yaml/);
    const doc: Doc = parse(readFileSync(out, "utf8"));
    assert.equal(doc.cluster.account, CLUSTER_ACCOUNT);
    assert.equal(doc.cluster.authenticationMode, "API_AND_CONFIG_MAP");
    assert.deepEqual(doc.cluster.endpointAccess, { private: true, public: false });
    assert.equal(doc.cluster.securityGroupId, setup.cluster.securityGroupId);
    assert.equal(doc.cluster.vpc.id, setup.cluster.vpcId);
    assert.equal(doc.cluster.vpc.cidr, "10.0.0.0/16");
    // One subnet has its own table, the other uses the main table implicitly: both are listed.
    assert.deepEqual(
      [...doc.cluster.vpc.routeTables].sort(),
      [setup.cluster.routeTableId, setup.cluster.mainRouteTableId].sort(),
    );
    assert.equal(doc.cluster.vpc.routes, undefined, "routes through the peering are not declared");
    const client = doc.clients[0];
    assert.equal(client.name, "ops");
    assert.equal(client.vpc.id, setup.clients[0]?.vpcId, "the client VPC comes from the peering");
    assert.equal(client.vpc.cidr, "172.31.0.0/16");
    assert.deepEqual(client.vpc.routeTables, [setup.clients[0]?.routeTableId]);
    assert.equal(client.role.name, CLIENT_ROLE, "the client role comes from the access role's trust");
    assert.equal(client.role.existing, true);
    assert.ok(client.role.policies.some((p: Doc) => JSON.stringify(p.document).includes("sts:AssumeRole")));
    assert.deepEqual(doc.access, [
      { role: ACCESS_ROLE, clients: ["ops"], policies: ["AmazonEKSClusterAdminPolicy"] },
    ]);

    const doctor = await xeksAsync(["doctor", out, "-o", "json", ...PROFILES], { env: home.env });
    assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
    assert.equal((JSON.parse(doctor.stdout) as ChainReport).verdict, "pass");

    const plan = await planProof(out, home);
    const notPassing = plan.links.filter((l) => l.status !== "pass" && l.status !== "warn");
    assert.deepEqual(notPassing, [], "the plan proof passes");
    assert.equal(plan.verdict, "pass");
    assert.equal(plan.status, 0);
  });

  test("naming the role and the access role writes the same file", async () => {
    const { home, out } = await fresh();
    const a = await discover(home, ["--client-account", `ops=${CLIENT_ACCOUNT}`, ...PROFILES, "--out", out]);
    assert.equal(a.status, 0, a.stderr);
    const b = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}:${CLIENT_ROLE}`,
      "--role-arn",
      `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ACCESS_ROLE}`,
      ...PROFILES,
      "--out",
      "-",
    ]);
    assert.equal(b.status, 0, b.stderr);
    const body = (text: string) => text.replace(/^#.*\n/gm, "");
    assert.equal(body(b.stdout), body(readFileSync(out, "utf8")));
    assert.match(b.stderr, /access role EKS-CrossAccount-Access-Role/);
    // -o json: one document on stdout (docs/cli.md), the topology text in it with --out -.
    const json = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}`,
      "--role-arn",
      ACCESS_ROLE,
      ...PROFILES,
      "--out",
      "-",
      "-o",
      "json",
    ]);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.kind, "DiscoverResult");
    assert.equal(doc.file, null);
    assert.equal(doc.cluster.account, CLUSTER_ACCOUNT);
    assert.deepEqual(doc.accessRoles, [ACCESS_ROLE]);
    assert.equal(body(doc.topology), body(b.stdout));
    // An access role ARN of another account is not an access role of the cluster.
    const elsewhere = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}`,
      "--role-arn",
      `arn:aws:iam::${CLIENT_ACCOUNT}:role/${ACCESS_ROLE}`,
      ...PROFILES,
      "--out",
      "-",
    ]);
    assert.equal(elsewhere.status, 2);
    assert.match(
      elsewhere.stderr,
      /--role-arn names role .* in account 222222222222, not the cluster's account/,
    );
  });

  test("never overwrites without --force, and refuses before reading anything", async () => {
    const { home, out } = await fresh();
    writeFileSync(out, "# mine\n");
    const r = await discover(home, ["--client-account", `ops=${CLIENT_ACCOUNT}`, ...PROFILES, "--out", out]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /exists/);
    assert.match(r.stderr, /--force/);
    assert.equal(readFileSync(out, "utf8"), "# mine\n");
    assert.equal(moto.calls.length, 0);
    assert.equal(eks.calls.length, 0);
    const forced = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}`,
      ...PROFILES,
      "--out",
      out,
      "--force",
    ]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(out, "utf8"), /^# Written by xeks discover/);
  });

  test("makes no write call", async () => {
    const { home, out } = await fresh();
    await moto.clearRecording();
    const r = await discover(home, ["--client-account", `ops=${CLIENT_ACCOUNT}`, ...PROFILES, "--out", out]);
    assert.equal(r.status, 0, r.stderr);
    const recorded = moto.recording();
    assert.ok(recorded.length > 5);
    for (const c of recorded) assert.match(c.action, /^(Describe|Get|List)[A-Z]/, `${c.service}:${c.action}`);
    for (const c of eks.calls) assert.equal(c.method, "GET", c.operation);
    const allowed = new Set<string>(Object.values(DOCTOR_ACTIONS).flat());
    for (const a of [
      ...recorded.map((c) => `${c.service}:${c.action}`),
      ...eks.calls.map((c) => `eks:${c.operation}`),
    ]) {
      if (a !== "sts:GetCallerIdentity") assert.ok(allowed.has(a), `${a} is in DOCTOR_POLICY`);
    }
  });
});

describe("discover describes what it finds", () => {
  test("namespace scopes, groups, the external id, and the cluster's other entries", async () => {
    const { setup, home, out } = await fresh();
    const trust = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: setup.clients[0]?.roleArn },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": "ops-7f3c2a" } },
        },
      ],
    };
    await setup
      .iam(CLUSTER_ACCOUNT)
      .send(
        new UpdateAssumeRolePolicyCommand({ RoleName: ACCESS_ROLE, PolicyDocument: JSON.stringify(trust) }),
      );
    await setup.eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: CLUSTER_NAME,
        principalArn: setup.accessRoleArn,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
        accessScope: { type: "namespace", namespaces: ["payments", "team-*"] },
      }),
    );
    // Another role of the cluster account with an entry, trusting nobody from the clients: declared only.
    await setup.iam(CLUSTER_ACCOUNT).send(
      new CreateRoleCommand({
        RoleName: "platform-admins",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${CLUSTER_ACCOUNT}:root` },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      }),
    );
    const admins = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/platform-admins`;
    await setup.eks.send(
      new CreateAccessEntryCommand({
        clusterName: CLUSTER_NAME,
        principalArn: admins,
        kubernetesGroups: ["platform"],
      }),
    );
    await setup.eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: CLUSTER_NAME,
        principalArn: admins,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy",
        accessScope: { type: "cluster" },
      }),
    );
    const r = await discover(home, ["--client-account", `ops=${CLIENT_ACCOUNT}`, ...PROFILES, "--out", out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc: Doc = parse(readFileSync(out, "utf8"));
    assert.equal(doc.access.length, 1);
    assert.equal(doc.access[0].role, ACCESS_ROLE);
    assert.equal(doc.access[0].externalId, "ops-7f3c2a");
    assert.deepEqual(doc.access[0].policies, [
      "AmazonEKSClusterAdminPolicy",
      { policy: "AmazonEKSEditPolicy", namespaces: ["payments", "team-*"] },
    ]);
    assert.deepEqual(doc.cluster.accessEntries, [
      {
        principalArn: admins,
        type: "STANDARD",
        username: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/platform-admins/{{SessionName}}`,
        kubernetesGroups: ["platform"],
        policies: [{ policy: "AmazonEKSAdminViewPolicy" }],
      },
    ]);
    const doctor = await xeksAsync(["doctor", out, "-o", "json", ...PROFILES], { env: home.env });
    assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
    const plan = await planProof(out, home);
    assert.equal(plan.verdict, "pass", JSON.stringify(plan.links.filter((l) => l.status !== "pass")));
    assert.equal(plan.status, 0);
  });

  test("a client account with no peering to the cluster VPC: exit 1, says what is missing", async () => {
    const { home, out } = await fresh();
    const r = await discover(home, [
      "--client-account",
      "other=333333333333:Some-Role",
      "--client-profile",
      "other=other",
      "--cluster-profile",
      "cluster",
      "--out",
      out,
    ]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no peering connection joins the cluster VPC .* account 333333333333/);
    assert.ok(!existsSync(out));
  });

  test("bad input: a malformed --client-account, a profile for another account, no client", async () => {
    const { home, out } = await fresh();
    const bad = await discover(home, ["--client-account", "ops=2222", ...PROFILES, "--out", out]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /NAME=ACCOUNT\[:ROLE\]/);
    const wrong = await discover(home, ["--client-account", "ops=444444444444", ...PROFILES, "--out", out]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /account 222222222222/);
    const none = await discover(home, [...PROFILES, "--out", out]);
    assert.equal(none.status, 2);
    assert.ok(!existsSync(out));
  });
});
