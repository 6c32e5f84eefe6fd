/**
 * Deploying a topology across accounts: `deploy`, `diff` and `destroy` on toolkit-lib, plus the pure plan
 * functions they are built on. See docs/deploy.md.
 */
export { AwsSilenceError, silenceBoundMs } from "../aws/watchdog.js";
export { readAuthMode, TARGET_AUTH_MODE, updateAuthMode } from "./auth-mode.js";
export type { AwsApis, CfnApi, Ec2Api, EksApi, StackState, StsApi } from "./aws.js";
export {
  type CredentialProvider,
  type CredentialSet,
  credentialSets,
  type ProfileOptions,
} from "./credentials.js";
export { deploy } from "./deploy.js";
export { destroy } from "./destroy.js";
export { diff } from "./diff.js";
export { checkChainAfterDeploy } from "./doctor.js";
export { describeFailure, inferResource, rootCause } from "./failure.js";
export { verifyIdentities } from "./identity.js";
export {
  describeWhere,
  type InFlightState,
  type InterruptedResult,
  interruptedResult,
  type RunCommand,
  type RunStep,
  RunTracker,
  type StackInFlight,
  stillInProgress,
  watchCommand,
} from "./in-flight.js";
export { waitForPeering } from "./peering.js";
export {
  blockedByDependents,
  classifyStack,
  credentialsOf,
  type DeployStep,
  deploySteps,
  destroyOrder,
  PEERING_OUTPUT,
  parameterChanges,
  resolveParameters,
} from "./plan.js";
export { type Confirmation, DeployFailedError, NoAnswerError, type RunOptions } from "./run.js";
export type * from "./types.js";
