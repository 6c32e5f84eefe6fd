/**
 * The one classifier of AWS, SDK and network errors, and the one table of hints per kind. Every command that
 * calls AWS (deploy, diff, destroy, doctor, discover, kubeconfig, probe, the token's cold path) reduces an error
 * to an {@link AwsErrorFacts} here and takes its hint from {@link awsErrorHint}, so the same error gets the
 * same words everywhere and a hint never names a cause the error does not show (a refused connection is not a
 * trust policy; an HTML page is not a missing permission; a missing cluster is not a missing permission).
 *
 * No SDK import: the token's cold path loads this module (its warm path never does).
 *
 * Sources of the codes: the AWS SDK for JavaScript v3 error shapes (`name`, `$metadata.httpStatusCode`,
 * `$response`, `$fault`), the "Common Errors" pages of the EC2, IAM, STS and EKS API references, and Node's
 * system errors (`code` ECONNREFUSED, ENOTFOUND, ...). An HTML or other non-AWS body makes the SDK throw its
 * deserialization error ("Unexpected token '<' ... is not valid JSON", "XML parse error", "Deserialization
 * error"), or an `Unknown`/`NotFound` error whose response is `text/html`.
 */

/**
 * What went wrong, for a message and its hint:
 * - `denied`: IAM (or an SCP, a boundary, a VPC endpoint policy) refused the call;
 * - `notFound`: the named thing does not exist (for these credentials, in this account and region);
 * - `throttled`: AWS asked to slow down;
 * - `credentials`: no credentials, or credentials AWS does not accept (expired, unknown key, bad signature);
 * - `refused`: the connection was refused, reset or unroutable (no AWS answer);
 * - `timeout`: no answer in time (connect or request timeout, the request deadline, the watchdog, an abort);
 * - `dns`: the endpoint's host name does not resolve;
 * - `notAws`: something answered, but not an AWS API (an HTML page, a body that is neither AWS JSON nor XML);
 * - `other`: an AWS answer of another kind (validation, conflict, a service fault, ...).
 */
export type AwsErrorKind =
  | "denied"
  | "notFound"
  | "throttled"
  | "credentials"
  | "refused"
  | "timeout"
  | "dns"
  | "notAws"
  | "other";

/** An AWS error reduced to what messages need. */
export interface AwsErrorFacts {
  kind: AwsErrorKind;
  /** The AWS error code (AccessDenied, ResourceNotFoundException, ...), or Node's (ECONNREFUSED), or the name. */
  code: string;
  /** The first line of the message (bound it for a one-line report: AWS messages can carry encoded details). */
  message: string;
  /** The HTTP status, when something answered. */
  status?: number;
  /** True when nothing answered: `refused`, `timeout` or `dns`. */
  network: boolean;
}

const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "Client.UnauthorizedOperation",
  "UnauthorizedException",
  "AuthorizationError",
  "OptInRequired",
]);

const CREDENTIALS = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "AuthFailure",
  "InvalidToken",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
  "CredentialsError",
  "TokenProviderError",
  "NoCredentials",
]);

const NOT_FOUND = new Set([
  "NoSuchEntity",
  "NoSuchEntityException",
  "ResourceNotFoundException",
  "NotFoundException",
  "NoSuchBucket",
  "NoSuchKey",
  "InvalidGroupId.Malformed",
]);

const THROTTLED = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
]);

const REFUSED = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ECONNABORTED",
]);
const TIMEOUT = new Set([
  "TimeoutError",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "RequestTimeout",
  "RequestTimeoutException",
  "AbortError",
  "AwsSilenceError",
  "DeadlineError",
  "RequestDeadlineError",
]);
const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL"]);

type ErrorLike = {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined>; statusCode?: number };
};

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}

function codeOf(e: ErrorLike): string {
  if (e.Code) return e.Code;
  if (e.name && e.name !== "Error" && e.name !== "SyntaxError" && e.name !== "TypeError") return e.name;
  if (typeof e.code === "string" && e.code) return e.code;
  return e.name ?? "Error";
}

function kindOfCode(code: string): AwsErrorKind | undefined {
  if (REFUSED.has(code)) return "refused";
  if (DNS.has(code)) return "dns";
  if (TIMEOUT.has(code) || /Deadline/.test(code)) return "timeout";
  if (CREDENTIALS.has(code)) return "credentials";
  if (DENIED.has(code)) return "denied";
  if (THROTTLED.has(code)) return "throttled";
  if (NOT_FOUND.has(code) || code.endsWith(".NotFound")) return "notFound";
  return undefined;
}

/** The response's content type, when the SDK kept the response. */
function contentType(e: ErrorLike): string {
  const h = e.$response?.headers ?? {};
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === "content-type") return String(v ?? "");
  return "";
}

/** Whatever answered did not speak an AWS protocol. */
function isNotAws(e: ErrorLike, message: string): boolean {
  if (
    /Deserialization error|XML parse error|Unexpected token '<'|is not valid JSON|Unexpected end of JSON/.test(
      message,
    )
  )
    return true;
  if (e.name === "SyntaxError" && e.$response) return true;
  return /html/i.test(contentType(e));
}

/**
 * Classify one error (an SDK error, a Node system error, an xeks error whose `cause` is one of those). The
 * `cause` chain is followed (at most 6 deep) for network codes, so a wrapped ECONNREFUSED is still `refused`.
 */
export function classifyAwsError(err: unknown): AwsErrorFacts {
  const e = (err ?? {}) as ErrorLike;
  const message = firstLine(String(e.message ?? err)).replace(/^@smithy\/[\w-]+ - (\[\w+\] )?/, "");
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const out = (kind: AwsErrorKind, code: string): AwsErrorFacts => {
    const f: AwsErrorFacts = {
      kind,
      code,
      message,
      network: kind === "refused" || kind === "timeout" || kind === "dns",
    };
    if (status !== undefined) f.status = status;
    return f;
  };
  const code = codeOf(e);
  // Nothing answered: a Node code on the error or on one of its causes.
  let c: unknown = err;
  for (let depth = 0; c && depth < 6; depth++) {
    const ce = c as ErrorLike;
    for (const k of [ce.name, ce.code, ce.constructor?.name]) {
      if (typeof k !== "string") continue;
      const kind = kindOfCode(k);
      if (kind === "refused" || kind === "dns" || kind === "timeout") return out(kind, k);
    }
    c = ce.cause;
  }
  if (code === "CredentialsProviderError" || /Could not (load|resolve) credentials/i.test(message))
    return out("credentials", code);
  const known = kindOfCode(code);
  if (known) return out(known, code);
  if (isNotAws(e, message)) return out("notAws", code === "Error" ? "NotAnAwsAnswer" : code);
  if (status === 429) return out("throttled", code);
  if (status === 403) return out("denied", code);
  return out("other", code);
}

/** Codes of credentials the SDK's providers could not load at all (none found, none resolved). */
const NOT_LOADED = new Set([
  "CredentialsProviderError",
  "CredentialsError",
  "TokenProviderError",
  "NoCredentials",
]);

/**
 * Whether a `credentials` error is credentials that could not be loaded at all (no keys, a missing or incomplete
 * profile, an SSO profile without a login: the SDK's providers found none), as opposed to credentials AWS
 * refused (expired, unknown key, bad signature). The one test: deploy names the profile flag (exit 2), doctor
 * and discover too, the probe says the instance has no credentials, the token says where they are looked for.
 */
export function credentialsNotLoaded(facts: Pick<AwsErrorFacts, "kind" | "code" | "message">): boolean {
  return (
    facts.kind === "credentials" &&
    (NOT_LOADED.has(facts.code) || /Could not (load|resolve) credentials/i.test(facts.message))
  );
}

/** `AccessDenied: User: ... is not authorized ...` (the code once, then the message). */
export function formatAwsError(facts: Pick<AwsErrorFacts, "code" | "message">): string {
  if (!facts.message || facts.message === facts.code) return facts.code;
  return facts.message.startsWith(facts.code) ? facts.message : `${facts.code}: ${facts.message}`;
}

/** What a hint may know about the call that failed. */
export interface HintContext {
  /** The IAM action of the call, e.g. `eks:DescribeCluster`: named only for `denied`. */
  operation?: string;
  /** What was looked up, for `notFound`: `cluster` (name and region), `role`, `stack`, or free words. */
  thing?: string;
  /** The service whose endpoint was called (sts, eks, iam, ec2, cloudformation); default the operation's. */
  service?: string;
}

const NOT_FOUND_HINTS: Record<string, string> = {
  cluster: "check the cluster name and region (and that the credentials are those of the cluster's account)",
  role: "check the role name and the account",
  stack: "the stack does not exist in that account and region",
};

/**
 * The one table of hints: one per kind, and for `denied` the permission of the operation, for `notFound` what
 * to check for the thing. undefined for `other` (the message says it all).
 */
export function awsErrorHint(kind: AwsErrorKind, context: HintContext = {}): string | undefined {
  const service = (context.service ?? context.operation?.split(":")[0] ?? "").toUpperCase();
  const endpoint = service
    ? `the endpoint and the network path to ${service} (AWS_ENDPOINT_URL_${service.replace(/[^A-Z0-9]/g, "_")} / AWS_ENDPOINT_URL, proxy, firewall, a VPC endpoint)`
    : "the endpoint and the network path to AWS (AWS_ENDPOINT_URL, proxy, firewall, a VPC endpoint)";
  switch (kind) {
    case "denied":
      return context.operation
        ? `the credentials used need ${context.operation} (an identity policy allowing it, and no boundary, SCP or endpoint policy denying it)`
        : "the credentials used are not allowed to make this call (identity policy, permissions boundary, SCP)";
    case "notFound":
      return (
        (context.thing && (NOT_FOUND_HINTS[context.thing] ?? `check the ${context.thing}`)) ??
        "check the name, the region and the account of the credentials"
      );
    case "throttled":
      return "AWS throttled the calls: wait a little and run again";
    case "credentials":
      return "the credentials are missing, expired or not accepted: refresh them (aws sso login, new keys) and check where they come from (aws configure list)";
    case "refused":
      return `nothing accepted the connection: check ${endpoint}`;
    case "timeout":
      return `no answer in time: check ${endpoint}; XEKS_AWS_TIMEOUT_MS sets the per-request limit in ms`;
    case "dns":
      return `the endpoint's host name does not resolve: check ${endpoint} and DNS`;
    case "notAws":
      return `the endpoint is not an AWS API (an emulator without the API, a proxy page): check ${endpoint}`;
    case "other":
      return undefined;
  }
}

/** Whether an error (or one of its causes) is AWS not answering: refused, timed out, or not resolved. */
export function isNoAnswer(err: unknown): boolean {
  return classifyAwsError(err).network;
}
