/** IPv4 CIDR arithmetic for routes, security group rules and overlap checks. */

export interface Range {
  start: number;
  /** Inclusive. */
  end: number;
  prefix: number;
}

/** Parse `10.0.0.0/16` (host bits are ignored). Returns undefined for anything else (IPv6, garbage). */
export function parseCidr(cidr: string): Range | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const start = addr - (addr % size);
  return { start, end: start + size - 1, prefix };
}

/** An IPv4 CIDR with a prefix from /0 to /32 and no host bits set (`10.0.0.0/16`, not `10.0.0.1/16`). */
export function isCanonicalCidr(text: string): boolean {
  const range = parseCidr(text);
  return (
    text === text.trim() && range !== undefined && range.start === parseIpv4(text.slice(0, text.indexOf("/")))
  );
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
