/**
 * The moto patches xeks documents (docs/deploy.md, "Testing against the emulator"): a `sitecustomize.py` that
 * Python imports at start-up when its folder is on PYTHONPATH, making moto 5.2's CloudFormation behave like
 * CloudFormation where `xeks deploy` depends on it. It ships with the package (package.json "files") at
 * src/sandbox/moto-patches/; the tests and `xeks sandbox up` start moto_server with the same file.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** File name of the patch module inside the folder of `motoPatchesDir()`. */
export const MOTO_PATCH_FILE = "sitecustomize.py";

/**
 * The folder to put on PYTHONPATH: src/sandbox/moto-patches, found from this module whether it runs from
 * src/ (tsx) or from dist/sandbox/ (the built package, where the .py stays under src/). Throws an Error when
 * neither holds the file (a broken install).
 */
export function motoPatchesDir(): string {
  const candidates = [
    new URL("./moto-patches/", import.meta.url),
    new URL("../../src/sandbox/moto-patches/", import.meta.url),
  ].map((u) => fileURLToPath(u));
  for (const dir of candidates) if (existsSync(`${dir}${MOTO_PATCH_FILE}`)) return dir.replace(/\/$/, "");
  throw new Error(`the moto patches (${MOTO_PATCH_FILE}) are missing from ${candidates.join(" and ")}`);
}

/** Environment for moto_server with the patches: PYTHONPATH (prepended to any given one), XEKS_MOTO_SHIM=1. */
export function motoPatchEnv(pythonPath?: string): Record<string, string> {
  const dir = motoPatchesDir();
  return { PYTHONPATH: pythonPath ? `${dir}:${pythonPath}` : dir, XEKS_MOTO_SHIM: "1" };
}
