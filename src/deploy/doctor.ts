/**
 * After a successful deploy: the doctor's checks on the live state (src/model/live + the chain links), so the
 * user sees at once whether the chain now holds. Read-only, with the same credentials as the deploy.
 */
import type { ChainReport } from "../chain/types.js";
import type { Topology } from "../topology/types.js";
import type { ProfileOptions } from "./credentials.js";

/** The chain report of the live state, as `xeks doctor` computes it. */
export async function checkChainAfterDeploy(
  topology: Topology,
  profiles: ProfileOptions,
): Promise<ChainReport> {
  const { loadLiveModel } = await import("../model/live/load.js");
  const { prove } = await import("../chain/prove.js");
  const { model } = await loadLiveModel(topology, {
    ...(profiles.clusterProfile !== undefined ? { clusterProfile: profiles.clusterProfile } : {}),
    ...(profiles.clientProfiles ? { clientProfiles: profiles.clientProfiles } : {}),
  });
  return prove(topology, model, "live");
}
