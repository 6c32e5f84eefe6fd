/**
 * The good live setup of bench/doctor.bench.ts at scale, built by hand with SDK calls in the emulators (moto_server
 * behind test/helpers/moto-server.ts, the EKS emulator): one cluster account and N client accounts (up to 250), each
 * client a VPC peered with the cluster VPC (accepted) and routed both ways, an existing client role with its
 * instance profile and the permission to assume its access role. Not a `*.bench.ts` file: bench/run.ts does not
 * run it.
 *
 * Where it differs from test/helpers/live-setup.ts (buildSetup), which is made for up to 20 accounts:
 * - account ids and CIDRs hold up to 250 clients: client i is account 2000000 + i (5 digits), 10.(i+1).0.0/16;
 * - the cluster security group admits TCP 443 from 10.0.0.0/8 in one rule, which contains every client CIDR
 *   (moto refuses a 61st rule in a VPC security group, as AWS does by default; network.security-group accepts a
 *   rule whose CIDR contains the client's);
 * - access roles of at most 30 clients each (`access-01`, `access-02`, …), so each trust policy (one client role
 *   ARN of 57 characters per client) stays under IAM's 2,048 characters;
 * - one cluster route table (with a route to every client CIDR), no instance;
 * - clients are built 4 at a time.
 * With more than 125 clients the cluster VPC has more peerings than AWS allows (network.peering-quota fails, even
 * with the raised quota the topology declares); doctor still reads everything.
 */
import {
  AcceptVpcPeeringConnectionCommand,
  AssociateRouteTableCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import type { EksFixture } from "../test/helpers/eks-fixture.js";
import type { Credentials } from "../test/helpers/live-env.js";
import {
  ADMIN_POLICY,
  accessTrust,
  assumePolicy,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_CIDR,
  CLUSTER_NAME,
  REGION,
} from "../test/helpers/live-setup.js";
import type { Moto } from "../test/helpers/moto-server.js";

/** Clients per access role: 30 client role ARNs keep a trust policy under 2,048 characters. */
export const CLIENTS_PER_ACCESS_ROLE = 30;

/** Account of client i (0-based): 200000000000, 200000000001, … */
export function benchClientAccount(i: number): string {
  return `2000000${String(i).padStart(5, "0")}`;
}
/** Name of client i: team-001, team-002, … */
export function benchClientName(i: number): string {
  return `team-${String(i + 1).padStart(3, "0")}`;
}

const EC2_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const DESCRIBE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["eks:DescribeCluster", "eks:ListClusters"], Resource: "*" }],
});

/** Run `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export interface ManyAccounts {
  /** The topology file's text (clients team-001…, access roles access-01…, declared raised quotas). */
  topology: string;
  /** Client name -> account. */
  clients: Record<string, string>;
  accessRoles: number;
  destroy(): void;
}

/**
 * Build the setup for `n` clients (1 to 250) in empty emulators. `credentials(account)` gives credentials acting
 * in an account (makeAwsHome's, so the setup costs no AssumeRole of its own).
 */
export async function buildManyAccounts(
  moto: Moto,
  eks: EksFixture,
  n: number,
  credentials: (account: string) => Credentials,
): Promise<ManyAccounts> {
  if (!Number.isInteger(n) || n < 1 || n > 250) throw new RangeError(`1 to 250 clients, not ${n}`);
  const sdk: { destroy(): void }[] = [];
  const client = <T extends { destroy(): void }>(
    account: string,
    ctor: new (cfg: { region: string; endpoint: string; credentials: Credentials }) => T,
    endpoint = moto.proxyUrl,
  ): T => {
    const c = new ctor({ region: REGION, endpoint, credentials: credentials(account) });
    sdk.push(c);
    return c;
  };
  const A = CLUSTER_ACCOUNT;
  const ec2A = client(A, EC2Client);
  const iamA = client(A, IAMClient);

  const vpcA = (await ec2A.send(new CreateVpcCommand({ CidrBlock: CLUSTER_CIDR }))).Vpc?.VpcId as string;
  const subnetIds: string[] = [];
  for (const cidr of ["10.0.1.0/24", "10.0.2.0/24"]) {
    const s = await ec2A.send(new CreateSubnetCommand({ VpcId: vpcA, CidrBlock: cidr }));
    subnetIds.push(s.Subnet?.SubnetId as string);
  }
  const rtbA = (await ec2A.send(new CreateRouteTableCommand({ VpcId: vpcA }))).RouteTable
    ?.RouteTableId as string;
  for (const SubnetId of subnetIds) {
    await ec2A.send(new AssociateRouteTableCommand({ RouteTableId: rtbA, SubnetId }));
  }
  const sgA = (
    await ec2A.send(
      new CreateSecurityGroupCommand({
        GroupName: `eks-cluster-sg-${CLUSTER_NAME}`,
        Description: "EKS created security group applied to ENI that is attached to EKS Control Plane",
        VpcId: vpcA,
      }),
    )
  ).GroupId as string;
  await ec2A.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgA,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "kubectl from the client VPCs" }],
        },
      ],
    }),
  );
  eks.addCluster({
    name: CLUSTER_NAME,
    account: A,
    region: REGION,
    vpcId: vpcA,
    subnetIds,
    clusterSecurityGroupId: sgA,
    authenticationMode: "API_AND_CONFIG_MAP",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
  });

  const index = Array.from({ length: n }, (_, i) => i);
  const accessRole = (i: number) =>
    `access-${String(Math.floor(i / CLIENTS_PER_ACCESS_ROLE) + 1).padStart(2, "0")}`;
  const clients: {
    name: string;
    account: string;
    cidr: string;
    vpc: string;
    rtb: string;
    roleArn: string;
  }[] = [];
  await pool(index, 4, async (i) => {
    const B = benchClientAccount(i);
    const cidr = `10.${i + 1}.0.0/16`;
    const ec2 = client(B, EC2Client);
    const iam = client(B, IAMClient);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc?.VpcId as string;
    const subnet = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr.replace(/\.0\.0\/16$/, ".1.0/24") }),
      )
    ).Subnet?.SubnetId as string;
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable
      ?.RouteTableId as string;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: subnet }));
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: CLIENT_ROLE, AssumeRolePolicyDocument: EC2_TRUST }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: CLIENT_ROLE,
        PolicyName: "AssumeEksAccessRole",
        PolicyDocument: assumePolicy(`arn:aws:iam::${A}:role/${accessRole(i)}`),
      }),
    );
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE }));
    await iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE, RoleName: CLIENT_ROLE }),
    );
    const pcx = (
      await ec2.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: vpc,
          PeerVpcId: vpcA,
          PeerOwnerId: A,
          PeerRegion: REGION,
        }),
      )
    ).VpcPeeringConnection?.VpcPeeringConnectionId as string;
    await ec2A.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: rtb,
        DestinationCidrBlock: CLUSTER_CIDR,
        VpcPeeringConnectionId: pcx,
      }),
    );
    await ec2A.send(
      new CreateRouteCommand({ RouteTableId: rtbA, DestinationCidrBlock: cidr, VpcPeeringConnectionId: pcx }),
    );
    clients[i] = { name: benchClientName(i), account: B, cidr, vpc, rtb, roleArn: role.Role?.Arn as string };
  });

  // The access roles, each trusted by its clients' roles and allowed to describe the cluster; their entries.
  const eksA = client(A, EKSClient, eks.url);
  const roles = Math.ceil(n / CLIENTS_PER_ACCESS_ROLE);
  for (let r = 0; r < roles; r++) {
    const name = accessRole(r * CLIENTS_PER_ACCESS_ROLE);
    const members = clients.slice(r * CLIENTS_PER_ACCESS_ROLE, (r + 1) * CLIENTS_PER_ACCESS_ROLE);
    await iamA.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: accessTrust(members.map((c) => c.roleArn)),
      }),
    );
    await iamA.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: "DescribeCluster",
        PolicyDocument: DESCRIBE_POLICY,
      }),
    );
    const principalArn = `arn:aws:iam::${A}:role/${name}`;
    await eksA.send(
      new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn, type: "STANDARD" }),
    );
    await eksA.send(
      new AssociateAccessPolicyCommand({
        clusterName: CLUSTER_NAME,
        principalArn,
        policyArn: ADMIN_POLICY,
        accessScope: { type: "cluster" },
      }),
    );
  }

  const topology = [
    "version: 1",
    "cluster:",
    `  name: ${CLUSTER_NAME}`,
    `  account: "${A}"`,
    `  region: ${REGION}`,
    "  quotas: { peeringsPerVpc: 125 }",
    `  securityGroupId: ${sgA}`,
    `  vpc: { id: ${vpcA}, cidr: ${CLUSTER_CIDR}, routeTables: [${rtbA}] }`,
    "clients:",
    ...clients.flatMap((c) => [
      `  - name: ${c.name}`,
      `    account: "${c.account}"`,
      `    vpc: { id: ${c.vpc}, cidr: ${c.cidr}, routeTables: [${c.rtb}] }`,
      `    role: { name: ${CLIENT_ROLE}, existing: true }`,
    ]),
    "access:",
    ...Array.from({ length: roles }, (_, r) => [
      `  - role: ${accessRole(r * CLIENTS_PER_ACCESS_ROLE)}`,
      `    clients: [${clients
        .slice(r * CLIENTS_PER_ACCESS_ROLE, (r + 1) * CLIENTS_PER_ACCESS_ROLE)
        .map((c) => c.name)
        .join(", ")}]`,
      "    policies: [AmazonEKSClusterAdminPolicy]",
    ]).flat(),
    "",
  ].join("\n");

  return {
    topology,
    clients: Object.fromEntries(clients.map((c) => [c.name, c.account])),
    accessRoles: roles,
    destroy: () => {
      for (const c of sdk) c.destroy();
    },
  };
}
