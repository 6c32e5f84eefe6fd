/**
 * Before anything changes: each set of credentials must belong to the account the topology names for it.
 * One sts:GetCallerIdentity per distinct set of credentials; a mismatch is the user's input (exit 2).
 */
import { InputError } from "../errors.js";
import { type AwsApis, awsError } from "./aws.js";
import { type CredentialProvider, type CredentialSet, describeCredentials } from "./credentials.js";
import type { EventSink, IdentityCheck } from "./types.js";

function who(set: CredentialSet): string {
  return set.key === "cluster" ? "the cluster account" : `client ${set.key.slice("client ".length)}`;
}

export async function verifyIdentities(
  sets: Iterable<CredentialSet>,
  apis: AwsApis,
  emit: EventSink = () => {},
): Promise<IdentityCheck[]> {
  const byProvider = new Map<CredentialProvider, Promise<{ account: string; arn: string }>>();
  const checks: IdentityCheck[] = [];
  const list = [...sets];
  for (const set of list) {
    let p = byProvider.get(set.provider);
    if (!p) {
      p = apis.sts(set).getCallerIdentity();
      byProvider.set(set.provider, p);
    }
    let id: { account: string; arn: string };
    try {
      id = await p;
    } catch (err) {
      throw awsError(err, `checking the credentials for ${who(set)} (${set.account})`, set);
    }
    const check: IdentityCheck = {
      credentials: set.key,
      ...(set.profile !== undefined ? { profile: set.profile } : {}),
      expectedAccount: set.account,
      account: id.account,
      arn: id.arn,
    };
    checks.push(check);
    emit({ type: "identity", check });
  }
  const wrong = list.filter((_, i) => checks[i]?.account !== checks[i]?.expectedAccount);
  if (wrong.length > 0) {
    const issues = wrong.map((set) => {
      const check = checks[list.indexOf(set)] as IdentityCheck;
      return {
        path: set.flag,
        message:
          `${describeCredentials(set)} (for ${who(set)}) belong to account ${check.account} (${check.arn}), ` +
          `but the topology expects account ${set.account}: name a profile of account ${set.account} with ${set.flag}`,
      };
    });
    throw new InputError(
      `refusing to continue: ${wrong.length === 1 ? "a set of credentials belongs" : "credentials belong"} to the wrong account; nothing was changed`,
      issues,
    );
  }
  return checks;
}
