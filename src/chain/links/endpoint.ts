import { factKey, unread } from "../../model/types.js";
import { fail, type Link, pass, unknown, warn } from "../link.js";

/** network.endpoint: the private endpoint is on; warn when the public one is on too (DNS answers public IPs). */
export const endpoint: Link<"cluster"> = {
  id: "network.endpoint",
  title: "private cluster endpoint",
  subject: "cluster",
  evaluate({ topology, model }) {
    const c = topology.cluster;
    const access = model.cluster.endpointAccess;
    const update = (flags: string) =>
      `in account ${c.account}: aws eks update-cluster-config --name ${c.name} --region ${c.region} --resources-vpc-config ${flags}`;
    if (!access) {
      const missing = unread(model, factKey.endpointAccess());
      return unknown(
        missing ? `endpoint access could not be read: ${missing.reason}` : "endpoint access is not declared",
        missing
          ? (missing.hint ?? "allow eks:DescribeCluster to the credentials used for the cluster account")
          : "declare cluster.endpointAccess in the topology (xeks discover fills it in)",
      );
    }
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
        update("endpointPrivateAccess=true,endpointPublicAccess=false"),
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
