/**
 * The chain report (contract.md "The chain report"): what `plan`, `doctor` and `doctor --from-client` print.
 * The JSON form is public: extend it, never break it.
 */
import type { Topology } from "../topology/types.js";

export type LinkStatus = "pass" | "fail" | "warn" | "unknown";

/** Link ids of contract.md, in chain order. */
export const LINK_IDS = [
  "topology.cidr-overlap",
  "network.peering",
  "network.peering-quota",
  "network.route.client-to-cluster",
  "network.route.cluster-to-client",
  "network.security-group",
  "network.public-access",
  "network.endpoint",
  "stackset.instances",
  "iam.client-role",
  "iam.assume-permission",
  "iam.access-role-trust",
  "iam.describe-cluster",
  "iam.policy-size",
  "eks.authentication-mode",
  "eks.access-entry",
  "eks.access-policy",
] as const;

export const CLIENT_LINK_IDS = [
  "client.identity",
  "client.assume-role",
  "client.dns",
  "client.tcp",
  "client.tls",
  "client.token",
  "client.whoami",
  "client.permissions",
] as const;

export type LinkId = (typeof LINK_IDS)[number] | (typeof CLIENT_LINK_IDS)[number];

/** One fact a link relied on, and where it came from. */
export interface Evidence {
  /** What was looked at: "trust policy of arn:aws:iam::111111111111:role/X". */
  fact: string;
  /** Where the fact came from: template (synthesized), declared (topology), live (AWS). */
  source: "template" | "declared" | "live" | "probe";
  /** Optional detail: the statement, route or decision. */
  detail?: string;
}

export interface LinkResult {
  id: LinkId;
  /** Who the link is about: "client ops", "access role EKS-CrossAccount-Access-Role", "cluster prac-eks-abhi",
   * or "client ops -> access role X" for links between the two. */
  subject: string;
  status: LinkStatus;
  summary: string;
  /** A command or the change to make; present on fail, warn and unknown. */
  fix?: string;
  evidence?: Evidence[];
  /** Names the client, access role and cluster the link is about, for grouping in reports. */
  client?: string;
  accessRole?: string;
}

export type ReportMode = "plan" | "live" | "client";

export interface ChainReport {
  kind: "ChainReport";
  version: 1;
  mode: ReportMode;
  /** fail: a link fails. unknown (extension): none fails, but one could not be decided. pass: the rest. */
  verdict: Verdict;
  /** The cluster the report is about. Extension of contract.md. */
  cluster?: { name: string; account: string; region: string };
  /** The clients the report is about (extension), so reports can draw each client account. */
  clients?: { name: string; account: string; region?: string }[];
  links: LinkResult[];
}

export type Verdict = "pass" | "fail" | "unknown";

/**
 * fail when any link fails; unknown when none fails but one could not be decided (a read was denied, a fact
 * was not declared), since nothing proves that link holds; else pass. Exit code: 0 only for pass.
 */
export function verdictOf(links: readonly LinkResult[]): Verdict {
  if (links.some((l) => l.status === "fail")) return "fail";
  if (links.some((l) => l.status === "unknown")) return "unknown";
  return "pass";
}

/**
 * The ChainReport of `links` (those of every subject of `topology`, in subject order): the verdict (`verdictOf`),
 * the cluster and the clients (names, accounts, regions).
 */
export function chainReport(topology: Topology, mode: ReportMode, links: LinkResult[]): ChainReport {
  const c = topology.cluster;
  return {
    kind: "ChainReport",
    version: 1,
    mode,
    verdict: verdictOf(links),
    cluster: { name: c.name, account: c.account, region: c.region },
    clients: topology.clients.map((x) => ({ name: x.name, account: x.account, region: x.region })),
    links,
  };
}
