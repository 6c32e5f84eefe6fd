/**
 * The one guard on printed fixes (applied by the chain runner to every finding, src/chain/runner.ts): no fix may
 * write to a role under `/aws-reserved/` (IAM Identity Center's `AWSReservedSSO_*` roles and other roles AWS
 * services manage): IAM refuses such writes, and replacing an Identity Center role's SAML trust would lock every
 * person of its permission set out. A fix that runs `aws iam update-assume-role-policy`, `put-role-policy` or
 * `attach-role-policy` on such a role is replaced by one that names the permission set (docs/clients.md).
 */
import { permissionSetOfRoleName } from "../domain/principal.js";
import { assumePolicyDocument, permissionSetPolicyFix } from "./links/callers.js";

const ROLE_WRITE =
  /aws iam (update-assume-role-policy|put-role-policy|attach-role-policy|delete-role-policy|detach-role-policy|put-role-permissions-boundary|delete-role-permissions-boundary|add-role-to-instance-profile|update-role|tag-role)\b[^&;]*?--role-name[ =]['"]?([\w+=,.@-]+)/g;

/** The role names a fix writes to with an `aws iam` command that changes a role (its trust, policies, boundary, profile). */
export function rolesWrittenBy(fix: string): { command: string; role: string }[] {
  return [...fix.matchAll(ROLE_WRITE)].map((m) => ({ command: m[1] as string, role: m[2] as string }));
}

/**
 * `fix` unchanged, or, when it writes to a reserved role (a name `AWSReserved…`, or one of `reservedRoles`:
 * names of roles whose path is under /aws-reserved/), a fix that names the permission set instead.
 */
export function safeFix(fix: string, reservedRoles: ReadonlySet<string> = new Set()): string {
  const reserved = new Set([...reservedRoles].map((r) => r.toLowerCase()));
  const hit = rolesWrittenBy(fix).find(
    (w) =>
      /^AWSReserved/i.test(w.role) ||
      /^AWSServiceRoleFor/i.test(w.role) ||
      reserved.has(w.role.toLowerCase()),
  );
  if (!hit) return fix;
  const account = /in account (\d{12})/.exec(fix)?.[1] ?? "ACCOUNT";
  const set = permissionSetOfRoleName(hit.role);
  const why = `xeks never writes to ${hit.role}: it is under /aws-reserved/, managed by ${set ? `IAM Identity Center for permission set ${set}` : "an AWS service"}, IAM refuses changes to it${hit.command === "update-assume-role-policy" ? " and replacing its trust would lock its users out" : ""}`;
  if (!set) {
    return `${why}; declare the client by its kind instead (for IAM Identity Center: identity: { kind: sso, permissionSet: NAME }) and run xeks plan again`;
  }
  if (hit.command === "update-assume-role-policy") {
    return `${why}; an access role lets the permission set's people in by its own trust (clients[].identity: { kind: sso, permissionSet: ${set} }, see iam.access-role-trust), and what they may call is the permission set's: ${permissionSetPolicyFix(set, account, assumePolicyDocument(["sts:AssumeRole"], ["ACCESS_ROLE_ARN"]))}`;
  }
  const doc = /--policy-document '([^']*)'/.exec(fix)?.[1];
  return `${why}; change the permission set instead: ${permissionSetPolicyFix(set, account, doc ?? assumePolicyDocument(["sts:AssumeRole"], ["ACCESS_ROLE_ARN"]))}`;
}
