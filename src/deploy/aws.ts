/**
 * The few AWS calls deploy makes itself (toolkit-lib makes the CloudFormation deployments): who the credentials
 * are (STS), the cluster's authentication mode (EKS), the peering connection's state (EC2) and the stacks' state
 * (CloudFormation). Each is behind a small interface so the orchestration can be driven by fakes.
 */
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type StackEvent,
} from "@aws-sdk/client-cloudformation";
import { DescribeVpcPeeringConnectionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeUpdateCommand, EKSClient, UpdateClusterConfigCommand } from "@aws-sdk/client-eks";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type ClusterDescription, describeClusterIfExists } from "../aws/eks.js";
import {
  awsErrorHint,
  classifyAwsError,
  formatAwsError,
  isNoAnswer as isNoAwsAnswer,
} from "../aws/errors.js";
import { AwsSilenceError } from "../aws/watchdog.js";
import { InputError, OperationError } from "../errors.js";
import type { AuthenticationMode } from "../topology/types.js";
import { type CredentialSet, describeCredentials } from "./credentials.js";
import { sdkClientConfig } from "./sdk.js";

export interface StsApi {
  getCallerIdentity(): Promise<{ account: string; arn: string }>;
}

export interface EksApi {
  /** The one DescribeCluster (src/aws/eks.ts); undefined when the cluster does not exist. */
  describeCluster(name: string): Promise<ClusterDescription | undefined>;
  updateAuthenticationMode(
    name: string,
    mode: AuthenticationMode,
  ): Promise<{ updateId: string; status: string }>;
  describeUpdate(name: string, updateId: string): Promise<{ status: string; errors: string[] }>;
}

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

export interface StackEventInfo {
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
  physicalId?: string;
  time?: Date;
}

export interface CfnApi {
  /** undefined when there is no such stack (or only a deleted one). */
  describeStack(name: string): Promise<StackState | undefined>;
  /** The stack's events, newest first (at most `limit`). */
  stackEvents(name: string, limit?: number): Promise<StackEventInfo[]>;
}

export interface AwsApis {
  sts(set: CredentialSet): StsApi;
  eks(set: CredentialSet, region: string): EksApi;
  ec2(set: CredentialSet, region: string): Ec2Api;
  cfn(set: CredentialSet, region: string): CfnApi;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? "Error";
}

function errorMessage(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/**
 * Turn an SDK error into a typed xeks error, classified by the one AWS classifier (src/aws/errors.ts) with its
 * hints. Only a named profile is the user's input (exit 2): one that gives no credentials at all (missing,
 * incomplete, an SSO profile without a login) is a bad flag value. The ambient chain finding nothing,
 * credentials that AWS refuses, timeouts and the rest are operation failures (exit 1), with a hint. `what`
 * says what was being done, with which credentials.
 */
export function awsError(err: unknown, what: string, set?: Pick<CredentialSet, "profile" | "flag">): Error {
  if (err instanceof InputError || err instanceof OperationError) return err;
  const facts = classifyAwsError(err);
  const msg = errorMessage(err);
  const who = set ? describeCredentials(set) : "the credentials";
  const flag = set?.flag ?? "--cluster-profile or --client-profile NAME=PROFILE";
  if (facts.kind === "credentials" && isUnloadable(facts.code, msg)) {
    if (set?.profile !== undefined) {
      return new InputError(`${what}: cannot load ${who}: ${msg}`, [
        {
          path: set.flag,
          message: `check that profile ${set.profile} exists in the AWS config and credentials files and can be used (for SSO, that you are logged in), or name another profile with ${set.flag}`,
        },
      ]);
    }
    return new OperationError(
      `${what}: cannot load ${who}: ${msg}`,
      `configure credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, aws sso login, an instance profile) or name a profile with ${flag}`,
    );
  }
  if (facts.kind === "credentials") {
    return new OperationError(
      `${what}: ${who} were refused (${facts.code}): ${msg}`,
      `refresh the credentials (aws sso login, new keys) and run again, or name other ones with ${flag}`,
    );
  }
  if (facts.network) {
    const e = new OperationError(
      `${what}: no answer from AWS (${facts.code}): ${facts.message}`,
      awsErrorHint(facts.kind),
    );
    (e as { cause?: unknown }).cause = err;
    return e;
  }
  return new OperationError(`${what}: ${formatAwsError(facts)}`, awsErrorHint(facts.kind));
}

/** Credentials that could not be had at all (as opposed to credentials AWS refused). */
function isUnloadable(code: string, message: string): boolean {
  return (
    /^(CredentialsProviderError|CredentialsError|TokenProviderError|NoCredentials)$/.test(code) ||
    /Could not load credentials|Could not resolve credentials/i.test(message)
  );
}

/**
 * Whether an error (or one of its causes) is AWS not answering: a timeout, a refused or dropped connection, an
 * unresolvable host, or the watchdog ending the run (src/aws/watchdog.ts). The one classifier decides.
 */
export function isNoAnswer(err: unknown): boolean {
  return err instanceof AwsSilenceError || isNoAwsAnswer(err);
}

const clientCache = new WeakMap<CredentialSet, Map<string, unknown>>();

function cached<T>(set: CredentialSet, key: string, make: () => T): T {
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
export const sdkApis: AwsApis = {
  sts(set) {
    const client = cached(set, "sts", () => new STSClient(sdkClientConfig(set.region, set.provider)));
    return {
      async getCallerIdentity() {
        const r = await client.send(new GetCallerIdentityCommand({}));
        return { account: r.Account ?? "", arn: r.Arn ?? "" };
      },
    };
  },
  eks(set, region) {
    const client = cached(set, `eks ${region}`, () => new EKSClient(sdkClientConfig(region, set.provider)));
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
    const client = cached(set, `ec2 ${region}`, () => new EC2Client(sdkClientConfig(region, set.provider)));
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
      () => new CloudFormationClient(sdkClientConfig(region, set.provider)),
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
