import { fail, type Link, pass, warn } from "../link.js";
import { endpointAccessUnknown } from "./common.js";

/**
 * network.endpoint: the private endpoint is on; warn when the public one is on too (DNS answers public IPs).
 * It is about the clients with a VPC: not applicable (null) when every client reaches the public endpoint
 * (`publicCidrs`, see network.public-access). When some clients need the public endpoint, the fixes keep it on.
 */
export const endpoint: Link<"cluster"> = {
  id: "network.endpoint",
  title: "private cluster endpoint",
  subject: "cluster",
  evaluate({ topology, model }) {
    const c = topology.cluster;
    const peered = topology.clients.filter((x) => x.vpc);
    const publicClients = topology.clients.filter((x) => !x.vpc).map((x) => x.name);
    if (topology.clients.length > 0 && peered.length === 0) return null;
    const access = model.cluster.endpointAccess;
    const update = (flags: string) =>
      `in account ${c.account}: aws eks update-cluster-config --name ${c.name} --region ${c.region} --resources-vpc-config ${flags}`;
    if (!access) return endpointAccessUnknown(model);
    const evidence = [
      {
        fact: `cluster ${c.name} endpoint access`,
        source: model.cluster.source === "live" ? ("live" as const) : ("declared" as const),
        detail: `private ${access.private}, public ${access.public}`,
      },
    ];
    if (!access.private) {
      return fail(
        "the private endpoint is off: clients reach the cluster only over the internet, never through the peering",
        update(
          publicClients.length > 0
            ? "endpointPrivateAccess=true"
            : "endpointPrivateAccess=true,endpointPublicAccess=false",
        ),
        evidence,
      );
    }
    if (access.public && publicClients.length > 0) {
      return warn(
        `public and private endpoints are both on (clients ${publicClients.join(", ")} need the public one): from the client VPCs the name resolves to public addresses, so their traffic skips the peering`,
        "keep the public endpoint for those clients and forward the cluster's DNS name to the cluster VPC with Route 53 Resolver (an outbound endpoint and a forwarding rule in each client VPC), so peered clients resolve private addresses",
        evidence,
      );
    }
    if (access.public) {
      return warn(
        "public and private endpoints are both on: from the client VPC the name resolves to public addresses, so traffic skips the peering",
        `${update("endpointPublicAccess=false")} (or forward the cluster's DNS name to the cluster VPC with Route 53 Resolver)`,
        evidence,
      );
    }
    return pass("private endpoint only: the name resolves to private addresses in the cluster VPC", evidence);
  },
};
