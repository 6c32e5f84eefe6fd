/**
 * Adoption end to end at moto (with the project's shim) and the EKS emulator (docs/adopt.md): the original system
 * built by hand, then `plan` -> `deploy --yes` (which runs the doctor's checks) -> a second deploy -> `diff` ->
 * `destroy`, with the real bin/xeks. Role unique ids, the peering id and the entry's createdAt survive; what no
 * topology names is untouched; destroy leaves the adopted pieces. A piece that went away is reported before any
 * change; a half-built system (the network only) gets only what is missing.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeVpcPeeringConnectionsCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { DescribeAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { GetRoleCommand, GetRolePolicyCommand } from "@aws-sdk/client-iam";
import { parse, stringify } from "yaml";
import {
  ACCESS_ROLE_ARN,
  ASSUME_POLICY,
  buildByHand,
  type HandBuilt,
  OTHER_ENTRIES,
  OTHER_ROUTE,
} from "./helpers/hand-built.js";
import {
  ACCESS_ROLE,
  CLIENT_ACCOUNT,
  CLIENT_CIDR,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_CIDR,
  CLUSTER_NAME,
  type Lab,
  PROFILE_FLAGS,
  READ_ONLY,
  REGION,
  startLab,
} from "./helpers/moto-deploy.js";

/** The topology discover writes for the hand-built system (docs/adopt.md keys), with the lab's ids. */
function adoptTopology(lab: Lab, built: HandBuilt, opts: { networkOnly?: boolean; sgr?: string } = {}) {
  const policyDoc = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: ACCESS_ROLE_ARN }],
  };
  return {
    version: 1,
    cluster: {
      name: CLUSTER_NAME,
      account: CLUSTER_ACCOUNT,
      region: REGION,
      authenticationMode: "API_AND_CONFIG_MAP",
      endpointAccess: { private: true, public: false },
      securityGroupId: lab.cluster.securityGroupId,
      vpc: {
        id: lab.cluster.vpcId,
        cidr: CLUSTER_CIDR,
        routeTables: [lab.cluster.routeTableId],
        routes: [{ routeTable: lab.cluster.routeTableId, destination: CLIENT_CIDR, target: built.pcx }],
      },
      ingressRules: [
        { id: opts.sgr ?? built.sgr, protocol: "tcp", fromPort: 443, toPort: 443, cidr: CLIENT_CIDR },
      ],
      ...(opts.networkOnly
        ? {}
        : {
            accessEntries: [
              {
                principalArn: ACCESS_ROLE_ARN,
                type: "STANDARD",
                policies: [{ policy: "AmazonEKSClusterAdminPolicy" }],
              },
            ],
          }),
    },
    clients: [
      {
        name: "ops",
        account: CLIENT_ACCOUNT,
        vpc: {
          id: lab.client.vpcId,
          cidr: CLIENT_CIDR,
          routeTables: [lab.client.routeTableId],
          routes: [{ routeTable: lab.client.routeTableId, destination: CLUSTER_CIDR, target: built.pcx }],
        },
        peering: { id: built.pcx },
        role: opts.networkOnly
          ? CLIENT_ROLE
          : {
              name: CLIENT_ROLE,
              existing: true,
              assumePolicy: ASSUME_POLICY,
              policies: [{ name: ASSUME_POLICY, document: policyDoc }],
            },
      },
    ],
    access: [
      {
        role: ACCESS_ROLE,
        clients: ["ops"],
        policies: ["AmazonEKSClusterAdminPolicy"],
        ...(opts.networkOnly
          ? {}
          : {
              adopt: {
                trustPolicy: {
                  Statement: [
                    {
                      Effect: "Allow",
                      Principal: { AWS: `arn:aws:iam::${CLIENT_ACCOUNT}:root` },
                      Action: "sts:AssumeRole",
                    },
                  ],
                },
              },
            }),
      },
    ],
  };
}

function write(lab: Lab, doc: unknown, name = "xeks.yaml"): string {
  const file = join(lab.dir, name);
  writeFileSync(file, stringify(doc));
  return file;
}

const writes = (lab: Lab) => lab.requests().filter((r) => !READ_ONLY.test(r.action ?? ""));

/** The ids of the peering connections the cluster account sees active. */
async function activePeerings(lab: Lab, account = CLUSTER_ACCOUNT): Promise<(string | undefined)[]> {
  const ec2 = await lab.ec2(account);
  const all = (await ec2.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections ?? [];
  return all.filter((p) => p.Status?.Code === "active").map((p) => p.VpcPeeringConnectionId);
}

describe("adopting the hand-built system", () => {
  let lab: Lab;
  let built: HandBuilt;
  let file: string;
  const ids = { accessRole: "", clientRole: "", entryCreatedAt: 0 };
  let eks: EKSClient;

  const entry = async (principalArn: string) =>
    (await eks.send(new DescribeAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn }))).accessEntry;

  before(async () => {
    lab = await startLab();
    built = await buildByHand(lab);
    eks = new EKSClient({
      region: REGION,
      endpoint: lab.eks.url,
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x" },
    });
    const iamA = await lab.iam(CLUSTER_ACCOUNT);
    const iamB = await lab.iam(CLIENT_ACCOUNT);
    ids.accessRole = (await iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE }))).Role?.RoleId ?? "";
    ids.clientRole = (await iamB.send(new GetRoleCommand({ RoleName: CLIENT_ROLE }))).Role?.RoleId ?? "";
    ids.entryCreatedAt = (await entry(ACCESS_ROLE_ARN))?.createdAt?.getTime() ?? 0;
  });
  after(async () => {
    eks?.destroy();
    await lab?.stop();
  });

  test("a piece that went away since discover is reported before any change", async () => {
    const stale = write(lab, adoptTopology(lab, built, { sgr: "sgr-0123456789abcdef0" }), "stale.yaml");
    await lab.clearRecording();
    const r = await lab.run(["deploy", stale, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot adopt what is no longer there; nothing was changed/);
    assert.match(r.stderr, /443 rule sgr-0123456789abcdef0 .*does not exist/);
    assert.match(r.stderr, /xeks discover again/);
    assert.deepEqual(writes(lab), [], "no write reached the emulator");
  });

  test("a conflict the plan sees (a route to the peer CIDR through something else) stops deploy before any change", async () => {
    const doc = adoptTopology(lab, built);
    const declared = doc.cluster.vpc.routes[0];
    if (declared) declared.target = "tgw-0123456789abcdef0";
    const conflicting = write(lab, doc, "conflict.yaml");
    await lab.clearRecording();
    const r = await lab.run(["deploy", conflicting, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /cannot deploy: the plan shows a conflict that would stop the deploy partway; nothing was changed/,
    );
    assert.match(r.stderr, /network\.route\.cluster-to-client .*RouteAlreadyExists/);
    assert.deepEqual(
      lab.requests().filter((q) => !/^(AssumeRole|GetCallerIdentity)$/.test(q.action ?? "")),
      [],
      "only the credential checks reached the emulator",
    );
  });

  test("a piece that is not the one declared (another rule of the group) is refused before any change", async () => {
    const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
    const ssh =
      (
        await ec2A.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: lab.cluster.securityGroupId,
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "198.51.100.0/24" }] },
            ],
          }),
        )
      ).SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? "";
    const wrong = write(lab, adoptTopology(lab, built, { sgr: ssh }), "wrong.yaml");
    await lab.clearRecording();
    const r = await lab.run(["deploy", wrong, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`security group rule ${ssh} is inbound tcp 22-22 from 198\\.51\\.100\\.0/24`),
    );
    assert.deepEqual(writes(lab), [], "no write reached the emulator");
    await ec2A.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: lab.cluster.securityGroupId,
        SecurityGroupRuleIds: [ssh],
      }),
    );
  });

  test("discover writes the hand-built system; plan shows the adoption and the trust tightening; deploy adopts without recreating anything; doctor passes", async () => {
    file = join(lab.dir, "xeks.yaml");
    const found = await lab.run([
      "discover",
      "--cluster-name",
      CLUSTER_NAME,
      "--region",
      REGION,
      "--client-account",
      `ops=${CLIENT_ACCOUNT}:${CLIENT_ROLE}`,
      "--cluster-profile",
      "cluster",
      "--client-profile",
      "ops=ops",
      "--out",
      file,
    ]);
    assert.equal(found.status, 0, found.stdout + found.stderr);
    const plan = await lab.run(["plan", file]);
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    assert.match(
      plan.stdout,
      /~ trust policy: trusts arn:aws:iam::222222222222:root -> trusts arn:aws:iam::222222222222:role\/EC2-EKS-CrossAccount-Role/,
    );

    // diff, read-only, lists what deploy will import and how it will change it.
    const before = await lab.run(["diff", file, ...PROFILE_FLAGS]);
    assert.equal(before.status, 0, before.stdout + before.stderr);
    assert.match(
      before.stdout,
      /= AccessRole {2}access role EKS-CrossAccount-Access-Role: adopt: imported unchanged/,
    );
    assert.match(before.stdout, /~ trust policy: trusts arn:aws:iam::222222222222:root/);
    const r = await lab.run(["deploy", file, ...PROFILE_FLAGS, "--yes"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /= AccessRole {2}access role EKS-CrossAccount-Access-Role: adopt: imported unchanged/,
    );
    assert.match(r.stdout + r.stderr, /verdict: pass|chain holds/);

    const iamA = await lab.iam(CLUSTER_ACCOUNT);
    const iamB = await lab.iam(CLIENT_ACCOUNT);
    const role = (await iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE }))).Role;
    assert.equal(role?.RoleId, ids.accessRole, "the access role keeps its unique id");
    const trust = JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? "{}"));
    assert.match(
      JSON.stringify(trust),
      /role\/EC2-EKS-CrossAccount-Role/,
      "the trust names the exact client role",
    );
    assert.doesNotMatch(JSON.stringify(trust), /:root/);
    assert.equal(
      (await iamB.send(new GetRoleCommand({ RoleName: CLIENT_ROLE }))).Role?.RoleId,
      ids.clientRole,
      "the client role keeps its unique id",
    );
    assert.ok(
      await iamB.send(new GetRolePolicyCommand({ RoleName: CLIENT_ROLE, PolicyName: ASSUME_POLICY })),
    );
    assert.deepEqual(await activePeerings(lab), [built.pcx], "the same peering, and no second one");
    assert.equal(
      (await entry(ACCESS_ROLE_ARN))?.createdAt?.getTime(),
      ids.entryCreatedAt,
      "same access entry",
    );
    for (const other of OTHER_ENTRIES) assert.ok(await entry(other), `${other} untouched`);
    const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
    const routes =
      (await ec2A.send(new DescribeRouteTablesCommand({ RouteTableIds: [lab.cluster.routeTableId] })))
        .RouteTables?.[0]?.Routes ?? [];
    assert.ok(routes.some((x) => x.DestinationCidrBlock === OTHER_ROUTE && x.GatewayId === built.igw));
    assert.ok(
      routes.some((x) => x.DestinationCidrBlock === CLIENT_CIDR && x.VpcPeeringConnectionId === built.pcx),
    );
    const doctor = await lab.run(["doctor", file, ...PROFILE_FLAGS]);
    assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  });

  test("a second deploy changes nothing, and diff shows no change", async () => {
    await lab.clearRecording();
    const r = await lab.run(["deploy", file, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /No changes/);
    assert.deepEqual(
      writes(lab).map((w) => w.action),
      [],
      "no write",
    );
    const d = await lab.run(["diff", file, ...PROFILE_FLAGS]);
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /nothing to change/);
  });

  test("destroy removes what xeks created and leaves the adopted pieces", async () => {
    const r = await lab.run(["destroy", file, ...PROFILE_FLAGS, "--yes"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const iamA = await lab.iam(CLUSTER_ACCOUNT);
    const iamB = await lab.iam(CLIENT_ACCOUNT);
    assert.equal(
      (await iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE }))).Role?.RoleId,
      ids.accessRole,
    );
    assert.ok(
      await iamB.send(new GetRolePolicyCommand({ RoleName: CLIENT_ROLE, PolicyName: ASSUME_POLICY })),
    );
    assert.deepEqual(await activePeerings(lab), [built.pcx], "the peering stays");
    const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
    const rules =
      (await ec2A.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [built.sgr] })))
        .SecurityGroupRules ?? [];
    assert.equal(rules.length, 1, "the 443 rule stays");
    assert.equal((await entry(ACCESS_ROLE_ARN))?.createdAt?.getTime(), ids.entryCreatedAt);
    assert.deepEqual([...(await lab.stacks(CLUSTER_ACCOUNT)).keys()], []);
    assert.match(r.stdout, /kept \(adopted\): access role EKS-CrossAccount-Access-Role/);
    assert.doesNotMatch(r.stdout, /left behind/);
  });

  test("deploy adopts again after destroy; destroy --including-adopted then removes the adopted pieces", async () => {
    const again = await lab.run(["deploy", file, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const iamA = await lab.iam(CLUSTER_ACCOUNT);
    assert.equal(
      (await iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE }))).Role?.RoleId,
      ids.accessRole,
      "adopted again, not recreated",
    );
    const r = await lab.run(["destroy", file, ...PROFILE_FLAGS, "--yes", "--including-adopted"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /adopted: deleted too \(--including-adopted\)/);
    await assert.rejects(
      iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE })),
      /NoSuchEntity|cannot be found/,
    );
    assert.deepEqual(await activePeerings(lab, CLIENT_ACCOUNT), [], "the adopted peering is deleted");
    const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
    const ec2B = await lab.ec2(CLIENT_ACCOUNT);
    const rulesLeft =
      (
        await ec2A
          .send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [built.sgr] }))
          .catch(() => ({ SecurityGroupRules: [] }))
      ).SecurityGroupRules ?? [];
    assert.deepEqual(rulesLeft, [], "the adopted 443 rule is deleted");
    // The tables discover listed (the subnets' tables): no route through the adopted peering is left in them.
    const doc = parse(readFileSync(file, "utf8")) as {
      cluster: { vpc: { routeTables: string[] } };
      clients: { vpc: { routeTables: string[] } }[];
    };
    const sides: [typeof ec2A, string[]][] = [
      [ec2A, doc.cluster.vpc.routeTables],
      [ec2B, doc.clients[0]?.vpc.routeTables ?? []],
    ];
    for (const [ec2, tables] of sides) {
      const found = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: tables }));
      for (const t of found.RouteTables ?? []) {
        assert.ok(
          !(t.Routes ?? []).some((x) => x.VpcPeeringConnectionId === built.pcx),
          `no route through the deleted peering in ${t.RouteTableId}`,
        );
      }
    }
    const routes =
      (await ec2A.send(new DescribeRouteTablesCommand({ RouteTableIds: [lab.cluster.routeTableId] })))
        .RouteTables?.[0]?.Routes ?? [];
    assert.ok(
      routes.some((x) => x.DestinationCidrBlock === OTHER_ROUTE),
      "the route no topology names stays",
    );
  });
});

describe("a half-built system: the network exists, the roles do not", () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab?.stop();
  });

  test("deploy creates the roles and the entry and adopts the peering, its routes and the rule", async () => {
    const built = await buildByHand(lab, { networkOnly: true, unrelated: false });
    const file = write(lab, adoptTopology(lab, built, { networkOnly: true }));
    const r = await lab.run(["deploy", file, ...PROFILE_FLAGS, "--yes", "--no-doctor"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const iamA = await lab.iam(CLUSTER_ACCOUNT);
    assert.ok(
      (await iamA.send(new GetRoleCommand({ RoleName: ACCESS_ROLE }))).Role?.RoleId,
      "access role created",
    );
    assert.deepEqual(await activePeerings(lab), [built.pcx], "the existing peering, and no other");
  });
});
