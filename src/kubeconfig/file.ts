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
import { InputError, OperationError } from "../errors.js";

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

/** Why a path cannot be a kubeconfig, by errno: these are the user's input, not a failed operation. */
const UNUSABLE: Record<string, string> = {
  EISDIR: "is a directory",
  ENOTDIR: "is under a file, not a directory",
  EACCES: "cannot be read by this user (permission denied)",
  EPERM: "cannot be read by this user (operation not permitted)",
  ELOOP: "is a symlink loop",
  ENAMETOOLONG: "is too long",
};

/**
 * The file's text, or undefined when it does not exist. A path that cannot be a kubeconfig (a directory,
 * a path under a file, a file this user may not read) is an InputError naming `flag`.
 */
export function readKubeconfig(path: string, flag = "--kubeconfig"): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT") return undefined;
    const why = UNUSABLE[code];
    if (why) {
      throw new InputError(`the kubeconfig ${path} ${why}`, [
        {
          path: flag,
          message:
            "expected a kubeconfig file this user may read and write, or a path in a writable directory where one can be created",
        },
      ]);
    }
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
