/**
 * Hand-built ChainReports for the renderer tests: plausible reports with all 13 link ids of contract.md for
 * every client and access role, with some links failing, warning or undecided.
 */
import {
  type ChainReport,
  CLIENT_LINK_IDS,
  type LinkId,
  type LinkResult,
  type LinkStatus,
  type ReportMode,
  verdictOf,
} from "../../src/chain/types.js";

export const CLUSTER = { name: "prac-eks-abhi", account: "111111111111", region: "ap-south-1" };
const CLUSTER_CIDR = "10.0.0.0/16";

export interface FixtureClient {
  name: string;
  account: string;
  role: string;
  cidr: string;
  accessRole: string;
}

export interface FixtureOptions {
  clients: FixtureClient[];
  mode?: ReportMode;
  /** Status overrides: by id ("network.endpoint"), or by id and client or access role ("iam.client-role@ops"). */
  statuses?: Record<string, LinkStatus>;
}

const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

function link(
  id: LinkId,
  subject: string,
  status: LinkStatus,
  ok: string,
  bad: string,
  fix: string,
  evidence: LinkResult["evidence"],
  where: { client?: string; accessRole?: string } = {},
): LinkResult {
  const out: LinkResult = { id, subject, status, summary: status === "pass" ? ok : bad };
  if (status !== "pass") out.fix = fix;
  if (evidence) out.evidence = evidence;
  if (where.client !== undefined) out.client = where.client;
  if (where.accessRole !== undefined) out.accessRole = where.accessRole;
  return out;
}

/** A full report: cluster-wide links, then per client, per client and access role, per access role. */
export function buildReport(opts: FixtureOptions): ChainReport {
  const statuses = opts.statuses ?? {};
  const st = (id: string, ...who: string[]): LinkStatus => {
    for (const w of who) {
      const s = statuses[`${id}@${w}`];
      if (s) return s;
    }
    return statuses[id] ?? "pass";
  };
  const src = opts.mode === "plan" ? "template" : "live";
  const links: LinkResult[] = [];
  const cs = `cluster ${CLUSTER.name}`;
  const am = st("eks.authentication-mode");
  links.push(
    link(
      "eks.authentication-mode",
      cs,
      am,
      "authentication mode API_AND_CONFIG_MAP accepts access entries",
      "authentication mode CONFIG_MAP ignores access entries",
      `aws eks update-cluster-config --name ${CLUSTER.name} --access-config authenticationMode=API_AND_CONFIG_MAP`,
      [
        {
          fact: `cluster ${CLUSTER.name}`,
          source: src,
          detail: am === "pass" ? "API_AND_CONFIG_MAP" : "CONFIG_MAP",
        },
      ],
    ),
  );
  links.push(
    link(
      "network.endpoint",
      cs,
      st("network.endpoint"),
      "the private endpoint is on and the public endpoint is off",
      "the public endpoint is also on: clients in B resolve public addresses",
      `aws eks update-cluster-config --name ${CLUSTER.name} --resources-vpc-config endpointPrivateAccess=true,endpointPublicAccess=false`,
      [
        {
          fact: `endpoint access of cluster ${CLUSTER.name}`,
          source: src,
          detail: "private=true public=true",
        },
      ],
    ),
  );

  for (const c of opts.clients) {
    const subj = `client ${c.name}`;
    const w = { client: c.name };
    const clientRole = role(c.account, c.role);
    links.push(
      link(
        "topology.cidr-overlap",
        subj,
        st("topology.cidr-overlap", c.name),
        `${c.cidr} and ${CLUSTER_CIDR} do not overlap`,
        `${c.cidr} overlaps ${CLUSTER_CIDR}`,
        `give client ${c.name} a VPC whose CIDR does not overlap ${CLUSTER_CIDR}`,
        [{ fact: `VPC CIDRs of client ${c.name} and the cluster`, source: "declared" }],
        w,
      ),
      link(
        "network.peering",
        subj,
        st("network.peering", c.name),
        "peering connection pcx-0a1b2c3d4e5f60718 is active",
        "no active peering connection joins the two VPCs",
        "xeks deploy (creates and accepts the peering connection)",
        [{ fact: "peering connection pcx-0a1b2c3d4e5f60718", source: src, detail: "active" }],
        w,
      ),
      link(
        "network.route.client-to-cluster",
        subj,
        st("network.route.client-to-cluster", c.name),
        `every client route table routes ${CLUSTER_CIDR} through the peering`,
        `route table rtb-0ddd3333eeee4444f has no route to ${CLUSTER_CIDR}`,
        `aws ec2 create-route --route-table-id rtb-0ddd3333eeee4444f --destination-cidr-block ${CLUSTER_CIDR} --vpc-peering-connection-id pcx-0a1b2c3d4e5f60718`,
        [{ fact: "route table rtb-0ddd3333eeee4444f", source: src }],
        w,
      ),
      link(
        "network.route.cluster-to-client",
        subj,
        st("network.route.cluster-to-client", c.name),
        `every cluster route table routes ${c.cidr} through the peering`,
        `route table rtb-0aaa1111bbbb2222c has no route to ${c.cidr}`,
        `aws ec2 create-route --route-table-id rtb-0aaa1111bbbb2222c --destination-cidr-block ${c.cidr} --vpc-peering-connection-id pcx-0a1b2c3d4e5f60718`,
        [{ fact: "route table rtb-0aaa1111bbbb2222c", source: src }],
        w,
      ),
      link(
        "network.security-group",
        subj,
        st("network.security-group", c.name),
        `sg-0123456789abcdef0 admits TCP 443 from ${c.cidr}`,
        `sg-0123456789abcdef0 does not admit TCP 443 from ${c.cidr}`,
        `aws ec2 authorize-security-group-ingress --group-id sg-0123456789abcdef0 --protocol tcp --port 443 --cidr ${c.cidr}`,
        [{ fact: "ingress rules of sg-0123456789abcdef0", source: src }],
        w,
      ),
      link(
        "iam.client-role",
        subj,
        st("iam.client-role", c.name),
        `${clientRole} trusts ec2.amazonaws.com and has an instance profile`,
        `${clientRole} has no instance profile`,
        `aws iam create-instance-profile --instance-profile-name ${c.role} && aws iam add-role-to-instance-profile --instance-profile-name ${c.role} --role-name ${c.role}`,
        [{ fact: `trust policy of ${clientRole}`, source: src }],
        w,
      ),
    );
  }

  const accessRoles = [...new Set(opts.clients.map((c) => c.accessRole))];
  for (const c of opts.clients) {
    const r = c.accessRole;
    const subj = `client ${c.name} -> access role ${r}`;
    const w = { client: c.name, accessRole: r };
    const clientRole = role(c.account, c.role);
    const accessRole = role(CLUSTER.account, r);
    links.push(
      link(
        "iam.assume-permission",
        subj,
        st("iam.assume-permission", c.name, r),
        `${clientRole} may sts:AssumeRole on ${accessRole}`,
        `no identity policy of ${clientRole} allows sts:AssumeRole on ${accessRole}`,
        `aws iam put-role-policy --role-name ${c.role} --policy-name xeks-assume --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"${accessRole}"}]}'`,
        [{ fact: `identity policies of ${clientRole}`, source: src, detail: "implicit deny" }],
        w,
      ),
      link(
        "iam.access-role-trust",
        subj,
        st("iam.access-role-trust", c.name, r),
        `the trust policy of ${accessRole} allows ${clientRole}`,
        `the trust policy of ${accessRole} does not allow ${clientRole}`,
        `add ${clientRole} as a principal of the trust policy of ${accessRole} (xeks deploy does it)`,
        [{ fact: `trust policy of ${accessRole}`, source: src }],
        w,
      ),
    );
  }
  for (const r of accessRoles) {
    const subj = `access role ${r}`;
    const w = { accessRole: r };
    const accessRole = role(CLUSTER.account, r);
    links.push(
      link(
        "iam.describe-cluster",
        subj,
        st("iam.describe-cluster", r),
        `${accessRole} may eks:DescribeCluster on ${CLUSTER.name}`,
        `${accessRole} may not eks:DescribeCluster: aws eks update-kubeconfig will fail`,
        `aws iam put-role-policy --role-name ${r} --policy-name xeks-describe --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["eks:DescribeCluster","eks:ListClusters"],"Resource":"*"}]}'`,
        [{ fact: `identity policies of ${accessRole}`, source: src }],
        w,
      ),
      link(
        "eks.access-entry",
        subj,
        st("eks.access-entry", r),
        `a STANDARD access entry exists for ${accessRole}`,
        `could not read the access entries of ${CLUSTER.name}: AccessDenied on eks:ListAccessEntries`,
        `allow eks:ListAccessEntries and eks:DescribeAccessEntry to the doctor's credentials, or run with --cluster-profile`,
        [{ fact: `access entries of ${CLUSTER.name}`, source: src }],
        w,
      ),
      link(
        "eks.access-policy",
        subj,
        st("eks.access-policy", r),
        "AmazonEKSClusterAdminPolicy is associated with cluster scope",
        "AmazonEKSClusterAdminPolicy is not associated",
        `aws eks associate-access-policy --cluster-name ${CLUSTER.name} --principal-arn ${accessRole} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster`,
        [{ fact: `policy associations of ${accessRole}`, source: src }],
        w,
      ),
    );
  }
  return {
    kind: "ChainReport",
    version: 1,
    mode: opts.mode ?? "live",
    verdict: verdictOf(links),
    cluster: CLUSTER,
    links,
  };
}

export const OPS: FixtureClient = {
  name: "ops",
  account: "222222222222",
  role: "EC2-EKS-CrossAccount-Role",
  cidr: "172.31.0.0/16",
  accessRole: "EKS-CrossAccount-Access-Role",
};
export const PAYMENTS: FixtureClient = {
  name: "payments",
  account: "222222222222",
  role: "Payments-EKS-Client-Role",
  cidr: "172.31.0.0/16",
  accessRole: "Payments-EKS-Edit-Role",
};
export const ANALYTICS: FixtureClient = {
  name: "analytics",
  account: "333333333333",
  role: "Analytics-EKS-Client-Role",
  cidr: "192.168.0.0/20",
  accessRole: "Analytics-EKS-View-Role",
};

/** The seed topology, live: 2 fail, 1 warn, 1 unknown, 9 pass. */
export function oneClientReport(): ChainReport {
  return buildReport({
    clients: [OPS],
    statuses: {
      "network.endpoint": "warn",
      "network.route.cluster-to-client": "fail",
      "iam.assume-permission": "fail",
      "eks.access-entry": "unknown",
    },
  });
}

/** The teams topology (two client accounts, two access roles), live: 3 fail, 1 warn, 1 unknown. */
export function twoClientReport(): ChainReport {
  return buildReport({
    clients: [PAYMENTS, ANALYTICS],
    statuses: {
      "eks.authentication-mode": "fail",
      "network.endpoint": "warn",
      "network.security-group@payments": "fail",
      "iam.access-role-trust@analytics": "fail",
      "iam.describe-cluster@Analytics-EKS-View-Role": "unknown",
    },
  });
}

/** `n` clients in as many accounts, all through one shared access role. */
export function manyClientReport(n: number, statuses: Record<string, LinkStatus> = {}): ChainReport {
  const clients = Array.from({ length: n }, (_, i) => ({
    name: `team-${i + 1}`,
    account: String(200000000000 + i + 1),
    role: `Team${i + 1}-EKS-Client-Role`,
    cidr: `172.${16 + (i % 16)}.${(i >> 4) * 16}.0/20`,
    accessRole: "EKS-Shared-Access-Role",
  }));
  return buildReport({ clients, statuses });
}

/** The client-side probe (mode client): the client.* links, one failing at TLS. */
export function clientProbeReport(failAt: string = "client.tls"): ChainReport {
  const failed = CLIENT_LINK_IDS.indexOf(failAt as (typeof CLIENT_LINK_IDS)[number]);
  const links: LinkResult[] = CLIENT_LINK_IDS.map((id, i) => {
    const status: LinkStatus = failed < 0 || i < failed ? "pass" : i === failed ? "fail" : "unknown";
    const l: LinkResult = {
      id,
      subject: "client ops",
      client: "ops",
      status,
      summary:
        status === "pass"
          ? id === "client.identity"
            ? "caller is arn:aws:sts::222222222222:assumed-role/EC2-EKS-CrossAccount-Role/i-0123456789abcdef0"
            : `${id.slice("client.".length)} holds`
          : status === "fail"
            ? "x509: certificate signed by unknown authority"
            : `not tried: ${failAt} failed`,
      evidence: [{ fact: "probe on i-0123456789abcdef0", source: "probe" }],
    };
    if (status === "fail") l.fix = "xeks kubeconfig --client ops (writes the cluster CA into the kubeconfig)";
    if (status === "unknown") l.fix = `fix ${failAt} first`;
    return l;
  });
  return {
    kind: "ChainReport",
    version: 1,
    mode: "client",
    verdict: verdictOf(links),
    cluster: CLUSTER,
    links,
  };
}
