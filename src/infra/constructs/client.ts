/**
 * Client-account constructs: the EC2 role the client's workloads run as, and the optional client instance.
 */
import { aws_ec2 as ec2, Fn, aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";
import { formatArn, roleArn } from "../../domain/arn.js";
import { acknowledge } from "../nag.js";
import { literalEnv } from "./env.js";

/** Props of {@link ClientRole}. */
export interface ClientRoleProps {
  /** Role name in the client account. */
  readonly roleName: string;
  /**
   * IAM path of the role (and of its instance profile).
   * @default "/"
   */
  readonly path?: string;
  /**
   * The role and its instance profile exist already: create neither, only attach the sts:AssumeRole policy to
   * the role (`AWS::IAM::RolePolicy` with `RoleName`).
   * @default false
   */
  readonly existing?: boolean;
  /**
   * Name of the instance profile (created with the role; for an existing role, the name of its profile).
   * @default - the role name
   */
  readonly instanceProfileName?: string;
  /**
   * Exact ARNs of the access roles this role may assume; never `*`. Empty: no policy is added.
   */
  readonly accessRoleArns: readonly string[];
  /**
   * Managed policy set as the permissions boundary of a created role (ignored for an existing role).
   * @default - no boundary
   */
  readonly permissionsBoundaryArn?: string;
  /**
   * Name of the inline sts:AssumeRole policy.
   * @default "xeks-assume-access-roles"
   */
  readonly policyName?: string;
  /**
   * Attach AmazonSSMManagedInstanceCore so Session Manager can reach an instance running with this role
   * (created roles only).
   * @default false
   */
  readonly ssmManagedInstance?: boolean;
}

/**
 * The EC2 role of a client (trusted by ec2.amazonaws.com, with an instance profile), allowed sts:AssumeRole on
 * exactly the access roles that trust it; or, for an existing role, only that policy.
 */
export class ClientRole extends Construct {
  /** `arn:PARTITION:iam::ACCOUNT:role{path}{name}`, a literal. */
  readonly roleArn: string;
  readonly instanceProfileName: string;
  /** The sts:AssumeRole inline policy of an existing role (`AWS::IAM::RolePolicy`); undefined otherwise. */
  assumePolicy?: iam.CfnRolePolicy;
  /** The created role; undefined for an existing role. */
  readonly role?: iam.Role;

  constructor(scope: Construct, id: string, props: ClientRoleProps) {
    super(scope, id);
    const path = props.path ?? "/";
    const { partition, account } = literalEnv(this);
    this.roleArn = roleArn(partition, account, props.roleName, path);
    this.instanceProfileName = props.instanceProfileName ?? props.roleName;
    const policyName = props.policyName ?? "xeks-assume-access-roles";
    const assume =
      props.accessRoleArns.length > 0
        ? new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                sid: "AssumeTheAccessRoles",
                actions: ["sts:AssumeRole"],
                resources: [...props.accessRoleArns],
              }),
            ],
          })
        : undefined;

    if (props.existing) {
      if (assume) {
        this.assumePolicy = new iam.CfnRolePolicy(this, "AssumePolicy", {
          roleName: props.roleName,
          policyName,
          policyDocument: assume.toJSON(),
        });
      }
      return;
    }

    const ssmCore = formatArn({
      partition,
      service: "iam",
      region: "",
      account: "aws",
      resource: "policy/AmazonSSMManagedInstanceCore",
    });
    this.role = new iam.Role(this, "Default", {
      roleName: props.roleName,
      path,
      description: "xeks: EC2 role of a client; may assume only its EKS access roles",
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      permissionsBoundary: props.permissionsBoundaryArn
        ? iam.ManagedPolicy.fromManagedPolicyArn(this, "Boundary", props.permissionsBoundaryArn)
        : undefined,
      managedPolicies: props.ssmManagedInstance
        ? [iam.ManagedPolicy.fromManagedPolicyArn(this, "SsmCore", ssmCore)]
        : undefined,
      inlinePolicies: assume ? { [policyName]: assume } : undefined,
    });
    if (props.ssmManagedInstance) {
      acknowledge(
        this.role,
        `AwsSolutions-IAM4[Policy::${ssmCore}]`,
        "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, the only way into the " +
          "client instance (no key pair, no public IP, no inbound rule).",
      );
    }
    new iam.CfnInstanceProfile(this, "InstanceProfile", {
      instanceProfileName: this.instanceProfileName,
      path,
      roles: [this.role.roleName],
    });
  }
}

/** Props of {@link ClientInstance}. */
export interface ClientInstanceProps {
  /** The client VPC (for the instance's security group). */
  readonly vpcId: string;
  /** A subnet of that VPC whose route table has the route to the cluster. */
  readonly subnetId: string;
  /**
   * EC2 instance type.
   * @default "t3.micro"
   */
  readonly instanceType?: string;
  /**
   * CPU architecture of the Amazon Linux 2023 image; must match the instance type (t4g, m7g: arm64).
   * @default "x86_64"
   */
  readonly architecture?: "x86_64" | "arm64";
  /** Instance profile of the client role. */
  readonly instanceProfileName: string;
  /** The boot script (plain text; base64-encoded here). See `clientUserData`. */
  readonly userData: string;
  /**
   * Where the instance may open HTTPS connections (the cluster endpoint, STS, SSM, the package mirrors).
   * @default "0.0.0.0/0" on TCP 443 only
   */
  readonly egressCidr?: string;
  /**
   * The Name tag.
   * @default - none
   */
  readonly name?: string;
}

/**
 * An Amazon Linux 2023 instance to run kubectl from: IMDSv2 only, no public IP, no key pair, no inbound rule,
 * egress on 443 only, an encrypted root volume; reached through SSM Session Manager.
 */
export class ClientInstance extends Construct {
  readonly securityGroup: ec2.CfnSecurityGroup;
  readonly instance: ec2.CfnInstance;

  constructor(scope: Construct, id: string, props: ClientInstanceProps) {
    super(scope, id);
    const arch = props.architecture ?? "x86_64";
    this.securityGroup = new ec2.CfnSecurityGroup(this, "SecurityGroup", {
      groupDescription: "xeks client instance: no inbound; outbound HTTPS only",
      vpcId: props.vpcId,
      securityGroupEgress: [
        {
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIp: props.egressCidr ?? "0.0.0.0/0",
          description: "HTTPS: EKS endpoint, STS, SSM, package downloads",
        },
      ],
      tags: props.name ? [{ key: "Name", value: props.name }] : undefined,
    });
    this.instance = new ec2.CfnInstance(this, "Resource", {
      imageId: `{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}}}`,
      instanceType: props.instanceType ?? "t3.micro",
      iamInstanceProfile: props.instanceProfileName,
      networkInterfaces: [
        {
          deviceIndex: "0",
          subnetId: props.subnetId,
          groupSet: [this.securityGroup.attrGroupId],
          associatePublicIpAddress: false,
          deleteOnTermination: true,
        },
      ],
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        { deviceName: "/dev/xvda", ebs: { encrypted: true, volumeType: "gp3", deleteOnTermination: true } },
      ],
      userData: Fn.base64(props.userData),
      tags: props.name ? [{ key: "Name", value: props.name }] : undefined,
    });
    acknowledge(
      this.instance,
      "AwsSolutions-EC28",
      "A kubectl jump host without workload: basic (5-minute) monitoring is enough; detailed monitoring only adds cost.",
    );
    acknowledge(
      this.instance,
      "AwsSolutions-EC29",
      "The instance holds no data and is rebuilt from its user data; `xeks destroy` must be able to terminate it.",
    );
  }
}
