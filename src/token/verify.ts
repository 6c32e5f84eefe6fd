/**
 * Offline verification of an EKS bearer token, the way the server side (aws-iam-authenticator `Verify`)
 * checks it before replaying it to STS: spec token-and-access.md §3, checks 1 to 12. The SigV4 signature
 * itself cannot be checked without the signer's secret (§3.4); the replay to STS (checks 13-14) is not done.
 *
 * `verifyToken` never throws: every problem is a failure naming the check.
 */
import {
  CLUSTER_ID_HEADER,
  MAX_TOKEN_LENGTH,
  PARTITION_DOMAINS,
  partitionOfRegion,
  REGION_PATTERN,
  TOKEN_PREFIX,
  TOKEN_VALIDITY_MS,
} from "./format.js";

/** The checks, in the order they run. */
export const VERIFY_CHECKS = [
  "length",
  "prefix",
  "encoding",
  "url",
  "scheme",
  "host",
  "path",
  "query",
  "action",
  "signed-headers",
  "expires",
  "date",
  "expired",
] as const;

export type VerifyCheck = (typeof VERIFY_CHECKS)[number] | "internal";

/** The spec's check number (token-and-access.md §3) for each check name. */
export const CHECK_NUMBERS: Readonly<Record<VerifyCheck, number>> = {
  length: 1,
  prefix: 2,
  encoding: 3,
  url: 4,
  scheme: 5,
  host: 6,
  path: 7,
  query: 8,
  action: 9,
  "signed-headers": 10,
  expires: 11,
  date: 12,
  expired: 12,
  internal: 0,
};

/** Query parameter names a token may carry (compared case-insensitively). */
const ALLOWED_PARAMETERS: ReadonlySet<string> = new Set([
  "action",
  "version",
  "x-amz-algorithm",
  "x-amz-credential",
  "x-amz-date",
  "x-amz-expires",
  "x-amz-security-token",
  "x-amz-signature",
  "x-amz-signedheaders",
]);

/** The parts of X-Amz-Credential: `AKID/yyyymmdd/region/service/aws4_request`. */
export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export interface TokenFields {
  /** The decoded presigned URL. It holds the session token of temporary credentials: do not log it. */
  url: string;
  host: string;
  /** The STS region from the host (`global` for sts.amazonaws.com). */
  stsRegion: string;
  partition: string;
  fips: boolean;
  dualStack: boolean;
  /** Access key id: X-Amz-Credential up to its first `/` (empty when the parameter is absent). */
  accessKeyId: string;
  /** The credential scope when X-Amz-Credential has the standard five parts. */
  credential?: CredentialScope;
  /** X-Amz-Date as written and as a Date. */
  amzDate: string;
  date: Date;
  /** X-Amz-Expires (seconds). STS ignores it: the URL is accepted until date + 15 min. */
  expiresSeconds: number;
  /** When a server stops accepting the token: date + 15 min. */
  validUntil: Date;
  /** X-Amz-SignedHeaders split on `;`, lower-cased. */
  signedHeaders: string[];
  /** True when the token carries X-Amz-Security-Token (temporary credentials: ASIA... keys). */
  temporary: boolean;
  algorithm?: string;
  signature?: string;
  version?: string;
}

export type VerifyResult =
  | { ok: true; fields: TokenFields }
  | { ok: false; check: VerifyCheck; checkNumber: number; message: string };

export interface VerifyOptions {
  /** The verifier's clock. */
  now: Date;
  /**
   * The server's partition (`aws`, `aws-cn`, ...). When set, only hosts of that partition pass, as on an
   * EKS control plane; when unset, a host passes if its domain belongs to its region's partition.
   */
  partition?: string;
}

function fail(check: VerifyCheck, message: string): VerifyResult {
  return { ok: false, check, checkNumber: CHECK_NUMBERS[check], message };
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parse `20060102T150405Z` strictly (a real calendar date and time), else undefined. */
function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return date;
}

/** Percent-decode one query component as Go's url.QueryUnescape does (`+` is a space). */
function queryUnescape(text: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return undefined;
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

interface HostInfo {
  stsRegion: string;
  partition: string;
  fips: boolean;
  dualStack: boolean;
}

function checkHost(host: string, options: VerifyOptions): HostInfo | string {
  if (host === "sts.amazonaws.com") {
    if (options.partition && options.partition !== "aws") {
      return `the global endpoint sts.amazonaws.com belongs to partition aws, not ${options.partition}`;
    }
    return { stsRegion: "global", partition: "aws", fips: false, dualStack: false };
  }
  const labels = host.split(".");
  if (labels.length < 4) return `host ${host} is not an STS endpoint (sts.<region>.<partition domain>)`;
  const [service, region] = labels as [string, string];
  if (service !== "sts" && service !== "sts-fips") {
    return `host ${host} is not an STS endpoint (sts.<region>.<partition domain>)`;
  }
  if (!REGION_PATTERN.test(region)) return `host ${host} has an invalid region label`;
  const domain = labels.slice(2).join(".");
  const partition = partitionOfRegion(region);
  if (options.partition && options.partition !== partition) {
    return `host ${host} is in partition ${partition}, not the server's partition ${options.partition}`;
  }
  const domains = PARTITION_DOMAINS[partition] ?? [];
  if (!domains.includes(domain)) {
    return `host ${host}: ${domain} is not a domain of partition ${partition} (${domains.join(", ")})`;
  }
  return { stsRegion: region, partition, fips: service === "sts-fips", dualStack: domain !== domains[0] };
}

function verify(token: unknown, options: VerifyOptions): VerifyResult {
  // 1. length
  if (typeof token !== "string") return fail("length", "the token is not a string");
  if (token.length > MAX_TOKEN_LENGTH) {
    return fail(
      "length",
      `the token is ${token.length} bytes, more than the ${MAX_TOKEN_LENGTH} a server accepts`,
    );
  }
  // 2. prefix
  if (!token.startsWith(TOKEN_PREFIX)) return fail("prefix", `the token does not start with ${TOKEN_PREFIX}`);
  // 3. base64url, no padding
  const body = token.slice(TOKEN_PREFIX.length);
  if (body.length === 0) return fail("encoding", "the token has nothing after its prefix");
  if (!BASE64URL.test(body)) {
    return fail(
      "encoding",
      "the token is not base64url without padding (only A-Z a-z 0-9 - _ are allowed, no = padding)",
    );
  }
  if (body.length % 4 === 1) return fail("encoding", "the token's base64url text has an impossible length");
  const decoded = Buffer.from(body, "base64url").toString("utf8");
  // 4. URL parse
  let url: URL;
  try {
    url = new URL(decoded);
  } catch {
    return fail("url", "the decoded token is not a URL");
  }
  // 5. scheme
  if (url.protocol !== "https:")
    return fail("scheme", `the URL scheme is ${url.protocol.replace(/:$/, "")}, not https`);
  // 6. host
  if (url.username || url.password) return fail("host", "the URL carries user information");
  if (url.port) return fail("host", `the URL names a port (${url.port}); STS endpoints have none`);
  const hostInfo = checkHost(url.hostname, options);
  if (typeof hostInfo === "string") return fail("host", hostInfo);
  // 7. path, exactly "/" as written (no normalisation)
  const rawPath = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(decoded)?.[1] ?? "";
  if (rawPath !== "/") return fail("path", `the URL path is ${JSON.stringify(rawPath)}, not "/"`);
  // 8. query: parse, allow-list, no duplicates (case-insensitive), one value each
  const queryStart = decoded.indexOf("?");
  const hashStart = decoded.indexOf("#");
  const rawQuery =
    queryStart < 0 ? "" : decoded.slice(queryStart + 1, hashStart > queryStart ? hashStart : undefined);
  const params = new Map<string, string>();
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    if (pair.includes(";")) return fail("query", "the query contains a semicolon");
    const eq = pair.indexOf("=");
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = queryUnescape(eq < 0 ? "" : pair.slice(eq + 1));
    if (key === undefined || value === undefined) return fail("query", "the query has an invalid %-escape");
    const lower = key.toLowerCase();
    if (!ALLOWED_PARAMETERS.has(lower))
      return fail("query", `the query parameter ${JSON.stringify(key)} is not allowed`);
    if (params.has(lower)) {
      return fail(
        "query",
        `the query parameter ${JSON.stringify(key)} appears more than once (case-insensitively)`,
      );
    }
    params.set(lower, value);
  }
  // 9. action
  const action = params.get("action");
  if (action !== "GetCallerIdentity") {
    return fail(
      "action",
      `the action is ${action === undefined ? "missing" : JSON.stringify(action)}, not GetCallerIdentity`,
    );
  }
  // 10. signed headers include x-k8s-aws-id
  const signedHeaders = (params.get("x-amz-signedheaders") ?? "")
    .split(";")
    .filter((h) => h !== "")
    .map((h) => h.toLowerCase());
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) {
    return fail("signed-headers", `X-Amz-SignedHeaders does not include ${CLUSTER_ID_HEADER}`);
  }
  // 11. x-amz-expires in [0, 900]
  const expiresText = params.get("x-amz-expires");
  if (expiresText === undefined) return fail("expires", "X-Amz-Expires is missing");
  if (!/^[+-]?\d{1,18}$/.test(expiresText)) return fail("expires", "X-Amz-Expires is not an integer");
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds < 0 || expiresSeconds > 900) {
    return fail("expires", `X-Amz-Expires is ${expiresSeconds}, outside [0, 900]`);
  }
  // 12. x-amz-date layout, then not older than 15 minutes
  const amzDate = params.get("x-amz-date");
  if (amzDate === undefined) return fail("date", "X-Amz-Date is missing");
  const date = parseAmzDate(amzDate);
  if (!date) return fail("date", "X-Amz-Date is not in the layout yyyymmddTHHMMSSZ");
  const validUntil = new Date(date.getTime() + TOKEN_VALIDITY_MS);
  if (options.now.getTime() > validUntil.getTime()) {
    return fail("expired", `the token expired at ${validUntil.toISOString()} (15 minutes after X-Amz-Date)`);
  }

  const credentialText = params.get("x-amz-credential") ?? "";
  const slash = credentialText.indexOf("/");
  const accessKeyId = slash < 0 ? credentialText : credentialText.slice(0, slash);
  const scopeParts = credentialText.split("/");
  const credential =
    scopeParts.length === 5 && scopeParts[4] === "aws4_request"
      ? {
          accessKeyId: scopeParts[0] ?? "",
          date: scopeParts[1] ?? "",
          region: scopeParts[2] ?? "",
          service: scopeParts[3] ?? "",
        }
      : undefined;
  const fields: TokenFields = {
    url: decoded,
    host: url.hostname,
    ...hostInfo,
    accessKeyId,
    amzDate,
    date,
    expiresSeconds,
    validUntil,
    signedHeaders,
    temporary: params.has("x-amz-security-token"),
  };
  if (credential) fields.credential = credential;
  const algorithm = params.get("x-amz-algorithm");
  if (algorithm !== undefined) fields.algorithm = algorithm;
  const signature = params.get("x-amz-signature");
  if (signature !== undefined) fields.signature = signature;
  const version = params.get("version");
  if (version !== undefined) fields.version = version;
  return { ok: true, fields };
}

/** Check a token as an EKS control plane would before asking STS. Never throws. */
export function verifyToken(token: unknown, options: VerifyOptions): VerifyResult {
  try {
    if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
      return fail("internal", "verifyToken needs options.now, a valid Date");
    }
    return verify(token, options);
  } catch (err) {
    return fail("internal", `unexpected error: ${(err as Error)?.message ?? String(err)}`);
  }
}
