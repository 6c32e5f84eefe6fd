/**
 * The one sts:GetCallerIdentity and the one sts:AssumeRole of xeks, used by deploy (src/aws/deploy.ts), doctor
 * and discover (src/aws/session.ts `whoAmI`), the probe (src/probe/aws.ts), `xeks token` and kubeconfig
 * (src/token/credentials.ts). The caller brings its own STS client (its credentials, endpoint, attempts and
 * timeouts; `stsClient` makes one) and classifies the error it throws with src/aws/errors.ts. The SDK is loaded
 * on first use (CommonJS bundle, as in src/aws/credentials.ts), so importing this module costs nothing: the
 * token command's bundle reaches it only on a cache miss.
 *
 * Source of each fact: the STS API reference, GetCallerIdentity (Account, Arn, UserId) and AssumeRole
 * (Credentials: AccessKeyId, SecretAccessKey, SessionToken, Expiration; AssumedRoleUser.Arn).
 */
import { createRequire } from "node:module";
import type { STSClient, STSClientConfig } from "@aws-sdk/client-sts";
import { rememberCredentials } from "./redact.js";

const require = createRequire(import.meta.url);

function sdk(): typeof import("@aws-sdk/client-sts") {
  return require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
}

/** What sends an STS command: an STSClient. */
export type StsSender = Pick<STSClient, "send">;

/** An STS client with this configuration (region, credentials, logger, handler, attempts, endpoint). */
export function stsClient(config: STSClientConfig): STSClient {
  return new (sdk().STSClient)(config);
}

/** Who a set of credentials is (sts:GetCallerIdentity); a field STS leaves out is "". */
export interface StsIdentity {
  account: string;
  arn: string;
  /** The principal's unique id (AIDA…, or AROA…:SESSION for a role session). */
  userId: string;
}

/** sts:GetCallerIdentity (needs no permission). Throws the SDK's error as it is. */
export async function getCallerIdentity(
  sts: StsSender,
  options: { abortSignal?: AbortSignal } = {},
): Promise<StsIdentity> {
  const { GetCallerIdentityCommand } = sdk();
  const out = await sts.send(
    new GetCallerIdentityCommand({}),
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  );
  return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
}

/** What to assume. */
export interface AssumeRoleRequest {
  roleArn: string;
  /** RoleSessionName: 2-64 of [\w+=,.@-]. */
  sessionName: string;
  /** Sent as ExternalId when given. */
  externalId?: string;
  /** Requested session length in seconds; default STS's (one hour). */
  durationSeconds?: number;
}

/** The role session STS returned. */
export interface AssumedRole {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** AssumedRoleUser.Arn, when STS reported it: arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  assumedRoleArn?: string;
}

/**
 * sts:AssumeRole with the client's credentials. The credentials returned are remembered for redaction
 * (src/aws/redact.ts). Throws the SDK's error as it is; an answer without complete credentials is an error
 * named `NoCredentials` ("sts:AssumeRole on ROLE returned no credentials").
 */
export async function assumeRole(
  sts: StsSender,
  request: AssumeRoleRequest,
  options: { abortSignal?: AbortSignal } = {},
): Promise<AssumedRole> {
  const { AssumeRoleCommand } = sdk();
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: request.roleArn,
      RoleSessionName: request.sessionName,
      ...(request.externalId ? { ExternalId: request.externalId } : {}),
      ...(request.durationSeconds ? { DurationSeconds: request.durationSeconds } : {}),
    }),
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  );
  const c = rememberCredentials(out.Credentials);
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw Object.assign(new Error(`sts:AssumeRole on ${request.roleArn} returned no credentials`), {
      name: "NoCredentials",
    });
  }
  const result: AssumedRole = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: new Date(c.Expiration),
  };
  if (out.AssumedRoleUser?.Arn) result.assumedRoleArn = out.AssumedRoleUser.Arn;
  return result;
}
