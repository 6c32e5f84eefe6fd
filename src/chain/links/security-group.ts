import { cidrContains, cidrOverlaps } from "../../model/cidr.js";
import { factKey, unread } from "../../model/types.js";
import { factSource, fail, type Link, pass, unknown, warn } from "../link.js";

/** network.security-group: the cluster security group admits TCP 443 from the whole client CIDR. */
export const securityGroup: Link<"client"> = {
  id: "network.security-group",
  title: "cluster security group admits TCP 443 from the client",
  subject: "client",
  evaluate({ topology, model }, { client }) {
    const sg = topology.cluster.securityGroupId;
    const cidr = client.vpc.cidr;
    const fix = `in account ${topology.cluster.account}: aws ec2 authorize-security-group-ingress --group-id ${sg} --protocol tcp --port 443 --cidr ${cidr} --region ${topology.cluster.region}`;
    const missing = unread(model, factKey.securityGroup(sg));
    if (missing) {
      return unknown(
        `security group ${sg} could not be read: ${missing.reason}`,
        "allow ec2:DescribeSecurityGroupRules",
      );
    }
    const rules = model.securityGroupRules.filter(
      (r) =>
        r.groupId === sg &&
        (r.protocol === "-1" || r.protocol === "tcp" || r.protocol === "6") &&
        (r.protocol === "-1" || (r.fromPort <= 443 && 443 <= r.toPort)),
    );
    const full = rules.find((r) => r.cidr && cidrContains(r.cidr, cidr));
    if (full) {
      return pass(`${sg} admits ${full.protocol === "-1" ? "all traffic" : "TCP 443"} from ${full.cidr}`, [
        {
          fact: `ingress rule of ${sg}`,
          source: full.source === "declared" ? "declared" : factSource(model),
          detail: `${full.protocol} ${full.fromPort}-${full.toPort} from ${full.cidr}`,
        },
      ]);
    }
    const partial = rules.filter((r) => r.cidr && cidrOverlaps(r.cidr, cidr));
    if (partial.length > 0) {
      return warn(
        `${sg} admits TCP 443 from only part of ${cidr} (${partial.map((r) => r.cidr).join(", ")})`,
        fix,
      );
    }
    return fail(`${sg} does not admit TCP 443 from ${cidr}: connections time out`, fix);
  },
};
