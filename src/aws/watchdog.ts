/**
 * The per-command bound on waiting for AWS: "no answer from an AWS endpoint for B ms ends the command".
 *
 * Why: each SDK request gives up after XEKS_AWS_TIMEOUT_MS (src/aws/sdk.ts), but clients retry, and not all of
 * them are xeks's. toolkit-lib's CloudFormation client makes 7 attempts with a back-off of up to 15 s between
 * them (@aws-cdk/toolkit-lib `SDK.cloudFormation()`), its stack monitor keeps polling while its stack wait
 * fails, and then reads the events once more; deploy then reads them itself. Against an endpoint that accepts
 * connections and never answers, one stack cost 271 s at the default timeout (measured: docs/security.md,
 * "Wait bounds"). A watchdog sees every attempt of every client and ends the command instead.
 *
 * How: while a command runs inside `AwsWatchdog.run`, the HTTP agents of `watchedAgents()` (put into every SDK
 * client's request handler: xeks's, the credential chain's and toolkit-lib's) report each attempt to the
 * watchdog of the current async context (AsyncLocalStorage): when it started, which endpoint (scheme, host,
 * port), service (the SigV4 credential scope) and operation, and whether a whole HTTP response came back: its
 * headers and its body to the end (any status is an answer; headers followed by a body that trickles in are
 * not). Per endpoint, the silence is the time since the oldest attempt that has had no answer since that
 * endpoint last answered. When it passes `boundMs`:
 * - `giveUp: "command"` (deploy, diff, destroy, discover): `run` rejects with `AwsSilenceError`, the attempts
 *   still in flight are destroyed and later ones fail at once (the abandoned work winds down instead of
 *   retrying);
 * - `giveUp: "endpoint"` (doctor): that endpoint alone is given up for the rest of the run: its attempts in
 *   flight are destroyed with an `AwsSilenceError`, and every later attempt to it fails at once with it, so the
 *   reads it still owes end at once (doctor marks them unread) and `run` goes on; `stopped()` names it.
 * No SDK import: node's http/https agents only (src/aws/sdk.ts loads its handler on first use).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type ClientRequest, Agent as HttpAgent, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { OperationError } from "../errors.js";
import { credentialProvider } from "./credentials.js";
import { awsTimeoutMs, type BoundedRequestHandler, boundedRequestHandler, SDK_MAX_ATTEMPTS } from "./sdk.js";

/** Attempts the bound allows for: the SDK's default (3), which deploy's own clients keep. */
export const BOUND_ATTEMPTS = 3;
/** Back-off allowed between those attempts (toolkit-lib's CloudFormation client waits up to 1 s, then 2 s). */
export const BOUND_BACKOFF_MS = 3_000;
/**
 * An endpoint whose last attempt got no answer is still waited on for this long (the longest back-off between
 * two attempts of any client xeks uses: toolkit-lib's CloudFormation client, 15 s); after that, with nothing
 * in flight to it, nobody is waiting on it and its silence no longer counts.
 */
export const RETRY_GAP_MS = 15_000;

/**
 * B, the longest a command waits on an endpoint that does not answer, retries included:
 * `BOUND_ATTEMPTS × timeoutMs + BOUND_BACKOFF_MS` (3 × XEKS_AWS_TIMEOUT_MS + 3 s: 33 s by default).
 */
export function silenceBoundMs(timeoutMs: number): number {
  return BOUND_ATTEMPTS * timeoutMs + BOUND_BACKOFF_MS;
}

/** An endpoint that stopped answering, as the watchdog saw it. */
export interface SilentEndpoint {
  /** `https://cloudformation.ap-south-1.amazonaws.com` (scheme, host and port the SDK connected to). */
  endpoint: string;
  /** The service of the oldest unanswered attempt, from its SigV4 credential scope (`cloudformation`, `sts`). */
  service?: string;
  /** Its operation (`DescribeStacks`), from `Action=`, `X-Amz-Target` or, for REST APIs, `METHOD /path`. */
  operation?: string;
  /** How long the endpoint had been silent, in ms. */
  silentMs: number;
  /** Attempts sent to it since it last answered. */
  attempts: number;
}

/** "cloudformation:DescribeStacks at https://…" */
export function describeSilentEndpoint(s: SilentEndpoint): string {
  const what = s.service ? `${s.service}${s.operation ? `:${s.operation}` : ""} at ` : "";
  return `${what}${s.endpoint}`;
}

/** "did not answer for 34 s (6 attempts)" */
export function describeSilence(s: SilentEndpoint): string {
  const secs = Math.max(1, Math.round(s.silentMs / 1000));
  return `did not answer for ${secs} s (${s.attempts} attempt${s.attempts === 1 ? "" : "s"})`;
}

/** The command ended because an AWS endpoint gave no answer for `boundMs` (exit 1). */
export class AwsSilenceError extends OperationError {
  constructor(
    readonly silent: SilentEndpoint,
    readonly boundMs: number,
  ) {
    super(
      `no answer from AWS: ${describeSilentEndpoint(silent)} ${describeSilence(silent)}`,
      "check the network path to the AWS endpoints (proxy, firewall, AWS_ENDPOINT_URL), then run again",
    );
  }
}

interface Attempt {
  started: number;
  /** Filled in as the request is written (the operation of query protocols is in the body). */
  info: { service?: string; operation?: string };
  req: ClientRequest;
}

interface EndpointState {
  /** Attempts in flight. */
  pending: Set<Attempt>;
  /** The oldest attempt that ended without an answer since the last answer. */
  unanswered?: Attempt;
  /** When the latest attempt without an answer ended. */
  lastFailure: number;
  /** When the endpoint last answered (an attempt in flight since before then counts from then). */
  lastAnswer: number;
  /** Attempts since the last answer. */
  since: number;
  /** Set when the endpoint was given up (`giveUp: "endpoint"`): every later attempt fails with it. */
  stopped?: AwsSilenceError;
}

/** What happens when an endpoint has been silent for the bound (see the module comment). */
export type GiveUp = "command" | "endpoint";

const current = new AsyncLocalStorage<AwsWatchdog>();

/**
 * Watches the AWS attempts made inside `run` and, when one endpoint stays silent for `boundMs`, ends the command
 * (`giveUp: "command"`, the default) or gives that endpoint up (`giveUp: "endpoint"`). One per command run;
 * `now` and `checkEveryMs` are test seams.
 */
export class AwsWatchdog {
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly given: SilentEndpoint[] = [];
  private fired?: AwsSilenceError;
  private timer?: NodeJS.Timeout;
  private onFire?: (err: AwsSilenceError) => void;

  constructor(
    readonly boundMs: number,
    private readonly options: { checkEveryMs?: number; now?: () => number; giveUp?: GiveUp } = {},
  ) {}

  /** The endpoints given up so far (`giveUp: "endpoint"`), in order, as they were when given up. */
  stopped(): SilentEndpoint[] {
    return [...this.given];
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** How long `endpoint` has been silent (an unanswered attempt since its last answer), if it is waited on. */
  private silenceOf(endpoint: string, st: EndpointState, now: number): SilentEndpoint | undefined {
    if (st.stopped) return undefined;
    const waitedOn = st.pending.size > 0 || (st.unanswered && now - st.lastFailure < RETRY_GAP_MS);
    if (!waitedOn) return undefined;
    let oldest = st.unanswered;
    for (const a of st.pending) if (!oldest || a.started < oldest.started) oldest = a;
    if (!oldest) return undefined;
    return {
      endpoint,
      ...(oldest.info.service ? { service: oldest.info.service } : {}),
      ...(oldest.info.operation ? { operation: oldest.info.operation } : {}),
      silentMs: now - Math.max(oldest.started, st.lastAnswer),
      attempts: st.since,
    };
  }

  /** The endpoint silent for longest right now (an unanswered attempt since its last answer), if any. */
  silent(): SilentEndpoint | undefined {
    const now = this.now();
    let worst: SilentEndpoint | undefined;
    for (const [endpoint, st] of this.endpoints) {
      const s = this.silenceOf(endpoint, st, now);
      if (s && (!worst || s.silentMs > worst.silentMs)) worst = s;
    }
    return worst;
  }

  /** Check now (the timer calls this). */
  check(): void {
    if (this.fired) return;
    if (this.options.giveUp === "endpoint") {
      const now = this.now();
      for (const [endpoint, st] of this.endpoints) {
        const s = this.silenceOf(endpoint, st, now);
        if (!s || s.silentMs < this.boundMs) continue;
        const err = new AwsSilenceError(s, this.boundMs);
        st.stopped = err;
        this.given.push(s);
        for (const a of st.pending) a.req.destroy(err);
        st.pending.clear();
      }
      return;
    }
    const s = this.silent();
    if (!s || s.silentMs < this.boundMs) return;
    this.fired = new AwsSilenceError(s, this.boundMs);
    for (const st of this.endpoints.values()) for (const a of st.pending) a.req.destroy(this.fired);
    this.onFire?.(this.fired);
  }

  /** Called by the watched agents for each attempt. */
  attempt(req: ClientRequest, endpoint: string, info: { service?: string; operation?: string }): void {
    if (this.fired) {
      const err = this.fired;
      process.nextTick(() => req.destroy(err));
      return;
    }
    let st = this.endpoints.get(endpoint);
    if (!st) {
      st = { pending: new Set(), since: 0, lastFailure: 0, lastAnswer: 0 };
      this.endpoints.set(endpoint, st);
    }
    const state = st;
    if (state.stopped) {
      const err = state.stopped;
      process.nextTick(() => req.destroy(err));
      return;
    }
    const a: Attempt = { started: this.now(), req, info };
    if (state.pending.size === 0 && state.unanswered && a.started - state.lastFailure >= RETRY_GAP_MS) {
      // Nobody waited on it in between: a new wait, a new clock.
      state.unanswered = undefined;
      state.since = 0;
    }
    state.pending.add(a);
    state.since++;
    let answered = false;
    const answer = () => {
      answered = true;
      state.lastAnswer = this.now();
      state.pending.delete(a);
      state.unanswered = undefined;
      state.since = 0;
    };
    // An answer is the whole response: its headers, then its body to the end (read by the SDK's handler).
    req.once("response", (res?: IncomingMessage) => {
      if (res && typeof res.once === "function" && !res.complete) res.once("end", answer);
      else answer();
    });
    req.once("close", () => {
      if (answered || !state.pending.delete(a)) return;
      state.lastFailure = this.now();
      if (!state.unanswered || a.started < state.unanswered.started) state.unanswered = a;
    });
  }

  /**
   * Run `work` with its AWS attempts watched. Resolves or rejects as `work` does, unless an endpoint stays
   * silent for `boundMs` first: then rejects with AwsSilenceError (and `work` is abandoned; its later
   * rejection is ignored).
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const silence = new Promise<never>((_, reject) => {
      this.onFire = reject;
    });
    const every = this.options.checkEveryMs ?? Math.max(50, Math.min(1_000, Math.floor(this.boundMs / 10)));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
    const task = current.run(this, work);
    task.catch(() => {});
    try {
      return await Promise.race([task, silence]);
    } finally {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The watchdog of the current async context (inside `AwsWatchdog.run`), if any. */
export function currentWatchdog(): AwsWatchdog | undefined {
  return current.getStore();
}

function header(req: ClientRequest, name: string): string {
  const v = req.getHeader(name);
  return Array.isArray(v) ? v.join(",") : v === undefined ? "" : String(v);
}

function report(req: ClientRequest, options: { host?: string | null; port?: unknown }, scheme: string): void {
  const dog = current.getStore();
  if (!dog) return;
  const host = options.host ?? "localhost";
  const port =
    options.port !== undefined && options.port !== null && options.port !== "" ? `:${options.port}` : "";
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header(req, "authorization"));
  const target = header(req, "x-amz-target");
  const info: { service?: string; operation?: string } = {};
  if (scope?.[1]) info.service = scope[1];
  if (target) info.operation = target.split(".").pop() ?? target;
  else if (req.method !== "POST") info.operation = `${req.method} ${req.path.split("?")[0]}`;
  else {
    // Query protocols (STS, EC2, CloudFormation, IAM) name the action in the body, written after this.
    const end = req.end.bind(req) as (...args: unknown[]) => ClientRequest;
    (req as unknown as { end: (...args: unknown[]) => ClientRequest }).end = (...args: unknown[]) => {
      const body = args[0];
      const text =
        typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8", 0, 200) : "";
      const action = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(text)?.[1];
      if (action) info.operation = action;
      return end(...args);
    };
  }
  dog.attempt(req, `${scheme}//${host}${port}`, info);
}

type AddRequest = (
  req: ClientRequest,
  options: { host?: string | null; port?: unknown },
  ...rest: unknown[]
) => void;

class WatchedHttpAgent extends HttpAgent {
  constructor() {
    super({ keepAlive: true, maxSockets: 50 });
    const add = (this as unknown as { addRequest: AddRequest }).addRequest.bind(this);
    (this as unknown as { addRequest: AddRequest }).addRequest = (req, options, ...rest) => {
      report(req, options, "http:");
      add(req, options, ...rest);
    };
  }
}

class WatchedHttpsAgent extends HttpsAgent {
  constructor() {
    super({ keepAlive: true, maxSockets: 50 });
    const add = (this as unknown as { addRequest: AddRequest }).addRequest.bind(this);
    (this as unknown as { addRequest: AddRequest }).addRequest = (req, options, ...rest) => {
      report(req, options, "https:");
      add(req, options, ...rest);
    };
  }
}

/**
 * HTTP agents for an SDK client's request handler (`httpAgent`, `httpsAgent`) that report every attempt to the
 * watchdog of the current command, if any (outside `AwsWatchdog.run` they are plain keep-alive agents, with the
 * SDK's own defaults: keep-alive, 50 sockets). A fresh pair per client configuration: a client's `destroy()`
 * destroys its agents.
 */
export function watchedAgents(): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } {
  return { httpAgent: new WatchedHttpAgent(), httpsAgent: new WatchedHttpsAgent() };
}

/**
 * The request handler of the SDK clients of a watched command (deploy, diff, destroy, doctor, discover; the
 * credential chain's own clients and toolkit-lib's too): `boundedRequestHandler` (src/aws/sdk.ts: each attempt
 * ends within XEKS_AWS_TIMEOUT_MS, a bad value is exit 2) over `watchedAgents()`. A new handler per call.
 */
export function watchedRequestHandler(env: NodeJS.ProcessEnv = process.env): BoundedRequestHandler {
  return boundedRequestHandler(awsTimeoutMs(env), watchedAgents());
}

/**
 * The credential provider of a watched command for `profile` (undefined: the default chain), in `region`:
 * src/aws/credentials.ts `credentialProvider` (quiet, memoized, remembered for redaction with the secrets of its
 * source), its own STS/SSO clients on `watchedRequestHandler()` with SDK_MAX_ATTEMPTS (3) attempts per call.
 * deploy's credential sets and doctor's and discover's sessions use it, so both get credentials the same way.
 */
export function watchedCredentialProvider(
  profile: string | undefined,
  region: string,
): AwsCredentialIdentityProvider {
  return credentialProvider({
    profile,
    region,
    requestHandler: watchedRequestHandler(),
    maxAttempts: SDK_MAX_ATTEMPTS,
  });
}
