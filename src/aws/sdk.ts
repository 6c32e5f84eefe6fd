/**
 * How every AWS SDK client of xeks is configured, whatever the command: a silent logger (the library never
 * prints, and kubectl shows a plugin's stderr) and one request handler, `boundedRequestHandler`, under which
 * XEKS_AWS_TIMEOUT_MS bounds the whole of each HTTP attempt (connect, send, headers and body), so an endpoint
 * that accepts and never answers, or answers one byte at a time, fails the attempt instead of holding the
 * command. No SDK import at load time: the token fast path loads this module, and the handler loads
 * @smithy/node-http-handler only when the first one is made (a cache miss).
 */
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { HttpHandler, HttpRequest, HttpResponse } from "@smithy/protocol-http";
import type { HttpHandlerOptions } from "@smithy/types";
import { InputError } from "../errors.js";

/** How long one AWS request may take, unless XEKS_AWS_TIMEOUT_MS says otherwise. */
export const DEFAULT_AWS_TIMEOUT_MS = 10_000;
/** How long connecting may take (capped by the request timeout). */
export const AWS_CONNECT_TIMEOUT_MS = 3_000;

/**
 * A logger that drops everything. A plain object on purpose: the credential provider chain treats a logger
 * whose class is `NoOpLogger` as absent and warns through `console.warn` instead.
 */
export const silentLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * The per-request timeout: XEKS_AWS_TIMEOUT_MS (a whole number of milliseconds, 100-600000), else 10 s.
 * A bad value is the user's input (exit 2).
 */
export function awsTimeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.XEKS_AWS_TIMEOUT_MS?.trim();
  if (raw === undefined || raw === "") return DEFAULT_AWS_TIMEOUT_MS;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 100 && n <= 600_000)) {
    throw new InputError(`invalid XEKS_AWS_TIMEOUT_MS ${JSON.stringify(raw)}`, [
      {
        path: "XEKS_AWS_TIMEOUT_MS",
        message: `expected a whole number of milliseconds from 100 to 600000 (default ${DEFAULT_AWS_TIMEOUT_MS}), or unset`,
      },
    ]);
  }
  return n;
}

/**
 * The options of the @smithy/node-http-handler `NodeHttpHandler` inside `boundedRequestHandler`: connecting
 * may take min(3 s, `timeoutMs`), and `requestTimeout` is a timer from the start of the attempt to the
 * response's headers (@smithy/node-http-handler 4.x `setRequestTimeout`; the body is not covered, hence the
 * wrapper). `throwOnRequestTimeout`: without it, that timer only logs a warning (through console) and the
 * request goes on waiting. Not for a client's `requestHandler` by itself: give clients `boundedRequestHandler`.
 */
export function requestHandlerOptions(timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS) {
  return {
    connectionTimeout: Math.min(AWS_CONNECT_TIMEOUT_MS, timeoutMs),
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
    logger: silentLogger,
  };
}

/**
 * Attempts per AWS call (the first try and its retries) of xeks's clients that set no count of their own: the
 * SDK's default, 3, set explicitly so that AWS_MAX_ATTEMPTS or a profile's `max_attempts` cannot raise it.
 * One call then waits at most 3 × XEKS_AWS_TIMEOUT_MS plus the SDK's back-off between attempts.
 */
export const SDK_MAX_ATTEMPTS = 3;

/**
 * The largest answer xeks reads from AWS: 10 MiB. The answers of the APIs xeks calls (STS, IAM, EC2, EKS,
 * CloudFormation, SSO) are a few KB; the largest, CloudFormation's GetTemplate, stays under about 1 MiB
 * (the template size limit). A larger body fails the attempt (`ResponseTooLarge`, not retried).
 */
export const MAX_AWS_RESPONSE_BYTES = 10 * 1024 * 1024;

/** HTTP agents for the handler (e.g. src/aws/watchdog.ts `watchedAgents()`); default: its own keep-alive ones. */
export interface HandlerAgents {
  httpAgent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

/**
 * A client's request handler whose attempts are bounded as a whole: see `boundedRequestHandler`. The shape of
 * smithy's `HttpHandler`, as a type alias so that it also fits a `Record<string, unknown>` option.
 */
export type BoundedRequestHandler = {
  readonly metadata: { handlerProtocol: string };
  /** XEKS_AWS_TIMEOUT_MS as given: the limit on one attempt, in ms. */
  readonly timeoutMs: number;
  handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): object;
  destroy(): void;
};

type Modules = {
  NodeHttpHandler: new (options: object) => HttpHandler;
  Readable: typeof Readable;
};
let modules: Modules | undefined;

/** @smithy/node-http-handler and node:stream, loaded on the first handler (never on the token's warm path). */
function load(): Modules {
  if (!modules) {
    const require = createRequire(import.meta.url);
    modules = {
      NodeHttpHandler: (
        require("@smithy/node-http-handler") as { NodeHttpHandler: Modules["NodeHttpHandler"] }
      ).NodeHttpHandler,
      Readable: (require("node:stream") as typeof import("node:stream")).Readable,
    };
  }
  return modules;
}

/**
 * The net under @smithy/node-http-handler's own timers up to the headers (they fire at the attempt's
 * timeout; this one only if they did not).
 */
const HEADERS_NET_MS = 1_000;

/** The attempt ran out of its time (name and code as @smithy/node-http-handler's own timeouts: retried). */
function attemptTimeout(timeoutMs: number, phase: string): Error {
  return Object.assign(new Error(`a request has exceeded the configured ${timeoutMs} ms ${phase}`), {
    name: "TimeoutError",
    code: "ETIMEDOUT",
  });
}

/** The caller's abortSignal fired (as @smithy/node-http-handler reports it: never retried). */
function abortError(signal: CallerSignal | undefined): Error {
  const reason = signal?.reason;
  const err = new Error(reason instanceof Error ? reason.message : "Request aborted");
  err.name = "AbortError";
  return err;
}

/** What `handle` is given as a signal: a standard AbortSignal, or smithy's older `onabort` shape. */
type CallerSignal = {
  aborted: boolean;
  reason?: unknown;
  addEventListener?: (type: "abort", fn: () => void, opts?: { once: boolean }) => void;
  removeEventListener?: (type: "abort", fn: () => void) => void;
  onabort?: unknown;
};

/**
 * Read a response body to its end, at most `maxBytes`. Rejects with `fail()`'s error when `until` settles
 * first (the stream is destroyed, which closes its socket), and when the stream errors or closes early.
 */
function readBody(stream: Readable, maxBytes: number, until: Promise<never>): Promise<Buffer> {
  const body = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    stream.on("data", (chunk: Buffer | string) => {
      const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > maxBytes) {
        const err = new Error(
          `the answer exceeded ${maxBytes} bytes (${maxBytes / 1024 / 1024} MiB), the most xeks reads from AWS`,
        );
        err.name = "ResponseTooLarge";
        stream.destroy();
        reject(err);
        return;
      }
      chunks.push(b);
    });
    stream.once("end", () => {
      ended = true;
      resolve(Buffer.concat(chunks, size));
    });
    // A request destroyed with an error (the deadline, the watchdog) fails its body with "aborted": say why.
    const why = (err: unknown): unknown => (stream as { req?: { errored?: unknown } }).req?.errored ?? err;
    stream.once("error", (err) => reject(why(err)));
    stream.once("close", () => {
      if (!ended)
        reject(
          why(
            Object.assign(new Error("the connection closed before the answer ended"), { code: "ECONNRESET" }),
          ),
        );
    });
  });
  return Promise.race([body, until]).catch((err: unknown) => {
    stream.destroy();
    throw err;
  });
}

class DeadlineHandler {
  readonly metadata: { handlerProtocol: string };
  constructor(
    private readonly inner: HttpHandler,
    readonly timeoutMs: number,
    private readonly maxBytes: number,
  ) {
    this.metadata = inner.metadata ?? { handlerProtocol: "http/1.1" };
  }

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const { Readable } = load();
    const caller = options.abortSignal as CallerSignal | undefined;
    if (caller?.aborted) throw abortError(caller);
    const controller = new AbortController();
    let fail: (err: Error) => void = () => {};
    // Settles only by rejecting: the deadline, or the caller's abort.
    const until = new Promise<never>((_, reject) => {
      fail = reject;
    });
    until.catch(() => {});
    const onAbort = () => {
      fail(abortError(caller));
      controller.abort();
    };
    if (typeof caller?.addEventListener === "function")
      caller.addEventListener("abort", onAbort, { once: true });
    else if (caller) caller.onabort = onAbort;
    const started = Date.now();
    const deadline = (ms: number, phase: string) =>
      setTimeout(() => {
        fail(attemptTimeout(this.timeoutMs, phase));
        controller.abort();
      }, ms);
    // Up to the headers, the inner handler's own timers (connect: min(3 s, T); request: T, both from the start)
    // end the attempt, with their precise message; this timer is only the net under them.
    let timer = deadline(this.timeoutMs + HEADERS_NET_MS, "before its answer began");
    try {
      const out = await Promise.race([
        this.inner.handle(request, {
          ...options,
          abortSignal: controller.signal as HttpHandlerOptions["abortSignal"],
        }),
        until,
      ]);
      clearTimeout(timer);
      const body = out.response.body as Readable | undefined;
      if (body && typeof body.on === "function" && typeof body.pipe === "function") {
        // The body: whatever is left of the attempt's time.
        timer = deadline(
          Math.max(0, started + this.timeoutMs - Date.now()),
          "while its answer was still arriving",
        );
        const bytes = await readBody(body, this.maxBytes, until);
        out.response.body = Readable.from([bytes], { objectMode: false });
      }
      return out;
    } finally {
      clearTimeout(timer);
      if (typeof caller?.removeEventListener === "function") caller.removeEventListener("abort", onAbort);
      else if (caller && caller.onabort === onAbort) caller.onabort = null;
    }
  }

  updateHttpClientConfig(key: never, value: never): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): object {
    return this.inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.inner.destroy?.();
  }
}

/**
 * The request handler of every SDK client xeks makes: its own, the credential chain's STS, SSO and SSO-OIDC
 * clients (through `clientConfig`), and toolkit-lib's (src/deploy/toolkit.ts). A @smithy/node-http-handler
 * `NodeHttpHandler` (options: `requestHandlerOptions`) wrapped so that each attempt ends within `timeoutMs`
 * (XEKS_AWS_TIMEOUT_MS), whatever the endpoint does: the deadline covers connecting, sending, the headers and
 * the body. The SDK reads a response's body only after `handle` resolves (the deserializer's stream collector,
 * with no timer), so the body is read here, within the same deadline, and handed on as a buffer; at most
 * `maxBytes` (default MAX_AWS_RESPONSE_BYTES). A deadline that passes destroys the attempt's socket and
 * rejects with a `TimeoutError` (code ETIMEDOUT), which the SDK's retry strategy retries like any timeout; the
 * caller's `abortSignal` still aborts (an `AbortError`, not retried). One call then waits at most
 * attempts × `timeoutMs` plus the back-off between attempts.
 *
 * One handler may serve several clients (they share its agents, as before); `destroy()` destroys the agents.
 */
export function boundedRequestHandler(
  timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS,
  agents: HandlerAgents = {},
  maxBytes: number = MAX_AWS_RESPONSE_BYTES,
): BoundedRequestHandler {
  const { NodeHttpHandler } = load();
  const inner = new NodeHttpHandler({ ...requestHandlerOptions(timeoutMs), ...agents });
  return new DeadlineHandler(inner, timeoutMs, maxBytes);
}
