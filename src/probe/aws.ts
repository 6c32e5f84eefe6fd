/**
 * The few AWS calls the probe makes (sts:GetCallerIdentity, sts:AssumeRole, eks:DescribeCluster), each
 * cancellable through an AbortSignal and never retried for long: the probe's own timeout bounds them. The
 * SDK is loaded lazily (CommonJS bundles, as in src/token/credentials.ts) and its logger is silenced.
 */
import { createRequire } from "node:module";
import { type ClusterDescription, describeCluster as describeEksCluster } from "../aws/eks.js";
import { rememberCredentials, rememberingProvider } from "../aws/redact.js";
import { silentLogger } from "../aws/sdk.js";
import type { CredentialProvider, ProbeCredentials } from "./types.js";

const require = createRequire(import.meta.url);

function clientConfig(region: string, credentials: CredentialProvider | ProbeCredentials, endpoint?: string) {
  return {
    region,
    // Whatever signs a request is remembered for redaction (src/aws/redact.ts).
    credentials:
      typeof credentials === "function" ? rememberingProvider(credentials) : rememberCredentials(credentials),
    logger: silentLogger,
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
  };
}

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export async function getCallerIdentity(options: {
  region: string;
  credentials: CredentialProvider;
  endpoint?: string;
  signal: AbortSignal;
}): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } =
    require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const sts = new STSClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: options.signal });
    return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
  } finally {
    sts.destroy();
  }
}

export async function assumeRoleAs(options: {
  region: string;
  credentials: CredentialProvider;
  endpoint?: string;
  roleArn: string;
  sessionName: string;
  externalId?: string;
  signal: AbortSignal;
}): Promise<ProbeCredentials & { sessionToken: string; expiration: Date; assumedRoleArn?: string }> {
  const { STSClient, AssumeRoleCommand } =
    require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const sts = new STSClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName,
        ...(options.externalId ? { ExternalId: options.externalId } : {}),
      }),
      { abortSignal: options.signal },
    );
    const c = rememberCredentials(out.Credentials);
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw Object.assign(new Error(`sts:AssumeRole on ${options.roleArn} returned no credentials`), {
        name: "NoCredentials",
      });
    }
    const result: ProbeCredentials & { sessionToken: string; expiration: Date; assumedRoleArn?: string } = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
    if (out.AssumedRoleUser?.Arn) result.assumedRoleArn = out.AssumedRoleUser.Arn;
    return result;
  } finally {
    sts.destroy();
  }
}

/** What the probe uses of DescribeCluster: the one normalized answer (src/aws/eks.ts). */
export type DescribedCluster = ClusterDescription;

/** eks:DescribeCluster with the access role's session (src/aws/eks.ts); throws the SDK error as it is. */
export async function describeCluster(options: {
  region: string;
  credentials: ProbeCredentials;
  endpoint?: string;
  name: string;
  signal: AbortSignal;
}): Promise<DescribedCluster> {
  const { EKSClient } = require("@aws-sdk/client-eks") as typeof import("@aws-sdk/client-eks");
  const eks = new EKSClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    return await describeEksCluster(eks, options.name, { abortSignal: options.signal });
  } finally {
    eks.destroy();
  }
}
