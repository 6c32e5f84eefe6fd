/**
 * Parallel phases at the emulator: 20 clients (one VPC and route table each, in one client account reached with
 * `--assume-role-name`), deployed with `--concurrency 8`. One client's route table does not exist, so its
 * client-link stack fails in phase 3: the other 19 of the phase are deployed all the same, the run exits 1, and
 * phase 4 does not start (the phase barrier). With `--fail-fast` (one at a time), the stacks after the failed one
 * are not reached. After the route table is fixed, a re-run deploys only what is not done. Then destroy, in
 * parallel too, leaves nothing. Run `npm run build` first: these run bin/xeks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { countOutcomes, describeCounts, runBounded } from "../src/deploy/pool.js";
import { clientStacks, type ManyClients, manyClients } from "./helpers/many-clients.js";
import { CLIENT_ACCOUNT, CLUSTER_ACCOUNT, type Lab, startLab } from "./helpers/moto-deploy.js";
import { xeksAsync } from "./helpers/spawn.js";

const N = 20;
const BROKEN = 7;
const names = Array.from({ length: N }, (_, i) => `c${String(i + 1).padStart(2, "0")}`);
const broken = names[BROKEN - 1] as string;

describe("unit: the bounded pool", () => {
  test("at most `limit` at once, every item once, results in order", async () => {
    let running = 0;
    let peak = 0;
    const r = await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return x * 2;
    });
    assert.deepEqual(r, [2, 4, 6, 8, 10, 12, 14]);
    assert.equal(peak, 3);
  });

  test("stop() stops starting more; the rest are not reached", async () => {
    let failed = false;
    const r = await runBounded(
      ["ok", "fail", "ok", "ok"],
      1,
      async (x) => {
        if (x === "fail") failed = true;
        return x === "fail" ? ("failed" as const) : ("done" as const);
      },
      () => failed,
    );
    assert.deepEqual(r, ["done", "failed", undefined, undefined]);
    const counts = countOutcomes(r);
    assert.deepEqual(counts, { done: 1, failed: 1, skipped: 0, notReached: 2 });
    assert.equal(describeCounts(counts), "1 done, 1 failed, 2 not reached");
  });

  test("a task that throws rejects the pool and starts nothing more", async () => {
    const started: number[] = [];
    await assert.rejects(
      runBounded([1, 2, 3], 1, async (x) => {
        started.push(x);
        if (x === 1) throw new Error("boom");
        return x;
      }),
      /boom/,
    );
    assert.deepEqual(started, [1]);
  });
});

describe(`deploy of ${N} clients with --concurrency 8 at the emulator`, () => {
  let lab: Lab;
  let file: string;
  let clients: ManyClients;
  const stack = clientStacks;
  // The cluster with its profile; every client account through a role assumed with the base session.
  const FLAGS = ["--cluster-profile", "cluster", "--assume-role-name", "xeks-deployer", "--no-doctor"];
  const run = (args: string[]) =>
    xeksAsync(args, { cwd: lab.dir, env: { ...lab.env, AWS_PROFILE: "base" }, timeoutMs: 300_000 });
  const write = (brokenRtb?: string) => clients.write(file, brokenRtb ? { [broken]: brokenRtb } : {});

  before(async () => {
    lab = await startLab();
    clients = await manyClients(lab, N);
    file = join(lab.dir, "many.yaml");
  });
  after(async () => {
    await lab?.stop();
  });

  test("a failed client does not stop the others of its phase; the next phase waits; exit 1", async () => {
    write("rtb-0bad0bad0bad0bad0");
    const r = await run(["deploy", file, "--yes", "--concurrency", "8", ...FLAGS]);
    assert.equal(r.status, 1, `${r.stderr}\n${r.stdout}`);
    // Eight stacks of a phase start before the first one is done (the stacks of a phase run in parallel).
    const phase3 = r.stderr.slice(r.stderr.indexOf("phase 3/4"));
    const firstDone = phase3.search(/: create done in/);
    const startedBefore = phase3.slice(0, firstDone).match(/: create\.\.\./g) ?? [];
    assert.equal(startedBefore.length, 8, phase3.slice(0, firstDone));
    // One summary line per phase; phase 3 counts the failure.
    assert.match(r.stderr, /phase 1 client-identity: 20 done in /);
    assert.match(r.stderr, /phase 2 cluster-access: 2 done in /);
    assert.match(r.stderr, /phase 3 client-link: 19 done, 1 failed in /);
    assert.doesNotMatch(r.stderr, /phase 4\/4/, "phase 4 does not start");
    assert.match(
      r.stderr,
      new RegExp(`deploy failed in phase 3 \\(client-link\\): stack ${stack.clientLink(broken)}`),
    );
    assert.match(r.stderr, /rtb-0bad0bad0bad0bad0/);
    assert.match(
      r.stderr,
      new RegExp(
        `a re-run retries ${stack.clientLink(broken)} and then the later phase 4 \\(20 stack\\(s\\)\\)`,
      ),
    );
    assert.match(
      r.stderr,
      /resume with: xeks deploy \S+ --cluster-profile cluster --assume-role-name xeks-deployer --yes --no-doctor/,
    );
    const client = await lab.stacks(CLIENT_ACCOUNT);
    for (const name of names) {
      assert.equal(client.get(stack.identity(name)), "CREATE_COMPLETE", name);
      assert.equal(
        client.get(stack.clientLink(name)),
        name === broken ? "ROLLBACK_COMPLETE" : "CREATE_COMPLETE",
        name,
      );
    }
    const cluster = await lab.stacks(CLUSTER_ACCOUNT);
    assert.equal([...cluster.keys()].filter((s) => s.includes("-cluster-link-")).length, 0);
    assert.match(r.stdout, /Deploy of cluster prac-eks-abhi failed in phase 3/);
    assert.match(r.stdout, new RegExp(`failed +${stack.clientLink(broken)} `));
  });

  test("--fail-fast: after the failure no other stack of the phase starts", async () => {
    // Still broken; one at a time, so that which stacks are not reached is known.
    const r = await run(["deploy", file, "--yes", "--concurrency", "1", "--fail-fast", ...FLAGS]);
    assert.equal(r.status, 1, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stderr, /phase 3 client-link: 0 done, 1 failed, 6 skipped, 13 not reached in /);
    assert.match(r.stdout, new RegExp(`not-reached +${stack.clientLink("c08")} `));
    assert.match(r.stderr, /resume with: .* --concurrency 1 --fail-fast --yes/);
    // What the re-run does: the failed stack, the 13 of its phase not reached, then phase 4.
    assert.match(
      r.stderr,
      new RegExp(
        `a re-run retries ${stack.clientLink(broken)}, deploys the 13 stack\\(s\\) not reached in phase 3 \\(${stack.clientLink("c08")}, .*\\) and then the later phase 4 \\(20 stack\\(s\\)\\)`,
      ),
    );
  });

  test("after the fix, a re-run deploys only what is not done and finishes", async () => {
    write();
    const r = await run(["deploy", file, "--yes", ...FLAGS]);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stderr, /phase 1 client-identity: 0 done, 20 skipped in /);
    assert.match(r.stderr, /phase 3 client-link: 1 done, 19 skipped in /);
    assert.match(r.stderr, /phase 4 cluster-link: 20 done in /);
    assert.match(r.stdout, new RegExp(`recreated +${stack.clientLink(broken)} `));
    const cluster = await lab.stacks(CLUSTER_ACCOUNT);
    for (const name of names) assert.equal(cluster.get(stack.clusterLink(name)), "CREATE_COMPLETE", name);
    assert.equal(cluster.size, N + 2);
    assert.equal((await lab.stacks(CLIENT_ACCOUNT)).size, 2 * N);
  });

  test("destroy deletes the stacks of each phase in parallel and leaves none", async () => {
    const r = await run([
      "destroy",
      file,
      "--yes",
      "--concurrency",
      "8",
      "--cluster-profile",
      "cluster",
      "--assume-role-name",
      "xeks-deployer",
    ]);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    assert.match(r.stderr, /phase 4 cluster-link: 20 done in /);
    assert.match(r.stderr, /phase 1 client-identity: 20 done in /);
    assert.equal((await lab.stacks(CLUSTER_ACCOUNT)).size, 0);
    assert.equal((await lab.stacks(CLIENT_ACCOUNT)).size, 0);
  });
});
