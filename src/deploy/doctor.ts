/**
 * After a successful deploy: the doctor's checks on the live state (src/model/live + the chain links), so the
 * user sees at once whether the chain now holds. Read-only, with the same credentials as the deploy.
 */
import { awsTimeoutMs } from "../aws/sdk.js";
import { AwsWatchdog, silenceBoundMs } from "../aws/watchdog.js";
import type { ChainReport } from "../chain/types.js";
import type { Topology } from "../topology/types.js";
import type { ProfileOptions } from "./credentials.js";

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
    });
    return prove(topology, model, "live");
  });
}
