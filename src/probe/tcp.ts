/**
 * client.tcp: open TCP connections to the endpoint's private addresses on its port (443), each bounded by
 * the step timeout. A timeout means packets are dropped on the way (routes, security group, peering, NACL);
 * a refusal means the address answers but is not the endpoint.
 */
import { connect } from "node:net";
import { fail, pass, warn } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import type { Env } from "../token/environment.js";
import { formatMs } from "./bounded.js";
import type { DnsValue } from "./dns.js";
import { type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";

export type ConnectResult =
  | { address: string; ok: true }
  | { address: string; ok: false; code: "timeout" | "refused" | "unreachable" | "reset" | string };

export interface TcpValue {
  /** Addresses that accepted a connection. */
  reachable: string[];
}

/** One TCP connection attempt, closed as soon as it is open. Never rejects. */
function tryConnect(address: string, port: number, timeoutMs: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (r: ConnectResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ address, ok: false, code: "timeout" }), timeoutMs);
    socket.once("connect", () => done({ address, ok: true }));
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? "error";
      done({
        address,
        ok: false,
        code:
          code === "ECONNREFUSED"
            ? "refused"
            : code === "EHOSTUNREACH" || code === "ENETUNREACH"
              ? "unreachable"
              : code === "ECONNRESET"
                ? "reset"
                : code === "ETIMEDOUT"
                  ? "timeout"
                  : code,
      });
    });
  });
}

/** The proxy kubectl would use for https://HOST (HTTPS_PROXY unless NO_PROXY covers the host). */
export function proxyFor(env: Env, hostname: string): string | undefined {
  const proxy = env.HTTPS_PROXY || env.https_proxy;
  if (!proxy) return undefined;
  const noProxy = (env.NO_PROXY || env.no_proxy || "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  const host = hostname.toLowerCase();
  const covered = noProxy.some(
    (n) => n === "*" || host === n.replace(/^\./, "") || host.endsWith(n.startsWith(".") ? n : `.${n}`),
  );
  return covered ? undefined : proxy;
}

export async function checkTcp(
  scope: ProbeScope,
  dns: DnsValue,
  options: { timeoutMs: number },
): Promise<StepOutcome<TcpValue>> {
  const { client, topology } = scope;
  const c = topology.cluster;
  const port = dns.port;
  const results = await Promise.all(dns.addresses.map((a) => tryConnect(a, port, options.timeoutMs)));
  const evidence: Evidence[] = results.map((r) =>
    probeEvidence(`TCP ${r.address}:${port}`, r.ok ? "connected" : r.code),
  );
  const reachable = results.filter((r) => r.ok).map((r) => r.address);
  const failed = results.filter((r): r is Extract<ConnectResult, { ok: false }> => !r.ok);
  const doctor = `xeks doctor ${scope.file}`;
  const first = dns.addresses[0] ?? "";
  const onInstance = `on the instance: ip route get ${first}; nc -vz -w 3 ${first} ${port}`;
  const clientVpc = client.vpc;
  const pathLinks = clientVpc
    ? `network.route.client-to-cluster (account ${client.account}: a route to ${c.vpc.cidr} through the peering in every route table of ${clientVpc.id}), ` +
      `network.route.cluster-to-client (account ${c.account}: a route back to ${clientVpc.cidr}), ` +
      `network.security-group (${c.securityGroupId} must admit TCP ${port} from ${clientVpc.cidr}), ` +
      "network.peering (active), or a network ACL"
    : `network.public-access (the public endpoint must admit this machine's egress address, declared as ${client.publicCidrs.join(", ")}), ` +
      "a firewall or a proxy on this machine's side";

  if (failed.length === 0) {
    const proxy = proxyFor(scope.env, dns.hostname);
    if (proxy) {
      evidence.push(probeEvidence("HTTPS_PROXY", "set, and NO_PROXY does not cover the endpoint"));
      return {
        finding: warn(
          `${reachable.join(", ")} accept${reachable.length === 1 ? "s" : ""} TCP ${port}, but HTTPS_PROXY is set and NO_PROXY does not cover ${dns.hostname}: kubectl would go through the proxy, not the peering`,
          `export NO_PROXY=${dns.hostname}${(scope.env.NO_PROXY ?? scope.env.no_proxy) ? ",$NO_PROXY" : ""} (or add .eks.amazonaws.com)`,
          evidence,
        ),
        value: { reachable },
      };
    }
    return {
      finding: pass(
        `${reachable.join(", ")} accept${reachable.length === 1 ? "s" : ""} TCP connections on port ${port}`,
        evidence,
      ),
      value: { reachable },
    };
  }
  const describe = (r: Extract<ConnectResult, { ok: false }>) =>
    r.code === "timeout"
      ? `no answer from ${r.address}:${port} within ${formatMs(options.timeoutMs)}`
      : `${r.address}:${port} ${r.code}`;
  if (reachable.length > 0) {
    return {
      finding: warn(
        `${reachable.join(", ")} accept${reachable.length === 1 ? "s" : ""} port ${port}, but ${failed.map(describe).join("; ")}: ` +
          "kubectl fails whenever it picks the other address (a subnet of the endpoint without the route or NACL the others have)",
        `${onInstance}\nadmin side: ${doctor}, links network.route.client-to-cluster and network.route.cluster-to-client (every route table)`,
        evidence,
      ),
      value: { reachable },
    };
  }
  const codes = new Set(failed.map((r) => r.code));
  if (codes.has("timeout")) {
    return {
      finding: fail(
        `${failed.map(describe).join("; ")}: packets are dropped on the way. Likely: ${pathLinks}`,
        clientVpc
          ? `${onInstance}\nadmin side: ${doctor} and look at network.peering, network.route.client-to-cluster, ` +
              "network.route.cluster-to-client and network.security-group (VPC Reachability Analyzer can trace the path)"
          : `${onInstance}\ncurl -s https://checkip.amazonaws.com (this machine's egress address must be inside publicCidrs)\nadmin side: ${doctor} and look at network.public-access`,
        evidence,
      ),
    };
  }
  if (codes.has("refused")) {
    return {
      finding: fail(
        `${failed.map(describe).join("; ")}: something answers at that address but nothing listens on port ${port}, so it is not the cluster endpoint ` +
          "(a stale /etc/hosts or --resolve entry, a wrong port in the endpoint URL, or an address reused by another host)",
        `on the instance: getent hosts ${dns.hostname}; compare with the endpoint's addresses (account ${c.account}): ` +
          `aws ec2 describe-network-interfaces --region ${c.region} --filters "Name=description,Values=Amazon EKS ${c.name}" --query 'NetworkInterfaces[].PrivateIpAddress'`,
        evidence,
      ),
    };
  }
  if (codes.has("unreachable")) {
    return {
      finding: fail(
        clientVpc
          ? `${failed.map(describe).join("; ")}: this instance has no route to the cluster VPC ${c.vpc.cidr} (link network.route.client-to-cluster)`
          : `${failed.map(describe).join("; ")}: this machine has no route to the public endpoint`,
        clientVpc
          ? `${onInstance}\nin account ${client.account}: aws ec2 describe-route-tables --filters Name=vpc-id,Values=${clientVpc.id}; admin side: ${doctor}`
          : `${onInstance}; admin side: ${doctor}`,
        evidence,
      ),
    };
  }
  return {
    finding: fail(`${failed.map(describe).join("; ")}`, `${onInstance}\nadmin side: ${doctor}`, evidence),
  };
}
