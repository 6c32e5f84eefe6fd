/**
 * An isolated environment for running AWS tools in tests: a temporary HOME, cache dir, AWS config and
 * credentials files, no AWS_* or KUBE* variable inherited from the outer shell, and IMDS disabled unless
 * asked for. Nothing can reach real AWS through it unless a test sets credentials and forgets an endpoint,
 * so tests should also set AWS_ENDPOINT_URL(_STS) to a local server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IsolatedEnv {
  /** The temporary directory holding everything below. */
  dir: string;
  home: string;
  cacheHome: string;
  configFile: string;
  credentialsFile: string;
  env: NodeJS.ProcessEnv;
  /** Remove the temporary directory. */
  cleanup(): void;
}

/** Variables kept from the outer environment. */
const KEEP = ["PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT", "NODE_OPTIONS"];

export function isolatedAwsEnv(
  opts: { config?: string; credentials?: string; vars?: Record<string, string | undefined> } = {},
): IsolatedEnv {
  const dir = mkdtempSync(join(tmpdir(), "xeks-test-"));
  const home = join(dir, "home");
  const cacheHome = join(dir, "cache");
  mkdirSync(join(home, ".aws"), { recursive: true });
  const configFile = join(home, ".aws", "config");
  const credentialsFile = join(home, ".aws", "credentials");
  writeFileSync(configFile, opts.config ?? "");
  writeFileSync(credentialsFile, opts.credentials ?? "", { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const k of KEEP) if (process.env[k] !== undefined) env[k] = process.env[k];
  Object.assign(env, {
    HOME: home,
    XDG_CACHE_HOME: cacheHome,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    KUBECONFIG: join(home, ".kube", "config"),
  });
  for (const [k, v] of Object.entries(opts.vars ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return {
    dir,
    home,
    cacheHome,
    configFile,
    credentialsFile,
    env,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
