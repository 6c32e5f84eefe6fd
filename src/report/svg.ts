/**
 * The chain as an SVG picture. Client accounts (B) are boxes on the left, stacked, one per account; the
 * cluster account (A) is one box on the right with the cluster at its right edge. Each client gets lanes:
 *
 *   identity:  client role -> sts:AssumeRole -> | trust -> access role -> DescribeCluster -> access entry -> access policy -> cluster
 *   network:   client VPC  -> route to cluster -> | peering | <- return route <- security group -> cluster (endpoint)
 *   probe:     identity -> assume role -> DNS -> | TCP | -> TLS -> token -> whoami -> permissions -> cluster
 *
 * Every link of the report is exactly one element carrying `data-link-id`, `data-subject` and the classes
 * `link status-<status>`. A link shared by several rows (an access role used by two clients, the
 * cluster-wide links) is drawn once; the other rows show a faded, dashed copy without those attributes.
 * Links the layout has no place for are drawn in an "other links" strip, so none is ever left out.
 */
import { CLIENT_LINK_IDS, type LinkResult, type LinkStatus } from "../chain/types.js";
import { attrs, esc } from "./escape.js";
import {
  clientAccountsOf,
  clientRegionsOf,
  clusterAccountOf,
  orderedLinks,
  type RenderableReport,
  type ReportClient,
  statusOf,
} from "./model.js";

export interface SvgOptions {
  /** Client accounts when the caller knows them (the topology); else read from the report. */
  clients?: readonly ReportClient[];
  /** Numbers shown on links that do not pass (the HTML "what to fix" list). */
  numbers?: ReadonlyMap<LinkResult, number>;
  /**
   * Links of the report drawn in another picture of the same page (an access role's own links, drawn once
   * where its first client is): drawn here as faded copies without `data-link-id`, like shared links.
   */
  drawnElsewhere?: ReadonlySet<LinkResult>;
  /** Draw the cluster-wide badges (auth mode, endpoint) on the cluster node. Default true. */
  clusterBadges?: boolean;
  /** Prefix of the element ids (title, arrow markers), unique per picture on a page. Default "xk". */
  idPrefix?: string;
  /**
   * The picture leaves out clients drawn elsewhere (the main picture at scale): access roles drawn without a
   * client are labelled "No client shown" (their clients may be folded) rather than "No client". Default false.
   */
  clientsFolded?: boolean;
}

export interface Svg {
  svg: string;
  width: number;
  height: number;
}

/** Short names of links as drawn in the picture. */
const PICTURE_LABELS: Record<string, string> = {
  "topology.cidr-overlap": "client VPC",
  "network.peering": "peering",
  "network.route.client-to-cluster": "route to cluster",
  "network.route.cluster-to-client": "return route",
  "network.security-group": "security group",
  "network.public-access": "public endpoint",
  "network.endpoint": "private endpoint",
  "iam.client-role": "client role",
  "iam.assume-permission": "sts:AssumeRole",
  "iam.access-role-trust": "trust policy",
  "iam.describe-cluster": "DescribeCluster",
  "eks.authentication-mode": "auth mode",
  "eks.access-entry": "access entry",
  "eks.access-policy": "access policy",
  "client.identity": "identity",
  "client.assume-role": "assume role",
  "client.dns": "DNS",
  "client.tcp": "TCP 443",
  "client.tls": "TLS",
  "client.token": "token",
  "client.whoami": "whoami",
  "client.permissions": "permissions",
};

const CLUSTER_IDS = new Set(["eks.authentication-mode", "network.endpoint"]);
const PAIR_IDS = new Set(["iam.assume-permission", "iam.access-role-trust"]);
const ROLE_IDS = ["iam.describe-cluster", "eks.access-entry", "eks.access-policy"] as const;
const NET_IDS = [
  "topology.cidr-overlap",
  "network.route.client-to-cluster",
  "network.peering",
  "network.route.cluster-to-client",
  "network.security-group",
  "network.endpoint",
] as const;
const STRIP_IDS = CLIENT_LINK_IDS;
const CLIENT_IDS = new Set<string>(["iam.client-role", ...NET_IDS, ...STRIP_IDS]);

// Geometry (viewBox units). The picture is W wide and as tall as its clients need.
const W = 1440;
const M = 16;
const B0 = M; // client account boxes
const B1 = 400;
const BND = 436; // the account boundary
const A0 = 472; // cluster account box
const A1 = W - M;
const CL0 = 1270; // cluster node
const CL1 = 1410;
/** Where each slot sits on its lane: [left, right]. */
const X = {
  clientRole: [32, 172],
  assume: [222, 370],
  trust: [484, 602],
  accessRole: [616, 786],
  role: [
    [800, 946],
    [960, 1084],
    [1098, 1226],
  ],
  vpc: [32, 172],
  routeOut: [212, 358],
  peering: [390, 482],
  routeBack: [494, 618],
  sg: [632, 790],
  endpoint: [1000, 1152],
  strip: [
    [32, 128],
    [138, 262],
    [272, 344],
    [388, 484],
    [500, 650],
    [666, 816],
    [832, 982],
    [998, 1148],
  ],
} as const;
type Span = readonly [number, number];
const mid = (s: Span) => (s[0] + s[1]) / 2;
const wid = (s: Span) => s[1] - s[0];
const HEAD = 38; // account box header
const LABEL = 34; // client name above its lanes
const LANE = 60;
const BLOCK_PAD = 10;
const BOX_GAP = 14;
const NODE_H = 40;
const CHIP_H = 30;

const SANS =
  'ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif';
const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace';

const SVG_STYLE = `
.xk text{font-family:${SANS};fill:#0f172a}
.xk .acct{stroke-width:1.5}
.xk .acct-a{fill:#eef2ff;stroke:#a5b4fc}
.xk .acct-b{fill:#f8fafc;stroke:#cbd5e1}
.xk .acct-title{font-size:14px;font-weight:700}
.xk .acct-sub{font-size:11.5px;fill:#475569}
.xk .client-title{font-size:13px;font-weight:700;fill:#1e293b}
.xk .client-region{font-size:11px;fill:#475569}
.xk text.cross-region{fill:#b45309;font-weight:700}
.xk .role-caption{font-size:10.5px;fill:#475569}
.xk .lane-tag{font-size:9.5px;font-weight:700;letter-spacing:.08em;fill:#94a3b8}
.xk .boundary{stroke:#64748b;stroke-width:1.5;stroke-dasharray:2 5;fill:none}
.xk .boundary-tag{font-size:8.5px;font-weight:700;fill:#64748b;letter-spacing:.06em}
.xk .sep{stroke:#e2e8f0;stroke-width:1}
.xk .wire{fill:none;stroke-width:2.5}
.xk .neutral{stroke:#94a3b8;stroke-width:2;fill:none}
.xk .body{stroke-width:1.6}
.xk .chip-text{font-size:12px;font-weight:600}
.xk .node-title{font-size:12.5px;font-weight:700}
.xk .node-detail{font-size:11px;fill:#475569}
.xk .mono{font-family:${MONO}}
.xk .ic-glyph{stroke:#fff;stroke-width:1.9;fill:none;stroke-linecap:round;stroke-linejoin:round}
.xk .ic-q{fill:#fff;font-size:10.5px;font-weight:700}
.xk .num circle{fill:#0f172a}
.xk .num text{fill:#fff;font-size:10px;font-weight:700}
.xk .status-pass .body{fill:#ecfdf3;stroke:#16a34a}
.xk .status-pass .wire,.xk .status-pass.wire{stroke:#16a34a}
.xk .status-pass .ic{fill:#16a34a}
.xk .status-fail .body{fill:#fef2f2;stroke:#dc2626;stroke-width:2.2}
.xk .status-fail .wire,.xk .status-fail.wire{stroke:#dc2626;stroke-dasharray:7 5}
.xk .status-fail .ic{fill:#dc2626}
.xk .status-warn .body{fill:#fffbeb;stroke:#d97706;stroke-width:2}
.xk .status-warn .wire,.xk .status-warn.wire{stroke:#d97706}
.xk .status-warn .ic{fill:#d97706}
.xk .status-unknown .body{fill:#f3f4f6;stroke:#6b7280}
.xk .status-unknown .wire,.xk .status-unknown.wire{stroke:#6b7280;stroke-dasharray:2 4}
.xk .status-unknown .ic{fill:#6b7280}
.xk .neutral-node .body{fill:#fff;stroke:#64748b}
.xk .cluster .body{fill:#fff;stroke:#4f46e5;stroke-width:2}
.xk .cluster-kicker{font-size:10px;font-weight:700;letter-spacing:.08em;fill:#4f46e5}
.xk .mirror .body{fill:#fff;stroke-dasharray:5 3;stroke-width:1.4}
.xk .mirror text{fill:#64748b;font-weight:400}
.xk .mirror .ic,.xk .mirror .num{opacity:.55}
.xk .shared .body{stroke-dasharray:5 3}
.xk .placeholder .body{fill:none;stroke:#cbd5e1;stroke-dasharray:4 3}
.xk .placeholder text{fill:#94a3b8;font-style:italic}
.xk .link{cursor:help}
.xk .link:hover .body{stroke-width:3}
.xk .legend text{font-size:11.5px;fill:#334155}
`;

const COLORS: Record<LinkStatus | "neutral", string> = {
  pass: "#16a34a",
  fail: "#dc2626",
  warn: "#d97706",
  unknown: "#6b7280",
  neutral: "#94a3b8",
};

// Advance widths (1/100 em) of ASCII 32..126 in DejaVu Sans and DejaVu Sans Bold: the widest of the usual
// fallback fonts and the one headless browsers on Linux use. The picture has no script and cannot measure
// text, so labels are fitted to these widths, and fit wherever the page is opened.
const REGULAR = [
  32, 40, 46, 84, 64, 95, 78, 27, 39, 39, 50, 84, 32, 36, 32, 34, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 34,
  34, 84, 84, 84, 53, 100, 71, 69, 70, 77, 63, 58, 77, 75, 29, 29, 66, 56, 86, 75, 79, 60, 79, 69, 63, 60, 73,
  68, 99, 69, 61, 69, 39, 34, 39, 84, 50, 50, 61, 63, 55, 63, 62, 34, 63, 63, 28, 28, 58, 28, 97, 63, 61, 63,
  63, 40, 52, 39, 63, 59, 82, 59, 59, 52, 64, 34, 64, 84,
];
const BOLD = [
  35, 46, 52, 84, 70, 100, 87, 31, 46, 46, 52, 84, 38, 42, 38, 37, 70, 70, 70, 70, 70, 70, 70, 70, 70, 70, 40,
  40, 84, 84, 84, 58, 100, 77, 76, 73, 83, 68, 68, 82, 84, 37, 37, 77, 64, 100, 84, 85, 73, 85, 77, 68, 70,
  81, 77, 110, 77, 72, 73, 46, 37, 46, 84, 50, 50, 67, 72, 59, 72, 68, 41, 72, 71, 34, 34, 67, 34, 104, 71,
  69, 72, 72, 49, 60, 48, 71, 65, 92, 65, 65, 58, 71, 37, 71, 84,
];

/** Width of text at `size` px (non-ASCII counted as one em, to be safe). */
function textWidth(s: string, size: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    w += c >= 32 && c <= 126 ? (table[c - 32] ?? 100) : 100;
  }
  return (w / 100) * size;
}

/** The text, cut with an ellipsis to fit `width`. */
function fit(s: string, width: number, size: number, bold = false): string {
  const clean = s.replace(/\s+/g, " ").trim();
  if (textWidth(clean, size, bold) <= width) return clean;
  const chars = [...clean];
  while (chars.length > 1 && textWidth(`${chars.join("")}…`, size, bold) > width) chars.pop();
  return `${chars.join("")}…`;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

function icon(status: LinkStatus, cx: number, cy: number): string {
  const glyph =
    status === "pass"
      ? `<path class="ic-glyph" d="M-3.3 0.2 L-1 2.6 L3.4 -2.6"/>`
      : status === "fail"
        ? `<path class="ic-glyph" d="M-2.6 -2.6 L2.6 2.6 M2.6 -2.6 L-2.6 2.6"/>`
        : status === "warn"
          ? `<path class="ic-glyph" d="M0 -3.6 V0.6 M0 3.2 V3.3"/>`
          : `<text class="ic-q" x="0" y="3.7" text-anchor="middle">?</text>`;
  return `<g transform="translate(${r1(cx)} ${r1(cy)})"><circle class="ic" r="7.5"/>${glyph}</g>`;
}

function tooltip(link: LinkResult, note?: string): string {
  const status = statusOf(link);
  const lines = [`${link.id}: ${status.toUpperCase()}`, link.subject, link.summary];
  if (link.fix && status !== "pass") lines.push(`fix: ${link.fix}`);
  if (note) lines.push(note);
  return `<title>${esc(lines.join("\n"))}</title>`;
}

type Kind = "real" | "mirror";

/** The attributes of a link's element: the one real element, or a faded copy elsewhere. */
function linkAttrs(link: LinkResult, kind: Kind): string {
  const status = statusOf(link);
  return kind === "real"
    ? attrs({ class: `link status-${status}`, "data-link-id": link.id, "data-subject": link.subject })
    : attrs({ class: `mirror status-${status}` });
}

class Picture {
  readonly parts: string[] = [];
  constructor(
    private readonly numbers: ReadonlyMap<LinkResult, number>,
    private readonly ids = "xk",
  ) {}

  add(s: string): void {
    this.parts.push(s);
  }

  private number(link: LinkResult, x: number, y: number): string {
    const n = this.numbers.get(link);
    if (n === undefined) return "";
    return `<g class="num" transform="translate(${r1(x)} ${r1(y)})"><circle r="8.5"/><text x="0" y="3.5" text-anchor="middle">${n}</text></g>`;
  }

  /** A pill with a mark and a short label, centered on (cx, cy); `wire` is drawn first, in the link's color. */
  chip(
    link: LinkResult | undefined,
    cx: number,
    cy: number,
    w: number,
    label: string,
    opts: ChipOpts = {},
  ): void {
    const x = cx - w / 2;
    const y = cy - CHIP_H / 2;
    if (!link) {
      this.add(
        `<g class="placeholder">${opts.wire ? `<path class="neutral" stroke-dasharray="3 4" d="${opts.wire}"/>` : ""}` +
          `<rect class="body" x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${CHIP_H}" rx="15"/>` +
          `<text x="${r1(cx)}" y="${r1(cy + 4)}" text-anchor="middle" font-size="11">${esc(fit(`${label}: not checked`, w - 16, 11))}</text></g>`,
      );
      return;
    }
    const status = statusOf(link);
    const kind = opts.kind ?? "real";
    const wire = opts.wire
      ? `<path class="wire" d="${opts.wire}"${opts.markerStart ? ` marker-start="url(#${this.ids}-start-${status})"` : ""}${opts.markerEnd ? ` marker-end="url(#${this.ids}-end-${status})"` : ""}/>`
      : "";
    const text = fit(label, w - 36, 12, true);
    this.add(
      `<g${linkAttrs(link, kind)}>${tooltip(link, kind === "mirror" ? opts.note : undefined)}${wire}` +
        `<rect class="body" x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${CHIP_H}" rx="15"/>` +
        icon(status, x + 16, cy) +
        `<text class="chip-text" x="${r1(x + 29)}" y="${r1(cy + 4.2)}">${esc(text)}</text>` +
        this.number(link, x + w - 4, y + 1) +
        `</g>`,
    );
  }

  /** A box with a title and a detail line; a link's node when `link` is set, else a neutral node. */
  node(
    link: LinkResult | undefined | null,
    x: number,
    cy: number,
    w: number,
    title: string,
    detail: string,
    opts: NodeOpts = {},
  ): void {
    const y = cy - NODE_H / 2;
    const withIcon = link !== null;
    const tx = withIcon ? x + 30 : x + 12;
    const titleText = fit(title, x + w - tx - 8, 12.5, true);
    const detailText = fit(detail, x + w - tx - 8, 11);
    const body =
      `<rect class="body" x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${NODE_H}" rx="8"/>` +
      `<text class="node-title" x="${r1(tx)}" y="${r1(cy - 3)}">${esc(titleText)}</text>` +
      `<text class="node-detail${opts.monoDetail ? " mono" : ""}" x="${r1(tx)}" y="${r1(cy + 12)}">${esc(detailText)}</text>`;
    if (link === null) {
      const cls = `neutral-node${opts.shared ? " shared" : ""}`;
      this.add(`<g class="${cls}">${opts.title ? `<title>${esc(opts.title)}</title>` : ""}${body}</g>`);
      return;
    }
    if (!link) {
      this.add(
        `<g class="placeholder"><rect class="body" x="${r1(x)}" y="${r1(y)}" width="${r1(w)}" height="${NODE_H}" rx="8"/>` +
          `<text x="${r1(x + 12)}" y="${r1(cy + 4)}" font-size="11">${esc(fit(`${title}: not checked`, w - 20, 11))}</text></g>`,
      );
      return;
    }
    const status = statusOf(link);
    this.add(
      `<g${linkAttrs(link, "real")}>${tooltip(link)}${body}${icon(status, x + 16, cy - 6)}${this.number(link, x + w - 4, y + 1)}</g>`,
    );
  }
}

interface ChipOpts {
  kind?: Kind;
  note?: string;
  wire?: string;
  markerStart?: boolean;
  markerEnd?: boolean;
}

interface NodeOpts {
  shared?: boolean;
  title?: string;
  monoDetail?: boolean;
}

interface Block {
  client: string;
  /** One identity row per access role; `undefined`: a client role with no access role. */
  roles: (string | undefined)[];
  net: boolean;
  strip: boolean;
}

function markerDefs(ids: string): string {
  const out: string[] = [];
  for (const [name, color] of Object.entries(COLORS)) {
    out.push(
      `<marker id="${ids}-end-${name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="${color}"/></marker>`,
      `<marker id="${ids}-start-${name}" viewBox="0 0 10 10" refX="1" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto"><path d="M10 0 L0 5 L10 10 z" fill="${color}"/></marker>`,
    );
  }
  return `<defs>${out.join("")}</defs>`;
}

/** The picture of the chain. */
export function renderSvg(report: RenderableReport, options: SvgOptions = {}): Svg {
  const ids = options.idPrefix ?? "xk";
  const elsewhere = options.drawnElsewhere ?? new Set<LinkResult>();
  const pic = new Picture(options.numbers ?? new Map(), ids);

  // Place every link in a slot of the layout; collisions and unknown ids go to the "other links" strip.
  const slots = new Map<string, LinkResult>();
  const extras: LinkResult[] = [];
  const clients: string[] = [];
  const rolesOf = new Map<string, string[]>();
  const roleOnly: string[] = [];
  const noteClient = (c: string) => {
    if (!clients.includes(c)) clients.push(c);
    if (!rolesOf.has(c)) rolesOf.set(c, []);
  };
  const notePair = (c: string, r: string) => {
    noteClient(c);
    const roles = rolesOf.get(c) ?? [];
    if (!roles.includes(r)) roles.push(r);
  };
  for (const link of orderedLinks(report.links)) {
    const id: string = link.id;
    const c = link.client;
    const r = link.accessRole;
    let key: string | undefined;
    if (c === undefined && r === undefined) {
      if (CLUSTER_IDS.has(id)) key = `C|${id}`;
      else if (CLIENT_IDS.has(id)) {
        noteClient("");
        key = `K||${id}`;
      }
    } else if (id === "iam.assume-permission" && c !== undefined && r === undefined) {
      // A client that no access role names: drawn on its identity row, in place of the missing access role.
      noteClient(c);
      key = `K|${c}|${id}`;
    } else if (PAIR_IDS.has(id) || (c !== undefined && (ROLE_IDS as readonly string[]).includes(id))) {
      notePair(c ?? "", r ?? "");
      key = `P|${c ?? ""}|${r ?? ""}|${id}`;
    } else if (r !== undefined && (ROLE_IDS as readonly string[]).includes(id)) {
      if (!roleOnly.includes(r)) roleOnly.push(r);
      key = `R|${r}|${id}`;
    } else if (CLIENT_IDS.has(id)) {
      noteClient(c ?? "");
      key = `K|${c ?? ""}|${id}`;
    }
    if (key === undefined || slots.has(key)) {
      // A link drawn in another picture of the page and with no slot here is left to that picture.
      if (!elsewhere.has(link)) extras.push(link);
    } else slots.set(key, link);
  }
  // An access role no client row reaches still gets a row (under "no client").
  for (const r of roleOnly) {
    if (![...rolesOf.values()].some((roles) => roles.includes(r))) notePair("", r);
  }

  const blocks: Block[] = [];
  for (const c of clients) {
    const has = (id: string) => slots.has(`K|${c}|${id}`);
    const roles: (string | undefined)[] = [...(rolesOf.get(c) ?? [])];
    if (roles.length === 0 && (has("iam.client-role") || has("iam.assume-permission"))) roles.push(undefined);
    const block: Block = { client: c, roles, net: NET_IDS.some(has), strip: STRIP_IDS.some(has) };
    if (block.roles.length || block.net || block.strip) blocks.push(block);
  }
  const chainDrawn = blocks.some((b) => b.roles.length > 0 || b.net);

  // Client accounts: one box per account, in order of first appearance.
  const accounts = clientAccountsOf(report, options.clients);
  const regions = clientRegionsOf(report, options.clients);
  const clusterAccount = clusterAccountOf(report);
  const boxes: { account: string | undefined; blocks: Block[] }[] = [];
  for (const b of blocks) {
    const account = b.client === "" ? undefined : accounts.get(b.client);
    const box = account !== undefined ? boxes.find((x) => x.account === account) : undefined;
    if (box) box.blocks.push(b);
    else boxes.push({ account, blocks: [b] });
  }

  const blockHeight = (b: Block) =>
    LABEL + (b.roles.length + (b.net ? 1 : 0) + (b.strip ? 1 : 0)) * LANE + BLOCK_PAD;
  const top = M;
  let y = top;
  const drawnRoles = new Set<string>();
  /** Shared access-role links already drawn, and for which client. */
  const drawnShared = new Map<string, string>();
  const firstClientOfRole = new Map<string, string>();

  const clusterName = report.cluster?.name ?? "cluster";
  const laneTag = (text: string, x: number, cy: number) =>
    pic.add(`<text class="lane-tag" x="${x}" y="${r1(cy - NODE_H / 2 - 5)}">${esc(text)}</text>`);

  const boxParts: string[] = [];
  for (const box of boxes) {
    const boxTop = y;
    const inner = box.blocks.reduce((h, b) => h + blockHeight(b), 0);
    const boxH = HEAD + inner + 6;
    const title =
      box.account !== undefined
        ? `Account ${box.account}`
        : box.blocks.every((b) => b.client === "")
          ? options.clientsFolded
            ? "No client shown"
            : "No client"
          : "Account (id not in report)";
    const kind =
      box.account === undefined && box.blocks.every((b) => b.client === "")
        ? ""
        : box.blocks.length > 1
          ? `client account · ${box.blocks.length} clients`
          : "client account";
    boxParts.push(
      `<rect class="acct acct-b" x="${B0}" y="${boxTop}" width="${B1 - B0}" height="${boxH}" rx="12"/>` +
        `<text class="acct-title" x="${B0 + 16}" y="${boxTop + 24}">${esc(title)}</text>` +
        `<text class="acct-sub" x="${B1 - 16}" y="${boxTop + 24}" text-anchor="end">${esc(kind)}</text>`,
    );
    y = boxTop + HEAD;
    box.blocks.forEach((b, bi) => {
      if (bi > 0) pic.add(`<line class="sep" x1="${B0 + 12}" x2="${B1 - 12}" y1="${y - 2}" y2="${y - 2}"/>`);
      const c = b.client;
      const clientTitle =
        c === ""
          ? b.roles.length && !b.net && !b.strip
            ? options.clientsFolded
              ? "access roles of folded clients, or of none"
              : "access roles no client uses"
            : "client"
          : `client ${c}`;
      // The client's region, on the right of its title; a region other than the cluster's is marked, since
      // the peering then crosses regions (inter-region data transfer, and the peering's own region rules).
      const where = c === "" ? undefined : regions.get(c);
      const regionText = where ? (where.crossRegion ? `${where.region} · cross-region` : where.region) : "";
      const regionWidth = regionText ? textWidth(regionText, 11, where?.crossRegion) + 12 : 0;
      pic.add(
        `<text class="client-title" x="${B0 + 16}" y="${y + 20}">${esc(fit(clientTitle, B1 - B0 - 32 - regionWidth, 13, true))}</text>`,
      );
      if (where) {
        pic.add(
          `<text${attrs({
            class: `client-region${where.crossRegion ? " cross-region" : ""}`,
            x: String(B1 - 16),
            y: String(y + 20),
            "text-anchor": "end",
            "data-client": c,
            "data-region": where.region,
          })}><title>${esc(
            where.crossRegion
              ? `client ${c} is in ${where.region}, the cluster in ${report.cluster?.region ?? "another region"}: the peering crosses regions`
              : `client ${c} is in ${where.region}, as the cluster`,
          )}</title>${esc(regionText)}</text>`,
        );
      }
      let cy = y + LABEL + LANE / 2 + 2;
      const k = (id: string) => slots.get(`K|${c}|${id}`);

      // Identity rows.
      b.roles.forEach((r, ri) => {
        const p = (id: string) => (r === undefined ? undefined : slots.get(`P|${c}|${r}|${id}`));
        const noClient = c === "" && !p("iam.assume-permission") && !p("iam.access-role-trust");
        const roleOut = X.clientRole[1];
        if (ri === 0) {
          laneTag("IDENTITY", B0 + 16, cy);
          if (!noClient)
            pic.node(
              k("iam.client-role"),
              X.clientRole[0],
              cy,
              wid(X.clientRole),
              "client role",
              c === "" ? "(unnamed)" : `client ${c}`,
            );
        } else if (!noClient) {
          // Further access roles branch off the client role.
          const bx = mid(X.clientRole);
          pic.add(`<path class="neutral" d="M${bx} ${r1(cy - LANE + NODE_H / 2)} V${r1(cy)} H${roleOut}"/>`);
        }
        if (r === undefined) {
          const none = k("iam.assume-permission");
          if (none) {
            pic.chip(none, mid(X.assume), cy, wid(X.assume), "no access role", {
              wire: `M${roleOut} ${r1(cy)} H${BND}`,
            });
          } else {
            pic.add(`<path class="neutral" stroke-dasharray="3 4" d="M${roleOut} ${r1(cy)} H${BND}"/>`);
          }
          pic.add(
            `<text class="node-detail" x="${X.trust[0]}" y="${r1(cy + 4)}">no access role names this client: no access to the cluster</text>`,
          );
          cy += LANE;
          return;
        }
        if (!noClient) {
          pic.chip(
            p("iam.assume-permission"),
            mid(X.assume),
            cy,
            wid(X.assume),
            PICTURE_LABELS["iam.assume-permission"] ?? "",
            {
              wire: `M${roleOut} ${r1(cy)} H${BND}`,
            },
          );
          pic.chip(
            p("iam.access-role-trust"),
            mid(X.trust),
            cy,
            wid(X.trust),
            PICTURE_LABELS["iam.access-role-trust"] ?? "",
            {
              wire: `M${BND} ${r1(cy)} H${X.accessRole[0]}`,
              markerEnd: true,
            },
          );
        }
        const shared = r !== "" && drawnRoles.has(r);
        const roleName = r === "" ? "(access role not named)" : r;
        const first = firstClientOfRole.get(r);
        const nodeDetail = shared ? "shared, see above" : "access role in A";
        const fits = fit(roleName, wid(X.accessRole) - 20, 12.5, true) === roleName;
        if (shared || !fits) {
          const caption = shared
            ? `access role ${roleName}, shared with ${first === "" || first === undefined ? "a row above" : `client ${first}`}`
            : `access role ${roleName}`;
          pic.add(
            `<text class="role-caption" x="${X.accessRole[0] + 2}" y="${r1(cy - NODE_H / 2 - 6)}">${esc(
              fit(caption, X.role[2][1] - X.accessRole[0], 10.5),
            )}</text>`,
          );
        }
        pic.node(null, X.accessRole[0], cy, wid(X.accessRole), roleName, nodeDetail, {
          shared,
          title: shared ? `access role ${r}: its own links are drawn once, above` : `access role ${r}`,
        });
        pic.add(
          `<path class="neutral" d="M${X.accessRole[1]} ${r1(cy)} H${CL0}" marker-end="url(#${ids}-end-neutral)"/>`,
        );
        for (const [i, id] of ROLE_IDS.entries()) {
          const span = X.role[i] ?? X.role[0];
          const label = PICTURE_LABELS[id] ?? id;
          const own = p(id);
          const key = `R|${r}|${id}`;
          const roleLink = r === "" ? undefined : slots.get(key);
          if (own) pic.chip(own, mid(span), cy, wid(span), label);
          else if (roleLink && drawnShared.has(key))
            pic.chip(roleLink, mid(span), cy, wid(span), label, {
              kind: "mirror",
              note: `(shared: drawn once, for client ${drawnShared.get(key) || "(unnamed)"})`,
            });
          else if (roleLink && elsewhere.has(roleLink))
            pic.chip(roleLink, mid(span), cy, wid(span), label, {
              kind: "mirror",
              note: "(shared: drawn once, in another picture of this page)",
            });
          else {
            pic.chip(roleLink, mid(span), cy, wid(span), label);
            if (roleLink) drawnShared.set(key, c);
          }
        }
        if (r !== "" && !drawnRoles.has(r)) {
          drawnRoles.add(r);
          firstClientOfRole.set(r, c);
        }
        cy += LANE;
      });

      // Network row.
      if (b.net) {
        laneTag("NETWORK", B0 + 16, cy);
        pic.node(k("topology.cidr-overlap"), X.vpc[0], cy, wid(X.vpc), "client VPC", "no CIDR overlap");
        pic.chip(
          k("network.route.client-to-cluster"),
          mid(X.routeOut),
          cy,
          wid(X.routeOut),
          "route to cluster",
          {
            wire: `M${X.vpc[1]} ${r1(cy)} H${X.peering[0]}`,
            markerEnd: true,
          },
        );
        pic.add(
          `<path class="neutral" d="M${X.sg[1]} ${r1(cy)} H${CL0}" marker-end="url(#${ids}-end-neutral)"/>`,
        );
        pic.chip(
          k("network.route.cluster-to-client"),
          mid(X.routeBack),
          cy,
          wid(X.routeBack),
          "return route",
          {
            wire: `M${X.peering[1]} ${r1(cy)} H${X.sg[0]}`,
            markerStart: true,
          },
        );
        pic.chip(k("network.peering"), mid(X.peering), cy, wid(X.peering), "peering");
        const crossing = c === "" ? undefined : regions.get(c);
        if (crossing?.crossRegion) {
          pic.add(
            `<text class="node-detail cross-region" x="${mid(X.peering)}" y="${r1(cy + CHIP_H / 2 + 11)}" text-anchor="middle">inter-region</text>`,
          );
        }
        pic.node(
          k("network.security-group"),
          X.sg[0],
          cy,
          wid(X.sg),
          "security group",
          "TCP 443 from client",
        );
        const endpoint = k("network.endpoint");
        if (endpoint) pic.chip(endpoint, mid(X.endpoint), cy, wid(X.endpoint), "private endpoint");
        pic.add(
          `<text class="node-detail" x="${CL0 - 14}" y="${r1(cy - 7)}" text-anchor="end">TCP 443</text>`,
        );
        cy += LANE;
      }

      // Client-side probe strip.
      if (b.strip) {
        laneTag("PROBE FROM THE CLIENT", B0 + 16, cy);
        pic.add(
          `<path class="neutral" d="M${X.strip[0][0] + 8} ${r1(cy)} H${CL0}" marker-end="url(#${ids}-end-neutral)"/>`,
        );
        for (const [i, id] of STRIP_IDS.entries()) {
          const span = X.strip[i] ?? X.strip[0];
          pic.chip(k(id), mid(span), cy, wid(span), PICTURE_LABELS[id] ?? id);
        }
        cy += LANE;
      }
      y += blockHeight(b);
    });
    y = boxTop + boxH + BOX_GAP;
  }

  // The cluster account box spans all client boxes; the cluster node spans the lanes.
  const contentBottom = boxes.length ? y - BOX_GAP : top + HEAD + 40;
  const badges = (["eks.authentication-mode", "network.endpoint"] as const).filter(
    (id) => options.clusterBadges !== false && (slots.has(`C|${id}`) || chainDrawn),
  );
  const aBottom = Math.max(contentBottom, top + HEAD + (badges.length ? 186 : 96));
  const clusterTop = top + HEAD + 6;
  const clusterH = aBottom - 10 - clusterTop;
  const aParts: string[] = [];
  aParts.push(
    `<rect class="acct acct-a" x="${A0}" y="${top}" width="${A1 - A0}" height="${aBottom - top}" rx="12"/>` +
      `<text class="acct-title" x="${A0 + 16}" y="${top + 24}">${esc(`Account ${clusterAccount ?? "(id not in report)"}`)}</text>` +
      `<text class="acct-sub" x="${A1 - 16}" y="${top + 24}" text-anchor="end">${esc(fit(`cluster account${report.cluster?.region ? ` · ${report.cluster.region}` : ""}`, 300, 11.5))}</text>`,
    `<line class="boundary" x1="${BND}" x2="${BND}" y1="${top + 34}" y2="${aBottom - 4}"/>`,
    `<text class="boundary-tag" x="${BND}" y="${top + 16}" text-anchor="middle">ACCOUNT</text>`,
    `<text class="boundary-tag" x="${BND}" y="${top + 27}" text-anchor="middle">BOUNDARY</text>`,
  );
  aParts.push(
    `<g class="cluster"><title>${esc(`EKS cluster ${clusterName}${report.cluster ? ` in ${report.cluster.region}, account ${report.cluster.account}` : ""}`)}</title>` +
      `<rect class="body" x="${CL0}" y="${clusterTop}" width="${CL1 - CL0}" height="${clusterH}" rx="10"/>` +
      `<text class="cluster-kicker" x="${CL0 + 12}" y="${clusterTop + 18}">EKS CLUSTER</text>` +
      `<text class="node-title" x="${CL0 + 12}" y="${clusterTop + 36}">${esc(fit(clusterName, CL1 - CL0 - 20, 12.5, true))}</text>` +
      `<text class="node-detail" x="${CL0 + 12}" y="${clusterTop + 51}">${esc(fit(report.cluster?.region ?? "", CL1 - CL0 - 20, 11))}</text></g>`,
  );
  const badgeParts = new Picture(options.numbers ?? new Map(), ids);
  badges.forEach((id, i) => {
    badgeParts.chip(
      slots.get(`C|${id}`),
      (CL0 + CL1) / 2,
      clusterTop + 80 + i * 40,
      CL1 - CL0 - 16,
      id === "network.endpoint" ? "endpoint" : (PICTURE_LABELS[id] ?? id),
    );
  });

  // Links with no place in the picture, so that none is left out.
  for (const [key, link] of slots)
    if (key.startsWith("R|") && !drawnShared.has(key) && !elsewhere.has(link)) extras.push(link);
  let bottom = aBottom;
  const extraParts = new Picture(options.numbers ?? new Map(), ids);
  if (extras.length) {
    const perRow = 5;
    const cw = (W - 2 * M - 32 - (perRow - 1) * 12) / perRow;
    const rows = Math.ceil(extras.length / perRow);
    const sTop = bottom + 18;
    const sH = 40 + rows * 42;
    extraParts.add(
      `<rect class="acct acct-b" x="${M}" y="${sTop}" width="${W - 2 * M}" height="${sH}" rx="12"/>` +
        `<text class="acct-title" x="${M + 16}" y="${sTop + 24}">Other links</text>`,
    );
    extras.forEach((link, i) => {
      const cx = M + 16 + (i % perRow) * (cw + 12) + cw / 2;
      const cy = sTop + 54 + Math.floor(i / perRow) * 42;
      const who = link.client ?? link.accessRole ?? link.subject;
      extraParts.chip(link, cx, cy, cw, `${link.id} · ${who}`);
    });
    bottom = sTop + sH;
  }

  // Legend.
  const ly = bottom + 26;
  const legend: string[] = [`<g class="legend">`];
  const items: [LinkStatus, string][] = [
    ["pass", "holds"],
    ["fail", "broken"],
    ["warn", "works, worth a look"],
    ["unknown", "could not be decided"],
  ];
  let lx = M + 4;
  for (const [status, text] of items) {
    legend.push(`<g class="status-${status}">${icon(status, lx + 8, ly)}</g>`);
    legend.push(
      `<text x="${lx + 22}" y="${ly + 4}"><tspan font-weight="700">${status}</tspan> ${esc(text)}</text>`,
    );
    lx += 36 + textWidth(`${status} ${text}`, 11.5) + 10;
  }
  if (pic.parts.some((part) => part.startsWith('<g class="mirror'))) {
    legend.push(
      `<rect x="${lx}" y="${ly - 9}" width="26" height="18" rx="9" fill="#fff" stroke="#64748b" stroke-dasharray="5 3"/>`,
      `<text x="${lx + 34}" y="${ly + 4}">shared link, drawn once above</text>`,
    );
    lx += 34 + textWidth("shared link, drawn once above", 11.5) + 24;
  }
  if ((options.numbers?.size ?? 0) > 0)
    legend.push(
      `<g class="num" transform="translate(${lx + 8} ${ly})"><circle r="8.5"/><text x="0" y="3.5" text-anchor="middle">1</text></g>`,
      `<text x="${lx + 22}" y="${ly + 4}">numbered: what to fix, in order</text>`,
    );
  legend.push("</g>");
  const height = Math.ceil(ly + 22);

  const svg =
    `<svg class="xk" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-labelledby="${ids}-title">` +
    `<title id="${ids}-title">${esc(`Access chain to EKS cluster ${clusterName}`)}</title>` +
    `<style>${SVG_STYLE}</style>${markerDefs(ids)}` +
    aParts.join("") +
    boxParts.join("") +
    pic.parts.join("") +
    badgeParts.parts.join("") +
    extraParts.parts.join("") +
    legend.join("") +
    `</svg>`;
  return { svg, width: W, height };
}
