/**
 * Checks of the names xeks derives from the topology (stack names, construct ids, the peering accepter role), run
 * by `validateTopology` so that a file whose names would collide after sanitizing is refused with a field path
 * (exit 2) before CDK sees it. Pure: no CDK import, so validating a file stays cheap.
 */
import type { InputIssue } from "../errors.js";
import { MAX_ROUTE_TABLES } from "../topology/schema.js";
import type { Topology } from "../topology/types.js";
import { type Intent, type Layout, planLayout, type StackLayout } from "./layout.js";
import { accepterRoleName } from "./names.js";

/**
 * CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters
 * (AWS CloudFormation User Guide, "Stack name"; CDK checks the same at synthesis).
 */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** The topology field a stack's name is derived from: the client's name, the access role, or the cluster name. */
export function stackSourcePath(
  topology: Topology,
  stack: Pick<StackLayout, "client" | "accessRole">,
): string {
  if (stack.client !== undefined) {
    const i = topology.clients.findIndex((c) => c.name === stack.client);
    if (i >= 0) return `clients[${i}].name`;
  }
  if (stack.accessRole !== undefined) {
    const i = topology.access.findIndex((a) => a.role === stack.accessRole);
    if (i >= 0) return `access[${i}].role`;
  }
  return "cluster.name";
}

/**
 * Problems with the names derived from an otherwise valid topology:
 * - two stacks with one name, ignoring case (CDK refuses a second construct with the same id in the app, and the
 *   template files `NAME.template.json` would overwrite each other on a case-insensitive file system). Stack
 *   names are built from the cluster name, client names and role names with other characters replaced by `-`
 *   (`a.b` and `a_b` get a hash each); a role name can still be chosen to equal such a hashed name;
 * - a stack name that is not a CloudFormation stack name (cannot happen with the names of `names.ts`; checked so
 *   that a change there fails here with a path, not in CDK);
 * - an access role named like the peering accepter role xeks creates in the cluster account (IAM role names are
 *   unique per account, ignoring case);
 * - a stack of more than MAX_STACK_RESOURCES resources (`stackSizeIssues`).
 *
 * Each issue names the later of two colliding fields and what would be valid.
 */
export function nameIssues(topology: Topology): InputIssue[] {
  const issues: InputIssue[] = [];
  const accepter = accepterRoleName(topology.cluster.name);
  topology.access.forEach((a, i) => {
    if (a.role.toLowerCase() === accepter.toLowerCase()) {
      issues.push({
        path: `access[${i}].role`,
        message: `${accepter} is the role xeks creates in the cluster account to accept the VPC peering; choose another name`,
      });
    }
  });

  const layout = planLayout(topology);
  const seen = new Map<string, StackLayout>();
  for (const stack of layout.stacks) {
    const path = stackSourcePath(topology, stack);
    if (!STACK_NAME.test(stack.name)) {
      issues.push({
        path,
        message: `gives the stack name ${stack.name}, which is no CloudFormation stack name (a letter, then up to 127 letters, digits and -)`,
      });
    }
    const key = stack.name.toLowerCase();
    const first = seen.get(key);
    if (first) {
      const firstPath = stackSourcePath(topology, first);
      issues.push({
        path,
        message:
          `gives the stack name ${stack.name}, the name of the stack of ${firstPath} too ` +
          "(stack names keep only letters, digits and -, and ignore case here); choose a name that differs in letters or digits",
      });
    } else seen.set(key, stack);
  }
  issues.push(...stackSizeIssues(topology, layout));
  return issues;
}

/**
 * CloudFormation's quota on resources per template: "Resources: 500" (AWS CloudFormation User Guide,
 * "Understand CloudFormation quotas"; CDK refuses more at synthesis).
 */
const MAX_STACK_RESOURCES = 500;

/** The CloudFormation resources one intent becomes (src/infra/constructs), at most. */
function resourcesOf(intent: Intent): number {
  switch (intent.kind) {
    case "client-role":
      return intent.existing ? 1 : 3; // RolePolicy; or Role, InstanceProfile and RolePolicy
    case "routes":
      return intent.routeTableIds.length; // one AWS::EC2::Route per table
    case "client-instance":
      return 2; // SecurityGroup, Instance
    default:
      return 1;
  }
}

/**
 * The topology list that makes a stack grow: the route tables of its routes (`cluster.vpc.routeTables` for a
 * cluster-link stack, `clients[i].vpc.routeTables` for a client-link stack), else the field its name comes from.
 */
export function growingListPath(topology: Topology, stack: StackLayout): string {
  const routes = stack.intents.find((i) => i.kind === "routes");
  if (routes?.kind !== "routes") return stackSourcePath(topology, stack);
  if (routes.side === "cluster") return "cluster.vpc.routeTables";
  return `clients[${topology.clients.findIndex((c) => c.name === stack.client)}].vpc.routeTables`;
}

/**
 * Stacks that would exceed MAX_STACK_RESOURCES: the issue names the list that makes the stack grow (the
 * route tables of the cluster's or a client's VPC, the only list with one resource per item in one stack),
 * else the field the stack's name comes from. The schema caps route table lists at MAX_ROUTE_TABLES (200), so
 * this holds whatever the caps become.
 */
export function stackSizeIssues(topology: Topology, layout: Layout = planLayout(topology)): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const stack of layout.stacks) {
    const count = stack.intents.reduce((n, i) => n + resourcesOf(i), 0);
    if (count <= MAX_STACK_RESOURCES) continue;
    issues.push({
      path: growingListPath(topology, stack),
      message:
        `makes stack ${stack.name} hold ${count} resources, over CloudFormation's ${MAX_STACK_RESOURCES} per stack ` +
        `(one route per route table); list at most ${MAX_ROUTE_TABLES} route tables`,
    });
  }
  return issues;
}
