/**
 * Role trust policies as documents: the one builder of the trust policies xeks writes (in templates, in fixes,
 * in the planned model) and the pure readers of a trust policy (its external ids, its trusted AWS principals).
 * Deciding whether a caller gets in needs the IAM simulator and stays in src/chain (`trustDecision` in
 * src/chain/links/assume.ts). Domain layer: no imports outside src/domain. IAM policy grammar: IAM User Guide,
 * "IAM JSON policy elements reference".
 */
import { globMatch, orgPathPattern, patternNameOfArn, rolePatternArn } from "./organization.js";
import { type ClientPrincipal, POD_IDENTITY_SERVICE } from "./principal.js";

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
 * The trust policy of an access role for the principals of its clients (`ClientPrincipal`, docs/clients.md):
 * - exact roles that only call `sts:AssumeRole` (instance, oidc, role kinds): one statement, exactly
 *   `trustPolicy({ aws })`'s (so a topology of EC2 clients gets the document it always got);
 * - exact roles that also tag their session (pod-identity): one statement allowing `sts:AssumeRole` and
 *   `sts:TagSession` (EKS User Guide, Pod Identity, "target IAM role": both actions); with `externalId`, two:
 *   `sts:AssumeRole` with the `sts:ExternalId` condition and `sts:TagSession` without it (a key of
 *   sts:AssumeRole only: the EKS User Guide's own example, "Access AWS Resources using EKS Pod Identity Target
 *   IAM Roles");
 * - permission sets (sso): one statement per client account, trusting `arn:PARTITION:iam::ACCOUNT:root` with
 *   `ArnLike aws:PrincipalArn` on the permission sets' role patterns (IAM User Guide, "AWS global condition
 *   context keys", aws:PrincipalArn; Identity Center User Guide, referencing permission sets in resource
 *   policies).
 * Every statement that allows `sts:AssumeRole` carries the `sts:ExternalId` condition when `externalId` is given.
 * `partition` names the account root of sso statements.
 *
 * With `organization` (docs/organizations.md), the principals whose exact role ARN is in `organization.covered`
 * leave the exact statements and get in through one statement whose size does not depend on their number:
 * `Principal: {"AWS": "*"}` with `StringEquals aws:PrincipalOrgID` (and `sts:ExternalId`),
 * `StringNotEquals aws:PrincipalAccount` the cluster account (clients are never in it: no role of the cluster
 * account, such as the peering accepter role or another access role, gets in by matching a pattern),
 * `ForAnyValue:StringLike aws:PrincipalOrgPaths` `PATH*` for each declared path, and `ArnLike aws:PrincipalArn`
 * `arn:PARTITION:iam::*:role/PATTERN` for each of `organization.rolePatterns` that matches one of the covered
 * roles (so an access role trusts only the patterns of its own clients). It comes first; no statement when no
 * principal is covered (the document is then exactly the one without `organization`).
 */
export function accessTrustPolicy(
  principals: readonly ClientPrincipal[],
  externalId: string | null | undefined,
  partition: string,
  organization?: OrganizationTrust,
): { Version: "2012-10-17"; Statement: TrustStatement[] } {
  const coveredArns = new Set(organization?.covered ?? []);
  const inOrg = principals.filter((p) => p.arn && coveredArns.has(p.arn));
  const orgStatement =
    organization && inOrg.length > 0
      ? organizationStatement(organization, inOrg, externalId, partition)
      : undefined;
  if (orgStatement) principals = principals.filter((p) => !(p.arn && coveredArns.has(p.arn)));
  const plain = principals
    .filter((p) => p.arn && !p.actions.includes("sts:TagSession"))
    .map((p) => p.arn as string);
  const tagging = principals
    .filter((p) => p.arn && p.actions.includes("sts:TagSession"))
    .map((p) => p.arn as string);
  const patterns = new Map<string, string[]>();
  for (const p of principals) {
    if (p.arn || !p.account || !p.arnPatterns) continue;
    patterns.set(p.account, [...(patterns.get(p.account) ?? []), ...p.arnPatterns]);
  }
  const externalIdCondition = externalId ? { StringEquals: { "sts:ExternalId": externalId } } : undefined;
  const statements: TrustStatement[] = orgStatement ? [orgStatement] : [];
  if (plain.length > 0) statements.push(...trustPolicy({ aws: plain }, externalId).Statement);
  if (tagging.length > 0) {
    const unique = [...new Set(tagging)];
    const principal = { AWS: unique.length === 1 ? (unique[0] as string) : unique };
    if (externalIdCondition) {
      // sts:ExternalId is a condition key of sts:AssumeRole only (Service Authorization Reference, AWS STS): a
      // statement that asks for it on sts:TagSession never matches, so the session tags would be refused. AWS's
      // own example puts it on sts:AssumeRole and allows sts:TagSession in a statement of its own (Amazon EKS User
      // Guide, "Access AWS Resources using EKS Pod Identity Target IAM Roles"); sts:TagSession alone lets no one in.
      statements.push(
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: principal, Condition: externalIdCondition },
        { Action: "sts:TagSession", Effect: "Allow", Principal: principal },
      );
    } else {
      statements.push({
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: principal,
      });
    }
  }
  for (const [account, arnPatterns] of [...patterns].sort(([a], [b]) => a.localeCompare(b))) {
    const unique = [...new Set(arnPatterns)];
    statements.push({
      Action: "sts:AssumeRole",
      Effect: "Allow",
      Principal: { AWS: `arn:${partition}:iam::${account}:root` },
      Condition: {
        ArnLike: { "aws:PrincipalArn": unique.length === 1 ? (unique[0] as string) : unique },
        ...(externalIdCondition ?? {}),
      },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * What an organization statement trusts (`accessTrustPolicy`, docs/organizations.md): the organization `id`, its
 * declared `paths` (`o-…/r-…/ou-…/`, [] for the whole organization), the role name `rolePatterns` (path without its
 * leading `/`, then the name; `*` and `?`), and the exact role ARNs of the principals it `covered` (kinds
 * instance, role, oidc in the organization).
 */
export interface OrganizationTrust {
  id: string;
  paths: readonly string[];
  rolePatterns: readonly string[];
  covered: readonly string[];
  /**
   * The cluster account (the access roles' own): excluded with `StringNotEquals aws:PrincipalAccount`, so that no
   * role of the cluster account (the peering accepter role, another access role) gets in by matching a pattern.
   */
  clusterAccount: string;
}

/** The exclusion of the cluster account from an organization statement (`aws:PrincipalAccount`). */
function notTheClusterAccount(account: string): Record<string, Record<string, string>> {
  return { StringNotEquals: { "aws:PrincipalAccount": account } };
}

/** One value, or the list when there are several (as IAM and CloudFormation print a condition's values). */
function oneOrMany(values: readonly string[]): string | string[] {
  const unique = [...new Set(values)];
  return unique.length === 1 ? (unique[0] as string) : unique;
}

/** The organization statement of an access role: see `accessTrustPolicy`. */
function organizationStatement(
  organization: OrganizationTrust,
  covered: readonly ClientPrincipal[],
  externalId: string | null | undefined,
  partition: string,
): TrustStatement {
  const names = covered.map((p) => patternNameOfArn(p.arn as string));
  const patterns = organization.rolePatterns.filter((pattern) => names.some((n) => globMatch(pattern, n)));
  return {
    Action: "sts:AssumeRole",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Condition: {
      StringEquals: {
        "aws:PrincipalOrgID": organization.id,
        ...(externalId ? { "sts:ExternalId": externalId } : {}),
      },
      ...notTheClusterAccount(organization.clusterAccount),
      ...(organization.paths.length > 0
        ? {
            "ForAnyValue:StringLike": {
              "aws:PrincipalOrgPaths": oneOrMany(organization.paths.map(orgPathPattern)),
            },
          }
        : {}),
      ArnLike: { "aws:PrincipalArn": oneOrMany(patterns.map((p) => rolePatternArn(partition, p))) },
    },
  };
}

/**
 * The trust policy of the peering accepter role (src/infra/constructs/network.ts): the client accounts that request
 * a peering, each as `arn:PARTITION:iam::ACCOUNT:root` (one statement, `trustPolicy`), and, with an organization,
 * every account of it first (`Principal: {"AWS": "*"}` with `StringEquals aws:PrincipalOrgID` and, when paths are
 * declared, `ForAnyValue:StringLike aws:PrincipalOrgPaths` `PATH*`), except the cluster account itself
 * (`StringNotEquals aws:PrincipalAccount`: its own roles never request a peering). No role pattern: its caller is whoever deploys
 * the client stack (CloudFormation assumes it through PeerRoleArn). `accountRoots` are the accounts outside the
 * organization (empty: no such statement).
 */
export function accepterTrustPolicy(
  accountRoots: readonly string[],
  organization?: { id: string; paths: readonly string[]; clusterAccount: string },
): { Version: "2012-10-17"; Statement: TrustStatement[] } {
  const statements: TrustStatement[] = [];
  if (organization) {
    statements.push({
      Action: "sts:AssumeRole",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Condition: {
        StringEquals: { "aws:PrincipalOrgID": organization.id },
        ...notTheClusterAccount(organization.clusterAccount),
        ...(organization.paths.length > 0
          ? {
              "ForAnyValue:StringLike": {
                "aws:PrincipalOrgPaths": oneOrMany(organization.paths.map(orgPathPattern)),
              },
            }
          : {}),
      },
    });
  }
  if (accountRoots.length > 0) statements.push(...trustPolicy({ aws: accountRoots }).Statement);
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The trust policy of the web-identity role xeks creates for a pipeline (kind oidc): the provider may call
 * `sts:AssumeRoleWithWebIdentity` for tokens whose `aud` is `audience` and whose `sub` is one of `subjects`
 * (`StringEquals` when all are exact, `StringLike` when one has a wildcard). IAM User Guide, "Create a role
 * for OpenID Connect federation"; GitHub Docs, "Configuring OpenID Connect in Amazon Web Services".
 */
export function webIdentityTrustPolicy(
  providerArn: string,
  provider: string,
  audience: string,
  subjects: readonly string[],
): { Version: "2012-10-17"; Statement: TrustStatement[] } {
  const sub = subjects.length === 1 ? (subjects[0] as string) : [...subjects];
  const wildcard = subjects.some((s) => /[*?]/.test(s));
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRoleWithWebIdentity",
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Condition: wildcard
          ? { StringEquals: { [`${provider}:aud`]: audience }, StringLike: { [`${provider}:sub`]: sub } }
          : { StringEquals: { [`${provider}:aud`]: audience, [`${provider}:sub`]: sub } },
      },
    ],
  };
}

/**
 * The trust policy of the Pod Identity role xeks creates (kind pod-identity): the EKS Pod Identity service
 * principal may call `sts:AssumeRole` and `sts:TagSession` (EKS User Guide, "Create an IAM role for EKS Pod
 * Identity").
 */
export function podIdentityTrustPolicy(): { Version: "2012-10-17"; Statement: TrustStatement[] } {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Effect: "Allow",
        Principal: { Service: POD_IDENTITY_SERVICE },
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

/**
 * Whether an Allow statement of `trust` that names `action` (exactly, or as `sts:*` or `*`) asks for
 * `sts:ExternalId`: for an action other than sts:AssumeRole (sts:TagSession), such a statement never matches, since
 * the key is a condition key of sts:AssumeRole only (Service Authorization Reference, AWS Security Token Service).
 */
export function externalIdGuards(trust: TrustDocument, action: string): boolean {
  return statementsOf(trust).some((st) => {
    if (st.Effect !== "Allow") return false;
    const actions = [st.Action ?? []].flat().map((a) => String(a).toLowerCase());
    if (!actions.some((a) => a === action.toLowerCase() || a === "sts:*" || a === "*")) return false;
    return Object.values(st.Condition ?? {}).some((op) =>
      Object.keys(op as Record<string, unknown>).some((k) => k.toLowerCase() === "sts:externalid"),
    );
  });
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
