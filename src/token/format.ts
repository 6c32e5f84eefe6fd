/**
 * The EKS bearer token's wire format (docs/token.md, spec token-and-access.md §1): constants, base64url, the
 * STS host of a region and the query order `aws eks get-token` produces. No dependencies, so the cached path
 * of `xeks token` can use it without loading the AWS SDK.
 */

/** Every EKS token starts with this. */
export const TOKEN_PREFIX = "k8s-aws-v1.";
/** The signed header that binds a token to one cluster (its name, or its id for Outposts local clusters). */
export const CLUSTER_ID_HEADER = "x-k8s-aws-id";
/** Legacy presign lifetime; STS ignores it and accepts the URL for 15 minutes after X-Amz-Date. */
export const URL_TIMEOUT_SECONDS = 60;
/** STS accepts a presigned GetCallerIdentity URL this long after its X-Amz-Date. */
export const TOKEN_VALIDITY_MS = 15 * 60_000;
/** What `aws eks get-token` announces as expirationTimestamp: 14 minutes after signing. */
export const TOKEN_LIFETIME_MS = 14 * 60_000;
/** A verifier's length limit (aws-iam-authenticator `maxTokenLenBytes`). */
export const MAX_TOKEN_LENGTH = 4096;
export const STS_API_VERSION = "2011-06-15";

/**
 * Query parameters in the order aws-cli (botocore) writes them; with it our token is byte-identical to
 * `aws eks get-token` for the same credentials and clock.
 */
export const QUERY_ORDER = [
  "Action",
  "Version",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
] as const;

import { PARTITION_DOMAINS, partitionOf as partitionOfRegion } from "../domain/arn.js";

/** A region name as the verifier accepts it: `^[[:alnum:]]([[:alnum:]-]*[[:alnum:]])?$`. */
export { REGION_LABEL_PATTERN as REGION_PATTERN } from "../domain/names.js";
export { PARTITION_DOMAINS, partitionOfRegion };

/**
 * The regional STS host a token is presigned for: `sts.<region>.<partition domain>`, or
 * `sts-fips.<region>...` when FIPS endpoints are asked for. Never a custom endpoint (docs/token.md).
 */
export function stsHost(region: string, options: { fips?: boolean } = {}): string {
  const domain = PARTITION_DOMAINS[partitionOfRegion(region)]?.[0] ?? "amazonaws.com";
  return `${options.fips ? "sts-fips" : "sts"}.${region}.${domain}`;
}

/** base64url without padding, as the token uses. */
export function base64UrlEncode(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** RFC 3986 escaping as botocore does it (only A-Z a-z 0-9 - _ . ~ stay). */
export function escapeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Build `https://HOST/?k=v&...` with the parameters in QUERY_ORDER (unknown ones after, sorted). */
export function buildPresignedUrl(host: string, query: Readonly<Record<string, string>>): string {
  const keys = Object.keys(query);
  const ordered = [
    ...QUERY_ORDER.filter((k) => k in query),
    ...keys.filter((k) => !(QUERY_ORDER as readonly string[]).includes(k)).sort(),
  ];
  const pairs = ordered.map((k) => `${escapeQueryValue(k)}=${escapeQueryValue(query[k] ?? "")}`);
  return `https://${host}/?${pairs.join("&")}`;
}

/** The token for a presigned URL. */
export function encodeToken(presignedUrl: string): string {
  return TOKEN_PREFIX + base64UrlEncode(presignedUrl);
}

/** `%Y-%m-%dT%H:%M:%SZ` in UTC (no fraction), as aws-cli formats expirationTimestamp. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * When the token stops being usable: 14 minutes after signing, or earlier when the signing credentials
 * expire first (an expired session makes STS reject the replay; teleport#50072).
 */
export function tokenExpiration(signedAt: Date, credentialsExpiration?: Date): Date {
  const byLifetime = signedAt.getTime() + TOKEN_LIFETIME_MS;
  const byCredentials = credentialsExpiration?.getTime() ?? Number.POSITIVE_INFINITY;
  return new Date(Math.min(byLifetime, byCredentials));
}
