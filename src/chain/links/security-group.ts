import { cidrOverlaps, parseCidr } from "../../domain/cidr.js";
import { factKey, type Model, type SecurityGroupRuleFact, unread } from "../../model/types.js";
import type { Topology } from "../../topology/types.js";
import { factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import { memoOf } from "../memo.js";

/**
 * The rules of `groups` that admit TCP 443, in model order, and the first of them whose CIDR contains all of a
 * client's CIDR: the same for every client, so built once per proof (memo.ts). The first covering rule is looked
 * up block by block (the client's CIDR widened from its own prefix down to /0), not by testing every rule.
 */
function rulesTo443(topology: Topology, model: Model, groups: string[]) {
  return memoOf(topology, model, `security-group:${groups.join(",")}`, () => {
    const rules = model.securityGroupRules.filter(
      (r) =>
        groups.includes(r.groupId) &&
        (r.protocol === "-1" || r.protocol === "tcp" || r.protocol === "6") &&
        (r.protocol === "-1" || (r.fromPort <= 443 && 443 <= r.toPort)),
    );
    // The first rule (index in `rules`) of each block.
    const byBlock = new Map<string, number>();
    rules.forEach((r, i) => {
      const range = r.cidr ? parseCidr(r.cidr) : undefined;
      const key = range && `${range.start}/${range.prefix}`;
      if (key && !byBlock.has(key)) byBlock.set(key, i);
    });
    const firstCovering = (cidr: string): SecurityGroupRuleFact | undefined => {
      const d = parseCidr(cidr);
      if (!d) return undefined;
      let first = -1;
      for (let prefix = d.prefix; prefix >= 0; prefix--) {
        const size = 2 ** (32 - prefix);
        const i = byBlock.get(`${d.start - (d.start % size)}/${prefix}`);
        if (i !== undefined && (first < 0 || i < first)) first = i;
      }
      return first < 0 ? undefined : rules[first];
    };
    return { rules, firstCovering };
  });
}

/**
 * network.security-group: a security group on the cluster endpoint admits TCP 443 from the whole client CIDR.
 * On plan that is the topology's cluster security group; live, any group on the control plane's interfaces.
 * Not applicable (null) to a client without a VPC: the public endpoint admits by `publicAccessCidrs`
 * (network.public-access), not by security group.
 */
export const securityGroup: Link<"client"> = {
  id: "network.security-group",
  title: "cluster security group admits TCP 443 from the client",
  subject: "client",
  evaluate({ topology, model }, { client }) {
    if (!client.vpc) return null;
    const sg = topology.cluster.securityGroupId;
    const cidr = client.vpc.cidr;
    const fix = `in account ${topology.cluster.account}: aws ec2 authorize-security-group-ingress --group-id ${sg} --protocol tcp --port 443 --cidr ${cidr} --region ${topology.cluster.region}`;
    const attached = model.cluster.securityGroupIds;
    if (attached && !attached.includes(sg)) {
      return fail(
        `${sg} (cluster.securityGroupId) is not on the cluster endpoint, whose groups are ${attached.join(", ")}: rules on it admit nothing`,
        `set cluster.securityGroupId to ${attached[0]}, the cluster security group (xeks discover writes it), and deploy again`,
      );
    }
    const groups = attached ?? [sg];
    const { rules, firstCovering } = rulesTo443(topology, model, groups);
    const full = firstCovering(cidr);
    if (full) {
      return pass(
        `${full.groupId} admits ${full.protocol === "-1" ? "all traffic" : "TCP 443"} from ${full.cidr}`,
        [
          {
            fact: `ingress rule of ${full.groupId}`,
            source: full.source === "declared" ? "declared" : factSource(model),
            detail: `${full.protocol} ${full.fromPort}-${full.toPort} from ${full.cidr}`,
          },
        ],
      );
    }
    const missing = groups.map((g) => unread(model, factKey.securityGroup(g))).find((u) => u !== undefined);
    if (missing) {
      return unknown(
        `the cluster's security group rules could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "ec2:DescribeSecurityGroupRules"} in account ${topology.cluster.account}`,
      );
    }
    const partial = rules.filter((r) => r.cidr && cidrOverlaps(r.cidr, cidr));
    if (partial.length > 0) {
      return warn(
        `${groups.join(", ")} admit TCP 443 from only part of ${cidr} (${partial.map((r) => r.cidr).join(", ")})`,
        fix,
      );
    }
    return fail(`${groups.join(", ")} do not admit TCP 443 from ${cidr}: connections time out`, fix);
  },
};
