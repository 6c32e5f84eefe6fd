/**
 * What every renderer shares: the display order of links, the grouping (cluster, client, access role), the
 * counts, the verdict, and the account ids of the clients when the report can tell them.
 * Pure functions over a ChainReport; no I/O.
 */
import {
  type ChainReport,
  CLIENT_LINK_IDS,
  LINK_IDS,
  type LinkResult,
  type LinkStatus,
  type Verdict,
  verdictOf,
} from "../chain/types.js";

const STATUSES: readonly LinkStatus[] = ["pass", "fail", "warn", "unknown"];

/** A client of the report and its account. Read from the optional `clients` extension of a report. */
export interface ReportClient {
  name: string;
  account: string;
  region?: string;
}

/** A ChainReport as renderers may receive it: possibly with the `clients` extension (docs/report.md). */
export type RenderableReport = ChainReport & { clients?: readonly ReportClient[] };

/** The status of a link, with anything unexpected (a report parsed from elsewhere) read as unknown. */
export function statusOf(link: LinkResult): LinkStatus {
  return STATUSES.includes(link.status) ? link.status : "unknown";
}

const VERDICT_RANK: Record<Verdict, number> = { pass: 0, unknown: 1, fail: 2 };

/**
 * The verdict every renderer shows and the exit code follows: the report's own verdict, or the one its links
 * imply when that is worse (so a producer that forgot to set `fail` cannot turn a failing link into exit 0).
 */
export function effectiveVerdict(report: ChainReport): Verdict {
  const own: Verdict = report.verdict in VERDICT_RANK ? report.verdict : "fail";
  const implied = verdictOf(report.links.map((l) => ({ ...l, status: statusOf(l) })));
  return VERDICT_RANK[implied] > VERDICT_RANK[own] ? implied : own;
}

export type StatusCounts = Record<LinkStatus, number>;

export function countStatuses(links: readonly LinkResult[]): StatusCounts {
  const counts: StatusCounts = { pass: 0, fail: 0, warn: 0, unknown: 0 };
  for (const l of links) counts[statusOf(l)]++;
  return counts;
}

const ORDER = new Map<string, number>([...LINK_IDS, ...CLIENT_LINK_IDS].map((id, i) => [id, i]));

/** Position of a link id in chain order (contract.md); ids it does not know come last. */
function chainIndex(id: string): number {
  return ORDER.get(id) ?? ORDER.size;
}

function byChainOrder(links: LinkResult[]): LinkResult[] {
  return links
    .map((link, i) => ({ link, i }))
    .sort((a, b) => chainIndex(a.link.id) - chainIndex(b.link.id) || a.i - b.i)
    .map((x) => x.link);
}

export type GroupKind = "cluster" | "subject" | "client" | "client-role" | "role";

export interface LinkGroup {
  kind: GroupKind;
  /** The heading: "cluster prac-eks-abhi", "client ops", "access role X". */
  title: string;
  /** The client or access role name (client-role: the access role). */
  name: string;
  /** Subjects a link of this group is expected to have; a link with another subject shows it. */
  subjects: readonly string[];
  links: LinkResult[];
  children: LinkGroup[];
}

/** Subjects compare with `->` and `→` alike and whitespace collapsed. */
function sameSubject(a: string, b: string): boolean {
  const norm = (s: string) =>
    s
      .replace(/\u2192/g, "->")
      .replace(/\s+/g, " ")
      .trim();
  return norm(a) === norm(b);
}

export function isExpectedSubject(group: LinkGroup, subject: string): boolean {
  return group.subjects.some((s) => sameSubject(s, subject));
}

/**
 * Groups in display order: cluster-wide links (subject "cluster ..."), other links with neither client nor
 * access role, then each client (its own links, then one sub-group per access role), then access roles on
 * their own (links with an access role and no client). Links within a group are in chain order.
 */
export function groupLinks(links: readonly LinkResult[]): LinkGroup[] {
  const subjectGroups = new Map<string, LinkGroup>();
  const clientGroups = new Map<string, LinkGroup>();
  const roleGroups = new Map<string, LinkGroup>();
  for (const link of links) {
    if (link.client !== undefined) {
      const c = link.client;
      let group = clientGroups.get(c);
      if (!group) {
        group = {
          kind: "client",
          title: `client ${c}`,
          name: c,
          subjects: [`client ${c}`],
          links: [],
          children: [],
        };
        clientGroups.set(c, group);
      }
      if (link.accessRole === undefined) {
        group.links.push(link);
        continue;
      }
      const r = link.accessRole;
      let child = group.children.find((g) => g.name === r);
      if (!child) {
        child = {
          kind: "client-role",
          title: `access role ${r}`,
          name: r,
          subjects: [`client ${c} -> access role ${r}`, `access role ${r}`, `client ${c}`],
          links: [],
          children: [],
        };
        group.children.push(child);
      }
      child.links.push(link);
    } else if (link.accessRole !== undefined) {
      const r = link.accessRole;
      let group = roleGroups.get(r);
      if (!group) {
        group = {
          kind: "role",
          title: `access role ${r}`,
          name: r,
          subjects: [`access role ${r}`],
          links: [],
          children: [],
        };
        roleGroups.set(r, group);
      }
      group.links.push(link);
    } else {
      const key = link.subject.replace(/\s+/g, " ").trim();
      let group = subjectGroups.get(key);
      if (!group) {
        const cluster = /^cluster\b/.test(key);
        group = {
          kind: cluster ? "cluster" : "subject",
          title: key || "(no subject)",
          name: key,
          subjects: [link.subject],
          links: [],
          children: [],
        };
        subjectGroups.set(key, group);
      }
      group.links.push(link);
    }
  }
  const subjects = [...subjectGroups.values()];
  const all = [
    ...subjects.filter((g) => g.kind === "cluster"),
    ...subjects.filter((g) => g.kind !== "cluster"),
    ...clientGroups.values(),
    ...roleGroups.values(),
  ];
  for (const g of all) {
    g.links = byChainOrder(g.links);
    for (const c of g.children) c.links = byChainOrder(c.links);
  }
  return all;
}

/** All links in display order (the order of the text tree, the HTML table and the issue numbers). */
export function orderedLinks(links: readonly LinkResult[]): LinkResult[] {
  const out: LinkResult[] = [];
  const walk = (g: LinkGroup) => {
    out.push(...g.links);
    for (const c of g.children) walk(c);
  };
  for (const g of groupLinks(links)) walk(g);
  return out;
}

const SEVERITY: Record<LinkStatus, number> = { fail: 0, unknown: 1, warn: 2, pass: 3 };

/**
 * Links that do not pass, numbered from 1 in the order to work on them: failures first, then the undecided,
 * then warnings, each in display order. The HTML's "what to fix" list and the numbers in its picture.
 */
export function issueNumbers(links: readonly LinkResult[]): Map<LinkResult, number> {
  const issues = orderedLinks(links)
    .filter((l) => statusOf(l) !== "pass")
    .map((link, i) => ({ link, i }))
    .sort((a, b) => SEVERITY[statusOf(a.link)] - SEVERITY[statusOf(b.link)] || a.i - b.i);
  return new Map(issues.map((x, n) => [x.link, n + 1]));
}

const ARN_ACCOUNT = /arn:aws[a-z-]*:(?:iam|sts|eks|ec2):[a-z0-9-]*:(\d{12}):/g;

function accountsIn(link: LinkResult): string[] {
  const texts = [link.summary, link.fix ?? ""];
  for (const e of link.evidence ?? []) texts.push(e.fact, e.detail ?? "");
  const out: string[] = [];
  for (const t of texts) for (const m of t.matchAll(ARN_ACCOUNT)) if (m[1]) out.push(m[1]);
  return out;
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [v, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = v;
  return best;
}

/** The cluster account: the report's `cluster.account`, else the account of ARNs in access-role links. */
export function clusterAccountOf(report: RenderableReport): string | undefined {
  if (report.cluster?.account) return report.cluster.account;
  const found = report.links
    .filter((l) => l.accessRole !== undefined && l.client === undefined)
    .flatMap(accountsIn);
  return mostCommon(found);
}

/**
 * The account of each client named in the report: from `given` (the caller knows the topology), else the
 * report's `clients` extension, else the account most ARNs in that client's own links name (evidence,
 * summaries, fixes), other than the cluster account. Undefined when nothing tells.
 */
export function clientAccountsOf(
  report: RenderableReport,
  given: readonly ReportClient[] = [],
): Map<string, string | undefined> {
  const known = new Map<string, string>();
  for (const c of report.clients ?? []) known.set(c.name, c.account);
  for (const c of given) known.set(c.name, c.account);
  const cluster = clusterAccountOf(report);
  const out = new Map<string, string | undefined>();
  for (const link of report.links) {
    if (link.client === undefined || out.has(link.client)) continue;
    const name = link.client;
    const explicit = known.get(name);
    if (explicit) {
      out.set(name, explicit);
      continue;
    }
    const own = report.links
      .filter((l) => l.client === name && l.accessRole === undefined)
      .flatMap(accountsIn);
    const any = report.links.filter((l) => l.client === name).flatMap(accountsIn);
    out.set(
      name,
      mostCommon(own.filter((a) => a !== cluster)) ?? mostCommon(any.filter((a) => a !== cluster)),
    );
  }
  return out;
}

/**
 * Each client's region, from `given` (the topology) over the report's `clients` extension; a client whose
 * region neither gives is left out. `crossRegion` is true when the client's region differs from the
 * cluster's (the peering between them is then an inter-region one); false when either is unknown.
 */
export function clientRegionsOf(
  report: RenderableReport,
  given: readonly ReportClient[] = [],
): Map<string, { region: string; crossRegion: boolean }> {
  const out = new Map<string, { region: string; crossRegion: boolean }>();
  const cluster = report.cluster?.region;
  for (const c of [...(report.clients ?? []), ...given]) {
    if (!c.region) continue;
    out.set(c.name, { region: c.region, crossRegion: cluster !== undefined && c.region !== cluster });
  }
  return out;
}

/** Human names of the modes, for headings. */
export function modeTitle(mode: string): string {
  switch (mode) {
    case "plan":
      return "xeks plan (planned state)";
    case "live":
      return "xeks doctor (live state)";
    case "client":
      return "xeks doctor --from-client (client probe)";
    default:
      return `xeks ${mode}`;
  }
}

const EN_US = new Intl.NumberFormat("en-US");

/** A count as every report line writes it: 3,928 (`toLocaleString("en-US")`, one formatter). */
export function num(n: number): string {
  return EN_US.format(n);
}

/** "13 links: 9 pass, 2 fail, 1 warn, 1 unknown" (zero counts other than pass are left out; 3,928 style). */
export function countsPhrase(counts: StatusCounts): string {
  const total = counts.pass + counts.fail + counts.warn + counts.unknown;
  const parts = [`${num(counts.pass)} pass`];
  if (counts.fail) parts.push(`${num(counts.fail)} fail`);
  if (counts.warn) parts.push(`${num(counts.warn)} warn`);
  if (counts.unknown) parts.push(`${num(counts.unknown)} unknown`);
  return `${num(total)} link${total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** The closing sentence after the counts: what the verdict means for the reader. */
export function verdictAdvice(verdict: Verdict, counts: StatusCounts): string {
  if (counts.pass + counts.fail + counts.warn + counts.unknown === 0) return "no links were checked";
  if (verdict === "fail")
    return `the chain is broken: fix the ${counts.fail === 1 ? "failing link" : "failing links"} in order, then run again`;
  if (verdict === "unknown")
    return "nothing fails, but not every link could be decided: see the unknown links";
  if (counts.warn) return "the chain holds; the warnings are worth a look";
  return "the chain holds";
}

/**
 * Folding sets in when more than this many clients pass all their links: the text and the HTML then show the
 * clients that do not (failures, then the undecided, then warnings) and fold the passing ones into one line per
 * access role. At or below it, reports print every client as they always did. docs/report.md "At scale".
 */
export const FOLD_ABOVE = 10;

/** How many client names a folded line shows before "…". */
export const FOLD_NAMES = 5;

/**
 * How many folded lines of passing clients the text shows at most before the access roles with a single passing
 * client are folded into one summary line (docs/report.md "At scale").
 */
export const FOLD_LINES = 20;

/**
 * Passing clients folded together under one access role, their primary one: of the access roles a client uses
 * (its client-role sub-groups), the one the most passing clients use, the first in the report's order on a tie.
 */
export interface FoldGroup {
  /**
   * The access role the group is folded under; undefined for the clients that use no access role and for the
   * summary of access roles with one passing client each (`ownRoles`).
   */
  role?: string;
  /**
   * `ownRoles`: the access role of each client, `roles[i]` for `clients[i]`. Else every access role the
   * group's clients use: `role` first, then the others in the order of first use; [] for none.
   */
  roles: string[];
  /** How many of the group's clients also use an access role other than `role` (0 for `ownRoles`). */
  alsoOthers: number;
  /**
   * True for the summary line: access roles that each have one passing client, folded together when there would
   * be more than FOLD_LINES lines.
   */
  ownRoles: boolean;
  /** The clients, in display order. */
  clients: string[];
}

/** What a report at scale shows in full and what it folds. Client and role names as in the links. */
export interface Folding {
  /** Clients shown in full, in the order to look at them: fail, unknown, warn, each in display order. */
  shown: string[];
  /** Passing clients, in display order (the order `--verbose` lists them in, after the others). */
  passing: string[];
  /**
   * Passing clients, one group per primary access role (see FoldGroup), in the order of their first client;
   * the summary of access roles with one passing client each, if any, last.
   */
  groups: FoldGroup[];
  /** Access roles on their own (links with accessRole and no client) whose own links all pass: folded too. */
  roles: string[];
  /** Access roles on their own with a link that does not pass, in the order to look at them. */
  shownRoles: string[];
}

function worst(links: readonly LinkResult[]): LinkStatus {
  let best: LinkStatus = "pass";
  for (const l of links) if (SEVERITY[statusOf(l)] < SEVERITY[best]) best = statusOf(l);
  return best;
}

/**
 * The folding of a report: undefined when at most `above` clients (default FOLD_ABOVE) pass all their links
 * (their own links and their client-role links; cluster-wide and access-role links are judged on their own).
 */
export function foldingOf(links: readonly LinkResult[], above: number = FOLD_ABOVE): Folding | undefined {
  const groups = groupLinks(links);
  const clients = groups.filter((g) => g.kind === "client");
  const status = new Map(clients.map((g) => [g, worst([...g.links, ...g.children.flatMap((c) => c.links)])]));
  const passing = clients.filter((g) => status.get(g) === "pass");
  if (passing.length <= above) return undefined;
  const bySeverity = (list: LinkGroup[], of: (g: LinkGroup) => LinkStatus) =>
    list
      .map((g, i) => ({ g, i }))
      .sort((a, b) => SEVERITY[of(a.g)] - SEVERITY[of(b.g)] || a.i - b.i)
      .map((x) => x.g.name);
  const shown = bySeverity(
    clients.filter((g) => status.get(g) !== "pass"),
    (g) => status.get(g) ?? "unknown",
  );
  // Each passing client under its primary access role: the one the most passing clients use.
  const rolesOf = (g: LinkGroup) => g.children.map((c) => c.name);
  const users = new Map<string, number>();
  for (const g of passing) for (const r of new Set(rolesOf(g))) users.set(r, (users.get(r) ?? 0) + 1);
  const byRole = new Map<
    string,
    { role?: string; others: string[]; alsoOthers: number; clients: string[] }
  >();
  for (const g of passing) {
    const roles = [...new Set(rolesOf(g))];
    let primary: string | undefined;
    for (const r of roles)
      if (primary === undefined || (users.get(r) ?? 0) > (users.get(primary) ?? 0)) primary = r;
    const key = primary === undefined ? "" : `=${primary}`;
    const entry = byRole.get(key) ?? {
      ...(primary === undefined ? {} : { role: primary }),
      others: [],
      alsoOthers: 0,
      clients: [],
    };
    const others = roles.filter((r) => r !== primary);
    for (const r of others) if (!entry.others.includes(r)) entry.others.push(r);
    if (others.length) entry.alsoOthers++;
    entry.clients.push(g.name);
    byRole.set(key, entry);
  }
  let out: FoldGroup[] = [...byRole.values()].map((e) => ({
    ...(e.role === undefined ? {} : { role: e.role }),
    roles: e.role === undefined ? [] : [e.role, ...e.others],
    alsoOthers: e.alsoOthers,
    ownRoles: false,
    clients: e.clients,
  }));
  // Groups in the order of their first client.
  const at = new Map(passing.map((g, i) => [g.name, i]));
  const first = (g: FoldGroup) => at.get(g.clients[0] ?? "") ?? 0;
  out.sort((a, b) => first(a) - first(b));
  // Too many lines: the access roles with one passing client each become one summary line, last.
  const single = out.filter((g) => g.role !== undefined && g.clients.length === 1);
  if (out.length > FOLD_LINES && single.length > 1) {
    const folded = new Set(single);
    out = [
      ...out.filter((g) => !folded.has(g)),
      {
        roles: single.map((g) => g.role ?? ""),
        alsoOthers: 0,
        ownRoles: true,
        clients: single.map((g) => g.clients[0] ?? ""),
      },
    ];
  }
  const roleGroups = groups.filter((g) => g.kind === "role");
  return {
    shown,
    passing: passing.map((g) => g.name),
    groups: out,
    roles: roleGroups.filter((g) => worst(g.links) === "pass").map((g) => g.name),
    shownRoles: bySeverity(
      roleGroups.filter((g) => worst(g.links) !== "pass"),
      (g) => worst(g.links),
    ),
  };
}

/** "team-1, team-2, team-3, team-4, team-5, …": the first FOLD_NAMES names, "…" when there are more. */
export function firstNames(names: readonly string[], n: number = FOLD_NAMES): string {
  return names.length > n ? `${names.slice(0, n).join(", ")}, …` : names.join(", ");
}

/**
 * The folded line of a group, without the list of names: "189 clients pass all their links, through access
 * role X", "8 clients pass all their links, through access role X (each also through access role Y)", "1 client
 * passes all its links, through no access role"; the summary: "99 more access roles with one passing client
 * each" ("more" when `more`, other lines come before it).
 */
export function foldPhrase(group: FoldGroup, more = true): string {
  const n = group.clients.length;
  if (group.ownRoles) return `${num(n)} ${more ? "more " : ""}access roles with one passing client each`;
  const head = `${num(n)} client${n === 1 ? " passes all its" : "s pass all their"} links`;
  if (group.role === undefined) return `${head}, through no access role`;
  const others = group.roles.filter((r) => r !== group.role);
  if (!others.length || !group.alsoOthers) return `${head}, through access role ${group.role}`;
  const who = n === 1 ? "" : group.alsoOthers === n ? "each " : `${num(group.alsoOthers)} of them `;
  const what =
    others.length === 1
      ? `access role ${others[0]}`
      : `other access roles, ${num(others.length)} between them`;
  return `${head}, through access role ${group.role} (${who}also through ${what})`;
}

/**
 * The folded line of the access roles whose own links (access entry, policies, trust: accessRole set, no
 * client) all pass: "101 access roles pass their own links". Their clients' links are judged with the clients.
 */
export function rolesPhrase(n: number): string {
  return `${num(n)} access role${n === 1 ? " passes its" : "s pass their"} own links`;
}

/** The names a folded line lists: its clients; for the summary, each access role with its client. */
export function foldNames(group: FoldGroup): string[] {
  return group.ownRoles ? group.clients.map((c, i) => `${group.roles[i] ?? ""} (${c})`) : group.clients;
}
