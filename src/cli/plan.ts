import type { Command } from "commander";
import type { ProofPool } from "../chain/pool.js";
import { InputError } from "../errors.js";
import { describePieces, type PlanDescription } from "../infra/describe.js";
import type { SynthesisResult } from "../infra/synthesize.js";
import type { CfnTemplate } from "../model/from-templates.js";
import type { Topology } from "../topology/types.js";
import type { ReportFile } from "./report-file.js";

interface PlanOptions {
  out: string;
  output: string;
  report?: string;
  verbose?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "Offline. Validate the topology, synthesize CloudFormation for both accounts into DIR, print what will be " +
        "created in which account and in what order, and prove the chain on the planned state.",
    )
    .argument("[file]", "topology file", "xeks.yaml")
    .option("--out <dir>", "where to write the cloud assembly and xeks.manifest.json", "xeks.out")
    .option(
      "-o, --output <format>",
      "text, or json: one ChainReport document with the plan under `plan`",
      "text",
    )
    .option("--report <file.html>", "also write the chain report as a self-contained HTML page")
    .option(
      "-v, --verbose",
      "show the evidence under each link, and every client (past 10 passing clients, the text folds them into " +
        "one line per access role)",
    )
    .addHelpText(
      "after",
      "\nEnvironment:\n" +
        "  XEKS_PROOF_WORKERS  threads that prove the chain beside the synthesis: 0 to 16\n" +
        "                      (0: in the main thread; default: the CPUs up to 4, none on\n" +
        "                      one CPU or under ulimit -v). The report is the same for any\n" +
        "                      number.",
    )
    .action(async (file: string, opts: PlanOptions) => {
      if (opts.output !== "text" && opts.output !== "json") {
        throw new InputError(`unknown output format "${opts.output}"`, [
          { path: "--output", message: "expected text or json" },
        ]);
      }
      // The proof workers start first: they parse the file and warm the simulator while this thread loads
      // aws-cdk-lib and synthesizes (src/chain/pool.ts; XEKS_PROOF_WORKERS=0 keeps everything in this thread).
      const { startProofPool } = await import("../chain/pool.js");
      const pool = startProofPool();
      try {
        const { readTopologyFile } = await import("../topology/read.js");
        const parsing = pool.parseTopology(readTopologyFile(file), file);
        parsing.catch(() => {}); // awaited below, once the synthesis modules are loaded
        const { checkOutsideOutDir } = await import("../infra/synthesize.js");
        const topology = await parsing;
        // --out is replaced whole by every plan: a report inside it would be refused by the next one.
        if (opts.report) checkOutsideOutDir(opts.out, opts.report, "--report");
        const { reserveReportFile } = await import("./report-file.js");
        const reportFile = opts.report ? reserveReportFile(opts.report) : undefined;
        try {
          await planAndPrint(topology, opts, reportFile, pool);
        } finally {
          reportFile?.discard();
        }
      } finally {
        pool.close();
      }
    });
}

async function planAndPrint(
  topology: Topology,
  opts: PlanOptions,
  reportFile: ReportFile | undefined,
  pool: ProofPool,
) {
  const { synthesize } = await import("../infra/synthesize.js");
  const { describePlan } = await import("../infra/describe.js");
  const result = synthesize(topology, { outDir: opts.out });
  const plan = describePlan(result.layout);

  // The chain proof on the planned state: the templates (not the topology) say what will exist.
  const { plannedStacks } = await import("../model/from-assembly.js");
  const stacks = plannedStacks(result.manifest, (s) => result.templates.get(s.name) as CfnTemplate);
  const chain = await pool.provePlanned(topology, stacks, "plan");
  const report = await import("../report/index.js");

  if (opts.output === "json") {
    // One document: the ChainReport of contract.md, with the plan as an extension field.
    const doc = JSON.parse(report.renderJson(chain)) as Record<string, unknown>;
    doc.plan = planJson(opts.out, result, plan);
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(formatPlan(topology, opts.out, result, plan));
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    // The report's own heading ("xeks plan (planned state): cluster ...") introduces the proof.
    process.stdout.write(`\n${report.renderText(chain, { color, verbose: opts.verbose })}`);
  }
  if (reportFile) {
    reportFile.write(report.renderHtml(chain, { title: `xeks plan: ${topology.cluster.name}` }));
    if (opts.output !== "json") process.stdout.write(`HTML report: ${reportFile.path}\n`);
  }
  process.exitCode = report.exitCodeFor(chain);
}

/** The `--output json` document (minimal for now: the phases, where the assembly went, nag and notes). */
export function planJson(
  out: string,
  result: SynthesisResult,
  plan: PlanDescription,
): Record<string, unknown> {
  return {
    kind: "XeksPlan",
    version: 1,
    out,
    manifest: `${out.replace(/\/+$/, "")}/xeks.manifest.json`,
    cluster: plan.cluster,
    totals: plan.totals,
    phases: plan.phases,
    nag: {
      pack: result.manifest.nag.pack,
      ran: result.manifest.nag.ran,
      acknowledged: result.acknowledged.length,
    },
    notes: plan.notes,
    pieces: describePieces(result.manifest),
    ...(plan.stackSets ? { stackSets: plan.stackSets } : {}),
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Why a phase of the plan deploys nothing, for the line under its heading. */
function emptyPhaseWhy(topology: Topology, phase: PlanDescription["phases"][number]): string {
  if ((phase.name === "client-link" || phase.name === "cluster-link") && !topology.clients.some((c) => c.vpc))
    return "nothing to deploy: no client has a VPC, so there is no peering, route, rule or instance to create";
  return "nothing to deploy in this phase";
}

/** The plan as text: phases in order, per account, per stack, one line per created thing. */
export function formatPlan(
  topology: Topology,
  out: string,
  result: SynthesisResult,
  plan: PlanDescription,
): string {
  const c = plan.cluster;
  const lines: string[] = [];
  lines.push(
    `xeks plan: cluster ${c.name} in account ${c.account} (${c.region}); ` +
      `${plural(topology.clients.length, "client")}, ${plural(topology.access.length, "access role")}`,
  );
  const nag = result.manifest.nag.ran
    ? `cdk-nag AwsSolutions: no open finding, ${result.acknowledged.length} acknowledged with reasons`
    : "cdk-nag skipped";
  lines.push(
    `Synthesized ${plural(plan.totals.stacks, "stack")} in ${plural(plan.totals.phases, "phase")}` +
      (plan.stackSets ? ` and ${plural(plan.stackSets.length, "StackSet")}` : "") +
      ` into ${out} ` +
      `(cloud assembly + xeks.manifest.json); ${nag}.`,
  );
  for (const phase of plan.phases) {
    lines.push("", `Phase ${phase.number} (${phase.name}): ${phase.title}`);
    for (const acct of phase.accounts) {
      lines.push(`  ${phase.side} account ${acct.account} (${acct.region})`);
      for (const stack of acct.stacks) {
        const after = stack.dependsOn.length > 0 ? `  [after ${stack.dependsOn.join(", ")}]` : "";
        lines.push(`    stack ${stack.name}${after}`);
        for (const p of stack.parameters) lines.push(`      parameter ${p.text}`);
        for (const item of stack.items)
          lines.push(`      ${item.action === "adopt" ? "~" : "+"} ${item.text}`);
      }
    }
    // Clients from an organization: a StackSet in the administrator account (docs/organizations.md).
    const sets = (plan.stackSets ?? []).filter((set) => set.phase === phase.number);
    for (const set of sets) {
      lines.push(`  administrator account ${set.account} (${set.region}), client ${set.client}`);
      lines.push(`    ${set.text}`);
      for (const item of set.items) lines.push(`      + in every member account: ${item.text}`);
    }
    if (phase.accounts.length === 0 && sets.length === 0) lines.push(`  ${emptyPhaseWhy(topology, phase)}`);
  }
  const pieces = describePieces(result.manifest);
  if (pieces.some((p) => p.action !== "create")) {
    const count = (a: string) => pieces.filter((p) => p.action === a).length;
    lines.push(
      "",
      `Existing pieces (docs/adopt.md): ${count("adopt")} adopted, ${count("leave")} left as they are, ${count("create")} created`,
    );
    for (const p of pieces) {
      const where = p.stack ? ` (stack ${p.stack})` : "";
      lines.push(`  ${p.action.padEnd(6)} ${p.piece}${where}${p.note ? `: ${p.note}` : ""}`);
      for (const change of p.changes) lines.push(`           ~ ${change}`);
    }
    if (count("adopt") > 0) {
      lines.push(
        "  deploy imports each adopted piece into its stack unchanged (CloudFormation resource import, DeletionPolicy " +
          "Retain), then applies the changes marked ~; destroy leaves adopted pieces unless --including-adopted.",
      );
    }
  }
  if (plan.notes.length > 0) {
    lines.push("", "Notes:");
    for (const note of plan.notes) lines.push(`  - ${note}`);
  }
  return `${lines.join("\n")}\n`;
}
