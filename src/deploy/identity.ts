/**
 * Before anything changes: each set of credentials must belong to the account the topology names for it.
 * One sts:GetCallerIdentity per distinct set of credentials; a mismatch is the user's input (exit 2).
 */
import { checkAccounts, clientProfileFlag, clusterProfileFlag } from "../aws/accounts.js";
import { type AwsApis, awsError } from "./aws.js";
import { type CredentialProvider, type CredentialSet, describeCredentials } from "./credentials.js";
import type { EventSink, IdentityCheck } from "./types.js";

function who(set: CredentialSet): string {
  return set.key === "cluster" ? "the cluster" : `client ${set.key.slice("client ".length)}`;
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
      ...(set.role !== undefined ? { role: set.role } : {}),
      expectedAccount: set.account,
      account: id.account,
      arn: id.arn,
    };
    checks.push(check);
    emit({ type: "identity", check });
  }
  // The one account check (src/aws/accounts.ts), the same as doctor's and discover's.
  checkAccounts(
    list.map((set, i) => ({
      expect: {
        who: who(set),
        account: set.account,
        ...(set.profile !== undefined ? { profile: set.profile } : {}),
        ...(set.role !== undefined ? { source: describeCredentials(set) } : {}),
        flag:
          set.key === "cluster" ? clusterProfileFlag() : clientProfileFlag(set.key.slice("client ".length)),
      },
      identity: checks[i] as IdentityCheck,
    })),
    "nothing was changed",
  );
  return checks;
}
