/**
 * Who a client is, as IAM sees it: the five client kinds (docs/clients.md) and the principal an access role
 * trusts for each. Pure data and string rules; the trust documents themselves are built in `trust.ts`. Domain
 * layer: imports nothing of src/ outside src/domain.
 *
 * Sources:
 * - IAM Identity Center roles: "IAM Identity Center User Guide, Referencing permission sets in resource policies,
 *   Amazon EKS, and AWS KMS": each permission set provisioned to an account becomes a role named
 *   `AWSReservedSSO_{PermissionSetName}_{unique suffix}` under the path `/aws-reserved/sso.amazonaws.com/`
 *   (or `/aws-reserved/sso.amazonaws.com/{region}/` for instances in some regions); IAM refuses changes to
 *   roles under `/aws-reserved/` ("IAM User Guide, Service-linked roles" and Identity Center: the role is
 *   managed by Identity Center). Permission set names: SSO Admin API CreatePermissionSet, `Name`, pattern
 *   `[\w+=,.@-]+`, 1-32 characters.
 * - OIDC: "IAM User Guide, Create a role for OpenID Connect federation": the provider ARN
 *   `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST`, condition keys `HOST:aud` and `HOST:sub`; GitHub Actions'
 *   subject forms (`repo:OWNER/REPO:ref:refs/heads/BRANCH`, `...:environment:NAME`, `...:pull_request`):
 *   GitHub Docs, "About security hardening with OpenID Connect", "Example subject claims".
 * - EKS Pod Identity: "Amazon EKS User Guide, Learn how EKS Pod Identity grants pods access to AWS services":
 *   the role trusts the service principal `pods.eks.amazonaws.com` for `sts:AssumeRole` and `sts:TagSession`;
 *   "Access AWS resources in another account with a target IAM role" (`targetRoleArn`): the target role allows
 *   `sts:AssumeRole` and `sts:TagSession` from the Pod Identity role.
 */
import { createHash } from "node:crypto";

/** The kinds of client a topology declares (`clients[].identity.kind`). */
export type ClientKind = "instance" | "sso" | "oidc" | "pod-identity" | "role";

/** Every kind, in the order docs list them. */
export const CLIENT_KINDS: readonly ClientKind[] = ["instance", "sso", "oidc", "pod-identity", "role"];

/** A permission set name (SSO Admin CreatePermissionSet `Name`: `[\w+=,.@-]+`, 1-32 characters). */
export const PERMISSION_SET_NAME_PATTERN = /^[\w+=,.@-]{1,32}$/;

/**
 * An OIDC provider as IAM names it: the issuer URL without `https://` (a host, optionally a path), at most 255
 * characters (IAM CreateOpenIDConnectProvider `Url`, 1-255 characters).
 */
export const OIDC_PROVIDER_PATTERN =
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(\/[\w.~-]+)*$/;

/** The issuer host of GitHub Actions' OIDC tokens. */
export const GITHUB_ACTIONS_PROVIDER = "token.actions.githubusercontent.com";

/** The audience `aws-actions/configure-aws-credentials` asks for, and IAM's documented default for it. */
export const DEFAULT_OIDC_AUDIENCE = "sts.amazonaws.com";

/** The service principal of EKS Pod Identity. */
export const POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com";

/** The path under which AWS services keep the roles they manage; IAM refuses writes to roles under it. */
export const RESERVED_ROLE_PATH_PREFIX = "/aws-reserved/";

/** The path of IAM Identity Center's roles, before an optional `{region}/`. */
export const SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/";

/** The STS actions a client's session performs on an access role. */
export type AssumeAction = "sts:AssumeRole" | "sts:TagSession";

/**
 * What an access role trusts for one client, and how the proof simulates it.
 * - an exact role (`arn`): instance, oidc, pod-identity and role kinds;
 * - an account and role ARN patterns (`account`, `arnPatterns`): the roles of an Identity Center permission
 *   set, whose names carry a suffix IAM Identity Center picks (trusted as the account's root with an
 *   `ArnLike aws:PrincipalArn` condition).
 */
export interface ClientPrincipal {
  /** `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` of the exact role trusted; absent for a permission set. */
  arn?: string;
  /** The client account, trusted as `arn:PARTITION:iam::ACCOUNT:root` with `arnPatterns` (sso only). */
  account?: string;
  /** `ArnLike aws:PrincipalArn` values (sso only), see `ssoRoleArnPatterns`. */
  arnPatterns?: string[];
  /** The actions the trust statement allows: `sts:AssumeRole`, plus `sts:TagSession` for Pod Identity. */
  actions: AssumeAction[];
  /**
   * The caller the proof simulates: the exact role, or for a permission set an example role name with a
   * 16-hex-digit suffix (the form Identity Center gives). `session`: a typical role session name.
   */
  example: { name: string; arn: string; session: string };
  /** How messages name it: `role ci-deployer`, `permission set PlatformEngineers`. */
  label: string;
}

/**
 * The `ArnLike aws:PrincipalArn` patterns that match the roles Identity Center creates for a permission set in
 * an account: directly under `/aws-reserved/sso.amazonaws.com/` and under a region-prefixed path. The name
 * part `AWSReservedSSO_NAME_*` also matches the roles of a permission set whose name starts with `NAME_`
 * (names may hold `_`): the proof's evidence says so (docs/clients.md, "Reach of a permission set pattern").
 */
export function ssoRoleArnPatterns(partition: string, account: string, permissionSet: string): string[] {
  const base = `arn:${partition}:iam::${account}:role${SSO_ROLE_PATH}`;
  return [`${base}AWSReservedSSO_${permissionSet}_*`, `${base}*/AWSReservedSSO_${permissionSet}_*`];
}

/** An example of the role Identity Center creates for a permission set (a fixed 16-hex-digit suffix). */
export function ssoExampleRole(
  partition: string,
  account: string,
  permissionSet: string,
): { name: string; arn: string } {
  const name = `AWSReservedSSO_${permissionSet}_0123456789abcdef`;
  return { name, arn: `arn:${partition}:iam::${account}:role${SSO_ROLE_PATH}${name}` };
}

/**
 * The permission set of an Identity Center role name (`AWSReservedSSO_PlatformEngineers_0a1b2c3d4e5f6a7b` ->
 * `PlatformEngineers`), or undefined when the name is not of that form.
 */
export function permissionSetOfRoleName(name: string): string | undefined {
  const m = /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/.exec(name);
  return m?.[1];
}

/**
 * True for a role ARN or path under `/aws-reserved/` or `/aws-service-role/` (roles IAM Identity Center and AWS
 * services manage: IAM refuses writes to them). Compared ignoring case: IAM paths are case-sensitive, but xeks
 * refuses look-alike paths too rather than guess which one a reader meant.
 */
export function isReservedRole(arnOrPath: string): boolean {
  const path = (
    arnOrPath.startsWith("arn:") ? arnOrPath.slice(arnOrPath.indexOf(":role") + 5) : arnOrPath
  ).toLowerCase();
  return path.startsWith(RESERVED_ROLE_PATH_PREFIX) || path.startsWith("/aws-service-role/");
}

/**
 * True for a role name that IAM Identity Center (`AWSReservedSSO_…`) or an AWS service (`AWSServiceRoleFor…`,
 * service-linked roles) gives its roles, ignoring case (IAM role names are unique per account ignoring case,
 * and CloudFormation finds a role by name alone, whatever its path).
 */
export function isReservedRoleName(name: string): boolean {
  return /^AWSReservedSSO_/i.test(name) || /^AWSServiceRoleFor/i.test(name);
}

/** `arn:PARTITION:iam::ACCOUNT:oidc-provider/HOST` */
export function oidcProviderArn(partition: string, account: string, provider: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${provider}`;
}

/**
 * Why an OIDC `sub` value may not be trusted, or undefined when it may. A subject is exact, or has `*`/`?`
 * only after a fixed prefix that names one repository: for GitHub Actions `repo:OWNER/REPO:` (so `*`,
 * `repo:*`, `repo:OWNER/*` are refused: they would let every repository, or every repository of an owner, in);
 * for any other provider wildcards are refused (xeks cannot know its subject grammar).
 */
export function subjectProblem(provider: string, subject: string): string | undefined {
  if (subject.length === 0) return "a subject is not empty";
  const wildcard = subject.search(/[*?]/);
  if (wildcard < 0) return undefined;
  if (provider !== GITHUB_ACTIONS_PROVIDER) {
    return `a wildcard in a subject is refused for provider ${provider}: list exact subjects`;
  }
  const fixed = /^repo:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+:/.exec(subject);
  if (!fixed || wildcard < fixed[0].length) {
    return "a wildcard is allowed only after repo:OWNER/REPO: (for example repo:acme/deploy:ref:refs/heads/*); *, repo:* and repo:OWNER/* would trust every repository";
  }
  return undefined;
}

/**
 * The name of a role xeks creates for a client when the topology names none: `xeks-CLUSTER-CLIENT`, cut to
 * IAM's 64 characters with a hash of the whole name when longer (IAM CreateRole `RoleName`: `[\w+=,.@-]+`,
 * 1-64 characters).
 */
export function defaultClientRoleName(cluster: string, client: string): string {
  const raw = `xeks-${cluster}-${client}`.replace(/[^\w+=,.@-]/g, "-");
  if (raw.length <= 64) return raw;
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  return `${raw.slice(0, 64 - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}
