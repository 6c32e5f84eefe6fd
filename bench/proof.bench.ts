/**
 * The chain proof on the planned state: 50 clients x 3 access roles (every access role trusted by every
 * client: 150 client/role pairs, the IAM-heavy case), beside the synthesis of the same stacks in the same run.
 * Also the proof of the seed. Medians of a few in-process runs. Run: `npm run bench -- proof`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prove } from "../src/chain/prove.js";
import { synthesize } from "../src/infra/synthesize.js";
import { plannedStacks } from "../src/model/from-assembly.js";
import { type CfnTemplate, modelFromTemplates } from "../src/model/from-templates.js";
import { loadTopology } from "../src/topology/index.js";
import type { TopologyInput } from "../src/topology/schema.js";
import type { Topology } from "../src/topology/types.js";
import { generatedInput, topologyOf } from "../test/helpers/topologies.js";

const work = mkdtempSync(join(tmpdir(), "xeks-proof-bench-"));
const RUNS = 5;

/** 50 clients, 3 access roles, each trusted by all 50 clients. */
function fiftyByThree(): Topology {
  const raw = generatedInput(50) as TopologyInput & { clients: { name: string }[] };
  const names = raw.clients.map((c) => c.name);
  raw.access = [
    { role: "Fleet-EKS-View-Role", clients: names, policies: ["AmazonEKSViewPolicy"] },
    {
      role: "Fleet-EKS-Edit-Role",
      clients: names,
      policies: [{ policy: "AmazonEKSEditPolicy", namespaces: ["apps", "team-*"] }],
      externalId: "fleet-edit",
    },
    { role: "Fleet-EKS-Admin-Role", clients: names, policies: ["AmazonEKSClusterAdminPolicy"] },
  ];
  return topologyOf(raw);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function measure(label: string, topology: Topology): Promise<void> {
  const synthMs: number[] = [];
  const modelMs: number[] = [];
  const proveMs: number[] = [];
  let links = 0;
  for (let i = 0; i < RUNS; i++) {
    const outDir = join(work, `${label}-${i}`);
    let t0 = performance.now();
    const result = synthesize(topology, { outDir });
    synthMs.push(performance.now() - t0);
    t0 = performance.now();
    const stacks = plannedStacks(result.manifest, (s) => result.templates.get(s.name) as CfnTemplate);
    const model = modelFromTemplates(topology, stacks);
    modelMs.push(performance.now() - t0);
    t0 = performance.now();
    const report = await prove(topology, model, "plan");
    proveMs.push(performance.now() - t0);
    links = report.links.length;
    if (report.verdict !== "pass") throw new Error(`${label}: verdict ${report.verdict}`);
  }
  const s = median(synthMs);
  const m = median(modelMs);
  const p = median(proveMs);
  console.log(
    `${label.padEnd(22)} ${String(links).padStart(5)} links  synth ${s.toFixed(0).padStart(6)} ms  ` +
      `model ${m.toFixed(1).padStart(6)} ms  proof ${p.toFixed(0).padStart(6)} ms  ` +
      `(${((p / links) * 1000).toFixed(0)} µs/link; proof/synth ${(p / s).toFixed(2)}x)`,
  );
}

console.log(`median of ${RUNS} runs, in process (synthesis includes cdk-nag, as xeks plan runs it)`);
await measure("seed", loadTopology("examples/seed.yaml"));
await measure("50 clients x 3 roles", fiftyByThree());
rmSync(work, { recursive: true, force: true });
