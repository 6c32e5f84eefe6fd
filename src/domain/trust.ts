/**
 * Role trust policies as documents: the one builder of the trust policies xeks writes (in templates, in fixes,
 * in the planned model) and the pure readers of a trust policy (its external ids, its trusted AWS principals).
 * Deciding whether a caller gets in needs the IAM simulator and stays in src/chain (`trustDecision` in
 * src/chain/links/assume.ts). Domain layer: no imports outside src/domain. IAM policy grammar: IAM User Guide,
 * "IAM JSON policy elements reference".
 */

/** The statements of a policy document as this module reads them (a structural subset of IAM's grammar). */
export interface TrustStatement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** A policy document: one statement or a list of them. */
export interface TrustDocument {
  Version?: string;
  Statement: TrustStatement | TrustStatement[];
}

/** What a trust policy lets in: AWS principals (role, account ARNs) or one service principal. */
export type TrustPrincipal = { aws: readonly string[] } | { service: string };

/**
 * The trust policy xeks writes: one Allow statement of `sts:AssumeRole` for the principals (AWS principals
 * deduplicated, a single value when there is one, as IAM and CloudFormation print it), with an
 * `sts:ExternalId` StringEquals condition when `externalId` is given. Keys in the order CloudFormation
 * templates have them (Action, Effect, Principal, Condition); Version 2012-10-17.
 */
export function trustPolicy(
  principal: TrustPrincipal,
  externalId?: string | null,
): { Version: "2012-10-17"; Statement: TrustStatement[] } {
  let p: { AWS: string | string[] } | { Service: string };
  if ("service" in principal) p = { Service: principal.service };
  else {
    const unique = [...new Set(principal.aws)];
    p = { AWS: unique.length === 1 ? (unique[0] as string) : unique };
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: p,
        ...(externalId ? { Condition: { StringEquals: { "sts:ExternalId": externalId } } } : {}),
      },
    ],
  };
}

/**
 * Length of a policy document as IAM counts it against the trust policy quota: its JSON without whitespace,
 * in characters (IAM User Guide, "IAM and AWS STS quotas": role trust policy length).
 */
export function policyLength(document: TrustDocument): number {
  return JSON.stringify(document).length;
}

function statementsOf(document: TrustDocument): TrustStatement[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

/** The external ids a trust policy's conditions name (`sts:ExternalId` under any operator, any case). */
export function externalIdsOf(trust: TrustDocument): string[] {
  const out = new Set<string>();
  for (const st of statementsOf(trust)) {
    for (const op of Object.values(st.Condition ?? {})) {
      for (const [key, value] of Object.entries(op as Record<string, unknown>)) {
        if (key.toLowerCase() !== "sts:externalid") continue;
        for (const v of Array.isArray(value) ? value : [value]) out.add(String(v));
      }
    }
  }
  return [...out];
}

/** The AWS principals (`Principal.AWS`) of a trust policy's Allow statements, in order, without repeats. */
export function trustedAwsPrincipals(trust: TrustDocument): string[] {
  const out = new Set<string>();
  for (const s of statementsOf(trust)) {
    if (s.Effect !== "Allow") continue;
    const p = s.Principal as { AWS?: string | string[] } | string | undefined;
    const aws = typeof p === "object" && p ? p.AWS : undefined;
    for (const arn of Array.isArray(aws) ? aws : aws ? [aws] : []) out.add(arn);
  }
  return [...out];
}
