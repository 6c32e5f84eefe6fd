/**
 * `xeks doctor --from-client` as a library: walk the chain from the client instance (identity, AssumeRole,
 * DNS, TCP, TLS, token, SelfSubjectReview, SelfSubjectAccessReview) and return a ChainReport with mode
 * "client". See docs/probe.md.
 */

export { parsePrincipal } from "../domain/arn.js";
export { denialSource } from "./assume-role.js";
export { Budget, ProbeTimeout, runBounded } from "./bounded.js";
export { type AddressClass, classifier } from "./classify.js";
export { endpointHostPort } from "./dns.js";
export { credentialOverrides } from "./identity.js";
export { choosePermissionProbes, type PermissionProbe } from "./permissions.js";
export {
  parseResolveSpecs,
  type ResolveOutcome,
  type ResolveTable,
  systemResolver,
  tableResolver,
} from "./resolve.js";
export { probeFromClient } from "./run.js";
export { caPem } from "./tls.js";
export type {
  AddressClassification,
  CredentialProvider,
  ProbeCredentials,
  ProbeOptions,
  Resolver,
} from "./types.js";
