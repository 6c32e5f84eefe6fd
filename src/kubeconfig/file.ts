/**
 * Which kubeconfig file to write, and writing it atomically with mode 0600 (temporary file in the same
 * directory, then rename). A symlinked kubeconfig is written through to its target.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { OperationError } from "../errors.js";

/** `--kubeconfig`, else the first path of $KUBECONFIG, else ~/.kube/config (as kubectl and aws do). */
export function kubeconfigPath(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (explicit) return resolve(explicit);
  const first = (env.KUBECONFIG ?? "").split(delimiter).find((p) => p !== "");
  if (first) return resolve(first);
  return join(env.HOME || homedir(), ".kube", "config");
}

/** The file's text, or undefined when it does not exist. */
export function readKubeconfig(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new OperationError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Write `text` to `path` atomically, mode 0600, creating the directory (0700) when needed. */
export function writeKubeconfigAtomic(path: string, text: string): string {
  let target = path;
  try {
    target = realpathSync(path);
  } catch {
    // does not exist yet
  }
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.xeks-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600);
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw new OperationError(`cannot write ${target}: ${(err as Error).message}`);
  }
  return target;
}
