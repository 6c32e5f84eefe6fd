/**
 * The kubeconfig per client kind (docs/clients.md, "kubeconfig per kind"): every kind gets the same exec entry
 * (`xeks token --role-arn ACCESS_ROLE`); what differs is where `xeks token` finds its first credentials:
 * - instance: the EC2 instance profile (IMDSv2), no profile;
 * - sso: an IAM Identity Center profile of the shared config file (`sso_session`, or the legacy
 *   `sso_start_url`), pinned as AWS_PROFILE, after `aws sso login`;
 * - oidc: the pipeline's environment (AWS_ACCESS_KEY_ID/... set by aws-actions/configure-aws-credentials), no
 *   profile;
 * - pod-identity: the container credentials EKS Pod Identity injects (AWS_CONTAINER_CREDENTIALS_FULL_URI and
 *   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), no profile;
 * - role: whatever holds the role (a profile, or the environment).
 * This module checks the pinned profile against an sso client (its account and permission set) and words the
 * notes the CLI prints. Pure: reads the shared config file only through `profileSettings`.
 *
 * Source of the profile keys: AWS CLI User Guide, "Configuring IAM Identity Center authentication with the AWS
 * CLI" (`sso_session`, `sso_account_id`, `sso_role_name`).
 */
import { InputError } from "../errors.js";
import { type Env, profileSettings } from "../token/environment.js";
import type { KubeconfigClient } from "./target.js";

/** Where the pinned profile came from: the flag, or AWS_PROFILE of the environment. */
export type ProfileSource = "--profile" | "AWS_PROFILE";

/**
 * Whether an Identity Center role of permission set `roleName` is admitted by the trust of permission set
 * `permissionSet`: the trust's pattern `AWSReservedSSO_PERMISSIONSET_*` (src/domain/principal.ts) matches
 * `AWSReservedSSO_ROLENAME_SUFFIX` when ROLENAME is PERMISSIONSET or starts with `PERMISSIONSET_`.
 */
export function permissionSetAdmits(permissionSet: string, roleName: string): boolean {
  return roleName === permissionSet || roleName.startsWith(`${permissionSet}_`);
}

/**
 * Refuse (InputError naming the flag) a pinned profile that cannot be the sso client: an Identity Center
 * profile (`sso_account_id` / `sso_role_name` in its section) of another account, or of a permission set the
 * access role does not trust. Kubectl would only learn it at the first token, as AccessDenied. A profile
 * without those keys (static keys, role_arn, credential_process) is left alone: it may hold the permission
 * set's role in another way.
 */
export function checkProfileForClient(
  client: KubeconfigClient | undefined,
  profile: string | undefined,
  source: ProfileSource,
  env: Env,
): void {
  if (client?.kind !== "sso" || profile === undefined || client.permissionSet === undefined) return;
  const settings = profileSettings(env, profile);
  const account = settings?.get("sso_account_id");
  const roleName = settings?.get("sso_role_name");
  const issues: { path: string; message: string }[] = [];
  if (account !== undefined && account !== client.account) {
    issues.push({
      path: source,
      message: `profile ${profile} signs in to account ${account} (sso_account_id); client ${client.name} is account ${client.account}: name a profile of that account`,
    });
  }
  if (roleName !== undefined && !permissionSetAdmits(client.permissionSet, roleName)) {
    issues.push({
      path: source,
      message: `profile ${profile} signs in with permission set ${roleName} (sso_role_name); the access role trusts permission set ${client.permissionSet}: name a profile with sso_role_name = ${client.permissionSet}`,
    });
  }
  if (issues.length > 0) {
    throw new InputError(
      `the AWS profile ${profile} is not the permission set ${client.permissionSet} of account ${client.account}`,
      issues,
    );
  }
}

/**
 * Notes for the user about the credentials kubectl's tokens will start from (printed by the CLI as
 * `xeks: note: ...`; `notes` of `--output json`): an sso client with no profile pinned, and a pipeline or pod
 * client whose kubeconfig pins the AWS_PROFILE of the environment that made it.
 */
export function kindNotes(
  client: KubeconfigClient | undefined,
  profile: string | undefined,
  source: ProfileSource,
): string[] {
  if (!client) return [];
  if (client.kind === "sso" && profile === undefined) {
    return [
      `client ${client.name} is the permission set ${client.permissionSet}: no profile is pinned, so kubectl's tokens start from the credentials at hand when kubectl runs; pin an IAM Identity Center profile with --profile (aws configure sso; then aws sso login)`,
    ];
  }
  if ((client.kind === "oidc" || client.kind === "pod-identity") && profile !== undefined) {
    const where = client.kind === "oidc" ? "a pipeline" : "a pod";
    return [
      `client ${client.name} runs in ${where}, and this kubeconfig pins ${source === "AWS_PROFILE" ? "AWS_PROFILE=" : "the profile "}${profile}; for a kubeconfig used there, give --no-profile (the token then starts from ${client.kind === "oidc" ? "the environment's credentials" : "the pod's container credentials"})`,
    ];
  }
  return [];
}
