/**
 * Keeping AWS secrets out of everything xeks prints or writes. One function, `redact`, used at the sinks: the
 * CLI's stdout and stderr (src/cli/redact-output.ts), the token command's stderr (src/cli/token.ts), and the
 * files that can carry AWS text (the HTML report, discover's topology file).
 *
 * Two kinds of things are replaced by `[redacted]`:
 * - Known secret values: the ambient AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (and the legacy
 *   AWS_SECURITY_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN), read at each call, and every value given to
 *   `rememberSecret` / `rememberCredentials` (each place that resolves credentials or receives them from STS
 *   feeds this process-wide registry). A value is found in any mix of its plain, URL-encoded (`%2F`, also
 *   double-encoded `%252F`), JSON-escaped (`\/`, `\u002f`) and XML/HTML-escaped (`&#47;`, `&#x2F;`, `&amp;`)
 *   forms, and so is any prefix of at least 12 characters of it (messages are often cut to one bounded line).
 * - Secret-shaped text whose value xeks never saw: the whole value of a SigV4 `Authorization` header
 *   (`AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`) and of any other `authorization:`
 *   header, `Signature=` / `X-Amz-Signature=` hex, `Credential=` / `X-Amz-Credential=` values (the access key id
 *   with its scope), `x-amz-security-token` header lines and `X-Amz-Security-Token=` query values,
 *   `SecretAccessKey` / `SessionToken` fields (JSON, XML, ini `aws_secret_access_key = ...`), and `k8s-aws-v1.`
 *   tokens (a presigned sts:GetCallerIdentity URL: whoever holds one is the signer for up to 15 minutes).
 *
 * What SDK errors actually carry (checked against @aws-sdk v3): the query (STS, IAM, EC2, CloudFormation) and
 * rest-json (EKS) protocols decode the error body, so an echoed request arrives in `err.message` in plain
 * form, `&#x2F;` and `\/` already decoded; escaped forms appear when an echo quotes an encoded URL or body, and
 * in what xeks encodes itself (`--output json`, the HTML report).
 *
 * Access key ids are not treated as secrets (an id alone signs nothing; CloudTrail and IAM show them), except
 * inside `Credential=` values, which are replaced whole. No SDK import: the token command's bundle loads this.
 */

/** What every redacted value becomes. */
export const REDACTED = "[redacted]";

/** Values shorter than this are not remembered (and not looked for): too likely to occur by chance. */
export const MIN_SECRET_LENGTH = 8;

/** A known secret is also found when only its first this many characters (or more) appear. */
export const MIN_SECRET_PREFIX = 12;

/** Environment variables whose values are secrets. */
const SECRET_ENV = [
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
] as const;

/** Characters of a value in any of the encodings it may travel in. */
const VALUE_CHAR = String.raw`(?:[A-Za-z0-9+/=_.~-]|%[0-9A-Fa-f]{2}|\\/|\\u[0-9A-Fa-f]{4}|&#[xX]?[0-9A-Fa-f]+;)`;
/** Between a name and its value: `: `, `=`, `":"`, or a URL-encoded `=`. */
const SEP = String.raw`(?:["']?[ \t]*[:=][ \t]*["']?|%3[dD]|%253[dD])`;

const PATTERNS: readonly { re: RegExp; keep: boolean }[] = [
  // A whole SigV4 Authorization value (with or without its header name before it).
  {
    re: /AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256)(?:[ \t,]+(?:Credential|SignedHeaders|Signature)=(?:[\w.;%~+=-]|\\?\/)*)+/gi,
    keep: false,
  },
  // Any other Authorization header value (Bearer, Basic, ...).
  {
    re: new RegExp(String.raw`(\bauthorization${SEP})(?:(?:Bearer|Basic)[ \t]+)?[^\s"'<>,\\]+`, "gi"),
    keep: true,
  },
  { re: new RegExp(String.raw`(\b(?:x-amz-)?signature${SEP})[0-9a-f]{8,}`, "gi"), keep: true },
  {
    re: new RegExp(String.raw`(\b(?:x-amz-)?credential${SEP})(?:[\w.~+-]|%[0-9A-Fa-f]{2}|\\?/)+`, "gi"),
    keep: true,
  },
  // x-amz-security-token, SessionToken, secretAccessKey, aws_secret_access_key, X-Amz-Security-Token=...
  {
    re: new RegExp(
      String.raw`(\b(?:x-amz-|aws_)?(?:secret[-_]?access[-_]?key|session[-_]?token|security[-_]?token)${SEP})${VALUE_CHAR}+`,
      "gi",
    ),
    keep: true,
  },
  // <SecretAccessKey>...</SecretAccessKey>, <SessionToken>...</SessionToken> (an echoed STS answer).
  { re: /(<(?:\w+:)?(?:SecretAccessKey|SessionToken|SecurityToken)>)[^<]+/gi, keep: true },
  // A `k8s-aws-v1.` token: base64url of a presigned URL.
  { re: /k8s-aws-v1\.[A-Za-z0-9_-]+/g, keep: false },
];

// ---- the registry ------------------------------------------------------------------------------------------

const remembered = new Set<string>();
let registryVersion = 0;

/** Remember one secret value for the rest of the process (values shorter than 8 characters are ignored). */
export function rememberSecret(value: string | undefined | null): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH || remembered.has(value)) return;
  remembered.add(value);
  registryVersion++;
}

/** What any credentials object (SDK identity, STS Credentials, xeks's own shapes) may carry. */
export interface SecretBearing {
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
}

/** Remember the secret key and session token of a set of credentials; returns them unchanged. */
export function rememberCredentials<T extends SecretBearing | undefined | null>(credentials: T): T {
  if (credentials) {
    rememberSecret(credentials.secretAccessKey);
    rememberSecret(credentials.sessionToken);
    rememberSecret(credentials.SecretAccessKey);
    rememberSecret(credentials.SessionToken);
  }
  return credentials;
}

/** The same credential provider, remembering every set of credentials it resolves. */
export function rememberingProvider<A extends unknown[], C extends SecretBearing>(
  provider: (...args: A) => Promise<C>,
): (...args: A) => Promise<C> {
  return (...args: A) => provider(...args).then(rememberCredentials);
}

/** For tests: forget every remembered value. */
export function forgetSecrets(): void {
  remembered.clear();
  registryVersion++;
}

// ---- matching known values in their encodings ------------------------------------------------------------

const NAMED_ENTITY: Record<string, string> = { "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** Hex digits matched in either case: "2f" -> "2[fF]". */
function anyCase(hex: string): string {
  return hex.replace(/[a-f]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

const charPatterns = new Map<string, string>();

/** One character of a secret in its plain, URL-encoded, JSON-escaped and XML-escaped forms. */
function charPattern(ch: string): string {
  let p = charPatterns.get(ch);
  if (p !== undefined) return p;
  if (/^[A-Za-z0-9]$/.test(ch)) {
    p = ch;
  } else {
    const cp = ch.codePointAt(0) as number;
    const forms = [escapeRegExp(ch)];
    const utf8 = Array.from(new TextEncoder().encode(ch), (b) => anyCase(b.toString(16).padStart(2, "0")));
    forms.push(utf8.map((h) => `%${h}`).join(""), utf8.map((h) => `%25${h}`).join(""));
    if (cp <= 0xffff) forms.push(String.raw`\\u${anyCase(cp.toString(16).padStart(4, "0"))}`);
    forms.push(`&#0*${cp};`, `&#[xX]0*${anyCase(cp.toString(16))};`);
    if (ch === "/" || ch === '"' || ch === "\\") forms.push(String.raw`\\${escapeRegExp(ch)}`);
    const named = NAMED_ENTITY[ch];
    if (named) forms.push(`&${named};`);
    if (ch === " ") forms.push(String.raw`\+`);
    p = `(?:${forms.join("|")})`;
  }
  charPatterns.set(ch, p);
  return p;
}

interface SecretMatcher {
  /** The first min(length, 12) characters, in any encoding. */
  anchor: RegExp;
  /** One sticky pattern per further character. */
  rest: RegExp[];
}

const stickies = new Map<string, RegExp>();

function compile(secret: string): SecretMatcher {
  const chars = Array.from(secret);
  const k = Math.min(chars.length, MIN_SECRET_PREFIX);
  const rest = chars.slice(k).map((c) => {
    let r = stickies.get(c);
    if (!r) {
      r = new RegExp(charPattern(c), "y");
      stickies.set(c, r);
    }
    return r;
  });
  return { anchor: new RegExp(chars.slice(0, k).map(charPattern).join(""), "g"), rest };
}

/** Replace every occurrence of the secret (or of a prefix of at least its anchor's length). */
function cut(text: string, m: SecretMatcher): string {
  m.anchor.lastIndex = 0;
  let out = "";
  let last = 0;
  let found = false;
  for (let match = m.anchor.exec(text); match; match = m.anchor.exec(text)) {
    let end = match.index + match[0].length;
    for (const r of m.rest) {
      r.lastIndex = end;
      const x = r.exec(text);
      if (!x) break;
      end += x[0].length;
    }
    out += text.slice(last, match.index) + REDACTED;
    last = end;
    found = true;
    m.anchor.lastIndex = end;
  }
  return found ? out + text.slice(last) : text;
}

let cache: { key: string; matchers: SecretMatcher[] } | undefined;

function matchers(extra: Iterable<string | undefined>): SecretMatcher[] {
  const outside: string[] = [];
  for (const name of SECRET_ENV) {
    const v = process.env[name];
    if (v && v.length >= MIN_SECRET_LENGTH) outside.push(v);
  }
  for (const v of extra) if (v && v.length >= MIN_SECRET_LENGTH) outside.push(v);
  const key = `${registryVersion}\0${outside.join("\0")}`;
  if (cache?.key === key) return cache.matchers;
  // Longest first: a shorter secret inside a longer one must not leave the longer one's remainder.
  const sorted = [...new Set([...remembered, ...outside])].sort((a, b) => b.length - a.length);
  cache = { key, matchers: sorted.map(compile) };
  return cache.matchers;
}

/**
 * `text` with every known secret (the registry, the ambient secret variables, and `extra`) and every
 * secret-shaped value replaced by `[redacted]`. Names before a value are kept (`x-amz-security-token:[redacted]`,
 * `Signature=[redacted]`); a SigV4 Authorization value and a `k8s-aws-v1.` token become `[redacted]` whole.
 * Pure apart from reading the registry and process.env; safe on any text (idempotent).
 */
export function redact(text: string, extra: Iterable<string | undefined> = []): string {
  let out = text;
  for (const m of matchers(extra)) out = cut(out, m);
  for (const { re, keep } of PATTERNS) {
    re.lastIndex = 0;
    out = out.replace(re, (_m, prefix?: string) => (keep ? `${prefix}${REDACTED}` : REDACTED));
  }
  return out;
}
