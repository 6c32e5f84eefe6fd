/**
 * The original system built by hand in a moto lab (test/helpers/moto-deploy.ts), as its notes did: the VPC
 * peering (requested from the client account, accepted in the cluster account), routes on both sides, the 443 rule,
 * an access role that trusts the client account's root, the EC2 role with its instance profile and an inline
 * AssumeRole policy, and an access entry with AmazonEKSClusterAdminPolicy at cluster scope. Plus what no topology
 * names: two other access entries and one other route. Used by the adoption tests (test/deploy-adopt.test.ts) and the
 * resource import tests (test/deploy-import.test.ts).
 */
import {
  AcceptVpcPeeringConnectionCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
} from "@aws-sdk/client-ec2";
import { CreateAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  ACCESS_ROLE,
  CLIENT_ACCOUNT,
  CLIENT_CIDR,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_CIDR,
  CLUSTER_NAME,
  type Lab,
  REGION,
} from "./moto-deploy.js";

export const ASSUME_POLICY = "AssumeEKSAccessRole";
export const ACCESS_ROLE_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ACCESS_ROLE}`;
/** The route no topology names: a documentation range through an internet gateway, in the cluster's table. */
export const OTHER_ROUTE = "203.0.113.0/24";
/** Access entries no topology names. */
export const OTHER_ENTRIES = [
  `arn:aws:iam::${CLUSTER_ACCOUNT}:role/PlatformAdmins`,
  `arn:aws:iam::${CLUSTER_ACCOUNT}:role/ReadOnlyAuditors`,
];

const doc = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

/** What was built: the ids that must survive adoption. */
export interface HandBuilt {
  /** The peering connection's id (pcx-...). */
  pcx: string;
  /** The 443 rule's id (sgr-...). */
  sgr: string;
  /** The internet gateway of the other route; "" when `unrelated` is false. */
  igw: string;
  /** The access role's unique id (AROA...); "" when `networkOnly`. */
  accessRoleId: string;
  /** The client role's unique id (AROA...); "" when `networkOnly`. */
  clientRoleId: string;
}

/** The pieces to build (default: all). */
export interface HandBuiltOptions {
  /** Build only the network (peering, routes, rule): roles and entries are left for xeks to create. */
  networkOnly?: boolean;
  /** Also build what no topology names (two access entries, one route). Default true. */
  unrelated?: boolean;
  /** The Resource of the client role's inline AssumeRole policy. Default ACCESS_ROLE_ARN; "*" for a loose one. */
  assumeResource?: string;
}

/** Build the original system by hand in the lab's two accounts. */
export async function buildByHand(lab: Lab, opts: HandBuiltOptions = {}): Promise<HandBuilt> {
  const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
  const ec2B = await lab.ec2(CLIENT_ACCOUNT);
  const pcx =
    (
      await ec2B.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: lab.client.vpcId,
          PeerVpcId: lab.cluster.vpcId,
          PeerOwnerId: CLUSTER_ACCOUNT,
          PeerRegion: REGION,
        }),
      )
    ).VpcPeeringConnection?.VpcPeeringConnectionId ?? "";
  await ec2A.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
  await ec2A.send(
    new CreateRouteCommand({
      RouteTableId: lab.cluster.routeTableId,
      DestinationCidrBlock: CLIENT_CIDR,
      VpcPeeringConnectionId: pcx,
    }),
  );
  await ec2B.send(
    new CreateRouteCommand({
      RouteTableId: lab.client.routeTableId,
      DestinationCidrBlock: CLUSTER_CIDR,
      VpcPeeringConnectionId: pcx,
    }),
  );
  const sgr =
    (
      await ec2A.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: lab.cluster.securityGroupId,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: CLIENT_CIDR }] },
          ],
        }),
      )
    ).SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? "";
  let igw = "";
  if (opts.unrelated ?? true) {
    igw = (await ec2A.send(new CreateInternetGatewayCommand({}))).InternetGateway?.InternetGatewayId ?? "";
    await ec2A.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: lab.cluster.vpcId }));
    await ec2A.send(
      new CreateRouteCommand({
        RouteTableId: lab.cluster.routeTableId,
        DestinationCidrBlock: OTHER_ROUTE,
        GatewayId: igw,
      }),
    );
  }
  if (opts.networkOnly) return { pcx, sgr, igw, accessRoleId: "", clientRoleId: "" };

  const iamA = await lab.iam(CLUSTER_ACCOUNT);
  const iamB = await lab.iam(CLIENT_ACCOUNT);
  const accessRole = await iamA.send(
    new CreateRoleCommand({
      RoleName: ACCESS_ROLE,
      AssumeRolePolicyDocument: doc({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${CLIENT_ACCOUNT}:root` },
        Action: "sts:AssumeRole",
      }),
    }),
  );
  const clientRole = await iamB.send(
    new CreateRoleCommand({
      RoleName: CLIENT_ROLE,
      AssumeRolePolicyDocument: doc({
        Effect: "Allow",
        Principal: { Service: "ec2.amazonaws.com" },
        Action: "sts:AssumeRole",
      }),
    }),
  );
  await iamB.send(new CreateInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE }));
  await iamB.send(
    new AddRoleToInstanceProfileCommand({ InstanceProfileName: CLIENT_ROLE, RoleName: CLIENT_ROLE }),
  );
  await iamB.send(
    new PutRolePolicyCommand({
      RoleName: CLIENT_ROLE,
      PolicyName: ASSUME_POLICY,
      PolicyDocument: doc({
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: opts.assumeResource ?? ACCESS_ROLE_ARN,
      }),
    }),
  );
  await lab.createAccessEntry();
  if (opts.unrelated ?? true) {
    const eks = new EKSClient({
      region: REGION,
      endpoint: lab.eks.url,
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x" },
    });
    for (const principalArn of OTHER_ENTRIES) {
      await eks.send(
        new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn, type: "STANDARD" }),
      );
    }
    eks.destroy();
  }
  return {
    pcx,
    sgr,
    igw,
    accessRoleId: accessRole.Role?.RoleId ?? "",
    clientRoleId: clientRole.Role?.RoleId ?? "",
  };
}
