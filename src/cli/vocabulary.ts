/**
 * The one CLI vocabulary (docs/cli.md): old flag spellings kept as hidden, deprecated aliases, and commander's
 * own error messages in xeks's format (`xeks: ...`, "(did you mean X?)").
 */
import { type Command, Option } from "commander";
import type { InputError } from "../errors.js";

/** The version in which the deprecated spellings go (they are kept for one minor version). */
export const ALIASES_REMOVED_IN = "0.3";

export interface AliasOptions {
  /**
   * Refuse a value this alias cannot stand for (for example discover's `--client` without `=`): return the
   * InputError to throw, or undefined to accept the value.
   */
  refuse?: (value: string) => InputError | undefined;
}

/** Deprecation notes of this run, printed once the flags are parsed (see printDeprecationNotes). */
const pendingNotes: string[] = [];

/**
 * Add `flags` (such as `"--access-role <role>"`) to `cmd` as a hidden, deprecated spelling of the option whose
 * long flag is `replacement` (already added to `cmd`). A value given with the old spelling is stored as the
 * new option's value (through its parser, so repeatable options collect), and the first use queues one note:
 * `xeks: note: --access-role is deprecated; use --role-arn (removed in 0.3)`.
 */
export function deprecatedAlias(
  cmd: Command,
  flags: string,
  replacement: string,
  options: AliasOptions = {},
): Command {
  const target = cmd.options.find((o) => o.long === replacement);
  if (!target) throw new Error(`deprecatedAlias: ${cmd.name()} has no option ${replacement}`);
  const alias = new Option(flags).hideHelp();
  cmd.addOption(alias);
  let noted = false;
  cmd.on(`option:${alias.name()}`, (value: string) => {
    const refused = options.refuse?.(value);
    if (refused) throw refused;
    if (!noted) {
      noted = true;
      pendingNotes.push(
        `xeks: note: ${alias.long} is deprecated; use ${replacement} (removed in ${ALIASES_REMOVED_IN})\n`,
      );
    }
    const attr = target.attributeName();
    const previous =
      cmd.getOptionValueSource(attr) === "default" ? target.defaultValue : cmd.getOptionValue(attr);
    const parsed = target.parseArg ? target.parseArg(value, previous) : value;
    cmd.setOptionValueWithSource(attr, parsed, "cli");
  });
  return cmd;
}

/**
 * Print the queued deprecation notes on stderr, once the command line is parsed and before the action runs
 * (a commander `preAction` hook), unless the command was asked to be quiet (`can-i -q`).
 */
export function printDeprecationNotes(actionCommand: Command): void {
  const notes = pendingNotes.splice(0);
  if (actionCommand.opts().quiet) return;
  for (const note of notes) process.stderr.write(note);
}

/**
 * Commander's error text in xeks's format: `error: unknown option '--outptu'\n(Did you mean --output?)` becomes
 * `xeks: unknown option '--outptu' (did you mean --output?)`, with a pointer to the command's help.
 */
export function formatCommanderError(text: string, commandPath: string): string {
  const body = text.replace(/\n+$/, "").replace(/^error: /, "");
  const lines = body.split("\n");
  const first = lines.shift() ?? "";
  const rest: string[] = [];
  let suggestion = "";
  for (const line of lines) {
    const m = /^\(Did you mean (.+)\?\)$/.exec(line.trim());
    if (m) suggestion = ` (did you mean ${m[1]}?)`;
    else if (line.trim() !== "") rest.push(`  ${line.trim()}`);
  }
  const out = [`xeks: ${first}${suggestion}`, ...rest, `  see: ${commandPath} --help`];
  return `${out.join("\n")}\n`;
}

/** The full command path for messages: `xeks doctor`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
