/**
 * deploy of many clients at the emulator (moto_server with the CloudFormation shim, test/helpers/moto-deploy.ts),
 * one stack after the other (`--concurrency 1`) beside the stacks of a phase in parallel (`--concurrency 8`):
 * wall times of bin/xeks deploy from nothing to every stack created, and their ratio. Between the two runs,
 * destroy. XEKS_BENCH_DEPLOY_CLIENTS sets the number of clients (default 20; the 50 takes minutes).
 * Checks that both runs create every stack; nothing about time.
 */
import { join } from "node:path";
import { manyClients } from "../test/helpers/many-clients.js";
import { CLIENT_ACCOUNT, CLUSTER_ACCOUNT, startLab } from "../test/helpers/moto-deploy.js";
import { xeksAsync } from "../test/helpers/spawn.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const CLIENTS = Number(process.env.XEKS_BENCH_DEPLOY_CLIENTS ?? 20);
const FLAGS = ["--cluster-profile", "cluster", "--assume-role-name", "xeks-deployer", "--yes"];

const lab = await startLab();
try {
  const clients = await manyClients(lab, CLIENTS);
  const file = join(lab.dir, "many.yaml");
  clients.write(file);
  const run = (args: string[]) =>
    xeksAsync(args, { cwd: lab.dir, env: { ...lab.env, AWS_PROFILE: "base" }, timeoutMs: 3_600_000 });
  const expected = 2 + 3 * CLIENTS;
  const times: Record<string, number> = {};
  for (const concurrency of [1, 8]) {
    const t0 = performance.now();
    const r = await run(["deploy", file, "--no-doctor", "--concurrency", String(concurrency), ...FLAGS]);
    times[concurrency] = performance.now() - t0;
    const stacks = (await lab.stacks(CLUSTER_ACCOUNT)).size + (await lab.stacks(CLIENT_ACCOUNT)).size;
    if (r.status !== 0 || stacks !== expected) {
      throw new Error(
        `deploy --concurrency ${concurrency}: exit ${r.status}, ${stacks}/${expected} stacks\n${r.stderr}`,
      );
    }
    const d = await run(["destroy", file, "--concurrency", "8", ...FLAGS]);
    if (d.status !== 0) throw new Error(`destroy: exit ${d.status}\n${d.stderr}`);
  }
  const s = (ms: number | undefined) => `${((ms ?? Number.NaN) / 1000).toFixed(1)} s`;
  process.stdout.write(
    [
      `deploy of ${CLIENTS} clients (${expected} stacks in 4 phases) at moto, from nothing:`,
      `  --concurrency 1   ${s(times[1])}`,
      `  --concurrency 8   ${s(times[8])}`,
      `  ratio 8 vs 1      ${((times[8] ?? 0) / (times[1] ?? 1)).toFixed(2)}`,
      "",
    ].join("\n"),
  );
} finally {
  await lab.stop();
}
