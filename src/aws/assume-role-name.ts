/**
 * `--assume-role-name NAME`: one base credential reaches every account of a topology by assuming
 * `arn:PARTITION:iam::ACCOUNT:role/NAME` in each (for example OrganizationAccountAccessRole, which AWS
 * Organizations creates in the accounts it creates, or AWSControlTowerExecution). The base session is the
 * ambient credentials (the SDK's default chain) or a named profile (`--profile`); the assumption is the one
 * sts:AssumeRole of xeks (src/aws/sts.ts), through an STS client bounded and watched like every deploy client
 * (src/aws/watchdog.ts). Used by deploy, diff and destroy (src/deploy/credentials.ts) and by doctor and
 * discover (src/aws/session.ts).
 *
 * Source of each fact: the IAM User Guide, "IAM identifiers" (role ARN `arn:PARTITION:iam::ACCOUNT:role/NAME`,
 * a role name is 1-64 of `[\w+=,.@-]`); the STS API reference, AssumeRole (AccessDenied when the role's trust
 * policy does not allow the caller, or the role does not exist; RoleSessionName 2-64 of `[\w+=,.@-]`);
 * the Organizations User Guide, "Accessing member accounts" (OrganizationAccountAccessRole trusts the
 * management account).
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { partitionOf } from "../domain/arn.js";
import { ROLE_NAME_PATTERN } from "../domain/names.js";
import { InputError, OperationError } from "../errors.js";
import { classifyAwsError, formatAwsError } from "./errors.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { assumeRole, getCallerIdentity, type StsSender, stsClient } from "./sts.js";
import { watchedRequestHandler } from "./watchdog.js";

/** The flag's name, for messages. */
export const ASSUME_ROLE_NAME_FLAG = "--assume-role-name";

/** The session name xeks gives the role sessions it starts with `--assume-role-name`. */
export const ASSUME_ROLE_SESSION = "xeks";

/**
 * `--assume-role-name`'s value, checked: a role name, by IAM's rule for role names (src/domain/names.ts
 * ROLE_NAME_PATTERN: 1-64 of letters, digits and `+=,.@_-`; no path, no ARN, no blank). Throws InputError
 * (exit 2, naming the flag) otherwise.
 */
export function parseAssumeRoleName(value: string): string {
  if (ROLE_NAME_PATTERN.test(value)) return value;
  throw new InputError(`bad ${ASSUME_ROLE_NAME_FLAG} "${value}"`, [
    {
      path: ASSUME_ROLE_NAME_FLAG,
      message:
        "expected the name of a role that exists in every account, e.g. OrganizationAccountAccessRole or AWSControlTowerExecution (1-64 of letters, digits and +=,.@_-; no path, not an ARN)",
    },
  ]);
}

/** `arn:PARTITION:iam::ACCOUNT:role/NAME`, the partition from the region (src/domain/arn.ts `partitionOf`). */
export function roleArnInAccount(account: string, roleName: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:role/${roleName}`;
}

/** sts:AssumeRole refused the base session (an OperationError: exit 1); the message and hint say what to check. */
export class AssumeRoleRefusedError extends OperationError {}

/** What one assumption is for, for its errors. */
export interface AssumeRoleTarget {
  /** The role to assume (roleArnInAccount). */
  roleArn: string;
  account: string;
  /** Region of the STS endpoint (the account's region in the topology). */
  region: string;
  /** Who the credentials act for, in messages: "the cluster", "client ops". */
  who: string;
  /** The base session, in messages: "the ambient credentials", "profile org-admin". */
  base: string;
  /** The flag that gives this account its own credentials instead: "--client-profile ops=PROFILE". */
  flag: string;
}

/**
 * A credential provider that assumes `target.roleArn` with the `base` credentials (sts:AssumeRole, session
 * name "xeks", STS's default duration of one hour). Every call assumes again: wrap it in memoizeProvider
 * (src/aws/credentials.ts) to assume once per run. The STS client is made on first use: SDK_MAX_ATTEMPTS
 * attempts, the watched request handler (each attempt bounded by XEKS_AWS_TIMEOUT_MS), a silent logger, the
 * standard endpoint environment (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL).
 *
 * Errors: a refusal (AccessDenied and the other `denied` codes) is an OperationError naming the account, the
 * role ARN, the base identity (one sts:GetCallerIdentity with the base credentials, when it answers) and what
 * to check: that the role exists and that its trust policy lets the base identity assume it. Anything else
 * (the base credentials cannot be loaded, no answer) is thrown as it is, for the caller's classifier.
 */
export function assumedRoleProvider(
  base: AwsCredentialIdentityProvider,
  target: AssumeRoleTarget,
  makeSts: (region: string, credentials: AwsCredentialIdentityProvider) => StsSender = defaultSts,
): AwsCredentialIdentityProvider {
  let sts: StsSender | undefined;
  return async (): Promise<AwsCredentialIdentity> => {
    sts ??= makeSts(target.region, base);
    try {
      const r = await assumeRole(sts, { roleArn: target.roleArn, sessionName: ASSUME_ROLE_SESSION });
      return {
        accessKeyId: r.accessKeyId,
        secretAccessKey: r.secretAccessKey,
        sessionToken: r.sessionToken,
        expiration: r.expiration,
      };
    } catch (err) {
      const facts = classifyAwsError(err);
      if (facts.kind !== "denied") throw err;
      let baseIdentity = "";
      try {
        baseIdentity = ` (${(await getCallerIdentity(sts)).arn})`;
      } catch {
        // the refusal is the news; who the base is stays unsaid
      }
      const name = target.roleArn.slice(target.roleArn.indexOf(":role/") + ":role/".length);
      const e = new AssumeRoleRefusedError(
        `cannot assume ${target.roleArn} in account ${target.account} (for ${target.who}) with ${target.base}${baseIdentity}: ${formatAwsError(facts)}`,
        `check that role ${name} exists in account ${target.account} and that its trust policy allows sts:AssumeRole by the base identity${baseIdentity ? baseIdentity.replace(/^ \((.*)\)$/, " $1") : ""} ` +
          `(OrganizationAccountAccessRole trusts the organization's management account; AWSControlTowerExecution too), ` +
          `and that the base identity's own policies allow sts:AssumeRole on it; or give this account its own credentials with ${target.flag}`,
      );
      (e as { cause?: unknown }).cause = err;
      throw e;
    }
  };
}

function defaultSts(region: string, credentials: AwsCredentialIdentityProvider): StsSender {
  return stsClient({
    region,
    credentials,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: watchedRequestHandler(),
  });
}
