/**
 * What moto_server (5.2, as shipped: no shim) cannot do for xeks deploy, shown rather than assumed. Each test
 * pins one gap that docs/deploy.md ("Testing against the emulator") lists; if a moto upgrade closes a gap, its
 * test fails and the document (and src/sandbox/moto-patches) should shrink. Run `npm run build` first.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcPeeringConnectionsCommand,
} from "@aws-sdk/client-ec2";
import { GetRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  CLIENT_ACCOUNT,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  type Lab,
  PROFILE_FLAGS,
  STACKS,
  stackInfo,
  stackResources,
  startLab,
} from "./helpers/moto-deploy.js";

describe("moto as shipped, under xeks deploy", () => {
  let lab: Lab;
  let stderr = "";
  let status: number | null = null;

  before(async () => {
    lab = await startLab({ shim: false });
    const file = lab.writeTopology();
    // --concurrency 1: moto as shipped executes a change set found by name alone, whatever its stack, so two
    // stacks of one account deployed at once (both change sets are named cdk-deploy-change-set) confuse it.
    const r = await lab.run(["deploy", file, "--yes", "--no-doctor", "--concurrency", "1", ...PROFILE_FLAGS]);
    stderr = r.stderr;
    status = r.status;
  });
  after(async () => {
    await lab?.stop();
  });

  test("phases 1 and 2 deploy; cross-account peering fails in phase 3: moto looks for the peer VPC in the requester's account", async () => {
    assert.equal(status, 1, stderr);
    assert.match(stderr, /deploy failed in phase 3 \(client-link\)/);
    // moto names no failed resource (no resource events): xeks infers it from the id the reason quotes.
    assert.match(
      stderr,
      new RegExp(
        `stack ${STACKS.clientLink}, resource PeeringConnection \\(AWS::EC2::VPCPeeringConnection\\) \\[inferred from the reason\\]: InvalidVpcID.NotFound: VpcID ${lab.cluster.vpcId} does not exist`,
      ),
    );
    assert.deepEqual(
      [...(await lab.stacks(CLUSTER_ACCOUNT)).entries()].sort(),
      [
        [STACKS.access, "CREATE_COMPLETE"],
        [STACKS.base, "CREATE_COMPLETE"],
      ].sort(),
    );
    assert.doesNotMatch(stderr, /NodeVersionSupportWarning|CDK_TOOLKIT|❌/);
    // No rollback either: the failed stack stays REVIEW_IN_PROGRESS instead of ROLLBACK_COMPLETE.
    assert.equal((await lab.stacks(CLIENT_ACCOUNT)).get(STACKS.clientLink), "REVIEW_IN_PROGRESS");
  });

  test("AWS::EKS::AccessEntry is skipped silently: the stack completes without it", async () => {
    const resources = await stackResources(lab, CLUSTER_ACCOUNT, STACKS.access);
    assert.equal(resources.get("AccessRole"), "AWS::IAM::Role");
    assert.equal([...resources.values()].includes("AWS::EKS::AccessEntry"), false);
  });

  test("stacks created through change sets have no Outputs", async () => {
    const base = await stackInfo(lab, CLUSTER_ACCOUNT, STACKS.base);
    assert.equal(base.status, "CREATE_COMPLETE");
    assert.deepEqual(base.outputs, {}, "PeeringAccepterRoleArn is declared in the template");
  });

  test("no resource events: only the stack's own", async () => {
    const cfn = await lab.cfn(CLUSTER_ACCOUNT);
    const events =
      (await cfn.send(new DescribeStackEventsCommand({ StackName: STACKS.base }))).StackEvents ?? [];
    assert.ok(events.length > 0);
    assert.deepEqual([...new Set(events.map((e) => e.ResourceType))], ["AWS::CloudFormation::Stack"]);
  });

  test("inline role policies come back as Python's repr of a dict, not JSON", async () => {
    const iam = await lab.iam(CLIENT_ACCOUNT);
    const r = await iam.send(
      new GetRolePolicyCommand({
        RoleName: CLIENT_ROLE,
        PolicyName: "xeks-prac-eks-abhi-assume-access-roles",
      }),
    );
    const doc = decodeURIComponent(r.PolicyDocument ?? "");
    assert.match(doc, /^\{'Statement': /);
    assert.throws(() => JSON.parse(doc));
  });

  test("deleting a stack leaves its routes, security group rules and peering connections behind", async () => {
    const ec2 = await lab.ec2(CLUSTER_ACCOUNT);
    const a = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }))).Vpc?.VpcId as string;
    const b = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.60.0.0/16" }))).Vpc?.VpcId as string;
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: a }))).RouteTable
      ?.RouteTableId as string;
    const sg = (
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: "g", Description: "g", VpcId: a }))
    ).GroupId as string;
    const cfn = await lab.cfn(CLUSTER_ACCOUNT);
    const template = {
      Resources: {
        Pcx: { Type: "AWS::EC2::VPCPeeringConnection", Properties: { VpcId: a, PeerVpcId: b } },
        Route: {
          Type: "AWS::EC2::Route",
          Properties: {
            RouteTableId: rtb,
            DestinationCidrBlock: "10.60.0.0/16",
            VpcPeeringConnectionId: { Ref: "Pcx" },
          },
        },
        Ingress: {
          Type: "AWS::EC2::SecurityGroupIngress",
          Properties: { GroupId: sg, IpProtocol: "tcp", FromPort: 443, ToPort: 443, CidrIp: "10.60.0.0/16" },
        },
      },
    };
    await cfn.send(
      new CreateStackCommand({ StackName: "gap-deletes", TemplateBody: JSON.stringify(template) }),
    );
    assert.equal(
      (await cfn.send(new DescribeStacksCommand({ StackName: "gap-deletes" }))).Stacks?.[0]?.StackStatus,
      "CREATE_COMPLETE",
    );
    await cfn.send(new DeleteStackCommand({ StackName: "gap-deletes" }));
    assert.equal((await lab.stacks(CLUSTER_ACCOUNT)).has("gap-deletes"), false);
    const routes = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables?.[0]
      ?.Routes;
    assert.ok(
      routes?.some((r) => r.DestinationCidrBlock === "10.60.0.0/16"),
      "the route is still there",
    );
    const rules = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg] }))).SecurityGroups?.[0]
      ?.IpPermissions;
    assert.ok(
      rules?.some((p) => p.FromPort === 443),
      "the ingress rule is still there",
    );
    const pcx = (
      await ec2.send(
        new DescribeVpcPeeringConnectionsCommand({
          Filters: [{ Name: "requester-vpc-info.vpc-id", Values: [a] }],
        }),
      )
    ).VpcPeeringConnections?.[0];
    assert.notEqual(pcx?.Status?.Code, "deleted", "the peering connection is still there");
  });
});
