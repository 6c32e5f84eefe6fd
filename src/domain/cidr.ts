/** IPv4 CIDR arithmetic for routes, security group rules and overlap checks. */

export interface Range {
  start: number;
  /** Inclusive. */
  end: number;
  prefix: number;
}

/** What the text of a CIDR says, before any judgement: octets and prefix as decimal numbers, and its flaws. */
interface CidrText {
  octets: number[];
  prefix: number;
  /** An octet or the prefix is written with a leading zero (`010`, `/08`): some tools read it as octal. */
  leadingZeros: boolean;
  /** Spaces around the text. */
  padded: boolean;
}

/** The one CIDR lexer: `A.B.C.D/P`, each part decimal digits. Ranges are not checked here. */
function lexCidr(text: string): CidrText | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1, 6) as string[];
  return {
    octets: parts.slice(0, 4).map(Number),
    prefix: Number(parts[4]),
    leadingZeros: parts.some((p) => p.length > 1 && p.startsWith("0")),
    padded: text !== text.trim(),
  };
}

function rangeOf(lexed: CidrText): Range | undefined {
  if (lexed.octets.some((o) => o > 255) || lexed.prefix > 32) return undefined;
  const addr = lexed.octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - lexed.prefix);
  const start = addr - (addr % size);
  return { start, end: start + size - 1, prefix: lexed.prefix };
}

function dotted(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The texts `parseCidr` has read, and their ranges: at most PARSED_MAX, then it starts afresh. */
const parsed = new Map<string, Readonly<Range> | undefined>();
const PARSED_MAX = 10_000;

/**
 * Parse `10.0.0.0/16` (host bits are ignored, spaces around it too). Returns undefined for anything else: IPv6,
 * an octet over 255, a prefix over 32, garbage, and leading zeros (`010.0.0.0/16`), which are ambiguous (octal
 * to inet_aton, decimal to AWS).
 */
export function parseCidr(cidr: string): Range | undefined {
  // A plan's links compare the same few hundred CIDRs many times (routes of every client, pairwise overlaps):
  // each text is lexed once. The ranges are frozen, since callers share them.
  if (parsed.has(cidr)) return parsed.get(cidr);
  const lexed = lexCidr(cidr);
  const range = lexed && !lexed.leadingZeros ? rangeOf(lexed) : undefined;
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(cidr, range && Object.freeze(range));
  return range;
}

/**
 * The canonical form of a CIDR: decimal octets without leading zeros, the host bits cleared (as EC2 stores a
 * VPC CIDR: "We modify the specified CIDR block to its canonical form", CreateVpc API reference). Leading zeros
 * are read as decimal here. Undefined when the text is no IPv4 CIDR at all (an octet over 255, a prefix over 32).
 */
export function canonicalCidr(text: string): string | undefined {
  const lexed = lexCidr(text);
  const range = lexed && rangeOf(lexed);
  return range ? `${dotted(range.start)}/${range.prefix}` : undefined;
}

/**
 * Why `text` is not a canonical IPv4 CIDR, with the canonical form when there is one; undefined when it is
 * canonical. Messages read after a field path: `clients[0].vpc.cidr: host bits are set …`.
 */
export function cidrProblem(text: string): string | undefined {
  const lexed = lexCidr(text);
  const example = "an IPv4 CIDR such as 10.0.0.0/16 (four decimal octets 0-255, a prefix 0-32)";
  if (!lexed) return `expected ${example}`;
  const bad = lexed.octets.find((o) => o > 255);
  if (bad !== undefined) return `octet ${bad} is over 255; expected ${example}`;
  if (lexed.prefix > 32) return `prefix /${lexed.prefix} is out of range; expected a prefix from /0 to /32`;
  const canonical = canonicalCidr(text) as string;
  if (lexed.padded) return `remove the spaces around it: ${canonical}`;
  if (lexed.leadingZeros) {
    return `leading zeros are ambiguous (some tools read 010 as octal 8); write ${canonical}`;
  }
  if (canonical !== text) return `host bits are set; the network address of this block is ${canonical}`;
  return undefined;
}

/** An IPv4 CIDR with a prefix from /0 to /32, no host bits set, no leading zeros (`10.0.0.0/16`). */
export function isCanonicalCidr(text: string): boolean {
  return cidrProblem(text) === undefined;
}

/** Does `outer` contain all of `inner`? */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return !!o && !!i && o.start <= i.start && i.end <= o.end;
}

/** Do the two blocks share any address? */
export function cidrOverlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && x.start <= y.end && y.start <= x.end;
}

/** Parse a dotted IPv4 address to a number, or undefined. */
export function parseIpv4(ip: string): number | undefined {
  const r = parseCidr(`${ip}/32`);
  return r?.start;
}

/** Is the address inside the block? */
export function cidrHas(cidr: string, ip: string): boolean {
  const r = parseCidr(cidr);
  const a = parseIpv4(ip);
  return !!r && a !== undefined && r.start <= a && a <= r.end;
}
