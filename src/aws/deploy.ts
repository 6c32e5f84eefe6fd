/**
 * The few AWS calls deploy makes itself (toolkit-lib makes the CloudFormation deployments; src/deploy/aws.ts
 * turns their errors into xeks errors): who the credentials are (STS, src/aws/sts.ts), the cluster's
 * authentication mode (EKS: the one DescribeCluster of src/aws/eks.ts, and UpdateClusterConfig), the peering
 * connection's state (EC2) and the stacks' state (CloudFormation). Each is behind a small interface so the
 * orchestration can be driven by fakes. Clients: SDK_MAX_ATTEMPTS (3) attempts per call, each ended within
 * XEKS_AWS_TIMEOUT_MS and watched (src/aws/watchdog.ts), a silent logger; endpoints from the standard
 * environment (AWS_ENDPOINT_URL and friends).
 *
 * Source of each fact: the API references of STS (GetCallerIdentity), EKS (DescribeCluster, UpdateClusterConfig,
 * DescribeUpdate), EC2 (DescribeVpcPeeringConnections: Status.Code, Status.Message) and CloudFormation
 * (DescribeStacks, DescribeStackEvents).
 */
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type StackEvent,
} from "@aws-sdk/client-cloudformation";
import { DescribeVpcPeeringConnectionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeUpdateCommand, EKSClient, UpdateClusterConfigCommand } from "@aws-sdk/client-eks";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { type AdoptionApi, adoptionApi } from "./adoption.js";
import { type ClusterAuthenticationMode, type ClusterDescription, describeClusterIfExists } from "./eks.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { getCallerIdentity, stsClient } from "./sts.js";
import { watchedRequestHandler } from "./watchdog.js";

/** Who a set of credentials is (sts:GetCallerIdentity, src/aws/sts.ts). */
export interface StsApi {
  getCallerIdentity(): Promise<{ account: string; arn: string }>;
}

/** The cluster's authentication mode: read it, change it, follow the change (EKS). */
export interface EksApi {
  /** The one DescribeCluster (src/aws/eks.ts); undefined when the cluster does not exist. */
  describeCluster(name: string): Promise<ClusterDescription | undefined>;
  updateAuthenticationMode(
    name: string,
    mode: ClusterAuthenticationMode,
  ): Promise<{ updateId: string; status: string }>;
  describeUpdate(name: string, updateId: string): Promise<{ status: string; errors: string[] }>;
}

/** A VPC peering connection's state (EC2 DescribeVpcPeeringConnections: Status.Code and Status.Message). */
export interface Ec2Api {
  /** undefined when no such peering connection is visible to these credentials. */
  describePeering(id: string): Promise<{ status: string; message?: string } | undefined>;
}

/** A stack as CloudFormation describes it. */
export interface StackState {
  name: string;
  status: string;
  statusReason?: string;
  parameters: Record<string, string>;
  outputs: Record<string, string>;
}

/** A CloudFormation stack event as deploy reports it (`eventInfo`). */
export interface StackEventInfo {
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
  physicalId?: string;
  time?: Date;
}

/** The stacks' state and events (CloudFormation DescribeStacks, DescribeStackEvents). */
export interface CfnApi {
  /** undefined when there is no such stack (or only a deleted one). */
  describeStack(name: string): Promise<StackState | undefined>;
  /** The stack's events, newest first (at most `limit`). */
  stackEvents(name: string, limit?: number): Promise<StackEventInfo[]>;
}

/**
 * The credentials a client of {@link AwsApis} signs with, and their home region (deploy's CredentialSet,
 * src/deploy/credentials.ts, is one). Clients are made once per set object and service (and region).
 */
export interface ClientCredentials {
  provider: AwsCredentialIdentityProvider;
  region: string;
}

/** deploy's AWS calls, per set of credentials: `sdkApis`, or a fake in tests. */
export interface AwsApis {
  sts(set: ClientCredentials): StsApi;
  eks(set: ClientCredentials, region: string): EksApi;
  ec2(set: ClientCredentials, region: string): Ec2Api;
  cfn(set: ClientCredentials, region: string): CfnApi;
  /**
   * The calls about adopted pieces (src/aws/adoption.ts). Optional so that fakes without adoption need not
   * implement it; deploy falls back to the SDK's.
   */
  adoption?(set: ClientCredentials, region: string): AdoptionApi;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? "Error";
}

function errorMessage(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/** The configuration of one of deploy's SDK clients: SDK_MAX_ATTEMPTS (3) attempts per call, watched. */
function clientConfig(region: string, credentials: AwsCredentialIdentityProvider) {
  return {
    region,
    credentials,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: watchedRequestHandler(),
  };
}

const clientCache = new WeakMap<ClientCredentials, Map<string, unknown>>();

function cached<T>(set: ClientCredentials, key: string, make: () => T): T {
  let m = clientCache.get(set);
  if (!m) {
    m = new Map();
    clientCache.set(set, m);
  }
  let c = m.get(key) as T | undefined;
  if (!c) {
    c = make();
    m.set(key, c);
  }
  return c;
}

/** The AWS SDK v3 implementation (endpoints from the standard environment: AWS_ENDPOINT_URL and friends). */
export const sdkApis: AwsApis & { adoption(set: ClientCredentials, region: string): AdoptionApi } = {
  adoption(set, region) {
    return cached(set, `adoption ${region}`, () => adoptionApi(set.provider, region));
  },
  sts(set) {
    const client = cached(set, "sts", () => stsClient(clientConfig(set.region, set.provider)));
    return {
      async getCallerIdentity() {
        const { account, arn } = await getCallerIdentity(client);
        return { account, arn };
      },
    };
  },
  eks(set, region) {
    const client = cached(set, `eks ${region}`, () => new EKSClient(clientConfig(region, set.provider)));
    return {
      async describeCluster(name) {
        return await describeClusterIfExists(client, name);
      },
      async updateAuthenticationMode(name, mode) {
        const r = await client.send(
          new UpdateClusterConfigCommand({ name, accessConfig: { authenticationMode: mode } }),
        );
        return { updateId: r.update?.id ?? "", status: r.update?.status ?? "" };
      },
      async describeUpdate(name, updateId) {
        const r = await client.send(new DescribeUpdateCommand({ name, updateId }));
        return {
          status: r.update?.status ?? "",
          errors: (r.update?.errors ?? []).map((e) => `${e.errorCode ?? "error"}: ${e.errorMessage ?? ""}`),
        };
      },
    };
  },
  ec2(set, region) {
    const client = cached(set, `ec2 ${region}`, () => new EC2Client(clientConfig(region, set.provider)));
    return {
      async describePeering(id) {
        try {
          const r = await client.send(
            new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }),
          );
          const pcx = r.VpcPeeringConnections?.find((p) => p.VpcPeeringConnectionId === id);
          if (!pcx) return undefined;
          return { status: pcx.Status?.Code ?? "unknown", message: pcx.Status?.Message };
        } catch (err) {
          if (/NotFound/.test(errorName(err))) return undefined;
          throw err;
        }
      },
    };
  },
  cfn(set, region) {
    const client = cached(
      set,
      `cfn ${region}`,
      () => new CloudFormationClient(clientConfig(region, set.provider)),
    );
    return {
      async describeStack(name) {
        try {
          const r = await client.send(new DescribeStacksCommand({ StackName: name }));
          const s = r.Stacks?.[0];
          if (!s || s.StackStatus === "DELETE_COMPLETE") return undefined;
          const parameters: Record<string, string> = {};
          for (const p of s.Parameters ?? []) {
            if (p.ParameterKey) parameters[p.ParameterKey] = p.ResolvedValue ?? p.ParameterValue ?? "";
          }
          const outputs: Record<string, string> = {};
          for (const o of s.Outputs ?? []) if (o.OutputKey) outputs[o.OutputKey] = o.OutputValue ?? "";
          return {
            name,
            status: s.StackStatus ?? "UNKNOWN",
            statusReason: s.StackStatusReason,
            parameters,
            outputs,
          };
        } catch (err) {
          if (errorName(err) === "ValidationError" && /does not exist/.test(errorMessage(err)))
            return undefined;
          throw err;
        }
      },
      async stackEvents(name, limit = 100) {
        const out: StackEventInfo[] = [];
        let next: string | undefined;
        do {
          const r = await client.send(new DescribeStackEventsCommand({ StackName: name, NextToken: next }));
          for (const e of r.StackEvents ?? []) out.push(eventInfo(e));
          next = r.NextToken;
        } while (next && out.length < limit);
        return out.slice(0, limit);
      },
    };
  },
};

/** One CloudFormation stack event (DescribeStackEvents, or toolkit-lib's stack monitor) as deploy reads it. */
export function eventInfo(e: StackEvent): StackEventInfo {
  return {
    logicalId: e.LogicalResourceId ?? "",
    resourceType: e.ResourceType ?? "",
    status: e.ResourceStatus ?? "",
    reason: e.ResourceStatusReason || undefined,
    physicalId: e.PhysicalResourceId || undefined,
    time: e.Timestamp,
  };
}
