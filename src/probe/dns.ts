/**
 * client.dns: resolve the cluster endpoint's name the way kubectl will, and judge the answer. Private
 * addresses inside the cluster VPC pass (a private-only endpoint is published in public DNS with its private
 * addresses, so peering needs no Route 53 work). A public answer is the public-and-private endpoint trap: the
 * private hosted zone EKS manages is associated only with the cluster VPC. NXDOMAIN is the resolver.
 */
import { isIP } from "node:net";
import { fail, pass, unknown, warn } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import { formatMs, isTimeout, runBounded } from "./bounded.js";
import type { AddressClass, Classifier } from "./classify.js";
import type { ClusterTarget } from "./cluster.js";
import { type ProbeScope, probeEvidence, type Resolver, type StepOutcome } from "./types.js";

export interface DnsValue {
  hostname: string;
  port: number;
  /** Addresses to connect to: those inside the cluster VPC. */
  addresses: string[];
  /** Every address and its class. */
  all: { address: string; class: AddressClass }[];
}

export function endpointHostPort(endpoint: string): { hostname: string; port: number } | undefined {
  try {
    const u = new URL(endpoint);
    const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
    return { hostname, port: u.port ? Number(u.port) : 443 };
  } catch {
    return undefined;
  }
}

export async function checkDns(
  scope: ProbeScope,
  target: ClusterTarget,
  options: { resolver: Resolver; classifier: Classifier; timeoutMs: number },
): Promise<StepOutcome<DnsValue>> {
  const c = scope.topology.cluster;
  const evidence: Evidence[] = [...target.evidence];
  if (!target.endpoint) {
    return {
      finding: unknown(
        `the cluster endpoint is unknown: ${target.problem?.summary ?? "not in the topology"}`,
        target.problem?.fix ?? `put cluster.endpoint in ${scope.file}`,
        evidence,
      ),
    };
  }
  const hp = endpointHostPort(target.endpoint);
  if (!hp) {
    return {
      finding: fail(
        `the endpoint ${target.endpoint} is not a URL`,
        `fix cluster.endpoint in ${scope.file}`,
        evidence,
      ),
    };
  }
  const { hostname, port } = hp;
  const vpcCidrs = options.classifier.clusterCidrs.join(", ");
  const resolverName = options.resolver.name;
  evidence.push(probeEvidence("resolver", resolverName));

  let addresses: string[];
  if (isIP(hostname)) {
    addresses = [hostname];
    evidence.push(probeEvidence("the endpoint is an IP address: nothing to resolve", hostname));
  } else {
    try {
      addresses = await runBounded(options.timeoutMs, (signal) => options.resolver.lookup(hostname, signal));
    } catch (err) {
      const code = isTimeout(err) ? "timeout" : ((err as { code?: string })?.code ?? "error");
      evidence.push(probeEvidence(`lookup ${hostname}`, code));
      const onInstance = `on the instance: cat /etc/resolv.conf; getent hosts ${hostname}; dig ${hostname}; dig ${hostname} @169.254.169.253`;
      const clientVpc = scope.client.vpc;
      const vpcDns = clientVpc
        ? `in account ${scope.client.account}: aws ec2 describe-vpc-attribute --vpc-id ${clientVpc.id} --attribute enableDnsSupport ` +
          `(turn it on: aws ec2 modify-vpc-attribute --vpc-id ${clientVpc.id} --enable-dns-support '{"Value":true}'); ` +
          "check the VPC's DHCP options set (aws ec2 describe-dhcp-options) for custom nameservers"
        : "this client has no VPC (publicCidrs): check this machine's resolver (a VPN or corporate DNS may not answer for eks.amazonaws.com)";
      if (code === "ENOTFOUND") {
        return {
          finding: fail(
            `${hostname} does not exist for ${resolverName} (NXDOMAIN). EKS publishes a private-only endpoint's name in public DNS, ` +
              "so the resolver this instance uses does not see it: the VPC's enableDnsSupport is off (the Amazon-provided resolver " +
              "at 169.254.169.253 / VPC base+2 does not answer), a custom resolver does not forward to it, or the endpoint URL is wrong",
            `${onInstance}\n${vpcDns}\n` +
              `compare the endpoint with the cluster's (account ${c.account}): aws eks describe-cluster --name ${c.name} --region ${c.region} --query cluster.endpoint; ` +
              "if an existing private-only cluster's name does not resolve, turning public access on and off once republishes it",
            evidence,
          ),
        };
      }
      if (code === "ENODATA") {
        return {
          finding: fail(
            `${hostname} exists for ${resolverName} but has no address (NODATA): a private hosted zone in this VPC shadows the name, or the resolver filters it`,
            clientVpc
              ? `${onInstance}\nin account ${scope.client.account}: aws route53 list-hosted-zones-by-vpc --vpc-id ${clientVpc.id} --vpc-region ${scope.client.region}`
              : onInstance,
            evidence,
          ),
        };
      }
      const what =
        code === "timeout"
          ? `did not answer within ${formatMs(options.timeoutMs)}`
          : code === "ESERVFAIL"
            ? "answered SERVFAIL"
            : code === "EAI_AGAIN"
              ? "failed temporarily (EAI_AGAIN: SERVFAIL or no answer)"
              : `failed (${code})`;
      return {
        finding: fail(
          `${resolverName} ${what} for ${hostname}: the resolver (or the nameserver it forwards to) is broken or unreachable, so kubectl cannot find the endpoint`,
          `${onInstance}\n${vpcDns}`,
          evidence,
        ),
      };
    }
  }

  const all = addresses.map((address) => ({ address, class: options.classifier.classify(address) }));
  evidence.push(
    probeEvidence(`${hostname} resolves to`, all.map((a) => `${a.address} (${a.class})`).join(", ")),
  );
  if (!scope.client.vpc) return publicClientDns(scope, { hostname, port, all }, resolverName, evidence);
  const inCluster = all.filter((a) => a.class === "cluster").map((a) => a.address);
  const others = all.filter((a) => a.class !== "cluster" && a.class !== "ipv6");
  const value: DnsValue = { hostname, port, addresses: inCluster, all };
  const list = (xs: { address: string }[]) => xs.map((a) => a.address).join(", ");
  const publicOnes = others.filter((a) => a.class === "public");
  const endpointFix =
    `in account ${c.account}: aws eks update-cluster-config --name ${c.name} --region ${c.region} ` +
    "--resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true " +
    "(a private-only endpoint resolves to its private addresses from any VPC); " +
    "or keep the public endpoint and forward the name to the cluster VPC with Route 53 Resolver " +
    `(an outbound endpoint and a forwarding rule for ${hostname} in account ${scope.client.account}, an inbound endpoint in the cluster VPC). ` +
    `Then check link network.endpoint: xeks doctor ${scope.file}`;

  if (addresses.length === 0) {
    return {
      finding: fail(
        `${resolverName} returned no address for ${hostname}`,
        `on the instance: getent hosts ${hostname}`,
        evidence,
      ),
    };
  }
  if (inCluster.length > 0 && others.length === 0) {
    return {
      finding: pass(
        `${hostname} resolves to ${inCluster.join(", ")}: private, in the cluster VPC ${vpcCidrs}`,
        evidence,
      ),
      value,
    };
  }
  if (inCluster.length > 0) {
    return {
      finding: warn(
        `${hostname} resolves to ${inCluster.join(", ")} in the cluster VPC, but also to ${list(others)} outside it: kubectl may pick either`,
        publicOnes.length > 0 ? endpointFix : `on the instance: grep ${hostname} /etc/hosts; dig ${hostname}`,
        evidence,
      ),
      value,
    };
  }
  if (publicOnes.length > 0) {
    return {
      finding: fail(
        `${hostname} resolves to public address${publicOnes.length === 1 ? "" : "es"} ${list(publicOnes)}, not into the cluster VPC ${vpcCidrs}: ` +
          "the cluster's public endpoint is on, and the private hosted zone EKS manages for the private endpoint is associated only with " +
          "the cluster VPC, so from this VPC the name gives the public endpoint. kubectl would leave through NAT or the internet, not the " +
          "peering (and the public endpoint's publicAccessCidrs must admit this VPC's egress address)",
        endpointFix,
        evidence,
      ),
    };
  }
  const privateOnes = others.filter((a) => a.class === "private");
  if (privateOnes.length > 0) {
    return {
      finding: fail(
        `${hostname} resolves to ${list(privateOnes)}: private, but outside the cluster VPC ${vpcCidrs}. ` +
          "A hosts file or a private hosted zone points it elsewhere, or the cluster VPC has a CIDR the topology does not list",
        `on the instance: grep ${hostname} /etc/hosts; dig ${hostname}\n` +
          `in account ${c.account}: aws ec2 describe-network-interfaces --region ${c.region} --filters "Name=description,Values=Amazon EKS ${c.name}" ` +
          "--query 'NetworkInterfaces[].PrivateIpAddress' (the endpoint's addresses); fix cluster.vpc.cidr if the VPC has another CIDR",
        evidence,
      ),
    };
  }
  return {
    finding: fail(
      `${hostname} resolves to ${list(others.length > 0 ? others : all)}, which is not an address of the cluster VPC ${vpcCidrs} (a hosts file entry, or an IPv6-only answer)`,
      `on the instance: grep ${hostname} /etc/hosts; getent hosts ${hostname}`,
      evidence,
    ),
  };
}

/**
 * client.dns for a client without a VPC (`publicCidrs`): it reaches the public endpoint, so public addresses
 * pass and are the ones to connect to; addresses in the cluster VPC mean the public endpoint is off (a
 * private-only endpoint), which such a client cannot reach. No check of private DNS or peering applies.
 */
function publicClientDns(
  scope: ProbeScope,
  resolved: { hostname: string; port: number; all: { address: string; class: AddressClass }[] },
  resolverName: string,
  evidence: Evidence[],
): StepOutcome<DnsValue> {
  const c = scope.topology.cluster;
  const { hostname, port, all } = resolved;
  const publicOnes = all.filter((a) => a.class === "public").map((a) => a.address);
  const cidrs = scope.client.publicCidrs;
  const publicFix =
    `in account ${c.account}: aws eks update-cluster-config --name ${c.name} --region ${c.region} ` +
    `--resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=${cidrs.join(",")} ` +
    `(keep the CIDRs it admits already); then check link network.public-access: xeks doctor ${scope.file}`;
  if (publicOnes.length > 0) {
    return {
      finding: pass(
        `${hostname} resolves to ${publicOnes.join(", ")}: the public endpoint, which client ${scope.client.name} reaches from ${cidrs.join(", ")} (link network.public-access proves the endpoint admits them)`,
        evidence,
      ),
      value: { hostname, port, addresses: publicOnes, all },
    };
  }
  if (all.some((a) => a.class === "cluster")) {
    return {
      finding: fail(
        `${hostname} resolves only to addresses in the cluster VPC (${all.map((a) => a.address).join(", ")}): the cluster's public endpoint is off, and client ${scope.client.name} has no VPC peered with the cluster VPC`,
        publicFix,
        evidence,
      ),
    };
  }
  return {
    finding: fail(
      `${resolverName} gives ${hostname} no public address (${all.map((a) => `${a.address} ${a.class}`).join(", ") || "none"}): a hosts file, a VPN's DNS or a proxy's answer, not the cluster's public endpoint`,
      `on this machine: grep ${hostname} /etc/hosts; dig ${hostname} @1.1.1.1`,
      evidence,
    ),
  };
}
