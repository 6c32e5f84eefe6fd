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
import { FOLD_ABOVE, renderHtml, renderJson, renderText } from "../src/report/index.js";
import { parseTopology } from "../src/topology/index.js";
import { ROOT } from "./helpers/cli.js";
import { manyClientReport, oneClientReport, twoClientReport } from "./helpers/reports.js";
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
  text.split("\n").filter((l) => /^✓ \d+ (clients?|access roles?) pass/.test(l));

describe("text at scale", () => {
  test("failing, then undecided, then warned clients in full; the passing ones one line per access role", () => {
    const text = renderText(mixed);
    assert.deepEqual(headings(text), ["team-7", "team-42", "team-250", "team-3"]);
    assert.match(text, /^client team-7\n {2}✗ topology\.cidr-overlap +client VPC 10\.0\.7\.0\/24 overlaps/m);
    // The shared access role's own failing link (its trust names 200 roles) is shown in full too.
    assert.match(text, /^access role Fleet-EKS-View-Role\n(?: {2}.*\n)*? {2}✗ iam\.policy-size/m);
    assert.deepEqual(foldLines(text), [
      "✓ 8 clients pass all their links, through access roles Fleet-EKS-View-Role and Platform-EKS-Admin-Role: team-1, team-2, team-4, team-5, team-6, … (--verbose lists them)",
      "✓ 189 clients pass all their links, through access role Fleet-EKS-View-Role: team-11, team-12, team-13, team-14, team-15, … (--verbose lists them)",
      "✓ 99 clients pass all their links, each through its own access role: team-201, team-202, team-203, team-204, team-205, … (--verbose lists them)",
      "✓ 101 access roles pass all their links: Team201-EKS-View-Role, Team202-EKS-View-Role, Team203-EKS-View-Role, Team204-EKS-View-Role, Team205-EKS-View-Role, … (--verbose lists them)",
    ]);
    // Everything that does not pass comes before the folded lines; the counts still cover every link.
    const lines = text.trimEnd().split("\n");
    const firstFold = lines.findIndex((l) => foldLines(l).length > 0);
    assert.ok(firstFold > 0);
    assert.ok(lines.slice(firstFold, -1).every((l) => !/^\s*[✗?!] /.test(l)));
    assert.ok(lines.length < 120, `${lines.length} lines`);
    assert.match(lines.at(-1) ?? "", new RegExp(`^✗ verdict: fail - ${mixed.links.length} links: `));
    assert.equal(lines.at(-1), renderText(mixed, { verbose: true }).trimEnd().split("\n").at(-1));
  });

  test("verbose lists every client in display order and folds nothing", () => {
    const text = renderText(mixed, { verbose: true });
    const names = headings(text);
    assert.equal(names.length, 300);
    assert.deepEqual(names.slice(0, 3), ["team-1", "team-2", "team-3"]);
    assert.deepEqual(foldLines(text), []);
  });

  test("the plan as proven folds its 299 passing clients; ASCII marks fold too", () => {
    const text = renderText(planned, { ascii: true });
    assert.deepEqual(headings(text), ["team-7"]);
    assert.match(text, /^\+ 190 clients pass all their links, through access role Fleet-EKS-View-Role: /m);
  });
});

describe("small reports print as before", () => {
  test(`no folding up to ${FOLD_ABOVE} passing clients, folding past it`, () => {
    const unfolded = { foldAbove: Number.POSITIVE_INFINITY };
    for (const report of [oneClientReport(), twoClientReport(), manyClientReport(FOLD_ABOVE)]) {
      assert.equal(renderText(report), renderText(report, unfolded));
      assert.equal(renderHtml(report), renderHtml(report, unfolded));
      assert.doesNotMatch(renderHtml(report), /<script|<details class="fold"|id="xk-filter"/);
    }
    const eleven = manyClientReport(FOLD_ABOVE + 1);
    assert.deepEqual(foldLines(renderText(eleven)), [
      "✓ 11 clients pass all their links, through access role EKS-Shared-Access-Role: team-1, team-2, team-3, team-4, team-5, … (--verbose lists them)",
      "✓ 1 access role passes all its links: EKS-Shared-Access-Role",
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
    const rows = [...html.matchAll(/<tr class="status-(\w+)" data-filter="([^"]*)" data-status="(\w+)">/g)];
    assert.equal(rows.length, mixed.links.length);
    assert.ok(rows.every((m) => m[1] === m[3]));
    assert.ok(rows.some((m) => m[2] === "topology.cidr-overlap client team-7 team-7 "));
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
      "✓ 8 clients pass all their links, through access roles Fleet-EKS-View-Role and Platform-EKS-Admin-Role",
      "✓ 189 clients pass all their links, through access role Fleet-EKS-View-Role",
      "✓ 99 clients pass all their links, each through its own access role",
      "✓ 101 access roles pass all their links: Team201-EKS-View-Role, Team202-EKS-View-Role, Team203-EKS-View-Role, Team204-EKS-View-Role, Team205-EKS-View-Role, …",
    ]);
    // One picture per folded group of clients, closed; the client list and the table are folded too.
    assert.equal((html.match(/<svg\b/g) ?? []).length, 4);
    assert.doesNotMatch(html, /<details class="fold"[^>]* open/);
    assert.match(
      html,
      /<details class="client-list" data-opens><summary>300 clients: 4 shown in full, 296 pass/,
    );
    assert.match(
      html,
      /<details class="all-links" data-opens><summary><h2>All links \(\d+\)<\/h2><\/summary>/,
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
      /<details class="fold"[^>]*><summary><span class="mark">✓<\/span> 12 clients pass all their links/,
    );
  });
});
