/**
 * The subjects a proof runs links for, in report order. Its own module (types only) so that the proof pool
 * (pool.ts) can split them without loading the links and the simulator.
 */
import type { Topology } from "../topology/types.js";
import type { Subject } from "./link.js";

/** The subjects of a topology: the cluster, each client, each access role, each (client, access role) pair. */
export function subjectsOf(topology: Topology): Subject[] {
  const out: Subject[] = [{ kind: "cluster" }];
  for (const client of topology.clients) {
    out.push({ kind: "client", client });
    for (const access of topology.access.filter((a) => a.clients.includes(client.name))) {
      out.push({ kind: "pair", client, access });
    }
  }
  for (const access of topology.access) out.push({ kind: "access", access });
  return out;
}
