/**
 * What the synthesized templates say, pinned exactly: trust principals and conditions, every policy's actions and
 * resources, access entries, routes on both sides, the 443 rule, the client instance.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { parse } from "yaml";
import {
  AccessRole,
  ClientInstance,
  ClientRole,
  ClusterAccessEntry,
  PeerRoutes,
} from "../src/infra/index.js";
import { findingsOf } from "../src/infra/nag.js";
import { clientUserData, kubeconfigEntries, kubeconfigYaml } from "../src/infra/user-data.js";
import { buildEntries } from "../src/kubeconfig/entries.js";
import { standaloneKubeconfig } from "../src/kubeconfig/merge.js";
import { architectureOf, planLayout } from "../src/layout/layout.js";
import { loadTopology } from "../src/topology/index.js";
import { actionsOf, onlyResource, resourcesOf, statementsOf, synth, templateOf } from "./helpers/infra.js";
import { generatedInput, generatedTopology, topologyOf } from "./helpers/topologies.js";

const seed = loadTopology("examples/seed.yaml");
const teams = loadTopology("examples/teams.yaml");
const seedResult = synth(seed);
const teamsResult = synth(teams);

const A = "111111111111";
const OPS_ROLE = "arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role";
const SEED_ACCESS = `arn:aws:iam::${A}:role/EKS-CrossAccount-Access-Role`;
const CLUSTER_ARN = `arn:aws:eks:ap-south-1:${A}:cluster/prac-eks-abhi`;
const S = (suffix: string) => `xeks-prac-eks-abhi-${suffix}`;

test("seed: stacks in four phases, in order", () => {
  assert.deepEqual(
    seedResult.manifest.phases.map((p) => [p.number, p.name, p.stacks.map((s) => s.name)]),
    [
      [1, "client-identity", [S("client-ops-identity")]],
      [2, "cluster-access", [S("cluster-base"), S("cluster-access-EKS-CrossAccount-Access-Role")]],
      [3, "client-link", [S("client-ops-link")]],
      [4, "cluster-link", [S("cluster-link-ops")]],
    ],
  );
});

test("seed: the client role is trusted by EC2 only and may assume exactly the access role", () => {
  const t = templateOf(seedResult, S("client-ops-identity"));
  t.resourceCountIs("AWS::IAM::Role", 1);
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.equal(role.RoleName, "EC2-EKS-CrossAccount-Role");
  assert.equal(role.Path, "/");
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" } }],
    Version: "2012-10-17",
  });
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-prac-eks-abhi-assume-access-roles",
      PolicyDocument: {
        Statement: [
          { Action: "sts:AssumeRole", Effect: "Allow", Resource: SEED_ACCESS, Sid: "AssumeTheAccessRoles" },
        ],
        Version: "2012-10-17",
      },
    },
  ]);
  assert.equal(role.ManagedPolicyArns, undefined, "no managed policy without an instance");
  assert.equal(role.PermissionsBoundary, undefined);
  t.hasResourceProperties("AWS::IAM::InstanceProfile", {
    InstanceProfileName: "EC2-EKS-CrossAccount-Role",
    Path: "/",
    Roles: [{ Ref: "ClientRole" }],
  });
  t.hasOutput("ClientRoleArn", { Value: OPS_ROLE });
});

test("seed: the access role trusts the exact client role ARN and may only describe the cluster and list clusters", () => {
  const t = templateOf(seedResult, S("cluster-access-EKS-CrossAccount-Access-Role"));
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.equal(role.RoleName, "EKS-CrossAccount-Access-Role");
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: OPS_ROLE } }],
    Version: "2012-10-17",
  });
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-eks-describe",
      PolicyDocument: {
        Statement: [
          {
            Action: "eks:DescribeCluster",
            Effect: "Allow",
            Resource: CLUSTER_ARN,
            Sid: "DescribeTheCluster",
          },
          { Action: "eks:ListClusters", Effect: "Allow", Resource: "*", Sid: "ListClusters" },
        ],
        Version: "2012-10-17",
      },
    },
  ]);
  assert.equal(role.ManagedPolicyArns, undefined);
});

test("seed: the access entry is STANDARD, cluster-scoped admin, without groups or username", () => {
  const t = templateOf(seedResult, S("cluster-access-EKS-CrossAccount-Access-Role"));
  const entries = t.findResources("AWS::EKS::AccessEntry");
  assert.equal(Object.keys(entries).length, 1);
  const entry = Object.values(entries)[0] as { Properties: Record<string, unknown>; DependsOn?: string[] };
  assert.deepEqual(entry.DependsOn, ["AccessRole"], "the entry waits for its role");
  const { Tags: _tags, ...props } = entry.Properties;
  assert.deepEqual(props, {
    ClusterName: "prac-eks-abhi",
    PrincipalArn: SEED_ACCESS,
    Type: "STANDARD",
    AccessPolicies: [
      {
        PolicyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        AccessScope: { Type: "cluster" },
      },
    ],
  });
});

test("seed: the peering accepter role trusts only the client account and accepts only into the cluster VPC", () => {
  const t = templateOf(seedResult, S("cluster-base"));
  const role = onlyResource(t, "AWS::IAM::Role");
  assert.equal(role.RoleName, "xeks-prac-eks-abhi-peering-accepter");
  assert.deepEqual(role.AssumeRolePolicyDocument, {
    Statement: [
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { AWS: "arn:aws:iam::222222222222:root" } },
    ],
    Version: "2012-10-17",
  });
  const clusterVpc = `arn:aws:ec2:ap-south-1:${A}:vpc/vpc-0aaa1111bbbb2222c`;
  assert.deepEqual(role.Policies, [
    {
      PolicyName: "xeks-accept-peering",
      PolicyDocument: {
        Statement: [
          {
            Action: "ec2:AcceptVpcPeeringConnection",
            Effect: "Allow",
            Resource: clusterVpc,
            Sid: "AcceptIntoTheClusterVpc",
          },
          {
            Action: "ec2:AcceptVpcPeeringConnection",
            Effect: "Allow",
            Resource: `arn:aws:ec2:ap-south-1:${A}:vpc-peering-connection/*`,
            Condition: {
              ArnEquals: {
                "ec2:AccepterVpc": clusterVpc,
                "ec2:RequesterVpc": "arn:aws:ec2:ap-south-1:222222222222:vpc/vpc-0ddd3333eeee4444f",
              },
            },
            Sid: "AcceptPeeringFromClientVpcs",
          },
        ],
        Version: "2012-10-17",
      },
    },
  ]);
  t.hasOutput("PeeringAccepterRoleArn", {
    Value: `arn:aws:iam::${A}:role/xeks-prac-eks-abhi-peering-accepter`,
  });
});

test("seed: the client requests the peering through the accepter role and routes the cluster CIDR through it", () => {
  const t = templateOf(seedResult, S("client-ops-link"));
  const peering = onlyResource(t, "AWS::EC2::VPCPeeringConnection");
  const { Tags: _tags, ...props } = peering;
  assert.deepEqual(props, {
    VpcId: "vpc-0ddd3333eeee4444f",
    PeerVpcId: "vpc-0aaa1111bbbb2222c",
    PeerOwnerId: A,
    PeerRegion: "ap-south-1",
    PeerRoleArn: `arn:aws:iam::${A}:role/xeks-prac-eks-abhi-peering-accepter`,
  });
  assert.deepEqual(Object.values(resourcesOf(t, "AWS::EC2::Route")), [
    {
      RouteTableId: "rtb-0ddd3333eeee4444f",
      DestinationCidrBlock: "10.0.0.0/16",
      VpcPeeringConnectionId: { Ref: "PeeringConnection" },
    },
  ]);
  t.hasOutput("PeeringConnectionId", { Value: { Ref: "PeeringConnection" } });
  t.resourceCountIs("AWS::EC2::Instance", 0);
});

test("seed: the cluster routes the client CIDR through the peering id parameter and admits 443 from it", () => {
  const t = templateOf(seedResult, S("cluster-link-ops"));
  t.hasParameter("PeeringConnectionId", {
    Type: "String",
    AllowedPattern: "^pcx-([0-9a-f]{8}|[0-9a-f]{17})$",
  });
  assert.deepEqual(Object.values(resourcesOf(t, "AWS::EC2::Route")), [
    {
      RouteTableId: "rtb-0aaa1111bbbb2222c",
      DestinationCidrBlock: "172.31.0.0/16",
      VpcPeeringConnectionId: { Ref: "PeeringConnectionId" },
    },
  ]);
  const { Description: _d, ...ingress } = onlyResource(t, "AWS::EC2::SecurityGroupIngress");
  assert.deepEqual(ingress, {
    GroupId: "sg-0123456789abcdef0",
    IpProtocol: "tcp",
    FromPort: 443,
    ToPort: 443,
    CidrIp: "172.31.0.0/16",
  });
});

test("teams: the external id is a condition of the analytics role's trust only", () => {
  const analytics = onlyResource(
    templateOf(teamsResult, S("cluster-access-Analytics-EKS-View-Role")),
    "AWS::IAM::Role",
  );
  assert.deepEqual(analytics.AssumeRolePolicyDocument, {
    Statement: [
      {
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": "analytics-7f3c2a" } },
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::333333333333:role/Analytics-EKS-Client-Role" },
      },
    ],
    Version: "2012-10-17",
  });
  const payments = onlyResource(
    templateOf(teamsResult, S("cluster-access-Payments-EKS-Edit-Role")),
    "AWS::IAM::Role",
  );
  assert.deepEqual(payments.AssumeRolePolicyDocument, {
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::222222222222:role/Payments-EKS-Client-Role" },
      },
    ],
    Version: "2012-10-17",
  });
});

test("teams: namespace scopes, groups and username on the access entries", () => {
  const t1 = templateOf(teamsResult, S("cluster-access-Payments-EKS-Edit-Role"));
  t1.hasResourceProperties("AWS::EKS::AccessEntry", {
    PrincipalArn: `arn:aws:iam::${A}:role/Payments-EKS-Edit-Role`,
    Type: "STANDARD",
    AccessPolicies: [
      {
        PolicyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
        AccessScope: { Type: "namespace", Namespaces: ["payments", "team-*"] },
      },
    ],
    KubernetesGroups: Match.absent(),
    Username: Match.absent(),
  });
  const t2 = templateOf(teamsResult, S("cluster-access-Analytics-EKS-View-Role"));
  t2.hasResourceProperties("AWS::EKS::AccessEntry", {
    PrincipalArn: `arn:aws:iam::${A}:role/Analytics-EKS-View-Role`,
    Type: "STANDARD",
    AccessPolicies: [
      {
        PolicyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        AccessScope: { Type: "namespace", Namespaces: ["analytics"] },
      },
    ],
    KubernetesGroups: ["analytics-readers"],
    Username: "analytics:{{SessionName}}",
  });
});

test("teams: a route in every listed route table on both sides, and 443 from each client CIDR", () => {
  const clientTables = (stack: string) =>
    Object.values(resourcesOf(templateOf(teamsResult, stack), "AWS::EC2::Route")).map((r) => [
      r.RouteTableId,
      r.DestinationCidrBlock,
    ]);
  assert.deepEqual(clientTables(S("client-analytics-link")), [
    ["rtb-0fff5555aaaa6666b", "10.0.0.0/16"],
    ["rtb-0fff5555aaaa7777c", "10.0.0.0/16"],
  ]);
  assert.deepEqual(clientTables(S("client-payments-link")), [["rtb-0ddd3333eeee4444f", "10.0.0.0/16"]]);
  for (const [client, cidr] of [
    ["payments", "172.31.0.0/16"],
    ["analytics", "192.168.0.0/20"],
  ] as const) {
    const t = templateOf(teamsResult, S(`cluster-link-${client}`));
    assert.deepEqual(Object.values(resourcesOf(t, "AWS::EC2::Route")), [
      {
        RouteTableId: "rtb-0aaa1111bbbb2222c",
        DestinationCidrBlock: cidr,
        VpcPeeringConnectionId: { Ref: "PeeringConnectionId" },
      },
      {
        RouteTableId: "rtb-0aaa1111bbbb3333d",
        DestinationCidrBlock: cidr,
        VpcPeeringConnectionId: { Ref: "PeeringConnectionId" },
      },
    ]);
    t.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
      GroupId: "sg-0123456789abcdef0",
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      CidrIp: cidr,
    });
  }
});

test("teams: the client instance requires IMDSv2, has no public IP, no key pair, and egress on 443 only", () => {
  const t = templateOf(teamsResult, S("client-analytics-link"));
  const instance = onlyResource(t, "AWS::EC2::Instance");
  assert.deepEqual(instance.MetadataOptions, {
    HttpTokens: "required",
    HttpEndpoint: "enabled",
    HttpPutResponseHopLimit: 1,
  });
  assert.equal(instance.KeyName, undefined);
  assert.equal(instance.SubnetId, undefined, "the subnet is on the network interface");
  assert.deepEqual(instance.NetworkInterfaces, [
    {
      DeviceIndex: "0",
      SubnetId: "subnet-0fff5555aaaa6666b",
      GroupSet: [{ "Fn::GetAtt": ["ClientInstanceSecurityGroup", "GroupId"] }],
      AssociatePublicIpAddress: false,
      DeleteOnTermination: true,
    },
  ]);
  assert.equal(instance.IamInstanceProfile, "Analytics-EKS-Client-Role");
  assert.equal(
    instance.ImageId,
    "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64}}",
  );
  assert.deepEqual(instance.BlockDeviceMappings, [
    { DeviceName: "/dev/xvda", Ebs: { Encrypted: true, VolumeType: "gp3", DeleteOnTermination: true } },
  ]);
  const sg = onlyResource(t, "AWS::EC2::SecurityGroup");
  assert.equal(sg.SecurityGroupIngress, undefined);
  assert.deepEqual(
    (sg.SecurityGroupEgress as Record<string, unknown>[]).map(({ Description: _d, ...rule }) => rule),
    [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, CidrIp: "0.0.0.0/0" }],
  );
  t.resourceCountIs("AWS::EC2::SecurityGroupIngress", 0);
  // The role it runs with gets Session Manager in phase 1.
  const role = onlyResource(templateOf(teamsResult, S("client-analytics-identity")), "AWS::IAM::Role");
  assert.deepEqual(role.ManagedPolicyArns, ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
});

test("teams: the user data writes a kubeconfig through the access role (external id via a profile)", () => {
  const instance = onlyResource(templateOf(teamsResult, S("client-analytics-link")), "AWS::EC2::Instance");
  const script = (instance.UserData as { "Fn::Base64": string })["Fn::Base64"];
  assert.match(script, /^#!\/bin\/bash\n/);
  assert.match(script, /role_arn = arn:aws:iam::111111111111:role\/Analytics-EKS-View-Role\n/);
  assert.match(script, /external_id = analytics-7f3c2a\n/);
  assert.match(script, /credential_source = Ec2InstanceMetadata\n/);
  assert.match(script, /apiVersion: client\.authentication\.k8s\.io\/v1beta1/);
  // The profile holds the external id: AWS_PROFILE names it, AWS_CONFIG_FILE holds it, no --role-arn.
  assert.match(
    script,
    /args:\n *- --region\n *- ap-south-1\n *- eks\n *- get-token\n *- --cluster-name\n *- prac-eks-abhi\n *- --output\n *- json\n *env:\n *- name: AWS_PROFILE\n *value: xeks-Analytics-EKS-View-Role\n *- name: AWS_STS_REGIONAL_ENDPOINTS\n *value: regional\n *- name: AWS_CONFIG_FILE\n *value: \/etc\/xeks\/aws-config\n/,
  );
  // teams.yaml has an endpoint but no CA: both are read at boot through the access role.
  assert.match(
    script,
    /ENDPOINT='https:\/\/0123456789ABCDEF0123456789ABCDEF\.gr7\.ap-south-1\.eks\.amazonaws\.com'/,
  );
  assert.match(script, /aws eks describe-cluster --profile 'xeks-Analytics-EKS-View-Role'/);
  assert.match(script, /server: \$ENDPOINT\n/);
  assert.match(script, /dl\.k8s\.io\/release\/v\d+\.\d+\.\d+\/bin\/linux\/amd64\/kubectl/);
  assert.match(script, /sha256sum --check/);
  assert.ok(Buffer.byteLength(script) < 16 * 1024, "EC2 user data limit");
});

test("user data without external id runs aws eks get-token --role-arn, with endpoint and CA from the topology", () => {
  const script = clientUserData({
    clusterName: "c1",
    region: "eu-west-1",
    endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
    certificateAuthority: "TFMwdA==",
    contexts: [{ roleName: "R1", roleArn: "arn:aws:iam::111111111111:role/R1", externalId: null }],
    architecture: "arm64",
  });
  assert.match(
    script,
    /args:\n *- --region\n *- eu-west-1\n *- eks\n *- get-token\n *- --cluster-name\n *- c1\n *- --output\n *- json\n *- --role-arn\n *- arn:aws:iam::111111111111:role\/R1\n/,
  );
  assert.match(script, /ENDPOINT='https:\/\/ABC\.gr7\.eu-west-1\.eks\.amazonaws\.com'\nCA='TFMwdA=='/);
  assert.match(script, /bin\/linux\/arm64\/kubectl/);
  assert.doesNotMatch(script, /external_id/);
  const entries = kubeconfigEntries(
    {
      clusterName: "c1",
      region: "eu-west-1",
      contexts: [{ roleName: "R1", roleArn: "arn:aws:iam::111111111111:role/R1", externalId: null }],
    },
    "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
    "TFMwdA==",
  );
  assert.deepEqual(entries[0]?.user.user.exec.args, [
    "--region",
    "eu-west-1",
    "eks",
    "get-token",
    "--cluster-name",
    "c1",
    "--output",
    "json",
    "--role-arn",
    "arn:aws:iam::111111111111:role/R1",
  ]);
  assert.deepEqual(entries[0]?.user.user.exec.env, [
    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
  ]);
});

test("the client instance's kubeconfig is written by the kubeconfig module (one writer)", () => {
  const props = {
    clusterName: "c1",
    region: "eu-west-1",
    contexts: [{ roleName: "R1", roleArn: "arn:aws:iam::111111111111:role/R1", externalId: null }],
  };
  const server = "https://ABC.gr7.eu-west-1.eks.amazonaws.com";
  const [entries] = kubeconfigEntries(props, server, "TFMwdA==");
  assert.ok(entries);
  assert.equal(kubeconfigYaml(props, server, "TFMwdA=="), standaloneKubeconfig(entries));
  // The same entries `xeks kubeconfig --exec aws` builds, with the instance's extra environment.
  assert.deepEqual(
    entries,
    buildEntries({
      clusterName: "c1",
      region: "eu-west-1",
      server,
      certificateAuthorityData: "TFMwdA==",
      exec: "aws",
      roleArn: "arn:aws:iam::111111111111:role/R1",
      env: [{ name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" }],
      clusterEntryName: "c1",
      userName: "R1@c1",
      contextName: "R1@c1",
    }),
  );
  // Two contexts: both in one file, the first current.
  const two = parse(
    kubeconfigYaml(
      {
        ...props,
        contexts: [
          ...props.contexts,
          { roleName: "R2", roleArn: "arn:aws:iam::111111111111:role/R2", externalId: "x-1" },
        ],
      },
      server,
      "TFMwdA==",
    ),
  );
  assert.deepEqual(
    two.contexts.map((c: { name: string }) => c.name),
    ["R1@c1", "R2@c1"],
  );
  assert.equal(two["current-context"], "R1@c1");
  assert.equal(two.clusters.length, 1);
});

test("architecture follows the instance type", () => {
  assert.equal(architectureOf("t3.micro"), "x86_64");
  assert.equal(architectureOf("t4g.small"), "arm64");
  assert.equal(architectureOf("m7gd.large"), "arm64");
  assert.equal(architectureOf("a1.medium"), "arm64");
  assert.equal(architectureOf("g5.xlarge"), "x86_64");
  assert.equal(architectureOf("c7i.large"), "x86_64");
});

function variant(mutate: (raw: ReturnType<typeof generatedInput>) => void) {
  const raw = generatedInput(2);
  mutate(raw);
  return topologyOf(raw);
}

test("an existing client role gets only the AssumeRole policy (AWS::IAM::RolePolicy on its name)", () => {
  const topology = variant((raw) => {
    raw.clients[0] = {
      ...raw.clients[0],
      role: { name: "Legacy-Role", existing: true, instanceProfile: "Legacy-Profile" },
    } as (typeof raw.clients)[0];
  });
  const result = synth(topology);
  const t = templateOf(result, "xeks-bench-cluster-client-team-1-identity");
  t.resourceCountIs("AWS::IAM::Role", 0);
  t.resourceCountIs("AWS::IAM::InstanceProfile", 0);
  assert.deepEqual(onlyResource(t, "AWS::IAM::RolePolicy"), {
    RoleName: "Legacy-Role",
    PolicyName: "xeks-bench-cluster-assume-access-roles",
    PolicyDocument: {
      Statement: [
        {
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Resource: [
            "arn:aws:iam::111111111111:role/Team1-EKS-View-Role",
            "arn:aws:iam::111111111111:role/Platform-EKS-Admin-Role",
          ],
          Sid: "AssumeTheAccessRoles",
        },
      ],
      Version: "2012-10-17",
    },
  });
  // Its instance uses the existing profile; the plan notes that Session Manager is the role's business.
  const instance = onlyResource(
    templateOf(result, "xeks-bench-cluster-client-team-1-link"),
    "AWS::EC2::Instance",
  );
  assert.equal(instance.IamInstanceProfile, "Legacy-Profile");
  assert.ok(
    result.manifest.notes.some(
      (n) => n.includes("Legacy-Role") && n.includes("AmazonSSMManagedInstanceCore"),
    ),
  );
  // The access role trusts the existing role's exact ARN.
  const access = onlyResource(
    templateOf(result, "xeks-bench-cluster-cluster-access-Team1-EKS-View-Role"),
    "AWS::IAM::Role",
  );
  assert.deepEqual(
    (access.AssumeRolePolicyDocument as { Statement: { Principal: unknown }[] }).Statement[0]?.Principal,
    {
      AWS: "arn:aws:iam::200000000001:role/Legacy-Role",
    },
  );
});

test("a created role gets its path and permissions boundary; a shared access role trusts each client role", () => {
  const boundary = "arn:aws:iam::200000000001:policy/xeks-boundary";
  const topology = variant((raw) => {
    raw.clients[0] = {
      ...raw.clients[0],
      role: {
        name: "Pathed-Role",
        path: "/teams/",
        permissionsBoundary: {
          arn: boundary,
          document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
        },
      },
    } as (typeof raw.clients)[0];
  });
  const result = synth(topology);
  const role = onlyResource(
    templateOf(result, "xeks-bench-cluster-client-team-1-identity"),
    "AWS::IAM::Role",
  );
  assert.equal(role.Path, "/teams/");
  assert.equal(role.PermissionsBoundary, boundary);
  const admin = onlyResource(
    templateOf(result, "xeks-bench-cluster-cluster-access-Platform-EKS-Admin-Role"),
    "AWS::IAM::Role",
  );
  assert.deepEqual(admin.AssumeRolePolicyDocument, {
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: {
          AWS: [
            "arn:aws:iam::200000000001:role/teams/Pathed-Role",
            "arn:aws:iam::200000000002:role/Team2-EKS-Client-Role",
          ],
        },
      },
    ],
    Version: "2012-10-17",
  });
  templateOf(result, "xeks-bench-cluster-cluster-access-Platform-EKS-Admin-Role").hasResourceProperties(
    "AWS::EKS::AccessEntry",
    { KubernetesGroups: ["platform-admins"], Username: "platform:{{SessionName}}" },
  );
  // Two client accounts: the accepter role trusts both roots.
  const accepter = onlyResource(templateOf(result, "xeks-bench-cluster-cluster-base"), "AWS::IAM::Role");
  assert.deepEqual(
    (accepter.AssumeRolePolicyDocument as { Statement: { Principal: unknown }[] }).Statement[0]?.Principal,
    {
      AWS: ["arn:aws:iam::200000000001:root", "arn:aws:iam::200000000002:root"],
    },
  );
});

test("a client no access role names gets no AssumeRole policy, and the plan says so", () => {
  const topology = variant((raw) => {
    raw.access = raw.access
      .filter((a) => !a.clients.includes("team-2"))
      .concat(
        raw.access
          .filter((a) => a.role === "Platform-EKS-Admin-Role")
          .map((a) => ({ ...a, clients: ["team-1"] })),
      );
    raw.access = raw.access.filter((a, i, all) => all.findIndex((b) => b.role === a.role) === i);
  });
  const result = synth(topology);
  const role = onlyResource(
    templateOf(result, "xeks-bench-cluster-client-team-2-identity"),
    "AWS::IAM::Role",
  );
  assert.equal(role.Policies, undefined);
  assert.ok(result.manifest.notes.some((n) => n.includes("team-2 is named by no access role")));
});

test("an arm64 instance type gets the arm64 image; declared routes in the way are noted", () => {
  const topology = variant((raw) => {
    const c0 = raw.clients[0] as { instance?: { subnetId: string; type: string } };
    c0.instance = { subnetId: "subnet-00000000000000001", type: "t4g.small" };
    raw.cluster.vpc.routes = [
      { routeTable: "rtb-0aaa1111bbbb2222c", destination: "172.16.1.0/24", target: "pcx-0123456789abcdef0" },
    ];
  });
  const result = synth(topology);
  const instance = onlyResource(
    templateOf(result, "xeks-bench-cluster-client-team-1-link"),
    "AWS::EC2::Instance",
  );
  assert.equal(
    instance.ImageId,
    "{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}",
  );
  assert.equal(instance.InstanceType, "t4g.small");
  assert.ok(
    result.manifest.notes.some((n) =>
      n.includes("rtb-0aaa1111bbbb2222c already has a route to 172.16.1.0/24"),
    ),
  );
});

test("no policy anywhere allows sts:AssumeRole on *, and no trust policy names *", () => {
  const results = [seedResult, teamsResult, synth(variant(() => {}))];
  let assumeStatements = 0;
  for (const r of results) {
    for (const [stack, json] of r.templates) {
      for (const { where, statement } of statementsOf(json)) {
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        if (actionsOf(statement).some((a) => a === "sts:AssumeRole" || a === "sts:*" || a === "*")) {
          if (statement.Principal === undefined) {
            assumeStatements++;
            assert.ok(!resources.includes("*"), `${stack} ${where}: sts:AssumeRole on *`);
            for (const res of resources) assert.match(String(res), /^arn:aws:iam::\d{12}:role\//);
          }
        }
        const principal = JSON.stringify(statement.Principal ?? {});
        assert.ok(!principal.includes('"*"'), `${stack} ${where}: principal *`);
      }
    }
  }
  assert.ok(assumeStatements >= 4);
});

test("the constructs work in a user's own CDK app", () => {
  const app = new App({ builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, "Mine", { env: { account: "111111111111", region: "eu-west-1" } });
  const role = new AccessRole(stack, "Access", {
    roleName: "Mine-Access",
    trustedRoleArns: ["arn:aws:iam::222222222222:role/Mine-Client"],
    externalId: "xyz",
    clusterArn: "arn:aws:eks:eu-west-1:111111111111:cluster/mine",
    allowListClusters: false,
  });
  new ClusterAccessEntry(stack, "Entry", {
    clusterName: "mine",
    principalArn: role.roleArn,
    accessPolicies: [
      { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", scope: { type: "cluster" } },
    ],
    dependsOn: role,
  });
  new PeerRoutes(stack, "Routes", {
    routeTableIds: ["rtb-0123456789abcdef0"],
    destinationCidr: "10.1.0.0/16",
    vpcPeeringConnectionId: "pcx-0123456789abcdef0",
  });
  const client = new ClientRole(
    new Stack(app, "B", { env: { account: "222222222222", region: "eu-west-1" } }),
    "Client",
    {
      roleName: "Mine-Client",
      accessRoleArns: [role.roleArn],
    },
  );
  new ClientInstance(Stack.of(client), "Box", {
    vpcId: "vpc-0123456789abcdef0",
    subnetId: "subnet-0123456789abcdef0",
    instanceProfileName: client.instanceProfileName,
    userData: "#!/bin/bash\ntrue\n",
  });
  assert.equal(role.roleArn, "arn:aws:iam::111111111111:role/Mine-Access");
  assert.equal(client.roleArn, "arn:aws:iam::222222222222:role/Mine-Client");
  // cdk-nag passes in the user's app too: the constructs carry their own acknowledgements.
  const asm = app.synth();
  const report = JSON.parse(readFileSync(join(asm.directory, "validation-report.json"), "utf8"));
  assert.deepEqual(findingsOf(report), []);
  const t = Template.fromStack(stack);
  t.hasResourceProperties("AWS::IAM::Role", {
    AssumeRolePolicyDocument: {
      Statement: [
        {
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": "xyz" } },
          Principal: { AWS: "arn:aws:iam::222222222222:role/Mine-Client" },
        },
      ],
    },
    Policies: [
      {
        PolicyDocument: {
          Statement: [
            { Action: "eks:DescribeCluster", Resource: "arn:aws:eks:eu-west-1:111111111111:cluster/mine" },
          ],
        },
      },
    ],
  });
  t.resourceCountIs("AWS::EKS::AccessEntry", 1);
  t.resourceCountIs("AWS::EC2::Route", 1);
  const b = Template.fromStack(Stack.of(client));
  b.hasResourceProperties("AWS::IAM::Role", {
    Policies: [{ PolicyDocument: { Statement: [{ Action: "sts:AssumeRole", Resource: role.roleArn }] } }],
  });
  b.hasResourceProperties("AWS::EC2::Instance", { MetadataOptions: { HttpTokens: "required" } });
});

test("a trust policy over IAM's 2,048 characters is no plan note: iam.policy-size fails (test/quotas.test.ts)", () => {
  assert.ok(!planLayout(generatedTopology(70)).notes.some((n) => n.includes("trust policy")));
});
