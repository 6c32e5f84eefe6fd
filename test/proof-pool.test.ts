/**
 * The proof in worker threads (src/chain/pool.ts): the report equals `prove()` in one thread, whatever the number
 * of workers and however the subjects are split; a worker that dies leaves its share to the main thread; the
 * topology parsed in a worker is the one parsed here, and an invalid file gives the same error (exit 2, lines);
 * XEKS_PROOF_WORKERS is checked. One synthesis, several proofs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { stringify } from "yaml";
import { cpusOfCpuMax, proofWorkerCount, runsOf, startProofPool } from "../src/chain/pool.js";
import { prove } from "../src/chain/prove.js";
import { InputError } from "../src/errors.js";
import { synthesize } from "../src/infra/synthesize.js";
import { plannedStacks } from "../src/model/from-assembly.js";
import { type CfnTemplate, modelFromTemplates } from "../src/model/from-templates.js";
import { parseTopology } from "../src/topology/load.js";
import { ROOT, xeks } from "./helpers/cli.js";
import { generatedInput, topologyOf } from "./helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-proof-pool-"));
after(() => rmSync(work, { recursive: true, force: true }));

// 14 clients in an organization (the reach), two with the same CIDR (a failing link), one that no access role
// names (a warning), an admin access role naming ten clients: links of every status.
const input = {
  ...generatedInput(14),
  organization: { id: "o-a1b2c3d4e5", rolePattern: "Team*-EKS-Client-Role" },
};
const clients = input.clients as { vpc: { cidr: string } }[];
(clients[3] as { vpc: { cidr: string } }).vpc.cidr = "172.16.2.0/24";
// team-14 has no access role (a warning).
input.access = input.access.filter((a) => a.role !== "Team14-EKS-View-Role");
const text = stringify(input);
const file = join(work, "topology.yaml");
writeFileSync(file, text);
const topology = topologyOf(input);
const result = synthesize(topology, { outDir: join(work, "out") });
const stacks = plannedStacks(result.manifest, (s) => result.templates.get(s.name) as CfnTemplate);
const alone = await prove(topology, modelFromTemplates(topology, stacks), "plan");

test("the report of 1, 2 and 3 workers equals the proof in one thread", async () => {
  assert.ok(alone.links.length > 200);
  assert.deepEqual(new Set(alone.links.map((l) => l.status)), new Set(["pass", "fail", "warn"]));
  for (const n of [1, 2, 3]) {
    const pool = startProofPool(n, { subjectsPerWorker: 1 });
    try {
      assert.equal(pool.size, n);
      const report = await pool.provePlanned(topology, stacks, "plan");
      assert.equal(JSON.stringify(report), JSON.stringify(alone), `${n} workers`);
      assert.equal(pool.stats.runsHere, 0);
      assert.ok(pool.stats.runsInWorkers >= n);
    } finally {
      pool.close();
    }
  }
});

test("without workers the pool proves in the main thread, the same report", async () => {
  const pool = startProofPool(0);
  try {
    assert.equal(JSON.stringify(await pool.provePlanned(topology, stacks, "plan")), JSON.stringify(alone));
    assert.deepEqual(await pool.parseTopology(text, file), parseTopology(text, file));
  } finally {
    pool.close();
  }
});

test("a worker that dies leaves its share and the parse to the main thread", async () => {
  const entry = new URL("./fixtures/crashing-worker.mjs", import.meta.url);
  const pool = startProofPool(2, { entry, subjectsPerWorker: 1 });
  try {
    assert.deepEqual(await pool.parseTopology(text, file), parseTopology(text, file));
    assert.equal(JSON.stringify(await pool.provePlanned(topology, stacks, "plan")), JSON.stringify(alone));
    assert.equal(pool.stats.parsedHere, 1);
    assert.equal(pool.stats.runsInWorkers, 0);
    assert.ok(pool.stats.runsHere > 0);
  } finally {
    pool.close();
  }
});

test("a worker whose setup and proof fail (modules not loaded) leaves everything to the main thread", async () => {
  const entry = new URL("./fixtures/failing-worker.mjs", import.meta.url);
  const pool = startProofPool(2, { entry, subjectsPerWorker: 1 });
  try {
    assert.deepEqual(await pool.parseTopology(text, file), parseTopology(text, file));
    assert.equal(JSON.stringify(await pool.provePlanned(topology, stacks, "plan")), JSON.stringify(alone));
    assert.equal(pool.stats.runsInWorkers, 0);
    assert.equal(pool.stats.parsedHere, 1);
  } finally {
    pool.close();
  }
  // What such a worker writes on its stdout never reaches the process's stdout.
  const child = spawnSync(process.execPath, ["--import", "tsx", "test/fixtures/pool-stdout.ts", file], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(
    child.stdout,
    `parsed 14 clients, {"parsedInWorker":0,"parsedHere":1,"runsInWorkers":0,"runsHere":0}\n`,
  );
});

test("no proof workers by default when the address space is limited (ulimit -v: V8 would abort on a new thread)", () => {
  const script = `import("${ROOT}dist/chain/pool.js").then((m) => console.log(m.proofWorkerCount({})))`;
  const limited = spawnSync("bash", ["-c", `ulimit -v 8000000; exec "${process.execPath}" -e '${script}'`], {
    encoding: "utf8",
  });
  assert.equal(limited.stdout.trim(), "0", limited.stderr);
  const free = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  assert.equal(free.stdout.trim(), String(proofWorkerCount({})));
});

test("the topology parsed in a worker is the one parsed here; an invalid one gives the same InputError", async () => {
  const pool = startProofPool(1);
  try {
    assert.deepEqual(await pool.parseTopology(text, file), parseTopology(text, file));
    assert.equal(pool.stats.parsedInWorker, 1);
    const bad = text.replace("cidr: 172.16.0.0/24", "cidr: 172.16.0.0/33");
    assert.notEqual(bad, text);
    const here = (() => {
      try {
        parseTopology(bad, file);
      } catch (err) {
        return err;
      }
    })();
    assert.ok(here instanceof InputError);
    await assert.rejects(pool.parseTopology(bad, file), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.message, here.message);
      assert.deepEqual(err.issues, here.issues);
      assert.equal(err.file, here.file);
      assert.ok(err.issues.some((i) => i.path.endsWith("vpc.cidr") && i.line !== undefined));
      return true;
    });
  } finally {
    pool.close();
  }
});

test("a cgroup v2 CPU quota caps the default: cpu.max read as whole CPUs", () => {
  assert.equal(cpusOfCpuMax("max 100000\n"), undefined);
  assert.equal(cpusOfCpuMax("400000 100000\n"), 4);
  assert.equal(cpusOfCpuMax("150000 100000"), 1);
  assert.equal(cpusOfCpuMax("50000 100000"), 1);
  assert.equal(cpusOfCpuMax("garbage"), undefined);
  assert.equal(cpusOfCpuMax("100000 0"), undefined);
});

test("runsOf: contiguous runs covering every subject once", () => {
  for (const [n, k] of [
    [1, 8],
    [7, 3],
    [100, 16],
    [5, 5],
  ] as const) {
    const runs = runsOf(n, k);
    assert.equal(runs[0]?.[0], 0);
    assert.equal(runs.at(-1)?.[1], n);
    for (let i = 1; i < runs.length; i++) assert.equal(runs[i]?.[0], runs[i - 1]?.[1]);
    assert.ok(runs.every(([a, b]) => b > a));
  }
});

test("XEKS_PROOF_WORKERS: 0 to 16, else exit 2 naming it", () => {
  assert.equal(proofWorkerCount({ XEKS_PROOF_WORKERS: "0" }), 0);
  assert.equal(proofWorkerCount({ XEKS_PROOF_WORKERS: "16" }), 16);
  const unset = proofWorkerCount({});
  assert.ok(unset >= 0 && unset <= 4);
  const long = "9".repeat(10_000);
  assert.throws(
    () => proofWorkerCount({ XEKS_PROOF_WORKERS: long }),
    (err: unknown) => err instanceof InputError && err.message.length < 100 && err.message.includes("…"),
  );
  assert.throws(
    () => proofWorkerCount({ XEKS_PROOF_WORKERS: "1\n" }),
    (err: unknown) => err instanceof InputError && !err.message.includes("\n"),
  );
  for (const bad of ["17", "-1", "two", "1.5", " 2"]) {
    assert.throws(
      () => proofWorkerCount({ XEKS_PROOF_WORKERS: bad }),
      (err: unknown) => err instanceof InputError && err.issues[0]?.path === "XEKS_PROOF_WORKERS",
    );
  }
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" };
  const r = xeks(["plan", "examples/seed.yaml", "--out", join(work, "bad-env")], {
    env: { ...env, XEKS_PROOF_WORKERS: "many" },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /XEKS_PROOF_WORKERS: expected a whole number from 0/);
  assert.equal(r.stdout, "");
});

test("xeks plan: the same output with workers and without; nothing on stderr; a bad file exits 2 alike", () => {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" };
  const runs = ["0", "2"].map((n) =>
    xeks(["plan", file, "--out", join(work, `cli-${n}`), "-o", "json"], {
      env: { ...env, XEKS_PROOF_WORKERS: n },
    }),
  );
  const [seq, par] = runs as [ReturnType<typeof xeks>, ReturnType<typeof xeks>];
  assert.equal(seq.status, 1); // the duplicated CIDR fails
  assert.equal(par.status, seq.status);
  assert.equal(par.stderr, "");
  const strip = (s: string) => s.replaceAll(/cli-[02]/g, "cli-N");
  assert.equal(strip(par.stdout), strip(seq.stdout));
  const badFile = join(work, "bad.yaml");
  writeFileSync(badFile, text.replace("cidr: 172.16.0.0/24", "cidr: 172.16.0.0/33"));
  const bad = ["0", "2"].map((n) =>
    xeks(["plan", badFile, "--out", join(work, "bad-out")], { env: { ...env, XEKS_PROOF_WORKERS: n } }),
  );
  assert.equal(bad[0]?.status, 2);
  assert.equal(bad[1]?.status, 2);
  assert.equal(bad[1]?.stderr, bad[0]?.stderr);
  assert.match(bad[1]?.stderr ?? "", /bad\.yaml:\d+:\d+: clients\[0\]\.vpc\.cidr/);
});
