/**
 * Where the probe learns the cluster endpoint and CA: the topology (`cluster.endpoint`,
 * `cluster.certificateAuthority`), or eks:DescribeCluster with the access role's credentials (the call the
 * kubeconfig needs, link iam.describe-cluster). Not a link of its own: client.dns and client.tls report it.
 */

import { awsErrorHint, classifyAwsError as awsErrorInfo, formatAwsError } from "../aws/errors.js";
import type { Evidence } from "../chain/types.js";
import { type DescribedCluster, describeCluster } from "./aws.js";
import { formatMs, isTimeout, runBounded } from "./bounded.js";
import type { ProbeCredentials, ProbeScope } from "./types.js";
import { declaredEvidence, probeEvidence } from "./types.js";

export interface ClusterTarget {
  endpoint?: string;
  endpointSource?: "topology" | "DescribeCluster";
  certificateAuthority?: string;
  caSource?: "topology" | "DescribeCluster";
  /** The cluster id the token is made for (the name, or an Outposts local cluster's id). */
  clusterId: string;
  /** Why the endpoint or CA is missing, with its fix, when DescribeCluster could not tell. */
  problem?: { summary: string; fix: string };
  /** Where the endpoint came from (client.dns shows it). */
  evidence: Evidence[];
  /** Where the CA came from (client.tls shows it). */
  caEvidence: Evidence[];
  described?: DescribedCluster;
}

export async function clusterTarget(
  scope: ProbeScope,
  options: {
    assumed?: ProbeCredentials;
    endpoint?: string;
    timeoutMs: number;
    /** Why the access role's credentials are missing ("client.assume-role failed"). */
    noCredentials: string;
  },
): Promise<ClusterTarget> {
  const c = scope.topology.cluster;
  const target: ClusterTarget = { clusterId: c.name, evidence: [], caEvidence: [] };
  if (c.endpoint) {
    target.endpoint = c.endpoint;
    target.endpointSource = "topology";
    target.evidence.push(declaredEvidence("cluster.endpoint", c.endpoint));
  }
  if (c.certificateAuthority) {
    target.certificateAuthority = c.certificateAuthority;
    target.caSource = "topology";
    target.caEvidence.push(declaredEvidence("cluster.certificateAuthority", "from the topology"));
  }
  if (target.endpoint && target.certificateAuthority) return target;

  const describeFix =
    `put cluster.endpoint and cluster.certificateAuthority in ${scope.file} (xeks discover fills them in), ` +
    `or let ${scope.access.role} call eks:DescribeCluster on ${c.arn} (run xeks doctor ${scope.file}, link iam.describe-cluster)`;
  if (!options.assumed) {
    target.problem = {
      summary: `not in the topology, and DescribeCluster was not tried: ${options.noCredentials}`,
      fix: describeFix,
    };
    return target;
  }
  const assumed = options.assumed;
  try {
    const described = await runBounded(options.timeoutMs, (signal) =>
      describeCluster({
        region: c.region,
        credentials: assumed,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        name: c.name,
        signal,
      }),
    );
    target.described = described;
    if (described.localClusterId) target.clusterId = described.localClusterId;
    if (!target.endpoint && described.endpoint) {
      target.endpoint = described.endpoint;
      target.endpointSource = "DescribeCluster";
      target.evidence.push(
        probeEvidence(`eks:DescribeCluster as ${scope.access.role}: endpoint`, described.endpoint),
      );
    }
    if (!target.certificateAuthority && described.certificateAuthority) {
      target.certificateAuthority = described.certificateAuthority;
      target.caSource = "DescribeCluster";
      target.caEvidence.push(
        probeEvidence(`eks:DescribeCluster as ${scope.access.role}: certificate authority`),
      );
    }
    if (!target.endpoint || !target.certificateAuthority) {
      target.problem = {
        summary: `DescribeCluster returned no ${target.endpoint ? "certificate authority" : "endpoint"} (status ${described.status ?? "unknown"})`,
        fix: "wait until the cluster is ACTIVE, then run the probe again",
      };
    }
  } catch (err) {
    if (isTimeout(err)) {
      target.problem = {
        summary: `eks:DescribeCluster got no answer within ${formatMs(options.timeoutMs)} (the EKS API of ${c.region} is unreachable from here)`,
        fix: `${describeFix}; a VPC without a NAT gateway needs an EKS interface endpoint (com.amazonaws.${c.region}.eks)`,
      };
      return target;
    }
    const info = awsErrorInfo(err);
    let why = formatAwsError(info);
    let fix = describeFix;
    if (info.kind === "notFound") {
      why += ` (no cluster ${c.name} in ${c.region} of account ${c.account}: a wrong name or region in the topology, or the access role is in another account than the cluster)`;
      fix = `${awsErrorHint("notFound", { thing: "cluster" })}: cluster.name and cluster.region in ${scope.file}; or put cluster.endpoint and cluster.certificateAuthority in it`;
    } else if (info.kind === "denied") {
      why += ` (the access role may not eks:DescribeCluster: link iam.describe-cluster)`;
    } else {
      const hint = awsErrorHint(info.kind, { operation: "eks:DescribeCluster" });
      if (hint) fix = `${hint}; or put cluster.endpoint and cluster.certificateAuthority in ${scope.file}`;
    }
    target.problem = {
      summary: `eks:DescribeCluster as ${scope.access.role} failed: ${why}`,
      fix,
    };
  }
  return target;
}
