/**
 * The xeks command line. Each command lives in its own file and registers itself here; its action imports
 * the library lazily, so `xeks --help` stays fast. `xeks token` does not come through here (see bin/xeks).
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerCanI } from "./can-i.js";
import { registerDeploy } from "./deploy.js";
import { registerDiscover } from "./discover.js";
import { registerDoctor } from "./doctor.js";
import { reportError } from "./errors.js";
import { registerKubeconfig } from "./kubeconfig.js";
import { registerPlan } from "./plan.js";
import { installOutputRedaction } from "./redact-output.js";
import { registerSchema } from "./schema.js";

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;
  } catch {
    return "unknown";
  }
}

/** One line per command for `xeks --help`; `xeks COMMAND --help` shows the full description. */
const SUMMARIES: Record<string, string> = {
  plan: "offline: synthesize both accounts, print the plan, prove the chain",
  schema: "print the topology file's JSON Schema",
  kubeconfig: "merge a kubeconfig context whose user runs xeks token (no keys)",
  "can-i": "offline: may an access role do VERB on RESOURCE?",
  doctor: "live, read-only: prove the chain on the real accounts (--from-client: from the instance)",
  discover: "live, read-only: write the topology of an existing setup",
  deploy: "deploy both accounts in phase order, then run the doctor",
  diff: "show what deploy would change, per stack",
  destroy: "remove both accounts' stacks in reverse order",
};

export function buildProgram(): Command {
  const program = new Command("xeks")
    .description(
      "Cross-account access to Amazon EKS as code: plan both accounts from one topology file, prove every link " +
        "of the chain (EC2 role -> assume role -> token -> access entry -> access policy), deploy, diagnose.",
    )
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerPlan(program);
  registerSchema(program);
  registerKubeconfig(program);
  registerCanI(program);
  registerDoctor(program);
  registerDiscover(program);
  registerDeploy(program);
  program.addHelpText(
    "after",
    "\nExit codes: 0 success, 1 the chain is broken or the operation failed, 2 invalid input.\n" +
      "Token plugin for kubectl: xeks token --cluster-name N [--role-arn ARN] (see xeks token --help).",
  );
  for (const cmd of program.commands) {
    cmd.exitOverride();
    const summary = SUMMARIES[cmd.name()];
    if (summary) cmd.summary(summary);
  }
  return program;
}

/**
 * Run the CLI with the given arguments (without `node` and the script). Sets process.exitCode. Everything
 * written to stdout and stderr from here on is redacted (redact-output.ts); an error that escapes every
 * handler is reported like any other (one redacted paragraph, exit 1) instead of node's raw stack trace.
 */
export async function run(args: string[]): Promise<void> {
  installOutputRedaction();
  if (process.listenerCount("uncaughtException") === 0) {
    process.on("uncaughtException", (err) => {
      reportError(err);
      process.exit();
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every usage error (unknown option, missing argument) is invalid input.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(err);
  }
}
