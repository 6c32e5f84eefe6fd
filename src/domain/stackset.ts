/**
 * The client side of an organization as a CloudFormation StackSet (issue 14, `clients[].fromOrganization`,
 * docs/organizations.md): the ids, defaults and fixed settings of the service-managed StackSet xeks creates in the
 * administrator account. Pure data; the StackSets calls are in src/aws/stackset.ts. Domain layer: imports nothing
 * of src/ outside src/domain.
 *
 * Sources: AWS CloudFormation API Reference, CreateStackSet (`StackSetName` pattern `[a-zA-Z][-a-zA-Z0-9]*`, at most
 * 128 characters; `PermissionModel` SERVICE_MANAGED; `AutoDeployment` Enabled / RetainStacksOnAccountRemoval;
 * `CallAs` SELF | DELEGATED_ADMIN; `Capabilities` CAPABILITY_NAMED_IAM for named IAM resources),
 * DeploymentTargets (`OrganizationalUnitIds` pattern `^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`),
 * StackInstanceSummary (`Status` CURRENT | OUTDATED | INOPERABLE, `StatusReason`, `StackInstanceStatus.DetailedStatus`),
 * StackSetOperation (`Status` RUNNING | SUCCEEDED | FAILED | STOPPING | STOPPED | QUEUED).
 */

/** An organizational unit id, or a root id (StackSets DeploymentTargets `OrganizationalUnitIds`). */
import { shellWord } from "./shell.js";

export const OU_ID_PATTERN = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/;

/** Who calls the StackSets API: the management account itself, or a delegated administrator (`CallAs`). */
export type StackSetCallAs = "SELF" | "DELEGATED_ADMIN";

/** The client kinds a StackSet may stand for: one created role per member account (instance, oidc). */
export const STACKSET_KINDS = ["instance", "oidc"] as const;

/**
 * The representative member account the offline proof simulates for a StackSet client: a member of the
 * organization under the StackSet's first OU whose account id xeks cannot know offline (docs/organizations.md,
 * "How the proof sees a StackSet"). Any 12-digit id does: the trust statement does not name accounts.
 */
export const REPRESENTATIVE_MEMBER_ACCOUNT = "000000000000";

/** The capabilities every xeks StackSet acknowledges: the member template creates named IAM roles. */
export const STACKSET_CAPABILITIES = ["CAPABILITY_NAMED_IAM"] as const;

/**
 * The bound of one wait on a StackSet operation (DescribeStackSetOperation polled until it is no longer RUNNING,
 * QUEUED or STOPPING): 30 minutes, polled every 5 seconds. CloudFormation deploys the member stacks of a
 * service-managed StackSet at MaxConcurrentPercentage 100 (xeks's OperationPreferences), each a few minutes for
 * a role and an instance profile; a larger organization takes longer than one wait: the run then fails, naming
 * the operation, and a re-run finds it and waits again.
 */
export const STACKSET_OPERATION_WAIT = { timeoutMs: 30 * 60_000, pollMs: 5_000 } as const;

/** The administrator side of a StackSet client, normalized (`clients[].fromOrganization`). */
export interface FromOrganization {
  /** `ou-…` or `r-…`: the StackSet's deployment targets; AutoDeployment covers accounts that join them later. */
  organizationalUnits: string[];
  /** The account where the StackSet lives: the management account (callAs SELF) or a delegated administrator. */
  administrator: string;
  callAs: StackSetCallAs;
  /** The regions of the stack instances (default: the cluster's region). */
  regions: string[];
  /** AutoDeployment RetainStacksOnAccountRemoval (default false: an account that leaves loses the role). */
  retainStacksOnAccountRemoval: boolean;
}

/**
 * One stack instance of a StackSet (ListStackInstances StackInstanceSummary): its member account and region, its
 * `Status` (CURRENT: the member stack matches the StackSet; OUTDATED: an operation failed or has not reached it;
 * INOPERABLE: a delete failed and the instance is out of the StackSet's control) and `StatusReason`.
 */
export interface StackInstanceFact {
  account: string;
  region: string;
  status: string;
  statusReason?: string;
  /** StackInstanceStatus.DetailedStatus: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, … */
  detailedStatus?: string;
  organizationalUnit?: string;
}

/** The role ARN a StackSet creates in every member account: `arn:PARTITION:iam::*:role{path}{name}`. */
export function memberRoleArn(partition: string, path: string, name: string): string {
  return `arn:${partition}:iam::*:role${path}${name}`;
}

/**
 * The `aws cloudformation describe-stack-set-operation` command line that shows a StackSet operation (CloudFormation
 * API Reference, DescribeStackSetOperation): every value, the operation id from AWS included, one shell word.
 */
export function stackSetOperationCommand(o: {
  stackSet: string;
  operationId: string;
  callAs: string;
  region: string;
}): string {
  return `aws cloudformation describe-stack-set-operation --stack-set-name ${shellWord(o.stackSet)} --operation-id ${shellWord(o.operationId)} --call-as ${shellWord(o.callAs)} --region ${shellWord(o.region)}`;
}
