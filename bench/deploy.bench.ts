/**
 * deploy of many clients at the emulator (moto_server with the CloudFormation shim, test/helpers/moto-deploy.ts),
 * one stack after the other (`--concurrency 1`) beside the stacks of a phase in parallel (`--concurrency 8`):
 * wall times of bin/xeks deploy from nothing to every stack created, and their ratio. Between the two runs,
 * destroy. The size is the default: 50 clients (152 stacks; a few minutes on a 2-core machine).
 * XEKS_BENCH_DEPLOY_CLIENTS=N sets another number of clients (1 to 90), e.g. the earlier 20:
 *   XEKS_BENCH_DEPLOY_CLIENTS=20 npm run bench -- deploy
 * The topology declares raised quotas (`cluster.quotas`: trust policy 4,096 characters, 125 peerings per VPC):
 * with one access role for every client, its trust policy (one ARN of about 43 characters a client) is over the
 * default 2,048 from about 45 clients, and plan (so deploy) refuses it (iam.policy-size). 4,096 holds about 90.
 * Beside each wall time: the CPU seconds of the xeks process and of moto_server during the run (bench/cpu.ts) and
 * the AWS requests moto recorded; a wall time well above both CPU times is waiting (stack polls, a busy machine).
 * Also prints the wall time of `xeks plan` of the same file once: the offline part (synthesis, proof) every
 * deploy does first, which concurrency does not shorten.
 * Checks that both runs create every stack; nothing about time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { manyClients } from "../test/helpers/many-clients.js";
import { CLIENT_ACCOUNT, CLUSTER_ACCOUNT, startLab } from "../test/helpers/moto-deploy.js";
import { xeksAsync } from "../test/helpers/spawn.js";
import { exitedChildrenCpuSeconds, motoCpuSeconds } from "./cpu.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const CLIENTS = Number(process.env.XEKS_BENCH_DEPLOY_CLIENTS ?? 50);
if (!Number.isInteger(CLIENTS) || CLIENTS < 1 || CLIENTS > 90) {
  throw new RangeError(
    `XEKS_BENCH_DEPLOY_CLIENTS: a whole number from 1 to 90, not "${process.env.XEKS_BENCH_DEPLOY_CLIENTS}"`,
  );
}
const QUOTAS = "  quotas: { trustPolicyLength: 4096, peeringsPerVpc: 125 }\n";
const FLAGS = ["--cluster-profile", "cluster", "--assume-role-name", "xeks-deployer", "--yes"];

const lab = await startLab();
try {
  const clients = await manyClients(lab, CLIENTS);
  const file = join(lab.dir, "many.yaml");
  clients.write(file);
  const yaml = readFileSync(file, "utf8");
  const region = /^ {2}region: .*\n/m;
  if (!region.test(yaml)) throw new Error("many-clients topology without cluster.region");
  writeFileSync(
    file,
    yaml.replace(region, (line) => line + QUOTAS),
  );
  const run = (args: string[]) =>
    xeksAsync(args, { cwd: lab.dir, env: { ...lab.env, AWS_PROFILE: "base" }, timeoutMs: 3_600_000 });
  const expected = 2 + 3 * CLIENTS;
  // deploy's offline part (synthesis and proof of every stack), which concurrency does not shorten.
  const p0 = performance.now();
  const plan = await run(["plan", file]);
  const planMs = performance.now() - p0;
  if (plan.status !== 0)
    throw new Error(`plan: exit ${plan.status}\n${plan.stdout.slice(-2000)}\n${plan.stderr}`);
  const times: Record<string, number> = {};
  const motoCpu: Record<string, number> = {};
  const xeksCpu: Record<string, number> = {};
  const requests: Record<string, number> = {};
  for (const concurrency of [1, 8]) {
    await lab.clearRecording();
    const cpu0 = motoCpuSeconds(lab.moto.port);
    const own0 = exitedChildrenCpuSeconds();
    const t0 = performance.now();
    const r = await run(["deploy", file, "--no-doctor", "--concurrency", String(concurrency), ...FLAGS]);
    times[concurrency] = performance.now() - t0;
    motoCpu[concurrency] = motoCpuSeconds(lab.moto.port) - cpu0;
    xeksCpu[concurrency] = exitedChildrenCpuSeconds() - own0;
    requests[concurrency] = lab.requests().length;
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
  const row = (c: number) =>
    `  --concurrency ${c}   ${s(times[c]).padEnd(9)}CPU: xeks ${(xeksCpu[c] ?? Number.NaN).toFixed(1)} s, ` +
    `moto ${(motoCpu[c] ?? Number.NaN).toFixed(1)} s; ` +
    `${requests[c]} AWS requests at moto`;
  process.stdout.write(
    [
      `deploy of ${CLIENTS} clients (${expected} stacks in 4 phases) at moto, from nothing:`,
      row(1),
      row(8),
      `  ratio 8 vs 1      ${((times[8] ?? 0) / (times[1] ?? 1)).toFixed(2)}`,
      `  (xeks plan of the same file: ${s(planMs)}, the offline part of every deploy)`,
      "",
    ].join("\n"),
  );
} finally {
  await lab.stop();
}
