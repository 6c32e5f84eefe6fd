/** Every admin-side link, in chain order. Adding a link: one module, one line here. */
import type { Link } from "../link.js";
import { accessEntry } from "./access-entry.js";
import { accessPolicy } from "./access-policy.js";
import { accessRoleTrust, assumePermission, noAccessRole } from "./assume.js";
import { authenticationMode } from "./authentication-mode.js";
import { cidrOverlap } from "./cidr-overlap.js";
import { clientRole } from "./client-role.js";
import { describeCluster } from "./describe-cluster.js";
import { endpoint } from "./endpoint.js";
import { peering } from "./peering.js";
import { publicAccess } from "./public-access.js";
import { peeringQuota, policySizeAccess, policySizeClient, policySizeCluster } from "./quotas.js";
import { routeClientToCluster, routeClusterToClient } from "./routes.js";
import { securityGroup } from "./security-group.js";
import { stackSetInstances } from "./stackset.js";

export const LINKS: readonly Link[] = [
  cidrOverlap,
  peering,
  peeringQuota,
  routeClientToCluster,
  routeClusterToClient,
  securityGroup,
  publicAccess,
  endpoint,
  stackSetInstances,
  clientRole,
  noAccessRole,
  assumePermission,
  accessRoleTrust,
  describeCluster,
  policySizeCluster,
  policySizeClient,
  policySizeAccess,
  authenticationMode,
  accessEntry,
  accessPolicy,
] as Link[];
