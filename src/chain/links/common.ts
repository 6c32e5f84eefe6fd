/** Helpers shared by the network and IAM links: finding peerings, reading routes, fix commands. */
import { cidrContains, cidrOverlaps, parseCidr } from "../../domain/cidr.js";
import {
  factKey,
  type Model,
  type PeeringFact,
  type RouteFact,
  type UnreadFact,
  unread,
} from "../../model/types.js";
import type { Client, Topology } from "../../topology/types.js";
import { type Finding, unknown } from "../link.js";
import { modelMemo } from "../memo.js";
import type { Evidence } from "../types.js";

/**
 * The finding when the cluster's endpoint access is not known: unknown, with the read's failure (live) or the
 * topology key to declare (plan). Shared by network.endpoint and network.public-access.
 */
export function endpointAccessUnknown(model: Model, evidence?: Evidence[]): Finding {
  const missing = unread(model, factKey.endpointAccess());
  return unknown(
    missing ? `endpoint access could not be read: ${missing.reason}` : "endpoint access is not declared",
    missing
      ? (missing.hint ?? "allow eks:DescribeCluster to the credentials used for the cluster account")
      : "declare cluster.endpointAccess in the topology (xeks discover fills it in)",
    evidence,
  );
}

/** How to name a peering in a message: `pcx-…`, or "the planned peering (stack S)". */
export function peeringLabel(id: string | undefined): string {
  if (!id) return "no peering";
  const m = /^planned:([^/]+)\//.exec(id);
  return m ? `the planned peering (stack ${m[1]})` : id;
}

/** Peerings that join the client VPC and the cluster VPC, in either direction, best first. */
export function peeringsBetween(model: Model, client: Client, topology: Topology): PeeringFact[] {
  // A client without a VPC (publicCidrs) has no peering.
  if (!client.vpc) return [];
  const a = client.vpc.id;
  const b = topology.cluster.vpc.id;
  const rank: Record<string, number> = { active: 0, planned: 1, "pending-acceptance": 2, provisioning: 3 };
  return (peeringsByVpc(model).get(a) ?? [])
    .filter(
      (p) =>
        (p.requester.vpcId === a && p.accepter.vpcId === b) ||
        (p.requester.vpcId === b && p.accepter.vpcId === a),
    )
    .sort((x, y) => (rank[x.status] ?? 9) - (rank[y.status] ?? 9));
}

/** The model's peerings by the VPCs they join (each VPC's in model order): built once per proof (memo.ts). */
function peeringsByVpc(model: Model): Map<string, PeeringFact[]> {
  return modelMemo(model, "peerings-by-vpc", () => {
    const byVpc = new Map<string, PeeringFact[]>();
    for (const p of model.peerings) {
      for (const vpc of new Set([p.requester.vpcId, p.accepter.vpcId])) {
        const list = byVpc.get(vpc);
        if (list) list.push(p);
        else byVpc.set(vpc, [p]);
      }
    }
    return byVpc;
  });
}

/**
 * Why the peerings between the two VPCs could not be read, when they could not: both accounts see a peering,
 * so one good read (of either account) is enough.
 */
export function peeringsUnread(model: Model, client: Client, topology: Topology): UnreadFact | undefined {
  const clusterSide = unread(model, factKey.peerings(topology.cluster.account));
  const clientSide = unread(model, factKey.peerings(client.account));
  return clusterSide && clientSide ? clusterSide : undefined;
}

/** The peering the routes should use: an active or planned one, if any. */
export function usablePeering(model: Model, client: Client, topology: Topology): PeeringFact | undefined {
  return peeringsBetween(model, client, topology).find(
    (p) => p.status === "active" || p.status === "planned",
  );
}

/**
 * A peering that will carry traffic once the accepter acts (pending acceptance, provisioning). Routes to it are
 * right (EC2 shows them as blackholes until then); the missing step belongs to network.peering.
 */
export function awaitedPeering(model: Model, client: Client, topology: Topology): PeeringFact | undefined {
  return peeringsBetween(model, client, topology).find((p) =>
    ["pending-acceptance", "provisioning", "initiating-request"].includes(p.status),
  );
}

export interface RouteCheck {
  table: string;
  ok: boolean;
  /** Could not be read. */
  unknown?: string;
  problem?: string;
  route?: RouteFact;
  /** A more specific route that takes part of the destination elsewhere. */
  shadow?: RouteFact;
  /**
   * Two or more routes to exactly the destination (a plan only: an existing route beside the planned one, or
   * the planned routes of two clients with the same CIDR). A route table holds one route per destination.
   */
  conflict?: RouteFact[];
}

/**
 * Does route table `table` send `destination` through `peeringId`? The most specific route covering the whole
 * destination decides, as in the VPC router.
 */
export function checkRoute(
  model: Model,
  table: string,
  destination: string,
  peeringId: string | undefined,
  options: { blackholeExpected?: boolean } = {},
): RouteCheck {
  const missing = unread(model, factKey.routeTable(table));
  if (missing) return { table, ok: false, unknown: missing.reason };
  const rt = model.routeTables[table];
  if (!rt) return { table, ok: false, problem: `route table ${table} was not found` };
  const index = routeIndex(model, table, rt.routes);
  const sameDestination = index.byDestination.get(destination) ?? [];
  if (sameDestination.length > 1) {
    const targets = sameDestination.map((r) => peeringLabel(r.target)).join(" and ");
    return {
      table,
      ok: false,
      conflict: sameDestination,
      problem: `${table} would hold two routes to ${destination}: ${targets}; CreateRoute fails with RouteAlreadyExists`,
    };
  }
  const best = mostSpecificCovering(index, destination);
  if (!best) return { table, ok: false, problem: `${table} has no route to ${destination}` };
  if (!peeringId || best.target !== peeringId) {
    return {
      table,
      ok: false,
      route: best,
      problem: `${table} sends ${destination} to ${best.target}, not the peering`,
    };
  }
  if (best.state === "blackhole" && !options.blackholeExpected) {
    return {
      table,
      ok: false,
      route: best,
      problem: `the route to ${destination} in ${table} is a blackhole`,
    };
  }
  // Routes to other VPCs of the topology are its own overlaps, owned by topology.cidr-overlap.
  const shadow = index
    .notToVpcs()
    .find(
      (r) =>
        r !== best && cidrOverlaps(r.destination, destination) && !cidrContains(r.destination, destination),
    );
  return { table, ok: true, route: best, shadow };
}

/**
 * The routes of one table as `checkRoute` reads them, built once per proof (memo.ts) instead of once per check:
 * a cluster route table holds a route per client, and each client's links check it.
 */
interface RouteIndex {
  /** Routes to exactly a destination (text), in table order. */
  byDestination: Map<string, RouteFact[]>;
  /** Routes by the block they cover (`start/prefix` of a valid CIDR), in table order. */
  byBlock: Map<string, RouteFact[]>;
  /** Routes whose destination is no VPC CIDR of the model, in table order. */
  notToVpcs(): RouteFact[];
}

function routeIndex(model: Model, table: string, all: RouteFact[]): RouteIndex {
  return modelMemo(model, `routes:${table}`, () => {
    // Overlaps with the VPC's own CIDR (the local route) belong to topology.cidr-overlap, not to the routes.
    const routes = all.filter((r) => r.target !== "local");
    const byDestination = new Map<string, RouteFact[]>();
    const byBlock = new Map<string, RouteFact[]>();
    const add = (map: Map<string, RouteFact[]>, key: string, r: RouteFact) => {
      const list = map.get(key);
      if (list) list.push(r);
      else map.set(key, [r]);
    };
    for (const r of routes) {
      add(byDestination, r.destination, r);
      const range = parseCidr(r.destination);
      if (range) add(byBlock, `${range.start}/${range.prefix}`, r);
    }
    let notToVpcs: RouteFact[] | undefined;
    return {
      byDestination,
      byBlock,
      notToVpcs: () => {
        if (!notToVpcs) {
          const vpcCidrs = vpcCidrsOf(model);
          notToVpcs = routes.filter((r) => !vpcCidrs.has(r.destination));
        }
        return notToVpcs;
      },
    };
  });
}

/** Every CIDR of the model's VPCs (built once per proof). */
function vpcCidrsOf(model: Model): Set<string> {
  return modelMemo(model, "vpc-cidrs", () => new Set(Object.values(model.vpcs).flatMap((v) => v.cidrs)));
}

/**
 * The route that decides `destination` in the VPC router: among the routes whose block contains all of it, the
 * one with the longest prefix (the first in table order among equals). Looked up block by block, from the
 * destination's own prefix down to /0, instead of testing every route.
 */
function mostSpecificCovering(index: RouteIndex, destination: string): RouteFact | undefined {
  const d = parseCidr(destination);
  if (!d) return undefined;
  for (let prefix = d.prefix; prefix >= 0; prefix--) {
    const size = 2 ** (32 - prefix);
    const start = d.start - (d.start % size);
    const found = index.byBlock.get(`${start}/${prefix}`)?.[0];
    if (found) return found;
  }
  return undefined;
}

export function routeEvidence(checks: RouteCheck[], source: Evidence["source"]): Evidence[] {
  return checks.map((c) => ({
    fact: `route table ${c.table}`,
    source: c.route?.source === "declared" ? "declared" : source,
    detail: c.ok
      ? `${c.route?.destination} -> ${peeringLabel(c.route?.target)}`
      : (c.unknown ?? c.problem ?? "no route"),
  }));
}

/** A route xeks plans (its target is a planned peering), as opposed to one that exists. */
function isPlannedRoute(route: RouteFact): boolean {
  return route.target.startsWith("planned:");
}

/**
 * The fix for the failing tables, one that works from the state the checks saw:
 * - no route to the destination (or only a wider one): `aws ec2 create-route`;
 * - a route to exactly the destination through something else, or a blackhole: `aws ec2 replace-route`
 *   (create-route would fail with RouteAlreadyExists);
 * - in a plan, an existing route to exactly the destination beside the planned one: CloudFormation creates the
 *   planned route with CreateRoute and cannot take over the existing one, so replace-route before the deploy
 *   would not help: `aws ec2 delete-route` that route and drop it from `routesPath`, then deploy;
 * - in a plan, the planned routes of two clients with the same CIDR: only distinct CIDRs help
 *   (topology.cidr-overlap).
 * `routesPath` is where the topology declares the table's existing routes (`cluster.vpc.routes`,
 * `clients[2].vpc.routes`).
 */
export function routeFix(
  checks: RouteCheck[],
  destination: string,
  peeringId: string | undefined,
  account: string,
  region: string,
  routesPath = "vpc.routes",
): string {
  const pcx = peeringId?.startsWith("pcx-") ? peeringId : "<pcx-id>";
  const cmds: string[] = [];
  const deleted: string[] = [];
  let overlap = false;
  for (const c of checks.filter((x) => !x.ok && !x.unknown)) {
    const existing = c.conflict?.filter((r) => !isPlannedRoute(r)) ?? [];
    if (c.conflict && existing.length === 0) {
      overlap = true;
    } else if (c.conflict) {
      cmds.push(
        `aws ec2 delete-route --route-table-id ${c.table} --destination-cidr-block ${destination} --region ${region}`,
      );
      deleted.push(`${c.table} -> ${existing.map((r) => r.target).join(", ")}`);
    } else if (c.route && c.route.destination === destination) {
      cmds.push(
        `aws ec2 replace-route --route-table-id ${c.table} --destination-cidr-block ${destination} --vpc-peering-connection-id ${pcx} --region ${region}`,
      );
    } else {
      cmds.push(
        `aws ec2 create-route --route-table-id ${c.table} --destination-cidr-block ${destination} --vpc-peering-connection-id ${pcx} --region ${region}`,
      );
    }
  }
  const parts: string[] = [];
  if (cmds.length > 0) parts.push(`in account ${account}: ${cmds.join(" && ")}`);
  if (deleted.length > 0) {
    parts.push(
      `then remove the route${deleted.length === 1 ? "" : "s"} to ${destination} (${deleted.join("; ")}) from ${routesPath} and run xeks deploy, ` +
        "which creates the route through the peering (xeks adopts an existing route only when it goes through the " +
        "client's declared peering, clients[].peering; replace-route to another target before the deploy would still " +
        "fail with RouteAlreadyExists)",
    );
  }
  if (overlap) {
    parts.push(
      `give the clients whose VPCs use ${destination} distinct CIDRs (see topology.cidr-overlap): a route table holds one route per destination`,
    );
  }
  return parts.join("; ");
}
