/**
 * The chain report as one self-contained HTML page: verdict, the SVG picture of the chain, what to fix
 * (numbered as in the picture) and a table of every link. Inline CSS, no fonts or images, so it can be
 * attached to a ticket and opened anywhere; a Content-Security-Policy lets nothing be fetched and no script
 * run, but the filter of a page at scale, by its hash (scale.ts). All report text is escaped.
 */
import type { ChainReport, LinkResult, LinkStatus } from "../chain/types.js";
import { attrs, esc } from "./escape.js";
import {
  clientAccountsOf,
  clientRegionsOf,
  countStatuses,
  countsPhrase,
  effectiveVerdict,
  FOLD_ABOVE,
  foldingOf,
  issueNumbers,
  modeTitle,
  num,
  orderedLinks,
  type RenderableReport,
  type ReportClient,
  statusOf,
  verdictAdvice,
} from "./model.js";
import {
  contentSecurityPolicy,
  FILTER_SCRIPT,
  filterBox,
  linkFilterAttrs,
  SCALE_STYLE,
  scaleOrder,
  scaleParts,
} from "./scale.js";
import { renderSvg } from "./svg.js";
import { MARKS } from "./text.js";

export interface HtmlOptions {
  /** The page title and heading. Default: "Access chain to EKS cluster NAME". */
  title?: string;
  /** Client accounts, when the caller knows them (the topology). The picture labels client boxes with them. */
  clients?: readonly ReportClient[];
  /**
   * Fold when more than this many clients pass all their links (default FOLD_ABOVE, 10): the main picture
   * draws the others, each passing group is a `<details>` with its own picture, and the page gets a filter
   * box (docs/report.md "At scale").
   */
  foldAbove?: number;
}

const PAGE_STYLE = `
:root{--pass:#16a34a;--fail:#dc2626;--warn:#d97706;--unknown:#6b7280;--ink:#0f172a;--muted:#475569;--line:#e2e8f0}
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:var(--ink);font:14px/1.5 ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:1480px;margin:0 auto;padding:20px 24px 40px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:10px 24px;margin-bottom:14px}
header.top .titles{flex:1 1 560px;min-width:0}
.kicker{font-size:11px;font-weight:700;letter-spacing:.12em;text-transform:uppercase;color:#6366f1}
h1{font-size:22px;margin:2px 0 2px;overflow-wrap:anywhere}
.meta{color:var(--muted);margin:0}
ul.clients{list-style:none;margin:4px 0 0;padding:0;color:var(--muted);font-size:13px}
ul.clients .cross-region strong,strong.cross-region{color:#b45309}
.verdict{display:flex;align-items:center;gap:14px;border-radius:12px;padding:10px 18px;color:#fff;max-width:620px}
.verdict .word{font-size:26px;font-weight:800;letter-spacing:.04em;white-space:nowrap}
.verdict .why{font-size:13.5px;line-height:1.35}
.verdict-pass{background:var(--pass)}.verdict-fail{background:var(--fail)}.verdict-unknown{background:var(--unknown)}
.counts{display:flex;gap:8px;list-style:none;padding:0;margin:6px 0 0}
.counts li{border-radius:999px;padding:1px 10px;font-weight:600;font-size:12.5px;background:#fff;border:1px solid var(--line)}
.counts .c-pass{color:var(--pass)}.counts .c-fail{color:var(--fail)}.counts .c-warn{color:var(--warn)}.counts .c-unknown{color:var(--unknown)}
figure.chain{margin:0;background:#fff;border:1px solid var(--line);border-radius:14px;padding:14px;box-shadow:0 1px 2px rgba(15,23,42,.06)}
figure.chain svg{display:block;width:100%;height:auto}
figcaption{margin-top:10px;border-top:1px solid var(--line);padding-top:10px}
h2{font-size:16px;margin:8px 0}
ol.fixes{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:10px}
ol.fixes li{border:1px solid var(--line);border-left:5px solid var(--unknown);border-radius:8px;padding:8px 12px;background:#fff;min-width:0}
ol.fixes li.status-fail{border-left-color:var(--fail)}ol.fixes li.status-warn{border-left-color:var(--warn)}
ol.fixes .head{display:flex;align-items:baseline;gap:8px;flex-wrap:wrap}
.num{display:inline-flex;align-items:center;justify-content:center;min-width:20px;height:20px;border-radius:10px;background:var(--ink);color:#fff;font-size:11px;font-weight:700;padding:0 5px}
.pill{display:inline-block;border-radius:999px;padding:0 9px;font-size:12px;font-weight:700;color:#fff;white-space:nowrap}
.pill.status-pass{background:var(--pass)}.pill.status-fail{background:var(--fail)}.pill.status-warn{background:var(--warn)}.pill.status-unknown{background:var(--unknown)}
.subject{color:var(--muted);overflow-wrap:anywhere}
.summary{margin:4px 0;overflow-wrap:anywhere}
pre.fix{margin:4px 0 0;background:#0f172a;color:#e2e8f0;border-radius:6px;padding:7px 10px;white-space:pre-wrap;overflow-wrap:anywhere}
.none{color:var(--muted);margin:0}
section.links{margin-top:22px;background:#fff;border:1px solid var(--line);border-radius:14px;padding:14px}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{text-align:left;vertical-align:top;padding:7px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
tr.status-fail td:first-child{box-shadow:inset 4px 0 var(--fail)}tr.status-warn td:first-child{box-shadow:inset 4px 0 var(--warn)}tr.status-unknown td:first-child{box-shadow:inset 4px 0 var(--unknown)}
td pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
details{margin-top:4px;color:var(--muted);font-size:12.5px}
details ul{margin:4px 0;padding-left:18px}
footer{margin-top:18px;color:var(--muted);font-size:12.5px}
`;

function pill(status: LinkStatus): string {
  return `<span class="pill status-${status}">${MARKS[status]} ${status}</span>`;
}

function evidenceHtml(link: LinkResult): string {
  const ev = link.evidence ?? [];
  if (!ev.length) return "";
  const items = ev
    .map(
      (e) =>
        `<li><span class="mono">[${esc(e.source)}]</span> ${esc(e.fact)}${e.detail ? `: <span class="mono">${esc(e.detail)}</span>` : ""}</li>`,
    )
    .join("");
  return `<details><summary>evidence (${ev.length})</summary><ul>${items}</ul></details>`;
}

/** One self-contained HTML document (UTF-8), ending with a newline. */
export function renderHtml(report: ChainReport, options: HtmlOptions = {}): string {
  const r = report as RenderableReport;
  const verdict = effectiveVerdict(r);
  const counts = countStatuses(r.links);
  const numbers = issueNumbers(r.links);
  const ordered = orderedLinks(r.links);
  const clusterName = r.cluster?.name;
  const title =
    options.title ?? (clusterName ? `Access chain to EKS cluster ${clusterName}` : "xeks chain report");
  // At scale: the main picture draws the clients that do not pass; the passing ones are folded below it.
  const folding = foldingOf(r.links, options.foldAbove ?? FOLD_ABOVE);
  const scale = folding ? scaleParts(r, folding, numbers, options.clients) : undefined;
  const { svg } = renderSvg(scale && folding ? { ...r, links: scaleOrder(scale.main, folding) } : r, {
    clients: options.clients,
    numbers,
    drawnElsewhere: scale?.mainElsewhere,
    ...(scale ? { clientsFolded: true } : {}),
  });
  const filterAttrs = (l: LinkResult) => (scale ? linkFilterAttrs(l) : "");
  const links = folding ? scaleOrder(ordered, folding) : ordered;

  const meta = [modeTitle(r.mode)];
  if (r.cluster) meta.push(`cluster ${r.cluster.name}`, `account ${r.cluster.account}`, r.cluster.region);

  // Where each client is: its account and region, a region other than the cluster's marked (the peering
  // crosses regions, which the picture alone would not show).
  const regions = clientRegionsOf(r, options.clients);
  const accounts = clientAccountsOf(r, options.clients);
  const clientNames = [
    ...new Set([...(options.clients ?? r.clients ?? []).map((c) => c.name), ...accounts.keys()]),
  ];
  const clientStatus = (name: string) => {
    const own = r.links.filter((l) => l.client === name).map(statusOf);
    return (["fail", "unknown", "warn"] as const).find((s) => own.includes(s)) ?? "pass";
  };
  const clientItems = clientNames
    .map((name) => {
      const where = regions.get(name);
      const account =
        accounts.get(name) ?? (options.clients ?? r.clients ?? []).find((c) => c.name === name)?.account;
      const parts = [`client ${name}`];
      if (account) parts.push(`account ${account}`);
      if (where) parts.push(where.region);
      const cross = where?.crossRegion
        ? ` <strong class="cross-region">cross-region: the peering joins ${esc(where.region)} to the cluster's ${esc(r.cluster?.region ?? "region")}</strong>`
        : "";
      const filter = scale
        ? { "data-filter": parts.join(" ").toLowerCase(), "data-status": clientStatus(name) }
        : {};
      return `<li${attrs({ class: where?.crossRegion ? "cross-region" : undefined, "data-client": name, "data-region": where?.region, ...filter })}>${esc(parts.join(" · "))}${cross}</li>`;
    })
    .join("");
  const clientList = !clientItems
    ? ""
    : folding
      ? `<details class="client-list" data-opens><summary>${esc(
          `${num(clientNames.length)} clients: ${num(folding.shown.length)} shown in full, ${num(clientNames.length - folding.shown.length)} pass all their links`,
        )}</summary><ul class="clients">${clientItems}</ul></details>`
      : `<ul class="clients">${clientItems}</ul>`;

  const countItems = (["pass", "fail", "warn", "unknown"] as const)
    .filter((s) => s === "pass" || counts[s] > 0)
    .map((s) => `<li class="c-${s}">${MARKS[s]} ${num(counts[s])} ${s}</li>`)
    .join("");

  const issues = [...numbers.keys()];
  const fixes = issues.length
    ? `<ol class="fixes">${issues
        .map((l) => {
          const s = statusOf(l);
          return (
            `<li class="status-${s}"${filterAttrs(l)}><div class="head"><span class="num">${numbers.get(l)}</span>${pill(s)}` +
            `<code>${esc(l.id)}</code><span class="subject">${esc(l.subject)}</span></div>` +
            `<p class="summary">${esc(l.summary)}</p>` +
            `<pre class="fix">${esc(l.fix?.trim() ? `fix: ${l.fix}` : "fix: (none given: see the summary and the evidence)")}</pre></li>`
          );
        })
        .join("")}</ol>`
    : `<p class="none">Nothing to fix: every link holds.</p>`;

  const rows = links
    .map((l) => {
      const s = statusOf(l);
      const n = numbers.get(l);
      return (
        `<tr class="status-${s}"${filterAttrs(l)}><td>${pill(s)}${n !== undefined ? ` <span class="num">${n}</span>` : ""}</td>` +
        `<td><code>${esc(l.id)}</code></td><td>${esc(l.subject)}</td>` +
        `<td>${esc(l.summary)}${evidenceHtml(l)}</td>` +
        `<td>${s !== "pass" && l.fix ? `<pre>${esc(l.fix)}</pre>` : ""}</td></tr>`
      );
    })
    .join("");

  const advice = verdictAdvice(verdict, counts);
  const exitCode = verdict === "pass" ? 0 : 1;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(scale !== undefined)}">
<meta name="generator" content="xeks">
<title>${esc(title)}</title>
<style>${PAGE_STYLE}${scale ? SCALE_STYLE : ""}</style>
</head>
<body>
<main>
<header class="top">
<div class="titles">
<div class="kicker">xeks chain report</div>
<h1>${esc(title)}</h1>
<p class="meta">${esc(meta.join(" · "))}</p>
${clientList}
<ul class="counts">${countItems}</ul>
</div>
<div class="verdict verdict-${verdict}"><span class="word">${MARKS[verdict]} ${verdict.toUpperCase()}</span><span class="why">${esc(`${countsPhrase(counts)}. ${advice[0]?.toUpperCase() ?? ""}${advice.slice(1)}.`)}</span></div>
</header>
${scale ? `${filterBox()}\n` : ""}<figure class="chain">
${svg}
<figcaption>
<h2>What to fix</h2>
${fixes}
</figcaption>
</figure>
${scale ? `<section class="folded">\n<h2>Folded: ${num(folding?.passing.length ?? 0)} clients that pass all their links</h2>\n${scale.sections}\n</section>\n` : ""}<section class="links">
${scale ? `<details class="all-links" data-opens><summary>` : ""}<h2>All links (${num(links.length)})</h2>${scale ? "</summary>" : ""}
<table>
<colgroup><col style="width:136px"><col style="width:226px"><col style="width:16%"><col><col style="width:28%"></colgroup>
<thead><tr><th>status</th><th>link</th><th>subject</th><th>summary</th><th>fix</th></tr></thead>
<tbody>${rows}</tbody>
</table>
${scale ? "</details>\n" : ""}</section>
<footer>Verdict ${esc(verdict)}: ${esc(modeTitle(r.mode).split(" (")[0] ?? "xeks")} exits with code ${exitCode}. Generated by xeks; hover a link in the picture for its summary and fix.</footer>
</main>
${scale ? `<script>${FILTER_SCRIPT}</script>\n` : ""}</body>
</html>
`;
}
