/**
 * Names of the EKS managed access policies xeks knows, and which of them only make sense with cluster scope.
 * The permission rules live in `rules.ts`; this file stays tiny so the topology validator can import it.
 */

export { ACCESS_POLICY_ARN_PREFIX } from "../domain/arn.js";

/** Short names accepted in the topology file (`policies: [AmazonEKSViewPolicy]`). */
export const KNOWN_ACCESS_POLICIES = [
  "AmazonEKSClusterAdminPolicy",
  "AmazonEKSAdminPolicy",
  "AmazonEKSEditPolicy",
  "AmazonEKSViewPolicy",
  "AmazonEKSAdminViewPolicy",
  "AmazonEKSHybridPolicy",
] as const;

export type KnownAccessPolicy = (typeof KNOWN_ACCESS_POLICIES)[number];

/**
 * Policies whose grants are about the whole cluster (cluster-admin, nodes), so a namespace scope is a
 * mistake rather than a restriction. xeks refuses `namespaces` on them (decision recorded in docs/topology.md).
 */
export const CLUSTER_ONLY_POLICIES: ReadonlySet<string> = new Set([
  "AmazonEKSClusterAdminPolicy",
  "AmazonEKSHybridPolicy",
]);

/** Access policy ARNs are built and read in the domain layer (src/domain/arn.ts); re-exported here. */
export { accessPolicyArn, accessPolicyName, partitionOf } from "../domain/arn.js";

/**
 * `aws eks associate-access-policy …` for one policy and scope, quoted so a shell leaves `team-*` alone.
 * Re-associating a policy replaces its scope, so this is also the fix for a wrong scope.
 */
export function associateAccessPolicyCommand(
  cluster: { name: string; region: string },
  principalArn: string,
  policy: { arn: string; scope: { type: "cluster" } | { type: "namespace"; namespaces: readonly string[] } },
): string {
  const scope =
    policy.scope.type === "cluster"
      ? "type=cluster"
      : `type=namespace,namespaces=${policy.scope.namespaces.join(",")}`;
  return (
    `aws eks associate-access-policy --cluster-name ${cluster.name} --region ${cluster.region} ` +
    `--principal-arn ${principalArn} --policy-arn ${policy.arn} --access-scope '${scope}'`
  );
}
