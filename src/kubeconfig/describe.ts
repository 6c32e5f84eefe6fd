/**
 * eks:DescribeCluster with the access role's credentials: the caller assumes the access role first, then asks
 * for the endpoint and CA with the role's session. (aws-cli's update-kubeconfig asks with the caller's own
 * credentials, which fails cross-account: aws/aws-cli#8554.)
 */
import { describeCluster, eksClient } from "../aws/eks.js";
import { awsErrorHint, classifyAwsError, formatAwsError } from "../aws/errors.js";
import { silentLogger } from "../aws/sdk.js";
import { OperationError } from "../errors.js";
import {
  assumeRole,
  awsClientConfig,
  baseCredentialProvider,
  describeSdkError,
  isTimeoutError,
  timeoutHint,
} from "../token/credentials.js";
import { DEFAULT_AWS_TIMEOUT_MS } from "../token/environment.js";

export interface ClusterFacts {
  name: string;
  arn: string;
  endpoint: string;
  certificateAuthorityData: string;
  /** Set for an Outposts local cluster: the token must be made for this id (`--cluster-id`). */
  localClusterId?: string;
  status?: string;
}

export interface DescribeOptions {
  clusterName: string;
  region: string;
  /** Assume this role and describe with its credentials; absent: the ambient credentials. */
  roleArn?: string;
  externalId?: string;
  sessionName: string;
  /** Per-request HTTP timeout in ms, for AssumeRole and DescribeCluster (default 10 s). */
  timeoutMs?: number;
  /**
   * The AWS profile whose credentials make these calls (the one `xeks token` will use through the pinned
   * AWS_PROFILE): that profile only (src/aws/credentials.ts), never AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
   * which the token plugin also skips with AWS_PROFILE set. Absent: the ambient credentials.
   */
  profile?: string;
}

export async function describeClusterAs(options: DescribeOptions): Promise<ClusterFacts> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS;
  const base = baseCredentialProvider({
    region: options.region,
    timeoutMs,
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
  });
  const credentials = options.roleArn
    ? await assumeRole({
        roleArn: options.roleArn,
        sessionName: options.sessionName,
        ...(options.externalId ? { externalId: options.externalId } : {}),
        region: options.region,
        timeoutMs,
        credentials: base,
      })
    : base;
  const eks = eksClient({
    region: options.region,
    credentials,
    logger: silentLogger,
    ...awsClientConfig(timeoutMs),
  });
  const as = options.roleArn
    ? `as ${options.roleArn}`
    : options.profile !== undefined
      ? `with profile ${options.profile}`
      : "with the ambient credentials";
  try {
    const c = await describeCluster(eks, options.clusterName);
    if (!c.endpoint || !c.certificateAuthority || !c.arn) {
      throw new OperationError(
        `cluster ${options.clusterName} in ${options.region} has no endpoint or certificate yet (status ${c.status ?? "unknown"})`,
        "wait until the cluster is ACTIVE, or put endpoint and certificateAuthority in the topology file",
      );
    }
    const facts: ClusterFacts = {
      name: c.name,
      arn: c.arn,
      endpoint: c.endpoint,
      certificateAuthorityData: c.certificateAuthority,
    };
    if (c.status) facts.status = c.status;
    // Same rule as aws eks update-kubeconfig: a cluster with an outpostConfig is identified by its id.
    if (c.localClusterId) facts.localClusterId = c.localClusterId;
    return facts;
  } catch (err) {
    if (err instanceof OperationError) throw err;
    const failed = `eks:DescribeCluster on ${options.clusterName} in ${options.region} ${as} failed`;
    if (isTimeoutError(err)) {
      throw new OperationError(
        `${failed}: ${describeSdkError(err, timeoutMs)}`,
        `${timeoutHint("eks")}; or put endpoint and certificateAuthority in the topology file`,
      );
    }
    // The one table of hints (src/aws/errors.ts): the permission only when denied.
    const info = classifyAwsError(err);
    const hint =
      info.kind === "denied"
        ? `the access role needs eks:DescribeCluster on the cluster (link iam.describe-cluster)`
        : awsErrorHint(info.kind, { operation: "eks:DescribeCluster", thing: "cluster" });
    throw new OperationError(
      `${failed}: ${formatAwsError(info)}`,
      `${hint ? `${hint}; ` : ""}or put endpoint and certificateAuthority in the topology file`,
    );
  } finally {
    eks.destroy();
  }
}
