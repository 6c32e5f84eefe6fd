/**
 * The few AWS calls the probe makes (sts:GetCallerIdentity, sts:AssumeRole, eks:DescribeCluster), each
 * cancellable through an AbortSignal and never retried for long: the probe's own timeout bounds them. The calls
 * are the shared ones of src/aws (sts.ts, eks.ts), which load the SDK lazily; here only the probe's client
 * configuration: one attempt, a silenced logger, the endpoint the probe was given.
 */
import { type ClusterDescription, describeCluster as describeEksCluster, eksClient } from "../aws/eks.js";
import { rememberCredentials, rememberingProvider } from "../aws/redact.js";
import { silentLogger } from "../aws/sdk.js";
import {
  type AssumedRole,
  assumeRole,
  getCallerIdentity as callerIdentity,
  type StsIdentity,
  stsClient,
} from "../aws/sts.js";
import type { CredentialProvider, ProbeCredentials } from "./types.js";

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

/** Who the probe's credentials are (src/aws/sts.ts). */
export type CallerIdentity = StsIdentity;

/** sts:GetCallerIdentity with the client's credentials (src/aws/sts.ts); throws the SDK error as it is. */
export async function getCallerIdentity(options: {
  region: string;
  credentials: CredentialProvider;
  endpoint?: string;
  signal: AbortSignal;
}): Promise<CallerIdentity> {
  const sts = stsClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    return await callerIdentity(sts, { abortSignal: options.signal });
  } finally {
    sts.destroy();
  }
}

/** sts:AssumeRole with the client's credentials (src/aws/sts.ts); throws the SDK error as it is. */
export async function assumeRoleAs(options: {
  region: string;
  credentials: CredentialProvider;
  endpoint?: string;
  roleArn: string;
  sessionName: string;
  externalId?: string;
  signal: AbortSignal;
}): Promise<ProbeCredentials & AssumedRole> {
  const sts = stsClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    return await assumeRole(
      sts,
      {
        roleArn: options.roleArn,
        sessionName: options.sessionName,
        ...(options.externalId ? { externalId: options.externalId } : {}),
      },
      { abortSignal: options.signal },
    );
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
  const eks = eksClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    return await describeEksCluster(eks, options.name, { abortSignal: options.signal });
  } finally {
    eks.destroy();
  }
}
