/**
 * xeks infrastructure: CDK constructs and stacks for cross-account EKS access, the phased layout that orders
 * them across accounts, and `synthesize` (cloud assembly + xeks.manifest.json). See docs/infra.md.
 */

export * from "../layout/layout.js";
export { accepterRoleName, stackNames, TAG_CLIENT, TAG_CLUSTER, TAG_STACK } from "../layout/names.js";
export {
  type AccessPolicyAssociation,
  AccessRole,
  type AccessRoleProps,
  ClusterAccessEntry,
  type ClusterAccessEntryProps,
} from "./constructs/access.js";
export {
  ClientInstance,
  type ClientInstanceProps,
  ClientRole,
  type ClientRoleProps,
  clientRoleTrustPolicy,
  PodIdentityAssociation,
  type PodIdentityAssociationProps,
} from "./constructs/client.js";
export {
  ClusterIngress,
  type ClusterIngressProps,
  PeeringAccepterRole,
  type PeeringAccepterRoleProps,
  PeeringConnection,
  type PeeringConnectionProps,
  PeerRoutes,
  type PeerRoutesProps,
} from "./constructs/network.js";
export * from "./describe.js";
export * from "./manifest.js";
export { type Acknowledgement, acknowledge, collectAcknowledgements, type NagFinding } from "./nag.js";
export { addXeksStacks, XeksStack, type XeksStackProps } from "./stacks.js";
export {
  type Annotation,
  APP_CONTEXT,
  type BuildAppOptions,
  buildApp,
  type SynthesisResult,
  type SynthesizeOptions,
  synthesize,
} from "./synthesize.js";
export {
  awsConfigText,
  CLIENT_PATHS,
  type ClientUserDataProps,
  clientUserData,
  DEFAULT_KUBECTL_VERSION,
  kubeconfigEntries,
  kubeconfigYaml,
} from "./user-data.js";
