/**
 * Credentials for signing: the standard chain of the AWS SDK (env, shared config and credentials files with
 * profiles, role_arn/source_profile, SSO, web identity, container, IMDSv2), then optionally sts:AssumeRole
 * into the access role (the one of src/aws/sts.ts). This is the only module of `src/token/` that reaches the
 * SDK (through src/aws, which loads it on first use); it is imported lazily, so a cached `xeks token` never
 * pays for it.
 */
import { credentialProvider } from "../aws/credentials.js";
import { awsErrorHint, classifyAwsError, credentialsNotLoaded } from "../aws/errors.js";
import { rememberCredentials } from "../aws/redact.js";
import {
  AWS_CONNECT_TIMEOUT_MS,
  boundedRequestHandler,
  DEFAULT_AWS_TIMEOUT_MS,
  silentLogger,
} from "../aws/sdk.js";
import { assumeRole as assumeStsRole, stsClient } from "../aws/sts.js";
import { OperationError } from "../errors.js";
import type { SigningCredentials } from "./generate.js";

/** What the SDK's providers resolve to. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

function toSigning(c: AwsCredentialIdentity): SigningCredentials {
  const out: SigningCredentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  if (c.sessionToken) out.sessionToken = c.sessionToken;
  if (c.expiration) out.expiration = c.expiration;
  return out;
}

/** Attempts per AWS call: one retry for a transient failure, no more (kubectl waits on us). */
export const AWS_MAX_ATTEMPTS = 2;

/**
 * Bounded HTTP for the token's and kubeconfig's SDK clients: AWS_MAX_ATTEMPTS attempts per call, each ended
 * after `timeoutMs` whatever the endpoint does (connect, send, headers and body: src/aws/sdk.ts
 * `boundedRequestHandler`). Without it an endpoint that accepts and never answers, or answers a byte at a
 * time, holds `xeks token`, and kubectl with it, forever. One call: at most 2 × `timeoutMs` plus the SDK's
 * back-off (about 0.1 s).
 */
export function awsClientConfig(timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS) {
  return {
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: boundedRequestHandler(timeoutMs),
  };
}

/**
 * The base credential provider (the SDK's default chain, or a profile), quiet and with bounded HTTP
 * (AWS_MAX_ATTEMPTS attempts of `timeoutMs` each for its own STS/SSO calls). What it resolves, and the source
 * credentials of a role_arn profile, are remembered for redaction: src/aws/credentials.ts.
 */
export function baseCredentialProvider(
  options: { region?: string; profile?: string; timeoutMs?: number } = {},
): AwsCredentialIdentityProvider {
  return credentialProvider({
    profile: options.profile,
    region: options.region,
    timeoutMs: options.timeoutMs,
    requestHandler: boundedRequestHandler(options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS),
    maxAttempts: AWS_MAX_ATTEMPTS,
  });
}

/** A timeout of the HTTP handler (connect or request), as opposed to an answer. */
export function isTimeoutError(err: unknown): boolean {
  return classifyAwsError(err).kind === "timeout";
}

/** One line for an SDK error; a timeout says which limit was hit instead of smithy's text. */
export function describeSdkError(err: unknown, timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS): string {
  const e = err as { name?: string; Code?: string; message?: string; code?: string };
  const message = (e?.message ?? String(err)).split("\n")[0] ?? "";
  if (isTimeoutError(err)) {
    const what = /without establishing a connection/.test(message)
      ? `could not connect within ${Math.min(AWS_CONNECT_TIMEOUT_MS, timeoutMs)} ms`
      : `no answer within ${timeoutMs} ms`;
    return `timed out: ${what} (${AWS_MAX_ATTEMPTS} attempts)`;
  }
  const name = e?.Code ?? e?.name ?? "Error";
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

/** The hint for a timed-out call to `service`. */
export function timeoutHint(service: string): string {
  return (
    `check the network path to ${service.toUpperCase()} (AWS_ENDPOINT_URL_${service.toUpperCase()} / AWS_ENDPOINT_URL, ` +
    "a VPC endpoint, the route and security group); XEKS_AWS_TIMEOUT_MS sets the per-request limit in ms"
  );
}

/** Resolve the base credentials, or fail with a message that says where they are looked for. */
export async function resolveBaseCredentials(
  options: {
    region?: string;
    profile?: string;
    timeoutMs?: number;
    provider?: AwsCredentialIdentityProvider;
  } = {},
): Promise<SigningCredentials> {
  const provider = options.provider ?? baseCredentialProvider(options);
  try {
    return toSigning(rememberCredentials(await provider()));
  } catch (err) {
    if (isTimeoutError(err)) {
      throw new OperationError(
        `could not load AWS credentials: ${describeSdkError(err, options.timeoutMs)}`,
        timeoutHint("sts"),
      );
    }
    const info = classifyAwsError(err);
    throw new OperationError(
      `could not load AWS credentials: ${describeSdkError(err)}`,
      info.network || info.kind === "notAws"
        ? awsErrorHint(info.kind, { service: "sts" })
        : "xeks looks where the AWS CLI does: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/config " +
            "(including SSO and role_arn profiles), web identity, the container endpoint and the EC2 instance profile.",
    );
  }
}

export interface AssumeRoleOptions {
  roleArn: string;
  sessionName: string;
  externalId?: string;
  /** The region whose STS endpoint is called (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL take precedence). */
  region: string;
  /** Base credentials; default the SDK's chain. */
  credentials?: AwsCredentialIdentityProvider;
  /** Requested session length in seconds; default STS's one hour (the most role chaining allows). */
  durationSeconds?: number;
  /** Per-request HTTP timeout in ms (default 10 s; XEKS_AWS_TIMEOUT_MS via awsTimeoutMs). */
  timeoutMs?: number;
}

/** sts:AssumeRole with the base credentials. The result always has a session token and an expiry. */
export async function assumeRole(
  options: AssumeRoleOptions,
): Promise<SigningCredentials & { sessionToken: string; expiration: Date }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS;
  const client = stsClient({
    region: options.region,
    credentials: options.credentials ?? baseCredentialProvider({ region: options.region, timeoutMs }),
    logger: silentLogger,
    ...awsClientConfig(timeoutMs),
  });
  try {
    const c = await assumeStsRole(client, {
      roleArn: options.roleArn,
      sessionName: options.sessionName,
      ...(options.externalId ? { externalId: options.externalId } : {}),
      ...(options.durationSeconds ? { durationSeconds: options.durationSeconds } : {}),
    });
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration,
    };
  } catch (err) {
    // An answer without complete credentials (src/aws/sts.ts): its message as it is.
    if ((err as Error)?.name === "NoCredentials") throw new OperationError((err as Error).message);
    if (isTimeoutError(err)) {
      throw new OperationError(
        `could not assume role ${options.roleArn}: ${describeSdkError(err, timeoutMs)}`,
        timeoutHint("sts"),
      );
    }
    // The one classifier and table of hints (src/aws/errors.ts): the trust policy only when STS denied.
    const info = classifyAwsError(err);
    if (credentialsNotLoaded(info)) {
      throw new OperationError(
        `could not load AWS credentials to assume ${options.roleArn}: ${describeSdkError(err)}`,
        "xeks looks where the AWS CLI does: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/config " +
          "(including SSO and role_arn profiles), web identity, the container endpoint and the EC2 instance profile.",
      );
    }
    throw new OperationError(
      `could not assume role ${options.roleArn}: ${describeSdkError(err)}`,
      info.kind === "denied"
        ? "check that the base identity may sts:AssumeRole on it, that the role trusts that identity, and the external id."
        : (awsErrorHint(info.kind, { operation: "sts:AssumeRole" }) ??
            "check the role ARN and the external id (aws sts assume-role shows STS's answer)."),
    );
  } finally {
    client.destroy();
  }
}
