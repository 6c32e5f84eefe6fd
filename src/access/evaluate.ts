/**
 * Offline evaluation of a Kubernetes request against an access entry's access-policy associations, the way
 * the EKS authorizer grants it (token-and-access.md §6.3-6.5): allow-only, the union of the associations,
 * each association's rules applying only inside its scope. RBAC bindings of the entry's groups are not seen.
 */
import type { AccessPolicyRef, AccessScope } from "../domain/scope.js";
import { accessPolicyName } from "./names.js";
import { isClusterScoped } from "./resources.js";
import { ACCESS_POLICY_RULES, isNonResourceRule, type PolicyRule } from "./rules.js";

/** A request on an API resource (`kubectl auth can-i create pods/exec -n dev`). */
export interface ResourceRequest {
  verb: string;
  /** "" is the core group. */
  apiGroup: string;
  /** Plural, lowercase, without subresource (`pods`). */
  resource: string;
  /** `exec` for pods/exec; "" or absent for none. */
  subresource?: string;
  /**
   * The name of one object (`kubectl auth can-i get pods/mypod`); "" or absent for none. Only rules with
   * `resourceNames` look at it.
   */
  name?: string;
  /**
   * The namespace of the request; null for a request across all namespaces (`-A`). Ignored for a
   * cluster-scoped resource, which is in no namespace.
   */
  namespace: string | null;
  /** Overrides the table of well-known cluster-scoped resources (for custom resources). */
  clusterScoped?: boolean;
}

/** A request on a non-resource URL (`kubectl auth can-i get /healthz`). */
export interface NonResourceRequest {
  verb: string;
  nonResourceURL: string;
}

export type AccessRequest = ResourceRequest | NonResourceRequest;

/** What the associations of an access entry need to be: a policy ARN and its scope. */
export type PolicyAssociation = Pick<AccessPolicyRef, "arn" | "scope">;

/** yes: allowed; no: denied by the known policies; unknown: denied by the known ones, but some cannot be evaluated. */
export type AccessVerdict = "yes" | "no" | "unknown";

export interface AccessDecision {
  allowed: boolean;
  /** The ARN of the policy that allowed the request; null when denied. */
  policy: string | null;
  /** The scope of that association; null when denied. */
  scope: AccessScope | null;
  reason: string;
  verdict: AccessVerdict;
  /** Associated policy ARNs whose rules xeks does not know; they decide nothing. Empty when allowed. */
  undecided: string[];
  /**
   * null when the request names no object; else whether the name could change the answer: true when a rule
   * that matches the verb, group and resource restricts `resourceNames`, false when none does (the answer is
   * then the same for every object, and the reason says so).
   */
  nameMatters: boolean | null;
}

function isNonResourceRequest(request: AccessRequest): request is NonResourceRequest {
  return "nonResourceURL" in request;
}

/** The rules of a managed access policy by ARN (any partition) or short name; undefined when unknown. */
export function policyRules(arnOrName: string): readonly PolicyRule[] | undefined {
  const name = accessPolicyName(arnOrName) ?? arnOrName;
  return Object.hasOwn(ACCESS_POLICY_RULES, name)
    ? ACCESS_POLICY_RULES[name as keyof typeof ACCESS_POLICY_RULES]
    : undefined;
}

function has(list: readonly string[], value: string): boolean {
  return list.includes("*") || list.includes(value);
}

/** Kubernetes RBAC resource matching: `*`, the exact `resource/sub`, or a wildcard resource before the `/sub`. */
function resourceMatches(ruleResources: readonly string[], resource: string, sub: string): boolean {
  const combined = sub ? `${resource}/${sub}` : resource;
  for (const r of ruleResources) {
    if (r === "*" || r === combined) return true;
    if (sub && r === `*/${sub}`) return true;
  }
  return false;
}

/** Kubernetes RBAC non-resource URL matching: `*`, exact, or a trailing `*` as a prefix match. */
function urlMatches(ruleURLs: readonly string[], url: string): boolean {
  for (const u of ruleURLs) {
    if (u === "*" || u === url) return true;
    if (u.endsWith("*") && url.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request, regardless of scope. */
export function ruleAllows(rule: PolicyRule, request: AccessRequest): boolean {
  if (!has(rule.verbs, request.verb)) return false;
  if (isNonResourceRequest(request)) {
    return isNonResourceRule(rule) && urlMatches(rule.nonResourceURLs, request.nonResourceURL);
  }
  if (isNonResourceRule(rule)) return false;
  return (
    has(rule.apiGroups, request.apiGroup) &&
    resourceMatches(rule.resources, request.resource, request.subresource ?? "") &&
    nameMatches(rule.resourceNames, request.name ?? "")
  );
}

/** Kubernetes RBAC: no resourceNames grants every object; otherwise the request must name one of them. */
function nameMatches(names: readonly string[] | undefined, name: string): boolean {
  return names === undefined || names.length === 0 || names.includes(name);
}

/** A source of rules that `nameClause` reports by name: an access policy or a default ClusterRole. */
export interface NamedRules {
  name: string;
  rules: readonly PolicyRule[];
}

/**
 * Whether the object name of a request could change the answer, and a clause for the reason that says so:
 * the name matters only when a rule matching the verb, group and resource restricts `resourceNames`.
 * `{ matters: null, text: "" }` when the request names no object. `unknown` lists policies without rules.
 */
export function nameClause(
  sources: readonly NamedRules[],
  unknown: readonly string[],
  request: AccessRequest,
): { matters: boolean | null; text: string } {
  if (isNonResourceRequest(request) || !request.name) return { matters: null, text: "" };
  const anyName: AccessRequest = { ...request, name: "" };
  const restricting = sources
    .filter((s) =>
      s.rules.some(
        (r) =>
          !isNonResourceRule(r) &&
          (r.resourceNames?.length ?? 0) > 0 &&
          ruleAllows({ ...r, resourceNames: [] }, anyName),
      ),
    )
    .map((s) => s.name);
  if (restricting.length > 0) {
    return {
      matters: true,
      text: `; the name ${request.name} was matched against the resourceNames of ${restricting.join(", ")}`,
    };
  }
  const names = sources.map((s) => s.name);
  const listed = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names.join("");
  const which = names.length > 0 ? `of ${listed} ` : "";
  const blind =
    unknown.length > 0 ? ` (xeks cannot tell for ${unknown.join(", ")}, whose rules it does not have)` : "";
  return {
    matters: false,
    text:
      `; the name ${request.name} does not change this answer: no rule ${which}restricts resource names ` +
      `(resourceNames), so the answer is the same for any object of ${request.resource}${blind}`,
  };
}

function rulesAllow(rules: readonly PolicyRule[], request: AccessRequest): boolean {
  return rules.some((r) => ruleAllows(r, request));
}

const globs = new Map<string, RegExp>();

/** A namespace-scope pattern against a namespace: exact, or `*` matching any run of characters (`team-*`). */
export function namespaceMatches(pattern: string, namespace: string): boolean {
  if (!pattern.includes("*")) return pattern === namespace;
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
    globs.set(pattern, re);
  }
  return re.test(namespace);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Where the request lives: a namespace, all namespaces, outside namespaces, or a non-resource URL. */
type Place =
  | { kind: "namespace"; namespace: string }
  | { kind: "all-namespaces" }
  | { kind: "cluster-scoped" }
  | { kind: "non-resource" };

function placeOf(request: AccessRequest): Place {
  if (isNonResourceRequest(request)) return { kind: "non-resource" };
  if (request.clusterScoped ?? isClusterScoped(request.apiGroup, request.resource)) {
    return { kind: "cluster-scoped" };
  }
  return request.namespace === null
    ? { kind: "all-namespaces" }
    : { kind: "namespace", namespace: request.namespace };
}

/**
 * Why a scope does not cover the place, or undefined when it does. Cluster scope covers everything; a
 * namespace scope covers only requests inside one of its namespaces (never cluster-scoped resources,
 * all-namespaces requests or non-resource URLs; see docs/access.md).
 */
function scopeGap(scope: AccessScope, request: AccessRequest): string | undefined {
  if (scope.type === "cluster") return undefined;
  if (isNonResourceRequest(request)) return "does not cover non-resource URLs (only cluster scope does)";
  const place = placeOf(request);
  if (place.kind === "cluster-scoped") {
    return `does not cover cluster-scoped ${request.resource} (only cluster scope does)`;
  }
  if (place.kind === "all-namespaces") {
    return "does not cover a request across all namespaces (only cluster scope does)";
  }
  const namespace = place.kind === "namespace" ? place.namespace : "";
  return scope.namespaces.some((p) => namespaceMatches(p, namespace))
    ? undefined
    : `does not include namespace ${namespace}`;
}

/** `AmazonEKSEditPolicy (scope: namespaces payments, team-*)` */
function describeAssociation(name: string, scope: AccessScope): string {
  return `${name} (scope: ${describeScope(scope)})`;
}

export function describeScope(scope: AccessScope): string {
  if (scope.type === "cluster") return "cluster";
  const n = scope.namespaces;
  return `namespace${n.length === 1 ? "" : "s"} ${n.join(", ")}`;
}

/** `create pods/exec in namespace dev`, `list nodes (cluster-scoped)`, `get /healthz`. */
export function describeRequest(request: AccessRequest): string {
  if (isNonResourceRequest(request)) return `${request.verb} ${request.nonResourceURL}`;
  const group = request.apiGroup ? `.${request.apiGroup}` : "";
  const sub = request.subresource ? `/${request.subresource}` : "";
  const named = request.name ? ` named ${request.name}` : "";
  const what = `${request.verb} ${request.resource}${group}${sub}${named}`;
  const place = placeOf(request);
  if (place.kind === "cluster-scoped") return `${what} (cluster-scoped)`;
  if (place.kind === "all-namespaces") return `${what} in all namespaces`;
  if (place.kind === "namespace") return `${what} in namespace ${place.namespace}`;
  return what;
}

/**
 * Evaluate a request against the access-policy associations of one access entry. Allowed when any known
 * policy has a rule matching the request and its scope covers the request; the first such association (in
 * the given order) is reported. Associations whose policy xeks does not know are never taken as allowing:
 * when nothing known allows, they make the verdict `unknown` and are listed in `undecided`. A request that
 * names an object gets `nameMatters` and a reason that says whether the name could change the answer.
 */
export function evaluateAccess(
  policies: readonly PolicyAssociation[],
  request: AccessRequest,
): AccessDecision {
  const decision = evaluatePolicies(policies, request);
  const clause = nameClause(associatedRules(policies), unknownPolicies(policies), request);
  return { ...decision, reason: decision.reason + clause.text, nameMatters: clause.matters };
}

/** The known associated policies as named rule sources, in order. */
export function associatedRules(policies: readonly PolicyAssociation[]): NamedRules[] {
  return policies.flatMap((p) => {
    const rules = policyRules(p.arn);
    return rules ? [{ name: accessPolicyName(p.arn) ?? p.arn, rules }] : [];
  });
}

/** Short names of the associated policies xeks has no rules for. */
export function unknownPolicies(policies: readonly PolicyAssociation[]): string[] {
  return policies.filter((p) => !policyRules(p.arn)).map((p) => accessPolicyName(p.arn) ?? p.arn);
}

/** `evaluateAccess` without the name clause: what the associations decide. */
export function evaluatePolicies(
  policies: readonly PolicyAssociation[],
  request: AccessRequest,
): AccessDecision {
  const what = describeRequest(request);
  const undecided: string[] = [];
  const outOfScope: string[] = [];
  const known: string[] = [];
  for (const p of policies) {
    const rules = policyRules(p.arn);
    const name = accessPolicyName(p.arn) ?? p.arn;
    if (!rules) {
      undecided.push(p.arn);
      continue;
    }
    known.push(describeAssociation(name, p.scope));
    if (!rulesAllow(rules, request)) continue;
    const gap = scopeGap(p.scope, request);
    if (gap === undefined) {
      return {
        allowed: true,
        policy: p.arn,
        scope: p.scope,
        reason: `${name} allows ${what} (scope: ${describeScope(p.scope)})`,
        verdict: "yes",
        undecided: [],
        nameMatters: null,
      };
    }
    outOfScope.push(`${name} grants it, but its scope (${describeScope(p.scope)}) ${gap}`);
  }
  let reason: string;
  if (policies.length === 0) {
    reason = `the access entry has no access policies, so none allows ${what}`;
  } else if (outOfScope.length > 0) {
    reason = `no associated policy allows ${what} within its scope: ${outOfScope.join("; ")}`;
  } else if (known.length > 0) {
    reason = `none of the associated policies allows ${what}; associated: ${known.join(", ")}`;
  } else {
    reason = "no known policy is associated";
  }
  if (undecided.length > 0) {
    const names = undecided.map((a) => accessPolicyName(a) ?? a);
    const verb = names.length === 1 ? "is" : "are";
    reason =
      `cannot evaluate: ${names.join(", ")} ${verb} not in xeks's policy data (AWS publishes the rules only as prose), ` +
      `so xeks cannot tell whether ${names.length === 1 ? "it allows" : "they allow"} ${what}; ${reason}`;
  }
  return {
    allowed: false,
    policy: null,
    scope: null,
    reason,
    verdict: undecided.length > 0 ? "unknown" : "no",
    undecided,
    nameMatters: null,
  };
}
