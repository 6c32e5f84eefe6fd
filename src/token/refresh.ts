/**
 * The miss path of `xeks token`: src/token/plugin.ts reads the cache and returns a usable token; when there is
 * none it imports this module, which waits for or takes the refresh lock (src/token/lock.ts), gets the signing
 * credentials (cached assumed-role credentials, else the SDK's chain and sts:AssumeRole through
 * src/token/credentials.ts), signs (src/token/generate.ts) and writes the cache. In the token bundle this is
 * dist/token-refresh.cjs (scripts/bundle-token.mjs): a cached token never loads it.
 */
import { redact, rememberCredentials, rememberSecret } from "../aws/redact.js";
import { awsTimeoutMs } from "../aws/sdk.js";
import { InputError, OperationError } from "../errors.js";
import {
  type CachedToken,
  type CacheEntry,
  type TokenCache,
  usableCredentials,
  usableToken,
} from "./cache.js";
import type { Env } from "./environment.js";
import { renderExecCredential } from "./exec-credential.js";
import { formatTimestamp } from "./format.js";
import type { SigningCredentials } from "./generate.js";
import { acquireRefreshLock, lockPathFor, type RefreshLock, type RefreshLockOutcome } from "./lock.js";
import type { TokenRequest, TokenResult, TokenSource } from "./plugin.js";

/** What src/token/plugin.ts learnt before the miss: the checked request, its cache key and entry. */
export interface RefreshContext {
  req: TokenRequest;
  env: Env;
  now: () => Date;
  region: string;
  /** The cluster name, or the Outposts cluster id: what is signed as x-k8s-aws-id. */
  clusterId: string;
  /** The role session name (with --role-arn only). */
  sessionName: string | undefined;
  fips: boolean;
  apiVersion: string;
  /** Shared with the caller: one-line warnings and XEKS_DEBUG notes, appended to. */
  warnings: string[];
  notes: string[];
  /** The cache (undefined with --no-cache), the key and the entry read for it (maybe unusable or absent). */
  cache: TokenCache | undefined;
  key: string;
  entry: CacheEntry | undefined;
  /** The result for a token found in the cache (after waiting for another process's refresh). */
  fromCache: (hit: CachedToken) => TokenResult;
}

/**
 * Make, cache and return a new token for a request the cache could not answer. Errors are InputError (exit 2:
 * a malformed XEKS_AWS_TIMEOUT_MS) or OperationError (exit 1), their messages redacted.
 */
export async function refreshToken(ctx: RefreshContext): Promise<TokenResult> {
  const { req, env, now, region, clusterId, sessionName, fips, apiVersion, warnings, notes, cache, key } =
    ctx;
  let entry = ctx.entry;
  const fromCache = ctx.fromCache;
  // Single flight: on a miss that needs the credential chain or STS, one process refreshes and the others
  // wait for its entry (bounded by one AWS request's timeout), so a burst of kubectl calls makes one
  // sts:AssumeRole, not one each. Not when the entry's path is not a regular file (never cached then).
  let lock: RefreshLock | undefined;
  if (cache && !cache.blocked && !(req.roleArn && usableCredentials(entry, now()))) {
    const waitMs = awsTimeoutMs(env);
    const tokenCache = cache;
    let fresh: CacheEntry | undefined;
    const ready = (): boolean => {
      fresh = tokenCache.read(key);
      return !!usableToken(fresh, now()) || !!(req.roleArn && usableCredentials(fresh, now()));
    };
    let got: RefreshLockOutcome;
    try {
      tokenCache.prepareDirectory();
      got = await acquireRefreshLock(lockPathFor(tokenCache.pathFor(key)), { waitMs, ready });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message;
      got = { outcome: "unlocked", why: `no cache directory (${why})`, waitedMs: 0 };
    }
    if (got.outcome === "acquired") lock = got.lock;
    else if (got.outcome === "unlocked") notes.push(`refreshing without the lock: ${got.why}`);
    if (got.outcome === "ready") {
      notes.push(`waited ${got.waitedMs} ms for another xeks token to refresh the entry`);
      entry = fresh;
      const hit = usableToken(entry, now());
      if (hit) return fromCache(hit);
    }
  }

  // Known secrets are cut out of any error message: the environment's (`env` may not be process.env), then
  // each one met on the way (also remembered process-wide, for the CLI's stderr: src/aws/redact.ts).
  const secrets: (string | undefined)[] = [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN];
  try {
    let source: TokenSource;
    let credentials: SigningCredentials;
    const cached = req.roleArn ? usableCredentials(entry, now()) : undefined;
    if (cached) {
      source = "cached-credentials";
      credentials = { ...cached, expiration: new Date(cached.expiration) };
    } else {
      const timeoutMs = awsTimeoutMs(env);
      const creds = await import("./credentials.js");
      if (req.roleArn) {
        source = "assume-role";
        const assumed = await creds.assumeRole({
          roleArn: req.roleArn,
          sessionName: sessionName as string,
          ...(req.externalId ? { externalId: req.externalId } : {}),
          region,
          timeoutMs,
        });
        credentials = assumed;
      } else {
        source = "base-credentials";
        credentials = await creds.resolveBaseCredentials({ region, timeoutMs });
      }
    }
    rememberCredentials(credentials);
    const { generateToken } = await import("./generate.js");
    const generated = await generateToken({ credentials, region, clusterId, now: now(), fips });
    rememberSecret(generated.token);
    const expirationTimestamp = formatTimestamp(generated.expiration);

    if (cache) {
      const next: CacheEntry = {
        version: 1,
        key,
        token: { token: generated.token, expirationTimestamp, signedAt: generated.signedAt.toISOString() },
      };
      // Only assumed-role credentials are cached: never the base credentials (long-term keys, SSO, IMDS).
      if (req.roleArn && credentials.sessionToken && credentials.expiration) {
        next.credentials = {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          expiration: credentials.expiration.toISOString(),
        };
      }
      try {
        cache.write(next);
        cache.prune(now());
      } catch (err) {
        const code = (err as NodeJS.ErrnoException)?.code;
        warnings.push(
          `warning: cannot write the token cache in ${cache.dir} (${code ?? (err as Error)?.message ?? "error"}); continuing without it`,
        );
      }
    }
    return {
      output: renderExecCredential(apiVersion, generated.token, expirationTimestamp),
      apiVersion,
      token: generated.token,
      expirationTimestamp,
      source,
      region,
      warnings,
      notes,
    };
  } catch (err) {
    if (err instanceof InputError) throw err;
    if (err instanceof OperationError) {
      throw new OperationError(
        redact(err.message, secrets),
        err.hint ? redact(err.hint, secrets) : undefined,
      );
    }
    throw new OperationError(
      redact(`could not create a token: ${(err as Error)?.message ?? String(err)}`, secrets),
    );
  } finally {
    lock?.release(); // after the write: the waiters read the entry once the lock is gone
  }
}
