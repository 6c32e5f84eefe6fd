/**
 * The network path between a client VPC and the cluster VPC: the accepter role (cluster account), the peering
 * request (client account), routes on both sides and the cluster security group rule.
 */
import { aws_ec2 as ec2, aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";
import { requesterPolicySplit } from "../../domain/accepter-policy.js";
import { accountRootArn, formatArn, roleArn } from "../../domain/arn.js";
import { accepterTrustPolicy } from "../../domain/trust.js";
import { acknowledge } from "../nag.js";
import { literalEnv } from "./env.js";

/** Props of {@link PeeringAccepterRole}. */
export interface PeeringAccepterRoleProps {
  /** Role name (fixed: the requester names it in `PeerRoleArn`). */
  readonly roleName: string;
  /**
   * Client account ids allowed to assume the role (as `arn:PARTITION:iam::ACCOUNT:root`); with `organization`,
   * those outside it (may be empty).
   */
  readonly requesterAccounts: readonly string[];
  /**
   * Trust every account of the organization (`aws:PrincipalOrgID`, and `aws:PrincipalOrgPaths` under `paths` when
   * declared): `accepterTrustPolicy` of src/domain/trust.ts, docs/organizations.md.
   * @default - only `requesterAccounts`
   */
  readonly organization?: { readonly id: string; readonly paths: readonly string[] };
  /** ARN of the cluster VPC, the accepter VPC: the only VPC whose peerings the role may accept. */
  readonly accepterVpcArn: string;
  /** ARNs of the client VPCs, the only requesters accepted (`ec2:RequesterVpc` condition). */
  readonly requesterVpcArns: readonly string[];
}

/**
 * The role CloudFormation in a client account assumes (through `PeerRoleArn`) to accept the peering request in
 * the cluster account. AcceptVpcPeeringConnection authorizes two resources: the accepter VPC and the peering
 * connection. The VPC is named exactly; the connection's id is assigned only when the client requests it (a
 * later phase), so its ARN is `vpc-peering-connection/*` (in the accepter's account and region) narrowed by
 * `ec2:AccepterVpc` (the cluster VPC) and `ec2:RequesterVpc` (the client VPCs).
 *
 * The requester VPCs are named exactly (least privilege, also with an organization). When the inline policy would
 * exceed IAM's 10,240 characters for all inline policies of a role, the requester statement moves into customer
 * managed policies `ROLE-requesters-N` of at most 6,144 characters each (IAM User Guide, "IAM and AWS STS quotas"),
 * attached to the role; the inline policy keeps the accepter VPC statement. Up to about 90 VPCs fit one managed
 * policy (`requesterPolicySplit`); the proof (iam.policy-size) fails past 10 managed policies per role.
 */
export class PeeringAccepterRole extends Construct {
  readonly role: iam.Role;
  /** Literal ARN. */
  readonly roleArn: string;
  /** The customer managed policies holding the requester VPCs (empty when they fit the inline policy). */
  readonly managedPolicies: iam.ManagedPolicy[] = [];

  constructor(scope: Construct, id: string, props: PeeringAccepterRoleProps) {
    super(scope, id);
    const { partition, account, region } = literalEnv(this);
    this.roleArn = roleArn(partition, account, props.roleName);
    const peeringArns = formatArn({
      partition,
      service: "ec2",
      region,
      account,
      resource: "vpc-peering-connection/*",
    });
    const accounts = [...new Set(props.requesterAccounts)].sort();
    const intoClusterVpc = new iam.PolicyStatement({
      sid: "AcceptIntoTheClusterVpc",
      actions: ["ec2:AcceptVpcPeeringConnection"],
      resources: [props.accepterVpcArn],
    });
    const fromClientVpcs = (vpcArns: readonly string[], sid = "AcceptPeeringFromClientVpcs") =>
      new iam.PolicyStatement({
        sid,
        actions: ["ec2:AcceptVpcPeeringConnection"],
        resources: [peeringArns],
        conditions: {
          ArnEquals: {
            "ec2:AccepterVpc": props.accepterVpcArn,
            "ec2:RequesterVpc": vpcArns.length === 1 ? vpcArns[0] : [...vpcArns],
          },
        },
      });
    const split = requesterPolicySplit(props.accepterVpcArn, peeringArns, props.requesterVpcArns);
    const fits = split === undefined;
    const whole = new iam.PolicyDocument({
      statements: [intoClusterVpc, fromClientVpcs(props.requesterVpcArns)],
    });
    this.role = new iam.Role(this, "Default", {
      roleName: props.roleName,
      description: "xeks: lets the client accounts accept VPC peering with the cluster VPC",
      // Replaced below by the literal document of src/domain/trust.ts.
      assumedBy:
        accounts.length === 0 && props.organization
          ? new iam.OrganizationPrincipal(props.organization.id)
          : new iam.CompositePrincipal(
              ...accounts.map((a) => new iam.ArnPrincipal(accountRootArn(partition, a))),
            ),
      inlinePolicies: {
        "xeks-accept-peering": fits ? whole : new iam.PolicyDocument({ statements: [intoClusterVpc] }),
      },
    });
    (this.role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument = accepterTrustPolicy(
      accounts.map((a) => accountRootArn(partition, a)),
      props.organization ? { ...props.organization, clusterAccount: account } : undefined,
    );
    const reason =
      "The peering connection id is assigned when the client account requests it, after this role exists; the " +
      "statement is narrowed by ec2:AccepterVpc (the cluster VPC) and ec2:RequesterVpc (the client VPCs).";
    acknowledge(this.role, `AwsSolutions-IAM5[Resource::${peeringArns}]`, reason);
    if (split === undefined) return;
    const chunks = split;
    chunks.forEach((vpcArns, i) => {
      const policy = new iam.ManagedPolicy(this, `Requesters${i + 1}`, {
        managedPolicyName: `${props.roleName}-requesters-${i + 1}`,
        description: `xeks: accept VPC peering from client VPCs (part ${i + 1} of ${chunks.length})`,
        document: new iam.PolicyDocument({
          statements: [fromClientVpcs(vpcArns, `AcceptPeeringFromClientVpcs${i + 1}`)],
        }),
        roles: [this.role],
      });
      acknowledge(policy, `AwsSolutions-IAM5[Resource::${peeringArns}]`, reason);
      this.managedPolicies.push(policy);
    });
  }
}

/** Props of {@link PeeringConnection}. */
export interface PeeringConnectionProps {
  /** The requester (client) VPC, in this stack's account. */
  readonly vpcId: string;
  /** The accepter (cluster) VPC. */
  readonly peerVpcId: string;
  /** Account of the accepter VPC. */
  readonly peerOwnerId: string;
  /** Region of the accepter VPC (set even when it is this stack's region). */
  readonly peerRegion: string;
  /**
   * The accepter account's role that accepts the request ({@link PeeringAccepterRole}).
   * @default - none: a connection accepted already (an adopted one; adding it to an imported connection would
   *   make CloudFormation replace the connection)
   */
  readonly peerRoleArn?: string;
  /**
   * The Name tag.
   * @default - none
   */
  readonly name?: string;
}

/** `AWS::EC2::VPCPeeringConnection` requested from the client account and accepted through `PeerRoleArn`. */
export class PeeringConnection extends Construct {
  readonly connection: ec2.CfnVPCPeeringConnection;
  /** The connection id (a `Ref` token). */
  readonly peeringConnectionId: string;

  constructor(scope: Construct, id: string, props: PeeringConnectionProps) {
    super(scope, id);
    this.connection = new ec2.CfnVPCPeeringConnection(this, "Resource", {
      vpcId: props.vpcId,
      peerVpcId: props.peerVpcId,
      peerOwnerId: props.peerOwnerId,
      peerRegion: props.peerRegion,
      peerRoleArn: props.peerRoleArn,
      tags: props.name ? [{ key: "Name", value: props.name }] : undefined,
    });
    this.peeringConnectionId = this.connection.ref;
  }
}

/** Props of {@link PeerRoutes}. */
export interface PeerRoutesProps {
  /** Every route table that gets the route (include the main table when a subnet uses it implicitly). */
  readonly routeTableIds: readonly string[];
  /** The peer VPC's CIDR, a literal. */
  readonly destinationCidr: string;
  /** The peering connection: a `Ref` in the same stack, or a parameter filled from another account's output. */
  readonly vpcPeeringConnectionId: string;
}

/** One `AWS::EC2::Route` per route table to the peer CIDR through the peering connection. */
export class PeerRoutes extends Construct {
  readonly routes: ec2.CfnRoute[];

  constructor(scope: Construct, id: string, props: PeerRoutesProps) {
    super(scope, id);
    this.routes = props.routeTableIds.map(
      (rtb) =>
        new ec2.CfnRoute(this, rtb, {
          routeTableId: rtb,
          destinationCidrBlock: props.destinationCidr,
          vpcPeeringConnectionId: props.vpcPeeringConnectionId,
        }),
    );
  }
}

/** Props of {@link ClusterIngress}. */
export interface ClusterIngressProps {
  /** The cluster security group (an existing group id). */
  readonly securityGroupId: string;
  /** The client VPC CIDR admitted. */
  readonly cidr: string;
  /**
   * TCP port of the Kubernetes API.
   * @default 443
   */
  readonly port?: number;
  /**
   * Rule description.
   * @default "xeks: Kubernetes API from CIDR"
   */
  readonly description?: string;
}

/** `AWS::EC2::SecurityGroupIngress` on the existing cluster security group: TCP 443 from one client CIDR. */
export class ClusterIngress extends Construct {
  readonly ingress: ec2.CfnSecurityGroupIngress;

  constructor(scope: Construct, id: string, props: ClusterIngressProps) {
    super(scope, id);
    const port = props.port ?? 443;
    this.ingress = new ec2.CfnSecurityGroupIngress(this, "Resource", {
      groupId: props.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrIp: props.cidr,
      description: props.description ?? `xeks: Kubernetes API from ${props.cidr}`,
    });
  }
}
