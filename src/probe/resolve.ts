/**
 * Name resolution for client.dns: the system resolver (getaddrinfo, with /etc/hosts and the nameservers of
 * /etc/resolv.conf, as kubectl uses it), or a table given with `--resolve HOST:ADDR[,ADDR...]` (curl's
 * syntax, `HOST:PORT:ADDR` accepted) whose address may also be one of the outcomes `nxdomain`, `nodata`,
 * `servfail` or `timeout`, to rehearse a failure. Names not in the table go to the system resolver.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { InputError } from "../errors.js";
import { READ_LIMITS, readOptionalFile } from "../files/index.js";
import type { Resolver } from "./types.js";

const RESOLVE_OUTCOMES = ["nxdomain", "nodata", "servfail", "timeout"] as const;
export type ResolveOutcome = (typeof RESOLVE_OUTCOMES)[number];

/** host (lower case) -> addresses, or a failure to simulate. */
export type ResolveTable = Record<string, string[] | ResolveOutcome>;

/** The nameservers of a resolv.conf, for messages. */
function nameservers(path = "/etc/resolv.conf"): string[] {
  return (readOptionalFile(path, READ_LIMITS.system) ?? "")
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fire = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) fire();
    else signal.addEventListener("abort", fire, { once: true });
  });
}

/** getaddrinfo through node:dns `lookup`: what kubectl's resolver sees, /etc/hosts included. */
export function systemResolver(resolvConf = "/etc/resolv.conf"): Resolver {
  const servers = nameservers(resolvConf);
  return {
    name:
      servers.length > 0
        ? `the system resolver (nameserver ${servers.join(", ")} from ${resolvConf})`
        : `the system resolver (no nameserver in ${resolvConf})`,
    async lookup(hostname, signal) {
      const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), aborted(signal)]);
      return found.map((a) => a.address);
    },
  };
}

function outcomeError(hostname: string, outcome: Exclude<ResolveOutcome, "timeout">): Error {
  const code = { nxdomain: "ENOTFOUND", nodata: "ENODATA", servfail: "ESERVFAIL" }[outcome];
  return Object.assign(new Error(`${code} ${hostname}`), { code, hostname });
}

/** A resolver answering from a table; names not in it go to `fallback` (or fail with ENOTFOUND). */
export function tableResolver(table: ResolveTable, fallback?: Resolver, name?: string): Resolver {
  const entries = new Map(Object.entries(table).map(([k, v]) => [k.toLowerCase(), v]));
  const described = [...entries].map(([h, v]) => `${h} -> ${Array.isArray(v) ? v.join(", ") : v}`).join("; ");
  return {
    name: name ?? `--resolve (${described})`,
    async lookup(hostname, signal) {
      const entry = entries.get(hostname.toLowerCase().replace(/\.$/, ""));
      if (entry === undefined) {
        if (fallback) return fallback.lookup(hostname, signal);
        throw outcomeError(hostname, "nxdomain");
      }
      if (Array.isArray(entry)) return [...entry];
      if (entry === "timeout") return aborted(signal);
      throw outcomeError(hostname, entry);
    },
  };
}

/**
 * Parse `--resolve` values: `HOST:ADDR[,ADDR...]` or curl's `HOST:PORT:ADDR[,ADDR...]` (the port is
 * accepted and ignored: the probe resolves one name). ADDR is an IPv4 address, an IPv6 address in
 * brackets, or one of nxdomain, nodata, servfail, timeout. Throws InputError naming the bad value.
 */
export function parseResolveSpecs(values: readonly string[], flag = "--resolve"): ResolveTable {
  const table: ResolveTable = {};
  for (const value of values) {
    const bad = (why: string) =>
      new InputError(`bad ${flag} "${value}"`, [
        {
          path: flag,
          message: `${why}; expected HOST:ADDR[,ADDR...] (ADDR an IP address, [IPv6], or one of ${RESOLVE_OUTCOMES.join(", ")})`,
        },
      ]);
    const colon = value.indexOf(":");
    if (colon <= 0) throw bad("no HOST: before the address");
    const host = value.slice(0, colon).toLowerCase();
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(host) || isIP(host)) {
      throw bad(`${host} is not a host name`);
    }
    let rest = value.slice(colon + 1);
    const port = /^(\d{1,5}):(.+)$/.exec(rest);
    if (port?.[2] !== undefined) rest = port[2];
    const parts = rest.split(",").map((p) => p.trim());
    if (
      parts.length === 1 &&
      (RESOLVE_OUTCOMES as readonly string[]).includes(parts[0]?.toLowerCase() ?? "")
    ) {
      table[host] = parts[0]?.toLowerCase() as ResolveOutcome;
      continue;
    }
    const addresses: string[] = [];
    for (const p of parts) {
      const ip = p.startsWith("[") && p.endsWith("]") ? p.slice(1, -1) : p;
      if (!isIP(ip)) throw bad(`${p || "(empty)"} is not an IP address`);
      addresses.push(ip);
    }
    if (addresses.length === 0) throw bad("no address");
    const prior = table[host];
    table[host] = Array.isArray(prior) ? [...prior, ...addresses] : addresses;
  }
  return table;
}
