/**
 * The deployment plan as pure functions of xeks's manifest: the order of the stacks, which credentials act on
 * each, which parameters each stack gets from the outputs of earlier phases, where the run waits for a peering
 * connection to be active, and what each stack needs given its CloudFormation state. No AWS calls here: the
 * orchestration (`run.ts`) feeds these functions with what it reads, and the tests feed them with fakes.
 */
import { OperationError } from "../errors.js";
import type {
  XeksManifest,
  XeksManifestParameter,
  XeksManifestPhase,
  XeksManifestStack,
} from "../infra/manifest.js";
import type { ParameterChange, StackAction } from "./types.js";

/** The output of a client-link stack holding its peering connection id (see src/layout/layout.ts). */
export const PEERING_OUTPUT = "PeeringConnectionId";

/**
 * Which credentials act on a stack: "cluster" for the cluster account's stacks, "client NAME" for a client's.
 * Client accounts differ from the cluster account, so the phase's side decides.
 */
export function credentialsOf(phase: Pick<XeksManifestPhase, "side">, stack: XeksManifestStack): string {
  if (phase.side === "cluster") return "cluster";
  if (!stack.client) throw new OperationError(`manifest: client-side stack ${stack.name} names no client`);
  return `client ${stack.client}`;
}

/** A step of a deploy: start a phase, wait for a peering connection, deploy a stack. */
export type DeployStep =
  | { kind: "phase"; phase: number; name: string; title: string; stacks: string[] }
  | {
      kind: "wait-peering";
      phase: number;
      /** The stack whose parameter carries the peering id (deployed right after the wait). */
      stack: string;
      parameter: string;
      /** Where the id comes from. */
      source: { stack: string; output: string };
      /** The accepter's side: the consuming stack's account, region and credentials. */
      account: string;
      region: string;
      credentials: string;
    }
  | {
      kind: "stack";
      phase: number;
      stack: XeksManifestStack;
      credentials: string;
      /** Parameters and the earlier output each one is read from. */
      parameters: XeksManifestParameter[];
    };

/**
 * The steps of a deploy, in order: phase by phase (manifest order), stack by stack; before a stack whose
 * parameter is a peering connection id, a wait for that connection to be active (its routes need it).
 * Throws OperationError when a parameter reads a stack that is not deployed in an earlier phase.
 */
export function deploySteps(manifest: XeksManifest): DeployStep[] {
  const phaseOf = new Map<string, number>();
  const steps: DeployStep[] = [];
  const phases = [...manifest.phases].sort((a, b) => a.number - b.number);
  for (const phase of phases) {
    steps.push({
      kind: "phase",
      phase: phase.number,
      name: phase.name,
      title: phase.title,
      stacks: phase.stacks.map((s) => s.name),
    });
    for (const stack of phase.stacks) {
      const credentials = credentialsOf(phase, stack);
      for (const p of stack.parameters) {
        const from = phaseOf.get(p.source.stack);
        if (from === undefined || from >= phase.number) {
          throw new OperationError(
            `manifest: parameter ${p.name} of ${stack.name} reads ${p.source.stack}, which is not deployed in an earlier phase`,
          );
        }
        if (p.source.output === PEERING_OUTPUT) {
          steps.push({
            kind: "wait-peering",
            phase: phase.number,
            stack: stack.name,
            parameter: p.name,
            source: { stack: p.source.stack, output: p.source.output },
            account: stack.account,
            region: stack.region,
            credentials,
          });
        }
      }
      steps.push({ kind: "stack", phase: phase.number, stack, credentials, parameters: stack.parameters });
    }
    for (const stack of phase.stacks) phaseOf.set(stack.name, phase.number);
  }
  return steps;
}

/** The stacks of a destroy, in order: phases in reverse, and the stacks of a phase in reverse. */
export function destroyOrder(
  manifest: XeksManifest,
): { phase: number; stack: XeksManifestStack; credentials: string }[] {
  const phases = [...manifest.phases].sort((a, b) => b.number - a.number);
  return phases.flatMap((phase) =>
    [...phase.stacks]
      .reverse()
      .map((stack) => ({ phase: phase.number, stack, credentials: credentialsOf(phase, stack) })),
  );
}

/** Outputs of deployed stacks, by stack name. */
export type OutputsByStack = ReadonlyMap<string, Readonly<Record<string, string>>>;

/**
 * The CloudFormation parameters of a stack, read from the outputs of earlier stacks as the manifest says.
 * Throws OperationError naming the stack and output when one is missing.
 */
export function resolveParameters(stack: XeksManifestStack, outputs: OutputsByStack): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of stack.parameters) {
    const value = outputs.get(p.source.stack)?.[p.source.output];
    if (value === undefined || value === "") {
      throw new OperationError(
        `cannot deploy ${stack.name}: parameter ${p.name} reads output ${p.source.output} of ${p.source.stack}, which has no such output`,
        `deploy ${p.source.stack} (phase ${p.source.phase}) first; xeks deploy does it in order`,
      );
    }
    values[p.name] = value;
  }
  return values;
}

/** Like {@link resolveParameters}, but undefined when an output is not known yet. */
export function tryResolveParameters(
  stack: XeksManifestStack,
  outputs: OutputsByStack,
): Record<string, string> | undefined {
  try {
    return resolveParameters(stack, outputs);
  } catch {
    return undefined;
  }
}

/** Parameters that differ between what a stack has and what it should get. */
export function parameterChanges(
  deployed: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): ParameterChange[] {
  const out: ParameterChange[] = [];
  for (const [name, to] of Object.entries(wanted)) {
    const from = deployed?.[name];
    if (from !== to) out.push(from === undefined ? { name, to } : { name, from, to });
  }
  return out;
}

/** CloudFormation statuses of a stack that is deployed and stable. */
const STABLE = new Set([
  "CREATE_COMPLETE",
  "UPDATE_COMPLETE",
  "UPDATE_ROLLBACK_COMPLETE",
  "IMPORT_COMPLETE",
  "IMPORT_ROLLBACK_COMPLETE",
]);

/** What a stack needs, or why the run cannot touch it. */
export type Classification =
  | { action: StackAction; reason: string }
  | { action: "blocked"; reason: string; fix: string };

/**
 * Decide what a stack needs from its CloudFormation status (undefined: no such stack), whether its template
 * differs from the synthesized one, and its parameters (undefined `wanted`: not known before an earlier stack
 * of the same run is deployed).
 */
export function classifyStack(input: {
  name: string;
  status: string | undefined;
  templateChanged: boolean;
  parameters: ParameterChange[];
  parametersKnown: boolean;
}): Classification {
  const { name, status } = input;
  if (status === undefined || status === "DELETE_COMPLETE")
    return { action: "create", reason: "not deployed" };
  if (status === "REVIEW_IN_PROGRESS") {
    return { action: "create", reason: "an earlier attempt left only an empty stack (REVIEW_IN_PROGRESS)" };
  }
  if (status === "ROLLBACK_COMPLETE" || status === "ROLLBACK_FAILED") {
    return {
      action: "recreate",
      reason: `its creation failed earlier (${status}): the empty stack is deleted and created again`,
    };
  }
  if (status === "UPDATE_ROLLBACK_FAILED") {
    return {
      action: "blocked",
      reason: `${name} is ${status}: CloudFormation could not roll back its last update`,
      fix: `aws cloudformation continue-update-rollback --stack-name ${name}, wait for UPDATE_ROLLBACK_COMPLETE, then run xeks deploy again`,
    };
  }
  if (status === "DELETE_FAILED") {
    return {
      action: "blocked",
      reason: `${name} is ${status}: an earlier deletion did not finish`,
      fix: "run xeks destroy (or delete the stack in the CloudFormation console), then run xeks deploy again",
    };
  }
  if (status.endsWith("_IN_PROGRESS")) {
    return {
      action: "blocked",
      reason: `CloudFormation is still working on ${name} (${status})`,
      fix: "wait for the stack operation to finish, then run xeks deploy again",
    };
  }
  if (status === "CREATE_FAILED" || status === "UPDATE_FAILED") {
    return {
      action: "update",
      reason: `its last operation failed (${status}): rolled back, then deployed again`,
    };
  }
  if (!STABLE.has(status)) {
    return {
      action: "blocked",
      reason: `${name} is in an unexpected state (${status})`,
      fix: "look at the stack in the CloudFormation console",
    };
  }
  if (input.templateChanged)
    return { action: "update", reason: "its template differs from the deployed one" };
  if (!input.parametersKnown) {
    return { action: "pending", reason: "its parameters come from an earlier phase of this run" };
  }
  if (input.parameters.length > 0) {
    return {
      action: "update",
      reason: `parameters change: ${input.parameters.map((p) => p.name).join(", ")}`,
    };
  }
  return { action: "unchanged", reason: `deployed and identical (${status})` };
}

/**
 * destroy: the stacks that must be kept because a stack depending on them could not be removed (deleting the
 * peering under routes that still use it, or a role a policy still names, would fail or strand them).
 * `remaining` holds the stacks that still exist after a failed deletion.
 */
export function blockedByDependents(
  manifest: XeksManifest,
  stack: string,
  remaining: ReadonlySet<string>,
): string[] {
  const all = manifest.phases.flatMap((p) => p.stacks);
  return all.filter((s) => remaining.has(s.name) && s.dependsOn.includes(stack)).map((s) => s.name);
}
