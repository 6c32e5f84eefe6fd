/**
 * `xeks token` as a library call: from a request and the environment to the ExecCredential text.
 *
 * Order: the cached token (no SDK, no smithy: only node built-ins are loaded on this path), then, in
 * src/token/refresh.ts (imported on a miss only), cached assumed-role credentials (loads the signer only), then
 * the SDK's credential chain and sts:AssumeRole. The library never prints: warnings come back in the result.
 */
import {
  CLUSTER_ID_PATTERN,
  CLUSTER_NAME_PATTERN,
  EXTERNAL_ID_PATTERN,
  REGION_LABEL_PATTERN,
  ROLE_ARN_PATTERN,
} from "../domain/names.js";
import { InputError } from "../errors.js";
import { type CachedToken, type CacheEntry, cacheKey, TokenCache, usableToken } from "./cache.js";
import {
  cacheDirectory,
  defaultSessionName,
  type Env,
  resolveRegion,
  SESSION_NAME_PATTERN,
  sourceIdentity,
  useFips,
} from "./environment.js";
import { chooseApiVersion, renderExecCredential } from "./exec-credential.js";

export interface TokenRequest {
  /** The EKS cluster name (signed as x-k8s-aws-id). Exactly one of clusterName and clusterId. */
  clusterName?: string;
  /** The cluster id of an Outposts local cluster. */
  clusterId?: string;
  region?: string;
  roleArn?: string;
  sessionName?: string;
  externalId?: string;
  /** Use the disk cache (default true). */
  cache?: boolean;
}

export type TokenSource = "cache" | "cached-credentials" | "assume-role" | "base-credentials";

export interface TokenResult {
  /** The ExecCredential JSON text (with a final newline) to print on stdout. */
  output: string;
  apiVersion: string;
  token: string;
  expirationTimestamp: string;
  source: TokenSource;
  region: string;
  /** One-line warnings for stderr (a malformed KUBERNETES_EXEC_INFO, a cache that could not be written). */
  warnings: string[];
  /** Why the cache was not used, for XEKS_DEBUG. */
  notes: string[];
}

// The name patterns are defined once, in the domain layer (shared with the topology schema).
export { CLUSTER_ID_PATTERN, CLUSTER_NAME_PATTERN, EXTERNAL_ID_PATTERN, ROLE_ARN_PATTERN };

/** Check the request; every problem is an InputError issue naming the flag. */
export function validateTokenRequest(req: TokenRequest): void {
  const issues: { path: string; message: string }[] = [];
  if (req.clusterName !== undefined && req.clusterId !== undefined) {
    issues.push({
      path: "--cluster-id",
      message: "give either --cluster-name or --cluster-id (Outposts local clusters), not both",
    });
  } else if (req.clusterName === undefined && req.clusterId === undefined) {
    issues.push({
      path: "--cluster-name",
      message: "required: the EKS cluster name (or --cluster-id for an Outposts local cluster)",
    });
  }
  if (req.clusterName !== undefined && !CLUSTER_NAME_PATTERN.test(req.clusterName)) {
    issues.push({
      path: "--cluster-name",
      message:
        "expected an EKS cluster name: 1-100 letters, digits, - and _, starting with a letter or digit",
    });
  }
  if (req.clusterId !== undefined && !CLUSTER_ID_PATTERN.test(req.clusterId)) {
    issues.push({ path: "--cluster-id", message: "expected an EKS cluster id (letters, digits, - and _)" });
  }
  if (req.region !== undefined && !REGION_LABEL_PATTERN.test(req.region)) {
    issues.push({ path: "--region", message: "expected an AWS region such as ap-south-1" });
  }
  if (req.roleArn !== undefined && !ROLE_ARN_PATTERN.test(req.roleArn)) {
    issues.push({
      path: "--role-arn",
      message: "expected an IAM role ARN such as arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role",
    });
  }
  if (req.sessionName !== undefined) {
    if (req.roleArn === undefined)
      issues.push({ path: "--session-name", message: "only makes sense with --role-arn" });
    else if (!SESSION_NAME_PATTERN.test(req.sessionName)) {
      issues.push({
        path: "--session-name",
        message: "expected 2-64 characters of letters, digits and +=,.@_-",
      });
    }
  }
  if (req.externalId !== undefined) {
    if (req.roleArn === undefined)
      issues.push({ path: "--external-id", message: "only makes sense with --role-arn" });
    else if (!EXTERNAL_ID_PATTERN.test(req.externalId)) {
      issues.push({
        path: "--external-id",
        message: "expected 2-1224 characters of letters, digits and +=,.@:/_-",
      });
    }
  }
  if (issues.length > 0) {
    throw new InputError(
      issues.length === 1 ? `invalid ${issues[0]?.path} for xeks token` : "invalid flags for xeks token",
      issues,
    );
  }
}

/** Produce the ExecCredential for a request. Errors are InputError (exit 2) or OperationError (exit 1). */
export async function getExecCredential(
  req: TokenRequest,
  env: Env = process.env,
  now: () => Date = () => new Date(),
): Promise<TokenResult> {
  validateTokenRequest(req);
  const resolved = resolveRegion(req.region, env);
  if (!resolved) {
    throw new InputError("no AWS region for xeks token", [
      {
        path: "--region",
        message:
          "give --region, set AWS_REGION or AWS_DEFAULT_REGION, or set region in the active profile of ~/.aws/config",
      },
    ]);
  }
  const region = resolved.region;
  if (!REGION_LABEL_PATTERN.test(region)) {
    throw new InputError(
      `invalid region ${JSON.stringify(region)} (from ${resolved.source}) for xeks token`,
      [{ path: "--region", message: "expected an AWS region such as ap-south-1" }],
    );
  }
  const clusterId = (req.clusterId ?? req.clusterName) as string;
  const sessionName = req.roleArn ? (req.sessionName ?? defaultSessionName(env)) : undefined;
  const fips = useFips(env);
  const { apiVersion, warning } = chooseApiVersion(env.KUBERNETES_EXEC_INFO);
  const warnings: string[] = warning ? [warning] : [];
  const notes: string[] = [];
  const useCache = req.cache !== false;
  const fromCache = (hit: CachedToken): TokenResult => ({
    output: renderExecCredential(apiVersion, hit.token, hit.expirationTimestamp),
    apiVersion,
    token: hit.token,
    expirationTimestamp: hit.expirationTimestamp,
    source: "cache",
    region,
    warnings,
    notes,
  });

  let cache: TokenCache | undefined;
  let key = "";
  let entry: CacheEntry | undefined;
  if (useCache) {
    cache = new TokenCache(cacheDirectory(env));
    key = cacheKey([
      1,
      sourceIdentity(env),
      req.roleArn ?? "",
      req.externalId ?? "",
      sessionName ?? "",
      req.clusterId !== undefined ? "id" : "name",
      clusterId,
      region,
      fips,
    ]);
    entry = cache.read(key);
    notes.push(...cache.notes);
    const hit = usableToken(entry, now());
    if (hit) return fromCache(hit);
  }

  // The miss path (lock, credentials, signing, the cache write) is a module of its own, loaded only now.
  const { refreshToken } = await import("./refresh.js");
  return refreshToken({
    req,
    env,
    now,
    region,
    clusterId,
    sessionName,
    fips,
    apiVersion,
    warnings,
    notes,
    cache,
    key,
    entry,
    fromCache,
  });
}
