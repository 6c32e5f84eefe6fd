/**
 * `xeks token` against `aws eks get-token`, in one run, runs interleaved round-robin so machine noise hits
 * every variant alike; the median of N runs each. Everything is local: a private moto_server for STS and a
 * local HTTPS API server for kubectl. N: BENCH_N (default 15); kubectl batches: BENCH_KUBECTL_N (default 3).
 *
 * Targets: warm >= 15x faster than `aws eks get-token` (issue #4) and within 1.2x of `node -e 0` (issue #11;
 * #4 asked 1.6x); cold >= 3x faster than `aws eks get-token --role-arn` (#4).
 *
 * BENCH_TOKEN_BASELINE=FILE (a dist/token.cjs saved from another build, e.g. before a change) adds a warm run
 * of that bundle, through a copy of bin/xeks, to the same interleaved rounds: a before/after comparison under
 * the same machine load, which two separate runs on a shared machine do not give.
 */
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { isolatedAwsEnv } from "../test/helpers/aws-env.js";
import { ROOT, XEKS } from "../test/helpers/cli.js";
import { startFakeKubeApi } from "../test/helpers/https.js";
import { startMoto } from "../test/helpers/moto.js";
import { createTestCa } from "../test/helpers/tls.js";
import { offlineSeedYaml } from "../test/helpers/topologies.js";

const N = Number(process.env.BENCH_N ?? 15);
const KN = Number(process.env.BENCH_KUBECTL_N ?? 3);
const CLUSTER = "prac-eks-abhi";
const ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`));
      else resolve(ms);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const moto = await startMoto();
const ca = createTestCa();
const api = await startFakeKubeApi(ca.issue(["127.0.0.1"]));
const iso = isolatedAwsEnv({
  vars: {
    AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
    AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    AWS_ENDPOINT_URL_STS: moto.url,
    AWS_REGION: "ap-south-1",
    AWS_DEFAULT_REGION: "ap-south-1",
    PATH: `${join(ROOT, "bin")}${delimiter}${process.env.PATH ?? ""}`,
  },
});
const env = iso.env;
const coldDirs: string[] = [];

/** bin/xeks and the baseline bundle laid out as a checkout (bin/, dist/, node_modules), or undefined. */
function baselineXeks(): string | undefined {
  const file = process.env.BENCH_TOKEN_BASELINE;
  if (!file) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "xeks-bench-baseline-"));
  coldDirs.push(dir);
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "dist"));
  for (const f of ["xeks", "package.json"]) copyFileSync(join(ROOT, "bin", f), join(dir, "bin", f));
  copyFileSync(resolve(file), join(dir, "dist", "token.cjs"));
  const refresh = join(dirname(resolve(file)), "token-refresh.cjs");
  if (existsSync(refresh)) copyFileSync(refresh, join(dir, "dist", "token-refresh.cjs"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "bin", "xeks");
}
try {
  const baseline = baselineXeks();
  // Kubeconfig contexts for both plugins, from a topology pointing at the local API server.
  const topo = join(iso.dir, "xeks.yaml");
  writeFileSync(
    topo,
    offlineSeedYaml({ cluster: CLUSTER, endpoint: api.url, certificateAuthority: ca.base64 }),
  );
  await time(XEKS, ["kubeconfig", topo, "--client", "ops", "--alias", "xeks"], env);
  await time(XEKS, ["kubeconfig", topo, "--client", "ops", "--alias", "aws", "--exec", "aws"], env);

  const tokenArgs = ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE];
  await time(XEKS, tokenArgs, env); // fill the cache for the warm runs (same key as kubectl's calls)

  const variants: { name: string; run: (i: number) => Promise<number>; n: number }[] = [
    { name: "node -e 0", run: () => time(process.execPath, ["-e", "0"], env), n: N },
    { name: "xeks token (warm cache)", run: () => time(XEKS, tokenArgs, env), n: N },
    ...(baseline
      ? [
          {
            name: "xeks token (warm cache, baseline bundle)",
            run: () => time(baseline, tokenArgs, env),
            n: N,
          },
        ]
      : []),
    {
      name: "xeks token (cold: AssumeRole at moto)",
      run: () => {
        const dir = mkdtempSync(join(tmpdir(), "xeks-bench-cold-"));
        coldDirs.push(dir);
        return time(XEKS, tokenArgs, { ...env, XDG_CACHE_HOME: dir });
      },
      n: N,
    },
    {
      name: "aws eks get-token (static credentials)",
      run: () => time("aws", ["eks", "get-token", "--cluster-name", CLUSTER, "--region", "ap-south-1"], env),
      n: N,
    },
    {
      name: "aws eks get-token --role-arn (moto)",
      run: () =>
        time(
          "aws",
          ["eks", "get-token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
          env,
        ),
      n: N,
    },
    ...(["xeks", "aws"] as const).map((context) => ({
      name: `10 x kubectl get --raw /version (${context} plugin)`,
      run: async () => {
        let total = 0;
        for (let k = 0; k < 10; k++)
          total += await time("kubectl", ["--context", context, "get", "--raw", "/version"], env);
        return total;
      },
      n: KN,
    })),
  ];

  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const rounds = Math.max(...variants.map((v) => v.n));
  for (let i = 0; i < rounds; i++) {
    for (const v of variants) if (i < v.n) samples.get(v.name)?.push(await v.run(i));
  }
  const med = new Map([...samples].map(([k, xs]) => [k, median(xs)]));
  const width = Math.max(...variants.map((v) => v.name.length));
  process.stdout.write(`median wall time (ms), N=${N} (kubectl batches: ${KN}), interleaved\n`);
  for (const v of variants) {
    process.stdout.write(`  ${v.name.padEnd(width)}  ${(med.get(v.name) ?? 0).toFixed(1).padStart(8)}\n`);
  }
  const m = (k: string) => med.get(k) ?? Number.NaN;
  const warm = m("xeks token (warm cache)");
  const cold = m("xeks token (cold: AssumeRole at moto)");
  const node = m("node -e 0");
  const aws = m("aws eks get-token (static credentials)");
  const awsRole = m("aws eks get-token --role-arn (moto)");
  const kx = m("10 x kubectl get --raw /version (xeks plugin)");
  const ka = m("10 x kubectl get --raw /version (aws plugin)");
  const line = (label: string, value: number, target: string, ok: boolean) =>
    process.stdout.write(
      `  ${label.padEnd(44)} ${value.toFixed(2).padStart(7)}x   target ${target.padEnd(7)} ${ok ? "met" : "MISSED"}\n`,
    );
  process.stdout.write("ratios\n");
  line("aws eks get-token / xeks warm", aws / warm, ">= 15", aws / warm >= 15);
  line("xeks warm / node -e 0", warm / node, "<= 1.2", warm / node <= 1.2);
  if (baseline) {
    const before = m("xeks token (warm cache, baseline bundle)");
    line("baseline bundle warm / node -e 0", before / node, "-", true);
    process.stdout.write(`  (warm: ${(before - warm).toFixed(1)} ms less than the baseline bundle)\n`);
  }
  line("aws eks get-token --role-arn / xeks cold", awsRole / cold, ">= 3", awsRole / cold >= 3);
  line("kubectl x10: aws plugin / xeks plugin", ka / kx, "-", true);
  process.stdout.write(
    `  (bound: aws eks get-token / node -e 0 = ${(aws / node).toFixed(2)}x; no node program can be more than that much faster than aws)\n`,
  );
} finally {
  for (const d of coldDirs) rmSync(d, { recursive: true, force: true });
  await api.close();
  await moto.stop();
  iso.cleanup();
}
