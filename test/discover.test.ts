/**
 * `xeks discover` against the emulators (moto_server + the EKS fixture): on the hand-built good setup it writes
 * a topology that validates and on which both `xeks plan` (its chain proof) and `xeks doctor` pass; it never
 * overwrites a file without --force; it makes no write call; it explains what it cannot describe. It marks what
 * exists with the keys of docs/adopt.md (peering, routes through it, the 443 rule, access[].adopt with the role's
 * entry, the client role's assumePolicy), and `xeks plan` of the file adopts them and creates nothing found.
 * Needs `npm run build`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
} from "@aws-sdk/client-ec2";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { parse } from "yaml";
import type { ChainReport } from "../src/chain/types.js";
import { assumePolicyOf, onlyAssumes, peeringOf } from "../src/discover/adopt.js";
import { clientIngressRules, peerRoutes } from "../src/discover/network.js";
import { DOCTOR_ACTIONS } from "../src/model/live/permissions.js";
import type { PeeringFact, RoleFact, RouteTableFact } from "../src/model/types.js";
import type { EksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import {
  ACCESS_ROLE,
  accessTrust,
  assumePolicy,
  buildSetup,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  clientAccount,
  REGION,
  type Setup,
  type SetupOptions,
} from "./helpers/live-setup.js";
import type { Moto } from "./helpers/moto-server.js";

const CLIENT_ACCOUNT = "222222222222";
const PROFILES = ["--cluster-profile", "cluster", "--client-profile", "ops=ops"];

let moto: Moto;
let eks: EksFixture;
const live = useEmulators<Setup>((m, e) => {
  moto = m;
  eks = e;
});

async function fresh(options?: SetupOptions) {
  live.cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  const setup = await buildSetup(moto, eks, options);
  const home = await makeAwsHome(moto, eks, {
    cluster: CLUSTER_ACCOUNT,
    ops: CLIENT_ACCOUNT,
    team: clientAccount(1),
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
    // Every piece found is marked as existing (docs/adopt.md): the peering, the routes through it on both sides,
    // the 443 rule, the access role (adopt) with its entry, the client role's AssumeRole policy.
    const pcx = setup.clients[0]?.peeringId;
    assert.match(pcx ?? "", /^pcx-/);
    assert.deepEqual(
      [...doc.cluster.vpc.routes].sort((a: Doc, b: Doc) => a.routeTable.localeCompare(b.routeTable)),
      [setup.cluster.routeTableId, setup.cluster.mainRouteTableId].sort().map((routeTable) => ({
        routeTable,
        destination: "172.31.0.0/16",
        target: pcx,
      })),
      "the cluster's routes through the peering are declared, to be adopted",
    );
    assert.equal(doc.cluster.ingressRules.length, 1);
    const rule = doc.cluster.ingressRules[0];
    assert.match(rule.id, /^sgr-[0-9a-f]{17}$/);
    assert.deepEqual(
      { ...rule, id: "sgr" },
      {
        id: "sgr",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidr: "172.31.0.0/16",
        description: "kubectl from ops",
      },
    );
    assert.deepEqual(doc.cluster.accessEntries, [
      {
        principalArn: setup.accessRoleArn,
        type: "STANDARD",
        policies: [{ policy: "AmazonEKSClusterAdminPolicy" }],
      },
    ]);
    const client = doc.clients[0];
    assert.deepEqual(client.peering, { id: pcx });
    assert.deepEqual(client.vpc.routes, [
      { routeTable: setup.clients[0]?.routeTableId, destination: "10.0.0.0/16", target: pcx },
    ]);
    assert.equal(client.name, "ops");
    assert.equal(client.vpc.id, setup.clients[0]?.vpcId, "the client VPC comes from the peering");
    assert.equal(client.vpc.cidr, "172.31.0.0/16");
    assert.deepEqual(client.vpc.routeTables, [setup.clients[0]?.routeTableId]);
    assert.equal(client.role.name, CLIENT_ROLE, "the client role comes from the access role's trust");
    assert.equal(client.role.existing, true);
    assert.equal(client.role.assumePolicy, "AssumeEksAccessRole");
    assert.deepEqual(client.role.policies, [
      {
        name: "AssumeEksAccessRole",
        document: JSON.parse(assumePolicy(setup.accessRoleArn)),
      },
    ]);
    assert.deepEqual(doc.access, [
      {
        role: ACCESS_ROLE,
        clients: ["ops"],
        policies: ["AmazonEKSClusterAdminPolicy"],
        adopt: {
          trustPolicy: JSON.parse(accessTrust([setup.clients[0]?.roleArn as string])),
          policies: [
            {
              name: "DescribeCluster",
              document: {
                Version: "2012-10-17",
                Statement: [
                  { Effect: "Allow", Action: ["eks:DescribeCluster", "eks:ListClusters"], Resource: "*" },
                ],
              },
            },
          ],
        },
      },
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
    // The access role's own entry (adopted with the role: no default username), then the other one (declared).
    assert.deepEqual(doc.cluster.accessEntries, [
      {
        principalArn: setup.accessRoleArn,
        type: "STANDARD",
        policies: [
          { policy: "AmazonEKSClusterAdminPolicy" },
          { policy: "AmazonEKSEditPolicy", namespaces: ["payments", "team-*"] },
        ],
      },
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

describe("discover marks what exists, so that deploy adopts it (docs/adopt.md)", () => {
  test("the hand-built setup with a root trust: plan exits 0 with adopt actions and the trust tightening", async () => {
    const { setup, home, out } = await fresh({ instance: false });
    const ec2 = setup.ec2(CLUSTER_ACCOUNT);
    const ops = setup.clients[0] as Setup["clients"][number];
    // As the original notes did: the access role trusts the whole client account.
    const rootTrust = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${CLIENT_ACCOUNT}:root` },
          Action: "sts:AssumeRole",
        },
      ],
    };
    await setup.iam(CLUSTER_ACCOUNT).send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: ACCESS_ROLE,
        PolicyDocument: JSON.stringify(rootTrust),
      }),
    );
    // More rules on the cluster group: SSH from the client VPC and all traffic from a block covering it are
    // declared facts; a rule from an unrelated block is not written.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: setup.cluster.securityGroupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: ops.cidr }] },
          { IpProtocol: "-1", IpRanges: [{ CidrIp: "172.16.0.0/12" }] },
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "192.168.0.0/16" }] },
        ],
      }),
    );
    // An unrelated peering and route in the cluster's table: not a peer CIDR, not written.
    const vpcC = (await ec2.send(new CreateVpcCommand({ CidrBlock: "192.168.0.0/16" }))).Vpc?.VpcId as string;
    const pcxC = (
      await ec2.send(new CreateVpcPeeringConnectionCommand({ VpcId: setup.cluster.vpcId, PeerVpcId: vpcC }))
    ).VpcPeeringConnection?.VpcPeeringConnectionId as string;
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: setup.cluster.routeTableId,
        DestinationCidrBlock: "192.168.0.0/16",
        VpcPeeringConnectionId: pcxC,
      }),
    );

    const r = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}:${CLIENT_ROLE}`,
      ...PROFILES,
      "--out",
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc: Doc = parse(readFileSync(out, "utf8"));
    const client = doc.clients[0];
    assert.deepEqual(client.peering, { id: ops.peeringId });
    const routes = (rs: Doc[]) => rs.map((x) => `${x.routeTable} ${x.destination} ${x.target}`).sort();
    assert.deepEqual(
      routes(doc.cluster.vpc.routes),
      [setup.cluster.routeTableId, setup.cluster.mainRouteTableId]
        .map((t) => `${t} ${ops.cidr} ${ops.peeringId}`)
        .sort(),
      "the cluster side's routes through the peering; the unrelated route is not written",
    );
    assert.deepEqual(routes(client.vpc.routes), [`${ops.routeTableId} 10.0.0.0/16 ${ops.peeringId}`]);
    const rules = doc.cluster.ingressRules as Doc[];
    assert.deepEqual(rules.map((x) => `${x.protocol} ${x.fromPort}-${x.toPort} ${x.cidr}`).sort(), [
      "-1 -1--1 172.16.0.0/12",
      "tcp 22-22 172.31.0.0/16",
      "tcp 443-443 172.31.0.0/16",
    ]);
    for (const x of rules) assert.match(x.id, /^sgr-[0-9a-f]{17}$/);
    const rule443 = rules.find((x) => x.fromPort === 443) as Doc;
    assert.equal(client.role.assumePolicy, "AssumeEksAccessRole");
    assert.ok(client.role.policies.some((p: Doc) => p.name === "AssumeEksAccessRole"));
    assert.deepEqual(doc.access[0].adopt.trustPolicy, rootTrust, "the trust policy as found");
    assert.deepEqual(
      doc.cluster.accessEntries.map((e: Doc) => e.principalArn),
      [setup.accessRoleArn],
      "the access role's own entry is declared with it",
    );

    const plan = await xeksAsync(["plan", out, "--out", join(home.dir, "xeks.out")], { env: home.env });
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    // The phases show each adopted resource with "~ adopt"; the table names each piece found.
    assert.equal(plan.stdout.match(/^ +~ adopt /gm)?.length, 8, plan.stdout);
    assert.match(
      plan.stdout,
      /Existing pieces \(docs\/adopt\.md\): 8 adopted, 1 left as they are, 0 created/,
    );
    for (const piece of [
      `access role ${ACCESS_ROLE}`,
      `access entry of ${ACCESS_ROLE}`,
      `peering connection ${ops.peeringId} (client ops)`,
      `inline policy AssumeEksAccessRole of client role ${CLIENT_ROLE}`,
      `443 rule ${rule443.id} from ${ops.cidr}`,
      `route ${ops.cidr} -> ${ops.peeringId} in ${setup.cluster.routeTableId}`,
      `route ${ops.cidr} -> ${ops.peeringId} in ${setup.cluster.mainRouteTableId}`,
      `route 10.0.0.0/16 -> ${ops.peeringId} in ${ops.routeTableId}`,
    ]) {
      assert.ok(plan.stdout.includes(`adopt  ${piece} (stack `), `adopt ${piece}\n${plan.stdout}`);
    }
    assert.match(
      plan.stdout,
      new RegExp(
        `~ trust policy: trusts arn:aws:iam::${CLIENT_ACCOUNT}:root -> trusts arn:aws:iam::${CLIENT_ACCOUNT}:role/${CLIENT_ROLE}`,
      ),
    );
    assert.match(plan.stdout, /verdict: pass/);
  });
});

describe("discover marks what exists for every client", () => {
  test("two clients: each its peering, routes and 443 rule; plan adopts them all and creates nothing", async () => {
    const { setup, home, out } = await fresh({ clients: 2, instance: false });
    const r = await discover(home, [
      "--client-account",
      `ops=${CLIENT_ACCOUNT}`,
      "--client-account",
      `team-01=${setup.clients[1]?.account}`,
      "--cluster-profile",
      "cluster",
      "--client-profile",
      "ops=ops",
      "--client-profile",
      "team-01=team",
      "--out",
      out,
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc: Doc = parse(readFileSync(out, "utf8"));
    for (const [i, c] of setup.clients.entries()) {
      const written = doc.clients[i];
      assert.deepEqual(written.peering, { id: c.peeringId });
      assert.equal(written.role.assumePolicy, "AssumeEksAccessRole");
      assert.deepEqual(
        doc.cluster.vpc.routes.filter((x: Doc) => x.destination === c.cidr).map((x: Doc) => x.target),
        [c.peeringId, c.peeringId],
      );
      assert.ok(doc.cluster.ingressRules.some((x: Doc) => x.cidr === c.cidr && x.fromPort === 443));
    }
    const plan = await xeksAsync(["plan", out, "--out", join(home.dir, "xeks.out")], { env: home.env });
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    assert.match(
      plan.stdout,
      /Existing pieces \(docs\/adopt\.md\): 14 adopted, 2 left as they are, 0 created/,
    );
  });
});

describe("discover's adoption rules, pure", () => {
  const ACCESS_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ACCESS_ROLE}`;
  const allow = (Action: string | string[], Resource: string | string[]) => ({
    Version: "2012-10-17" as const,
    Statement: [{ Effect: "Allow" as const, Action, Resource }],
  });

  test("a peering the cluster side requested is left (adopt: false), with a note", () => {
    const side = (vpcId: string, account: string) => ({ vpcId, account, region: REGION });
    const p = (requester: string): PeeringFact => ({
      id: "pcx-0123456789abcdef0",
      requester: requester === "client" ? side("vpc-c", CLIENT_ACCOUNT) : side("vpc-k", CLUSTER_ACCOUNT),
      accepter: requester === "client" ? side("vpc-k", CLUSTER_ACCOUNT) : side("vpc-c", CLIENT_ACCOUNT),
      status: "active",
      source: "live",
    });
    const notes: string[] = [];
    assert.deepEqual(peeringOf(p("client"), "vpc-c", "ops", notes), {
      id: "pcx-0123456789abcdef0",
      adopt: true,
    });
    assert.deepEqual(notes, []);
    assert.deepEqual(peeringOf(p("cluster"), "vpc-c", "ops", notes), {
      id: "pcx-0123456789abcdef0",
      adopt: false,
    });
    assert.match(notes[0] ?? "", /requested from the cluster VPC.*adopt: false/);
  });

  test("only a policy that grants sts:AssumeRole on the access roles and nothing else is adopted", async () => {
    assert.equal(onlyAssumes(allow("sts:AssumeRole", ACCESS_ARN), [ACCESS_ARN]), true);
    assert.equal(onlyAssumes(allow(["STS:AssumeRole"], [ACCESS_ARN]), [ACCESS_ARN]), true);
    assert.equal(onlyAssumes(allow("sts:AssumeRole", "*"), [ACCESS_ARN]), false, "would narrow a wildcard");
    assert.equal(onlyAssumes(allow(["sts:AssumeRole", "s3:GetObject"], ACCESS_ARN), [ACCESS_ARN]), false);
    const role = (policies: [string, ReturnType<typeof allow>][]): RoleFact => ({
      arn: `arn:aws:iam::${CLIENT_ACCOUNT}:role/${CLIENT_ROLE}`,
      account: CLIENT_ACCOUNT,
      name: CLIENT_ROLE,
      path: "/",
      trustPolicy: allow("sts:AssumeRole", "*"),
      policies: policies.map(([name, document]) => ({ name: `inline ${name}`, document, source: "live" })),
      instanceProfiles: [CLIENT_ROLE],
      source: "live",
    });
    const pick = async (r: RoleFact) => {
      const notes: string[] = [];
      const name = await assumePolicyOf(r, [ACCESS_ARN], CLUSTER_ACCOUNT, "aws", "ops", notes);
      return { name, notes };
    };
    assert.deepEqual(
      await pick(
        role([
          ["Logs", allow("logs:PutLogEvents", "*")],
          ["Assume", allow("sts:AssumeRole", ACCESS_ARN)],
        ]),
      ),
      { name: "Assume", notes: [] },
    );
    const wide = await pick(role([["AssumeAnything", allow("sts:AssumeRole", "*")]]));
    assert.equal(wide.name, undefined);
    assert.match(wide.notes[0] ?? "", /AssumeAnything .* grants more: it is not adopted/);
    assert.deepEqual(await pick(role([["Logs", allow("logs:PutLogEvents", "*")]])), {
      name: undefined,
      notes: [],
    });
  });

  test("routes to a peer CIDR, through the peering or not, are declared; inbound rules from a client CIDR too", () => {
    const table: RouteTableFact = {
      id: "rtb-0aaa1111bbbb2222c",
      vpcId: "vpc-k",
      account: CLUSTER_ACCOUNT,
      routes: [
        { destination: "10.0.0.0/16", target: "local", state: "active", source: "live" },
        { destination: "172.31.0.0/16", target: "pcx-0123456789abcdef0", state: "active", source: "live" },
        { destination: "172.31.5.0/24", target: "tgw-0123456789abcdef0", state: "active", source: "live" },
        { destination: "192.168.0.0/16", target: "pcx-0fedcba9876543210", state: "active", source: "live" },
      ],
    };
    const notes: string[] = [];
    assert.deepEqual(
      peerRoutes([table], [table.id], ["172.31.0.0/16"], notes).map((r) => `${r.destination} ${r.target}`),
      ["172.31.0.0/16 pcx-0123456789abcdef0", "172.31.5.0/24 tgw-0123456789abcdef0"],
    );
    const rule = (id: string, protocol: string, port: number, cidr: string) => ({
      groupId: "sg-0123456789abcdef0",
      id,
      protocol,
      fromPort: port,
      toPort: port,
      cidr,
      source: "live" as const,
    });
    const rules = clientIngressRules(
      [
        rule("sgr-0123456789abcdef0", "tcp", 443, "172.31.0.0/16"),
        rule("sgr-0123456789abcdef1", "-1", -1, "172.16.0.0/12"),
        rule("sgr-0123456789abcdef2", "tcp", 443, "172.31.1.0/24"),
        rule("sgr-0123456789abcdef3", "tcp", 443, "192.168.0.0/16"),
      ],
      ["172.31.0.0/16"],
      notes,
    );
    assert.deepEqual(
      rules.map((r) => r.id),
      ["sgr-0123456789abcdef0", "sgr-0123456789abcdef1"],
      "the rule's CIDR is the client's or covers it",
    );
    assert.deepEqual(notes, []);
  });
});
