/**
 * Reports at scale (issue 14, "Reports at scale"; docs/report.md "At scale"). One plan of 300 clients (200
 * through one shared access role, 100 through their own; team-7's VPC overlaps the cluster's) is synthesized
 * once (without cdk-nag: the report is the subject here) and proven; a copy gets an undecided and a warned
 * client, as doctor could find them. The text shows the clients that do not pass first and folds the passing
 * ones into one line per access role; the HTML folds them into <details> with their own pictures and has a
 * filter box, its one script pinned by hash in the page's CSP; JSON does not change. Small reports print as
 * before. The filter itself runs in headless Chromium in test/report.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { prove } from "../src/chain/prove.js";
import type { ChainReport, LinkResult } from "../src/chain/types.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import { FOLD_ABOVE, FOLD_LINES, renderHtml, renderJson, renderText } from "../src/report/index.js";
import { parseTopology } from "../src/topology/index.js";
import { ROOT } from "./helpers/cli.js";
import { buildReport, manyClientReport, oneClientReport, twoClientReport } from "./helpers/reports.js";
import { generatedInput, generatedYaml } from "./helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-report-scale-"));
after(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the test changes a generated document freely.
type Doc = Record<string, any>;
const FLEET = "Fleet-EKS-View-Role";

/** 300 clients: team-1..200 through FLEET, team-201..300 through their own roles; team-7 overlaps the cluster. */
function fleetInput(): Doc {
  const d = generatedInput(300) as Doc;
  d.access = [
    {
      role: FLEET,
      clients: d.clients.slice(0, 200).map((c: Doc) => c.name),
      policies: ["AmazonEKSViewPolicy"],
    },
    ...d.access.slice(200),
  ];
  d.clients[6].vpc.cidr = "10.0.7.0/24";
  return d;
}

let planned: ChainReport;
/** The plan with team-42 and team-250 undecided and team-3 warned. */
let mixed: ChainReport;

before(async () => {
  const topology = parseTopology(stringify(fleetInput()), "fleet.yaml");
  const outDir = join(work, "fleet");
  await synthesize(topology, { outDir, nag: false });
  planned = await prove(topology, modelFromAssembly(topology, outDir), "plan");
  mixed = structuredClone(planned);
  const set = (client: string, id: string, status: LinkResult["status"]) => {
    const l = mixed.links.find((x) => x.client === client && x.id === id);
    assert.ok(l, `${id} of ${client}`);
    l.status = status;
    l.fix = `look at ${id} of ${client}`;
  };
  set("team-42", "iam.access-role-trust", "unknown");
  set("team-250", "network.peering", "unknown");
  set("team-3", "iam.client-role", "warn");
  mixed.verdict = "fail";
});

const headings = (text: string) => [...text.matchAll(/^client (\S+)$/gm)].map((m) => m[1]);
const foldLines = (text: string) =>
  text.split("\n").filter((l) => /^✓ [\d,]+ (clients? pass|access roles? pass|more access roles)/.test(l));

describe("text at scale", () => {
  test("failing, then undecided, then warned clients in full; the passing ones one line per access role", () => {
    const text = renderText(mixed);
    assert.deepEqual(headings(text), ["team-7", "team-42", "team-250", "team-3"]);
    assert.match(text, /^client team-7\n {2}✗ topology\.cidr-overlap +client VPC 10\.0\.7\.0\/24 overlaps/m);
    // The shared access role's own failing link (its trust names 200 roles) is shown in full too.
    assert.match(text, /^access role Fleet-EKS-View-Role\n(?: {2}.*\n)*? {2}✗ iam\.policy-size/m);
    // Each passing client under the access role the most passing clients use (Fleet, not Platform); past
    // FOLD_LINES lines, the access roles with one passing client each are one line.
    assert.deepEqual(foldLines(text), [
      "✓ 197 clients pass all their links, through access role Fleet-EKS-View-Role (8 of them also through access role Platform-EKS-Admin-Role): team-1, team-2, team-4, team-5, team-6, … (--verbose lists them)",
      "✓ 99 more access roles with one passing client each: Team201-EKS-View-Role (team-201), Team202-EKS-View-Role (team-202), Team203-EKS-View-Role (team-203), Team204-EKS-View-Role (team-204), Team205-EKS-View-Role (team-205), … (--verbose lists them)",
      "✓ 101 access roles pass their own links: Team201-EKS-View-Role, Team202-EKS-View-Role, Team203-EKS-View-Role, Team204-EKS-View-Role, Team205-EKS-View-Role, … (--verbose lists them)",
    ]);
    // Everything that does not pass comes before the folded lines; the counts still cover every link.
    const lines = text.trimEnd().split("\n");
    const firstFold = lines.findIndex((l) => foldLines(l).length > 0);
    assert.ok(firstFold > 0);
    assert.ok(lines.slice(firstFold, -1).every((l) => !/^\s*[✗?!] /.test(l)));
    assert.ok(lines.length < 120, `${lines.length} lines`);
    // Every number with the thousands separator of the other lines ("10,005 characters").
    const total = mixed.links.length.toLocaleString("en-US");
    assert.ok(mixed.links.length >= 1000 && total.includes(","), total);
    assert.match(lines.at(-1) ?? "", new RegExp(`^✗ verdict: fail - ${total} links: [\\d,]+ pass, `));
    assert.equal(lines.at(-1), renderText(mixed, { verbose: true }).trimEnd().split("\n").at(-1));
  });

  test("verbose lists every client and folds nothing, in the same order: what does not pass first", () => {
    const text = renderText(mixed, { verbose: true });
    const names = headings(text);
    assert.equal(names.length, 300);
    assert.deepEqual(names.slice(0, 7), [
      "team-7",
      "team-42",
      "team-250",
      "team-3",
      "team-1",
      "team-2",
      "team-4",
    ]);
    assert.equal(names.at(-1), "team-300");
    assert.deepEqual(foldLines(text), []);
    // The failing access role comes before the passing clients, as in the folded text.
    const fleet = text.indexOf("\naccess role Fleet-EKS-View-Role\n");
    assert.ok(fleet > text.indexOf("\nclient team-3\n") && fleet < text.indexOf("\nclient team-1\n"));
    assert.ok(text.indexOf("\naccess role Team300-EKS-View-Role\n") > text.indexOf("\nclient team-300\n"));
  });

  test("the plan as proven folds its 299 passing clients; ASCII marks fold too", () => {
    const text = renderText(planned, { ascii: true });
    assert.deepEqual(headings(text), ["team-7"]);
    assert.match(
      text,
      /^\+ 199 clients pass all their links, through access role Fleet-EKS-View-Role \(9 of them also through access role Platform-EKS-Admin-Role\): /m,
    );
  });
});

const PLATFORM = "Platform-EKS-Admin-Role";

/**
 * A report shaped as generatedInput(n) plans it: each client through its own access role, team-1..10 also
 * through the shared Platform role. Built, not proven (cheap at any size); `statuses` as buildReport's.
 */
function ownRolesReport(n: number, statuses: Record<string, LinkResult["status"]> = {}): ChainReport {
  const report = buildReport({
    clients: Array.from({ length: n }, (_, i) => ({
      name: `team-${i + 1}`,
      account: String(200000000000 + i + 1),
      role: `Team${i + 1}-EKS-Client-Role`,
      cidr: `172.${16 + (i % 16)}.${(i >> 4) * 16}.0/20`,
      accessRole: `Team${i + 1}-EKS-View-Role`,
    })),
    statuses,
  });
  const as = (l: LinkResult, from: string): LinkResult => ({
    ...l,
    accessRole: PLATFORM,
    subject: l.subject.replaceAll(from, PLATFORM),
    summary: l.summary.replaceAll(from, PLATFORM),
  });
  const extra: LinkResult[] = [];
  for (const l of report.links) {
    const own = l.accessRole === undefined ? undefined : /^Team(\d+)-EKS-View-Role$/.exec(l.accessRole);
    if (!own || !l.accessRole) continue;
    if (l.client === undefined && own[1] === "1") extra.push(as(l, l.accessRole));
    if (l.client !== undefined && Number(own[1]) <= 10) extra.push(as(l, l.accessRole));
  }
  report.links.push(...extra);
  return report;
}

describe("one folded line per access role (generatedInput's shape: own roles, and Platform for team-1..10)", () => {
  test("300 clients: Platform's line, then one line for the access roles with one passing client each", () => {
    const report = ownRolesReport(300);
    const text = renderText(report);
    assert.deepEqual(foldLines(text), [
      "✓ 10 clients pass all their links, through access role Platform-EKS-Admin-Role (each also through other access roles, 10 between them): team-1, team-2, team-3, team-4, team-5, … (--verbose lists them)",
      "✓ 290 more access roles with one passing client each: Team11-EKS-View-Role (team-11), Team12-EKS-View-Role (team-12), Team13-EKS-View-Role (team-13), Team14-EKS-View-Role (team-14), Team15-EKS-View-Role (team-15), … (--verbose lists them)",
      "✓ 301 access roles pass their own links: Team1-EKS-View-Role, Team2-EKS-View-Role, Team3-EKS-View-Role, Team4-EKS-View-Role, Team5-EKS-View-Role, … (--verbose lists them)",
    ]);
    assert.ok(text.split("\n").length < 20, text);
    const html = renderHtml(report);
    const folds = [...html.matchAll(/<details class="fold"[^>]*>\s*<summary>([\s\S]*?)<\/summary>/g)].map(
      (m) => (m[1] ?? "").replace(/<[^>]+>/g, ""),
    );
    assert.deepEqual(folds, [
      "✓ 10 clients pass all their links, through access role Platform-EKS-Admin-Role (each also through other access roles, 10 between them)",
      "✓ 290 more access roles with one passing client each",
      "✓ 301 access roles pass their own links: Team1-EKS-View-Role, Team2-EKS-View-Role, Team3-EKS-View-Role, Team4-EKS-View-Role, Team5-EKS-View-Role, …",
    ]);
    assert.match(
      html,
      /<p class="names">Team11-EKS-View-Role \(team-11\), Team12-EKS-View-Role \(team-12\), /,
    );
  });

  test(`up to ${FOLD_LINES} lines, one per access role; past it, the single-client ones are one line`, () => {
    const lines = foldLines(renderText(ownRolesReport(29)));
    assert.equal(lines.length, FOLD_LINES + 1);
    assert.equal(
      lines[1],
      "✓ 1 client passes all its links, through access role Team11-EKS-View-Role: team-11",
    );
    assert.equal(lines.at(-1)?.slice(0, 43), "✓ 30 access roles pass their own links: Tea");
    assert.deepEqual(
      foldLines(renderText(ownRolesReport(30))).map((l) => l.split(":")[0]),
      [
        "✓ 10 clients pass all their links, through access role Platform-EKS-Admin-Role (each also through other access roles, 10 between them)",
        "✓ 20 more access roles with one passing client each",
        "✓ 31 access roles pass their own links",
      ],
    );
  });

  test("an access role whose own link fails, its client passing: shown in full and drawn in the main picture", () => {
    const report = ownRolesReport(30, { "eks.access-entry@Team20-EKS-View-Role": "fail" });
    const text = renderText(report);
    assert.match(text, /^access role Team20-EKS-View-Role\n(?: {2}.*\n)*? {2}✗ eks\.access-entry/m);
    assert.ok(text.indexOf("\naccess role Team20-EKS-View-Role\n") < text.indexOf("\n✓ 10 clients pass"));
    // team-20 passes all its own links: it folds, and its access role is not among those that pass their own.
    assert.match(text, /^✓ 20 more access roles with one passing client each: /m);
    assert.match(text, /^✓ 30 access roles pass their own links: /m);
    const html = renderHtml(report);
    const main = html.slice(html.indexOf("<svg"), html.indexOf("</svg>"));
    assert.deepEqual(
      linkElements(main).filter((e) => e.endsWith("status-fail")),
      ["eks.access-entry|access role Team20-EKS-View-Role|link status-fail"],
    );
    assert.match(main, />access roles of folded clients, or of none</);
    // The folded groups hold passing links only, and stay closed.
    assert.doesNotMatch(html, /<details class="fold"[^>]* open/);
    const folded = html.slice(
      html.indexOf('<section class="folded">'),
      html.indexOf('<section class="links">'),
    );
    assert.ok(linkElements(folded).every((e) => e.endsWith("status-pass")));
    assert.equal(linkElements(html).length, report.links.length);
  });
});

describe("small reports print as before", () => {
  test(`no folding up to ${FOLD_ABOVE} passing clients, folding past it`, () => {
    const unfolded = { foldAbove: Number.POSITIVE_INFINITY };
    for (const report of [oneClientReport(), twoClientReport(), manyClientReport(FOLD_ABOVE)]) {
      assert.equal(renderText(report), renderText(report, unfolded));
      assert.equal(renderText(report, { verbose: true }), renderText(report, { ...unfolded, verbose: true }));
      assert.equal(renderHtml(report), renderHtml(report, unfolded));
      assert.doesNotMatch(renderHtml(report), /<script|<details class="fold"|id="xk-filter"/);
    }
    const eleven = manyClientReport(FOLD_ABOVE + 1);
    assert.deepEqual(foldLines(renderText(eleven)), [
      "✓ 11 clients pass all their links, through access role EKS-Shared-Access-Role: team-1, team-2, team-3, team-4, team-5, … (--verbose lists them)",
      "✓ 1 access role passes its own links: EKS-Shared-Access-Role",
    ]);
    assert.match(renderHtml(eleven), /<details class="fold"/);
    // The hint names the flag the caller has.
    assert.match(renderText(eleven, { unfoldHint: "xeks doctor --verbose lists them" }), /… \(xeks doctor/);
  });
});

/** Every element carrying data-link-id, as `id|subject|class`. */
function linkElements(html: string): string[] {
  const decode = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/<g class="([^"]*)" data-link-id="([^"]*)" data-subject="([^"]*)"/g)].map(
    (m) => `${decode(m[2] ?? "")}|${decode(m[3] ?? "")}|${m[1]}`,
  );
}

describe("HTML at scale", () => {
  let html: string;
  before(() => {
    html = renderHtml(mixed);
  });

  test("self-contained, with one script pinned by its hash in the page's Content-Security-Policy", () => {
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    const hash = createHash("sha256")
      .update(scripts[0]?.[1] ?? "", "utf8")
      .digest("base64");
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? "";
    assert.equal(
      csp,
      `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`,
    );
    assert.doesNotMatch(html, /<link\b|<img\b|<iframe|@import|@font-face|\bsrc=|url\((?!#)/i);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // Small pages have no script at all, and say so.
    assert.match(renderHtml(oneClientReport()), /script-src 'none'/);
  });

  test("a filter box (text and status), hidden until its script shows it", () => {
    assert.match(html, /<form class="filter" id="xk-filter" role="search" hidden>/);
    assert.match(html, /<input type="search" id="xk-q" placeholder="client name, link id or subject"/);
    assert.match(
      html,
      /<select id="xk-s"><option value="">any status<\/option><option value="fail">fail<\/option><option value="unknown">unknown<\/option><option value="warn">warn<\/option><option value="pass">pass<\/option><\/select>/,
    );
    // Every table row and every item of "what to fix" carries what the filter matches.
    // Names and subject words (matched whole) apart from the link id (matched in part).
    const rows = [
      ...html.matchAll(
        /<tr class="status-(\w+)" data-filter="([^"]*)" data-ids="([^"]*)" data-status="(\w+)">/g,
      ),
    ];
    assert.equal(rows.length, mixed.links.length);
    assert.ok(rows.every((m) => m[1] === m[4]));
    assert.ok(rows.some((m) => m[2] === "client team-7 team-7 " && m[3] === "topology.cidr-overlap"));
    const fixes = /<ol class="fixes">([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? "";
    assert.equal(
      (fixes.match(/<li class="status-\w+" data-filter=/g) ?? []).length,
      mixed.links.filter((l) => l.status !== "pass").length,
    );
  });

  test("the main picture draws the clients that do not pass, in that order; the others are folded", () => {
    const main = html.slice(html.indexOf("<svg"), html.indexOf("</svg>"));
    assert.deepEqual(
      [...main.matchAll(/<text class="client-title"[^>]*>client ([^<]+)</g)].map((m) => m[1]),
      ["team-7", "team-42", "team-250", "team-3"],
    );
    const folds = [...html.matchAll(/<details class="fold"[^>]*>\s*<summary>([\s\S]*?)<\/summary>/g)].map(
      (m) => (m[1] ?? "").replace(/<[^>]+>/g, ""),
    );
    assert.deepEqual(folds, [
      "✓ 197 clients pass all their links, through access role Fleet-EKS-View-Role (8 of them also through access role Platform-EKS-Admin-Role)",
      "✓ 99 more access roles with one passing client each",
      "✓ 101 access roles pass their own links: Team201-EKS-View-Role, Team202-EKS-View-Role, Team203-EKS-View-Role, Team204-EKS-View-Role, Team205-EKS-View-Role, …",
    ]);
    // One picture per folded group of clients, closed; the client list and the table are folded too.
    assert.equal((html.match(/<svg\b/g) ?? []).length, 3);
    assert.doesNotMatch(html, /<details class="fold"[^>]* open/);
    assert.match(
      html,
      /<details class="client-list" data-opens><summary>300 clients: 4 shown in full, 296 pass/,
    );
    assert.match(
      html,
      new RegExp(
        `<details class="all-links" data-opens><summary><h2>All links \\(${mixed.links.length.toLocaleString("en-US")}\\)</h2></summary>`,
      ),
    );
  });

  test("hostile names in folded groups, filter attributes and the client list are escaped", () => {
    const report = manyClientReport(FOLD_ABOVE + 2);
    const evil = `<script>alert(1)</script>"'&`;
    for (const l of report.links) {
      if (l.client !== "team-2") continue;
      l.client = evil;
      l.subject = l.subject.replace("team-2", evil);
    }
    const page = renderHtml(report);
    assert.equal((page.match(/<script/g) ?? []).length, 1, "only the filter's script");
    assert.match(
      page,
      /<details class="fold"[^>]*data-filter="team-1 &lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp; team-3/,
    );
    assert.match(
      page,
      /<p class="names">team-1, &lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp;, team-3/,
    );
    assert.ok(renderText(report).includes(`team-1, ${evil}, team-3`), "the text shows it as it is");
  });

  test("every link is still exactly one element across the pictures, and element ids are unique", () => {
    const drawn = linkElements(html).sort();
    const expected = mixed.links.map((l) => `${l.id}|${l.subject}|link status-${l.status}`).sort();
    assert.deepEqual(drawn, expected);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, "unique ids");
  });
});

describe("JSON does not change", () => {
  test("renderJson is the same bytes whatever was rendered before, and folds nothing", () => {
    const before = renderJson(mixed);
    renderText(mixed);
    renderText(mixed, { verbose: true });
    renderHtml(mixed);
    assert.equal(renderJson(mixed), before);
    assert.equal(renderJson(structuredClone(mixed)), before);
    assert.equal((JSON.parse(before) as { links: unknown[] }).links.length, mixed.links.length);
  });

  test("xeks plan -o json prints the same bytes with and without --verbose; the HTML it writes folds", () => {
    const file = join(work, "twelve.yaml");
    writeFileSync(file, generatedYaml(12));
    const script = "import { run } from './src/cli/main.ts'; await run(process.argv.slice(1));";
    const plan = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "--input-type=module",
          "-e",
          script,
          "plan",
          file,
          "--out",
          join(work, "out"),
          ...args,
        ],
        { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    // 12 clients that all pass: past FOLD_ABOVE, so the text and the HTML fold; JSON does not.
    const html = [join(work, "plain.html"), join(work, "verbose.html")];
    const json = plan("-o", "json", "--report", html[0] as string);
    assert.equal(plan("-o", "json", "--verbose", "--report", html[1] as string), json);
    const doc = JSON.parse(json) as { verdict: string; links: { client?: string }[] };
    assert.equal(doc.verdict, "pass");
    assert.equal(new Set(doc.links.map((l) => l.client).filter(Boolean)).size, 12);
    const page = readFileSync(html[0] as string, "utf8");
    assert.equal(readFileSync(html[1] as string, "utf8"), page);
    assert.match(page, /id="xk-filter"/);
    assert.match(
      page,
      /<details class="fold"[^>]*><summary><span class="mark">✓<\/span> 10 clients pass all their links, through access role Platform-EKS-Admin-Role/,
    );
  });
});
