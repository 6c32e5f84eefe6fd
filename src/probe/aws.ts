/**
 * The few AWS calls the probe makes (sts:GetCallerIdentity, sts:AssumeRole, eks:DescribeCluster), each
 * cancellable through an AbortSignal and never retried for long: the probe's own timeout bounds them. The
 * SDK is loaded lazily (CommonJS bundles, as in src/token/credentials.ts) and its logger is silenced.
 */
import { createRequire } from "node:module";
import { rememberCredentials, rememberingProvider } from "../aws/redact.js";
import { silentLogger } from "../aws/sdk.js";
import type { CredentialProvider, ProbeCredentials } from "./types.js";

const require = createRequire(import.meta.url);

/** An AWS error reduced to what messages need. */
export interface AwsErrorInfo {
  /** AccessDenied, ResourceNotFoundException, CredentialsProviderError, TimeoutError, ... */
  code: string;
  /** First line of the message. */
  message: string;
  /** HTTP status when AWS answered. */
  status?: number;
  /** True when no answer came (connection refused, DNS of the AWS endpoint, socket timeout). */
  network: boolean;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "TimeoutError",
  "RequestTimeout",
  "NetworkingError",
]);

export function awsErrorInfo(err: unknown): AwsErrorInfo {
  const e = err as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const code = e?.Code ?? (e?.name && e.name !== "Error" ? e.name : undefined) ?? e?.code ?? "Error";
  const message = String(e?.message ?? err).split("\n")[0] ?? "";
  const status = e?.$metadata?.httpStatusCode;
  const out: AwsErrorInfo = {
    code,
    message,
    network: status === undefined && (NETWORK_CODES.has(code) || NETWORK_CODES.has(e?.code ?? "")),
  };
  if (status !== undefined) out.status = status;
  return out;
}

/** `AccessDenied: User: ... is not authorized ...` */
export function formatAwsError(info: AwsErrorInfo): string {
  return info.message.startsWith(info.code) ? info.message : `${info.code}: ${info.message}`;
}

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

export interface DescribedCluster {
  endpoint?: string;
  certificateAuthority?: string;
  status?: string;
  endpointPublicAccess?: boolean;
  endpointPrivateAccess?: boolean;
  /** Outposts local cluster id: the token is made for it. */
  localClusterId?: string;
}

export async function describeCluster(options: {
  region: string;
  credentials: ProbeCredentials;
  endpoint?: string;
  name: string;
  signal: AbortSignal;
}): Promise<DescribedCluster> {
  const { EKSClient, DescribeClusterCommand } =
    require("@aws-sdk/client-eks") as typeof import("@aws-sdk/client-eks");
  const eks = new EKSClient(clientConfig(options.region, options.credentials, options.endpoint));
  try {
    const out = await eks.send(new DescribeClusterCommand({ name: options.name }), {
      abortSignal: options.signal,
    });
    const c = out.cluster;
    const facts: DescribedCluster = {};
    if (c?.endpoint) facts.endpoint = c.endpoint;
    if (c?.certificateAuthority?.data) facts.certificateAuthority = c.certificateAuthority.data;
    if (c?.status) facts.status = c.status;
    if (c?.resourcesVpcConfig?.endpointPublicAccess !== undefined)
      facts.endpointPublicAccess = c.resourcesVpcConfig.endpointPublicAccess;
    if (c?.resourcesVpcConfig?.endpointPrivateAccess !== undefined)
      facts.endpointPrivateAccess = c.resourcesVpcConfig.endpointPrivateAccess;
    if (c?.outpostConfig && c.id) facts.localClusterId = c.id;
    return facts;
  } finally {
    eks.destroy();
  }
}
