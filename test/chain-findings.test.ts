/**
 * What a new user reads in the proof: a client no access role names is told it has no access
 * (iam.assume-permission, warn), a route conflict gets a fix that works (never the create-route its own summary
 * says fails), identical client CIDRs are the topology.cidr-overlap link (not an input error) and the docs say
 * so, the plan prints its proof heading once, and the HTML report shows where each client is.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { type RouteCheck, routeFix } from "../src/chain/links/common.js";
import { prove } from "../src/chain/prove.js";
import type { ChainReport, LinkResult } from "../src/chain/types.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import type { Model } from "../src/model/types.js";
import { renderHtml } from "../src/report/index.js";
import { parseTopology } from "../src/topology/index.js";
import { ROOT, xeks } from "./helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "xeks-findings-"));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed YAML documents freely.
type Doc = Record<string, any>;
const seed: Doc = parse(readFileSync(join(ROOT, "examples/seed.yaml"), "utf8"));
const teams: Doc = parse(readFileSync(join(ROOT, "examples/teams.yaml"), "utf8"));

/** seed plus client `lonely` (a created role, an instance, another region) that no access role names. */
function withLonelyClient(): Doc {
  const d = structuredClone(seed);
  d.clients.push({
    name: "lonely",
    account: "333333333333",
    region: "eu-west-1",
    vpc: { id: "vpc-0ddd3333eeee5555f", cidr: "172.30.0.0/16", routeTables: ["rtb-0ddd3333eeee5555f"] },
    role: "Lonely-Role",
    instance: { subnetId: "subnet-0ddd3333eeee5555f" },
  });
  return d;
}

async function planned(doc: Doc): Promise<{ model: Model; report: ChainReport; notes: string[] }> {
  const topology = parseTopology(stringify(doc), "case.yaml");
  const outDir = join(work, `out-${counter++}`);
  const result = await synthesize(topology, { outDir });
  const model = modelFromAssembly(topology, outDir);
  return { model, report: await prove(topology, model, "plan"), notes: result.manifest.notes };
}

function writeTopology(doc: Doc): string {
  const file = join(work, `topology-${counter++}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

const linksOf = (r: ChainReport, id: string, subject: string): LinkResult[] =>
  r.links.filter((l) => l.id === id && l.subject === subject);

describe("a client that no access role names", () => {
  test("plan: a warn on iam.assume-permission for that client saying it has no access; nothing else changes", async () => {
    const { report, notes } = await planned(withLonelyClient());
    const lonely = linksOf(report, "iam.assume-permission", "client lonely");
    assert.equal(lonely.length, 1);
    const link = lonely[0] as LinkResult;
    assert.equal(link.status, "warn");
    assert.equal(link.client, "lonely");
    assert.equal(link.accessRole, undefined);
    assert.match(
      link.summary,
      /no access role names client lonely, so it has no access to cluster prac-eks-abhi/,
    );
    assert.match(link.fix ?? "", /add lonely to access\[\]\.clients .*EKS-CrossAccount-Access-Role/);
    // Its other links still hold; the client an access role names has only the pair links.
    assert.deepEqual(
      report.links.filter((l) => l.status !== "pass").map((l) => `${l.id} @ ${l.subject}`),
      ["iam.assume-permission @ client lonely"],
    );
    assert.equal(linksOf(report, "iam.assume-permission", "client ops").length, 0);
    assert.equal(
      linksOf(report, "iam.assume-permission", "client ops -> access role EKS-CrossAccount-Access-Role")
        .length,
      1,
    );
    assert.equal(report.verdict, "pass");
    // The plan's notes no longer claim the instance reads the endpoint "through the access role".
    const about = notes.filter((n) => n.includes("lonely"));
    assert.ok(
      about.some((n) => /no access to the cluster/.test(n)),
      about.join("\n"),
    );
    assert.ok(!about.some((n) => /through the access role/.test(n)), about.join("\n"));
  });

  test("doctor (a live model): the same warning", async () => {
    const d = withLonelyClient();
    const topology = parseTopology(stringify(d), "case.yaml");
    const { model } = await planned(d);
    const live = await prove(topology, { ...model, source: "live" }, "live");
    const lonely = linksOf(live, "iam.assume-permission", "client lonely");
    assert.equal(lonely.length, 1);
    assert.equal(lonely[0]?.status, "warn");
  });

  test("xeks plan: the text says so, exit 0; the picture draws it on the client's identity row", () => {
    const file = writeTopology(withLonelyClient());
    const html = join(work, "lonely.html");
    const r = xeks(["plan", file, "--out", join(work, "out-cli-lonely"), "--report", html]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /! iam\.assume-permission +no access role names client lonely, so it has no access/,
    );
    const page = readFileSync(html, "utf8");
    assert.match(
      page,
      /<g class="link status-warn" data-link-id="iam\.assume-permission" data-subject="client lonely">/,
    );
    assert.match(page, /no access role names this client: no access to the cluster/);
  });
});

describe("route fixes that work", () => {
  test("an existing route to the same destination: delete it and let deploy create the route, never create-route", async () => {
    const d = structuredClone(seed);
    d.clients[0].vpc.routes = [
      { routeTable: "rtb-0ddd3333eeee4444f", destination: "10.0.0.0/16", target: "tgw-0123456789abcdef0" },
    ];
    const { report } = await planned(d);
    const [link] = linksOf(report, "network.route.client-to-cluster", "client ops");
    assert.equal(link?.status, "fail");
    assert.match(link?.summary ?? "", /RouteAlreadyExists/);
    const fix = link?.fix ?? "";
    assert.doesNotMatch(fix, /create-route/, "the summary says CreateRoute fails");
    assert.match(
      fix,
      /^in account 222222222222: aws ec2 delete-route --route-table-id rtb-0ddd3333eeee4444f --destination-cidr-block 10\.0\.0\.0\/16 --region ap-south-1; then remove the route to 10\.0\.0\.0\/16 \(rtb-0ddd3333eeee4444f -> tgw-0123456789abcdef0\) from clients\[0\]\.vpc\.routes and run xeks deploy/,
    );
  });

  test("two clients with one CIDR: the route fix points at the overlap, never at create-route", async () => {
    const d = structuredClone(teams);
    d.clients[1].vpc.cidr = d.clients[0].vpc.cidr;
    const { report } = await planned(d);
    for (const client of ["payments", "analytics"]) {
      const [route] = linksOf(report, "network.route.cluster-to-client", `client ${client}`);
      assert.equal(route?.status, "fail");
      assert.doesNotMatch(route?.fix ?? "", /create-route|replace-route/);
      assert.match(route?.fix ?? "", /distinct CIDRs \(see topology\.cidr-overlap\)/);
    }
  });

  test("live routes: replace-route where a route to the destination exists, create-route where none does", () => {
    const route = (destination: string, target: string) =>
      ({ destination, target, state: "active", source: "live" }) as const;
    const checks: RouteCheck[] = [
      { table: "rtb-1", ok: false, route: route("10.0.0.0/16", "tgw-1"), problem: "elsewhere" },
      { table: "rtb-2", ok: false, route: route("10.0.0.0/16", "pcx-old"), problem: "blackhole" },
      { table: "rtb-3", ok: false, route: route("10.0.0.0/8", "tgw-1"), problem: "wider" },
      { table: "rtb-4", ok: false, problem: "none" },
      { table: "rtb-5", ok: true, route: route("10.0.0.0/16", "pcx-0123456789abcdef0") },
    ];
    const fix = routeFix(checks, "10.0.0.0/16", "pcx-0123456789abcdef0", "222222222222", "ap-south-1");
    const cmds = fix.replace(/^in account 222222222222: /, "").split(" && ");
    const flags =
      "--destination-cidr-block 10.0.0.0/16 --vpc-peering-connection-id pcx-0123456789abcdef0 --region ap-south-1";
    assert.deepEqual(cmds, [
      `aws ec2 replace-route --route-table-id rtb-1 ${flags}`,
      `aws ec2 replace-route --route-table-id rtb-2 ${flags}`,
      `aws ec2 create-route --route-table-id rtb-3 ${flags}`,
      `aws ec2 create-route --route-table-id rtb-4 ${flags}`,
    ]);
  });
});

describe("identical client CIDRs are a link, not an input error", () => {
  test("xeks plan exits 1 with topology.cidr-overlap failing for both clients", () => {
    const d = structuredClone(teams);
    d.clients[1].vpc.cidr = d.clients[0].vpc.cidr;
    const r = xeks(["plan", writeTopology(d), "--out", join(work, "out-cli-same"), "-o", "json"]);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as ChainReport;
    for (const client of ["payments", "analytics"]) {
      assert.equal(linksOf(report, "topology.cidr-overlap", `client ${client}`)[0]?.status, "fail");
    }
  });

  test("the docs say the same", () => {
    for (const doc of ["docs/infra.md", "docs/topology.md", "README.md"]) {
      const text = readFileSync(join(ROOT, doc), "utf8").replace(/\s+/g, " ");
      assert.doesNotMatch(text, /same CIDR[^.]*InputError/, `${doc} calls identical CIDRs an input error`);
    }
    const infra = readFileSync(join(ROOT, "docs/infra.md"), "utf8").replace(/\s+/g, " ");
    assert.match(
      infra,
      /Two clients with the same \(or overlapping\) CIDR are laid out as written, not refused/,
    );
    assert.match(infra, /topology\.cidr-overlap/);
    const topology = readFileSync(join(ROOT, "docs/topology.md"), "utf8").replace(/\s+/g, " ");
    assert.match(topology, /two clients with overlapping or identical CIDRs/);
  });
});

describe("the plan's report", () => {
  test("the text prints the proof heading once", () => {
    const r = xeks(["plan", join(ROOT, "examples/seed.yaml"), "--out", join(work, "out-cli-seed")]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split("(planned state)").length - 1, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /Chain proof/);
    assert.match(
      r.stdout,
      /\n\nxeks plan \(planned state\): cluster prac-eks-abhi \(account 111111111111, ap-south-1\)\n/,
    );
  });

  test("the HTML shows each client's region and the cluster's, and marks a cross-region client", async () => {
    const { report } = await planned(withLonelyClient());
    const page = renderHtml(report);
    // The header lists each client with its account and region; the cross-region one is marked.
    assert.match(
      page,
      /<li data-client="ops" data-region="ap-south-1">client ops · account 222222222222 · ap-south-1<\/li>/,
    );
    assert.match(
      page,
      /<li class="cross-region" data-client="lonely" data-region="eu-west-1">client lonely · account 333333333333 · eu-west-1 <strong class="cross-region">cross-region: the peering joins eu-west-1 to the cluster's ap-south-1<\/strong><\/li>/,
    );
    // The picture: each client's region beside its name, the cross-region one marked, and the cluster's region.
    assert.match(page, /<text class="client-region" [^>]*data-client="ops" data-region="ap-south-1">/);
    assert.match(
      page,
      /<text class="client-region cross-region" [^>]*data-client="lonely" data-region="eu-west-1">/,
    );
    assert.match(page, /eu-west-1 · cross-region<\/text>/);
    assert.match(page, />inter-region<\/text>/);
    assert.match(page, /cluster account · ap-south-1/);
    // One client in the cluster's region only: nothing is marked cross-region.
    const plain = renderHtml((await planned(seed)).report);
    assert.doesNotMatch(plain, /class="[^"]*cross-region|>inter-region</);
    assert.match(plain, /data-region="ap-south-1"/);
  });
});
