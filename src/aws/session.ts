/**
 * AWS access for the live source (doctor's model, src/model/live/load.ts, and discover): one session per (credentials, account, region), its SDK v3 clients, a
 * read-only guard, a shared limit on calls in flight, retries with backoff, and a count of the calls made.
 *
 * Every client gets the same middleware: it refuses any operation that is not Describe*, Get* or List* (doctor
 * and discover are read-only by construction, not by care), waits for a slot of the shared limiter, and counts
 * the call. Retries (throttling, 5xx) are the SDK's adaptive retry strategy, inside the slot.
 */

import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { EC2Client } from "@aws-sdk/client-ec2";
import { EKSClient } from "@aws-sdk/client-eks";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider, MetadataBearer, MiddlewareStack } from "@smithy/types";
import { InputError, OperationError } from "../errors.js";
import { AssumeRoleRefusedError, assumedRoleProvider, roleArnInAccount } from "./assume-role-name.js";
import { memoizeProvider } from "./credentials.js";
import { classifyAwsError, credentialsNotLoaded } from "./errors.js";
import { classify } from "./read-errors.js";
import { rememberingProvider } from "./redact.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { getCallerIdentity, type StsSender, stsClient } from "./sts.js";
import { watchedCredentialProvider, watchedRequestHandler } from "./watchdog.js";

/** Operations a read-only caller may make. */
export const READ_ONLY_OPERATION = /^(Describe|Get|List)[A-Z]/;

/** At most `limit` calls in flight; the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be >= 1, got ${limit}`);
  }
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** Calls made, by `service:Operation`. */
export class CallStats {
  calls = 0;
  readonly byAction: Record<string, number> = {};
  /** Most calls in flight at once (to show the limiter at work). */
  peak = 0;
  private inFlight = 0;
  record(action: string): void {
    this.calls++;
    this.byAction[action] = (this.byAction[action] ?? 0) + 1;
  }
  enter(): void {
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }
  leave(): void {
    this.inFlight--;
  }
}

export interface SessionOptions {
  /** Calls in flight across all accounts. Default 8. */
  concurrency?: number;
  /**
   * Attempts per call, retries included (throttling, 5xx, network). Default SDK_MAX_ATTEMPTS (3, the SDK's
   * default, set explicitly: src/aws/sdk.ts), so that one call waits at most 3 × XEKS_AWS_TIMEOUT_MS plus the
   * back-off, within the watchdog's bound (docs/security.md, "Wait bounds").
   */
  maxAttempts?: number;
  /**
   * `--profile`: the base session, for every source without a profile of its own. @default the ambient
   * credentials
   */
  baseProfile?: string;
  /**
   * `--assume-role-name NAME`: a source without a profile of its own assumes `arn:PARTITION:iam::ACCOUNT:role/NAME`
   * with the base session, ACCOUNT being `accountOf(source)` (src/aws/assume-role-name.ts). A source whose
   * account is not known uses the base session itself.
   */
  assumeRoleName?: string;
  /** The account a source acts for (the topology's); used with `assumeRoleName`. */
  accountOf?: (source: CredentialSource) => string | undefined;
}

export interface CredentialSource {
  /** A named profile of the shared AWS config, or undefined for the ambient credentials. */
  profile?: string;
  /** What the credentials are for, in messages: "the cluster account", "client ops". */
  label: string;
  /** The flag that sets them, for messages: "--cluster-profile", "--client-profile ops=PROFILE". */
  flag: string;
}

/** One set of credentials in one region, with its clients. */
export interface Session {
  source: CredentialSource;
  /**
   * Which credentials the session signs with: the profile (or "" for the ambient ones), and with
   * `assumeRoleName` the role assumed. Sessions with the same key are the same identity.
   */
  credentialsKey: string;
  /**
   * The profile the session's credentials (or, with `assumeRoleName`, its base session's) come from: the
   * source's own profile, else the base `--profile`; undefined for the ambient credentials.
   */
  profile?: string;
  region: string;
  iam: IAMClient;
  ec2: EC2Client;
  sts: STSClient;
  /** Created on first use: only the cluster account needs it. */
  eks(): EKSClient;
  /** Created on first use: only StackSet clients' administrator accounts need it (docs/organizations.md). */
  cloudformation?(): CloudFormationClient;
}

type AnyClient = IAMClient | EC2Client | STSClient | EKSClient | CloudFormationClient;

/** Shared by every session of one run. */
export class AwsContext {
  readonly limiter: Limiter;
  readonly stats = new CallStats();
  readonly maxAttempts: number;
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  private readonly sessions = new Map<string, Session>();
  private readonly clients: AnyClient[] = [];

  constructor(private readonly options: SessionOptions = {}) {
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.maxAttempts = options.maxAttempts ?? SDK_MAX_ATTEMPTS;
  }

  /** The role a source assumes with the base session (`assumeRoleName`), or undefined. */
  private roleOf(source: CredentialSource, region: string): string | undefined {
    if (source.profile !== undefined || !this.options.assumeRoleName) return undefined;
    const account = this.options.accountOf?.(source);
    return account ? roleArnInAccount(account, this.options.assumeRoleName, region) : undefined;
  }

  private credentials(source: CredentialSource, region: string): AwsCredentialIdentityProvider {
    const profile = source.profile ?? this.options.baseProfile;
    const key = profile ?? "";
    let provider = this.providers.get(key);
    if (!provider) {
      // Quiet, bounded, and remembered for redaction with the secrets of its source (src/aws/credentials.ts).
      provider = watchedCredentialProvider(profile, region);
      this.providers.set(key, provider);
    }
    const role = this.roleOf(source, region);
    if (!role) return provider;
    let assumed = this.providers.get(`\0role ${role}`);
    if (!assumed) {
      const account = this.options.accountOf?.(source) ?? "";
      assumed = memoizeProvider(
        rememberingProvider(
          assumedRoleProvider(
            provider,
            {
              roleArn: role,
              account,
              region,
              who: source.label,
              base: profile !== undefined ? `profile ${profile}` : "the ambient credentials",
              flag: source.flag,
            },
            (r, credentials) => this.countedSts(r, credentials),
          ),
        ),
      );
      this.providers.set(`\0role ${role}`, assumed);
    }
    return assumed;
  }

  /**
   * The STS client of an assumption (sts:AssumeRole, and sts:GetCallerIdentity when it is refused): configured
   * as src/aws/assume-role-name.ts does, its calls counted in `stats` (not limited, not read-only guarded:
   * AssumeRole is the one write-named call a read needs), closed with the other clients.
   */
  private countedSts(region: string, credentials: AwsCredentialIdentityProvider): StsSender {
    const c = stsClient({
      region,
      credentials,
      logger: silentLogger,
      maxAttempts: this.maxAttempts,
      requestHandler: watchedRequestHandler(),
    });
    const { stats } = this;
    const stack = c.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    stack.add(
      (next, context) => async (args) => {
        stats.record(`sts:${String(context.commandName ?? "").replace(/Command$/, "")}`);
        return next(args);
      },
      { step: "initialize", name: "xeksCallCount", priority: "high" },
    );
    this.clients.push(c);
    return c;
  }

  private guard(client: AnyClient, service: string): void {
    const { limiter, stats } = this;
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    stack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? "").replace(/Command$/, "");
        if (!READ_ONLY_OPERATION.test(operation)) {
          throw new Error(`xeks refused ${service}:${operation}: live reads are read-only`);
        }
        stats.record(`${service}:${operation}`);
        const release = await limiter.acquire();
        stats.enter();
        try {
          return await next(args);
        } finally {
          stats.leave();
          release();
        }
      },
      { step: "initialize", name: "xeksReadOnlyLimiter", priority: "high" },
    );
  }

  private client<C extends AnyClient>(make: () => C, service: string): C {
    const c = make();
    this.guard(c, service);
    this.clients.push(c);
    return c;
  }

  /** The session for these credentials in this region (one per pair). */
  session(source: CredentialSource, region: string): Session {
    const key = `${source.profile ?? ""}|${this.roleOf(source, region) ?? ""}|${region}`;
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const config = {
      region,
      credentials: this.credentials(source, region),
      maxAttempts: this.maxAttempts,
      retryMode: "adaptive",
      logger: silentLogger,
      requestHandler: watchedRequestHandler(),
    };
    let eks: EKSClient | undefined;
    let cloudformation: CloudFormationClient | undefined;
    const role = this.roleOf(source, region);
    const session: Session = {
      source,
      credentialsKey: role ? `role ${role}` : (source.profile ?? this.options.baseProfile ?? ""),
      ...((source.profile ?? this.options.baseProfile) !== undefined
        ? { profile: source.profile ?? this.options.baseProfile }
        : {}),
      region,
      iam: this.client(() => new IAMClient(config), "iam"),
      ec2: this.client(() => new EC2Client(config), "ec2"),
      sts: this.client(() => new STSClient(config), "sts"),
      eks: () => {
        eks ??= this.client(() => new EKSClient(config), "eks");
        return eks;
      },
      cloudformation: () => {
        cloudformation ??= this.client(() => new CloudFormationClient(config), "cloudformation");
        return cloudformation;
      },
    };
    this.sessions.set(key, session);
    return session;
  }

  /** Close every client's connections. */
  destroy(): void {
    for (const c of this.clients) c.destroy();
  }
}

export interface Identity {
  account: string;
  arn: string;
}

/**
 * Who the session's credentials are (sts:GetCallerIdentity). Failing to find credentials at all is an
 * OperationError naming the flag that would supply them.
 */
export async function whoAmI(session: Session): Promise<Identity> {
  try {
    const { account, arn } = await getCallerIdentity(session.sts);
    return { account, arn };
  } catch (err) {
    // --assume-role-name: the refusal names the account, the role and what to check already.
    if (err instanceof AssumeRoleRefusedError) throw err;
    const c = classify(err, "sts:GetCallerIdentity");
    const profile = session.profile;
    if (profile && credentialsNotLoaded(classifyAwsError(err))) {
      // A named profile that yields no credentials is a bad flag value: the source's own flag, or --profile
      // when the profile is the base session's.
      const flag = session.source.profile !== undefined ? session.source.flag : "--profile";
      throw new InputError(`profile ${profile} gives no credentials for ${session.source.label}`, [
        {
          path: flag.split(" ")[0] ?? flag,
          message: `${(err as Error).message}; check that profile ${profile} is in the AWS config or credentials file (and, for SSO, that you are logged in)`,
        },
      ]);
    }
    const which = profile ? `profile ${profile}` : "the ambient credentials";
    // Nothing answered (refused, timed out, no such host) or something that is not AWS answered: the
    // endpoint or the network path is at fault, not the credentials; the classifier's hint says where to look.
    const pathAtFault =
      c.awsKind === "refused" || c.awsKind === "timeout" || c.awsKind === "dns" || c.awsKind === "notAws";
    throw new OperationError(
      pathAtFault
        ? `cannot reach AWS STS for ${session.source.label}: ${c.detail}`
        : `cannot use ${which} for ${session.source.label}: ${c.detail}`,
      pathAtFault && c.hint
        ? c.hint
        : session.credentialsKey.startsWith("role ")
          ? // --assume-role-name: the credentials missing are the base session's, which --profile names.
            `give the base session working credentials with --profile PROFILE (it assumes ${session.credentialsKey.slice("role ".length)}), or give ${session.source.label} its own with ${session.source.flag}`
          : `give ${session.source.label} working credentials with ${session.source.flag}`,
    );
  }
}
