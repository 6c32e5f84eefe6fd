import type { Model } from "../../model/types.js";
import type { Client, Topology } from "../../topology/types.js";
import { type Finding, factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import {
  awaitedPeering,
  checkRoute,
  peeringLabel,
  routeEvidence,
  routeFix,
  usablePeering,
} from "./common.js";

function routesLink(
  model: Model,
  topology: Topology,
  client: Client,
  direction: "client-to-cluster" | "cluster-to-client",
): Finding | null {
  // A client without a VPC (publicCidrs) reaches the public endpoint: no routes through a peering apply.
  const vpc = client.vpc;
  if (!vpc) return null;
  const toCluster = direction === "client-to-cluster";
  const tables = toCluster ? vpc.routeTables : topology.cluster.vpc.routeTables;
  const destination = toCluster ? topology.cluster.vpc.cidr : vpc.cidr;
  const account = toCluster ? client.account : topology.cluster.account;
  const region = toCluster ? client.region : topology.cluster.region;
  // Routes to a peering that awaits acceptance are right: network.peering reports the acceptance.
  const usable = usablePeering(model, client, topology);
  const awaited = usable ? undefined : awaitedPeering(model, client, topology);
  const peering = usable ?? awaited;
  const checks = tables.map((t) =>
    checkRoute(model, t, destination, peering?.id, { blackholeExpected: awaited !== undefined }),
  );
  const evidence = routeEvidence(checks, factSource(model));
  const side = toCluster ? `client ${client.name}` : "cluster";
  const bad = checks.filter((c) => !c.ok && !c.unknown);
  if (bad.length > 0) {
    const why = bad.map((c) => c.problem).join("; ");
    return fail(
      `${bad.length} of ${checks.length} ${side} route table(s) do not send ${destination} through the peering: ${why}`,
      peering || model.source === "live"
        ? routeFix(
            checks,
            destination,
            peering?.id,
            account,
            region,
            toCluster ? `clients[${topology.clients.indexOf(client)}].vpc.routes` : "cluster.vpc.routes",
          )
        : "create the peering first (network.peering), then the routes",
      evidence,
    );
  }
  const missing = checks.filter((c) => c.unknown);
  if (missing.length > 0) {
    return unknown(
      `${missing.length} route table(s) could not be read: ${missing[0]?.unknown}`,
      `allow ec2:DescribeRouteTables to the credentials used for account ${account}`,
      evidence,
    );
  }
  const shadowed = checks.filter((c) => c.shadow);
  if (shadowed.length > 0) {
    const s = shadowed[0];
    return warn(
      `in ${s?.table}, the more specific route ${s?.shadow?.destination} -> ${s?.shadow?.target} takes part of ${destination} elsewhere`,
      `check that the cluster endpoint addresses are not inside ${s?.shadow?.destination}, or remove that route`,
      evidence,
    );
  }
  return pass(
    `every ${side} route table (${tables.length}) sends ${destination} through ${peeringLabel(peering?.id)}` +
      (awaited ? ` (${awaited.status}: traffic flows once it is accepted, see network.peering)` : ""),
    evidence,
  );
}

/**
 * network.route.client-to-cluster: every client route table routes the cluster CIDR through the peering (null
 * for a client without a VPC).
 */
export const routeClientToCluster: Link<"client"> = {
  id: "network.route.client-to-cluster",
  title: "client route tables reach the cluster CIDR",
  subject: "client",
  evaluate: ({ topology, model }, { client }) => routesLink(model, topology, client, "client-to-cluster"),
};

/**
 * network.route.cluster-to-client: every cluster route table routes the client CIDR through the peering (null
 * for a client without a VPC).
 */
export const routeClusterToClient: Link<"client"> = {
  id: "network.route.cluster-to-client",
  title: "cluster route tables reach the client CIDR",
  subject: "client",
  evaluate: ({ topology, model }, { client }) => routesLink(model, topology, client, "cluster-to-client"),
};
