/**
 * The trust side of `sts:AssumeRoleWithWebIdentity` (kind oidc), decided structurally.
 *
 * Why not the IAM simulator (src/chain/iam.ts): @cloud-copilot/iam-simulate matches a `Federated` principal,
 * but it keeps only the condition keys its IAM data lists for the action, and that list has neither the
 * generic `HOST:aud` nor `HOST:sub` (GitHub's `token.actions.githubusercontent.com:sub` and `:aud` are missing;
 * checked with version 0.1.173, `allowedContextKeysForRequest("sts", "AssumeRoleWithWebIdentity", ...)`). Every
 * such condition then fails as "missing", so no trust would ever let a pipeline in. This module evaluates the
 * subset of IAM's policy grammar that web-identity trust policies use (IAM User Guide, "IAM JSON policy elements
 * reference": Effect, Principal, Action, Condition; "Condition operators": String* operators, their
 * `ForAnyValue:`/`ForAllValues:` set forms and `IfExists`): a statement whose grammar falls outside it makes
 * the decision `Invalid`, never a silent pass.
 */
import type { PolicyDocument } from "../model/types.js";

/** The web-identity request: the provider (Federated principal) and the token's claims as condition keys. */
export interface WebIdentityRequest {
  /** `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST` */
  providerArn: string;
  /** Condition keys and values: `HOST:aud`, `HOST:sub` (keys compared ignoring case, as IAM does). */
  claims: Record<string, string>;
}

export interface WebIdentityDecision {
  result: "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Invalid";
  /** Why, in words: the statement that allowed or denied, or what was not understood. */
  reason: string;
}

const ACTION = "sts:AssumeRoleWithWebIdentity";

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

/** IAM's `*`/`?` wildcard match (StringLike, actions), case-sensitive unless `ignoreCase`. */
function like(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "is" : "s").test(value);
}

function actionMatches(s: Statement): boolean | undefined {
  if (s.NotAction !== undefined) return undefined;
  return list(s.Action).some((a) => like(a, ACTION, true));
}

function principalMatches(s: Statement, providerArn: string): boolean | undefined {
  if (s.NotPrincipal !== undefined) return undefined;
  const p = s.Principal;
  if (p === "*") return true;
  if (p === undefined || typeof p !== "object" || p === null) return false;
  const federated = list((p as Record<string, unknown>).Federated);
  return federated.some((f) => f === "*" || f === providerArn);
}

/** One condition operator over the request's claims: true/false, or undefined when not understood. */
function operatorHolds(
  operator: string,
  block: Record<string, unknown>,
  claims: Record<string, string>,
): boolean | undefined {
  const m =
    /^(ForAnyValue:|ForAllValues:)?(StringEquals|StringNotEquals|StringEqualsIgnoreCase|StringNotEqualsIgnoreCase|StringLike|StringNotLike)(IfExists)?$/.exec(
      operator,
    );
  if (!m) return operator === "Null" ? nullHolds(block, claims) : undefined;
  const [, set, base, ifExists] = m;
  const negated = base?.includes("Not") ?? false;
  const ignoreCase = base?.endsWith("IgnoreCase") ?? false;
  const wildcard = base === "StringLike" || base === "StringNotLike";
  const one = (pattern: string, value: string) =>
    wildcard
      ? like(pattern, value)
      : ignoreCase
        ? pattern.toLowerCase() === value.toLowerCase()
        : pattern === value;
  const lower = Object.fromEntries(Object.entries(claims).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(block).every(([key, expected]) => {
    const value = lower[key.toLowerCase()];
    const patterns = list(expected);
    if (value === undefined) {
      // A missing key: IfExists and ForAllValues hold; ForAnyValue does not; else negated operators hold.
      if (ifExists || set === "ForAllValues:") return true;
      if (set === "ForAnyValue:") return false;
      return negated;
    }
    const anyMatch = patterns.some((p) => one(p, value));
    return negated ? !anyMatch : anyMatch;
  });
}

function nullHolds(block: Record<string, unknown>, claims: Record<string, string>): boolean {
  const lower = new Set(Object.keys(claims).map((k) => k.toLowerCase()));
  return Object.entries(block).every(([key, expected]) => {
    const absent = !lower.has(key.toLowerCase());
    return String(list(expected)[0]).toLowerCase() === "true" ? absent : !absent;
  });
}

/** Do all the statement's conditions hold? undefined when one is not understood. */
function conditionsHold(s: Statement, claims: Record<string, string>): boolean | undefined {
  let all = true;
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    const r = operatorHolds(operator, block, claims);
    if (r === undefined) return undefined;
    all &&= r;
  }
  return all;
}

/**
 * May the provider's token (with these claims) assume a role with this trust policy? An explicit Deny wins;
 * else an Allow statement whose principal names the provider, whose action covers
 * `sts:AssumeRoleWithWebIdentity` and whose conditions all hold. `Invalid` when a statement that could matter
 * uses grammar this module does not evaluate (NotPrincipal, NotAction, another condition operator).
 */
export function webIdentityDecision(trust: PolicyDocument, req: WebIdentityRequest): WebIdentityDecision {
  const statements = asStatements(trust);
  let allowedBy: string | undefined;
  for (const [i, s] of statements.entries()) {
    const name = s.Sid ?? `statement ${i}`;
    const action = actionMatches(s);
    const principal = principalMatches(s, req.providerArn);
    if (action === undefined || principal === undefined) {
      return {
        result: "Invalid",
        reason: `${name} uses NotAction or NotPrincipal, which xeks does not evaluate`,
      };
    }
    if (!action || !principal) continue;
    const holds = conditionsHold(s, req.claims);
    if (holds === undefined) {
      return {
        result: "Invalid",
        reason: `${name} uses a condition operator xeks does not evaluate for web identity (${Object.keys(s.Condition ?? {}).join(", ")})`,
      };
    }
    if (!holds) continue;
    if (s.Effect === "Deny") return { result: "ExplicitlyDenied", reason: `${name} denies it` };
    if (s.Effect === "Allow") allowedBy ??= name;
  }
  return allowedBy
    ? { result: "Allowed", reason: `${allowedBy} allows it` }
    : { result: "ImplicitlyDenied", reason: "no statement lets this provider and token in" };
}

function asStatements(doc: PolicyDocument): Statement[] {
  const s = (doc as { Statement?: unknown }).Statement;
  return (Array.isArray(s) ? s : s === undefined ? [] : [s]) as Statement[];
}
