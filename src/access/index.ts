/**
 * The EKS managed access policies as data, their scope semantics, and offline evaluation of a Kubernetes
 * request against an access entry's associations. No I/O, no printing.
 */

export {
  type ClusterDecision,
  type DefaultClusterRole,
  evaluateAsCluster,
} from "./defaults.js";
export {
  type AccessDecision,
  type AccessRequest,
  type AccessVerdict,
  describeRequest,
  describeScope,
  evaluateAccess,
  type NonResourceRequest,
  namespaceMatches,
  type PolicyAssociation,
  policyRules,
  type ResourceRequest,
  ruleAllows,
} from "./evaluate.js";
export * from "./names.js";
export {
  CLUSTER_SCOPED_RESOURCES,
  isClusterScoped,
  type KnownResource,
  type ParsedNonResourceTarget,
  type ParsedResourceTarget,
  type ParsedTarget,
  parseNamespace,
  parseResource,
  parseVerb,
} from "./resources.js";
export {
  ACCESS_POLICY_RULES,
  isNonResourceRule,
  type NonResourceRule,
  type PolicyRule,
  type ResourceRule,
} from "./rules.js";
