/**
 * The per-account credential flags shared by deploy, diff, destroy, doctor and discover:
 * `--cluster-profile P` and repeatable `--client-profile NAME=P`.
 */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import type { Topology } from "../topology/types.js";

/** Commander's accumulator for repeatable flags. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Add `--cluster-profile` and `--client-profile` to a command. */
export function addProfileOptions(cmd: Command): Command {
  return cmd
    .option(
      "--cluster-profile <profile>",
      "AWS profile for the cluster account (default: ambient credentials)",
    )
    .option(
      "--client-profile <name=profile>",
      "AWS profile for a client's account (repeatable; default: ambient credentials)",
      collect,
      [],
    );
}

/**
 * Add `--profile` (the base session) and `--assume-role-name` (one role name, assumed in every account with the
 * base session; docs/cli.md "One credential, every account").
 */
export function addAssumeRoleOptions(cmd: Command): Command {
  return cmd
    .option(
      "--profile <profile>",
      "AWS profile of the base session: it acts for every account without a profile of its own, and assumes --assume-role-name (default: ambient credentials)",
    )
    .option(
      "--assume-role-name <name>",
      "reach every account without a profile of its own by assuming role NAME in it with the base session (e.g. OrganizationAccountAccessRole)",
    );
}

/** The base-session options of {@link addAssumeRoleOptions}, checked. */
export async function parseAssumeRoleOptions(opts: {
  profile?: string;
  assumeRoleName?: string;
}): Promise<{ profile?: string; assumeRoleName?: string }> {
  const out: { profile?: string; assumeRoleName?: string } = {};
  if (opts.profile !== undefined) {
    if (!/^\S+$/.test(opts.profile)) {
      throw new InputError(`bad --profile "${opts.profile}"`, [
        { path: "--profile", message: "expected an AWS profile name" },
      ]);
    }
    out.profile = opts.profile;
  }
  if (opts.assumeRoleName !== undefined) {
    const { parseAssumeRoleName } = await import("../aws/assume-role-name.js");
    out.assumeRoleName = parseAssumeRoleName(opts.assumeRoleName);
  }
  return out;
}

/**
 * `NAME=PROFILE` pairs of `--client-profile`: checked for shape and duplicates, and, given the topology, that
 * NAME is one of its clients.
 */
export function parseClientProfiles(
  values: readonly string[],
  topology?: Topology,
  flag = "--client-profile",
): Record<string, string> {
  const names = topology?.clients.map((c) => c.name);
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^([a-z][a-z0-9-]{0,30})=(\S+)$/.exec(v);
    if (!m?.[1] || !m[2]) {
      throw new InputError(`bad ${flag} "${v}"`, [
        {
          path: flag,
          message: `expected NAME=PROFILE: a client name${names ? ` (${names.join(", ")})` : ""}, =, an AWS profile name`,
        },
      ]);
    }
    const [, name, profile] = m;
    if (names && !names.includes(name)) {
      throw new InputError(`${flag} names client "${name}", which the topology does not have`, [
        { path: flag, message: `the clients are: ${names.join(", ")}` },
      ]);
    }
    if (out[name] !== undefined && out[name] !== profile) {
      throw new InputError(`${flag} gives client ${name} two profiles (${out[name]} and ${profile})`, [
        { path: flag, message: "give each client one profile" },
      ]);
    }
    out[name] = profile;
  }
  return out;
}
