import { cidrContains } from "../../domain/cidr.js";
import { factKey, unread } from "../../model/types.js";
import { type Finding, fail, type Link, pass, unknown } from "../link.js";
import type { Evidence } from "../types.js";
import { endpointAccessUnknown } from "./common.js";

/**
 * network.public-access: a client without a VPC (`clients[].publicCidrs`: a laptop, a hosted runner) reaches
 * the cluster's public endpoint, so the endpoint's public access must be on and every one of the client's
 * egress CIDRs inside some `publicAccessCidrs` entry (EKS DescribeCluster `resourcesVpcConfig.
 * endpointPublicAccess` and `publicAccessCidrs`; EKS User Guide, "Cluster API server endpoint"). Unknown when
 * either fact is not known (not declared at plan, or not readable live). Not applicable (null) to a client
 * with a VPC, whose path is the peering and the private endpoint.
 */
export const publicAccess: Link<"client"> = {
  id: "network.public-access",
  title: "public endpoint admits the client's egress CIDRs",
  subject: "client",
  evaluate({ topology, model }, { client }): Finding | null {
    if (client.vpc || client.publicCidrs.length === 0) return null;
    const c = topology.cluster;
    const access = model.cluster.endpointAccess;
    const cidrs = model.cluster.publicAccessCidrs;
    // The fix keeps the existing CIDRs and adds those of every client without a VPC that they leave out, so
    // the fixes of two such clients do not undo each other.
    // Private access as it is (the AWS CLI examples always pass both; keeping it says so explicitly).
    const known = model.cluster.endpointAccess;
    const privateAccess = known ? `endpointPrivateAccess=${known.private},` : "";
    const update = (existing: readonly string[]) => {
      const wanted = topology.clients.filter((x) => !x.vpc).flatMap((x) => x.publicCidrs);
      const missing = wanted.filter((x) => !existing.some((e) => cidrContains(e, x)));
      const all = [...new Set([...existing, ...client.publicCidrs, ...missing])];
      return `in account ${c.account}: aws eks update-cluster-config --name ${c.name} --region ${c.region} --resources-vpc-config endpointPublicAccess=true,${privateAccess}publicAccessCidrs=${all.map((x) => `"${x}"`).join(",")}`;
    };
    const source: Evidence["source"] = model.cluster.source === "live" ? "live" : "declared";
    const evidence: Evidence[] = [
      {
        fact: `egress CIDRs of client ${client.name}`,
        source: "declared",
        detail: client.publicCidrs.join(", "),
      },
    ];
    if (!access) {
      return endpointAccessUnknown(model, evidence);
    }
    evidence.push({
      fact: `cluster ${c.name} endpoint access`,
      source,
      detail: `private ${access.private}, public ${access.public}`,
    });
    if (!access.public) {
      return fail(
        `the public endpoint of ${c.name} is off: client ${client.name}, which has no VPC peered with the cluster, cannot reach it`,
        `${update(cidrs ?? [])} (public access keeps the private endpoint as it is)`,
        evidence,
      );
    }
    if (!cidrs) {
      const missing = unread(model, factKey.publicAccessCidrs());
      return unknown(
        missing
          ? `the public endpoint's allowed CIDRs could not be read: ${missing.reason}`
          : "the public endpoint's allowed CIDRs (cluster.publicAccessCidrs) are not declared",
        missing
          ? (missing.hint ?? "allow eks:DescribeCluster to the credentials used for the cluster account")
          : `declare cluster.publicAccessCidrs in the topology (aws eks describe-cluster --name ${c.name} --region ${c.region} --query cluster.resourcesVpcConfig.publicAccessCidrs; xeks discover fills it in)`,
        evidence,
      );
    }
    evidence.push({
      fact: `cluster ${c.name} publicAccessCidrs`,
      source,
      detail: cidrs.join(", ") || "none",
    });
    const outside = client.publicCidrs.filter((x) => !cidrs.some((allowed) => cidrContains(allowed, x)));
    if (outside.length > 0) {
      return fail(
        `the public endpoint of ${c.name} does not admit ${outside.join(", ")} (publicAccessCidrs ${cidrs.join(", ") || "none"}): connections from client ${client.name} are refused`,
        update(cidrs),
        evidence,
      );
    }
    return pass(
      `the public endpoint is on and admits ${client.publicCidrs.join(", ")} (publicAccessCidrs ${cidrs.join(", ")})`,
      evidence,
    );
  },
};
