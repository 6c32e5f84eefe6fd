/**
 * The cross-account setup built by hand in the emulators, the way a person would with the console or the CLI:
 * VPCs and subnets, a cluster security group, the peering requested from the client account and accepted in
 * the cluster account, routes on both sides, TCP 443 ingress, the EC2 role with its instance profile and
 * sts:AssumeRole policy, the access role trusting it, a client instance, and in the EKS fixture the access
 * entry with its access policy. `breakSetup` then breaks one thing, again with ordinary SDK calls. The network
 * that exists before (VPCs, subnets, route tables, the cluster security group) and the cluster in the EKS
 * emulator are the sandbox's starting state (src/sandbox/starting-state.ts) with liveStartingState's spec.
 */
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeImagesCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  EKSClient,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  createStartingState,
  type StartingState,
  type StartingStateSpec,
  startingCluster,
} from "../../src/sandbox/starting-state.js";
import type { EksFixture } from "./eks-fixture.js";
import { type Credentials, credentialsFor } from "./live-env.js";
import type { Moto } from "./moto-server.js";

export const CLUSTER_ACCOUNT = "111111111111";
export const CLUSTER_NAME = "prac-eks-abhi";
export const REGION = "ap-south-1";
export const CLUSTER_CIDR = "10.0.0.0/16";
export const ACCESS_ROLE = "EKS-CrossAccount-Access-Role";
export const CLIENT_ROLE = "EC2-EKS-CrossAccount-Role";
export const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

export interface ClientSetup {
  name: string;
  account: string;
  cidr: string;
  vpcId: string;
  subnetId: string;
  routeTableId: string;
  peeringId: string;
  roleArn: string;
  instanceId?: string;
}

export interface Setup {
  cluster: {
    vpcId: string;
    subnetIds: string[];
    routeTableId: string;
    mainRouteTableId: string;
    securityGroupId: string;
  };
  clients: ClientSetup[];
  accessRoleArn: string;
  /** The topology a person would write for this setup (discover writes the same facts). */
  topology: string;
  /** SDK clients acting in each account, for breaking things. */
  ec2(account: string): EC2Client;
  iam(account: string): IAMClient;
  eks: EKSClient;
  destroy(): void;
}

export interface SetupOptions {
  /** Number of client accounts (default 1: client `ops` in 222222222222). */
  clients?: number;
  /** Launch a client instance carrying the instance profile in the first client's subnet (default true). */
  instance?: boolean;
  /** Accept the peering in the cluster account (default true). */
  acceptPeering?: boolean;
}

export function clientAccount(i: number): string {
  return i === 0 ? "222222222222" : `2000000000${String(i).padStart(2, "0")}`;
}
export function clientName(i: number): string {
  return i === 0 ? "ops" : `team-${String(i).padStart(2, "0")}`;
}
function clientCidr(i: number): string {
  return i === 0 ? "172.31.0.0/16" : `10.${100 + i}.0.0/16`;
}

/**
 * The starting state of the live setup with `n` client accounts (src/sandbox/starting-state.ts): the cluster VPC
 * CLUSTER_CIDR with subnets 10.0.1.0/24 (on its own route table) and 10.0.2.0/24 (on the main table) and the
 * cluster security group EKS makes; per client a VPC with subnet x.y.1.0/24 on its route table.
 */
export function liveStartingState(n: number): StartingStateSpec {
  return {
    region: REGION,
    setupRole: "xeks-test-admin",
    cluster: {
      account: CLUSTER_ACCOUNT,
      cidr: CLUSTER_CIDR,
      subnets: [{ cidr: "10.0.1.0/24" }, { cidr: "10.0.2.0/24", ownRouteTable: false }],
      securityGroup: {
        name: `eks-cluster-sg-${CLUSTER_NAME}`,
        description: "EKS created security group applied to ENI that is attached to EKS Control Plane",
      },
    },
    clients: Array.from({ length: n }, (_, i) => ({
      account: clientAccount(i),
      cidr: clientCidr(i),
      subnet: { cidr: clientCidr(i).replace(/\.0\.0\/16$/, ".1.0/24") },
    })),
  };
}

const EC2_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

export function accessTrust(clientRoleArns: string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: clientRoleArns }, Action: "sts:AssumeRole" }],
  });
}

export function assumePolicy(accessRoleArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: accessRoleArn }],
  });
}

const DESCRIBE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["eks:DescribeCluster", "eks:ListClusters"], Resource: "*" }],
});

/** Build the good setup. The emulators should be empty (reset) first. */
export async function buildSetup(moto: Moto, eks: EksFixture, options: SetupOptions = {}): Promise<Setup> {
  const n = options.clients ?? 1;
  const creds = new Map<string, Credentials>();
  const ec2s = new Map<string, EC2Client>();
  const iams = new Map<string, IAMClient>();
  const accounts = [CLUSTER_ACCOUNT, ...Array.from({ length: n }, (_, i) => clientAccount(i))];
  for (const a of accounts) {
    creds.set(a, await credentialsFor(moto, a, REGION));
    const config = { region: REGION, endpoint: moto.proxyUrl, credentials: creds.get(a) as Credentials };
    ec2s.set(a, new EC2Client(config));
    iams.set(a, new IAMClient(config));
  }
  const ec2 = (a: string) => ec2s.get(a) as EC2Client;
  const iam = (a: string) => iams.get(a) as IAMClient;
  const eksClient = new EKSClient({
    region: REGION,
    endpoint: eks.url,
    credentials: creds.get(CLUSTER_ACCOUNT) as Credentials,
  });

  // The starting state (src/sandbox/starting-state.ts, the sandbox's): the cluster account's VPC, two subnets
  // (one on its own route table, one on the main table) and cluster SG; each client account's VPC, subnet and
  // route table. Then the cluster in the EKS emulator.
  const A = CLUSTER_ACCOUNT;
  const spec = liveStartingState(n);
  const start = await createStartingState(moto.proxyUrl, spec);
  const {
    vpcId: vpcA,
    subnetIds,
    routeTableId: rtbA,
    mainRouteTableId: mainA,
    securityGroupId: sgA,
  } = start.cluster;
  eks.addCluster(startingCluster(CLUSTER_NAME, spec, start));

  // The access role's ARN is known up front: client policies name it.
  const accessRoleArn = `arn:aws:iam::${A}:role/${ACCESS_ROLE}`;
  let image: string | undefined;
  const clients: ClientSetup[] = [];
  for (let i = 0; i < n; i++) {
    const B = clientAccount(i);
    const cidr = clientCidr(i);
    const {
      vpcId: vpcB,
      subnetId,
      routeTableId: rtbB,
    } = start.clients[i] as StartingState["clients"][number];
    const subnetB = subnetId as string;

    // The EC2 role, its instance profile, and its permission to assume the access role.
    const role = await iam(B).send(
      new CreateRoleCommand({ RoleName: CLIENT_ROLE, AssumeRolePolicyDocument: EC2_TRUST }),
    );
    await iam(B).send(
      new PutRolePolicyCommand({
        RoleName: CLIENT_ROLE,
        PolicyName: "AssumeEksAccessRole",
        PolicyDocument: assumePolicy(accessRoleArn),
      }),
    );
    await iam(B).send(new CreateInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE }));
    await iam(B).send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE, RoleName: CLIENT_ROLE }),
    );

    // Peering: requested from the client account, accepted in the cluster account.
    const pcx = (
      await ec2(B).send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: vpcB,
          PeerVpcId: vpcA,
          PeerOwnerId: A,
          PeerRegion: REGION,
        }),
      )
    ).VpcPeeringConnection?.VpcPeeringConnectionId as string;
    if (options.acceptPeering !== false) {
      await ec2(A).send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    }
    await ec2(B).send(
      new CreateRouteCommand({
        RouteTableId: rtbB,
        DestinationCidrBlock: CLUSTER_CIDR,
        VpcPeeringConnectionId: pcx,
      }),
    );
    for (const table of [rtbA, mainA]) {
      await ec2(A).send(
        new CreateRouteCommand({
          RouteTableId: table,
          DestinationCidrBlock: cidr,
          VpcPeeringConnectionId: pcx,
        }),
      );
    }
    await ec2(A).send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: sgA,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: cidr, Description: `kubectl from ${clientName(i)}` }],
          },
        ],
      }),
    );

    let instanceId: string | undefined;
    if (i === 0 && options.instance !== false) {
      image ??= (await ec2(B).send(new DescribeImagesCommand({ MaxResults: 5 }))).Images?.[0]?.ImageId;
      const run = await ec2(B).send(
        new RunInstancesCommand({
          ImageId: image,
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetB,
          IamInstanceProfile: { Name: CLIENT_ROLE },
        }),
      );
      instanceId = run.Instances?.[0]?.InstanceId;
    }
    clients.push({
      name: clientName(i),
      account: B,
      cidr,
      vpcId: vpcB,
      subnetId: subnetB,
      routeTableId: rtbB,
      peeringId: pcx,
      roleArn: role.Role?.Arn as string,
      instanceId,
    });
  }

  // The access role, trusted by every client role, allowed to describe the cluster.
  await iam(A).send(
    new CreateRoleCommand({
      RoleName: ACCESS_ROLE,
      AssumeRolePolicyDocument: accessTrust(clients.map((c) => c.roleArn)),
    }),
  );
  await iam(A).send(
    new PutRolePolicyCommand({
      RoleName: ACCESS_ROLE,
      PolicyName: "DescribeCluster",
      PolicyDocument: DESCRIBE_POLICY,
    }),
  );
  // The access entry and its policy.
  await eksClient.send(
    new CreateAccessEntryCommand({
      clusterName: CLUSTER_NAME,
      principalArn: accessRoleArn,
      type: "STANDARD",
    }),
  );
  await eksClient.send(
    new AssociateAccessPolicyCommand({
      clusterName: CLUSTER_NAME,
      principalArn: accessRoleArn,
      policyArn: ADMIN_POLICY,
      accessScope: { type: "cluster" },
    }),
  );

  const topology = [
    "version: 1",
    "cluster:",
    `  name: ${CLUSTER_NAME}`,
    `  account: "${A}"`,
    `  region: ${REGION}`,
    `  securityGroupId: ${sgA}`,
    `  vpc: { id: ${vpcA}, cidr: ${CLUSTER_CIDR}, routeTables: [${rtbA}, ${mainA}] }`,
    "clients:",
    ...clients.flatMap((c) => [
      `  - name: ${c.name}`,
      `    account: "${c.account}"`,
      `    vpc: { id: ${c.vpcId}, cidr: ${c.cidr}, routeTables: [${c.routeTableId}] }`,
      `    role: { name: ${CLIENT_ROLE}, existing: true }`,
      ...(c.instanceId ? [`    instance: { subnetId: ${c.subnetId}, type: t3.micro }`] : []),
    ]),
    "access:",
    `  - role: ${ACCESS_ROLE}`,
    `    clients: [${clients.map((c) => c.name).join(", ")}]`,
    "    policies: [AmazonEKSClusterAdminPolicy]",
    "",
  ].join("\n");

  return {
    cluster: { vpcId: vpcA, subnetIds, routeTableId: rtbA, mainRouteTableId: mainA, securityGroupId: sgA },
    clients,
    accessRoleArn,
    topology,
    ec2,
    iam,
    eks: eksClient,
    destroy: () => {
      for (const c of [...ec2s.values(), ...iams.values(), eksClient]) c.destroy();
    },
  };
}

/** One thing broken, by hand; `links` fail, `fix` is a fragment each failing link's fix must contain. */
export interface Break {
  name: string;
  /** The link that must fail, with a fragment of its fix. */
  link: string;
  fix: string;
  /** Links that fail as a consequence (documented in docs/doctor.md), with a fragment of their fix. */
  alsoFails?: Record<string, string>;
  /** Build the setup differently (for states a person reaches before finishing). */
  options?: SetupOptions;
  apply?(s: Setup, eks: EksFixture): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const BREAKS: Break[] = [
  {
    name: "the client route to the cluster removed",
    link: "network.route.client-to-cluster",
    fix: "aws ec2 create-route",
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      await s
        .ec2(c.account)
        .send(new DeleteRouteCommand({ RouteTableId: c.routeTableId, DestinationCidrBlock: CLUSTER_CIDR }));
    },
  },
  {
    name: "the cluster's main-table route to the client removed",
    link: "network.route.cluster-to-client",
    fix: "aws ec2 create-route",
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      await s
        .ec2(CLUSTER_ACCOUNT)
        .send(
          new DeleteRouteCommand({ RouteTableId: s.cluster.mainRouteTableId, DestinationCidrBlock: c.cidr }),
        );
    },
  },
  {
    name: "the 443 ingress rule revoked",
    link: "network.security-group",
    fix: "authorize-security-group-ingress",
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      await s.ec2(CLUSTER_ACCOUNT).send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: s.cluster.securityGroupId,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: c.cidr }] }],
        }),
      );
    },
  },
  {
    name: "the access role's trust without the client role",
    link: "iam.access-role-trust",
    fix: "update-assume-role-policy",
    apply: async (s) => {
      await s.iam(CLUSTER_ACCOUNT).send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: ACCESS_ROLE,
          PolicyDocument: accessTrust(["arn:aws:iam::999999999999:role/Someone-Else"]),
        }),
      );
    },
  },
  {
    name: "the client role's policy without sts:AssumeRole",
    link: "iam.assume-permission",
    fix: "put-role-policy",
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      await s.iam(c.account).send(
        new PutRolePolicyCommand({
          RoleName: CLIENT_ROLE,
          PolicyName: "AssumeEksAccessRole",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" }],
          }),
        }),
      );
    },
  },
  {
    name: "the peering pending acceptance",
    link: "network.peering",
    fix: "accept-vpc-peering-connection",
    options: { acceptPeering: false },
  },
  {
    name: "the peering deleted",
    link: "network.peering",
    fix: "create-vpc-peering-connection",
    // Routes through a deleted peering are blackholes: they must be replaced once a new peering exists.
    alsoFails: {
      "network.route.client-to-cluster": "replace-route",
      "network.route.cluster-to-client": "replace-route",
    },
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      await s
        .ec2(c.account)
        .send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: c.peeringId }));
    },
  },
  {
    name: "the cluster in CONFIG_MAP mode",
    link: "eks.authentication-mode",
    fix: "authenticationMode=API_AND_CONFIG_MAP",
    apply: async (_s, eks) => {
      // EKS only moves CONFIG_MAP -> API_AND_CONFIG_MAP -> API; the fixture is set directly.
      const c = eks.clusters.get(CLUSTER_NAME);
      if (c) c.authenticationMode = "CONFIG_MAP";
    },
  },
  {
    name: "the access entry deleted",
    link: "eks.access-entry",
    fix: "aws eks create-access-entry",
    alsoFails: { "eks.access-policy": "see eks.access-entry" },
    apply: async (s) => {
      await s.eks.send(
        new DeleteAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn: s.accessRoleArn }),
      );
    },
  },
  {
    name: "the access entry made for an assumed-role (session) ARN",
    link: "eks.access-entry",
    fix: "aws eks delete-access-entry",
    alsoFails: { "eks.access-policy": "see eks.access-entry" },
    apply: async (s) => {
      const session = `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/${ACCESS_ROLE}/admin-session`;
      await s.eks.send(
        new DeleteAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn: s.accessRoleArn }),
      );
      await s.eks.send(
        new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn: session, type: "STANDARD" }),
      );
      await s.eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: CLUSTER_NAME,
          principalArn: session,
          policyArn: ADMIN_POLICY,
          accessScope: { type: "cluster" },
        }),
      );
    },
  },
  {
    name: "the access policy scoped to one namespace",
    link: "eks.access-policy",
    fix: "aws eks associate-access-policy",
    apply: async (s) => {
      // AmazonEKSClusterAdminPolicy re-associated with namespace scope: narrower than the topology asks.
      await s.eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: CLUSTER_NAME,
          principalArn: s.accessRoleArn,
          policyArn: ADMIN_POLICY,
          accessScope: { type: "namespace", namespaces: ["default"] },
        }),
      );
    },
  },
  {
    name: "the access role deleted and recreated with the same name",
    link: "eks.access-entry",
    fix: "delete-access-entry",
    apply: async (s) => {
      const c = s.clients.map((x) => x.roleArn);
      const iam = s.iam(CLUSTER_ACCOUNT);
      await iam.send(new DeleteRolePolicyCommand({ RoleName: ACCESS_ROLE, PolicyName: "DescribeCluster" }));
      await iam.send(new DeleteRoleCommand({ RoleName: ACCESS_ROLE }));
      // Make sure the new role is created in a later millisecond than the entry.
      await sleep(20);
      await iam.send(
        new CreateRoleCommand({ RoleName: ACCESS_ROLE, AssumeRolePolicyDocument: accessTrust(c) }),
      );
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: ACCESS_ROLE,
          PolicyName: "DescribeCluster",
          PolicyDocument: DESCRIBE_POLICY,
        }),
      );
    },
  },
  {
    name: "the endpoint public only",
    link: "network.endpoint",
    fix: "endpointPrivateAccess=true",
    apply: async (s) => {
      await s.eks.send(
        new UpdateClusterConfigCommand({
          name: CLUSTER_NAME,
          resourcesVpcConfig: { endpointPrivateAccess: false, endpointPublicAccess: true },
        }),
      );
    },
  },
  {
    name: "the client instance without the instance profile",
    link: "iam.client-role",
    fix: "associate-iam-instance-profile",
    apply: async (s) => {
      const c = s.clients[0] as ClientSetup;
      const ec2 = s.ec2(c.account);
      const assoc = await ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [{ Name: "instance-id", Values: [c.instanceId as string] }],
        }),
      );
      for (const a of assoc.IamInstanceProfileAssociations ?? []) {
        await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: a.AssociationId }));
      }
    },
  },
];
