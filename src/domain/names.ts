/**
 * One definition of each name and id pattern xeks checks: used by the topology schema (src/topology/schema.ts)
 * and by the token and kubeconfig path (src/token/plugin.ts, src/kubeconfig). Domain layer: no imports outside
 * src/domain, no zod (the token bundle loads this file on its warm path). Each pattern is anchored (`^…$`).
 * The source of each rule is named beside it.
 */
import { PARTITION_PATTERN } from "./arn.js";

/** An AWS account id: twelve digits (AWS General Reference, "AWS account identifiers"). */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

/**
 * A region as the topology file accepts it: `ap-south-1`, `us-gov-west-1`, `us-isob-east-1` (the published
 * region names). Stricter than REGION_LABEL_PATTERN on purpose: a typo in a file is caught early.
 */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

/**
 * A region as the token path accepts it (`--region`, the host of a presigned URL): one DNS label, so a region
 * AWS adds later still works with an installed kubeconfig.
 */
export const REGION_LABEL_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** An EKS cluster name: 1-100 letters, digits, `-` and `_`, starting with a letter or digit (EKS CreateCluster). */
export const CLUSTER_NAME_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** An EKS cluster id (Outposts local clusters, `--cluster-id`): the same characters as a cluster name. */
export const CLUSTER_ID_PATTERN = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/** A client's short name in the topology (used in stack and resource names): a-z first, then a-z, 0-9, `-`. */
export const CLIENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/** An IAM role name: 1-64 of letters, digits and `+=,.@_-` (IAM CreateRole). */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

/** An IAM instance profile name: 1-128 of letters, digits and `+=,.@_-` (IAM CreateInstanceProfile). */
export const INSTANCE_PROFILE_NAME_PATTERN = /^[\w+=,.@-]{1,128}$/;

/** An IAM path: `/` or `/a/b/`, printable ASCII (IAM CreateRole; at most 512 characters, checked apart). */
export const IAM_PATH_PATTERN = /^\/([\x21-\x7e]*\/)?$/;

/** An IAM role ARN in a known partition, with an optional path (IAM identifiers, "IAM ARNs"). */
export const ROLE_ARN_PATTERN = new RegExp(
  `^arn:(${PARTITION_PATTERN}):iam::\\d{12}:role\\/[\\w+=,.@/-]{1,512}$`,
);

/** An IAM managed policy ARN: a customer policy (twelve-digit account) or an AWS-managed one (account `aws`). */
export const MANAGED_POLICY_ARN_PATTERN = /^arn:[\w-]+:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;

/** The principal of an access entry: an IAM role or user ARN, or an STS session ARN (EKS CreateAccessEntry). */
export const PRINCIPAL_ARN_PATTERN = /^arn:[\w-]+:(iam|sts)::\d{12}:[\w+=,.@/-]+$/;

/** An `sts:ExternalId`: 2-1224 of letters, digits and `+=,.@:/-` (STS AssumeRole). */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/** A role session name: 2-64 of letters, digits and `+=,.@_-` (STS AssumeRole RoleSessionName). */
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;

/** An AWS Organizations id: `o-` and 10-32 lowercase letters or digits (Organizations API reference). */
export const ORGANIZATION_ID_PATTERN = /^o-[a-z0-9]{10,32}$/;

/**
 * A Kubernetes namespace in an access scope: a DNS label (RFC 1123, at most 63 characters) where EKS also allows
 * `*` as a glob (`team-*`) (EKS AssociateAccessPolicy, accessScope.namespaces).
 */
export const NAMESPACE_PATTERN = /^[a-z0-9*]([-a-z0-9*]{0,61}[a-z0-9*])?$/;

/**
 * Prefixes EKS reserves for access entry usernames and Kubernetes groups (EKS CreateAccessEntry:
 * `system:`, `eks:`, `aws:`, `amazon:`, `iam:`).
 */
export const RESERVED_USERNAME_PREFIXES: readonly string[] = ["system:", "eks:", "aws:", "amazon:", "iam:"];

/** The EC2 resource kinds whose ids the topology names: VPC, subnet, route table, security group, peering. */
export type Ec2IdPrefix = "vpc" | "subnet" | "rtb" | "sg" | "pcx" | "sgr";

/**
 * The pattern of an EC2 resource id: the prefix, `-`, and 8 or 17 lowercase hex digits (EC2 resource ids,
 * "longer ids" since 2018), as source text for a RegExp or a JSON Schema / CloudFormation `pattern`.
 */
export function ec2IdPatternSource(prefix: Ec2IdPrefix): string {
  return `^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`;
}

/** ec2IdPatternSource as a RegExp. */
export function ec2IdPattern(prefix: Ec2IdPrefix): RegExp {
  return new RegExp(ec2IdPatternSource(prefix));
}
