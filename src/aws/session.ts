/**
 * AWS access for the live source (doctor's model, src/model/live/load.ts, and discover): one session per (credentials, account, region), its SDK v3 clients, a
 * read-only guard, a shared limit on calls in flight, retries with backoff, and a count of the calls made.
 *
 * Every client gets the same middleware: it refuses any operation that is not Describe*, Get* or List* (doctor
 * and discover are read-only by construction, not by care), waits for a slot of the shared limiter, and counts
 * the call. Retries (throttling, 5xx) are the SDK's adaptive retry strategy, inside the slot.
 */

import { EC2Client } from "@aws-sdk/client-ec2";
import { EKSClient } from "@aws-sdk/client-eks";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentityProvider, MetadataBearer, MiddlewareStack } from "@smithy/types";
import { InputError, OperationError } from "../errors.js";
import { classifyAwsError, credentialsNotLoaded } from "./errors.js";
import { classify } from "./read-errors.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { getCallerIdentity } from "./sts.js";
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
  region: string;
  iam: IAMClient;
  ec2: EC2Client;
  sts: STSClient;
  /** Created on first use: only the cluster account needs it. */
  eks(): EKSClient;
}

type AnyClient = IAMClient | EC2Client | STSClient | EKSClient;

/** Shared by every session of one run. */
export class AwsContext {
  readonly limiter: Limiter;
  readonly stats = new CallStats();
  readonly maxAttempts: number;
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  private readonly sessions = new Map<string, Session>();
  private readonly clients: AnyClient[] = [];

  constructor(options: SessionOptions = {}) {
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.maxAttempts = options.maxAttempts ?? SDK_MAX_ATTEMPTS;
  }

  private credentials(source: CredentialSource, region: string): AwsCredentialIdentityProvider {
    const key = source.profile ?? "";
    let provider = this.providers.get(key);
    if (!provider) {
      // Quiet, bounded, and remembered for redaction with the secrets of its source (src/aws/credentials.ts).
      provider = watchedCredentialProvider(source.profile, region);
      this.providers.set(key, provider);
    }
    return provider;
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
    const key = `${source.profile ?? ""}|${region}`;
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
    const session: Session = {
      source,
      region,
      iam: this.client(() => new IAMClient(config), "iam"),
      ec2: this.client(() => new EC2Client(config), "ec2"),
      sts: this.client(() => new STSClient(config), "sts"),
      eks: () => {
        eks ??= this.client(() => new EKSClient(config), "eks");
        return eks;
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
    const c = classify(err, "sts:GetCallerIdentity");
    const profile = session.source.profile;
    if (profile && credentialsNotLoaded(classifyAwsError(err))) {
      // A named profile that yields no credentials is a bad flag value.
      throw new InputError(`profile ${profile} gives no credentials for ${session.source.label}`, [
        {
          path: session.source.flag.split(" ")[0] ?? session.source.flag,
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
        : `give ${session.source.label} working credentials with ${session.source.flag}`,
    );
  }
}
