/**
 * Cluster-account constructs: the access role a client assumes, and the EKS access entry that maps it to
 * Kubernetes permissions.
 */
import { aws_eks as eks, aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";
import { roleArn } from "../../domain/arn.js";
import type { ClientPrincipal } from "../../domain/principal.js";
import type { AccessScope } from "../../domain/scope.js";
import { accessTrustPolicy, type OrganizationTrust, trustPolicy } from "../../domain/trust.js";
import { ACCESS_ROLE_POLICY_NAME } from "../../layout/names.js";
import { acknowledge } from "../nag.js";
import { literalEnv } from "./env.js";

/** Props of {@link AccessRole}. */
export interface AccessRoleProps {
  /** Name of the role in the cluster account (fixed, so the client account can name it in its policy). */
  readonly roleName: string;
  /**
   * Exact ARNs of the client roles allowed to assume this role. IAM resolves each to the role's unique id when the
   * trust policy is saved, so the roles must already exist (xeks deploys them in phase 1). Ignored when
   * `principals` is given.
   * @default - none: `principals` must be given
   */
  readonly trustedRoleArns?: readonly string[];
  /**
   * What the role trusts, per client (exact roles, Pod Identity roles with sts:TagSession, permission set role
   * patterns): the trust policy is `accessTrustPolicy(principals, externalId, partition)` of
   * src/domain/trust.ts, which for exact sts:AssumeRole roles is the `trustedRoleArns` document.
   * @default - trustedRoleArns
   */
  readonly principals?: readonly ClientPrincipal[];
  /**
   * When set, sts:AssumeRole must pass this external id (`sts:ExternalId` condition on the trust statement).
   * @default - no external id condition
   */
  readonly externalId?: string;
  /**
   * The organization statement (docs/organizations.md): the principals whose ARN is in `organization.covered` get
   * in by `aws:PrincipalOrgID` (and paths) and an `ArnLike aws:PrincipalArn` role name pattern instead of by exact
   * ARN: `accessTrustPolicy(principals, externalId, partition, organization)`. Only with `principals`.
   * @default - no organization statement
   */
  readonly organization?: OrganizationTrust;
  /** ARN of the EKS cluster; eks:DescribeCluster is allowed on it and on nothing else. */
  readonly clusterArn: string;
  /**
   * Also allow eks:ListClusters. Its only valid resource is `*` (the cdk-nag IAM5 finding is acknowledged).
   * @default true
   */
  readonly allowListClusters?: boolean;
  /**
   * Name of the inline policy.
   * @default "xeks-eks-describe"
   */
  readonly policyName?: string;
  /**
   * Inline policies to keep on the role beside xeks's own (those found on an adopted role: nothing is lost).
   * @default - none
   */
  readonly keepPolicies?: readonly { name: string; document: Record<string, unknown> | object }[];
}

/**
 * The access role in the cluster account: trusted by exact client role ARNs, Pod Identity roles (sts:AssumeRole and
 * sts:TagSession) and permission sets' roles (account root with ArnLike aws:PrincipalArn), optionally with an
 * external id,
 * allowed only eks:DescribeCluster on the cluster (what `aws eks update-kubeconfig` needs) and eks:ListClusters.
 * Kubernetes permissions do not come from IAM but from the access entry ({@link ClusterAccessEntry}).
 */
export class AccessRole extends Construct {
  /** The L2 role; its CloudFormation resource is `role.node.defaultChild`. */
  readonly role: iam.Role;
  /** `arn:PARTITION:iam::ACCOUNT:role/NAME` as a literal (no token), usable from other accounts. */
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: AccessRoleProps) {
    super(scope, id);
    const principals = props.principals ?? [];
    const trustedArns = props.trustedRoleArns ?? [];
    if (principals.length === 0 && trustedArns.length === 0) {
      throw new Error(`AccessRole ${props.roleName}: no trusted role`);
    }
    const { partition, account } = literalEnv(this);
    this.roleArn = roleArn(partition, account, props.roleName);
    const statements = [
      new iam.PolicyStatement({
        sid: "DescribeTheCluster",
        actions: ["eks:DescribeCluster"],
        resources: [props.clusterArn],
      }),
    ];
    if (props.allowListClusters ?? true) {
      statements.push(
        new iam.PolicyStatement({ sid: "ListClusters", actions: ["eks:ListClusters"], resources: ["*"] }),
      );
    }
    this.role = new iam.Role(this, "Default", {
      roleName: props.roleName,
      description: "xeks: cross-account access to EKS; Kubernetes rights come from its access entry",
      assumedBy:
        principals.length > 0
          ? new iam.CompositePrincipal(
              ...principals.map((p) =>
                p.arn ? new iam.ArnPrincipal(p.arn) : new iam.AccountPrincipal(p.account as string),
              ),
            )
          : new iam.CompositePrincipal(...trustedArns.map((arn) => new iam.ArnPrincipal(arn))),
      externalIds: props.externalId ? [props.externalId] : undefined,
      inlinePolicies: {
        ...Object.fromEntries(
          (props.keepPolicies ?? []).map((p) => [p.name, iam.PolicyDocument.fromJson(p.document)]),
        ),
        [props.policyName ?? ACCESS_ROLE_POLICY_NAME]: new iam.PolicyDocument({ statements }),
      },
    });
    // The literal document of src/domain/trust.ts: one statement naming every exact role (CDK's
    // CompositePrincipal would write one per role), one for Pod Identity roles, one per permission set account.
    (this.role.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument =
      principals.length > 0
        ? accessTrustPolicy(principals, props.externalId, partition, props.organization)
        : trustPolicy({ aws: trustedArns }, props.externalId);
    if (props.allowListClusters ?? true) {
      acknowledge(
        this.role,
        "AwsSolutions-IAM5[Resource::*]",
        'eks:ListClusters supports no resource-level permission: "*" is its only valid resource. ' +
          "DescribeCluster, the action that reads the cluster, is limited to the cluster ARN.",
      );
    }
  }
}

/** One access policy association of an access entry. */
export interface AccessPolicyAssociation {
  /** `arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy` */
  readonly policyArn: string;
  /** Cluster-wide, or limited to namespaces (`*` globs allowed by EKS). */
  readonly scope: AccessScope;
}

/** Props of {@link ClusterAccessEntry}. */
export interface ClusterAccessEntryProps {
  /** Name of the EKS cluster (in this stack's account and region). */
  readonly clusterName: string;
  /** The IAM role ARN (never an assumed-role session ARN). */
  readonly principalArn: string;
  /** Access policies and their scopes. */
  readonly accessPolicies: readonly AccessPolicyAssociation[];
  /**
   * Kubernetes groups for RBAC bindings of your own.
   * @default - none (the property is omitted)
   */
  readonly kubernetesGroups?: readonly string[];
  /**
   * Kubernetes username.
   * @default - omitted: EKS derives it from the role (the assumed-role ARN with the session name)
   */
  readonly username?: string;
  /**
   * A construct the entry must wait for (the role it names, when created in the same stack): EKS refuses an
   * entry for a principal that does not exist yet.
   * @default - no explicit dependency
   */
  readonly dependsOn?: Construct;
}

/** An `AWS::EKS::AccessEntry` of type STANDARD, the only type that may name a principal in another account. */
export class ClusterAccessEntry extends Construct {
  readonly entry: eks.CfnAccessEntry;

  constructor(scope: Construct, id: string, props: ClusterAccessEntryProps) {
    super(scope, id);
    const groups = props.kubernetesGroups ?? [];
    this.entry = new eks.CfnAccessEntry(this, "Resource", {
      clusterName: props.clusterName,
      principalArn: props.principalArn,
      type: "STANDARD",
      accessPolicies: props.accessPolicies.map((p) => ({
        policyArn: p.policyArn,
        accessScope:
          p.scope.type === "namespace"
            ? { type: "namespace", namespaces: [...p.scope.namespaces] }
            : { type: "cluster" },
      })),
      kubernetesGroups: groups.length > 0 ? [...groups] : undefined,
      username: props.username,
    });
    if (props.dependsOn) this.entry.node.addDependency(props.dependsOn);
  }
}
