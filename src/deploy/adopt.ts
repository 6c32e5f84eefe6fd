/**
 * Adoption in deploy and diff (docs/adopt.md): which adopted pieces each stack does not hold yet, whether they
 * all still exist (checked before any change), and the IMPORT change set that takes them over before the stack's
 * normal deploy applies xeks's values.
 */
import type { AdoptionApi } from "../aws/adoption.js";
import { importTemplate, pendingImports, resourcesToImport } from "../aws/cloudformation-import.js";
import type { XeksManifestImport } from "../domain/adoption.js";
import { OperationError } from "../errors.js";
import { describeDifference } from "../infra/describe.js";
import { awsError, type StackState, sdkApis } from "./aws.js";
import type { Context } from "./run.js";
import type { StackPlan } from "./types.js";

type StackStep = { stack: Context["manifest"]["phases"][number]["stacks"][number]; credentials: string };

/** The adoption calls for a stack's credentials and region (the SDK's unless a test gave its own). */
export function adoptionFor(ctx: Context, credentials: string, region: string): AdoptionApi {
  const set = ctx.set(credentials);
  return (ctx.apis.adoption ?? sdkApis.adoption)(set, region);
}

/** Statuses of a stack that exists and whose template can take an IMPORT change set. */
const IMPORTABLE = /^(CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|IMPORT_COMPLETE)$/;

/**
 * For each stack with adopted pieces, the ones it does not hold yet (by logical id in its deployed template; all
 * of them for a stack that does not exist). Then, before any change, whether every one of them still exists as
 * declared: a piece that went away since `discover` stops the run (OperationError, exit 1) naming each piece,
 * why, and what to do. Reads only.
 */
export async function readAdoptions(
  ctx: Context,
  steps: StackStep[],
  states: Map<string, StackState | undefined>,
): Promise<Map<string, XeksManifestImport[]>> {
  const pending = new Map<string, XeksManifestImport[]>();
  const problems: string[] = [];
  for (const { stack, credentials } of steps) {
    const imports = stack.imports ?? [];
    if (imports.length === 0) continue;
    const api = adoptionFor(ctx, credentials, stack.region);
    const state = states.get(stack.name);
    if (state?.status === "IMPORT_ROLLBACK_COMPLETE") {
      problems.push(
        `stack ${stack.name} is IMPORT_ROLLBACK_COMPLETE: an earlier import into it failed. If deploy made it for ` +
          `that import, it holds nothing: delete it (aws cloudformation delete-stack --stack-name ${stack.name} ` +
          `--region ${stack.region}) and run deploy again`,
      );
      continue;
    }
    if (state && !IMPORTABLE.test(state.status)) {
      problems.push(
        `stack ${stack.name} is ${state.status}: CloudFormation imports only into a stack in a stable state; ` +
          "delete that stack (its adopted pieces are not in it yet) and run deploy again",
      );
      continue;
    }
    let deployed: Record<string, unknown> | undefined;
    try {
      deployed = state ? await api.deployedTemplate(stack.name) : undefined;
    } catch (err) {
      throw awsError(err, `reading the template of stack ${stack.name}`, ctx.set(credentials));
    }
    const todo = pendingImports(deployed, imports);
    if (todo.length === 0) continue;
    pending.set(stack.name, todo);
    for (const piece of todo) {
      let why: string | undefined;
      try {
        why = await api.missing(piece);
      } catch (err) {
        throw awsError(
          err,
          `checking that ${piece.piece} exists (account ${stack.account})`,
          ctx.set(credentials),
        );
      }
      if (why) problems.push(`${piece.piece} (account ${stack.account}): ${why}`);
    }
  }
  if (problems.length > 0) {
    throw new OperationError(
      `cannot adopt what is no longer there; nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      `run xeks discover again to write the file from what exists now (or remove the piece's adoption keys, ` +
        "docs/adopt.md, so that deploy creates it), then run deploy again",
    );
  }
  return pending;
}

/** Add to each plan the pieces its stack imports, with the changes the update then makes to each. */
export function withImports(plans: StackPlan[], pending: Map<string, XeksManifestImport[]>): StackPlan[] {
  return plans.map((p) => {
    const todo = pending.get(p.name);
    if (!todo) return p;
    return {
      ...p,
      action: p.action === "unchanged" || p.action === "pending" ? "update" : p.action,
      imports: todo.map((i) => ({
        piece: i.piece,
        logicalId: i.logicalId,
        note: "adopt: imported unchanged, then updated to what xeks writes",
        changes: i.differences.map((d) => describeDifference(d.property, d.found, d.planned)),
      })),
    };
  });
}

/**
 * Import a stack's pending pieces (one IMPORT change set: the deployed template, or none, plus the pieces as
 * found, each retained), and wait (bounds: src/aws/cloudformation-import.ts IMPORT_WAIT). An existing stack keeps
 * its parameters (UsePreviousValue).
 */
export async function importPending(
  ctx: Context,
  step: StackStep,
  todo: XeksManifestImport[],
): Promise<void> {
  const { stack, credentials } = step;
  const api = adoptionFor(ctx, credentials, stack.region);
  const deployed = await api.deployedTemplate(stack.name);
  const parameters = Object.keys((deployed?.Parameters ?? {}) as Record<string, unknown>).map((k) => ({
    ParameterKey: k,
    UsePreviousValue: true,
  }));
  await api.importResources({
    stackName: stack.name,
    templateBody: JSON.stringify(importTemplate(deployed, todo)),
    ...(parameters.length > 0 ? { parameters } : {}),
    resourcesToImport: resourcesToImport(todo),
  });
}

/**
 * The adopted pieces a deployed stack holds (manifest imports whose logical id is in its deployed template), for
 * destroy: kept by default, deleted with `--including-adopted`.
 */
export async function adoptedInStack(ctx: Context, step: StackStep): Promise<XeksManifestImport[]> {
  const imports = step.stack.imports ?? [];
  if (imports.length === 0) return [];
  const api = adoptionFor(ctx, step.credentials, step.stack.region);
  let deployed: Record<string, unknown> | undefined;
  try {
    deployed = await api.deployedTemplate(step.stack.name);
  } catch (err) {
    throw awsError(err, `reading the template of stack ${step.stack.name}`, ctx.set(step.credentials));
  }
  const held = new Set(Object.keys((deployed?.Resources ?? {}) as object));
  return imports.filter((i) => held.has(i.logicalId));
}
