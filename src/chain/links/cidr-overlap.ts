import { cidrOverlaps, parseCidr, type Range } from "../../domain/cidr.js";
import type { Model } from "../../model/types.js";
import type { Topology } from "../../topology/types.js";
import { fail, type Link, pass } from "../link.js";
import { memoOf } from "../memo.js";

/** The clients with a VPC, in topology order, with their VPC's CIDRs (the model's, else declared) parsed. */
function clientVpcs(topology: Topology, model: Model) {
  return memoOf(topology, model, "cidr-overlap:client-vpcs", () =>
    topology.clients.flatMap((other) => {
      if (!other.vpc) return [];
      const cidrs = model.vpcs[other.vpc.id]?.cidrs ?? [other.vpc.cidr];
      return [{ other, cidrs, ranges: cidrs.map((c): Range | undefined => parseCidr(c)) }];
    }),
  );
}

/**
 * topology.cidr-overlap: the client VPC shares no address with the cluster VPC (nor with another client's VPC).
 * Not applicable (null) to a client without a VPC (`publicCidrs`: it reaches the public endpoint, no peering).
 */
export const cidrOverlap: Link<"client"> = {
  id: "topology.cidr-overlap",
  title: "VPC CIDRs do not overlap",
  subject: "client",
  evaluate({ topology, model }, { client }) {
    const vpc = client.vpc;
    if (!vpc) return null;
    const clusterCidrs = model.vpcs[topology.cluster.vpc.id]?.cidrs ?? [topology.cluster.vpc.cidr];
    const clientCidrs = model.vpcs[vpc.id]?.cidrs ?? [vpc.cidr];
    const evidence = [
      {
        fact: `cluster VPC ${topology.cluster.vpc.id}`,
        source: "declared" as const,
        detail: clusterCidrs.join(", "),
      },
      { fact: `client VPC ${vpc.id}`, source: "declared" as const, detail: clientCidrs.join(", ") },
    ];
    for (const a of clientCidrs) {
      for (const b of clusterCidrs) {
        if (cidrOverlaps(a, b)) {
          return fail(
            `client VPC ${a} overlaps the cluster VPC ${b}: peering cannot join overlapping VPCs`,
            `give the client VPC a CIDR outside ${b} (add a secondary CIDR and subnets for the client, or use a non-overlapping VPC), then update clients[].vpc.cidr`,
            evidence,
          );
        }
      }
    }
    // Every client against every other: the blocks of all client VPCs are parsed once per proof (memo.ts).
    const clientRanges = clientCidrs.map((a) => parseCidr(a));
    for (const { other, cidrs: otherCidrs, ranges } of clientVpcs(topology, model)) {
      if (other.name === client.name) continue;
      for (const [i, a] of clientCidrs.entries()) {
        const x = clientRanges[i];
        const j = x ? ranges.findIndex((y) => y !== undefined && x.start <= y.end && y.start <= x.end) : -1;
        const b = otherCidrs[j];
        if (b !== undefined) {
          return fail(
            `client VPC ${a} overlaps client ${other.name}'s VPC ${b}: the cluster route tables cannot route both`,
            `give clients ${client.name} and ${other.name} non-overlapping VPC CIDRs`,
            evidence,
          );
        }
      }
    }
    return pass(
      `client ${clientCidrs.join(", ")} and cluster ${clusterCidrs.join(", ")} do not overlap`,
      evidence,
    );
  },
};
