/**
 * How deploy's AWS SDK clients are configured: bounded timeouts, so an endpoint that accepts and never answers
 * fails the run instead of holding it, and a silent logger, so the SDK never writes to the terminal (it falls
 * back to `console` without one). Used for our clients (STS, EKS, EC2, CloudFormation), the credential chain's
 * own clients (STS for role_arn profiles, SSO) and toolkit-lib's SDK (see toolkit.ts).
 *
 * By default 3 s to connect and 10 s per request; `XEKS_AWS_TIMEOUT_MS=N` sets the request timeout to N ms
 * (connecting may take min(3 s, N)).
 */
import { awsTimeoutMs, requestHandlerOptions as boundedRequestHandler, silentLogger } from "../aws/sdk.js";
import { watchedAgents } from "../aws/watchdog.js";

export { silentLogger };

/**
 * The `requestHandler` options of every client, with XEKS_AWS_TIMEOUT_MS applied (a bad value: exit 2), and
 * HTTP agents that report each attempt to the run's watchdog (src/aws/watchdog.ts: no answer from an endpoint
 * for 3 × XEKS_AWS_TIMEOUT_MS + 3 s ends the command).
 */
export function requestHandlerOptions(env: NodeJS.ProcessEnv = process.env) {
  return { ...boundedRequestHandler(awsTimeoutMs(env)), ...watchedAgents() };
}

/** The configuration of one of deploy's SDK clients. */
export function sdkClientConfig<C>(region: string, credentials: C) {
  return { region, credentials, logger: silentLogger, requestHandler: requestHandlerOptions() };
}
