/**
 * The AWS quotas xeks measures its plans against before deploy (links `iam.policy-size` and
 * `network.peering-quota`, src/chain/links/quotas.ts), and how IAM measures a policy. Domain layer: no imports.
 *
 * Sources:
 * - IAM User Guide, "IAM and AWS STS quotas": "Role trust policy length: 2,048 characters" (adjustable in
 *   Service Quotas up to 4,096); "Role inline policies: the aggregate size of all inline policies of a role
 *   cannot exceed 10,240 characters" (not adjustable); "Managed policy size: 6,144 characters" (not adjustable).
 *   IAM does not count white space when it measures a policy against these quotas. "Managed policies attached to
 *   an IAM role: 10" (adjustable in Service Quotas up to 20; xeks measures against the default).
 * - Amazon VPC User Guide, "Amazon VPC quotas", VPC peering connections: "Active VPC peering connections per
 *   VPC: 50" (adjustable up to 125).
 */
export const QUOTAS = {
  /** Role trust policy length (characters, IAM): the default of every account. */
  trustPolicyLength: 2048,
  /** The most "Role trust policy length" can be raised to (Service Quotas). */
  trustPolicyLengthMax: 4096,
  /** The aggregate size of all inline policies of one role (characters, IAM; not adjustable). */
  inlinePoliciesPerRole: 10240,
  /** The size of one customer managed policy (characters, IAM; not adjustable). */
  managedPolicySize: 6144,
  /** Managed policies attached to one role (IAM): the default. */
  managedPoliciesPerRole: 10,
  /** Active VPC peering connections per VPC (Amazon VPC): the default. */
  peeringsPerVpc: 50,
  /** The most "Active VPC peering connections per VPC" can be raised to. */
  peeringsPerVpcMax: 125,
} as const;

/**
 * The size of a policy document as IAM measures it against its quotas: its JSON without white space, in
 * characters (IAM User Guide, "IAM and AWS STS quotas"). `JSON.stringify` writes no white space between tokens;
 * spaces inside string values (rare in policies) are counted, so the size errs on the safe side.
 */
export function documentSize(document: unknown): number {
  return JSON.stringify(document).length;
}
