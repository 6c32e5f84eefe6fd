/**
 * The peering accepter role's permissions policy, measured: how its requester VPC ARNs are split into customer
 * managed policies when the inline policy would outgrow IAM's quota (docs/organizations.md).
 */
import { documentSize, QUOTAS } from "./quotas.js";

/**
 * How the accepter role's requester VPCs are split (docs/organizations.md): `undefined` when the whole inline policy
 * (the accepter VPC statement and one statement naming every requester VPC) fits IAM's 10,240 characters for the
 * inline policies of a role; otherwise the requester VPC ARNs of each customer managed policy
 * `ROLE-requesters-N`, greedily in the given order, each document at most 6,144 characters (IAM User Guide, "IAM and
 * AWS STS quotas"). Measured on the documents CDK writes (same keys, literal ARNs), without CDK: plan's listing
 * (src/infra/describe.ts) and the PeeringAccepterRole construct (src/infra/constructs/network.ts) share it. CDK-free, so
 * that plan's listing does not load aws-cdk-lib.
 */
export function requesterPolicySplit(
  accepterVpcArn: string,
  peeringArns: string,
  requesterVpcArns: readonly string[],
): string[][] | undefined {
  const fromClientVpcs = (vpcArns: readonly string[], sid: string) => ({
    Action: "ec2:AcceptVpcPeeringConnection",
    Condition: {
      ArnEquals: {
        "ec2:AccepterVpc": accepterVpcArn,
        "ec2:RequesterVpc": vpcArns.length === 1 ? vpcArns[0] : [...vpcArns],
      },
    },
    Effect: "Allow",
    Resource: peeringArns,
    Sid: sid,
  });
  const whole = {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "ec2:AcceptVpcPeeringConnection",
        Effect: "Allow",
        Resource: accepterVpcArn,
        Sid: "AcceptIntoTheClusterVpc",
      },
      fromClientVpcs(requesterVpcArns, "AcceptPeeringFromClientVpcs"),
    ],
  };
  if (documentSize(whole) <= QUOTAS.inlinePoliciesPerRole) return undefined;
  const chunks: string[][] = [];
  for (const arn of requesterVpcArns) {
    const last = chunks[chunks.length - 1];
    const n = chunks.length;
    if (last) {
      const doc = {
        Version: "2012-10-17",
        Statement: [fromClientVpcs([...last, arn], `AcceptPeeringFromClientVpcs${n}`)],
      };
      if (documentSize(doc) <= QUOTAS.managedPolicySize) {
        last.push(arn);
        continue;
      }
    }
    chunks.push([arn]);
  }
  return chunks;
}
