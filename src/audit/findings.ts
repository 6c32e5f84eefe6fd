/**
 * The findings model of `xeks audit` (docs/audit.md): what is stale, orphaned or wider than declared on a cluster
 * and its network. Each finding has a stable id (one of {@link FINDING_IDS}), a severity, the AWS resource it is
 * about, the evidence read, and a fix command; or, when a read was denied or no credentials reach the account that
 * would decide it, status `unknown` with what would decide it. Plain data: the JSON report is this, as it is.
 */

/** How bad a finding is, most severe first. */
export type Severity = "error" | "warning" | "note";

/** Severities, most severe first. */
export const SEVERITIES: readonly Severity[] = ["error", "warning", "note"];

/** 0 for error, 1 for warning, 2 for note: lower is more severe. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** The stable ids of the checks. Never renamed: CI gates and SARIF baselines refer to them. */
export const FINDING_IDS = [
  "entry.principal-missing",
  "entry.principal-recreated",
  "entry.undeclared",
  "entry.wider-than-declared",
  "route.blackhole",
  "sg.orphan-cidr",
  "trust.dangling-principal",
  "peering.unused",
] as const;

export type FindingId = (typeof FINDING_IDS)[number];

/** One check: its id, severity, one-line title and the help text (SARIF `rules[].help`, `xeks audit --help`). */
export interface AuditRule {
  id: FindingId;
  severity: Severity;
  title: string;
  /** What it means and why it matters, with the AWS fact it rests on. */
  help: string;
  /** Only with a topology FILE. */
  needsTopology?: boolean;
}

/**
 * The checks. Severities: `error` for access that is broken or wider than asked; `warning` for stale or orphaned
 * access and network paths; `note` for an unused peering (harmless, but a path nobody routes).
 */
export const RULES: Readonly<Record<FindingId, AuditRule>> = {
  "entry.principal-missing": {
    id: "entry.principal-missing",
    severity: "warning",
    title: "access entry for a principal that no longer exists",
    help:
      "The IAM role or user an access entry names does not exist (IAM GetRole/GetUser answers NoSuchEntity). " +
      "EKS keeps the entry, bound to the deleted principal's unique id: a role created later with the same name " +
      "does not get its access. Delete the entry, or recreate the principal and then the entry.",
  },
  "entry.principal-recreated": {
    id: "entry.principal-recreated",
    severity: "error",
    title: "access entry for a role deleted and created again",
    help:
      "The role was created after its access entry (IAM GetRole CreateDate later than EKS DescribeAccessEntry " +
      "createdAt). EKS checks that the principal exists when the entry is made and keeps its unique id, so the " +
      "entry belongs to the earlier role and silently grants the new one nothing. Delete the entry and create it " +
      "again (and associate its access policies again).",
  },
  "entry.undeclared": {
    id: "entry.undeclared",
    severity: "warning",
    title: "access entry that no topology declares",
    needsTopology: true,
    help:
      "A STANDARD access entry of the cluster that the topology neither creates (access[]) nor declares " +
      "(cluster.accessEntries). Access nobody wrote down is where access leaks: declare it or delete it. Entries " +
      "of node types (EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX) are EKS's own and are not reported.",
  },
  "entry.wider-than-declared": {
    id: "entry.wider-than-declared",
    severity: "error",
    title: "access entry with more access than the topology declares",
    needsTopology: true,
    help:
      "An access entry the topology declares has an access policy it does not declare, a policy at cluster scope " +
      "where the topology asks for namespaces, namespaces beyond the declared ones, or Kubernetes groups the " +
      "topology does not list (EKS ListAssociatedAccessPolicies, DescribeAccessEntry kubernetesGroups).",
  },
  "route.blackhole": {
    id: "route.blackhole",
    severity: "warning",
    title: "route to a target that no longer exists",
    help:
      "A route of a route table of the cluster's subnets has state blackhole (EC2 DescribeRouteTables): its " +
      "target, such as a peering connection, was deleted. Traffic to the destination is dropped. Delete the " +
      "route, or replace it with one through a live target.",
  },
  "sg.orphan-cidr": {
    id: "sg.orphan-cidr",
    severity: "warning",
    title: "443 rule of the cluster security group for a network nobody peers with",
    help:
      "An inbound rule of the cluster security group that admits TCP 443 from a CIDR that overlaps no network " +
      "the cluster VPC reaches: not the VPC's own CIDRs, not the VPC of any active peering of the cluster VPC " +
      "(EC2 DescribeVpcPeeringConnections), not a destination of a live non-default route of its route tables, " +
      "not a topology client's vpc or publicCidrs: it reaches no known network. Whoever holds that range, or gets " +
      "it next, reaches the API server's port. Revoke the rule, or declare the network it is for.",
  },
  "trust.dangling-principal": {
    id: "trust.dangling-principal",
    severity: "warning",
    title: "trust policy naming a principal that was deleted",
    help:
      "The trust policy of a role with an access entry names a principal by its unique id (AROA… or AIDA…) " +
      "instead of an ARN. IAM stores a role or user ARN in a trust policy as the principal's unique id and shows " +
      "the id when the principal is deleted (IAM User Guide, Policy elements: Principal: the ARN transforms to the " +
      "role's unique principal ID when you save the policy, which protects against someone deleting and " +
      "recreating the role). Nobody can use that statement any more; remove the id from the trust policy.",
  },
  "peering.unused": {
    id: "peering.unused",
    severity: "note",
    title: "active peering that no route of the cluster VPC uses",
    help:
      "An active peering connection of the cluster VPC that no route of any route table of the cluster VPC " +
      "targets (EC2 DescribeRouteTables, DescribeVpcPeeringConnections): the cluster side never sends to it. " +
      "Delete the peering if nothing else needs it, or add the routes it was made for.",
  },
};

/** The AWS resource a finding is about. */
export interface AuditResource {
  /** access-entry, iam-role, iam-user, route-table, security-group-rule, security-group, vpc-peering-connection, vpc, cluster. */
  type: string;
  /** The resource's id: the principal ARN of an access entry, `rtb-…`, `sgr-…`, `pcx-…`, a role ARN. */
  id: string;
  /** Its ARN, when it has one (`arn:P:eks:R:A:access-entry/…`, `arn:P:ec2:R:A:route-table/rtb-…`). */
  arn?: string;
  account: string;
  /** "" for global resources (IAM). */
  region: string;
}

/** One piece of evidence: a fact that was read, and what it said. */
export interface Evidence {
  /** What was read: "access entry arn:…", "role arn:… (iam:GetRole)". */
  fact: string;
  detail?: string;
}

/**
 * One finding. `status: "found"`: the problem is there, `fix` says how to remove it. `status: "unknown"`: the
 * check could not be decided (a read was denied, or no credentials reach the account that holds the answer);
 * `decide` says what would decide it. Unknown is never clean: it keeps its check's severity.
 */
export interface Finding {
  id: FindingId;
  severity: Severity;
  status: "found" | "unknown";
  resource: AuditResource;
  /** One line: what is wrong (or what could not be checked). */
  message: string;
  evidence: Evidence[];
  /** A command (or commands joined with `&&`) that removes the problem, prefixed with the account it runs in. */
  fix?: string;
  /** For unknown findings: the permission or the credentials that would decide it. */
  decide?: string;
}

/** What the audit looked at, for the report's header. */
export interface AuditScope {
  cluster: { name: string; arn?: string; account: string; region: string; vpcId?: string };
  /** The topology file, when one was given. */
  topology?: string;
  accessEntries: number;
  principals: number;
  routeTables: number;
  securityGroupRules: number;
  peerings: number;
}

/** The audit's one document: `{"kind": "AuditReport", "version": 1, "findings": [...]}` plus what was looked at. */
export interface AuditReport {
  kind: "AuditReport";
  version: 1;
  scope: AuditScope;
  /** Most severe first, then by id and resource. */
  findings: Finding[];
  /**
   * AWS calls made, by `service:Operation` (all read-only, but sts:AssumeRole with `--assume-role-name`), and the
   * wall time in milliseconds.
   */
  stats?: { calls: number; byAction: Record<string, number>; ms: number };
  /**
   * Set when the audit could not run (the cluster could not be described, credentials of the wrong account, a bad
   * file): what went wrong, redacted, and the exit code the run ends with. `findings` is then empty and means
   * nothing was checked, not that all is clean; `scope` names only what was asked (its counts are 0).
   */
  error?: { message: string; exitCode: 1 | 2 };
}

/**
 * The report of an audit that could not run: no findings, `error` set, the scope naming what was asked (an
 * account not learned is "").
 */
export function failedAuditReport(
  asked: { cluster?: string; region?: string; account?: string; topology?: string },
  error: { message: string; exitCode: 1 | 2 },
): AuditReport {
  return {
    kind: "AuditReport",
    version: 1,
    scope: {
      cluster: { name: asked.cluster ?? "", account: asked.account ?? "", region: asked.region ?? "" },
      ...(asked.topology ? { topology: asked.topology } : {}),
      accessEntries: 0,
      principals: 0,
      routeTables: 0,
      securityGroupRules: 0,
      peerings: 0,
    },
    findings: [],
    error,
  };
}

/** A finding of check `id` with that check's severity. */
export function finding(
  id: FindingId,
  resource: AuditResource,
  message: string,
  evidence: Evidence[],
  fix: string,
): Finding {
  return { id, severity: RULES[id].severity, status: "found", resource, message, evidence, fix };
}

/** An undecided finding of check `id`: `decide` names the permission or the credentials that would decide it. */
export function unknownFinding(
  id: FindingId,
  resource: AuditResource,
  message: string,
  decide: string,
  evidence: Evidence[] = [],
): Finding {
  return { id, severity: RULES[id].severity, status: "unknown", resource, message, evidence, decide };
}

/** Findings in report order: most severe first, found before unknown, then by id and resource id. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (a.status === b.status ? 0 : a.status === "found" ? -1 : 1) ||
      a.id.localeCompare(b.id) ||
      a.resource.id.localeCompare(b.resource.id) ||
      a.message.localeCompare(b.message),
  );
}

/**
 * The exit code for `--fail-on`: 1 when some finding (found or unknown) is at or above `failOn`, else 0. The
 * CLI's exit 2 (invalid input) never comes from here.
 */
export function auditExitCode(report: AuditReport, failOn: Severity): 0 | 1 {
  const limit = severityRank(failOn);
  return report.findings.some((f) => severityRank(f.severity) <= limit) ? 1 : 0;
}
