/**
 * `xeks token`: the kubectl exec credential plugin. bin/xeks calls `main` directly (no commander), and this
 * file imports only node built-ins and the cache-side modules of src/token/, so a cached token is printed
 * about as fast as node starts. stdout carries the ExecCredential and nothing else.
 */
import { writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { redact } from "../aws/redact.js";
import { nearest } from "../domain/suggest.js";
import { InputError } from "../errors.js";
import { getExecCredential, type TokenRequest } from "../token/plugin.js";
import { TOKEN_HELP, TOKEN_USAGE } from "./token-help.js";

export { TOKEN_HELP, TOKEN_USAGE };

function usageError(message: string): InputError {
  // The usage error format of every command (docs/cli.md): `xeks: MESSAGE`, then `  see: xeks CMD --help`.
  return new InputError(message, [
    { path: "", message: `usage: ${TOKEN_USAGE}` },
    { path: "", message: "see: xeks token --help" },
  ]);
}

/** Parse the flags into a request; `help` when --help was asked. */
export function parseTokenArgs(args: string[]): TokenRequest | "help" {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const flag = /'([^']+)'/.exec(e.message ?? "")?.[1];
    switch (e.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
        const near = flag?.startsWith("--")
          ? nearest(flag.slice(2).split("=")[0] ?? "", TOKEN_FLAGS)
          : undefined;
        throw usageError(`unknown option ${flag ?? ""}`.trim() + (near ? ` (did you mean --${near}?)` : ""));
      }
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw usageError(flag ? `option ${flag.split(" ")[0]} needs a value` : "an option needs a value");
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        throw usageError(`unexpected argument ${flag ?? ""}`.trim());
      default:
        throw usageError("invalid arguments");
    }
  }
  const v = parsed.values;
  if (v.help) return "help";
  for (const name of [
    "cluster-name",
    "cluster-id",
    "region",
    "role-arn",
    "session-name",
    "external-id",
  ] as const) {
    if (v[name] === "") throw usageError(`option --${name} needs a value`);
  }
  const req: TokenRequest = { cache: !v["no-cache"] };
  if (v["cluster-name"] !== undefined) req.clusterName = v["cluster-name"];
  if (v["cluster-id"] !== undefined) req.clusterId = v["cluster-id"];
  if (v.region !== undefined) req.region = v.region;
  if (v["role-arn"] !== undefined) req.roleArn = v["role-arn"];
  if (v["session-name"] !== undefined) req.sessionName = v["session-name"];
  if (v["external-id"] !== undefined) req.externalId = v["external-id"];
  return req;
}

/** The long flags of `xeks token`, for "did you mean". */
const TOKEN_FLAGS = [
  "cluster-name",
  "cluster-id",
  "region",
  "role-arn",
  "session-name",
  "external-id",
  "no-cache",
  "help",
];

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      "cluster-name": { type: "string" },
      "cluster-id": { type: "string" },
      region: { type: "string" },
      "role-arn": { type: "string" },
      "session-name": { type: "string" },
      "external-id": { type: "string" },
      "no-cache": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/**
 * Write the ExecCredential with one write(2) on fd 1: creating process.stdout costs a few milliseconds of
 * stream set-up, and the output (a few kB) fits in a pipe buffer.
 */
function writeOut(text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    process.stdout.write(buf.subarray(off));
  }
}

/**
 * Every byte this command writes to stderr goes through here: secrets (the ambient ones, those resolved on
 * the way, secret-shaped text) are redacted (src/aws/redact.ts). stdout carries the token: that is its job.
 */
function writeErr(text: string): void {
  process.stderr.write(redact(text));
}

/** Entry point used by bin/xeks. Sets process.exitCode; never throws. */
export async function main(args: string[]): Promise<void> {
  try {
    const req = parseTokenArgs(args);
    if (req === "help") {
      process.stdout.write(`${TOKEN_HELP}\n`);
      return;
    }
    const result = await getExecCredential(req, process.env);
    for (const w of result.warnings) writeErr(`xeks: ${w}\n`);
    if (process.env.XEKS_DEBUG) {
      for (const n of result.notes) writeErr(`xeks: (debug) ${n}\n`);
      writeErr(`xeks: (debug) token from ${result.source}, expires ${result.expirationTimestamp}\n`);
    }
    writeOut(result.output);
  } catch (err) {
    const { describeError } = await import("./errors.js");
    const { message, exitCode } = describeError(err);
    writeErr(`${message}\n`);
    if (process.env.XEKS_DEBUG && err instanceof Error && err.stack) writeErr(`${err.stack}\n`);
    process.exitCode = exitCode;
  }
}
