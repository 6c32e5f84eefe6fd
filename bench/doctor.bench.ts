/**
 * doctor against the emulators (moto_server + the EKS fixture) with 20 client accounts: the live model read
 * through the library with 8 calls in flight, beside the same reads one call at a time (concurrency 1), then
 * the proof. Measured twice: on the bare emulators (local round trips of about a millisecond) and with 30 ms
 * added to every request, about a regional AWS API round trip. Prints wall times and call counts; asserts that
 * both runs read the same facts and reach the same verdict, nothing about time.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { prove } from "../src/chain/prove.js";
import { loadLiveModel } from "../src/model/live/load.js";
import { parseTopology } from "../src/topology/load.js";
import { startEksFixture } from "../test/helpers/eks-fixture.js";
import { makeAwsHome } from "../test/helpers/live-env.js";
import { buildSetup, CLUSTER_ACCOUNT, clientAccount, clientName } from "../test/helpers/live-setup.js";
import { startMoto } from "../test/helpers/moto-server.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const CLIENTS = 20;
const ROUNDS = 3;
const LATENCY_MS = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const moto = await startMoto();
const eks = await startEksFixture();
try {
  const t0 = performance.now();
  const setup = await buildSetup(moto, eks, { clients: CLIENTS });
  const setupMs = performance.now() - t0;
  const profiles: Record<string, string> = { cluster: CLUSTER_ACCOUNT };
  for (let i = 0; i < CLIENTS; i++) profiles[clientName(i)] = clientAccount(i);
  const home = await makeAwsHome(moto, eks, profiles);
  // The library reads the standard AWS environment: point it at the emulators and the temporary profiles.
  for (const [k, v] of Object.entries(home.env)) if (k !== "PATH" && v !== undefined) process.env[k] = v;
  const file = join(home.dir, "xeks.yaml");
  writeFileSync(file, setup.topology);
  const topology = parseTopology(setup.topology, file);
  const clientProfiles = Object.fromEntries(topology.clients.map((c) => [c.name, c.name]));

  const run = async (concurrency: number) => {
    moto.clearCalls();
    eks.clearCalls();
    const t = performance.now();
    const { model, stats } = await loadLiveModel(topology, {
      clusterProfile: "cluster",
      clientProfiles,
      concurrency,
    });
    const readMs = performance.now() - t;
    const report = await prove(topology, model, "live");
    return {
      ms: performance.now() - t,
      readMs,
      calls: stats.calls,
      seen: moto.calls.length + eks.calls.length,
      peak: stats.peak,
      verdict: report.verdict,
      links: report.links.length,
      facts:
        JSON.stringify(Object.keys(model.roles).sort()) +
        model.peerings.length +
        model.securityGroupRules.length,
    };
  };

  process.stdout.write(
    `setup by hand in the emulators: ${CLIENTS} client accounts + the cluster account, ${Math.round(setupMs)} ms\n\n`,
  );
  process.stdout.write(
    "latency/request  concurrency  wall (median of 3)  reads only  API calls  at the emulators  peak in flight  verdict\n",
  );
  for (const latency of [0, LATENCY_MS]) {
    moto.latencyMs = latency;
    eks.latencyMs = latency;
    await run(8); // warm up (module loading, connections)
    const rows: Record<number, Awaited<ReturnType<typeof run>>[]> = { 8: [], 1: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of [8, 1]) rows[c]?.push(await run(c));
    }
    const med: Record<number, number> = {};
    for (const c of [8, 1]) {
      const rs = rows[c] ?? [];
      const first = rs[0];
      if (!first) continue;
      med[c] = median(rs.map((x) => x.ms));
      process.stdout.write(
        `${`${latency} ms`.padEnd(17)}${String(c).padEnd(13)}${`${Math.round(med[c] ?? 0)} ms`.padEnd(20)}` +
          `${`${Math.round(median(rs.map((x) => x.readMs)))} ms`.padEnd(12)}${String(first.calls).padEnd(11)}` +
          `${String(first.seen).padEnd(18)}${String(first.peak).padEnd(16)}${first.verdict} (${first.links} links)\n`,
      );
    }
    const [a, b] = [rows[8]?.[0], rows[1]?.[0]];
    if (!a || !b || a.facts !== b.facts || a.verdict !== b.verdict || a.calls !== b.calls) {
      throw new Error("concurrency 8 and 1 read different facts");
    }
    process.stdout.write(
      `${"".padEnd(17)}speed-up with 8 in flight: ${((med[1] ?? 0) / (med[8] ?? 1)).toFixed(1)}x\n`,
    );
  }
  setup.destroy();
  home.cleanup();
} finally {
  await eks.stop();
  await moto.stop();
}
