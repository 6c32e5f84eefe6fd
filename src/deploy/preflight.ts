/**
 * What deploy checks offline before anything changes: the chain proof on the planned state (the same as `xeks
 * plan`), for the links whose failure means the deploy itself would stop partway, after earlier phases changed
 * things: a route to a destination that already has one (CreateRoute: RouteAlreadyExists), an access entry that
 * exists already (CreateAccessEntry: ResourceInUseException), overlapping CIDRs (two routes for one destination).
 * Other failing links (an endpoint the clients cannot reach, say) do not stop CloudFormation; the doctor's check
 * after the deploy reports them.
 */
import { prove } from "../chain/prove.js";
import type { LinkResult } from "../chain/types.js";
import { OperationError } from "../errors.js";
import { plannedStacks } from "../model/from-assembly.js";
import { type CfnTemplate, modelFromTemplates } from "../model/from-templates.js";
import type { Context } from "./run.js";

/** Links whose failure on the planned state would make a deploy fail partway. */
export const DEPLOY_BREAKING_LINKS: ReadonlySet<string> = new Set([
  "topology.cidr-overlap",
  "network.route.client-to-cluster",
  "network.route.cluster-to-client",
  "eks.access-entry",
]);

/** The failing deploy-breaking links of the planned state (empty: nothing known would stop the deploy). */
export async function plannedConflicts(
  ctx: Pick<Context, "topology" | "manifest" | "templates">,
): Promise<LinkResult[]> {
  const stacks = plannedStacks(ctx.manifest, (s) => ctx.templates.get(s.name) as CfnTemplate);
  const report = await prove(ctx.topology, modelFromTemplates(ctx.topology, stacks), "plan");
  return report.links.filter((l) => l.status === "fail" && DEPLOY_BREAKING_LINKS.has(l.id));
}

/** Throw an OperationError (exit 1) naming each conflict and its fix, before any change, when there is one. */
export async function refuseConflicts(
  ctx: Pick<Context, "topology" | "manifest" | "templates">,
): Promise<void> {
  const conflicts = await plannedConflicts(ctx);
  if (conflicts.length === 0) return;
  throw new OperationError(
    `cannot deploy: the plan shows ${conflicts.length === 1 ? "a conflict" : `${conflicts.length} conflicts`} that would stop the deploy partway; nothing was changed:\n` +
      conflicts
        .map((l) => `  - ${l.id} (${l.subject}): ${l.summary}${l.fix ? `\n    fix: ${l.fix}` : ""}`)
        .join("\n"),
    "fix them as `xeks plan` shows, then run deploy again",
  );
}
