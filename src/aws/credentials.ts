/**
 * The one way xeks gets credentials for a profile or for the ambient default chain: `credentialProvider`.
 * deploy (src/deploy/credentials.ts), doctor and discover (src/aws/session.ts), `xeks token`,
 * kubeconfig and the probe (src/token/credentials.ts) all build their providers here, so every provider is
 * quiet, bounded, and feeds the redaction registry (src/aws/redact.ts) with every secret it handles, including
 * the ones the SDK resolves internally and never returns:
 *
 * - the resolved credentials (what the caller signs with);
 * - the source credentials of a `role_arn` profile (a `source_profile`'s keys, a `credential_process`'s output,
 *   the environment of `credential_source = Environment`, intermediate roles of a chain) and the credentials
 *   sts:AssumeRole returns for each hop: @aws-sdk/credential-provider-ini calls `roleAssumer(sourceCreds,
 *   params)` for each hop, and here that assumer is the SDK's own (`getDefaultRoleAssumer` of
 *   @aws-sdk/client-sts, which the SDK uses when none is given) wrapped to remember both sides;
 * - the web identity token of `AssumeRoleWithWebIdentity` (`roleAssumerWithWebIdentity`, same wrapping);
 * - as a second net, every `aws_secret_access_key`, `aws_session_token` and `aws_security_token` value of the
 *   shared config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and
 *   ~/.aws/credentials), read once per file and process when the first provider is built, before any AWS call
 *   (a few KB of text; a FIFO, a device or a file over 4 MiB is ignored: src/files `readOptionalFile`).
 *
 * The SDK is loaded on first use (CommonJS bundles, as in src/token/credentials.ts): the token command's
 * bundle reaches this module only on a cache miss.
 */

import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { READ_LIMITS, readOptionalFile } from "../files/index.js";
import { rememberCredentials, rememberingProvider, rememberSecret } from "./redact.js";
import { boundedRequestHandler, DEFAULT_AWS_TIMEOUT_MS, silentLogger } from "./sdk.js";

const require = createRequire(import.meta.url);

/** How to build a credential provider. */
export interface CredentialProviderOptions {
  /**
   * A profile of the shared config and credentials files (resolved by the SDK's `fromIni`: static keys,
   * `role_arn` with `source_profile` or `credential_source`, `credential_process`, SSO, web identity; no
   * fallback to the environment or the instance role), or undefined (or "") for the SDK's default chain
   * (`fromNodeProviderChain`: environment, AWS_PROFILE, SSO, web identity, container, IMDS).
   */
  profile?: string | undefined;
  /** Region of the STS and SSO clients the providers make themselves (role_arn, SSO, web identity). */
  region?: string | undefined;
  /** Per-request HTTP timeout of those clients in ms (default 10 000: src/aws/sdk.ts). */
  timeoutMs?: number | undefined;
  /** The request handler of those clients; default `boundedRequestHandler(timeoutMs)` (src/aws/sdk.ts). */
  requestHandler?: Record<string, unknown> | undefined;
  /** Attempts per request of those clients; default the SDK's (3). */
  maxAttempts?: number | undefined;
}

/** Credentials are resolved again when they expire within this many ms (as the SDK's memoization does). */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * A credential provider for `options.profile` (or the default chain), quiet (a plain silent logger: without
 * one the chain warns through console.warn, e.g. when AWS_PROFILE and AWS_ACCESS_KEY_ID are both set), with
 * its own STS/SSO clients bounded like every xeks client, memoized until five minutes before expiry (a role
 * is assumed once per provider, not once per client using it), and remembering for redaction every secret it
 * resolves or handles on the way (see the module comment). Errors are the SDK's (CredentialsProviderError,
 * an STS error of a role_arn hop, a TimeoutError); nothing is resolved before the first call.
 */
export function credentialProvider(options: CredentialProviderOptions = {}): AwsCredentialIdentityProvider {
  rememberSharedFileSecrets();
  // The region goes to the STS assumers only: the SDK's IAM Identity Center client takes `clientConfig.region`
  // before the profile's `sso_region`, and would send a sign-in to the portal of the cluster's region.
  const clientConfig = {
    logger: silentLogger,
    requestHandler:
      options.requestHandler ?? boundedRequestHandler(options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
  const stsConfig = { ...clientConfig, ...(options.region ? { region: options.region } : {}) };
  const init = {
    logger: silentLogger,
    clientConfig,
    roleAssumer: rememberingRoleAssumer(stsConfig),
    roleAssumerWithWebIdentity: rememberingWebIdentityAssumer(stsConfig),
  };
  const { fromIni, fromNodeProviderChain } =
    require("@aws-sdk/credential-providers") as typeof import("@aws-sdk/credential-providers");
  if (!options.profile) {
    // The chain memoizes what it resolves (and refreshes it before expiry) itself.
    return rememberingProvider(fromNodeProviderChain(init));
  }
  return memoizeProvider(rememberingProvider(fromIni({ ...init, profile: options.profile })));
}

type SdkClientConfig = Record<string, unknown>;

/**
 * The options of the SDK's default assumers: what the SDK itself passes when no assumer is given
 * (`...clientConfig, credentialProviderLogger`). The assumer spreads them into its STSClient, so maxAttempts
 * reaches it too (the type names only a few keys). Without a region here it falls back to AWS_REGION, the
 * profile's region, then us-east-1 (client-sts `resolveRegion`).
 */
function stsOptions(clientConfig: SdkClientConfig) {
  return {
    ...clientConfig,
    credentialProviderLogger: silentLogger,
  } as import("@aws-sdk/client-sts").STSClientConfig & { credentialProviderLogger: typeof silentLogger };
}

type RoleAssumer = (
  source: AwsCredentialIdentity,
  params: import("@aws-sdk/client-sts").AssumeRoleCommandInput,
) => Promise<AwsCredentialIdentity>;

/** The SDK's role assumer, remembering the source credentials and the assumed ones. */
function rememberingRoleAssumer(clientConfig: SdkClientConfig): RoleAssumer {
  let assume: RoleAssumer | undefined;
  return async (source, params) => {
    rememberCredentials(source);
    assume ??= (require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts")).getDefaultRoleAssumer(
      stsOptions(clientConfig),
    ) as RoleAssumer;
    return rememberCredentials(await assume(source, params));
  };
}

type WebIdentityAssumer = (
  params: import("@aws-sdk/client-sts").AssumeRoleWithWebIdentityCommandInput,
) => Promise<AwsCredentialIdentity>;

/** The SDK's web identity assumer, remembering the web identity token and the credentials it returns. */
function rememberingWebIdentityAssumer(clientConfig: SdkClientConfig): WebIdentityAssumer {
  let assume: WebIdentityAssumer | undefined;
  return async (params) => {
    rememberSecret(params.WebIdentityToken);
    assume ??= (
      require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts")
    ).getDefaultRoleAssumerWithWebIdentity(stsOptions(clientConfig)) as WebIdentityAssumer;
    return rememberCredentials(await assume(params));
  };
}

/**
 * One resolution shared by every caller until five minutes before expiry (the first caller to see it near
 * resolves again, the others share that); a failure is not kept. Used here for profiles and by deploy
 * (src/deploy/credentials.ts) for every set of credentials.
 */
export function memoizeProvider(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const resolve = (): Promise<AwsCredentialIdentity> => {
    const p = provider();
    pending = p;
    p.catch(() => {
      if (pending === p) pending = undefined;
    });
    return p;
  };
  return async () => {
    if (!pending) return resolve();
    const current = pending;
    const c = await current;
    if (c.expiration && c.expiration.getTime() - Date.now() < REFRESH_BEFORE_MS) {
      // The first caller to see the expiry resolves again; the others share its promise.
      return pending === current ? resolve() : (pending ?? resolve());
    }
    return c;
  };
}

// ---- the second net: secrets written in the shared files ------------------------------------------------

/** Keys whose values are secrets in the shared config and credentials files. */
const SECRET_KEY_LINE =
  /^[ \t]*(?:aws_secret_access_key|aws_session_token|aws_security_token)[ \t]*=[ \t]*(\S.*?)[ \t]*\r?$/gim;

const scanned = new Set<string>();

/** A path as the SDK expands it: `~/` is the home directory. */
function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith("~/") ? join(env.HOME || homedir(), path.slice(2)) : path;
}

/**
 * Remember every secret value written in the shared config and credentials files (AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials, where HOME is the home directory),
 * whichever profile they belong to: an endpoint may echo the secrets of a `source_profile` even when the
 * provider failed before returning anything. Each file is read once per process; a missing, unreadable or
 * irregular file, or one over 4 MiB, is skipped (src/files `readOptionalFile`). Never throws.
 */
export function rememberSharedFileSecrets(env: NodeJS.ProcessEnv = process.env): void {
  const home = env.HOME || homedir();
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"),
    env.AWS_CONFIG_FILE || join(home, ".aws", "config"),
  ];
  for (const raw of files) {
    const path = expandHome(raw, env);
    if (scanned.has(path)) continue;
    scanned.add(path);
    const text = readOptionalFile(path, READ_LIMITS.awsConfig);
    if (text === undefined) continue;
    for (const m of text.matchAll(SECRET_KEY_LINE)) rememberSecret(m[1]);
  }
}
