/**
 * The xeks command line. Each command lives in its own file and registers itself here; its action imports
 * the library lazily, so `xeks --help` stays fast. `xeks token` does not come through here (see bin/xeks).
 */
import { Command, CommanderError } from "commander";
import { registerCanI } from "./can-i.js";
import { registerDeploy } from "./deploy.js";
import { registerDiscover } from "./discover.js";
import { registerDoctor } from "./doctor.js";
import { reportError } from "./errors.js";
import { registerKubeconfig } from "./kubeconfig.js";
import { registerPlan } from "./plan.js";
import { registerSchema } from "./schema.js";

export function buildProgram(): Command {
  const program = new Command("xeks")
    .description(
      "Cross-account access to Amazon EKS as code: plan both accounts from one topology file, prove every link\n" +
        "of the chain (EC2 role -> assume role -> token -> access entry -> access policy), deploy, diagnose.",
    )
    .version(process.env.npm_package_version ?? "0.1.0", "-V, --version")
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
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Run the CLI with the given arguments (without `node` and the script). Sets process.exitCode. */
export async function run(args: string[]): Promise<void> {
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
