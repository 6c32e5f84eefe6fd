/**
 * deploy's AWS errors as xeks errors (`awsError`, `isNoAnswer`). The calls themselves, and their interfaces
 * (fakes in tests implement `AwsApis`), are in src/aws/deploy.ts and re-exported here.
 */
import {
  awsErrorHint,
  classifyAwsError,
  credentialsNotLoaded,
  formatAwsError,
  isNoAnswer as isNoAwsAnswer,
} from "../aws/errors.js";
import { AwsSilenceError } from "../aws/watchdog.js";
import { InputError, OperationError } from "../errors.js";
import { type CredentialSet, describeCredentials } from "./credentials.js";

export {
  type AwsApis,
  type CfnApi,
  type Ec2Api,
  type EksApi,
  eventInfo,
  type StackEventInfo,
  type StackState,
  type StsApi,
  sdkApis,
} from "../aws/deploy.js";

function errorMessage(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/**
 * Turn an SDK error into a typed xeks error, classified by the one AWS classifier (src/aws/errors.ts) with its
 * hints. Only a named profile is the user's input (exit 2): one that gives no credentials at all (missing,
 * incomplete, an SSO profile without a login) is a bad flag value. The ambient chain finding nothing,
 * credentials that AWS refuses, timeouts and the rest are operation failures (exit 1), with a hint. `what`
 * says what was being done, with which credentials.
 */
export function awsError(
  err: unknown,
  what: string,
  set?: Pick<CredentialSet, "profile" | "flag" | "role" | "base">,
): Error {
  if (err instanceof InputError || err instanceof OperationError) return err;
  const facts = classifyAwsError(err);
  const msg = errorMessage(err);
  const who = set ? describeCredentials(set) : "the credentials";
  const flag = set?.flag ?? "--cluster-profile or --client-profile NAME=PROFILE";
  if (credentialsNotLoaded(facts)) {
    if (set?.profile !== undefined) {
      return new InputError(`${what}: cannot load ${who}: ${msg}`, [
        {
          path: set.flag,
          message: `check that profile ${set.profile} exists in the AWS config and credentials files and can be used (for SSO, that you are logged in), or name another profile with ${set.flag}`,
        },
      ]);
    }
    if (set?.role !== undefined) {
      // --assume-role-name: the base session has no credentials; it is what --profile names.
      return new OperationError(
        `${what}: cannot load ${who}: ${msg}`,
        `give the base session credentials: configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, aws sso login, an instance profile) or name its profile with --profile PROFILE (it assumes ${set.role}); or give this account its own credentials with ${flag}`,
      );
    }
    return new OperationError(
      `${what}: cannot load ${who}: ${msg}`,
      `configure credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, aws sso login, an instance profile) or name a profile with ${flag}`,
    );
  }
  if (facts.kind === "credentials") {
    return new OperationError(
      `${what}: ${who} were refused (${facts.code}): ${msg}`,
      `refresh the credentials (aws sso login, new keys) and run again, or name other ones with ${flag}`,
    );
  }
  if (facts.network) {
    const e = new OperationError(
      `${what}: no answer from AWS (${facts.code}): ${facts.message}`,
      awsErrorHint(facts.kind),
    );
    (e as { cause?: unknown }).cause = err;
    return e;
  }
  return new OperationError(`${what}: ${formatAwsError(facts)}`, awsErrorHint(facts.kind));
}

/**
 * Whether an error (or one of its causes) is AWS not answering: a timeout, a refused or dropped connection, an
 * unresolvable host, or the watchdog ending the run (src/aws/watchdog.ts). The one classifier decides.
 */
export function isNoAnswer(err: unknown): boolean {
  return err instanceof AwsSilenceError || isNoAwsAnswer(err);
}
