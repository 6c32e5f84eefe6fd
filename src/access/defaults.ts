/**
 * What Kubernetes' default RBAC grants every authenticated user, whatever the access policies say. The API
 * server creates these ClusterRoles and binds them to the group `system:authenticated`, in which every
 * principal that an access entry authenticates is. Source: Kubernetes, "Using RBAC Authorization", section
 * "Default roles and role bindings" (discovery roles), and the bootstrap policy they come from
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go; `selfsubjectreviews` since Kubernetes 1.28).
 *
 * A cluster's administrators can edit or delete these bindings (`rbac.authorization.kubernetes.io/autoupdate:
 * "false"`); xeks, offline, answers for a cluster that keeps the defaults and says so.
 */

import type { PolicyAssociation } from "./evaluate.js";
import {
  type AccessDecision,
  type AccessRequest,
  associatedRules,
  describeRequest,
  evaluatePolicies,
  nameClause,
  ruleAllows,
  unknownPolicies,
} from "./evaluate.js";
import type { PolicyRule } from "./rules.js";

/** A default ClusterRole bound to `system:authenticated`, and its rules. */
export interface DefaultClusterRole {
  name: string;
  rules: readonly PolicyRule[];
}

/** The default ClusterRoles every authenticated user holds through a ClusterRoleBinding to system:authenticated. */
const AUTHENTICATED_DEFAULT_ROLES: readonly DefaultClusterRole[] = [
  {
    // Read-only access to the API discovery endpoints a client needs to negotiate an API level.
    name: "system:discovery",
    rules: [
      {
        nonResourceURLs: [
          "/livez",
          "/readyz",
          "/healthz",
          "/version",
          "/version/",
          "/openapi",
          "/openapi/*",
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
        ],
        verbs: ["get"],
      },
    ],
  },
  {
    // Read-only access to non-sensitive information about the cluster (also bound to system:unauthenticated).
    name: "system:public-info-viewer",
    rules: [{ nonResourceURLs: ["/livez", "/readyz", "/healthz", "/version", "/version/"], verbs: ["get"] }],
  },
  {
    // Read-only access to basic information about oneself.
    name: "system:basic-user",
    rules: [
      {
        apiGroups: ["authorization.k8s.io"],
        resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        verbs: ["create"],
      },
      { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
    ],
  },
];

/** The default ClusterRoles (bound to system:authenticated) that allow the request; empty when none does. */
function defaultRolesAllowing(request: AccessRequest): string[] {
  return AUTHENTICATED_DEFAULT_ROLES.filter((r) => r.rules.some((rule) => ruleAllows(rule, request))).map(
    (r) => r.name,
  );
}

/** An access decision, with the default ClusterRoles that decided it when no access policy did. */
export interface ClusterDecision extends AccessDecision {
  /**
   * The default ClusterRoles, bound to system:authenticated, that allow the request when the access policies
   * do not (`policy` and `scope` are then null); empty otherwise.
   */
  defaultRoles: string[];
}

/**
 * Answer as the cluster would: the access policies first (`evaluateAccess`); when they do not allow the
 * request, Kubernetes' default RBAC for authenticated users (`get /healthz`, `/version`, `/api…`, creating
 * self-subject reviews). A request only the defaults allow is `yes` with `policy: null` and the roles in
 * `defaultRoles` and in the reason.
 */
export function evaluateAsCluster(
  policies: readonly PolicyAssociation[],
  request: AccessRequest,
): ClusterDecision {
  const byPolicy = evaluatePolicies(policies, request);
  const sources = [
    ...associatedRules(policies),
    {
      name: "Kubernetes' default ClusterRoles for authenticated users",
      rules: AUTHENTICATED_DEFAULT_ROLES.flatMap((r) => r.rules),
    },
  ];
  const clause = nameClause(sources, unknownPolicies(policies), request);
  const named = { reason: byPolicy.reason + clause.text, nameMatters: clause.matters };
  if (byPolicy.allowed) return { ...byPolicy, ...named, defaultRoles: [] };
  const roles = defaultRolesAllowing(request);
  if (roles.length === 0) return { ...byPolicy, ...named, defaultRoles: [] };
  const names = roles.join(" and ");
  return {
    allowed: true,
    policy: null,
    scope: null,
    reason:
      `every authenticated user may ${describeRequest(request)}: Kubernetes' default ClusterRole${roles.length === 1 ? "" : "s"} ` +
      `${names} ${roles.length === 1 ? "is" : "are"} bound to the group system:authenticated (unless the cluster's administrators changed ` +
      `those default bindings); no access policy is needed (the access policies alone: ${byPolicy.reason})${clause.text}`,
    verdict: "yes",
    undecided: [],
    nameMatters: clause.matters,
    defaultRoles: roles,
  };
}
