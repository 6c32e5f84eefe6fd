import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";
import {
  type ChainReport,
  LINK_IDS,
  type LinkId,
  type LinkResult,
  type LinkStatus,
  verdictOf,
} from "../src/chain/types.js";
import { exitCodeFor, renderHtml, renderJson, renderText } from "../src/report/index.js";
import {
  ANALYTICS,
  buildReport,
  clientProbeReport,
  manyClientReport,
  OPS,
  oneClientReport,
  twoClientReport,
} from "./helpers/reports.js";

const MARK = /^(\s*)([✓✗!?+x]) ([a-z]+\.[a-z0-9.-]+)(\s+)/;
const ESC = "\u001b";

function linkLines(text: string): string[] {
  return text.split("\n").filter((l) => MARK.test(l));
}

/** Attributes of every element carrying data-link-id, from serialized HTML (ours or the browser's). */
function linkElements(html: string): { tag: string; attrs: Record<string, string> }[] {
  const tag = /<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
  const attr = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const decode = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&nbsp;/g, "\u00a0")
      .replace(/&amp;/g, "&");
  const out: { tag: string; attrs: Record<string, string> }[] = [];
  for (const m of html.matchAll(tag)) {
    const attrs: Record<string, string> = {};
    for (const a of (m[2] ?? "").matchAll(attr)) attrs[a[1] ?? ""] = decode(a[2] ?? a[3] ?? a[4] ?? "");
    if ("data-link-id" in attrs) out.push({ tag: m[1] ?? "", attrs });
  }
  return out;
}

/** Every link has exactly one element, with its id, subject and status class. */
function assertOneElementPerLink(html: string, report: ChainReport): void {
  const elements = linkElements(html);
  assert.equal(elements.length, report.links.length, "one data-link-id element per link");
  const remaining = [...elements];
  for (const link of report.links) {
    const i = remaining.findIndex(
      (e) => e.attrs["data-link-id"] === link.id && e.attrs["data-subject"] === link.subject,
    );
    assert.ok(i >= 0, `an element for ${link.id} / ${link.subject}`);
    const [el] = remaining.splice(i, 1);
    const classes = (el?.attrs.class ?? "").split(/\s+/);
    assert.ok(classes.includes("link"), `class link on ${link.id}`);
    assert.ok(classes.includes(`status-${link.status}`), `class status-${link.status} on ${link.id}`);
    assert.equal(classes.filter((c) => c.startsWith("status-")).length, 1);
  }
}

const ATTACK = {
  client: "<script>alert(1)</script>",
  role: `"><img src=x onerror=alert(2)>`,
  summary: "</title></text></svg><script>alert(3)</script>",
  fix: "]]></style><script>alert(4)</script> & 'quotes'",
};

/** A report whose names, subjects, summaries and fixes are hostile. */
function hostileReport(): ChainReport {
  const base = buildReport({ clients: [OPS] });
  const links: LinkResult[] = base.links.map((l) => {
    const out: LinkResult = { ...l, status: l.id === "iam.access-role-trust" ? "fail" : l.status };
    if (out.client !== undefined) out.client = ATTACK.client;
    if (out.accessRole !== undefined) out.accessRole = ATTACK.role;
    if (out.client !== undefined || out.accessRole !== undefined)
      out.subject = `client ${ATTACK.client} -> access role ${ATTACK.role}`;
    if (l.id === "iam.access-role-trust") {
      out.summary = ATTACK.summary;
      out.fix = ATTACK.fix;
    }
    return out;
  });
  return { ...base, links, verdict: verdictOf(links) };
}

describe("renderText", () => {
  test("a checklist: cluster first, then the client with its access role, then the access role", () => {
    const text = renderText(oneClientReport());
    const lines = text.trimEnd().split("\n");
    assert.equal(
      lines[0],
      "xeks doctor (live state): cluster prac-eks-abhi (account 111111111111, ap-south-1)",
    );
    const at = (line: string) => {
      const i = lines.indexOf(line);
      assert.ok(i >= 0, `line ${JSON.stringify(line)}`);
      return i;
    };
    const cluster = at("cluster prac-eks-abhi");
    const client = at("client ops");
    const nested = at("  access role EKS-CrossAccount-Access-Role");
    const role = at("access role EKS-CrossAccount-Access-Role");
    assert.ok(cluster < client && client < nested && nested < role);
    // Every link of the report is on exactly one line.
    assert.equal(linkLines(text).length, 13);
    // network.public-access applies only to a client without a VPC; this report's client has one. The quota
    // links (iam.policy-size, network.peering-quota) are not in this fixture.
    const absent = new Set([
      "network.public-access",
      "iam.policy-size",
      "network.peering-quota",
      "stackset.instances",
    ]);
    for (const id of LINK_IDS.filter((x) => !absent.has(x)))
      assert.equal(linkLines(text).filter((l) => l.includes(` ${id} `)).length, 1, id);
    // Links sit under their group: client links at depth 1, client-and-role links at depth 2.
    assert.match(
      lines[client + 1] ?? "",
      /^ {2}✓ topology\.cidr-overlap {2,}172\.31\.0\.0\/16 and 10\.0\.0\.0\/16/,
    );
    assert.match(lines[nested + 1] ?? "", /^ {4}✗ iam\.assume-permission {2,}no identity policy/);
    assert.match(lines[role + 1] ?? "", /^ {2}✓ iam\.describe-cluster /);
  });

  test("the fix is under every link that fails, warns or is unknown, and under no passing link", () => {
    const lines = renderText(oneClientReport()).split("\n");
    const expectFix = (mark: string, id: string, fix: RegExp) => {
      const i = lines.findIndex((l) => l.trimStart().startsWith(`${mark} ${id} `));
      assert.ok(i >= 0, id);
      const indent = (lines[i]?.length ?? 0) - (lines[i]?.trimStart().length ?? 0);
      assert.match(lines[i + 1] ?? "", new RegExp(`^ {${indent + 4}}fix: ${fix.source}`), `fix under ${id}`);
    };
    expectFix(
      "✗",
      "network.route.cluster-to-client",
      /aws ec2 create-route --route-table-id rtb-0aaa1111bbbb2222c/,
    );
    expectFix("✗", "iam.assume-permission", /aws iam put-role-policy --role-name EC2-EKS-CrossAccount-Role/);
    expectFix("!", "network.endpoint", /aws eks update-cluster-config --name prac-eks-abhi/);
    expectFix("?", "eks.access-entry", /allow eks:ListAccessEntries/);
    lines.forEach((l, i) => {
      if (l.trimStart().startsWith("✓ "))
        assert.doesNotMatch(lines[i + 1] ?? "", /fix:/, `no fix under ${l}`);
    });
    assert.equal(lines.filter((l) => l.trimStart().startsWith("fix: ")).length, 4);
  });

  test("summaries start in one column, whatever the depth", () => {
    const columns = new Set(linkLines(renderText(twoClientReport())).map((l) => MARK.exec(l)?.[0].length));
    assert.equal(columns.size, 1);
  });

  test("the closing line gives the verdict and the counts", () => {
    const last = (r: ChainReport, o = {}) => renderText(r, o).trimEnd().split("\n").at(-1);
    assert.equal(
      last(oneClientReport()),
      "✗ verdict: fail - 13 links: 9 pass, 2 fail, 1 warn, 1 unknown. The chain is broken: fix the failing links in order, then run again.",
    );
    assert.equal(
      last(buildReport({ clients: [OPS] })),
      "✓ verdict: pass - 13 links: 13 pass. The chain holds.",
    );
    assert.equal(
      last(buildReport({ clients: [OPS], statuses: { "network.endpoint": "warn" } })),
      "✓ verdict: pass - 13 links: 12 pass, 1 warn. The chain holds; the warnings are worth a look.",
    );
    assert.match(
      last(buildReport({ clients: [OPS], statuses: { "eks.access-entry": "unknown" } })) ?? "",
      /^\? verdict: unknown - 13 links: 12 pass, 1 unknown\. Nothing fails, but not every link could be decided/,
    );
    assert.equal(
      last({ kind: "ChainReport", version: 1, mode: "plan", verdict: "pass", links: [] }),
      "✓ verdict: pass - 0 links: 0 pass. No links were checked.",
    );
  });

  test("two clients: each client has its own tree and its own access role", () => {
    const text = renderText(twoClientReport());
    const lines = text.split("\n");
    const payments = lines.indexOf("client payments");
    const analytics = lines.indexOf("client analytics");
    assert.ok(payments > 0 && analytics > payments);
    assert.equal(
      lines[lines.indexOf("  access role Payments-EKS-Edit-Role", payments)],
      "  access role Payments-EKS-Edit-Role",
    );
    assert.ok(lines.indexOf("  access role Analytics-EKS-View-Role") > analytics);
    assert.ok(lines.indexOf("access role Payments-EKS-Edit-Role") > analytics);
    assert.ok(lines.indexOf("access role Analytics-EKS-View-Role") > analytics);
    assert.equal(linkLines(text).length, twoClientReport().links.length);
    assert.match(
      text,
      /\n {2}✗ eks\.authentication-mode {2,}authentication mode CONFIG_MAP[^\n]*\n {6}fix: aws eks update-cluster-config/,
    );
  });

  test("marks: Unicode by default, ASCII on request; color only when asked", () => {
    const plain = renderText(oneClientReport());
    assert.ok(!plain.includes(ESC));
    for (const m of ["✓", "✗", "!", "?"])
      assert.ok(linkLines(plain).some((l) => l.trimStart().startsWith(`${m} `)));
    const ascii = renderText(oneClientReport(), { ascii: true });
    assert.match(ascii, /^[\x20-\x7e\n]*$/, "ASCII only");
    assert.ok(linkLines(ascii).some((l) => l.startsWith("  + topology.cidr-overlap ")));
    assert.ok(linkLines(ascii).some((l) => l.startsWith("    x iam.assume-permission ")));
    assert.equal(
      ascii.replace(/^(\s*)[+x] /gm, "$1? ").length,
      plain.replace(/^(\s*)[✓✗] /gm, "$1? ").length,
    );
    const color = renderText(oneClientReport(), { color: true });
    assert.ok(color.includes(`${ESC}[31m✗${ESC}[0m iam.assume-permission`));
    assert.ok(color.includes(`${ESC}[32m✓${ESC}[0m topology.cidr-overlap`));
    assert.equal(color.replace(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), ""), plain);
  });

  test("verbose adds the evidence under each link", () => {
    const text = renderText(oneClientReport(), { verbose: true });
    assert.match(
      text,
      /\n {4}✗ iam\.assume-permission[^\n]*\n {8}fix: [^\n]*\n {8}\[live\] identity policies of arn:aws:iam::222222222222:role\/EC2-EKS-CrossAccount-Role: implicit deny\n/,
    );
    assert.doesNotMatch(renderText(oneClientReport()), /\[live\]/);
  });

  test("the client-side probe reads as a checklist in chain order", () => {
    const text = renderText(clientProbeReport());
    assert.match(text, /^xeks doctor --from-client \(client probe\): cluster prac-eks-abhi/);
    const ids = linkLines(text).map((l) => MARK.exec(l)?.[3]);
    assert.deepEqual(ids, [
      "client.identity",
      "client.assume-role",
      "client.dns",
      "client.tcp",
      "client.tls",
      "client.token",
      "client.whoami",
      "client.permissions",
    ]);
    assert.match(
      text,
      /✗ client\.tls +x509: certificate signed by unknown authority\n {6}fix: xeks kubeconfig --client ops/,
    );
  });

  test("report text cannot drive the terminal, and odd subjects are shown", () => {
    const report = buildReport({ clients: [OPS], statuses: { "iam.client-role": "fail" } });
    const link = report.links.find((l) => l.id === "iam.client-role");
    assert.ok(link);
    link.summary = "bad\u001b[2Jname\nsecond line";
    link.subject = "client ops (instance profile)";
    const text = renderText({ ...report, verdict: verdictOf(report.links) });
    assert.ok(!text.includes(ESC));
    assert.match(
      text,
      /✗ iam\.client-role +\[client ops \(instance profile\)\] bad\\u001b\[2Jname\n +second line\n {6}fix: /,
    );
  });
});

// Bidirectional controls (Trojan Source): they would reorder what a terminal or a browser shows.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** A client whose name hides "exe.gnp" behind a right-to-left override, with every other bidi control. */
function bidiReport(): ChainReport {
  const name = "ops\u202egnp.exe\u202c\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a\u202b\u202d";
  const report = buildReport({ clients: [{ ...OPS, name }], statuses: { "network.peering": "fail" } });
  const peering = report.links.find((l) => l.id === "network.peering");
  assert.ok(peering);
  peering.summary = `no peering for \u2067${name}\u2069`;
  return { ...report, verdict: verdictOf(report.links) };
}
const BIDI_SHOWN =
  "ops\\u202egnp.exe\\u202c\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c\\u202a\\u202b\\u202d";

describe("bidirectional controls in report text", () => {
  test("the text shows them escaped, as other control characters", () => {
    const text = renderText(bidiReport());
    assert.doesNotMatch(text, BIDI);
    assert.ok(text.includes(`\nclient ${BIDI_SHOWN}\n`), text);
    assert.ok(text.includes(`no peering for \\u2067${BIDI_SHOWN}\\u2069`));
    assert.doesNotMatch(renderText(bidiReport(), { verbose: true, color: true }), BIDI);
  });

  test("the HTML shows them escaped, in text and attributes", () => {
    const html = renderHtml(bidiReport());
    assert.doesNotMatch(html, BIDI);
    assert.ok(html.includes(`no peering for \\u2067${BIDI_SHOWN}\\u2069`));
    assert.ok(html.includes(`data-client="${BIDI_SHOWN}"`));
    assert.ok(html.includes(`data-subject="client ${BIDI_SHOWN}"`));
  });
});

describe("renderJson", () => {
  const TOP = ["kind", "version", "mode", "verdict", "cluster", "links"];
  const LINK = ["id", "subject", "status", "summary", "fix", "evidence", "client", "accessRole"];

  test("one document with the contract's fields (and the documented extensions), in a stable order", () => {
    const report = twoClientReport();
    const out = renderJson(report);
    assert.ok(out.endsWith("}\n") && !out.endsWith("\n\n"));
    const doc = JSON.parse(out);
    assert.deepEqual(Object.keys(doc), TOP);
    assert.equal(doc.kind, "ChainReport");
    assert.equal(doc.version, 1);
    assert.equal(doc.mode, "live");
    assert.equal(doc.verdict, "fail");
    assert.deepEqual(doc.cluster, { name: "prac-eks-abhi", account: "111111111111", region: "ap-south-1" });
    assert.equal(doc.links.length, report.links.length);
    for (const [i, l] of (doc.links as Record<string, unknown>[]).entries()) {
      const keys = Object.keys(l);
      assert.deepEqual(
        keys,
        LINK.filter((k) => keys.includes(k)),
        "link keys in order",
      );
      for (const k of ["id", "subject", "status", "summary"]) assert.ok(keys.includes(k), k);
      assert.ok(["pass", "fail", "warn", "unknown"].includes(l.status as string));
      assert.equal(l.id, report.links[i]?.id, "links in the report's order");
      if (l.status !== "pass") assert.equal(typeof l.fix, "string");
      for (const e of l.evidence as Record<string, unknown>[])
        assert.deepEqual(
          Object.keys(e),
          ["fact", "source", "detail"].filter((k) => k in e),
        );
    }
    // The contract example: a link with only the contract's fields.
    const minimal: ChainReport = {
      kind: "ChainReport",
      version: 1,
      mode: "plan",
      verdict: "fail",
      links: [
        {
          id: "eks.authentication-mode",
          subject: "cluster prac-eks-abhi",
          status: "fail",
          summary: "authentication mode CONFIG_MAP ignores access entries",
          fix: "aws eks update-cluster-config --name prac-eks-abhi --access-config authenticationMode=API_AND_CONFIG_MAP",
        },
      ],
    };
    assert.deepEqual(JSON.parse(renderJson(minimal)), minimal);
  });

  test("the same report prints the same bytes, whatever the key order it was built with", () => {
    const report = oneClientReport();
    const shuffled = JSON.parse(
      JSON.stringify(report, (_k, v) =>
        v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ),
    ) as ChainReport;
    assert.equal(renderJson(shuffled), renderJson(report));
    assert.equal(renderJson(JSON.parse(renderJson(report))), renderJson(report));
  });

  test("internal fields stay out; the clients extension passes through", () => {
    const report = {
      ...oneClientReport(),
      debug: { secret: "x" },
      clients: [{ name: "ops", account: "222222222222" }],
    };
    const doc = JSON.parse(renderJson(report));
    assert.deepEqual(Object.keys(doc), ["kind", "version", "mode", "verdict", "cluster", "clients", "links"]);
    assert.deepEqual(doc.clients, [{ name: "ops", account: "222222222222" }]);
  });

  test("the verdict is never better than the links", () => {
    const report = { ...oneClientReport(), verdict: "pass" as const };
    assert.equal(JSON.parse(renderJson(report)).verdict, "fail");
    assert.equal(exitCodeFor(report), 1);
  });
});

describe("exitCodeFor", () => {
  test("0 for pass (warnings included), 1 for fail and unknown", () => {
    assert.equal(exitCodeFor(buildReport({ clients: [OPS] })), 0);
    assert.equal(exitCodeFor(buildReport({ clients: [OPS], statuses: { "network.endpoint": "warn" } })), 0);
    assert.equal(exitCodeFor(oneClientReport()), 1);
    assert.equal(
      exitCodeFor(buildReport({ clients: [OPS], statuses: { "eks.access-entry": "unknown" } })),
      1,
    );
    assert.equal(exitCodeFor(clientProbeReport()), 1);
    assert.equal(exitCodeFor(clientProbeReport("none")), 0);
  });
});

describe("renderHtml", () => {
  test("one self-contained page: no scripts, no external fonts, styles or images", () => {
    const html = renderHtml(twoClientReport());
    assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
    assert.ok(html.endsWith("</html>\n"));
    assert.equal((html.match(/<svg\b/g) ?? []).length, 1);
    assert.doesNotMatch(html, /<script|<link\b|<img\b|<iframe|@import|@font-face|\bsrc=|url\((?!#)/i);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.match(html, /<title>Access chain to EKS cluster prac-eks-abhi<\/title>/);
    assert.match(
      renderHtml(twoClientReport(), { title: "Ticket 42 & co" }),
      /<title>Ticket 42 &amp; co<\/title>/,
    );
  });

  test("the SVG has exactly one element per link, with its status class", () => {
    for (const report of [oneClientReport(), twoClientReport(), manyClientReport(3), clientProbeReport()])
      assertOneElementPerLink(renderHtml(report), report);
  });

  test("links the picture has no place for are still drawn once", () => {
    const report = oneClientReport();
    const odd: LinkResult[] = [
      // A second link with the same id and client but another subject, an id from a newer xeks, a role link
      // with no role, and client links without a client.
      {
        ...(report.links.find((l) => l.id === "network.peering") as LinkResult),
        subject: "client ops (2nd VPC)",
      },
      {
        id: "eks.future-check" as LinkId,
        subject: "cluster prac-eks-abhi",
        status: "warn",
        summary: "s",
        fix: "f",
      },
      { id: "eks.access-entry", subject: "cluster prac-eks-abhi", status: "fail", summary: "s", fix: "f" },
      { id: "client.dns", subject: "this instance", status: "pass", summary: "resolves" },
    ];
    const withOdd = { ...report, links: [...report.links, ...odd] };
    const html = renderHtml(withOdd);
    assertOneElementPerLink(html, withOdd);
    assert.match(html, />Other links</);
  });

  test("an access role shared by many clients is drawn once; the picture grows with the clients", () => {
    const heights = [1, 2, 50].map((n) => {
      const report = manyClientReport(n, { "iam.describe-cluster": "fail" });
      // Unfolded: one picture of every client (folding at scale is tested in test/report-scale.test.ts).
      const html = renderHtml(report, { foldAbove: Number.POSITIVE_INFINITY });
      assertOneElementPerLink(html, report);
      assert.equal((html.match(/data-link-id="iam\.describe-cluster"/g) ?? []).length, 1);
      // The other clients' rows show a faded copy, without the link's attributes.
      assert.equal((html.match(/<g class="mirror status-fail">/g) ?? []).length, (n - 1) * 1);
      // One box per client account.
      assert.equal((html.match(/<rect class="acct acct-b"/g) ?? []).length, n);
      return Number(/viewBox="0 0 \d+ (\d+)"/.exec(html)?.[1]);
    });
    assert.ok((heights[0] ?? 0) < (heights[1] ?? 0) && (heights[1] ?? 0) < (heights[2] ?? 0), `${heights}`);
  });

  test("boxes are labelled with the account ids; clients of one account share a box", () => {
    const html = renderHtml(twoClientReport());
    assert.match(html, />Account 111111111111</);
    assert.match(html, />Account 222222222222</);
    assert.match(html, />Account 333333333333</);
    const same = buildReport({ clients: [OPS, { ...ANALYTICS, account: OPS.account }] });
    assert.equal((renderHtml(same).match(/<rect class="acct acct-b"/g) ?? []).length, 1);
    // Accounts given by the caller win over what the report's ARNs suggest.
    const given = renderHtml(oneClientReport(), { clients: [{ name: "ops", account: "444444444444" }] });
    assert.match(given, />Account 444444444444</);
  });

  test("failing links carry their fix in a tooltip and in the visible list; the table has every link", () => {
    const report = oneClientReport();
    const html = renderHtml(report);
    const trust =
      /<g class="link status-fail" data-link-id="iam\.assume-permission"[^>]*><title>([^<]*)<\/title>/.exec(
        html,
      );
    assert.ok(trust, "tooltip on the failing link");
    assert.match(
      trust[1] ?? "",
      /^iam\.assume-permission: FAIL\n.*\nno identity policy.*\nfix: aws iam put-role-policy/s,
    );
    const caption = /<figcaption>([\s\S]*)<\/figcaption>/.exec(html)?.[1] ?? "";
    for (const l of report.links.filter((x) => x.status !== "pass"))
      assert.ok(
        caption.includes(`fix: ${l.fix?.replace(/'/g, "&#39;").replace(/"/g, "&quot;")}`),
        `fix of ${l.id}`,
      );
    assert.equal((caption.match(/<li class="status-/g) ?? []).length, 4);
    // Numbered in the order to work on them: failures, then the undecided, then warnings.
    assert.deepEqual(
      [...caption.matchAll(/<span class="num">(\d+)<\/span>.*?<code>([^<]+)<\/code>/g)].map(
        (m) => `${m[1]} ${m[2]}`,
      ),
      [
        "1 network.route.cluster-to-client",
        "2 iam.assume-permission",
        "3 eks.access-entry",
        "4 network.endpoint",
      ],
    );
    const rows = /<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? "";
    assert.equal((rows.match(/<tr /g) ?? []).length, report.links.length);
    for (const s of ["pass", "fail", "warn", "unknown"] as LinkStatus[])
      assert.equal(
        (rows.match(new RegExp(`<tr class="status-${s}">`, "g")) ?? []).length,
        report.links.filter((l) => l.status === s).length,
      );
    assert.match(html, /class="verdict verdict-fail"/);
  });

  test("hostile names, subjects, summaries and fixes are escaped", () => {
    const report = hostileReport();
    const html = renderHtml(report);
    assert.doesNotMatch(html, /<script|<img|<\/title><\/text>|\]\]><\/style>/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(
      html,
      /data-subject="client &lt;script&gt;alert\(1\)&lt;\/script&gt; -&gt; access role &quot;&gt;&lt;img/,
    );
    assertOneElementPerLink(html, report);
    assert.ok(renderText(report).includes(ATTACK.summary), "text shows it as it is");
  });
});

// ---------------------------------------------------------------------------------------------------------
// The page in a real browser: headless Chromium, no network, bounded.

const CHROMIUM = spawnSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], {
  encoding: "utf8",
}).stdout.trim();
const NO_CHROMIUM = CHROMIUM ? false : "chromium is not installed (scripts/install-test-deps.sh installs it)";

/** Run a command in its own process group; kill the group if it outlives `ms`. */
function runBounded(cmd: string, args: string[], env: NodeJS.ProcessEnv, ms: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }>(
    (resolve) => {
      const child = spawn(cmd, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      }, ms);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, timedOut });
      });
    },
  );
}

async function chromium(dir: string, url: string, mode: string[]) {
  const profile = mkdtempSync(join(dir, "profile-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    `--user-data-dir=${profile}`,
    "--window-size=1400,900",
    ...mode,
    url,
  ];
  const env = { PATH: process.env.PATH, HOME: dir, LANG: "C.UTF-8" };
  const r = await runBounded(CHROMIUM, args, env, 90_000);
  assert.equal(r.timedOut, false, "chromium finished in time");
  return r;
}

/** PNG signature, size and a decoded image that is not one flat color. */
function checkPng(file: string, width: number, height: number): void {
  const png = readFileSync(file);
  assert.ok(png.length > 20_000, `PNG is ${png.length} bytes`);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  assert.equal(png.readUInt32BE(16), width);
  assert.equal(png.readUInt32BE(20), height);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    if (png.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  // Undo the scanline filters (8-bit RGB or RGBA, as Chromium writes them) to read real pixels.
  const colorType = png[25];
  assert.equal(png[24], 8, "8-bit");
  assert.ok(colorType === 2 || colorType === 6, `color type ${colorType}`);
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x] ?? 0;
      const a = x >= bpp ? (px[y * stride + x - bpp] ?? 0) : 0;
      const b = y > 0 ? (px[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= bpp && y > 0 ? (px[(y - 1) * stride + x - bpp] ?? 0) : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const pred =
        filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth : 0;
      px[y * stride + x] = (v + pred) & 0xff;
    }
  }
  const colors = new Map<number, number>();
  for (let i = 0; i < px.length; i += bpp) {
    const rgb = ((px[i] ?? 0) << 16) | ((px[i + 1] ?? 0) << 8) | (px[i + 2] ?? 0);
    colors.set(rgb, (colors.get(rgb) ?? 0) + 1);
  }
  assert.ok(colors.size > 200, `${colors.size} colors`);
  assert.ok(Math.max(...colors.values()) < width * height * 0.8, "not one flat color");
  // The status colors of the picture are on screen: pass green, fail red, warn amber.
  const near = (hex: number) =>
    [...colors.keys()].some(
      (c) =>
        Math.abs((c >> 16) - (hex >> 16)) +
          Math.abs(((c >> 8) & 255) - ((hex >> 8) & 255)) +
          Math.abs((c & 255) - (hex & 255)) <
        12,
    );
  for (const [name, hex] of [
    ["pass", 0x16a34a],
    ["fail", 0xdc2626],
    ["warn", 0xd97706],
  ] as const)
    assert.ok(near(hex), `${name} color on screen`);
}

describe("the HTML report in headless Chromium", { skip: NO_CHROMIUM }, () => {
  test("renders to a non-trivial screenshot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-report-"));
    try {
      const file = join(dir, "report.html");
      writeFileSync(file, renderHtml(twoClientReport()));
      const shot = join(dir, "shot.png");
      await chromium(dir, pathToFileURL(file).href, [`--screenshot=${shot}`]);
      assert.ok(statSync(shot).isFile(), "screenshot written");
      checkPng(shot, 1400, 900);
      if (process.env.XEKS_REPORT_SCREENSHOT) copyFileSync(shot, process.env.XEKS_REPORT_SCREENSHOT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("at scale, the filter works from a file: it reads #q=…&s=…, hides rows, dims the picture, opens the folds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-report-"));
    try {
      // 30 clients: 29 pass and are folded (docs/report.md "At scale"); team-7's peering fails.
      const report = manyClientReport(30, { "network.peering@team-7": "fail" });
      const file = join(dir, "scale.html");
      writeFileSync(file, renderHtml(report));
      const dom = async (hash: string) => {
        const r = await chromium(dir, `${pathToFileURL(file).href}${hash}`, ["--dump-dom"]);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        return r.stdout;
      };
      const rows = (html: string) => [
        ...html.matchAll(/<tr class="status-\w+" data-filter="([^"]*)" data-ids="([^"]*)"[^>]*>/g),
      ];
      const visible = (html: string) => rows(html).filter((m) => !/ hidden/.test(m[0]));
      const dimmed = (html: string) => [
        ...html.matchAll(
          /<g class="link status-(\w+)( dim)?" data-link-id="([^"]*)" data-subject="([^"]*)"/g,
        ),
      ];

      // No filter: the box is shown (the script ran under the page's CSP), nothing hidden or dimmed.
      const plain = await dom("");
      assert.match(plain, /<form class="filter" id="xk-filter" role="search">/);
      assert.equal(rows(plain).length, report.links.length);
      assert.ok(rows(plain).every((m) => !/ hidden/.test(m[0])));
      assert.equal(dimmed(plain).length, report.links.length);
      assert.ok(dimmed(plain).every((m) => m[2] === undefined));
      assert.doesNotMatch(plain, /<details class="fold"[^>]* open/);

      // team-7's failing links: one row shown, every other link dimmed in the pictures, the folds open.
      const filtered = await dom("#q=team-7&s=fail");
      assert.match(filtered, /<output id="xk-n">1 of \d+ links match<\/output>/);
      assert.deepEqual(
        visible(filtered).map((m) => `${m[2]} ${m[1]}`),
        ["network.peering client team-7 team-7 "],
      );
      const lit = dimmed(filtered).filter((m) => m[2] === undefined);
      assert.deepEqual(
        lit.map((m) => `${m[3]} ${m[4]}`),
        ["network.peering client team-7"],
      );
      assert.match(filtered, /<details class="all-links" data-opens="" open="">/);
      // A word that matches no client, any status: every row hidden.
      const none = await dom("#q=no-such-client");
      assert.match(none, /<output id="xk-n">0 of \d+ links match<\/output>/);

      // A client name matches whole: team-2 is not team-20..29; "team-2*" is all of them; a link id matches
      // in part ("peering" is network.peering).
      const clientOf = (m: RegExpMatchArray) => /^client (\S+)/.exec(m[1] ?? "")?.[1];
      const two = await dom("#q=team-2");
      assert.deepEqual([...new Set(visible(two).map(clientOf))], ["team-2"]);
      assert.match(two, /<output id="xk-n">8 of \d+ links match<\/output>/);
      const litTwo = dimmed(two).filter((m) => m[2] === undefined);
      assert.ok(litTwo.length > 0 && litTwo.every((m) => /^client team-2(?: |$)/.test(m[4] ?? "")));
      const prefix = await dom("#q=team-2*+peering");
      assert.deepEqual(
        visible(prefix).map((m) => `${m[2]} ${clientOf(m)}`),
        ["team-2", ...Array.from({ length: 10 }, (_, i) => `team-2${i}`)].map((c) => `network.peering ${c}`),
      );

      // A malformed %-escape in the address: the filter takes the text as written and still works.
      const malformed = await dom("#q=%E0%A4%A");
      assert.match(malformed, /<form class="filter" id="xk-filter" role="search">/);
      assert.match(malformed, /<output id="xk-n">0 of \d+ links match<\/output>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the parsed DOM has one SVG element per link with its status class, and nothing hostile runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-report-"));
    try {
      const hostile = hostileReport();
      const two = twoClientReport();
      for (const [name, report] of [
        ["two", two],
        ["hostile", hostile],
      ] as const) {
        const file = join(dir, `${name}.html`);
        writeFileSync(file, renderHtml(report));
        const r = await chromium(dir, pathToFileURL(file).href, ["--dump-dom"]);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        const dom = r.stdout;
        assert.match(dom, /<svg[^>]*class="xk"/);
        const svg = dom.slice(dom.indexOf("<svg"), dom.indexOf("</svg>"));
        assertOneElementPerLink(svg, report);
        assertOneElementPerLink(dom, report);
        assert.doesNotMatch(dom, /<script|<img/i, "no element from report text");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
