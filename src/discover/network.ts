/**
 * discover's network rules, pure: which route tables a VPC's subnets use, which peering joins the cluster VPC with
 * a client account, and which routes conflict with the peering (docs/doctor.md, "discover").
 */
import { cidrOverlaps } from "../domain/cidr.js";
import type { PeeringFact, RouteTableFact } from "../model/types.js";

/**
 * The route tables of a VPC's subnets (ids, unique, in subnet order): for each subnet the table explicitly
 * associated with it, else the VPC's main table (EC2's rule: a subnet with no explicit association uses the main
 * table). With no subnet that resolves to a table, the main table alone.
 */
export function subnetRouteTables(tables: RouteTableFact[], subnets: string[]): string[] {
  const main = tables.find((t) => t.main);
  const out = new Set<string>();
  for (const subnet of subnets) {
    const explicit = tables.find((t) => t.subnets?.includes(subnet));
    const id = explicit?.id ?? main?.id;
    if (id) out.add(id);
  }
  if (out.size === 0 && main) out.add(main.id);
  return [...out];
}

/** The route targets the topology schema can declare (`vpc.routes[].target`). */
const DECLARABLE_TARGET = /^(local|(pcx|tgw|igw|nat|eni|vgw|vpce|eigw|lgw|cagw)-[0-9a-f]{8,17})$/;

/** A route the topology declares: a conflict the plan must see. */
export interface DeclaredRoute {
  routeTable: string;
  destination: string;
  target: string;
}

/**
 * Routes in the `listed` tables that send part of a peer CIDR elsewhere than the known peerings (`local` and the
 * peerings xeks manages are skipped). A route whose target the schema cannot declare is left out with a line in
 * `notes`.
 */
export function conflictingRoutes(
  tables: RouteTableFact[],
  listed: string[],
  peerCidrs: string[],
  peerings: Set<string>,
  notes: string[],
): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  for (const t of tables.filter((x) => listed.includes(x.id))) {
    for (const r of t.routes) {
      if (r.target === "local" || peerings.has(r.target)) continue;
      if (!peerCidrs.some((c) => cidrOverlaps(c, r.destination))) continue;
      if (!DECLARABLE_TARGET.test(r.target)) {
        notes.push(
          `${t.id}: the route ${r.destination} -> ${r.target} overlaps a peer CIDR; its target cannot be declared`,
        );
        continue;
      }
      out.push({ routeTable: t.id, destination: r.destination, target: r.target });
    }
  }
  return out;
}

/** Peering states that can carry traffic or will: the others (deleted, rejected, failed, expired, ...) are left out. */
const DEAD_PEERING = ["deleted", "deleting", "rejected", "failed", "expired"];

/** Peerings by how far along they are: active first, then pending-acceptance, provisioning, initiating-request. */
function orderPeerings(ps: PeeringFact[]): PeeringFact[] {
  const rank: Record<string, number> = {
    active: 0,
    "pending-acceptance": 1,
    provisioning: 2,
    "initiating-request": 3,
  };
  return [...ps].sort((a, b) => (rank[a.status] ?? 9) - (rank[b.status] ?? 9));
}

/** The side of a peering that is not `vpcId`. */
export function otherSide(p: PeeringFact, vpcId: string): PeeringFact["requester"] {
  return p.requester.vpcId === vpcId ? p.accepter : p.requester;
}

/**
 * The peering between the cluster VPC and a VPC of `account`, best first (active first). Empty: none. Several
 * with the same best status to different VPCs of that account are ambiguous: the caller reports them.
 */
export function clientPeerings(
  peerings: PeeringFact[],
  clusterVpcId: string,
  account: string,
): PeeringFact[] {
  return orderPeerings(
    peerings.filter((p) => {
      const other = otherSide(p, clusterVpcId);
      return other.account === account && other.vpcId !== clusterVpcId;
    }),
  ).filter((p) => !DEAD_PEERING.includes(p.status));
}
