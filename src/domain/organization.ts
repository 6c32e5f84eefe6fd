/**
 * Organization trust (issue 14, docs/organizations.md): the access roles and the peering accepter role trust the
 * members of an AWS Organizations organization by `aws:PrincipalOrgID` (optionally `aws:PrincipalOrgPaths`) and,
 * for the access roles, an `ArnLike aws:PrincipalArn` pattern of client role names, so their trust policies do not
 * grow with the number of clients. Pure string rules; the documents are built in `trust.ts`. Domain layer: imports
 * nothing of src/ outside src/domain.
 *
 * Sources: IAM User Guide, "AWS global condition context keys": aws:PrincipalOrgID (the organization id of the
 * principal's account), aws:PrincipalOrgPaths (multivalued: the account's path `o-ID/r-ROOT/ou-…/…/`, matched with
 * `ForAnyValue:StringLike`), aws:PrincipalArn (the role ARN, without the session, matched with `ArnLike`); IAM
 * User Guide, "IAM JSON policy elements: Condition operators": `*` and `?` in StringLike/ArnLike; AWS
 * Organizations API Reference: Organization `Id` pattern `^o-[a-z0-9]{10,32}$`, Root `Id` `^r-[0-9a-z]{4,32}$`,
 * OrganizationalUnit `Id` `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`.
 */
import type { ClientKind } from "./principal.js";

/**
 * An organization path as `aws:PrincipalOrgPaths` holds it: `o-ID/r-ROOT/` then OU ids, each followed by `/`
 * (`o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/`). No wildcard: xeks appends `*` itself.
 */
export const ORGANIZATION_PATH_PATTERN =
  /^o-[a-z0-9]{10,32}\/r-[0-9a-z]{4,32}\/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\/)*$/;

/**
 * A role name pattern (`organization.rolePattern`): the role's name, with its path (without the leading `/`) when
 * the path is not `/`, where `*` matches any run of characters and `?` one character (ArnLike). 1-576 characters
 * (a 512-character path and a 64-character name).
 */
export const ROLE_NAME_GLOB_PATTERN = /^[\w+=,.@/*?-]{1,576}$/;

/** The longest role name pattern: a 512-character path and a 64-character name (IAM quotas). */
export const ROLE_NAME_GLOB_MAX = 576;

/**
 * Roles that AWS services and account factories create in member accounts, which an organization statement must
 * never let in (each is an administrator of its account, or acts for AWS): `organization.rolePattern` is refused
 * when it could match one of them, and the proof simulates each `example` as a caller that must not get in.
 * `glob` is matched against the part of the role ARN after `role/` (path without its leading `/`, then the name);
 * ArnLike's `*` crosses `/`, so a pattern starting with `*` reaches the roles under `/aws-reserved/` and
 * `/aws-service-role/`. Sources: AWS Organizations User Guide, "Accessing member accounts"
 * (OrganizationAccountAccessRole); AWS Control Tower User Guide, "AWSControlTowerExecution role"; AWS Control
 * Tower Account Factory for Terraform (AFT), "AWSAFTExecution"; AWS CloudFormation User Guide, StackSets, "Grant
 * self-managed permissions" (AWSCloudFormationStackSetExecutionRole) and "Activate trusted access with AWS
 * Organizations" (service-managed `stacksets-exec-*` roles); IAM User Guide, "Using service-linked roles" (path
 * `/aws-service-role/SERVICE/`); IAM Identity Center User Guide, "IAM roles created by IAM Identity Center" (path
 * `/aws-reserved/sso.amazonaws.com/`).
 */
export const WELL_KNOWN_ROLES: readonly { glob: string; label: string; example: string }[] = [
  {
    glob: "OrganizationAccountAccessRole",
    label: "OrganizationAccountAccessRole, AWS Organizations' administrator role of member accounts",
    example: "OrganizationAccountAccessRole",
  },
  {
    glob: "AWSControlTowerExecution",
    label: "AWSControlTowerExecution, AWS Control Tower's administrator role",
    example: "AWSControlTowerExecution",
  },
  {
    glob: "AWSAFTExecution",
    label: "AWSAFTExecution, Account Factory for Terraform's administrator role",
    example: "AWSAFTExecution",
  },
  {
    glob: "stacksets-exec-*",
    label: "stacksets-exec-*, the execution roles of service-managed CloudFormation StackSets",
    example: "stacksets-exec-0123456789abcdef0123456789abcdef",
  },
  {
    glob: "AWSCloudFormationStackSetExecutionRole",
    label:
      "AWSCloudFormationStackSetExecutionRole, the execution role of self-managed CloudFormation StackSets",
    example: "AWSCloudFormationStackSetExecutionRole",
  },
  {
    glob: "aws-reserved/*",
    label: "the roles under /aws-reserved/, IAM Identity Center's AWSReservedSSO_* roles",
    example: "aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
  },
  {
    glob: "aws-service-role/*",
    label: "the service-linked roles under /aws-service-role/",
    example: "aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
  },
];

/**
 * Is there a string both globs match (`*` any run, `?` one character, as ArnLike reads them)? Exact: a search over
 * the pairs of positions of the two patterns.
 */
export function globsIntersect(a: string, b: string): boolean {
  const seen = new Set<number>();
  const todo: [number, number][] = [[0, 0]];
  const width = b.length + 1;
  while (todo.length > 0) {
    const [i, j] = todo.pop() as [number, number];
    if (seen.has(i * width + j)) continue;
    seen.add(i * width + j);
    if (i === a.length && j === b.length) return true;
    const ca = a[i];
    const cb = b[j];
    if (ca === "*") todo.push([i + 1, j]);
    if (cb === "*") todo.push([i, j + 1]);
    if (ca === undefined || cb === undefined) continue;
    const wild = (c: string) => c === "*" || c === "?";
    if (wild(ca) || wild(cb) || ca === cb) todo.push([ca === "*" ? i : i + 1, cb === "*" ? j : j + 1]);
  }
  return false;
}

/** The first of `WELL_KNOWN_ROLES` a role name pattern could match, or undefined. */
export function wellKnownRoleAdmitted(pattern: string): (typeof WELL_KNOWN_ROLES)[number] | undefined {
  return WELL_KNOWN_ROLES.find((r) => globsIntersect(pattern, r.glob));
}

/** A role name a pattern matches: its wildcards replaced by `x` (`Team*-EKS-Client-Role` -> `Teamx-EKS-Client-Role`). */
export function nameFromPattern(pattern: string): string {
  return pattern.replace(/[*?]/g, "x");
}

/**
 * An organization path's root id and the root part of each of its OU ids (`o-1/r-ab12/ou-ab12-1/` -> `ab12`,
 * [`ab12`]): an OU id carries its root's id (AWS Organizations API Reference, OrganizationalUnit `Id`
 * `ou-ROOT-…`), and an organization has one root.
 */
export function pathRoots(path: string): { root: string; ous: string[] } {
  const parts = path.split("/").filter(Boolean);
  return {
    root: (parts[1] ?? "").replace(/^r-/, ""),
    ous: parts.slice(2).map((ou) => ou.split("-")[1] ?? ""),
  };
}

/** True when a role name pattern holds a literal character (not only `*`, `?` and `/`). */
export function hasLiteral(pattern: string): boolean {
  return /[\w+=,.@-]/.test(pattern);
}

/** The kinds whose one exact role an organization statement lets in (docs/organizations.md). */
export const ORGANIZATION_KINDS: readonly ClientKind[] = ["instance", "role", "oidc"];

/**
 * The name a role pattern is matched against: the role's path without its leading `/`, then its name
 * (`/teams/` + `Deployer` -> `teams/Deployer`; `/` + `Deployer` -> `Deployer`). That is the part of the role ARN
 * after `role/`.
 */
export function patternName(path: string, name: string): string {
  return `${path.replace(/^\//, "")}${name}`;
}

/** The same, from a role ARN (`arn:aws:iam::1:role/teams/Deployer` -> `teams/Deployer`). */
export function patternNameOfArn(arn: string): string {
  const i = arn.indexOf(":role/");
  return i < 0 ? arn : arn.slice(i + ":role/".length);
}

/** Does `text` match the glob `pattern` (`*` any run, `?` one character, case-sensitive, as ArnLike does)? */
export function globMatch(pattern: string, text: string): boolean {
  let re = globCache.get(pattern);
  if (re === undefined) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${source}$`, "s");
    if (globCache.size >= 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(text);
}

/** Compiled globs of `globMatch` by pattern (a plan uses a few patterns, tested thousands of times; at most 1,000 kept). */
const globCache = new Map<string, RegExp>();

/** The `aws:PrincipalArn` value for a role name pattern: `arn:PARTITION:iam::*:role/PATTERN`. */
export function rolePatternArn(partition: string, pattern: string): string {
  return `arn:${partition}:iam::*:role/${pattern}`;
}

/** The `aws:PrincipalOrgPaths` value for a declared path: the path and everything under it (`PATH*`). */
export function orgPathPattern(path: string): string {
  return `${path}*`;
}

/** Does an account's organization path fall under one of the declared paths? */
export function underPaths(accountPath: string, paths: readonly string[]): boolean {
  return paths.some((p) => accountPath.startsWith(p));
}

/**
 * The role name patterns an organization statement uses when `organization.rolePattern` is not declared: the
 * distinct names (`patternName`) of the covered roles, in order of first appearance; the roles whose name is
 * xeks's default for the cluster (`defaultNames`, see `defaultClientRoleName`) collapse into one
 * `xeks-CLUSTER-*` when that pattern matches them all.
 */
export function defaultRolePatterns(
  cluster: string,
  roles: readonly { path: string; name: string; isDefault: boolean }[],
): string[] {
  const collapsed = `xeks-${cluster}-*`.replace(/[^\w+=,.@*-]/g, "-");
  const out: string[] = [];
  for (const r of roles) {
    const name = patternName(r.path, r.name);
    const p = r.isDefault && r.path === "/" && globMatch(collapsed, name) ? collapsed : name;
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
