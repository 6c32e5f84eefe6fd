/**
 * Access scope types: where an EKS access policy applies (EKS AssociateAccessPolicy, `accessScope`: type
 * `cluster`, or type `namespace` with a list of namespaces where `*` globs are allowed). Used by the topology
 * (src/topology/types.ts re-exports them), the access evaluator (src/access) and the CDK constructs. Domain layer.
 */

/** Where an access policy applies: the whole cluster, or the listed namespaces (`team-*` globs allowed). */
export type AccessScope = { type: "cluster" } | { type: "namespace"; namespaces: string[] };

/** One access policy granted to an access role, with its scope. */
export interface AccessPolicyRef {
  /** Short name (AmazonEKSViewPolicy). */
  name: string;
  /** `arn:P:eks::aws:cluster-access-policy/NAME` (src/domain/arn.ts, accessPolicyArn). */
  arn: string;
  scope: AccessScope;
}
