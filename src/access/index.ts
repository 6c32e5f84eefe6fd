/**
 * The EKS managed access policies as data, their scope semantics, and offline evaluation of a Kubernetes
 * request against an access entry's associations. No I/O, no printing.
 */

export {
  AUTHENTICATED_DEFAULT_ROLES,
  type ClusterDecision,
  type DefaultClusterRole,
  defaultRolesAllowing,
  evaluateAsCluster,
} from "./defaults.js";
export {
  type AccessDecision,
  type AccessRequest,
  type AccessVerdict,
  describeAssociation,
  describeRequest,
  describeScope,
  evaluateAccess,
  isNonResourceRequest,
  type NonResourceRequest,
  namespaceMatches,
  type PolicyAssociation,
  policyRules,
  type ResourceRequest,
  ruleAllows,
  rulesAllow,
  scopeGap,
} from "./evaluate.js";
export * from "./names.js";
export {
  CLUSTER_SCOPED_RESOURCES,
  isClusterScoped,
  KNOWN_RESOURCES,
  KNOWN_SUBRESOURCES,
  type KnownResource,
  knownResource,
  NON_RESOURCE_VERBS,
  type ParsedNonResourceTarget,
  type ParsedResourceTarget,
  type ParsedTarget,
  parseNamespace,
  parseResource,
  parseVerb,
  RESOURCE_VERBS,
} from "./resources.js";
export {
  ACCESS_POLICY_RULES,
  isNonResourceRule,
  type NonResourceRule,
  type PolicyRule,
  type ResourceRule,
} from "./rules.js";
