/**
 * discover's network rules, pure: which route tables a VPC's subnets use, which peering joins the cluster VPC with
 * a client account, which routes to a peer CIDR exist, and which inbound rules admit a client (docs/doctor.md,
 * "discover").
 */
import { cidrContains, cidrOverlaps, isCanonicalCidr } from "../domain/cidr.js";
import type { PeeringFact, RouteTableFact, SecurityGroupRuleFact } from "../model/types.js";

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

/** A route the topology declares (`vpc.routes[]`): adopted when it goes to the peer CIDR through the peering. */
export interface DeclaredRoute {
  routeTable: string;
  destination: string;
  target: string;
}

/**
 * Routes in the `listed` tables that send part of a peer CIDR somewhere other than `local`, through the peering or
 * not: a route to exactly a peer CIDR through that client's peering is adopted on deploy (docs/adopt.md); any
 * other is a declared fact, a conflict when it has the peer CIDR as destination. A route whose target the schema
 * cannot declare is left out with a line in `notes`.
 */
export function peerRoutes(
  tables: RouteTableFact[],
  listed: string[],
  peerCidrs: string[],
  notes: string[],
): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  for (const t of tables.filter((x) => listed.includes(x.id))) {
    for (const r of t.routes) {
      if (r.target === "local") continue;
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

/** An inbound rule of the cluster security group as the topology declares it (`cluster.ingressRules[]`). */
export interface DeclaredIngressRule {
  id: string;
  protocol: string;
  fromPort: number;
  toPort: number;
  cidr: string;
  description?: string;
}

/** The rule ids the schema accepts: "sgr-" and 8 or 17 hex digits. */
const RULE_ID = /^sgr-([0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * The inbound rules (any protocol and ports) whose IPv4 CIDR is a client's CIDR or covers it, in the order read.
 * The tcp 443-443 rule with exactly a client's CIDR is that client's 443 rule, adopted on deploy; the others are
 * declared facts. Rules whose id or CIDR the schema does not accept are left out with a line in `notes`.
 */
export function clientIngressRules(
  rules: SecurityGroupRuleFact[],
  clientCidrs: string[],
  notes: string[],
): DeclaredIngressRule[] {
  const out: DeclaredIngressRule[] = [];
  for (const r of rules) {
    const cidr = r.cidr;
    if (!cidr || !clientCidrs.some((c) => cidrContains(cidr, c))) continue;
    if (!r.id || !RULE_ID.test(r.id) || !isCanonicalCidr(cidr)) {
      notes.push(
        `${r.groupId}: the inbound rule ${r.protocol} ${r.fromPort}-${r.toPort} from ${cidr} cannot be declared (its id or CIDR)`,
      );
      continue;
    }
    out.push({
      id: r.id,
      protocol: r.protocol,
      fromPort: r.fromPort,
      toPort: r.toPort,
      cidr,
      ...(r.description ? { description: r.description } : {}),
    });
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
