/**
 * Who calls sts:AssumeRole for a client, per kind (docs/clients.md): the client's one role (instance, oidc,
 * pod-identity, role), or for a permission set (sso) each role of `model.principalRoles[client]` (live: the
 * permission set's roles found in the client account; plan: the principal's example role). Also the fixes
 * that name a permission set instead of its roles, which IAM refuses to change.
 */
import { parseArn } from "../../domain/arn.js";
import { isReservedRole, permissionSetOfRoleName } from "../../domain/principal.js";
import { shellQuote } from "../../domain/shell.js";
import { factKey, type Model, type UnreadFact, unread } from "../../model/types.js";
import type { Client } from "../../topology/types.js";
import type { AssumeCaller } from "./assume.js";

/** The callers of a client, or why they could not be read. */
export interface ClientCallers {
  callers: AssumeCaller[];
  /** The principal's roles could not be listed (live sso: IAM ListRoles denied). */
  missing?: UnreadFact;
}

/** The last part of a role ARN (`arn:…:role/aws-reserved/sso.amazonaws.com/NAME` -> NAME). */
export function roleNameOfArn(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

/**
 * The roles that act for a client. Throws for a client of an exact-role kind without `role` (validation
 * gives every kind but sso one; the runner reports a throw as a bug in xeks).
 */
export function clientCallers(model: Model, client: Client): ClientCallers {
  const organizationId = model.organizations[client.account];
  const session = client.principal.example.session;
  if (client.identity.kind === "sso") {
    const missing = unread(model, factKey.principalRoles(client.name));
    const arns = ownRoles(model, client, client.identity.permissionSet);
    return {
      callers: arns.map((arn) => ({
        account: client.account,
        roleName: roleNameOfArn(arn),
        roleArn: arn,
        session,
        ...(organizationId ? { organizationId } : {}),
      })),
      ...(missing && arns.length === 0 ? { missing } : {}),
    };
  }
  const role = client.role;
  if (!role) throw new Error(`client ${client.name} of kind ${client.identity.kind} has no role`);
  // A StackSet client (docs/organizations.md, "How the proof sees a StackSet") calls from every member account:
  // simulated as a representative member of its organization (`principal.example`), not from its administrator.
  const member = client.fromOrganization ? client.principal.example.arn : undefined;
  const memberOrg = member ? (client.organizationId ?? organizationId) : organizationId;
  return {
    callers: [
      {
        account: member ? (parseArn(member)?.account ?? client.account) : client.account,
        roleName: role.name,
        roleArn: member ?? role.arn,
        session,
        ...(memberOrg ? { organizationId: memberOrg } : {}),
        ...(client.organizationPath ? { organizationPath: client.organizationPath } : {}),
      },
    ],
  };
}

/**
 * The roles of `model.principalRoles[client]` that belong to the permission set itself: the pattern
 * `AWSReservedSSO_NAME_*` also matches the roles of a permission set named `NAME_more` (docs/clients.md), whose
 * policies are not this client's to prove or fix.
 */
export function ownRoles(model: Model, client: Client, permissionSet: string): string[] {
  return (model.principalRoles[client.name] ?? []).filter(
    (arn) => permissionSetOfRoleName(roleNameOfArn(arn)) === permissionSet,
  );
}

/** The inline policy document that lets a caller assume `accessArns` with `actions`. */
export function assumePolicyDocument(actions: readonly string[], accessArns: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: actions.length === 1 ? actions[0] : [...actions],
        Resource: accessArns.length === 1 ? accessArns[0] : [...accessArns],
      },
    ],
  });
}

/**
 * The fix that gives a permission set's people a policy (IAM Identity Center administration: SSO Admin
 * PutInlinePolicyToPermissionSet, then ProvisionPermissionSet so the accounts' roles get it). IAM refuses
 * changes to the reserved roles themselves. PutInlinePolicyToPermissionSet replaces the permission set's inline
 * policy: the statement is to be merged into the existing one.
 */
export function permissionSetPolicyFix(
  permissionSet: string,
  account: string,
  policyDocument: string,
): string {
  return (
    `in the IAM Identity Center administration account (management or delegated administrator), for permission set ${permissionSet}: ` +
    `aws sso-admin put-inline-policy-to-permission-set --instance-arn INSTANCE_ARN --permission-set-arn PERMISSION_SET_ARN --inline-policy ${shellQuote(policyDocument)} ` +
    `&& aws sso-admin provision-permission-set --instance-arn INSTANCE_ARN --permission-set-arn PERMISSION_SET_ARN --target-type AWS_ACCOUNT --target-id ${account} ` +
    "(put-inline-policy-to-permission-set replaces the inline policy: merge this statement into the existing one; " +
    "aws sso-admin list-permission-sets and describe-permission-set give PERMISSION_SET_ARN), " +
    "then declare the policy in clients[].identity.policies"
  );
}

/** The permission set a role ARN belongs to, when it is an Identity Center role. */
export function permissionSetOfRoleArn(arn: string): string | undefined {
  return isReservedRole(arn) ? permissionSetOfRoleName(roleNameOfArn(arn)) : undefined;
}
