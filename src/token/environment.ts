/**
 * What `xeks token` learns from the environment without loading the AWS SDK: the region, the source
 * identity that keys the cache, the default session name, the cache directory. Only node built-ins here:
 * the cached path must stay within a few milliseconds of a bare `node` start.
 */
import { existsSync, statSync } from "node:fs";
import { homedir, hostname, userInfo } from "node:os";
import { isAbsolute, join } from "node:path";
import { READ_LIMITS, readOptionalFile } from "../files/index.js";

export type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

export function homeDir(env: Env): string {
  return nonEmpty(env.HOME) ?? homedir();
}

/** The active profile as the SDK sees it: AWS_PROFILE, else `default`. */
export function profileName(env: Env): string {
  return nonEmpty(env.AWS_PROFILE) ?? "default";
}

export function configFilePath(env: Env): string {
  return nonEmpty(env.AWS_CONFIG_FILE) ?? join(homeDir(env), ".aws", "config");
}

export function credentialsFilePath(env: Env): string {
  return nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(homeDir(env), ".aws", "credentials");
}

/** A minimal INI reader for the shared config file: `[section]` and `key = value` lines. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header?.[1]) {
      current = new Map();
      sections.set(header[1].replace(/\s+/g, " "), current);
      continue;
    }
    // Nested values (`s3 =` followed by indented lines) are not needed here; top-level keys only.
    if (/^\s/.test(rawLine)) continue;
    const eq = line.indexOf("=");
    if (eq <= 0 || !current) continue;
    current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

/** The settings of a profile in the shared config file (`[default]` or `[profile NAME]`). */
export function profileSettings(env: Env, profile = profileName(env)): Map<string, string> | undefined {
  // A regular file of at most 4 MiB, read without blocking (a FIFO or device here is ignored, src/files).
  const text = readOptionalFile(configFilePath(env), READ_LIMITS.awsConfig);
  if (text === undefined) return undefined;
  const sections = parseIni(text);
  return sections.get(`profile ${profile}`) ?? (profile === "default" ? sections.get("default") : undefined);
}

/**
 * Whether a named profile exists where the SDK and the AWS CLI look for it: `[profile NAME]` (or `[default]`
 * for `default`) in the shared config file, or `[NAME]` in the shared credentials file (AWS_CONFIG_FILE,
 * AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials). Files that are missing or not
 * regular files count as empty.
 */
export function profileDefined(env: Env, profile: string): boolean {
  if (profileSettings(env, profile) !== undefined) return true;
  const text = readOptionalFile(credentialsFilePath(env), READ_LIMITS.awsConfig);
  return text !== undefined && parseIni(text).has(profile);
}

export type RegionSource = "flag" | "AWS_REGION" | "AWS_DEFAULT_REGION" | "profile";

/** Region: the flag, AWS_REGION, AWS_DEFAULT_REGION, then the active profile's `region`. */
export function resolveRegion(
  flag: string | undefined,
  env: Env,
): { region: string; source: RegionSource } | undefined {
  if (nonEmpty(flag)) return { region: flag as string, source: "flag" };
  const fromEnv = nonEmpty(env.AWS_REGION);
  if (fromEnv) return { region: fromEnv, source: "AWS_REGION" };
  const fromDefault = nonEmpty(env.AWS_DEFAULT_REGION);
  if (fromDefault) return { region: fromDefault, source: "AWS_DEFAULT_REGION" };
  const fromProfile = nonEmpty(profileSettings(env)?.get("region"));
  if (fromProfile) return { region: fromProfile, source: "profile" };
  return undefined;
}

/** AWS_USE_FIPS_ENDPOINT=true asks for `sts-fips.<region>...` (the SDK's variable; config files not read). */
export function useFips(env: Env): boolean {
  return (env.AWS_USE_FIPS_ENDPOINT ?? "").toLowerCase() === "true";
}

/** Environment variables that decide which base credentials the SDK's default chain picks. */
const SOURCE_VARIABLES = [
  "AWS_PROFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_STS",
] as const;

function fileStamp(path: string): string {
  try {
    // throwIfNoEntry: a missing file is common, and building an exception costs more than the stat.
    const s = statSync(path, { throwIfNoEntry: false });
    return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : "-";
  } catch {
    return "-";
  }
}

/**
 * The source identity part of the cache key, computed without the SDK: the variables above (the access key
 * id, never the secret), the identity of the shared config and credentials files (an edit changes the key),
 * the user and the host (an instance profile's role is a property of the machine). See docs/token.md.
 */
export function sourceIdentity(env: Env): string[] {
  const parts = SOURCE_VARIABLES.map((name) => `${name}=${env[name] ?? ""}`);
  parts.push(`config=${configFilePath(env)}@${fileStamp(configFilePath(env))}`);
  parts.push(`credentials=${credentialsFilePath(env)}@${fileStamp(credentialsFilePath(env))}`);
  parts.push(`uid=${typeof process.getuid === "function" ? process.getuid() : ""}`);
  parts.push(`host=${hostname()}`);
  return parts;
}

/** Characters STS accepts in a RoleSessionName, 2 to 64 of them. */
export { SESSION_NAME_PATTERN } from "../domain/names.js";

function sanitizeSessionPart(text: string): string {
  return text.replace(/[^\w+=,.@-]/g, "-");
}

/** The EC2 instance id when cloud-init or the DMI table tells it without a network call. */
export function localInstanceId(): string | undefined {
  for (const file of ["/var/lib/cloud/data/instance-id", "/sys/devices/virtual/dmi/id/board_asset_tag"]) {
    // Off EC2 neither file exists: existsSync answers without the exception a failed open builds (~0.1 ms
    // on every `xeks token --role-arn`, cached or not: the session name is part of the cache key).
    if (!existsSync(file)) continue;
    // Not on EC2, or not readable: undefined (src/files reads regular files only, without blocking).
    const id = readOptionalFile(file, READ_LIMITS.system)?.trim();
    if (id !== undefined && /^i-[0-9a-f]{8,17}$/.test(id)) return id;
  }
  return undefined;
}

function localUser(env: Env): string {
  try {
    return userInfo().username;
  } catch {
    return nonEmpty(env.USER) ?? nonEmpty(env.LOGNAME) ?? `uid${process.getuid?.() ?? ""}`;
  }
}

/**
 * `xeks-<user>@<instance id or short host name>`, cut to STS's 64 characters: CloudTrail then tells an
 * auditor who assumed the access role from where (the plain `EKSGetTokenAuth` of aws-cli does not).
 */
export function defaultSessionName(env: Env): string {
  const where = localInstanceId() ?? hostname().split(".")[0] ?? "host";
  const name = sanitizeSessionPart(`xeks-${localUser(env)}@${where}`).slice(0, 64);
  return name.length >= 2 ? name : "xeks";
}

/** `$XDG_CACHE_HOME/xeks` (when absolute), else `~/.cache/xeks`. */
export function cacheDirectory(env: Env): string {
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return join(xdg && isAbsolute(xdg) ? xdg : join(homeDir(env), ".cache"), "xeks");
}

export { AWS_CONNECT_TIMEOUT_MS, awsTimeoutMs, DEFAULT_AWS_TIMEOUT_MS } from "../aws/sdk.js";
