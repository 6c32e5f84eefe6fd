/**
 * The xeks command line. Each command lives in its own file and registers itself here; its action imports
 * the library lazily, so `xeks --help` stays fast. `xeks token` does not come through here (bin/xeks sends it
 * straight to dist/token.cjs); it is registered here too, so that `xeks --help` lists it and `xeks help token`
 * shows its help. The flag names are one vocabulary across commands: docs/cli.md.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerAudit } from "./audit.js";
import { registerCanI } from "./can-i.js";
import { registerDeploy } from "./deploy.js";
import { registerDiscover } from "./discover.js";
import { registerDoctor } from "./doctor.js";
import { reportError } from "./errors.js";
import { registerKubeconfig } from "./kubeconfig.js";
import { registerPlan } from "./plan.js";
import { installOutputRedaction } from "./redact-output.js";
import { registerSandbox } from "./sandbox.js";
import { registerSchema } from "./schema.js";
import { TOKEN_HELP } from "./token-help.js";
import { commandPath, formatCommanderError, printDeprecationNotes } from "./vocabulary.js";

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
  audit: "live, read-only: find stale, orphaned or wider-than-declared access (text, json, sarif)",
  discover: "live, read-only: write the topology of an existing setup",
  deploy: "deploy both accounts in phase order, then run the doctor",
  diff: "show what deploy would change, per stack",
  destroy: "remove both accounts' stacks in reverse order",
  token: "kubectl exec credential plugin: print a cached EKS token (ExecCredential)",
  sandbox: "a two-account EKS lab on 127.0.0.1 for the guided tour (docs/tour.md)",
};

/**
 * `xeks token` for help and listing only: bin/xeks runs `xeks token ...` from the bundle without coming here.
 * Reached otherwise (run(["token", ...]) from code), the action hands the arguments to the same command.
 */
function registerToken(program: Command): void {
  program
    .command("token")
    .description("kubectl exec credential plugin for Amazon EKS (see docs/token.md).")
    .allowUnknownOption()
    .allowExcessArguments()
    .configureHelp({ formatHelp: () => `${TOKEN_HELP}\n` })
    .action(async (_opts: unknown, cmd: Command) => {
      const { main } = await import("./token.js");
      await main(cmd.args);
    });
}

export function buildProgram(): Command {
  const program = new Command("xeks")
    .description(
      "Cross-account access to Amazon EKS as code: plan both accounts from one topology file, prove every link " +
        "of the chain (EC2 role -> assume role -> token -> access entry -> access policy), deploy, diagnose.",
    )
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError(true)
    .hook("preAction", (_program, actionCommand) => printDeprecationNotes(actionCommand))
    .exitOverride();
  registerPlan(program);
  registerSchema(program);
  registerKubeconfig(program);
  registerCanI(program);
  registerDoctor(program);
  registerAudit(program);
  registerDiscover(program);
  registerDeploy(program);
  registerToken(program);
  registerSandbox(program);
  program.addHelpText(
    "after",
    "\nExit codes: 0 success, 1 the chain is broken or the operation failed, 2 invalid input, 3 can-i cannot\n" +
      "evaluate, 130/143 deploy, diff or destroy interrupted (SIGINT/SIGTERM).\n" +
      "The same flag names in every command (--role-arn, --client, --cluster-name, -o/--output, ...): docs/cli.md.\n" +
      "xeks help COMMAND (or xeks COMMAND --help) describes a command.",
  );
  for (const cmd of [program, ...program.commands]) {
    // One error format: commander's usage errors read like xeks's own (`xeks: ...`, "did you mean").
    cmd.configureOutput({
      outputError: (text, write) => write(formatCommanderError(text, commandPath(cmd))),
    });
  }
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
  // `xeks help NOPE`: commander would print the whole help on stderr; say it like any unknown command.
  const known = (name: string) => program.commands.some((c) => c.name() === name);
  const argv = args[0] === "help" && args[1] !== undefined && !known(args[1]) ? [args[1]] : args;
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every usage error (unknown option, missing argument) is invalid input.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(err);
  }
}
