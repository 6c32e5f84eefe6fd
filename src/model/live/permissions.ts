/**
 * The read-only IAM policy doctor and discover need, in every account they read (docs/doctor.md prints it).
 * sts:GetCallerIdentity needs no permission. A missing action makes the links that need it `unknown`. The
 * client kinds add iam:ListRoles (an Identity Center permission set's roles), iam:GetOpenIDConnectProvider
 * (oidc) and eks:ListPodIdentityAssociations + eks:DescribePodIdentityAssociation (pod-identity), in the client
 * account.
 */
export const DOCTOR_ACTIONS = {
  eks: [
    "eks:DescribeCluster",
    "eks:ListAccessEntries",
    "eks:DescribeAccessEntry",
    "eks:ListAssociatedAccessPolicies",
    "eks:ListPodIdentityAssociations",
    "eks:DescribePodIdentityAssociation",
  ],
  iam: [
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRoles",
    "iam:GetOpenIDConnectProvider",
  ],
  ec2: [
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeInstances",
  ],
} as const;

export const DOCTOR_POLICY = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "XeksReadEks", Effect: "Allow", Action: [...DOCTOR_ACTIONS.eks], Resource: "*" },
    { Sid: "XeksReadIam", Effect: "Allow", Action: [...DOCTOR_ACTIONS.iam], Resource: "*" },
    { Sid: "XeksReadEc2", Effect: "Allow", Action: [...DOCTOR_ACTIONS.ec2], Resource: "*" },
  ],
};
