/**
 * Keeping AWS secrets out of everything xeks prints or writes. One function, `redact`, used at the sinks: the
 * CLI's stdout and stderr (src/cli/redact-output.ts), the token command's stderr (src/cli/token.ts), and the
 * files that can carry AWS text (the HTML report, discover's topology file).
 *
 * Two kinds of things are replaced by `[redacted]`:
 * - Known secret values: the ambient AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (and the legacy
 *   AWS_SECURITY_TOKEN, AWS_CONTAINER_AUTHORIZATION_TOKEN), read at each call, and every value given to
 *   `rememberSecret` / `rememberCredentials` (every provider of src/aws/credentials.ts, the secrets of a role
 *   profile's source and of the shared files among them, and each place that receives credentials from STS
 *   feed this process-wide registry). A value is found in any mix of its plain, URL-encoded (each byte, also
 *   double-encoded `%252F`), JSON-escaped (`\/`, `\\\/`, `\u002f`, `\t`) and XML/HTML-escaped (`&#47;`,
 *   `&#x2F;`, `&amp;#x2F;`) forms, in any case, and in base64 or base64url; and so is any run of at least 16
 *   of its characters, anywhere in it, and any prefix of at least 12 (messages are often cut to one line).
 * - Secret-shaped text whose value xeks never saw: the whole value of a SigV4 `Authorization` header
 *   (`AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`) and of any other `authorization:`
 *   header, whatever the scheme (to the end of the line or the closing quote), `Signature=` /
 *   `X-Amz-Signature=` values, `Credential=` / `X-Amz-Credential=` values (the access key id with its scope),
 *   `x-amz-security-token` header lines and `X-Amz-Security-Token=` query values, `SecretAccessKey` /
 *   `SessionToken` fields (JSON with plain, escaped `\"` or HTML `&quot;` quotes, XML elements with attributes
 *   and the header names as tags, ini `aws_secret_access_key = ...`), STS session tokens by their shape after any
 *   name (`token=FwoGZXIvYXdz…`, `IQoJb3JpZ2lu…`), and `k8s-aws-v1.` tokens (a presigned
 *   sts:GetCallerIdentity URL: whoever holds one is the signer for up to 15 minutes).
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

/**
 * A quote around a name or a value: plain (`"`, `'`), JSON-escaped once or more (`\"`, `\\\"`), or
 * HTML-escaped (`&quot;`, `&#34;`, `&#x22;`, `&apos;`, `&#39;`, `&#x27;`), as in `--output json` and the report.
 */
const QUOTE = String.raw`(?:\\*["']|&quot;|&apos;|&#0*3[49];|&#[xX]0*2[27];)`;
/** Characters of a value in any of the encodings it may travel in (not an encoded quote, `<` or `>`). */
const VALUE_CHAR = String.raw`(?:[A-Za-z0-9+/=_.~-]|%[0-9A-Fa-f]{2}|\\+/|\\+u(?!00(?:2[27]|3[cCeE]))[0-9A-Fa-f]{4}|&#(?!0*(?:34|39|60|62);)\d{1,7};|&#[xX](?!0*(?:2[27]|3[cCeE]);)[0-9A-Fa-f]{1,6};)`;
/** Between a name and its value: `: `, `=`, `":"` (in any quote form above), or a URL-encoded `=`. */
const SEP = String.raw`(?:${QUOTE}?[ \t]*[:=][ \t]*${QUOTE}?|%3[dD]|%253[dD])`;
/** The end of a header value: a quote, a JSON-escaped line break, or a `<` (plain or escaped). */
const VALUE_END = String.raw`(?:${QUOTE}|\\[nrt]|&lt;|&#0*60;|&#[xX]0*3[cC];)`;
/** Names of secret fields, headers and XML elements. */
const SECRET_NAME = `(?:x-amz-|aws_)?(?:secret[-_]?(?:access[-_]?)?key|session[-_]?token|security[-_]?token)`;
const LT = `(?:<|&lt;|&#0*60;|&#[xX]0*3[cC];)`;
const GT = `(?:>|&gt;|&#0*62;|&#[xX]0*3[eE];)`;

const PATTERNS: readonly { re: RegExp; keep: boolean }[] = [
  // A whole SigV4 Authorization value (with or without its header name before it), also folded over lines.
  {
    re: /AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256)(?:(?:[\s,]|\\[nrt])+(?:Credential|SignedHeaders|Signature)=(?:[\w.;%~+=-]|\\*\/)*)+/gi,
    keep: false,
  },
  // Any Authorization header value, whatever the scheme (Bearer, Basic, Negotiate, Token, SigV2 `AWS id:sig`):
  // all of it, to the end of the line or the closing quote.
  {
    re: new RegExp(
      String.raw`(\b(?:proxy-)?authorization${SEP}(?:\[[ \t]*${QUOTE})?)(?:(?!${VALUE_END})[^\r\n<])+`,
      "gi",
    ),
    keep: true,
  },
  {
    re: new RegExp(String.raw`(\b(?:x-amz-)?signature${SEP})(?:[0-9a-f]{8,}|${VALUE_CHAR}{16,})`, "gi"),
    keep: true,
  },
  {
    re: new RegExp(String.raw`(\b(?:x-amz-)?credential${SEP})(?:[\w.~+-]|%[0-9A-Fa-f]{2}|\\*/)+`, "gi"),
    keep: true,
  },
  // x-amz-security-token, SessionToken, secretAccessKey, aws_secret_access_key, X-Amz-Security-Token=...
  { re: new RegExp(String.raw`(\b${SECRET_NAME}${SEP})${VALUE_CHAR}+`, "gi"), keep: true },
  // <SecretAccessKey>, <SessionToken xmlns="...">, <x-amz-security-token>, also HTML-escaped (`&lt;...&gt;`):
  // the element's text, up to the next tag.
  {
    re: new RegExp(
      String.raw`(${LT}(?:[\w.-]+:)?${SECRET_NAME}(?:\s(?:(?!${GT})[^<>])*)?${GT})(?:(?!${LT})[^<])+`,
      "gi",
    ),
    keep: true,
  },
  // An STS session token by its shape, whatever name is before it (`token=`, `tok:`, none): base64 starting
  // `FwoGZXIvYXdz` (older tokens) or `IQoJb3JpZ2lu` (the regional tokens), in any encoding a value travels in.
  {
    re: new RegExp(`(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)${VALUE_CHAR}+`, "g"),
    keep: false,
  },
  // A `k8s-aws-v1.` token: base64url of a presigned URL (any case, the dot also encoded).
  {
    re: /k8s-aws-v1(?:\.|%2[eE]|&#0*46;|&#[xX]0*2[eE];|\\+u002[eE])[A-Za-z0-9_-]+/gi,
    keep: false,
  },
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
//
// Known values are looked for in a decoded view of the text: each run of characters that may belong to a
// secret (its letters and digits in either case, its other characters, and escape sequences) is decoded unit by
// unit (`%2F`, `%252F`, `\/`, `\\\/`, `\u002f`, `\t`, `&#47;`, `&#x2F;`, `&amp;#47;`, `&quot;` each become one
// character), keeping where each unit starts, then matched in lower case against the secrets. A match is a run
// of at least 16 characters of a secret, anywhere in it, or a prefix of at least 12 characters (or the whole
// secret, when shorter): every 8-character window of the text is looked up in a map of the secrets' windows,
// and a hit is extended as far as the secret goes. The scan skips past each match, so it stays linear in the
// text for a given set of secrets. Secrets are also looked for in base64 and base64url (each of the three byte
// alignments, so a run of 16 characters of an encoded part is found too).

/** A run of at least this many characters of a known secret is found anywhere in it. */
export const MIN_SECRET_RUN = 16;

/** Length of the windows looked up (the shortest value remembered). */
const KEY = MIN_SECRET_LENGTH;

/** Places kept per window. */
const MAX_CANDIDATES = 8;

/** A place in a secret (or an encoded form of one) where a window starts. */
interface Candidate {
  /** Index into `Matcher.strings`. */
  s: number;
  /** Offset of the window in that string. */
  o: number;
}

interface Matcher {
  /** The secrets and their encoded forms, in lower case. */
  strings: string[];
  /** Whether a prefix of strings[i] shorter than MIN_SECRET_RUN counts (true for the secrets themselves). */
  prefixCounts: boolean[];
  /** Window (KEY characters, lower case) -> where it starts. */
  windows: Map<string, Candidate[]>;
  /** Runs of at least KEY units that may hold a secret. */
  runs: RegExp;
  /** A secret has a character that starts an escape (`%`, `\`, `&`): also match the text undecoded. */
  raw: boolean;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The base64 and base64url forms of `value` from each byte alignment. */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const out: string[] = [];
  for (let k = 0; k < 3 && bytes.length - k >= 12; k++) {
    const b64 = bytes.subarray(k).toString("base64");
    out.push(b64);
    if (/[+/]/.test(b64)) out.push(bytes.subarray(k).toString("base64url"));
  }
  return out;
}

/** One escape unit: percent (also double) encoding, JSON escapes (also escaped again), HTML entities. */
const ESCAPE_UNIT = String.raw`%(?:25)*[0-7][0-9A-Fa-f]|\\+(?:u[0-9A-Fa-f]{4}|[/"'\\tnrbf])|&(?:amp;)*(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|quot|apos|lt|gt|amp);`;
const PERCENT = /%(?:25)*([0-7][0-9A-Fa-f])/y;
const BACKSLASH = /\\+(?:u([0-9A-Fa-f]{4})|([/"'\\tnrbf]))/y;
const ENTITY = /&(?:amp;)*(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(quot|apos|lt|gt|amp));/y;
const JSON_ESCAPE: Record<string, string> = { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" };
const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" };

/** The character one escape unit at `p` stands for, and where the unit ends; undefined if none starts there. */
function escapeAt(text: string, p: number): { ch: string; end: number } | undefined {
  const c = text[p];
  let m: RegExpExecArray | null = null;
  let ch: string | undefined;
  if (c === "%") {
    PERCENT.lastIndex = p;
    m = PERCENT.exec(text);
    if (m) ch = String.fromCharCode(Number.parseInt(m[1] as string, 16));
  } else if (c === "\\") {
    BACKSLASH.lastIndex = p;
    m = BACKSLASH.exec(text);
    if (m?.[1]) ch = String.fromCharCode(Number.parseInt(m[1], 16));
    else if (m?.[2]) ch = JSON_ESCAPE[m[2]] ?? m[2];
  } else if (c === "&") {
    ENTITY.lastIndex = p;
    m = ENTITY.exec(text);
    const cp = m?.[1] ? Number.parseInt(m[1], 10) : m?.[2] ? Number.parseInt(m[2], 16) : undefined;
    if (cp !== undefined) ch = cp <= 0xffff ? String.fromCharCode(cp) : undefined;
    else if (m?.[3]) ch = ENTITIES[m[3]];
  }
  return m && ch !== undefined ? { ch, end: p + m[0].length } : undefined;
}

/** A regular expression character class of these UTF-16 code units. */
function charClass(units: Iterable<string>): string {
  let out = "";
  for (const u of units) out += `\\u${u.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return `[${out}]`;
}

function compile(secrets: string[]): Matcher {
  const strings: string[] = [];
  const prefixCounts: boolean[] = [];
  for (const secret of secrets) {
    strings.push(asciiLower(secret));
    prefixCounts.push(true);
    for (const form of base64Forms(secret)) {
      strings.push(asciiLower(form));
      prefixCounts.push(false);
    }
  }
  const windows = new Map<string, Candidate[]>();
  const units = new Set<string>();
  strings.forEach((str, s) => {
    for (let k = 0; k < str.length; k++) {
      const u = str[k] as string;
      units.add(u);
      if (u >= "a" && u <= "z") units.add(u.toUpperCase());
    }
    // A match starts with a window at an offset from which MIN_SECRET_RUN characters remain, or at 0.
    const last = Math.max(0, str.length - MIN_SECRET_RUN);
    for (let o = 0; o <= last && o + KEY <= str.length; o++) {
      const w = str.slice(o, o + KEY);
      const list = windows.get(w);
      // A window repeated in the secrets (a periodic token) keeps its first few places: enough to find a
      // match, and the scan stays linear.
      if (list) {
        if (list.length < MAX_CANDIDATES) list.push({ s, o });
      } else windows.set(w, [{ s, o }]);
    }
  });
  return {
    strings,
    prefixCounts,
    windows,
    runs: new RegExp(
      `(?:${charClass(units)}|${ESCAPE_UNIT})(?:${charClass(units)}|${ESCAPE_UNIT}){${KEY - 1},}`,
      "g",
    ),
    raw: secrets.some((v) => /[%\\&]/.test(v)),
  };
}

/** Spans [start, end) of `text` holding a known secret, in order, not overlapping. */
function findSecrets(text: string, m: Matcher, decode: boolean): [number, number][] {
  const spans: [number, number][] = [];
  m.runs.lastIndex = 0;
  for (let run = m.runs.exec(text); run; run = m.runs.exec(text)) {
    const from = run.index;
    const to = from + run[0].length;
    // The decoded view of the run: one character per unit, and where each unit starts in `text`.
    let view = "";
    let at: number[] | undefined;
    if (decode && /[%\\&]/.test(run[0])) {
      at = [];
      for (let p = from; p < to; ) {
        at.push(p);
        const e = escapeAt(text, p);
        view += e ? e.ch : text[p];
        p = e ? e.end : p + 1;
      }
      at.push(to);
    } else {
      view = run[0];
    }
    view = asciiLower(view);
    const start = (i: number) => (at ? (at[i] as number) : from + i);
    for (let i = 0; i + KEY <= view.length; ) {
      const candidates = m.windows.get(view.slice(i, i + KEY));
      let best = 0;
      for (const c of candidates ?? []) {
        const str = m.strings[c.s] as string;
        let n = KEY;
        while (
          i + n < view.length &&
          c.o + n < str.length &&
          view.charCodeAt(i + n) === str.charCodeAt(c.o + n)
        )
          n++;
        const prefix =
          c.o === 0 && m.prefixCounts[c.s] === true && (n >= MIN_SECRET_PREFIX || n === str.length);
        if ((n >= MIN_SECRET_RUN || prefix) && n > best) best = n;
      }
      if (best > 0) {
        spans.push([start(i), start(i + best)]);
        i += best;
      } else {
        i++;
      }
    }
  }
  return spans;
}

function cutSpans(text: string, spans: [number, number][]): string {
  if (spans.length === 0) return text;
  let out = "";
  let last = 0;
  for (const [a, b] of spans) {
    out += text.slice(last, a) + REDACTED;
    last = b;
  }
  return out + text.slice(last);
}

let cache: { key: string; matcher: Matcher | undefined } | undefined;

function matcher(extra: Iterable<string | undefined>): Matcher | undefined {
  const outside: string[] = [];
  for (const name of SECRET_ENV) {
    const v = process.env[name];
    if (v && v.length >= MIN_SECRET_LENGTH) outside.push(v);
  }
  for (const v of extra) if (v && v.length >= MIN_SECRET_LENGTH) outside.push(v);
  const key = `${registryVersion}\0${outside.join("\0")}`;
  if (cache?.key === key) return cache.matcher;
  const all = [...new Set([...remembered, ...outside])];
  cache = { key, matcher: all.length > 0 ? compile(all) : undefined };
  return cache.matcher;
}

/**
 * `text` with every known secret (the registry, the ambient secret variables, and `extra`) and every
 * secret-shaped value replaced by `[redacted]`. A known secret is found in any mix of its encodings, in any
 * case, as a run of 16 or more of its characters anywhere or a prefix of 12 or more, and in base64 (see
 * above). Names before a value are kept (`x-amz-security-token:[redacted]`, `Signature=[redacted]`); a SigV4
 * Authorization value and a `k8s-aws-v1.` token become `[redacted]` whole. Pure apart from reading the
 * registry and process.env; safe on any text (idempotent); linear in the text's length.
 */
export function redact(text: string, extra: Iterable<string | undefined> = []): string {
  let out = text;
  const m = matcher(extra);
  if (m) {
    out = cutSpans(out, findSecrets(out, m, true));
    if (m.raw) out = cutSpans(out, findSecrets(out, m, false));
  }
  for (const { re, keep } of PATTERNS) {
    re.lastIndex = 0;
    out = out.replace(re, (_m, prefix?: string) => (keep ? `${prefix}${REDACTED}` : REDACTED));
  }
  return out;
}
