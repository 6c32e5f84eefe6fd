/**
 * Which kubeconfig file to write, reading it and writing it atomically (temporary file in the same directory,
 * then rename; a new file 0600) by the rules of src/files. A symlinked kubeconfig is written through to its
 * target.
 */
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import {
  checkWriteTarget,
  READ_LIMITS,
  readUserFileIfExists,
  type WriteOptions,
  writeFileAtomic,
} from "../files/index.js";

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

/** The role of the kubeconfig for the own-input rule of src/files: read, merged and written back. */
const KUBECONFIG_ROLE = "kubeconfig";

const KUBECONFIG_HINT =
  "expected a kubeconfig file this user may read and write (a regular file of at most 16 MiB), or a path in a writable directory where one can be created";

function kubeconfigWrite(flag: string): WriteOptions {
  return {
    field: flag,
    role: KUBECONFIG_ROLE,
    what: "the kubeconfig",
    mode: 0o600,
    maxMode: 0o600,
    createDirMode: 0o700,
    hint: KUBECONFIG_HINT,
  };
}

/**
 * The file's text, or undefined when it does not exist. A path that cannot be a kubeconfig (a directory, a
 * FIFO, a device, a socket, a path under a file, a file this user may not read, a file larger than
 * READ_LIMITS.kubeconfig = 16 MiB) is an InputError (exit 2) naming `flag`, without blocking (src/files).
 */
export function readKubeconfig(path: string, flag = "--kubeconfig"): string | undefined {
  return readUserFileIfExists(path, {
    field: flag,
    role: KUBECONFIG_ROLE,
    what: "the kubeconfig",
    maxBytes: READ_LIMITS.kubeconfig,
    hint: KUBECONFIG_HINT,
  });
}

/**
 * Refuse, before any AWS call, a kubeconfig xeks could not replace: a directory, a FIFO, a device or socket
 * (also behind a symlink), a read-only file (mode without write bits, root included), a dangling symlink, a
 * file the command reads as another input (the topology), a directory where no file can be created.
 * InputError (exit 2) naming `flag`. The write checks again.
 */
export function checkKubeconfigTarget(path: string, flag = "--kubeconfig"): void {
  checkWriteTarget(path, kubeconfigWrite(flag));
}

/**
 * Write `text` to `path` atomically (temporary file in the same directory, then rename) by the rules of
 * src/files: a new file is 0600 (its directory created 0700), a replaced file keeps its mode without the
 * group and other bits (credentials may be in it: 0644 becomes 0600, as xeks always did); a symlinked
 * kubeconfig is written through to its target. Returns the file written. InputError (exit 2) naming `flag`
 * for a target that cannot be replaced (see `checkKubeconfigTarget`); OperationError (exit 1) when the disk fails.
 */
export function writeKubeconfigAtomic(path: string, text: string, flag = "--kubeconfig"): string {
  return writeFileAtomic(path, text, kubeconfigWrite(flag));
}
