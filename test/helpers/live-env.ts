/**
 * An isolated AWS environment for live tests: a temporary HOME with its own config and credentials files,
 * one profile per emulated account (credentials from moto's STS AssumeRole, which act in the role's account),
 * AWS_ENDPOINT_URL at the moto proxy and AWS_ENDPOINT_URL_EKS at the EKS fixture. Nothing reaches AWS.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { ROOT, XEKS } from "./cli.js";
import type { EksFixture } from "./eks-fixture.js";
import type { Moto } from "./moto-server.js";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** Credentials acting in `account` (moto: AssumeRole into any role ARN of that account). */
export async function credentialsFor(
  moto: Moto,
  account: string,
  region = "ap-south-1",
): Promise<Credentials> {
  const sts = new STSClient({
    region,
    endpoint: moto.proxyUrl,
    credentials: {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
  });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/xeks-test-admin`,
        RoleSessionName: "xeks-test",
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error("moto gave no credentials");
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  } finally {
    sts.destroy();
  }
}

export interface AwsHome {
  dir: string;
  /** Environment for a child `xeks`: only PATH and what is set here. */
  env: NodeJS.ProcessEnv;
  credentials: Map<string, Credentials>;
  cleanup(): void;
}

/**
 * Profiles `name -> account` in a fresh HOME. `ambient` names the account the default profile acts in
 * (the credentials used when no --*-profile is given).
 */
export async function makeAwsHome(
  moto: Moto,
  eks: EksFixture,
  profiles: Record<string, string>,
  options: { ambient?: string; region?: string } = {},
): Promise<AwsHome> {
  const dir = mkdtempSync(join(tmpdir(), "xeks-home-"));
  const region = options.region ?? "ap-south-1";
  const credentials = new Map<string, Credentials>();
  const accounts = new Set([...Object.values(profiles), ...(options.ambient ? [options.ambient] : [])]);
  for (const account of accounts) credentials.set(account, await credentialsFor(moto, account, region));
  const section = (name: string, account: string) => {
    const c = credentials.get(account) as Credentials;
    return `[${name}]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\naws_session_token = ${c.sessionToken}\n`;
  };
  const creds = Object.entries(profiles).map(([name, account]) => section(name, account));
  if (options.ambient) creds.push(section("default", options.ambient));
  const config = [...Object.keys(profiles), ...(options.ambient ? ["default"] : [])].map(
    (name) => `[${name === "default" ? "default" : `profile ${name}`}]\nregion = ${region}\n`,
  );
  writeFileSync(join(dir, "credentials"), creds.join("\n"), { mode: 0o600 });
  writeFileSync(join(dir, "config"), config.join("\n"), { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    AWS_ENDPOINT_URL: moto.proxyUrl,
    AWS_ENDPOINT_URL_EKS: eks.url,
    AWS_EC2_METADATA_DISABLED: "true",
    NO_COLOR: "1",
  };
  return { dir, env, credentials, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AsyncRunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run bin/xeks without blocking this process (the emulators' proxy and the EKS fixture live in it, so
 * spawnSync would deadlock).
 */
export function xeksAsync(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<AsyncRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(XEKS, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
