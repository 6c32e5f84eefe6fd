/**
 * The HTML report at scale (docs/report.md "At scale"): when more than FOLD_ABOVE clients pass all their links,
 * the page draws the clients that do not pass in the main picture, folds the passing ones into one
 * `<details>` per access role (each with its own picture), and adds a filter box (client name, link id,
 * subject, status). The filter is the page's one script: inline, pinned by its SHA-256 in the page's
 * Content-Security-Policy (no other script can run, nothing is fetched), so the page works from a file,
 * offline. Pure functions; no I/O.
 */
import { createHash } from "node:crypto";
import type { LinkResult, LinkStatus } from "../chain/types.js";
import { attrs, esc } from "./escape.js";
import {
  type Folding,
  firstNames,
  foldNames,
  foldPhrase,
  type RenderableReport,
  type ReportClient,
  rolesPhrase,
  statusOf,
} from "./model.js";
import { renderSvg } from "./svg.js";

/**
 * The filter: shows the table rows, fixes, client lines and folded groups (elements with `data-filter`, the
 * lower-cased names and subject words to match, optional `data-ids`, their link ids, and `data-status`, their
 * statuses) that match every typed word and the chosen status; dims the picture's links that do not match
 * (`data-subject`, `data-link-id`); opens the `<details data-opens>` while a filter is on.
 * A word matches a name (client, access role, account, subject word) only whole: where it is neither preceded
 * nor followed by a character names are made of (letters, digits, `_+=,.@-`), so `team-7` is not `team-70`; a
 * word ending in `*` matches the names that start with it (`team-7*`); a link id matches in part (`peering`).
 * The address may carry a filter: `#q=team-7&s=fail`; a malformed %-escape in it is taken as written.
 * Static text: no report data in it, so its hash is fixed.
 */
export const FILTER_SCRIPT = `(function () {
  var form = document.getElementById("xk-filter");
  if (!form) return;
  var q = document.getElementById("xk-q");
  var s = document.getElementById("xk-s");
  var n = document.getElementById("xk-n");
  var items = [].slice.call(document.querySelectorAll("[data-filter]"));
  var marks = [].slice.call(document.querySelectorAll("svg .link[data-link-id]"));
  var opens = [].slice.call(document.querySelectorAll("details[data-opens]"));
  var initial = opens.map(function (d) { return d.open; });
  var NAME = /[a-z0-9_+=,.@-]/;
  function whole(text, w) {
    var prefix = w.length > 1 && w.charAt(w.length - 1) === "*";
    if (prefix) w = w.slice(0, -1);
    for (var i = text.indexOf(w); i >= 0; i = text.indexOf(w, i + 1)) {
      var before = i > 0 ? text.charAt(i - 1) : " ";
      var after = text.charAt(i + w.length) || " ";
      if (!NAME.test(before) && (prefix || !NAME.test(after))) return true;
    }
    return false;
  }
  function matches(text, ids, statuses, words, st) {
    if (st && (" " + statuses + " ").indexOf(" " + st + " ") < 0) return false;
    return words.every(function (w) { return whole(text, w) || ids.indexOf(w) >= 0; });
  }
  function apply() {
    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var st = s.value;
    var on = words.length > 0 || st !== "";
    var rows = 0;
    var total = 0;
    items.forEach(function (el) {
      var ok = matches(el.getAttribute("data-filter") || "", el.getAttribute("data-ids") || "", el.getAttribute("data-status") || "", words, st);
      el.hidden = !ok;
      if (el.tagName === "TR") {
        total++;
        if (ok) rows++;
      }
    });
    marks.forEach(function (el) {
      var text = (el.getAttribute("data-subject") || "").toLowerCase();
      var ids = (el.getAttribute("data-link-id") || "").toLowerCase();
      var status = (el.getAttribute("class") || "").replace(/^.*status-(\\w+).*$/, "$1");
      el.classList.toggle("dim", on && !matches(text, ids, status, words, st));
    });
    opens.forEach(function (d, i) { d.open = on ? true : initial[i]; });
    n.textContent = on ? rows + " of " + total + " links match" : "";
  }
  // A filter in the address: #q=team-7&s=fail (what the box would hold).
  var given = /[#&]q=([^&]*)/.exec(location.hash);
  var status = /[#&]s=(\\w*)/.exec(location.hash);
  if (given) {
    var raw = given[1].replace(/\\+/g, " ");
    try {
      raw = decodeURIComponent(raw);
    } catch (e) {
      // A malformed %-escape (#q=100%): the text as written.
    }
    q.value = raw;
  }
  if (status) s.value = status[1];
  form.hidden = false;
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  q.addEventListener("input", apply);
  s.addEventListener("change", apply);
  apply();
})();`;

const SCRIPT_HASH = createHash("sha256").update(FILTER_SCRIPT, "utf8").digest("base64");

/**
 * The page's Content-Security-Policy: nothing is fetched (`default-src 'none'`), inline styles are allowed
 * (the page's and the picture's), and no script runs but the filter, by hash, when the page has it.
 */
export function contentSecurityPolicy(withFilter: boolean): string {
  const script = withFilter ? `'sha256-${SCRIPT_HASH}'` : "'none'";
  return `default-src 'none'; style-src 'unsafe-inline'; script-src ${script}; base-uri 'none'; form-action 'none'`;
}

/** Styles of the filter box and the folded groups (added to the page's own). */
export const SCALE_STYLE = `
[hidden]{display:none!important}
form.filter{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0 0 12px;padding:8px 12px;background:#fff;border:1px solid var(--line);border-radius:10px}
form.filter input{font:inherit;min-width:320px;padding:3px 8px}
form.filter select{font:inherit}
form.filter output{color:var(--muted)}
.xk .link.dim{opacity:.15}
section.folded{margin-top:22px}
details.fold{margin:8px 0;background:#fff;border:1px solid var(--line);border-radius:10px;padding:8px 12px;color:var(--ink);font-size:14px}
details.fold>summary{cursor:pointer;font-weight:600}
details.fold>summary .mark{color:var(--pass)}
details.fold .names{color:var(--muted);font-size:12.5px;margin:6px 0;overflow-wrap:anywhere}
details.fold svg{display:block;width:100%;height:auto}
details.client-list>summary,details.all-links>summary{cursor:pointer;color:var(--muted)}
details.all-links>summary h2{display:inline}
`;

/** The filter box, hidden until its script shows it (a page whose script cannot run shows no dead box). */
export function filterBox(): string {
  const options = ["", "fail", "unknown", "warn", "pass"]
    .map((s) => `<option value="${s}">${s || "any status"}</option>`)
    .join("");
  return (
    `<form class="filter" id="xk-filter" role="search" hidden>` +
    `<label>Filter <input type="search" id="xk-q" placeholder="client name, link id or subject" autocomplete="off" spellcheck="false"></label>` +
    `<label>status <select id="xk-s">${options}</select></label><output id="xk-n"></output></form>`
  );
}

/**
 * `data-filter` (subject, client, access role: matched whole), `data-ids` (the link id: matched in part) and
 * `data-status` for an element about `link` (a table row, an item of "what to fix").
 */
export function linkFilterAttrs(link: LinkResult): string {
  return attrs({
    "data-filter": [link.subject, link.client ?? "", link.accessRole ?? ""].join(" ").toLowerCase(),
    "data-ids": link.id.toLowerCase(),
    "data-status": statusOf(link),
  });
}

export interface ScaleParts {
  /** The links the main picture draws. */
  main: LinkResult[];
  /** Links the main picture shows as faded copies (drawn in a folded group's picture). */
  mainElsewhere: Set<LinkResult>;
  /** The folded groups, as `<details>` (each with its names and its picture). */
  sections: string;
}

/**
 * Splits the links between the main picture and one picture per folded group. An access role's own links
 * (accessRole, no client) are drawn once: in the main picture when one of them does not pass, when a client
 * shown in full uses the role, or when no client does; else in the first folded group that uses it (other
 * pictures show faded copies). So every link that does not pass is in the main picture, and the folded groups
 * (closed) hold passing links only.
 */
export function scaleParts(
  report: RenderableReport,
  folding: Folding,
  numbers: ReadonlyMap<LinkResult, number>,
  given: readonly ReportClient[] | undefined,
): ScaleParts {
  const groupOf = new Map<string, number>();
  folding.groups.forEach((g, i) => {
    for (const c of g.clients) groupOf.set(c, i);
  });
  const usersOf = new Map<string, string[]>();
  for (const l of report.links) {
    if (l.client === undefined || l.accessRole === undefined) continue;
    const users = usersOf.get(l.accessRole) ?? [];
    if (!users.includes(l.client)) users.push(l.client);
    usersOf.set(l.accessRole, users);
  }
  const failing = new Set<string>();
  for (const l of report.links)
    if (l.client === undefined && l.accessRole !== undefined && statusOf(l) !== "pass")
      failing.add(l.accessRole);
  /** Where a role's own links are drawn: -1 the main picture, else the folded group's index. */
  const homeOf = new Map<string, number>();
  const home = (role: string): number => {
    const known = homeOf.get(role);
    if (known !== undefined) return known;
    const users = usersOf.get(role) ?? [];
    const groups = users.map((c) => groupOf.get(c) ?? -1);
    const at = failing.has(role) || users.length === 0 || groups.includes(-1) ? -1 : Math.min(...groups);
    homeOf.set(role, at);
    return at;
  };
  const mainLinks: LinkResult[] = [];
  const parts: LinkResult[][] = folding.groups.map(() => []);
  const roleLinks = new Map<string, LinkResult[]>();
  for (const l of report.links) {
    if (l.client !== undefined) {
      const g = groupOf.get(l.client);
      (g === undefined ? mainLinks : (parts[g] ?? mainLinks)).push(l);
    } else if (l.accessRole !== undefined) {
      const list = roleLinks.get(l.accessRole) ?? [];
      list.push(l);
      roleLinks.set(l.accessRole, list);
      const at = home(l.accessRole);
      (at < 0 ? mainLinks : (parts[at] ?? mainLinks)).push(l);
    } else mainLinks.push(l);
  }
  // Faded copies: a picture whose clients use a role drawn in another picture.
  const rolesIn = (links: readonly LinkResult[]) =>
    new Set(
      links.flatMap((l) => (l.client !== undefined && l.accessRole !== undefined ? [l.accessRole] : [])),
    );
  const copies = (links: LinkResult[], here: number): Set<LinkResult> => {
    const out = new Set<LinkResult>();
    for (const role of rolesIn(links)) {
      if (home(role) === here) continue;
      for (const l of roleLinks.get(role) ?? []) {
        out.add(l);
        links.push(l);
      }
    }
    return out;
  };
  const mainElsewhere = copies(mainLinks, -1);
  const clientsOf = (names: readonly string[]) => {
    const set = new Set(names);
    return {
      given: given?.filter((c) => set.has(c.name)),
      own: report.clients?.filter((c) => set.has(c.name)),
    };
  };
  const more = folding.groups.length > 1;
  const sections = folding.groups.map((group, i) => {
    const links = parts[i] ?? [];
    const elsewhere = copies(links, i);
    const own = links.filter((l) => !elsewhere.has(l));
    const statuses = [...new Set(own.map(statusOf))] as LinkStatus[];
    const c = clientsOf(group.clients);
    const { svg } = renderSvg(
      { ...report, links, ...(c.own ? { clients: c.own } : {}) },
      {
        clients: c.given,
        numbers,
        drawnElsewhere: elsewhere,
        clusterBadges: false,
        idPrefix: `xk-fold-${i + 1}`,
      },
    );
    const words = [...group.clients, ...new Set(group.roles)].join(" ").toLowerCase();
    const ids = [...new Set(own.map((l) => l.id))].join(" ").toLowerCase();
    return (
      `<details${attrs({ class: "fold", "data-opens": "", "data-filter": words, "data-ids": ids, "data-status": statuses.join(" ") })}>` +
      `<summary><span class="mark">✓</span> ${esc(foldPhrase(group, more))}</summary>` +
      `<p class="names">${esc(foldNames(group).join(", "))}</p>${svg}</details>`
    );
  });
  if (folding.roles.length) {
    sections.push(
      `<details${attrs({ class: "fold", "data-filter": folding.roles.join(" ").toLowerCase(), "data-status": "pass" })}>` +
        `<summary><span class="mark">✓</span> ${esc(`${rolesPhrase(folding.roles.length)}: ${firstNames(folding.roles)}`)}</summary>` +
        `<p class="names">${esc(folding.roles.join(", "))} (their links are drawn with the first client that uses them)</p></details>`,
    );
  }
  return { main: mainLinks, mainElsewhere, sections: sections.join("\n") };
}

/**
 * The links of the table at scale: cluster-wide and other links first, then the clients shown in full (in the
 * order to look at them), the access roles that do not pass, then the folded clients and access roles, each
 * in display order.
 */
export function scaleOrder(links: readonly LinkResult[], folding: Folding): LinkResult[] {
  const shown = new Map(folding.shown.map((c, i) => [c, i]));
  const roles = new Map(folding.shownRoles.map((r, i) => [r, i]));
  const rank = (l: LinkResult): [number, number] => {
    if (l.client !== undefined) {
      const at = shown.get(l.client);
      return at === undefined ? [3, 0] : [1, at];
    }
    if (l.accessRole !== undefined) {
      const at = roles.get(l.accessRole);
      return at === undefined ? [4, 0] : [2, at];
    }
    return [0, 0];
  };
  return links
    .map((link, i) => ({ link, i, r: rank(link) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.link);
}
