/**
 * For the `xeks sandbox` tests (test/sandbox*.test.ts): an `xeks` on PATH that runs this checkout's src/cli
 * through tsx (so the tests do not depend on dist/ being fresh), and the environment of a reader's fresh shell.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ROOT } from "./cli.js";

const TSX = fileURLToPath(import.meta.resolve("tsx"));

/** A directory `dir/bin` with an `xeks` that runs this checkout's src/cli; returns the directory. */
export function makeXeksWrapper(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const entry = join(bin, "xeks-entry.mts");
  writeFileSync(
    entry,
    [
      'process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";',
      'process.env.JSII_DEPRECATED ??= "quiet";',
      'process.removeAllListeners("warning");',
      'process.on("warning", () => {});',
      `const { run } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "src/cli/main.ts")).href)});`,
      "await run(process.argv.slice(2));",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(bin, "xeks"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(pathToFileURL(TSX).href)} ${JSON.stringify(entry)} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/** The environment of a reader's fresh shell: no AWS or kubeconfig settings of this machine, a private HOME. */
export function cleanEnv(home: string, path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|KUBECONFIG$|XEKS_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, XDG_CACHE_HOME: join(home, ".cache"), PATH: path, NO_COLOR: "1" };
}

/** A directory `dir/fake-bin` with a `moto_server` shell script whose body is `body`; returns the directory. */
export function fakeMotoBin(dir: string, body: string): string {
  const bin = join(dir, "fake-bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "moto_server"), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return bin;
}
