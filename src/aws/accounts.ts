/**
 * The one account check of xeks: each set of credentials must belong to the account the topology names for it
 * (the account sts:GetCallerIdentity reports), and a mismatch names the flag that fixes it, for the set that is
 * wrong: `--cluster-profile PROFILE` for the cluster's credentials, `--client-profile NAME=PROFILE` for client
 * NAME's. Used by deploy, diff and destroy (src/deploy/identity.ts) and by doctor and discover
 * (src/model/live/load.ts), so all say the same thing. No SDK import.
 */
import { InputError, type InputIssue } from "../errors.js";

/** Whose credentials a check is about, and how the user chooses them. */
export interface AccountExpectation {
  /** In messages: "the cluster" or "client NAME". */
  who: string;
  /** The account the topology names for them. */
  account: string;
  /** The profile they come from; undefined for the ambient credentials (the SDK's default chain). */
  profile?: string;
  /** The flag that chooses them: {@link clusterProfileFlag} or {@link clientProfileFlag}. */
  flag: string;
  /**
   * The credentials in words, when they are neither a profile nor the ambient ones: "role ARN (--assume-role-name,
   * assumed with the ambient credentials)". @default from `profile`
   */
  source?: string;
}

/** Who the credentials are (sts:GetCallerIdentity: Account and Arn). */
export interface CallerIdentity {
  account: string;
  arn: string;
}

/** The flag that chooses the cluster account's credentials. */
export function clusterProfileFlag(): string {
  return "--cluster-profile PROFILE";
}

/** The flag that chooses client `name`'s credentials. */
export function clientProfileFlag(name: string): string {
  return `--client-profile ${name}=PROFILE`;
}

/** "the credentials of profile P" or "the ambient credentials". */
export function describeCredentialSource(profile: string | undefined): string {
  return profile !== undefined ? `the credentials of profile ${profile}` : "the ambient credentials";
}

/**
 * The issue for credentials of another account than expected, or undefined when they match. Its path is the
 * flag's name (`--cluster-profile`, `--client-profile`), its message names the credentials, both accounts, and
 * the whole flag to pass.
 */
export function accountMismatch(
  expect: AccountExpectation,
  identity: CallerIdentity,
): InputIssue | undefined {
  if (identity.account === expect.account) return undefined;
  return {
    path: expect.flag.split(" ")[0] ?? expect.flag,
    message:
      `${expect.source ?? describeCredentialSource(expect.profile)} (for ${expect.who}) belong to account ${identity.account} (${identity.arn}), ` +
      `not ${expect.account}, the account of ${expect.who} in the topology: pass ${expect.flag} with credentials for account ${expect.account}`,
  };
}

/**
 * Check every pair; throw one InputError (exit 2) listing each mismatch once. `consequence` ends the headline:
 * "nothing was changed", "nothing else was read".
 */
export function checkAccounts(
  pairs: { expect: AccountExpectation; identity: CallerIdentity }[],
  consequence: string,
): void {
  const seen = new Set<string>();
  const issues: InputIssue[] = [];
  for (const { expect, identity } of pairs) {
    const issue = accountMismatch(expect, identity);
    if (!issue) continue;
    const key = `${issue.path}\n${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  if (issues.length === 0) return;
  throw new InputError(
    `the credentials do not match the topology's accounts (${issues.length === 1 ? "one set belongs" : `${issues.length} sets belong`} to another account); ${consequence}`,
    issues,
  );
}
