/**
 * The one eks:DescribeCluster of xeks and the one normalized shape of its answer, used by deploy (the
 * authentication mode), doctor and discover (src/aws/read.ts), kubeconfig (endpoint and CA) and the probe. The
 * caller brings its own EKS client (its credentials, endpoint and timeouts); the command class is loaded lazily
 * (CommonJS bundle, as in src/token/credentials.ts), so importing this module costs nothing.
 *
 * Source of each fact: the EKS API reference, DescribeCluster -> Cluster (`accessConfig.authenticationMode`,
 * `resourcesVpcConfig`, `endpoint`, `certificateAuthority.data`, `outpostConfig`, `id`).
 *
 * Decision (authentication mode without `accessConfig`): EKS reports `accessConfig` for clusters that know
 * access entries. A cluster created before access entries existed, or on a platform version without them,
 * answers without it; such a cluster authenticates through the aws-auth ConfigMap only, i.e. CONFIG_MAP, which
 * is also the EKS API's default mode when CreateCluster gets no accessConfig (the eksctl user guide: "CONFIG_MAP
 * - default in EKS API"; the EKS user guide: clusters from before access entries have the ConfigMap method).
 * So an answer without `accessConfig` is CONFIG_MAP (`authenticationModeSource: "default"`), for every command.
 */
import { createRequire } from "node:module";
import type { Cluster, EKSClient, EKSClientConfig } from "@aws-sdk/client-eks";
import { classifyAwsError } from "./errors.js";

const require = createRequire(import.meta.url);

/** The cluster's authentication modes (EKS API AuthenticationMode). */
export type ClusterAuthenticationMode = "CONFIG_MAP" | "API_AND_CONFIG_MAP" | "API";

const MODES = new Set<string>(["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]);

/** What xeks uses of a DescribeCluster answer. */
export interface ClusterDescription {
  name: string;
  arn?: string;
  /** CREATING, ACTIVE, UPDATING, ... */
  status?: string;
  /** The API server URL. */
  endpoint?: string;
  /** base64 of the CA's PEM (certificateAuthority.data). */
  certificateAuthority?: string;
  /**
   * `accessConfig.authenticationMode`; CONFIG_MAP when the answer has no accessConfig (see the module's
   * decision); undefined only when EKS reports a mode xeks does not know (`authenticationModeReported`).
   */
  authenticationMode?: ClusterAuthenticationMode;
  /** "accessConfig": EKS said so; "default": no accessConfig in the answer, so CONFIG_MAP. */
  authenticationModeSource: "accessConfig" | "default";
  /** The raw value EKS reported, when it did. */
  authenticationModeReported?: string;
  /** Endpoint access (resourcesVpcConfig); the EKS defaults (public on, private off) when not reported. */
  endpointAccess: { private: boolean; public: boolean };
  /**
   * The CIDRs the public endpoint admits (resourcesVpcConfig.publicAccessCidrs); undefined when EKS did not
   * report them (EKS's default is 0.0.0.0/0).
   */
  publicAccessCidrs?: string[];
  vpcId?: string;
  /** The subnets of the control plane's network interfaces (resourcesVpcConfig.subnetIds). */
  subnetIds: string[];
  /** The cluster security group first, then the additional ones; unique. */
  securityGroupIds: string[];
  /** Set for an Outposts local cluster (outpostConfig): tokens are made for this id, not the name. */
  localClusterId?: string;
}

/** Normalize one DescribeCluster `cluster` (the one place that reads its fields). */
export function clusterDescription(c: Cluster, name: string): ClusterDescription {
  const reported = c.accessConfig?.authenticationMode;
  const vpc = c.resourcesVpcConfig;
  const out: ClusterDescription = {
    name: c.name ?? name,
    authenticationModeSource: reported ? "accessConfig" : "default",
    endpointAccess: {
      private: vpc?.endpointPrivateAccess ?? false,
      public: vpc?.endpointPublicAccess ?? true,
    },
    subnetIds: [...(vpc?.subnetIds ?? [])],
    securityGroupIds: [
      ...new Set(
        [vpc?.clusterSecurityGroupId, ...(vpc?.securityGroupIds ?? [])].filter(
          (g): g is string => typeof g === "string" && g.length > 0,
        ),
      ),
    ],
  };
  if (reported) {
    out.authenticationModeReported = reported;
    if (MODES.has(reported)) out.authenticationMode = reported as ClusterAuthenticationMode;
  } else {
    out.authenticationMode = "CONFIG_MAP";
  }
  if (c.arn) out.arn = c.arn;
  if (c.status) out.status = c.status;
  if (c.endpoint) out.endpoint = c.endpoint;
  if (c.certificateAuthority?.data) out.certificateAuthority = c.certificateAuthority.data;
  if (vpc?.vpcId) out.vpcId = vpc.vpcId;
  if (vpc?.publicAccessCidrs) out.publicAccessCidrs = [...vpc.publicAccessCidrs];
  if (c.outpostConfig && c.id) out.localClusterId = c.id;
  return out;
}

/** What sends an EKS command: an EKSClient. */
export type EksSender = Pick<EKSClient, "send">;

/** An EKS client with this configuration (region, credentials, logger, handler, attempts, endpoint). */
export function eksClient(config: EKSClientConfig): EKSClient {
  const { EKSClient } = require("@aws-sdk/client-eks") as typeof import("@aws-sdk/client-eks");
  return new EKSClient(config);
}

/**
 * eks:DescribeCluster `name` with the caller's client. Throws the SDK's error as it is (classify it with
 * src/aws/errors.ts), including ResourceNotFoundException; an answer without `cluster` is that error too.
 */
export async function describeCluster(
  eks: EksSender,
  name: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<ClusterDescription> {
  const { DescribeClusterCommand } = require("@aws-sdk/client-eks") as typeof import("@aws-sdk/client-eks");
  const out = await eks.send(
    new DescribeClusterCommand({ name }),
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  );
  if (!out.cluster) {
    throw Object.assign(new Error(`DescribeCluster returned no cluster for ${name}`), {
      name: "ResourceNotFoundException",
    });
  }
  return clusterDescription(out.cluster, name);
}

/** {@link describeCluster}, undefined when there is no such cluster (for these credentials, in this region). */
export async function describeClusterIfExists(
  eks: EksSender,
  name: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<ClusterDescription | undefined> {
  try {
    return await describeCluster(eks, name, options);
  } catch (err) {
    if (classifyAwsError(err).kind === "notFound") return undefined;
    throw err;
  }
}
