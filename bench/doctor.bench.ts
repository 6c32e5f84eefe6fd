/**
 * `xeks doctor` on 200 client accounts at the emulators (moto_server + the EKS emulator), on the bare emulators
 * (local round trips of about a millisecond) and with 30 ms added to every AWS request, about a regional AWS API
 * round trip (the recording proxy in front of moto, test/helpers/moto-server.ts, and the EKS emulator itself wait
 * that long before answering; both on 127.0.0.1). Runs bin/xeks (dist/: `npm run bench` builds it first) as a user
 * does, `--output json`, with one profile per account, once to warm up and then 3 times per row; prints the median
 * wall time of the whole command (process start to exit), the CPU seconds of xeks and of moto during a run
 * (bench/cpu.ts), and the AWS requests that reached the emulators, by service. Asserts that every run sees the
 * same number of requests and reaches the same verdict, nothing about time.
 *
 * The setup (bench/many-accounts.ts) is built by hand in the emulators: N client accounts, each a VPC peered with
 * the cluster VPC, an existing client role, access roles of 30 clients each. Past 125 clients the cluster VPC has
 * more peerings than AWS allows, so the verdict is fail on network.peering-quota alone: doctor reads everything
 * all the same.
 *
 * Smaller or other runs (also documented in docs/doctor.md, "Bench"):
 *   XEKS_BENCH_DOCTOR_CLIENTS=20 npm run bench -- doctor        number of client accounts (1 to 250; default 200)
 *   XEKS_BENCH_DOCTOR_CONCURRENCY=8,1 npm run bench -- doctor   doctor's --concurrency values to run (default 8)
 *   XEKS_BENCH_DOCTOR_ROUNDS=1 npm run bench -- doctor          runs per row, the median printed (default 3)
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEksFixture } from "../test/helpers/eks-fixture.js";
import { type Credentials, makeAwsHome, xeksAsync } from "../test/helpers/live-env.js";
import { CLUSTER_ACCOUNT } from "../test/helpers/live-setup.js";
import { startMoto } from "../test/helpers/moto-server.js";
import { exitedChildrenCpuSeconds, motoCpuSeconds } from "./cpu.js";
import { benchClientAccount, benchClientName, buildManyAccounts } from "./many-accounts.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const LATENCY_MS = 30;

/** A whole number from an environment variable, `fallback` when unset; a bad value stops the bench. */
function wholeNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${name}: a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}
const CLIENTS = wholeNumber("XEKS_BENCH_DOCTOR_CLIENTS", 200, 1, 250);
const ROUNDS = wholeNumber("XEKS_BENCH_DOCTOR_ROUNDS", 3, 1, 9);
const CONCURRENCY = (process.env.XEKS_BENCH_DOCTOR_CONCURRENCY || "8").split(",").map((c) => {
  const n = Number(c.trim());
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(
      `XEKS_BENCH_DOCTOR_CONCURRENCY: whole numbers from 1 to 64 separated by commas, not "${c}"`,
    );
  }
  return n;
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

interface Run {
  ms: number;
  /** CPU seconds of the xeks process, and of moto_server during the run. */
  xeksCpu: number;
  motoCpu: number;
  /** Requests that reached the emulators (the proxy's count and the EKS emulator's). */
  requests: number;
  byService: Record<string, number>;
  verdict: string;
  /** Ids of the links that do not pass, with their counts: "network.peering-quota fail". */
  notPassing: string[];
}

const moto = await startMoto();
const eks = await startEksFixture();
const motoPort = Number(new URL(moto.url).port);
const done: (() => void)[] = [];
try {
  const t0 = performance.now();
  const profiles: Record<string, string> = { cluster: CLUSTER_ACCOUNT };
  for (let i = 0; i < CLIENTS; i++) profiles[benchClientName(i)] = benchClientAccount(i);
  const home = await makeAwsHome(moto, eks, profiles);
  done.push(home.cleanup);
  const setup = await buildManyAccounts(moto, eks, CLIENTS, (a) => home.credentials.get(a) as Credentials);
  done.push(setup.destroy);
  const setupMs = performance.now() - t0;
  // EKS answers ListAccessEntries with up to 100 entries a page.
  eks.pageSize = 100;
  const file = join(home.dir, "xeks.yaml");
  writeFileSync(file, setup.topology);
  const flags = [
    "doctor",
    file,
    "--output",
    "json",
    "--cluster-profile",
    "cluster",
    ...Object.keys(setup.clients).flatMap((name) => ["--client-profile", `${name}=${name}`]),
  ];

  const run = async (concurrency: number): Promise<Run> => {
    moto.clearCalls();
    eks.clearCalls();
    const cpu0 = [exitedChildrenCpuSeconds(), motoCpuSeconds(motoPort)];
    const t = performance.now();
    const r = await xeksAsync([...flags, "--concurrency", String(concurrency)], {
      env: home.env,
      cwd: home.dir,
      timeoutMs: 900_000,
    });
    const ms = performance.now() - t;
    const xeksCpu = exitedChildrenCpuSeconds() - (cpu0[0] ?? 0);
    const motoCpu = motoCpuSeconds(motoPort) - (cpu0[1] ?? 0);
    let report: { verdict?: string; links?: { id: string; status: string }[] } = {};
    try {
      report = JSON.parse(r.stdout);
    } catch {
      // reported below
    }
    if ((r.status !== 0 && r.status !== 1) || !report.verdict || !report.links) {
      throw new Error(`xeks doctor: exit ${r.status}\n${r.stderr}\n${r.stdout.slice(0, 2000)}`);
    }
    const byService: Record<string, number> = { eks: eks.calls.length };
    for (const c of moto.calls) byService[c.service] = (byService[c.service] ?? 0) + 1;
    const counts = new Map<string, number>();
    for (const l of report.links) {
      if (l.status !== "pass")
        counts.set(`${l.id} ${l.status}`, (counts.get(`${l.id} ${l.status}`) ?? 0) + 1);
    }
    return {
      ms,
      xeksCpu,
      motoCpu,
      requests: moto.calls.length + eks.calls.length,
      byService,
      verdict: `${report.verdict} (${report.links.length} links)`,
      notPassing: [...counts].map(([k, n]) => `${k} ×${n}`).sort(),
    };
  };

  process.stdout.write(
    `setup by hand in the emulators: ${CLIENTS} client accounts + the cluster account, ` +
      `${setup.accessRoles} access role${setup.accessRoles === 1 ? "" : "s"}, ${(setupMs / 1000).toFixed(1)} s\n\n`,
  );
  process.stdout.write(
    `latency/request  concurrency  wall (median of ${ROUNDS})  CPU xeks  CPU moto  AWS requests  verdict\n`,
  );
  await run(CONCURRENCY[0] ?? 8); // warm up (files read once into the page cache), not counted
  const all: Run[] = [];
  const walls: Record<string, number> = {};
  for (const latency of [0, LATENCY_MS]) {
    moto.latencyMs = latency;
    eks.latencyMs = latency;
    for (const c of CONCURRENCY) {
      const rs: Run[] = [];
      for (let r = 0; r < ROUNDS; r++) rs.push(await run(c));
      all.push(...rs);
      const first = rs[0] as Run;
      walls[`${latency}/${c}`] = median(rs.map((x) => x.ms));
      process.stdout.write(
        `${`${latency} ms`.padEnd(17)}${String(c).padEnd(13)}` +
          `${`${((walls[`${latency}/${c}`] ?? 0) / 1000).toFixed(2)} s`.padEnd(20)}` +
          `${`${median(rs.map((x) => x.xeksCpu)).toFixed(1)} s`.padEnd(10)}` +
          `${`${median(rs.map((x) => x.motoCpu)).toFixed(1)} s`.padEnd(10)}` +
          `${String(first.requests).padEnd(14)}${first.verdict}\n`,
      );
    }
  }
  const first = all[0] as Run;
  if (all.some((r) => r.requests !== first.requests || r.verdict !== first.verdict)) {
    throw new Error(`runs differ: ${all.map((r) => `${r.requests} requests, ${r.verdict}`).join("; ")}`);
  }
  process.stdout.write(
    `\nAWS requests of one run, by service: ${Object.entries(first.byService)
      .sort()
      .map(([s, n]) => `${s} ${n}`)
      .join(", ")}\n`,
  );
  process.stdout.write(`links not passing: ${first.notPassing.join(", ") || "none"}\n`);
  for (const c of CONCURRENCY) {
    const [bare, slow] = [walls[`0/${c}`] ?? 0, walls[`${LATENCY_MS}/${c}`] ?? 0];
    process.stdout.write(
      `concurrency ${c}: +${LATENCY_MS} ms per request costs ${((slow - bare) / 1000).toFixed(2)} s ` +
        `(${(slow / bare).toFixed(2)}x the bare run; ${first.requests} requests one after the other would add ` +
        `${((first.requests * LATENCY_MS) / 1000).toFixed(1)} s)\n`,
    );
  }
} finally {
  for (const f of done.reverse()) f();
  await eks.stop();
  await moto.stop();
}
