/**
 * How every AWS SDK client of xeks is configured, whatever the command: a silent logger (the library never
 * prints, and kubectl shows a plugin's stderr) and bounded timeouts (an endpoint that accepts and never
 * answers fails the command instead of holding it). No SDK import: the token fast path loads this module.
 */
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
 * The `requestHandler` options of a client. `throwOnRequestTimeout`: without it, @smithy/node-http-handler
 * only logs a warning (through console) when `requestTimeout` passes, and the request goes on waiting.
 */
export function requestHandlerOptions(timeoutMs: number = DEFAULT_AWS_TIMEOUT_MS) {
  return {
    connectionTimeout: Math.min(AWS_CONNECT_TIMEOUT_MS, timeoutMs),
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
    logger: silentLogger,
  };
}
