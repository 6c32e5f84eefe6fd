/**
 * `xeks audit` against emulators: moto_server (IAM, STS, EC2 in two accounts, behind the recording proxy of
 * test/helpers/moto-server.ts) and the EKS emulator (test/helpers/eks-fixture.ts). The clean setup of
 * test/helpers/live-setup.ts yields no finding and exits 0; a planted estate (the clean setup plus one of each
 * problem, made with ordinary SDK calls) yields each problem's finding id naming the right resource and nothing
 * for the clean parts; the SARIF validates against the SARIF 2.1.0 JSON schema (test/fixtures/
 * sarif-schema-2.1.0.json, vendored from the npm package @microsoft/jest-sarif 1.0.0-beta.0, MIT:
 * lib/schemas/sarif-2.1.0-rtm.5.json, the OASIS SARIF 2.1.0 schema, only reformatted by biome); no write call reaches moto or the emulator;
 * a principal in an account without credentials, or whose read is denied, is `unknown` and exits 1 at
 * `--fail-on warning`; `--assume-role-name` reads the principal's account through the role it assumes there.
 * Needs `npm run build` (runs bin/xeks).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeSecurityGroupRulesCommand,
} from "@aws-sdk/client-ec2";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand, DeleteRoleCommand } from "@aws-sdk/client-iam";
import { Ajv } from "ajv";
import { danglingPrincipals, excessAccess, runChecks } from "../src/audit/checks.js";
import type { AuditEstate } from "../src/audit/estate.js";
import {
  type AuditReport,
  auditExitCode,
  FINDING_IDS,
  type Finding,
  failedAuditReport,
  finding,
  RULES,
  unknownFinding,
} from "../src/audit/findings.js";
import { renderAuditSarif, renderAuditText, sarifArtifactLocation } from "../src/audit/render.js";
import { ROOT } from "./helpers/cli.js";
import type { EksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import {
  ADMIN_POLICY,
  accessTrust,
  buildSetup,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  type Setup,
} from "./helpers/live-setup.js";
import type { Moto } from "./helpers/moto-server.js";

const CLIENT_ACCOUNT = "222222222222";
const VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const DANGLING_ID = "AROAZZZZZZZZZZZZZZZZZ";

let moto: Moto;
let eks: EksFixture;
const live = useEmulators<Setup>((m, e) => {
  moto = m;
  eks = e;
});

/** Empty emulators, the clean setup, an AWS home with profiles `cluster` and `ops` (ambient: the cluster). */
async function fresh(topology?: (t: string) => string) {
  live.cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  const setup = await buildSetup(moto, eks);
  const home = await makeAwsHome(
    moto,
    eks,
    { cluster: CLUSTER_ACCOUNT, ops: CLIENT_ACCOUNT },
    { ambient: CLUSTER_ACCOUNT },
  );
  live.setup = setup;
  live.home = home;
  const file = join(home.dir, "xeks.yaml");
  writeFileSync(file, topology ? topology(setup.topology) : setup.topology);
  moto.clearCalls();
  eks.clearCalls();
  return { setup, home, file };
}

async function audit(home: AwsHome, args: string[]) {
  const r = await xeksAsync(["audit", ...args], { env: home.env });
  let report: AuditReport | undefined;
  if (args.includes("json")) {
    try {
      report = JSON.parse(r.stdout) as AuditReport;
    } catch {
      // asserted by the caller
    }
  }
  return { ...r, report };
}

const role = (name: string, account = CLUSTER_ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const TRUST_EC2 = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

interface Planted {
  /** finding id -> the resource id it must name. */
  expected: [string, string][];
}

/** The clean setup plus one of each problem, with SDK calls as a person would make them. */
async function plant(s: Setup): Promise<Planted> {
  const iam = s.iam(CLUSTER_ACCOUNT);
  const ec2 = s.ec2(CLUSTER_ACCOUNT);
  const entry = async (principalArn: string, policies: [string, string[] | undefined][] = []) => {
    await s.eks.send(
      new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn, type: "STANDARD" }),
    );
    for (const [policyArn, namespaces] of policies) {
      await s.eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: CLUSTER_NAME,
          principalArn,
          policyArn,
          accessScope: namespaces ? { type: "namespace", namespaces } : { type: "cluster" },
        }),
      );
    }
  };
  // entry.principal-missing: an entry whose role was deleted.
  await iam.send(new CreateRoleCommand({ RoleName: "gone-deployer", AssumeRolePolicyDocument: TRUST_EC2 }));
  await entry(role("gone-deployer"), [[VIEW_POLICY, undefined]]);
  await iam.send(new DeleteRoleCommand({ RoleName: "gone-deployer" }));
  // entry.principal-recreated: the role deleted and created again after its entry.
  await iam.send(new CreateRoleCommand({ RoleName: "recreated-admin", AssumeRolePolicyDocument: TRUST_EC2 }));
  await entry(role("recreated-admin"), [[ADMIN_POLICY, undefined]]);
  await iam.send(new DeleteRoleCommand({ RoleName: "recreated-admin" }));
  await new Promise((r) => setTimeout(r, 1100));
  await iam.send(new CreateRoleCommand({ RoleName: "recreated-admin", AssumeRolePolicyDocument: TRUST_EC2 }));
  // entry.undeclared: a live role's entry that the topology does not declare.
  await iam.send(new CreateRoleCommand({ RoleName: "ci-viewer", AssumeRolePolicyDocument: TRUST_EC2 }));
  await entry(role("ci-viewer"), [[VIEW_POLICY, undefined]]);
  // entry.wider-than-declared: declared as view in namespace team-a; live it also has edit, and view at cluster scope.
  await iam.send(new CreateRoleCommand({ RoleName: "team-view", AssumeRolePolicyDocument: TRUST_EC2 }));
  await entry(role("team-view"), [
    [VIEW_POLICY, undefined],
    [EDIT_POLICY, ["team-a"]],
  ]);
  // trust.dangling-principal: a declared entry's role whose trust names a deleted role by its unique id.
  await iam.send(
    new CreateRoleCommand({
      RoleName: "legacy-deployer",
      AssumeRolePolicyDocument: accessTrust([DANGLING_ID, s.clients[0]?.roleArn as string]),
    }),
  );
  await entry(role("legacy-deployer"));
  // route.blackhole: a route of the cluster subnet's table through a peering that was deleted since.
  const vpc = async (cidr: string) =>
    (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc?.VpcId as string;
  const peer = async (peerVpc: string) => {
    const id = (
      await ec2.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: s.cluster.vpcId,
          PeerVpcId: peerVpc,
          PeerOwnerId: CLUSTER_ACCOUNT,
        }),
      )
    ).VpcPeeringConnection?.VpcPeeringConnectionId as string;
    await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    return id;
  };
  const gone = await peer(await vpc("10.77.0.0/16"));
  await ec2.send(
    new CreateRouteCommand({
      RouteTableId: s.cluster.routeTableId,
      DestinationCidrBlock: "10.77.0.0/16",
      VpcPeeringConnectionId: gone,
    }),
  );
  await ec2.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: gone }));
  // peering.unused: an active peering of the cluster VPC, no route to it.
  const unused = await peer(await vpc("10.88.0.0/16"));
  // sg.orphan-cidr: a 443 rule for a network nobody peers with.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: s.cluster.securityGroupId,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          // A bidi override from AWS: text output shows it as \u{202e}, never as it is.
          IpRanges: [{ CidrIp: "192.168.50.0/24", Description: "kubectl from the old office\u202e" }],
        },
      ],
    }),
  );
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({
      Filters: [{ Name: "group-id", Values: [s.cluster.securityGroupId] }],
    }),
  );
  const orphan = rules.SecurityGroupRules?.find((r) => r.CidrIpv4 === "192.168.50.0/24")?.SecurityGroupRuleId;
  assert.ok(orphan, "moto gave the rule an id");
  return {
    expected: [
      ["entry.principal-missing", role("gone-deployer")],
      ["entry.principal-recreated", role("recreated-admin")],
      ["entry.undeclared", role("ci-viewer")],
      ["entry.wider-than-declared", role("team-view")],
      ["trust.dangling-principal", role("legacy-deployer")],
      ["route.blackhole", s.cluster.routeTableId],
      ["peering.unused", unused],
      ["sg.orphan-cidr", orphan],
    ],
  };
}

/** The topology of the clean setup, declaring the entries of team-view (view in team-a) and legacy-deployer. */
function declareEntries(t: string): string {
  return t.replace(
    /( {2}vpc: \{ id: vpc-[^\n]*\n)/,
    `$1  accessEntries:\n` +
      `    - { principalArn: "${role("team-view")}", type: STANDARD, kubernetesGroups: [], policies: [{ policy: AmazonEKSViewPolicy, namespaces: [team-a] }] }\n` +
      `    - { principalArn: "${role("legacy-deployer")}", type: STANDARD, kubernetesGroups: [], policies: [] }\n`,
  );
}

/** The SARIF 2.1.0 schema validator (test/fixtures/sarif-schema-2.1.0.json). */
function sarifValidator() {
  const schema = JSON.parse(
    readFileSync(join(ROOT, "test/fixtures/sarif-schema-2.1.0.json"), "utf8"),
  ) as Record<string, unknown>;
  // The schema is draft-04 (`id`, `$schema` draft-04); its keywords are the same in ajv's draft-07.
  delete schema.$schema;
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  ajv.addFormat("uri", (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s));
  // A URI reference: no character outside RFC 3986's (space, `%` not followed by two hex digits, `#` twice...).
  ajv.addFormat(
    "uri-reference",
    (s: string) =>
      /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]*$/.test(s.replace(/%[0-9A-Fa-f]{2}/g, "")) &&
      (s.match(/#/g) ?? []).length <= 1,
  );
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv.compile(schema);
}

const ok = <T>(value: T) => ({ ok: true as const, value });

/** An estate with nothing in it but what `over` sets: cluster c in 111111111111, VPC vpc-1, one main route table. */
function estateOf(over: Partial<AuditEstate> = {}): AuditEstate {
  return {
    cluster: {
      name: "c",
      account: "111111111111",
      region: "ap-south-1",
      partition: "aws",
      description: {
        name: "c",
        authenticationModeSource: "accessConfig",
        endpointAccess: { private: true, public: false },
        vpcId: "vpc-1",
        subnetIds: ["subnet-1"],
        securityGroupIds: ["sg-1"],
      },
    },
    entries: ok([]),
    vpcCidrs: ok(["10.0.0.0/16"]),
    routeTables: ok([
      {
        id: "rtb-1",
        vpcId: "vpc-1",
        account: "111111111111",
        main: true,
        subnets: [],
        routes: [{ destination: "10.0.0.0/16", target: "local", state: "active", source: "live" }],
      },
    ]),
    peerings: ok([]),
    securityGroups: [],
    credentialsFlag: () => "--client-profile NAME=PROFILE",
    ...over,
  };
}

/**
 * Each command of a fix (`in account A: CMD && CMD; or, …`), run by sh with `aws` replaced by printf: the words
 * the shell makes of it. The caller's values hold no ` && ` and no `; or`.
 */
function fixWords(fix: string): string[][] {
  const body = fix.replace(/^in account \d{12}: /, "").replace(/; or, if the access is meant.*$/, "");
  return body.split(" && ").map((cmd) => {
    assert.match(cmd, /^aws /);
    const out = execFileSync("sh", ["-c", `printf '%s\\n' ${cmd.slice("aws ".length)}`], {
      encoding: "utf8",
    });
    return out.replace(/\n$/, "").split("\n");
  });
}

const pairs = (fs: Finding[]) => fs.map((f) => [f.id, f.resource.id] as [string, string]);
const sorted = (ps: [string, string][]) => [...ps].sort((a, b) => `${a}`.localeCompare(`${b}`));

describe("the checks, offline", () => {
  test("a trust policy's unique ids are dangling principals; ARNs, services and * are not", () => {
    const doc = {
      Version: "2012-10-17" as const,
      Statement: [
        { Effect: "Allow" as const, Principal: { AWS: ["AROAABCDEFGHIJKLMNOPQ", "arn:aws:iam::1:role/x"] } },
        { Effect: "Allow" as const, Principal: { AWS: "AIDAABCDEFGHIJKLMNOPQ" } },
        { Effect: "Allow" as const, Principal: { Service: "ec2.amazonaws.com" } },
        { Effect: "Allow" as const, Principal: "*" },
      ],
    };
    assert.deepEqual(danglingPrincipals(doc), ["AROAABCDEFGHIJKLMNOPQ", "AIDAABCDEFGHIJKLMNOPQ"]);
  });

  test("wider than declared: extra policy, cluster scope over namespaces, namespaces beyond a glob, extra groups", () => {
    const view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    const decl = {
      policies: [
        {
          name: "AmazonEKSViewPolicy",
          arn: view,
          scope: { type: "namespace" as const, namespaces: ["team-*"] },
        },
      ],
      kubernetesGroups: ["viewers"],
    };
    const ns = (...namespaces: string[]) => ({ type: "namespace" as const, namespaces });
    assert.deepEqual(
      excessAccess([{ policyArn: view, scope: ns("team-a", "team-b") }], ["viewers"], decl).reasons,
      [],
    );
    assert.match(
      excessAccess([{ policyArn: view, scope: ns("team-a", "prod") }], [], decl).reasons.join(),
      /prod/,
    );
    assert.match(
      excessAccess([{ policyArn: view, scope: { type: "cluster" } }], [], decl).reasons.join(),
      /cluster scope/,
    );
    assert.match(
      excessAccess([{ policyArn: EDIT_POLICY, scope: ns("team-a") }], [], decl).reasons.join(),
      /AmazonEKSEditPolicy/,
    );
    assert.match(excessAccess([], ["system:masters"], decl).reasons.join(), /system:masters/);
  });

  test("a route EC2 reports as blackhole (moto never does) is route.blackhole, and its CIDR is no known network", () => {
    const ok = <T>(value: T) => ({ ok: true as const, value });
    const estate: AuditEstate = {
      cluster: {
        name: "c",
        account: "111111111111",
        region: "ap-south-1",
        partition: "aws",
        description: {
          name: "c",
          authenticationModeSource: "accessConfig",
          endpointAccess: { private: true, public: false },
          vpcId: "vpc-1",
          subnetIds: ["subnet-1"],
          securityGroupIds: ["sg-1"],
        },
      },
      entries: ok([]),
      vpcCidrs: ok(["10.0.0.0/16"]),
      routeTables: ok([
        {
          id: "rtb-1",
          vpcId: "vpc-1",
          account: "111111111111",
          main: true,
          subnets: [],
          routes: [
            { destination: "10.0.0.0/16", target: "local", state: "active", source: "live" },
            { destination: "10.9.0.0/16", target: "tgw-1", state: "active", source: "live" },
            { destination: "192.168.0.0/16", target: "nat-gone", state: "blackhole", source: "live" },
          ],
        },
      ]),
      peerings: ok([]),
      securityGroups: [
        {
          groupId: "sg-1",
          rules: ok([
            {
              groupId: "sg-1",
              id: "sgr-tgw",
              protocol: "tcp",
              fromPort: 443,
              toPort: 443,
              cidr: "10.9.1.0/24",
              source: "live" as const,
            },
            {
              groupId: "sg-1",
              id: "sgr-gone",
              protocol: "-1",
              fromPort: -1,
              toPort: -1,
              cidr: "192.168.1.0/24",
              source: "live" as const,
            },
          ]),
        },
      ],
      credentialsFlag: () => "--client-profile NAME=PROFILE",
    };
    assert.deepEqual(
      runChecks(estate).map((f) => [f.id, f.resource.id]),
      [
        ["route.blackhole", "rtb-1"],
        ["sg.orphan-cidr", "sgr-gone"],
      ],
    );
  });

  test("fix commands quote every value from AWS or the topology: one word each, nothing runs", () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-audit-quote-"));
    try {
      const marker = join(dir, "ran");
      // An IAM path may hold any of U+0021-U+007E: a command substitution and a quote in it.
      const arn = `arn:aws:iam::111111111111:role/$(touch\${IFS}${marker})/it's\`touch\${IFS}${marker}\`/deployer`;
      const team = "arn:aws:iam::111111111111:role/team-view";
      const entry = (principalArn: string, groups: string[]) => ({
        entry: {
          principalArn,
          type: "STANDARD",
          kubernetesGroups: groups,
          createdAt: "2026-01-01T00:00:00.000Z",
        },
        principal: { state: "read" as const, principal: undefined },
      });
      const estate = estateOf({
        entries: ok([
          entry(arn, []),
          {
            ...entry(team, ["extra group"]),
            principal: {
              state: "read" as const,
              principal: { kind: "role" as const, arn: team, name: "team-view", account: "111111111111" },
            },
            policies: ok([{ policyArn: VIEW_POLICY, scope: { type: "cluster" as const } }]),
          },
        ]),
        topology: {
          file: "xeks.yaml",
          cluster: {
            vpc: {},
            accessEntries: [
              {
                principalArn: team,
                kubernetesGroups: ["it's", "a b"],
                policies: [
                  {
                    name: "AmazonEKSViewPolicy",
                    arn: VIEW_POLICY,
                    scope: { type: "namespace", namespaces: ["team-*", "*"] },
                  },
                ],
              },
            ],
          },
          access: [],
          clients: [],
        } as unknown as AuditEstate["topology"],
      });
      const byId = Object.fromEntries(runChecks(estate).map((f) => [f.id, f]));
      const missing = byId["entry.principal-missing"];
      assert.equal(missing?.resource.id, arn);
      const [words] = fixWords(missing?.fix ?? "");
      assert.deepEqual(words, [
        "eks",
        "delete-access-entry",
        "--cluster-name",
        "c",
        "--region",
        "ap-south-1",
        "--principal-arn",
        arn,
      ]);
      const wider = fixWords(byId["entry.wider-than-declared"]?.fix ?? "");
      const associate = wider.find((w) => w[1] === "associate-access-policy") ?? [];
      assert.equal(associate[associate.indexOf("--access-scope") + 1], "type=namespace,namespaces=team-*,*");
      const update = wider.find((w) => w[1] === "update-access-entry") ?? [];
      assert.deepEqual(update.slice(update.indexOf("--kubernetes-groups") + 1), ["it's", "a b"]);
      assert.ok(!existsSync(marker), "the fix ran a command substitution");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no route table at all for the cluster VPC is unknown, never clean (a VPC always has a main table)", () => {
    const estate = estateOf({
      routeTables: ok([]),
      peerings: ok([
        {
          id: "pcx-1",
          status: "active",
          requester: { vpcId: "vpc-1", account: "111111111111", region: "ap-south-1" },
          accepter: { vpcId: "vpc-2", account: "222222222222", region: "ap-south-1" },
          requesterCidrs: ["10.0.0.0/16"],
          accepterCidrs: ["10.2.0.0/16"],
        } as never,
      ]),
      securityGroups: [
        {
          groupId: "sg-1",
          rules: ok([
            {
              groupId: "sg-1",
              id: "sgr-1",
              protocol: "tcp",
              fromPort: 443,
              toPort: 443,
              cidr: "10.9.0.0/16",
              source: "live" as const,
            },
          ]),
        },
      ],
    });
    const found = runChecks(estate);
    assert.deepEqual(found.map((f) => `${f.id}:${f.status}`).sort(), [
      "peering.unused:unknown",
      "route.blackhole:unknown",
      "sg.orphan-cidr:unknown",
    ]);
    for (const f of found) {
      assert.match(f.message, /no route table for vpc-1/);
      assert.match(f.decide ?? "", /--cluster-profile/);
    }
  });

  test("SARIF: a relative path is a percent-encoded URI reference under %SRCROOT%; outside the cwd a file:// URI", () => {
    assert.deepEqual(sarifArtifactLocation("/tmp/odd dir/x#1%?:.yaml", "/tmp"), {
      uri: "odd%20dir/x%231%25%3F%3A.yaml",
      uriBaseId: "%SRCROOT%",
    });
    const outside = sarifArtifactLocation("/tmp/odd dir/x#1%.yaml", "/work");
    assert.equal(outside.uri, "file:///tmp/odd%20dir/x%231%25.yaml");
    assert.equal(outside.uriBaseId, undefined);
    assert.equal(fileURLToPath(outside.uri), "/tmp/odd dir/x#1%.yaml");
    const rel = sarifArtifactLocation("odd dir/x#1%.yaml", "/repo");
    assert.equal(fileURLToPath(new URL(rel.uri, "file:///repo/")), "/repo/odd dir/x#1%.yaml");
    const report = failedAuditReport({ cluster: "c" }, { message: "m", exitCode: 1 });
    const resource = { type: "vpc", id: "vpc-1", account: "111111111111", region: "ap-south-1" };
    const log = JSON.parse(
      renderAuditSarif(
        {
          ...report,
          error: undefined,
          scope: { ...report.scope, topology: "/tmp/odd dir/x#1%.yaml" },
          findings: [unknownFinding("peering.unused", resource, "unread", "allow x")],
        },
        { cwd: "/tmp" },
      ),
    ) as { runs: { results: { locations: { physicalLocation: { artifactLocation: unknown } }[] }[] }[] };
    assert.deepEqual(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation, {
      uri: "odd%20dir/x%231%25.yaml",
      uriBaseId: "%SRCROOT%",
    });
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
  });

  test("SARIF: sentences end with a full stop; an unknown result is kind review (level none, severity kept)", () => {
    const resource = { type: "vpc", id: "vpc-1", account: "111111111111", region: "ap-south-1" };
    const report: AuditReport = {
      ...failedAuditReport(
        { cluster: "c", account: "111111111111", region: "ap-south-1" },
        {
          message: "",
          exitCode: 1,
        },
      ),
      findings: [
        finding("route.blackhole", resource, "traffic is dropped", [], "aws ec2 delete-route"),
        unknownFinding(
          "peering.unused",
          resource,
          "the routes could not be read",
          "allow ec2:DescribeRouteTables",
        ),
      ],
    };
    delete report.error;
    const log = JSON.parse(renderAuditSarif(report)) as {
      runs: {
        invocations: { executionSuccessful: boolean }[];
        results: {
          kind: string;
          level: string;
          message: { text: string };
          properties: { severity: string };
        }[];
      }[];
    };
    const [found, unknown] = log.runs[0]?.results ?? [];
    assert.equal(found?.message.text, "traffic is dropped. Fix: aws ec2 delete-route.");
    assert.equal(found?.kind, "fail");
    assert.equal(found?.level, "warning");
    assert.equal(
      unknown?.message.text,
      "Unknown: the routes could not be read. To decide: allow ec2:DescribeRouteTables.",
    );
    assert.equal(unknown?.kind, "review");
    assert.equal(unknown?.level, "none");
    assert.equal(unknown?.properties.severity, "note");
    assert.equal(log.runs[0]?.invocations[0]?.executionSuccessful, true);
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
  });

  test("text: every AWS string goes through the escape the CLI gives", () => {
    const resource = { type: "vpc", id: "vpc-\u202e1", account: "111111111111", region: "ap-south-1" };
    const report: AuditReport = {
      ...failedAuditReport(
        { cluster: "c\u001b[2J", account: "111111111111", region: "ap-south-1" },
        {
          message: "",
          exitCode: 1,
        },
      ),
      findings: [
        finding("route.blackhole", resource, "m\u202e", [{ fact: "f\u0007", detail: "d\u009b" }], "x\u2066"),
      ],
    };
    delete report.error;
    const text = renderAuditText(report, { verbose: true, escape: (t) => t.replace(/[^\n -~]/gu, "?") });
    const raw = [...text].filter((ch) => ch !== "\n" && (ch < " " || ch > "~"));
    assert.deepEqual(raw, [], "every AWS string went through the escape");
    assert.match(text, /cluster c\?\[2J/);
  });

  test("--fail-on: a finding at or above the threshold fails; unknown counts like found", () => {
    const resource = { type: "vpc", id: "vpc-1", account: "111111111111", region: "ap-south-1" };
    const report = (f: Finding[]): AuditReport => ({
      kind: "AuditReport",
      version: 1,
      scope: {
        cluster: { name: "c", account: "111111111111", region: "ap-south-1" },
        accessEntries: 0,
        principals: 0,
        routeTables: 0,
        securityGroupRules: 0,
        peerings: 0,
      },
      findings: f,
    });
    const warning = report([
      unknownFinding("route.blackhole", resource, "unread", "allow ec2:DescribeRouteTables"),
    ]);
    assert.equal(auditExitCode(warning, "warning"), 1);
    assert.equal(auditExitCode(warning, "note"), 1);
    assert.equal(auditExitCode(warning, "error"), 0);
    assert.equal(auditExitCode(report([]), "note"), 0);
  });
});

describe("audit on the clean setup", () => {
  test("no findings, exit 0, with and without the topology; one JSON document; clean stderr", async () => {
    const { home, file } = await fresh();
    const withFile = await audit(home, [file, "--client-profile", "ops=ops", "-o", "json"]);
    assert.equal(withFile.stderr, "");
    assert.equal(withFile.status, 0, withFile.stdout);
    assert.equal(withFile.report?.kind, "AuditReport");
    assert.equal(withFile.report?.version, 1);
    assert.deepEqual(withFile.report?.findings, []);
    assert.equal(withFile.report?.scope.accessEntries, 1);
    assert.ok((withFile.report?.scope.routeTables ?? 0) >= 2);
    const bare = await audit(home, ["--cluster-name", CLUSTER_NAME, "--region", "ap-south-1", "-o", "json"]);
    assert.equal(bare.status, 0, bare.stdout + bare.stderr);
    assert.deepEqual(bare.report?.findings, []);
    const text = await audit(home, ["--cluster-name", CLUSTER_NAME, "--cluster-profile", "cluster"]);
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /No findings\./);
  });
});

describe("audit on a planted estate", () => {
  const state: {
    report?: AuditReport;
    sarif?: string;
    text?: string;
    status?: number | null;
    expected?: Planted;
  } = {};

  before(async () => {
    const { setup, home, file } = await fresh(declareEntries);
    state.expected = await plant(setup);
    moto.clearCalls();
    eks.clearCalls();
    await moto.clearRecording();
    const json = await audit(home, [file, "--client-profile", "ops=ops", "-o", "json"]);
    assert.equal(json.stderr, "");
    state.report = json.report;
    state.status = json.status;
    const sarif = await audit(home, [file, "--client-profile", "ops=ops", "-o", "sarif"]);
    state.sarif = sarif.stdout;
    const text = await audit(home, [file, "--client-profile", "ops=ops", "-v"]);
    state.text = text.stdout;
  });

  test("each problem yields its finding naming the right resource; the clean parts yield none", () => {
    const report = state.report as AuditReport;
    assert.equal(state.status, 1);
    for (const f of report.findings)
      assert.equal(f.status, "found", `${f.id} ${f.resource.id}: ${f.message}`);
    assert.deepEqual(sorted(pairs(report.findings)), sorted(state.expected?.expected ?? []));
    for (const f of report.findings) {
      assert.ok(f.fix && f.fix.length > 0, `${f.id} has a fix`);
      assert.ok(f.evidence.length > 0, `${f.id} has evidence`);
    }
    const byId = Object.fromEntries(report.findings.map((f) => [f.id, f]));
    assert.match(byId["entry.principal-missing"]?.fix ?? "", /aws eks delete-access-entry .*gone-deployer/);
    assert.match(byId["entry.principal-recreated"]?.fix ?? "", /delete-access-entry .*create-access-entry/);
    assert.match(byId["entry.wider-than-declared"]?.message ?? "", /AmazonEKSEditPolicy .*not declared/);
    assert.match(byId["entry.wider-than-declared"]?.message ?? "", /AmazonEKSViewPolicy is at cluster scope/);
    assert.match(byId["trust.dangling-principal"]?.message ?? "", new RegExp(DANGLING_ID));
    assert.match(byId["route.blackhole"]?.message ?? "", /10\.77\.0\.0\/16/);
    assert.match(byId["route.blackhole"]?.fix ?? "", /aws ec2 delete-route/);
    assert.match(
      byId["sg.orphan-cidr"]?.fix ?? "",
      /revoke-security-group-ingress .*--security-group-rule-ids 'sgr-/,
    );
    assert.match(byId["peering.unused"]?.fix ?? "", /delete-vpc-peering-connection/);
    // Severities and exit codes per --fail-on.
    assert.equal(byId["entry.principal-recreated"]?.severity, "error");
    assert.equal(byId["peering.unused"]?.severity, "note");
  });

  test("text output is grouped by severity: errors, then warnings, then notes", () => {
    const text = state.text ?? "";
    const e = text.indexOf("Errors (2)");
    const w = text.indexOf("Warnings (5)");
    const n = text.indexOf("Notes (1)");
    assert.ok(e >= 0 && w > e && n > w, text);
    assert.match(text, /evidence: /);
    assert.match(text, /8 findings: 2 errors, 5 warnings, 1 note\./);
    assert.ok(text.includes("old office\\u{202e}"), text);
    assert.ok(!text.includes("\u202e"), "a bidi override from AWS reaches the terminal as it is");
  });

  test("the SARIF parses and validates against the SARIF 2.1.0 schema", () => {
    const log = JSON.parse(state.sarif ?? "") as {
      version: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string; help: { text: string } }[] } };
        results: {
          ruleId: string;
          level: string;
          locations: { logicalLocations: { name: string; fullyQualifiedName: string }[] }[];
        }[];
      }[];
    };
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    assert.equal(log.version, "2.1.0");
    const run = log.runs[0];
    assert.ok(run);
    assert.equal(run.tool.driver.name, "xeks");
    assert.equal(run.tool.driver.rules.length, 8);
    for (const r of run.tool.driver.rules) assert.ok(r.help.text.length > 40, r.id);
    assert.equal(run.results.length, 8);
    const levels = Object.fromEntries(run.results.map((r) => [r.ruleId, r.level]));
    assert.equal(levels["entry.principal-recreated"], "error");
    assert.equal(levels["route.blackhole"], "warning");
    assert.equal(levels["peering.unused"], "note");
    const named = sorted(
      run.results.map((r) => [r.ruleId, r.locations[0]?.logicalLocations[0]?.name ?? ""] as [string, string]),
    );
    assert.deepEqual(named, sorted(state.expected?.expected ?? []));
    const rtb = run.results.find((r) => r.ruleId === "route.blackhole");
    assert.match(
      rtb?.locations[0]?.logicalLocations[0]?.fullyQualifiedName ?? "",
      /^arn:aws:ec2:ap-south-1:111111111111:route-table\/rtb-/,
    );
  });

  test("makes no write call: everything moto and the EKS emulator saw is Describe/Get/List", () => {
    const recorded = moto.recording();
    assert.ok(recorded.length >= 10, `moto recorded ${recorded.length} requests`);
    for (const c of recorded) assert.match(c.action, /^(Describe|Get|List)[A-Z]/, `${c.service}:${c.action}`);
    assert.ok(eks.calls.length >= 5);
    for (const c of eks.calls) {
      assert.equal(c.method, "GET", `${c.operation} ${c.path}`);
      assert.match(c.operation, /^(Describe|List)[A-Z]/);
    }
    // One read per principal: each of the six entries' roles is read once per run (three runs).
    const getRole = moto.calls.filter((c) => c.action === "GetRole").length;
    assert.equal(getRole, 6 * 3);
  });

  test("--fail-on: error and note fail, as the severities present say", async () => {
    const home = live.home as AwsHome;
    const file = join(home.dir, "xeks.yaml");
    const onError = await audit(home, [
      file,
      "--client-profile",
      "ops=ops",
      "--fail-on",
      "error",
      "-o",
      "json",
    ]);
    assert.equal(onError.status, 1);
    // Without the topology: no undeclared, no wider-than-declared, and the errors left is the recreated role.
    const bare = await audit(home, ["--cluster-name", CLUSTER_NAME, "--fail-on", "error", "-o", "json"]);
    assert.equal(bare.status, 1);
    const ids = new Set(bare.report?.findings.map((f) => f.id));
    assert.ok(!ids.has("entry.undeclared") && !ids.has("entry.wider-than-declared"));
    assert.ok(ids.has("entry.principal-recreated"));
  });
});

describe("a principal in another account", () => {
  const base = ["--cluster-name", CLUSTER_NAME, "--cluster-profile", "cluster", "-o", "json"];
  const ctx: { home?: AwsHome; roleArn?: string } = {};

  // One setup for the cases: the clean system plus an entry for the client account's role.
  before(async () => {
    const { home, setup } = await fresh();
    ctx.home = home;
    ctx.roleArn = setup.clients[0]?.roleArn as string;
    await setup.eks.send(
      new CreateAccessEntryCommand({
        clusterName: CLUSTER_NAME,
        principalArn: ctx.roleArn,
        type: "STANDARD",
      }),
    );
  });

  test("no credentials for its account: unknown, naming the flag; exit 1 at --fail-on warning, 0 at error", async () => {
    moto.allowAll();
    const home = ctx.home as AwsHome;
    const r = await audit(home, base);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const f = r.report?.findings ?? [];
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0]?.id, "entry.principal-missing");
    assert.equal(f[0]?.status, "unknown");
    assert.equal(f[0]?.resource.id, ctx.roleArn);
    assert.match(f[0]?.decide ?? "", /--client-profile NAME=PROFILE \(a profile of account 222222222222\)/);
    const lenient = await audit(home, [...base, "--fail-on", "error"]);
    assert.equal(lenient.status, 0);
  });

  test("AccessDenied on the principal's account: unknown, exit 1 at --fail-on warning", async () => {
    moto.allowAll();
    const home = ctx.home as AwsHome;
    const key = home.credentials.get(CLIENT_ACCOUNT)?.accessKeyId;
    moto.deny(`iam:GetRole@${key}`);
    moto.clearCalls();
    const r = await audit(home, [...base, "--client-profile", "ops=ops", "--fail-on", "warning"]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const f = r.report?.findings ?? [];
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0]?.status, "unknown");
    assert.match(f[0]?.decide ?? "", /allow iam:GetRole in account 222222222222/);
    assert.ok(moto.calls.some((c) => c.action === "GetRole" && c.accessKeyId === key));
  });

  test("credentials for its account, read allowed: checked there, clean", async () => {
    moto.allowAll();
    const r = await audit(ctx.home as AwsHome, [...base, "--client-profile", "ops=ops"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.report?.findings, []);
  });

  test("--assume-role-name: the principal's account is read by assuming the role there", async () => {
    moto.allowAll();
    moto.clearCalls();
    eks.clearCalls();
    const home = ctx.home as AwsHome;
    const r = await audit(home, [...base, "--assume-role-name", "xeks-test-admin"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.report?.findings, []);
    assert.ok(moto.calls.some((c) => c.action === "AssumeRole"));
    // The report counts every call the emulators saw, the assumption included.
    const assumed = moto.calls.filter((c) => c.action === "AssumeRole").length;
    assert.equal(r.report?.stats?.byAction["sts:AssumeRole"], assumed);
    assert.equal(r.report?.stats?.calls, moto.calls.length + eks.calls.length);
    const clusterKey = home.credentials.get(CLUSTER_ACCOUNT)?.accessKeyId;
    const getRole = moto.calls.filter((c) => c.action === "GetRole");
    assert.equal(getRole.length, 2, "the access role and the client's role, once each");
    assert.ok(
      getRole.some((c) => c.accessKeyId !== clusterKey),
      "read with the assumed role's credentials",
    );
  });

  test("denied access entries: the entry and trust checks are unknown on the cluster, never clean", async () => {
    moto.allowAll();
    eks.deny("ListAccessEntries");
    const r = await audit(ctx.home as AwsHome, [...base, "--client-profile", "ops=ops"]);
    eks.allowAll();
    assert.equal(r.status, 1);
    const ids = (r.report?.findings ?? []).map((f) => `${f.id}:${f.status}:${f.resource.type}`).sort();
    assert.deepEqual(ids, [
      "entry.principal-missing:unknown:cluster",
      "entry.principal-recreated:unknown:cluster",
      "trust.dangling-principal:unknown:cluster",
    ]);
    for (const f of r.report?.findings ?? [])
      assert.match(f.decide ?? "", /allow eks:ListAccessEntries in account 111111111111/);
  });

  test("the audit cannot run (DescribeCluster denied): -o sarif and -o json still write one document saying so", async () => {
    moto.allowAll();
    eks.deny("DescribeCluster");
    const home = ctx.home as AwsHome;
    const sarif = await audit(
      home,
      base.map((a) => (a === "json" ? "sarif" : a)),
    );
    const json = await audit(home, base);
    eks.allowAll();
    assert.equal(sarif.status, 1, sarif.stderr);
    assert.match(sarif.stderr, /^xeks: cannot audit cluster/);
    const log = JSON.parse(sarif.stdout) as {
      runs: {
        results: unknown[];
        invocations: {
          executionSuccessful: boolean;
          toolExecutionNotifications: { level: string; message: { text: string } }[];
        }[];
      }[];
    };
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    const run = log.runs[0];
    assert.deepEqual(run?.results, []);
    assert.equal(run?.invocations[0]?.executionSuccessful, false);
    assert.equal(run?.invocations[0]?.toolExecutionNotifications[0]?.level, "error");
    assert.match(
      run?.invocations[0]?.toolExecutionNotifications[0]?.message.text ?? "",
      /eks:DescribeCluster/,
    );
    assert.equal(json.status, 1);
    assert.equal(json.report?.kind, "AuditReport");
    assert.deepEqual(json.report?.findings, []);
    assert.equal(json.report?.error?.exitCode, 1);
    assert.match(json.report?.error?.message ?? "", /cannot audit cluster .*eks:DescribeCluster/s);
    assert.equal(json.report?.scope.cluster.name, CLUSTER_NAME);
  });

  test("credentials of another account than the cluster's: exit 2 naming --cluster-profile, nothing reported", async () => {
    moto.allowAll();
    const home = ctx.home as AwsHome;
    const r = await audit(home, ["--cluster-name", CLUSTER_NAME, "--cluster-profile", "ops", "-o", "json"]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /account 222222222222.*in account 111111111111/);
    assert.match(r.stderr, /--cluster-profile/);
    assert.deepEqual(r.report?.findings, []);
    assert.equal(r.report?.error?.exitCode, 2);
  });

  test("a denied network read is unknown, never clean", async () => {
    moto.allowAll();
    moto.deny("ec2:DescribeRouteTables");
    const r = await audit(ctx.home as AwsHome, [...base, "--client-profile", "ops=ops"]);
    moto.allowAll();
    assert.equal(r.status, 1);
    const ids = (r.report?.findings ?? []).map((f) => `${f.id}:${f.status}`).sort();
    assert.deepEqual(ids, ["peering.unused:unknown", "route.blackhole:unknown", "sg.orphan-cidr:unknown"]);
    for (const f of r.report?.findings ?? []) assert.match(f.decide ?? "", /ec2:DescribeRouteTables/);
  });
});

describe("audit refuses bad input (exit 2)", () => {
  test("--help lists every check with its severity, as the findings model has them", async () => {
    const home = live.home ?? (await fresh()).home;
    const r = await audit(home, ["--help"]);
    assert.equal(r.status, 0, r.stderr);
    for (const id of FINDING_IDS)
      assert.match(r.stdout, new RegExp(`^  ${id.replace(".", "\\.")} +${RULES[id].severity} `, "m"), id);
  });

  test("bad flags, no cluster, a cluster that does not exist", async () => {
    moto.allowAll();
    const home = live.home ?? (await fresh()).home;
    const file = join(home.dir, "xeks.yaml");
    for (const args of [
      ["--cluster-name", CLUSTER_NAME, "-o", "xml"],
      ["--cluster-name", CLUSTER_NAME, "--fail-on", "critical"],
      ["--region", "ap-south-1"],
      ["--cluster-name", "nonesuch", "--region", "ap-south-1"],
      [file, "--cluster-name", "other"],
      [file, "--cluster-profile", "ops"],
    ]) {
      const r = await audit(home, args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stderr, /^xeks: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });
});
