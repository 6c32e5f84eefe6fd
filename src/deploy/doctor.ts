/**
 * After a successful deploy: the doctor's checks on the live state (src/model/live + the chain links), so the
 * user sees at once whether the chain now holds. Read-only, with the same credentials as the deploy.
 */
import { awsTimeoutMs } from "../aws/sdk.js";
import type { CredentialSource, SessionOptions } from "../aws/session.js";
import { AwsWatchdog, silenceBoundMs } from "../aws/watchdog.js";
import type { ChainReport } from "../chain/types.js";
import type { Topology } from "../topology/types.js";
import type { ProfileOptions } from "./credentials.js";

/**
 * The live reader's options for `--profile` and `--assume-role-name` (src/aws/session.ts): the base profile, the
 * role name, and the account of each credential source, from the topology (the source's label is "the cluster"
 * or "client NAME", as src/model/live/load.ts names them).
 */
export function baseSessionOptions(
  topology: Topology,
  profiles: Pick<ProfileOptions, "profile" | "assumeRoleName">,
): Pick<SessionOptions, "baseProfile" | "assumeRoleName" | "accountOf"> {
  return {
    ...(profiles.profile !== undefined ? { baseProfile: profiles.profile } : {}),
    ...(profiles.assumeRoleName !== undefined
      ? {
          assumeRoleName: profiles.assumeRoleName,
          accountOf: (source: CredentialSource) =>
            source.label === "the cluster"
              ? topology.cluster.account
              : topology.clients.find((c) => `client ${c.name}` === source.label)?.account,
        }
      : {}),
  };
}

/**
 * The chain report of the live state, as `xeks doctor` computes it. Under the deploy's wait bound: when an AWS
 * endpoint gives no answer for 3 × XEKS_AWS_TIMEOUT_MS + 3 s, rejects with AwsSilenceError
 * (src/aws/watchdog.ts) instead of going on read after read.
 */
export async function checkChainAfterDeploy(
  topology: Topology,
  profiles: ProfileOptions,
): Promise<ChainReport> {
  const watchdog = new AwsWatchdog(silenceBoundMs(awsTimeoutMs(process.env)));
  return watchdog.run(async () => {
    const { loadLiveModel } = await import("../model/live/load.js");
    const { prove } = await import("../chain/prove.js");
    const { model } = await loadLiveModel(topology, {
      ...(profiles.clusterProfile !== undefined ? { clusterProfile: profiles.clusterProfile } : {}),
      ...(profiles.clientProfiles ? { clientProfiles: profiles.clientProfiles } : {}),
      ...baseSessionOptions(topology, profiles),
    });
    return prove(topology, model, "live");
  });
}
