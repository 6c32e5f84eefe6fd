/**
 * How deploy's AWS SDK clients are configured: bounded attempts, so an endpoint that accepts and never answers
 * (or answers a byte at a time) fails the run instead of holding it, and a silent logger, so the SDK never
 * writes to the terminal (it falls back to `console` without one). Used for our clients (STS, EKS, EC2,
 * CloudFormation), the credential chain's own clients (STS for role_arn profiles, SSO) and toolkit-lib's SDK
 * (see toolkit.ts).
 *
 * Each attempt ends within XEKS_AWS_TIMEOUT_MS (default 10 s: connect, send, headers and body; connecting may
 * take min(3 s, N)); our clients make SDK_MAX_ATTEMPTS (3) attempts per call.
 */
import {
  awsTimeoutMs,
  type BoundedRequestHandler,
  boundedRequestHandler,
  SDK_MAX_ATTEMPTS,
  silentLogger,
} from "../aws/sdk.js";
import { watchedAgents } from "../aws/watchdog.js";

export { silentLogger };

/**
 * The request handler of every client (src/aws/sdk.ts `boundedRequestHandler`), with XEKS_AWS_TIMEOUT_MS applied
 * (a bad value: exit 2), and HTTP agents that report each attempt to the run's watchdog (src/aws/watchdog.ts:
 * no answer from an endpoint for 3 × XEKS_AWS_TIMEOUT_MS + 3 s ends the command). A new handler per call.
 */
export function boundedHandler(env: NodeJS.ProcessEnv = process.env): BoundedRequestHandler {
  return boundedRequestHandler(awsTimeoutMs(env), watchedAgents());
}

/** The configuration of one of deploy's SDK clients: SDK_MAX_ATTEMPTS (3) attempts per call. */
export function sdkClientConfig<C>(region: string, credentials: C) {
  return {
    region,
    credentials,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: boundedHandler(),
  };
}
