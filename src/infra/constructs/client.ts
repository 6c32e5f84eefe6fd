/**
 * Client-account constructs: the role the client's workloads run as (EC2 role, web-identity role, Pod Identity
 * role), the Pod Identity association, and the optional client instance.
 */
import { aws_ec2 as ec2, aws_eks as eks, Fn, aws_iam as iam, Token } from "aws-cdk-lib";
import { Construct } from "constructs";
import { formatArn, roleArn } from "../../domain/arn.js";
import { type AssumeAction, oidcProviderArn, POD_IDENTITY_SERVICE } from "../../domain/principal.js";
import { podIdentityTrustPolicy, trustPolicy, webIdentityTrustPolicy } from "../../domain/trust.js";
import type { ClientRoleTrust } from "../../layout/layout.js";
import { acknowledge } from "../nag.js";
import { literalEnv } from "./env.js";

/** The service principal of EC2 (a client role of kind instance). */
const EC2_SERVICE = "ec2.amazonaws.com";

/**
 * The trust policy of a created client role, from the builders of src/domain/trust.ts (never written here):
 * ec2: `trustPolicy({ service: "ec2.amazonaws.com" })`, the document CDK's ServicePrincipal gave before;
 * web-identity: `webIdentityTrustPolicy`; pod-identity: `podIdentityTrustPolicy`. Literal JSON (no intrinsic).
 */
export function clientRoleTrustPolicy(trust: ClientRoleTrust): ReturnType<typeof trustPolicy> {
  switch (trust.kind) {
    case "ec2":
      return trustPolicy({ service: EC2_SERVICE });
    case "web-identity":
      return webIdentityTrustPolicy(trust.providerArn, trust.provider, trust.audience, trust.subjects);
    case "pod-identity":
      return podIdentityTrustPolicy();
  }
}

/** The CDK principal matching a trust (for CDK's own use, e.g. grants; the template gets the literal document). */
function principalOf(trust: ClientRoleTrust): iam.IPrincipal {
  switch (trust.kind) {
    case "ec2":
      return new iam.ServicePrincipal(EC2_SERVICE);
    case "web-identity":
      return new iam.WebIdentityPrincipal(trust.providerArn);
    case "pod-identity":
      return new iam.ServicePrincipal(POD_IDENTITY_SERVICE);
  }
}

const DESCRIPTIONS: Record<ClientRoleTrust["kind"], string> = {
  ec2: "xeks: EC2 role of a client; may assume only its EKS access roles",
  "web-identity":
    "xeks: web-identity role of a client (OIDC, exact subjects); may assume only its EKS access roles",
  "pod-identity": "xeks: EKS Pod Identity role of a client; may assume only its EKS access roles",
};

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
   * Who a created role trusts (ignored for an existing role, whose trust is left as it is).
   * @default { kind: "ec2" }
   */
  readonly trust?: ClientRoleTrust;
  /**
   * Create an instance profile with the role (kind instance). With `trust` other than ec2 there is never one.
   * @default true for an ec2 trust
   */
  readonly instanceProfile?: boolean;
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
   * The actions the inline policy allows on `accessRoleArns`: sts:AssumeRole, plus sts:TagSession for a Pod
   * Identity role (its sessions carry session tags, so the access role's trust and this policy allow both).
   * @default ["sts:AssumeRole"]
   */
  readonly assumeActions?: readonly AssumeAction[];
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
 * The role of a client, allowed sts:AssumeRole (and sts:TagSession for Pod Identity) on exactly the access roles
 * that trust it: the EC2 role (trusted by ec2.amazonaws.com, with an instance profile), the web-identity role of
 * a pipeline (trusted by its OIDC provider for exact subjects) or the Pod Identity role (trusted by
 * pods.eks.amazonaws.com); or, for an existing role, only that policy. The trust document is the literal output
 * of src/domain/trust.ts (`clientRoleTrustPolicy`).
 */
export class ClientRole extends Construct {
  /** `arn:PARTITION:iam::ACCOUNT:role{path}{name}`, a literal. */
  readonly roleArn: string;
  /** Whether the role has an instance profile (trust ec2: created with the role, or the existing role's). */
  readonly hasInstanceProfile: boolean;
  private readonly profileName?: string;
  /** The sts:AssumeRole inline policy of an existing role (`AWS::IAM::RolePolicy`); undefined otherwise. */
  assumePolicy?: iam.CfnRolePolicy;
  /** The created role; undefined for an existing role. */
  readonly role?: iam.Role;

  /**
   * The instance profile's name (the role name unless `instanceProfileName` says otherwise). Throws for a role
   * without an instance profile (`hasInstanceProfile` false: web-identity and Pod Identity roles).
   */
  get instanceProfileName(): string {
    if (this.profileName === undefined) {
      throw new Error(`ClientRole ${this.node.path}: the role has no instance profile`);
    }
    return this.profileName;
  }

  constructor(scope: Construct, id: string, props: ClientRoleProps) {
    super(scope, id);
    const path = props.path ?? "/";
    const { partition, account } = literalEnv(this);
    this.roleArn = roleArn(partition, account, props.roleName, path);
    const trust = props.trust ?? { kind: "ec2" };
    const withProfile = trust.kind === "ec2" && (props.instanceProfile ?? true);
    this.hasInstanceProfile = withProfile;
    if (withProfile) this.profileName = props.instanceProfileName ?? props.roleName;
    const policyName = props.policyName ?? "xeks-assume-access-roles";
    const actions = [...new Set(props.assumeActions ?? ["sts:AssumeRole"])];
    const assume =
      props.accessRoleArns.length > 0
        ? new iam.PolicyDocument({
            statements: [
              new iam.PolicyStatement({
                sid: "AssumeTheAccessRoles",
                actions,
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
      description: DESCRIPTIONS[trust.kind],
      assumedBy: principalOf(trust),
      permissionsBoundary: props.permissionsBoundaryArn
        ? iam.ManagedPolicy.fromManagedPolicyArn(this, "Boundary", props.permissionsBoundaryArn)
        : undefined,
      managedPolicies: props.ssmManagedInstance
        ? [iam.ManagedPolicy.fromManagedPolicyArn(this, "SsmCore", ssmCore)]
        : undefined,
      inlinePolicies: assume ? { [policyName]: assume } : undefined,
    });
    // The literal document of src/domain/trust.ts, so that the template says exactly what the builders say.
    // In a StackSet's member template (no environment) the OIDC provider is the member account's own.
    const memberTrust =
      trust.kind === "web-identity" && Token.isUnresolved(account)
        ? { ...trust, providerArn: oidcProviderArn(partition, account, trust.provider) }
        : trust;
    (this.role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument =
      clientRoleTrustPolicy(memberTrust);
    if (props.ssmManagedInstance) {
      acknowledge(
        this.role,
        `AwsSolutions-IAM4[Policy::${ssmCore}]`,
        "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, the only way into the " +
          "client instance (no key pair, no public IP, no inbound rule).",
      );
    }
    if (this.profileName !== undefined) {
      new iam.CfnInstanceProfile(this, "InstanceProfile", {
        instanceProfileName: this.instanceProfileName,
        path,
        roles: [this.role.roleName],
      });
    }
  }
}

/** Props of {@link PodIdentityAssociation}. */
export interface PodIdentityAssociationProps {
  /** The EKS cluster of the client account (same account and region as the stack). */
  readonly clusterName: string;
  /** The pods' namespace. */
  readonly namespace: string;
  /** The pods' service account. */
  readonly serviceAccount: string;
  /** ARN of the Pod Identity role (a literal), trusted by pods.eks.amazonaws.com. */
  readonly roleArn: string;
  /**
   * The construct that creates the role, when it is in the same stack: EKS refuses an association with a role
   * that does not exist yet, and a literal ARN carries no dependency.
   * @default - no explicit dependency
   */
  readonly dependsOn?: Construct;
}

/**
 * An `AWS::EKS::PodIdentityAssociation` in its plain form: the pods of `namespace`/`serviceAccount` get
 * credentials of `roleArn` (no `TargetRoleArn`: they assume the access roles themselves, see docs/clients.md).
 * EKS User Guide, "Assign an IAM role to a Kubernetes service account" (Pod Identity).
 */
export class PodIdentityAssociation extends Construct {
  readonly association: eks.CfnPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityAssociationProps) {
    super(scope, id);
    this.association = new eks.CfnPodIdentityAssociation(this, "Resource", {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      roleArn: props.roleArn,
    });
    if (props.dependsOn) this.association.node.addDependency(props.dependsOn);
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
