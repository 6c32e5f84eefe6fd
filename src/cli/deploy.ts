/**
 * `xeks deploy|diff|destroy [FILE]`: the stacks of both accounts, in phase order (destroy: reverse), each with its
 * own account's credentials. The library (src/deploy) does the work and emits events; this file renders them:
 * a live display on a terminal, plain lines otherwise (progress on stderr), then a summary on stdout (or one JSON
 * document with --output json). It asks before changing anything unless --yes; without --yes and without a
 * terminal on stdin, deploy and destroy are refused at once, before any AWS call. On SIGINT/SIGTERM, and when AWS
 * stops answering, it says what was in flight and how to resume (src/cli/interrupt.ts).
 */
import type { Command } from "commander";
import type {
  Confirmation,
  DeployEvent,
  DeployRunResult,
  DestroyRunResult,
  DiffRunResult,
  ProfileOptions,
  RunOptions,
  StackPlan,
} from "../deploy/index.js";
import { describeCounts } from "../deploy/pool.js";
import { InputError, OperationError } from "../errors.js";
import { handleInterrupts, noAnswerError } from "./interrupt.js";
import {
  addAssumeRoleOptions,
  addProfileOptions,
  parseAssumeRoleOptions,
  parseClientProfiles,
} from "./profiles.js";

interface CommonOptions {
  out: string;
  yes?: boolean;
  clusterProfile?: string;
  clientProfile: string[];
  profile?: string;
  assumeRoleName?: string;
  output: string;
}

interface DeployOptions extends CommonOptions {
  allowAuthModeChange?: boolean;
  doctor: boolean;
  concurrency?: string;
  failFast?: boolean;
}

interface DestroyOptions extends CommonOptions {
  includingAdopted?: boolean;
  concurrency?: string;
  failFast?: boolean;
}

const DEFAULT_OUT = "xeks.out";

function addCommon(cmd: Command): Command {
  return addAssumeRoleOptions(
    addProfileOptions(
      cmd
        .argument("[file]", "topology file", "xeks.yaml")
        .option("--out <dir>", "the cloud assembly directory, synthesized fresh by every run", DEFAULT_OUT),
    ),
  ).option("-o, --output <format>", "text or json", "text");
}

export function registerDeploy(program: Command): void {
  addCommon(
    program
      .command("deploy")
      .summary("Deploy the stacks of both accounts in phase order, passing outputs between phases.")
      .description(
        "Check each set of credentials against the account the topology names, synthesize the topology, show " +
          "what will change and ask, then deploy phase by phase (client identity, cluster access, client network, " +
          "cluster network) with each account's credentials, waiting for the peering connection to be active " +
          "before the cluster-side routes. Re-running resumes: deployed, identical stacks are skipped. Afterwards " +
          "the doctor's checks run on the live state.",
      ),
  )
    .option("-y, --yes", "do not ask for confirmation (needed when stdin is not a terminal)")
    .option(
      "--allow-auth-mode-change",
      "switch a CONFIG_MAP cluster to API_AND_CONFIG_MAP first (one-way; access entries need it)",
    )
    .option("--no-doctor", "skip the chain check on the live state after the deploy")
    .option(
      "--concurrency <n>",
      "stacks of one phase deployed at once, 1 to 64; 1 is one after the other, in the manifest's order",
      "8",
    )
    .option(
      "--fail-fast",
      "after a stack fails, start no other stack of its phase (the ones in flight finish); without it the others go on",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 deployed (or nothing to change) and the chain holds, 1 a stack failed or the chain is\n" +
        "broken, 2 invalid input (bad file or flags, credentials of the wrong account, CONFIG_MAP without\n" +
        "--allow-auth-mode-change, no terminal to ask and no --yes), 130/143 interrupted (SIGINT/SIGTERM: the\n" +
        "stack in flight and the resume command are printed). See docs/deploy.md.",
    )
    .action(async (file: string, opts: DeployOptions) => runDeploy(file, opts));

  addCommon(
    program
      .command("diff")
      .summary("Show what deploy would change in each stack, against what is deployed.")
      .description(
        "Read-only. Check the credentials, synthesize the topology, and compare each stack with what is " +
          "deployed in its account (template and parameters); also report the cluster's authentication mode.",
      ),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 (changes or not), 1 a read failed, 2 invalid input, 130/143 interrupted (SIGINT/SIGTERM).",
    )
    .action(async (file: string, opts: CommonOptions) => runDiff(file, opts));

  addCommon(
    program
      .command("destroy")
      .summary("Remove the stacks of both accounts, in reverse phase order.")
      .description(
        "Delete every stack of the topology in reverse phase order, each with its account's credentials. A stack " +
          "that another remaining stack depends on is kept. Reports what it could not remove. The cluster's " +
          "authentication mode is left as it is.",
      ),
  )
    .option("-y, --yes", "do not ask for confirmation (needed when stdin is not a terminal)")
    .option(
      "--including-adopted",
      "also delete the pieces xeks adopted (they existed before xeks; kept by default: docs/adopt.md)",
    )
    .option(
      "--concurrency <n>",
      "stacks of one phase deleted at once, 1 to 64; 1 is one after the other, in reverse manifest order",
      "8",
    )
    .option("--fail-fast", "after a stack fails, delete no other stack (the ones in flight finish)")
    .addHelpText(
      "after",
      "\nExit codes: 0 everything removed (or nothing to remove), 1 something could not be removed, 2 invalid input,\n" +
        "130/143 interrupted (SIGINT/SIGTERM: the stack in flight and the resume command are printed).",
    )
    .action(async (file: string, opts: DestroyOptions) => runDestroy(file, opts));
}

function checkOutput(output: string): "text" | "json" {
  if (output !== "text" && output !== "json") {
    throw new InputError(`unknown output format "${output}"`, [
      { path: "--output", message: "expected text or json" },
    ]);
  }
  return output;
}

async function prepare(file: string, opts: CommonOptions, command: "deploy" | "destroy" | "diff") {
  // The flags first (exit 2 naming the flag), then the file, then the question of --yes.
  const output = checkOutput(opts.output);
  const baseSession = await parseAssumeRoleOptions(opts);
  const parallel = opts as CommonOptions & { concurrency?: string; failFast?: boolean };
  const { parseConcurrency } = await import("./doctor.js");
  const concurrency = command !== "diff" ? parseConcurrency(parallel.concurrency ?? "8") : undefined;
  const { loadTopology } = await import("../topology/load.js");
  const topology = loadTopology(file);
  const lib = await import("../deploy/index.js");
  const profiles: ProfileOptions = {
    ...(opts.clusterProfile !== undefined ? { clusterProfile: opts.clusterProfile } : {}),
    clientProfiles: parseClientProfiles(opts.clientProfile, topology),
    ...baseSession,
  };
  if (command !== "diff" && !opts.yes && !process.stdin.isTTY) {
    // Refused at once: before any AWS call, and before --out is synthesized again.
    throw new InputError(
      `refusing to ${command} without confirmation: stdin is not a terminal, so xeks cannot ask; nothing was changed`,
      [{ path: "--yes", message: `use --yes to ${command} without being asked` }],
    );
  }
  const progress = new Progress(process.stderr, {
    live: Boolean(process.stderr.isTTY) && !process.env.CI && process.env.TERM !== "dumb",
    debug: Boolean(process.env.XEKS_DEBUG),
  });
  const tracker = new lib.RunTracker(command);
  const run: RunOptions = {
    topology,
    outDir: opts.out,
    profiles,
    emit: (e) => progress.event(e),
    tracker,
  };
  if (concurrency !== undefined) {
    run.concurrency = concurrency;
    if (parallel.failFast) run.failFast = true;
  }
  if (command !== "diff") {
    const yes = Boolean(opts.yes);
    run.confirm = async (q) => {
      progress.pause();
      process.stderr.write(renderConfirmation(q));
      if (yes) return true;
      return ask(command === "deploy" ? "Deploy these changes?" : "Destroy these stacks?");
    };
  }
  // SIGINT/SIGTERM: say what is in flight and how to resume, then exit 130/143 (src/cli/interrupt.ts).
  const resume = resumeCommand(file, opts as DeployOptions, command);
  const stopInterrupts = handleInterrupts({
    command,
    tracker,
    output,
    resume,
    helpers: lib,
    beforePrint: () => progress.done(),
  });
  /** A run that ended because AWS stopped answering: the same account of what was in flight. */
  const orNoAnswer = (err: unknown): unknown =>
    err instanceof lib.NoAnswerError ? noAnswerError(err, resume, lib) : err;
  return { lib, topology, profiles, progress, run, output, tracker, resume, stopInterrupts, orNoAnswer };
}

type Prepared = Awaited<ReturnType<typeof prepare>>;

async function ask(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // On a terminal, readline takes Ctrl-C as a key: hand it to the interrupt handler (which exits).
  rl.on("SIGINT", () => process.emit("SIGINT", "SIGINT"));
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * The command that resumes a deploy or destroy (or repeats a diff): the same file and flags, with `--yes` for
 * deploy and destroy (the changes were confirmed already).
 */
export function resumeCommand(
  file: string,
  opts: DeployOptions,
  command: "deploy" | "diff" | "destroy" = "deploy",
): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const parts = ["xeks", command, q(file)];
  if (opts.out !== DEFAULT_OUT) parts.push("--out", q(opts.out));
  if (opts.clusterProfile !== undefined) parts.push("--cluster-profile", q(opts.clusterProfile));
  for (const p of opts.clientProfile) parts.push("--client-profile", q(p));
  if (opts.profile !== undefined) parts.push("--profile", q(opts.profile));
  if (opts.assumeRoleName !== undefined) parts.push("--assume-role-name", q(opts.assumeRoleName));
  if (command === "deploy" && opts.allowAuthModeChange) parts.push("--allow-auth-mode-change");
  if (command === "destroy" && (opts as DestroyOptions).includingAdopted) parts.push("--including-adopted");
  if (command !== "diff" && opts.concurrency !== undefined && opts.concurrency !== "8")
    parts.push("--concurrency", q(opts.concurrency));
  if (command !== "diff" && opts.failFast) parts.push("--fail-fast");
  if (command !== "diff") parts.push("--yes");
  if (command === "deploy" && opts.doctor === false) parts.push("--no-doctor");
  if (opts.output !== "text") parts.push("--output", q(opts.output));
  return parts.join(" ");
}

async function runDeploy(file: string, opts: DeployOptions): Promise<void> {
  const p = await prepare(file, opts, "deploy");
  try {
    await deployAndReport(file, opts, p);
  } finally {
    p.stopInterrupts();
  }
}

async function deployAndReport(
  file: string,
  opts: DeployOptions,
  { lib, topology, profiles, progress, run, output, tracker, orNoAnswer }: Prepared,
): Promise<void> {
  run.allowAuthModeChange = Boolean(opts.allowAuthModeChange);
  let result: DeployRunResult;
  try {
    result = await lib.deploy(run);
  } catch (err) {
    progress.done();
    if (err instanceof lib.NoAnswerError) {
      if (err.result) {
        if (output === "json") process.stdout.write(`${JSON.stringify(err.result, null, 2)}\n`);
        else process.stdout.write(renderDeploySummary(err.result as DeployRunResult));
      }
      throw orNoAnswer(err);
    }
    if (err instanceof lib.DeployFailedError) {
      if (output === "json") process.stdout.write(`${JSON.stringify(err.result, null, 2)}\n`);
      else process.stdout.write(renderDeploySummary(err.result));
      const done = err.result.stacks.filter(
        (s) => s.outcome !== "not-reached" && s.outcome !== "failed",
      ).length;
      throw new OperationError(
        err.message,
        `fix the cause, then resume with: ${resumeCommand(file, opts)}\n  ` +
          `(${done} stack(s) already in place are kept and skipped; ${resumeScope(err.result)})`,
      );
    }
    throw err;
  }
  progress.done();
  if (result.outcome === "cancelled") {
    if (output === "json") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    throw new OperationError("cancelled: nothing was changed");
  }
  let exitCode = 0;
  if (opts.doctor && result.outcome !== "failed") {
    tracker.step("chain-check");
    try {
      result.report = await lib.checkChainAfterDeploy(topology, profiles);
    } catch (err) {
      // Undecided: exit 1, as for a chain that does not hold (docs/deploy.md).
      result.reportSkipped = `the chain check could not run: ${(err as Error).message}`;
      exitCode = 1;
      // AWS stopped answering: the reads the check abandoned must not hold the process once this is printed.
      if (err instanceof lib.AwsSilenceError) setTimeout(() => process.exit(), 500).unref();
    }
  } else if (!opts.doctor) {
    result.reportSkipped = "--no-doctor";
  }
  if (result.report) {
    const { exitCodeFor } = await import("../report/index.js");
    exitCode = exitCodeFor(result.report);
  }
  if (output === "json") {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(renderDeploySummary(result));
    if (result.report) {
      const { renderText } = await import("../report/index.js");
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      process.stdout.write(
        `\nChain check on the live state (as xeks doctor):\n${renderText(result.report, { color, unfoldHint: "xeks doctor --verbose lists them" })}`,
      );
    } else if (result.reportSkipped && result.reportSkipped !== "--no-doctor") {
      process.stdout.write(`\n${result.reportSkipped}\n`);
    }
  }
  process.exitCode = exitCode;
}

async function runDiff(file: string, opts: CommonOptions): Promise<void> {
  const { lib, progress, run, output, stopInterrupts, orNoAnswer } = await prepare(file, opts, "diff");
  try {
    const result = await lib.diff(run).catch((err: unknown) => {
      progress.done();
      throw orNoAnswer(err);
    });
    progress.done();
    if (output === "json") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(renderDiff(result));
    process.exitCode = 0;
  } finally {
    stopInterrupts();
  }
}

async function runDestroy(file: string, opts: DestroyOptions): Promise<void> {
  const p = await prepare(file, opts, "destroy");
  p.run.includingAdopted = Boolean(opts.includingAdopted);
  try {
    await destroyAndReport(p);
  } finally {
    p.stopInterrupts();
  }
}

async function destroyAndReport({ lib, progress, run, output, orNoAnswer }: Prepared): Promise<void> {
  let result: DestroyRunResult;
  try {
    result = await lib.destroy(run);
  } catch (err) {
    progress.done();
    if (err instanceof lib.NoAnswerError && err.result) {
      if (output === "json") process.stdout.write(`${JSON.stringify(err.result, null, 2)}\n`);
      else process.stdout.write(renderDestroy(err.result as DestroyRunResult));
    }
    throw orNoAnswer(err);
  }
  progress.done();
  if (output === "json") process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.outcome === "cancelled") throw new OperationError("cancelled: nothing was deleted");
  if (output === "text") process.stdout.write(renderDestroy(result));
  process.exitCode = result.outcome === "incomplete" ? 1 : 0;
}

// ---- rendering -------------------------------------------------------------------------------------------

/** At most this many stacks get a line of their own in the live area. */
const LIVE_STACKS = 10;

/** "stack A" or "the 3 failed stacks (A, B, C)" and the stacks not reached after them. */
function failedStacks(r: DeployRunResult): string {
  const failed = r.stacks.filter((s) => s.outcome === "failed").map((s) => s.name);
  if (failed.length === 0) return r.failure?.stack ?? "the failed stack";
  if (failed.length === 1) return failed[0] as string;
  const shown = failed.slice(0, 5).join(", ");
  return `the ${failed.length} failed stacks (${shown}${failed.length > 5 ? ", ..." : ""})`;
}

/**
 * What a re-run of a failed deploy does, in words: it retries the failed stacks, starts the stacks of their
 * phase that were not reached (`--fail-fast`), then deploys the later phases, which did not start. Stacks
 * already in place are skipped (said by the caller).
 */
export function resumeScope(r: DeployRunResult): string {
  const phase = r.failure?.phase;
  const notReached = r.stacks.filter((s) => s.outcome === "not-reached");
  const same = notReached.filter((s) => phase === undefined || s.phase <= phase);
  const later = new Map<number, number>();
  for (const s of notReached) {
    if (phase !== undefined && s.phase > phase) later.set(s.phase, (later.get(s.phase) ?? 0) + 1);
  }
  const failedSet =
    r.failure && !r.stacks.some((s) => s.name === r.failure?.stack) ? r.failure.stack : undefined;
  const parts = [
    failedSet
      ? `a re-run waits for an operation of StackSet ${failedSet} still running, retries its stack instances that are not CURRENT and creates the missing ones`
      : `a re-run retries ${failedStacks(r)}`,
  ];
  if (same.length > 0) {
    const shown = same.slice(0, 5).map((s) => s.name);
    parts.push(
      `deploys the ${same.length} stack(s) not reached${phase !== undefined ? ` in phase ${phase}` : ""} (${shown.join(", ")}${same.length > 5 ? ", ..." : ""})`,
    );
  }
  if (later.size > 0) {
    const phases = [...later].sort(([a], [b]) => a - b).map(([n, count]) => `${n} (${count} stack(s))`);
    parts.push(`then the later phase${later.size > 1 ? "s" : ""} ${phases.join(", ")}`);
  }
  if (parts.length === 1) return parts[0] as string;
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

function secs(ms: number | undefined): string {
  return ms === undefined ? "" : `${(ms / 1000).toFixed(1)} s`;
}

const SIGN: Record<string, string> = { add: "+", remove: "-", update: "~", replace: "!" };

function planLines(p: StackPlan, indent: string): string[] {
  const lines: string[] = [];
  const imported = new Set((p.imports ?? []).map((i) => i.logicalId));
  for (const i of p.imports ?? []) {
    lines.push(`${indent}= ${i.logicalId}  ${i.piece}: ${i.note}`);
    for (const c of i.changes) lines.push(`${indent}    ~ ${c}`);
  }
  for (const r of p.resources) {
    if (imported.has(r.logicalId) && (r.change === "add" || r.change === "remove")) continue;
    lines.push(`${indent}${SIGN[r.change] ?? "?"} ${r.logicalId}  ${r.resourceType}`);
  }
  for (const c of p.parameters) {
    lines.push(
      `${indent}~ parameter ${c.name}: ${c.from ?? "(none)"} -> ${c.to ?? "(known once the earlier phase is deployed)"}`,
    );
  }
  return lines;
}

function actionWord(p: StackPlan): string {
  return p.action === "pending" ? "may update" : p.action;
}

export function renderConfirmation(q: Confirmation): string {
  const lines = [`\n${q.command === "deploy" ? "Changes" : "Stacks to delete"} (cluster ${q.cluster}):`];
  if (q.authMode?.action === "update") {
    lines.push(
      `  cluster ${q.authMode.cluster}: authentication mode CONFIG_MAP -> API_AND_CONFIG_MAP (one-way, before phase 1)`,
    );
  }
  for (const p of q.stacks) {
    if (p.action === "unchanged" || p.action === "absent") continue;
    lines.push(
      `  phase ${p.phase}  ${p.name}  (${p.account}, ${p.credentials}): ${actionWord(p)} - ${p.reason}`,
    );
    lines.push(...planLines(p, "      "));
  }
  for (const set of q.stackSets ?? []) {
    if (set.action === "unchanged") continue;
    const what =
      set.action === undefined
        ? "created, or updated if its member template changed"
        : `${set.action}${set.reasons?.length ? ` (${set.reasons.join("; ")})` : ""}`;
    lines.push(
      `  phase 1  StackSet ${set.name}  (${set.account}, client ${set.client}): ${what} - every account of ${set.organizationalUnits.join(", ")} (${set.regions.join(", ")})`,
    );
  }
  const same = q.stacks.filter((p) => p.action === "unchanged" || p.action === "absent").length;
  if (same > 0) lines.push(`  (${same} stack(s) ${q.command === "deploy" ? "unchanged" : "not deployed"})`);
  return `${lines.join("\n")}\n`;
}

export function renderDiff(r: DiffRunResult): string {
  const lines = [`Cluster ${r.cluster.name}: ${r.changes ? "deploy would change" : "nothing to change"}`];
  const a = r.authMode;
  lines.push(
    `  authentication mode: ${a.mode ?? "unknown"} (${a.source})${a.action === "none" ? "" : " - deploy needs --allow-auth-mode-change to switch it to API_AND_CONFIG_MAP"}`,
  );
  for (const set of r.stackSets ?? []) {
    lines.push(
      `  phase 1  StackSet ${set.name}  (${set.account}, client ${set.client}): ${set.action}${set.reasons.length > 0 ? ` - ${set.reasons.join("; ")}` : ""}`,
    );
  }
  for (const p of r.stacks) {
    lines.push(`  phase ${p.phase}  ${p.name}  (${p.account}): ${actionWord(p)} - ${p.reason}`);
    lines.push(...planLines(p, "      "));
    if (p.diffText && p.action === "update") {
      lines.push(...p.diffText.split("\n").map((l) => `      | ${l}`));
    }
  }
  return `${lines.join("\n")}\n`;
}

export function renderDeploySummary(r: DeployRunResult): string {
  const lines: string[] = [];
  const n = r.stacks.length;
  if (r.outcome === "no-changes") {
    lines.push(`No changes: the ${n} stack(s) of cluster ${r.cluster.name} are deployed and identical.`);
  } else if (r.outcome === "failed") {
    lines.push(
      `Deploy of cluster ${r.cluster.name} failed in phase ${r.failure?.phase} after ${secs(r.durationMs)}:`,
    );
  } else {
    lines.push(
      `Deployed cluster ${r.cluster.name}: ${n} stack(s) in ${r.phases.length} phase(s), ${secs(r.durationMs)}.`,
    );
  }
  if (r.authMode.updated)
    lines.push(`  cluster ${r.cluster.name}: authentication mode switched to API_AND_CONFIG_MAP`);
  for (const set of r.stackSets ?? []) {
    lines.push(
      `  phase 1 StackSet ${set.outcome.padEnd(9)} ${set.name}  (${set.account}, client ${set.client})${set.operations.length > 0 ? `  operations ${set.operations.join(", ")}` : ""}`,
    );
  }
  if (r.outcome !== "no-changes") {
    for (const s of r.stacks) {
      const phase = r.phases.find((p) => p.number === s.phase);
      if (phase && r.stacks.find((x) => x.phase === s.phase) === s) {
        lines.push(`  phase ${phase.number} ${phase.name}  ${secs(phase.durationMs)}`);
      } else if (!phase && r.stacks.find((x) => x.phase === s.phase) === s) {
        lines.push(`  phase ${s.phase}`);
      }
      lines.push(
        `    ${s.outcome.padEnd(11)} ${s.name}  (${s.account})${s.durationMs !== undefined ? `  ${secs(s.durationMs)}` : ""}`,
      );
      if (s.failure) {
        const where = s.failure.resource
          ? `resource ${s.failure.resource}${s.failure.resourceType ? ` (${s.failure.resourceType})` : ""}${s.failure.inferred ? " [inferred]" : ""}: `
          : "";
        lines.push(`                ${where}${s.failure.reason}`);
      }
    }
  }
  const outputs = r.stacks.flatMap((s) =>
    Object.entries(s.outputs ?? {}).map(([k, v]) => `    ${s.name}.${k} = ${v}`),
  );
  if (outputs.length > 0 && r.outcome !== "failed") lines.push("  outputs:", ...outputs);
  return `${lines.join("\n")}\n`;
}

export function renderDestroy(r: DestroyRunResult): string {
  const lines: string[] = [];
  if (r.outcome === "nothing-to-destroy") {
    lines.push(`Nothing to destroy: no stack of cluster ${r.cluster.name} exists.`);
  } else {
    lines.push(
      r.outcome === "destroyed"
        ? `Destroyed the stacks of cluster ${r.cluster.name} (${secs(r.durationMs)}).`
        : `Destroy of cluster ${r.cluster.name} is incomplete: some things could not be removed.`,
    );
    for (const s of r.stacks) {
      lines.push(
        `  ${s.outcome.padEnd(8)} ${s.name}  (${s.account})${s.durationMs !== undefined ? `  ${secs(s.durationMs)}` : ""}`,
      );
      if (s.failure)
        lines.push(`           ${s.failure.resource ? `${s.failure.resource}: ` : ""}${s.failure.reason}`);
      for (const k of s.adoptedKept ?? []) {
        lines.push(`           kept (adopted): ${k.piece} (${k.logicalId}); --including-adopted deletes it`);
      }
      for (const l of s.leftBehind ?? []) {
        lines.push(
          `           left behind: ${l.logicalId} (${l.resourceType}${l.physicalId ? ` ${l.physicalId}` : ""}): ${l.reason}`,
        );
      }
    }
  }
  for (const set of r.stackSetsLeft ?? []) {
    lines.push(
      `  kept     StackSet ${set.name}  (${set.account}): destroy does not delete it; with the administrator's credentials:`,
      ...set.commands.map((c) => `             ${c}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Progress on stderr. On a terminal, a live area at the bottom shows the stacks in progress, redrawn in place
 * (one stack: its latest resource events; several at once: one line each with its latest event, at most
 * LIVE_STACKS lines and a count of the rest); finished steps scroll above it. Otherwise, one plain line per
 * event, each naming its stack.
 */
export class Progress {
  private liveCount = 0;
  /** The stacks in progress, in order of start. */
  private readonly flying = new Map<
    string,
    { stack: string; action: string; started: number; events: string[] }
  >();
  private timer?: NodeJS.Timeout;
  private paused = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly opts: { live: boolean; debug: boolean },
  ) {}

  event(e: DeployEvent): void {
    switch (e.type) {
      case "synthesized":
        this.line(`synthesized ${e.stacks} stack(s) in ${e.phases} phase(s) into ${e.outDir}`);
        return;
      case "identity":
        this.line(
          `credentials for ${e.check.credentials}: ${e.check.role ? `role ${e.check.role}` : e.check.profile ? `profile ${e.check.profile}` : "ambient"} -> ${e.check.arn}`,
        );
        return;
      case "auth-mode":
        this.line(
          `cluster ${e.state.cluster}: authentication mode ${e.state.mode ?? "unknown"} (${e.state.source})${e.state.action === "update" ? ", will switch to API_AND_CONFIG_MAP" : ""}`,
        );
        return;
      case "auth-mode-update":
        this.line(`cluster ${e.cluster}: authentication mode update ${e.updateId} ${e.status}`);
        return;
      case "phase":
        this.paused = false;
        this.line(`phase ${e.number}/${e.of} ${e.name}: ${e.title}`);
        return;
      case "phase-done":
        this.line(
          e.counts
            ? `phase ${e.number} ${e.name}: ${describeCounts(e.counts)} in ${secs(e.durationMs)}`
            : `phase ${e.number} ${e.name} done in ${secs(e.durationMs)}`,
        );
        return;
      case "stack":
        this.stack(e);
        return;
      case "resource":
        this.resource(e);
        return;
      case "peering":
        this.line(
          `  ${e.stack}: peering connection ${e.peeringId} ${e.status}${e.message ? ` (${e.message})` : ""}`,
        );
        return;
      case "notice":
        this.line(`${e.level === "warn" ? "warning: " : ""}${e.message}`);
        return;
      case "debug":
        if (this.opts.debug) this.line(`(debug) ${e.message.split("\n")[0]}`);
        return;
    }
  }

  /** Stop the live area (before a question or the final output). */
  pause(): void {
    this.clearLive();
    this.paused = true;
  }

  done(): void {
    this.clearLive();
    this.flying.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private stack(e: Extract<DeployEvent, { type: "stack" }>): void {
    if (e.status === "started") {
      this.line(`  ${e.stack} (${e.account}): ${e.action === "delete" ? "deleting" : `${e.action}...`}`);
      this.flying.set(e.stack, { stack: e.stack, action: e.action, started: Date.now(), events: [] });
      if (this.opts.live && !this.timer) {
        this.timer = setInterval(() => this.redraw(), 1000);
        this.timer.unref();
      }
      this.redraw();
      return;
    }
    this.flying.delete(e.stack);
    const word =
      e.status === "skipped"
        ? `skipped${e.message ? ` (${e.message})` : ""}`
        : e.status === "failed"
          ? `FAILED after ${secs(e.durationMs)}: ${e.message ?? ""}`
          : `${e.action === "delete" ? "deleted" : `${e.action} done`} in ${secs(e.durationMs)}`;
    this.line(`  ${e.stack}: ${word}`);
  }

  private resource(e: Extract<DeployEvent, { type: "resource" }>): void {
    const text = `${e.logicalId}  ${e.resourceType}  ${e.status}${e.reason ? `  ${e.reason}` : ""}`;
    if (!this.opts.live) {
      this.line(`    ${e.stack}: ${text}`);
      return;
    }
    const current = this.flying.get(e.stack);
    if (e.status.endsWith("_FAILED") && this.flying.size > 1) {
      // Several stacks at once: a failure scrolls above the live area, where it stays readable.
      this.line(`    ${e.stack}: ${text}`);
    }
    if (current) {
      current.events.push(text);
      if (current.events.length > 4) current.events.shift();
      this.redraw();
    } else if (e.status.endsWith("_FAILED")) {
      this.line(`    ${e.stack}: ${text}`);
    }
  }

  private line(text: string): void {
    this.clearLive();
    this.out.write(`${text}\n`);
    this.drawLive();
  }

  private clearLive(): void {
    if (this.liveCount > 0) {
      this.out.write(`\u001b[${this.liveCount}F\u001b[J`);
      this.liveCount = 0;
    }
  }

  private redraw(): void {
    if (!this.opts.live) return;
    this.clearLive();
    this.drawLive();
  }

  private drawLive(): void {
    if (!this.opts.live || this.paused || this.flying.size === 0) return;
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
    const elapsed = (started: number) => Math.round((Date.now() - started) / 1000);
    const all = [...this.flying.values()];
    let lines: string[];
    if (all.length === 1) {
      const c = all[0] as (typeof all)[number];
      lines = [
        cut(`  … ${c.stack}: ${c.action} (${elapsed(c.started)} s)`),
        ...c.events.map((ev) => cut(`      ${ev}`)),
      ];
    } else {
      lines = all
        .slice(0, LIVE_STACKS)
        .map((c) =>
          cut(
            `  … ${c.stack}: ${c.action} (${elapsed(c.started)} s)${c.events.length ? `  ${c.events.at(-1)}` : ""}`,
          ),
        );
      if (all.length > LIVE_STACKS)
        lines.push(`  … and ${all.length - LIVE_STACKS} more stack(s) in progress`);
    }
    this.out.write(`${lines.join("\n")}\n`);
    this.liveCount = lines.length;
  }
}
