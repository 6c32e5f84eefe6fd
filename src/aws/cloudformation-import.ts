/**
 * CloudFormation resource import (issue 12, adoption; design in docs/deploy.md "Adoption"): a stack takes
 * ownership of resources that already exist, without creating, replacing or deleting anything, through one
 * `CreateChangeSet` with `ChangeSetType: IMPORT` and `ResourcesToImport`, then `ExecuteChangeSet`.
 *
 * - `importTemplate(deployed, imports)` builds the change set's template: the stack's deployed template as it
 *   is, plus each resource to import, marked `DeletionPolicy: Retain` / `UpdateReplacePolicy: Retain` (an IMPORT
 *   change set refuses resources without a DeletionPolicy, and an adopted piece must survive the stack).
 * - `importResources(input)` runs the import and waits for it, each wait bounded (see IMPORT_WAIT).
 *
 * AWS facts used (CloudFormation User Guide, "Bringing existing resources into CloudFormation management" and
 * "Import AWS resources into a CloudFormation stack with a resource import"; API reference CreateChangeSet):
 * an IMPORT change set's template must describe the whole stack, and may differ from the deployed template only
 * by the resources imported (no other change, no new Outputs for a new stack); each resource to import needs a
 * DeletionPolicy; identifiers are the type's `primaryIdentifier` in its registry schema; the stack goes
 * IMPORT_IN_PROGRESS -> IMPORT_COMPLETE, or IMPORT_ROLLBACK_IN_PROGRESS -> IMPORT_ROLLBACK_COMPLETE (or
 * IMPORT_ROLLBACK_FAILED) with an `IMPORT_FAILED` event for the resource that could not be imported.
 *
 * Endpoints come from the standard environment (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_CLOUDFORMATION), as for
 * every xeks client. Library code: nothing is printed.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type StackEvent,
} from "@aws-sdk/client-cloudformation";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { ADOPTED_METADATA_KEY, type XeksManifestImport } from "../domain/adoption.js";
import { OperationError } from "../errors.js";
import { awsErrorHint, classifyAwsError, formatAwsError } from "./errors.js";
import { awsTimeoutMs, boundedRequestHandler, SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { watchedAgents } from "./watchdog.js";

export { ADOPTED_METADATA_KEY, IMPORT_IDENTIFIER_KEYS, type XeksManifestImport } from "../domain/adoption.js";

/** A template as a plain object (JSON). */
export type TemplateObject = Record<string, unknown>;

/**
 * The template of an IMPORT change set: `deployed` (the stack's template as CloudFormation returns it, parsed;
 * undefined for a stack that does not exist yet) kept exactly as it is, plus, for each import whose logical id
 * the deployed template does not hold yet, `{ Type, Properties, DeletionPolicy: "Retain", UpdateReplacePolicy:
 * "Retain", Metadata: { "xeks:adopted": { identifier } } }`. For a new stack the template holds the imported
 * resources only (no Outputs: CloudFormation refuses an IMPORT that adds anything but the resources). Inputs are
 * not modified. Throws OperationError when a logical id of an import is already used in the deployed template by
 * a resource of another type.
 */
export function importTemplate(deployed: object | undefined, imports: XeksManifestImport[]): TemplateObject {
  const template: TemplateObject = deployed
    ? (structuredClone(deployed) as TemplateObject)
    : { AWSTemplateFormatVersion: "2010-09-09" };
  const resources = { ...((template.Resources as Record<string, unknown> | undefined) ?? {}) };
  for (const imp of imports) {
    const existing = resources[imp.logicalId] as { Type?: unknown } | undefined;
    if (existing !== undefined) {
      if (existing.Type !== imp.resourceType) {
        throw new OperationError(
          `cannot import ${imp.piece} as ${imp.logicalId}: the stack already has a resource ${imp.logicalId} of type ${String(existing.Type)}`,
        );
      }
      continue; // already in the stack
    }
    resources[imp.logicalId] = {
      Type: imp.resourceType,
      Properties: structuredClone(imp.properties),
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Metadata: { [ADOPTED_METADATA_KEY]: { identifier: { ...imp.identifier } } },
    };
  }
  template.Resources = resources;
  return template;
}

/** The imports whose logical ids a deployed template (or none) does not hold yet: what an IMPORT must adopt. */
export function pendingImports(
  deployed: object | undefined,
  imports: XeksManifestImport[],
): XeksManifestImport[] {
  const resources = ((deployed as { Resources?: Record<string, unknown> } | undefined)?.Resources ??
    {}) as Record<string, unknown>;
  return imports.filter((i) => !(i.logicalId in resources));
}

/** `ResourcesToImport` of CreateChangeSet for these imports. */
export function resourcesToImport(imports: XeksManifestImport[]): ResourceToImport[] {
  return imports.map((i) => ({
    ResourceType: i.resourceType,
    LogicalResourceId: i.logicalId,
    ResourceIdentifier: { ...i.identifier },
  }));
}

/** One entry of CreateChangeSet's `ResourcesToImport`. */
export interface ResourceToImport {
  ResourceType: string;
  LogicalResourceId: string;
  ResourceIdentifier: Record<string, string>;
}

/**
 * One stack parameter: `UsePreviousValue: true` keeps an existing stack's value (CloudFormation then takes no
 * `ParameterValue`), else `ParameterValue` is the value.
 */
export interface ImportParameter {
  ParameterKey: string;
  UsePreviousValue?: boolean;
  ParameterValue?: string;
}

/**
 * The bounds of the waits of `importResources`: DescribeChangeSet every `pollMs` until the change set is
 * CREATE_COMPLETE (or FAILED), at most `changeSetMs`; then DescribeStacks every `pollMs` until the import ends
 * (IMPORT_COMPLETE, IMPORT_ROLLBACK_COMPLETE, IMPORT_ROLLBACK_FAILED), at most `stackMs`. Each AWS call is itself bounded
 * (src/aws/sdk.ts: SDK_MAX_ATTEMPTS attempts of at most XEKS_AWS_TIMEOUT_MS each).
 */
export interface ImportWait {
  /** Between two polls, in ms (default 2 000; the first poll is immediate). */
  pollMs: number;
  /** Longest wait for the change set to be created, in ms (default 5 minutes). */
  changeSetMs: number;
  /** Longest wait for the stack to finish the import, in ms (default 10 minutes). */
  stackMs: number;
}

/** The default bounds: poll every 2 s; 5 minutes for the change set, 10 minutes for the stack. */
export const IMPORT_WAIT: Readonly<ImportWait> = {
  pollMs: 2_000,
  changeSetMs: 5 * 60_000,
  stackMs: 10 * 60_000,
};

/** What `importResources` needs. */
export interface ImportResourcesInput {
  /** The stack's region. */
  region: string;
  /** Credentials of the stack's account (src/aws/credentials.ts `credentialProvider`, as deploy uses). */
  credentials: AwsCredentialIdentityProvider;
  stackName: string;
  /** The whole template (JSON or YAML text), e.g. `JSON.stringify(importTemplate(...))`. */
  templateBody: string;
  /** Stack parameters; for an existing stack, `UsePreviousValue: true` for the ones that keep their value. */
  parameters?: ImportParameter[];
  resourcesToImport: ResourceToImport[];
  /** Default `xeks-import-<epoch ms>` (a change set name: a letter, then letters, digits and hyphens). */
  changeSetName?: string;
  /** Wait bounds; default IMPORT_WAIT. */
  wait?: Partial<ImportWait>;
}

/** A resource the stack holds after the import. */
export interface ImportedResource {
  logicalId: string;
  resourceType: string;
  /** CloudFormation's physical id of the resource (e.g. the role name, the pcx- id). */
  physicalId: string;
}

/** What `importResources` did. */
export interface ImportResult {
  stackName: string;
  stackId: string;
  changeSetId: string;
  /** Always IMPORT_COMPLETE (any other end is thrown). */
  status: string;
  imported: ImportedResource[];
}

const IN_PROGRESS = /_IN_PROGRESS$/;
/** The ends of an import (CloudFormation stack statuses). */
const IMPORT_DONE = /^IMPORT_(COMPLETE|ROLLBACK_COMPLETE|ROLLBACK_FAILED)$/;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeIdentifier(identifier: Record<string, string>): string {
  return Object.entries(identifier)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** An SDK error as an OperationError naming the stack and the call, classified by src/aws/errors.ts. */
function callError(err: unknown, stackName: string, call: string): OperationError {
  if (err instanceof OperationError) return err;
  const facts = classifyAwsError(err);
  const e = new OperationError(
    `stack ${stackName}: cloudformation:${call} failed: ${formatAwsError(facts)}`,
    awsErrorHint(facts.kind, {
      operation: `cloudformation:${call}`,
      service: "cloudformation",
      thing: "stack",
    }),
  );
  (e as { cause?: unknown }).cause = err;
  return e;
}

/**
 * Import existing resources into a stack (a new one, or an existing one in a stable state), and wait until
 * CloudFormation has done it:
 *
 * 1. CreateChangeSet `ChangeSetType: IMPORT` (capabilities CAPABILITY_IAM and CAPABILITY_NAMED_IAM: the
 *    resources may be named IAM roles);
 * 2. DescribeChangeSet every `wait.pollMs` (default 2 s) until CREATE_COMPLETE, at most `wait.changeSetMs`
 *    (default 5 minutes). FAILED: the change set is deleted (best effort) and an OperationError names the stack
 *    and CloudFormation's status reason (nothing was imported);
 * 3. ExecuteChangeSet;
 * 4. DescribeStacks every `wait.pollMs` until the stack is IMPORT_COMPLETE, IMPORT_ROLLBACK_COMPLETE or
 *    IMPORT_ROLLBACK_FAILED (or the change set's execution failed), at most `wait.stackMs` (default 10 minutes). IMPORT_COMPLETE: the imported resources with their physical ids (DescribeStackResources).
 *    Any other status: an OperationError naming the stack, its status, the first resource whose event of this
 *    run is *_FAILED (logical id, type, identifier) and CloudFormation's reason (DescribeStackEvents).
 *
 * Every error is an OperationError (exit 1): AWS errors classified by src/aws/errors.ts (`classifyAwsError`,
 * `formatAwsError`, with the hint of their kind); a wait that runs out names what it waited for and the last
 * status seen. Each AWS call is bounded (src/aws/sdk.ts).
 */
export async function importResources(input: ImportResourcesInput): Promise<ImportResult> {
  const wait: ImportWait = { ...IMPORT_WAIT, ...input.wait };
  const { stackName } = input;
  const client = new CloudFormationClient({
    region: input.region,
    credentials: input.credentials,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: boundedRequestHandler(awsTimeoutMs(process.env), watchedAgents()),
  });
  const byLogicalId = new Map(input.resourcesToImport.map((r) => [r.LogicalResourceId, r]));
  try {
    const changeSetName = input.changeSetName ?? `xeks-import-${Date.now()}`;

    // The newest event before the import: the failure reported is the first *_FAILED event after it.
    const before = await lastEventId(client, stackName);

    let changeSetId: string;
    let stackId: string;
    try {
      const r = await client.send(
        new CreateChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
          ChangeSetType: "IMPORT",
          TemplateBody: input.templateBody,
          Parameters: input.parameters?.map((p) => ({ ...p })),
          ResourcesToImport: input.resourcesToImport.map((r) => ({ ...r })),
          Capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
          Description: "xeks: adopt existing resources",
        }),
      );
      changeSetId = r.Id ?? changeSetName;
      stackId = r.StackId ?? stackName;
    } catch (err) {
      throw callError(err, stackName, "CreateChangeSet");
    }

    // 2. The change set.
    const ready = await awaitChangeSet(client, stackName, changeSetId, wait, "import");
    if (ready.failed) {
      throw new OperationError(
        `stack ${stackName}: CloudFormation refused the import change set (${ready.failed.status}): ${ready.failed.reason}`,
        "nothing was imported or changed; the template may differ from the deployed one by more than the resources to import, or a resource lacks its identifier",
      );
    }

    // 3. Execute.
    try {
      await client.send(new ExecuteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }));
    } catch (err) {
      throw callError(err, stackName, "ExecuteChangeSet");
    }

    // 4. The stack.
    const stackDeadline = Date.now() + wait.stackMs;
    let status = "";
    let statusReason: string | undefined;
    for (;;) {
      try {
        const r = await client.send(new DescribeStacksCommand({ StackName: stackId }));
        const s = r.Stacks?.[0];
        status = s?.StackStatus ?? "";
        statusReason = s?.StackStatusReason;
      } catch (err) {
        throw callError(err, stackName, "DescribeStacks");
      }
      if (IMPORT_DONE.test(status)) break;
      // Not started yet (ExecuteChangeSet is asynchronous: the previous status may still show), or ended
      // without an import at all: the change set's execution status tells which.
      if (!status.startsWith("IMPORT_") && !IN_PROGRESS.test(status)) {
        const execution = await client
          .send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackId }))
          .then((r) => r.ExecutionStatus ?? "")
          .catch((err: unknown) => {
            throw callError(err, stackName, "DescribeChangeSet");
          });
        if (/FAILED|OBSOLETE|UNAVAILABLE/.test(execution)) break;
      }
      if (Date.now() + wait.pollMs > stackDeadline) {
        throw new OperationError(
          `stack ${stackName}: the import did not finish within ${Math.round(wait.stackMs / 60_000)} minutes (status ${status || "unknown"})`,
          "CloudFormation may still be working: watch the stack's events in the console, then run again",
        );
      }
      await sleep(wait.pollMs);
    }

    if (status !== "IMPORT_COMPLETE") {
      const failed = await firstFailure(client, stackId, before).catch(() => undefined);
      const request = failed ? byLogicalId.get(failed.LogicalResourceId ?? "") : undefined;
      const what = failed
        ? `resource ${failed.LogicalResourceId} (${failed.ResourceType}${request ? `, ${describeIdentifier(request.ResourceIdentifier)}` : ""}): ${failed.ResourceStatus}: ${failed.ResourceStatusReason ?? "no reason given"}`
        : (statusReason ?? "no failed resource event found");
      throw new OperationError(
        `stack ${stackName}: the import ended ${status}: ${what}`,
        "nothing was created or deleted (an import only takes ownership); check that each resource exists with that identifier in the stack's account and region, then run again",
      );
    }

    let imported: ImportedResource[];
    try {
      const r = await client.send(new DescribeStackResourcesCommand({ StackName: stackId }));
      imported = (r.StackResources ?? [])
        .filter((s) => byLogicalId.has(s.LogicalResourceId ?? ""))
        .map((s) => ({
          logicalId: s.LogicalResourceId ?? "",
          resourceType: s.ResourceType ?? "",
          physicalId: s.PhysicalResourceId ?? "",
        }));
    } catch (err) {
      throw callError(err, stackName, "DescribeStackResources");
    }
    return { stackName, stackId, changeSetId, status, imported };
  } finally {
    client.destroy();
  }
}

/**
 * Wait until a change set is CREATE_COMPLETE: DescribeChangeSet every `wait.pollMs`, at most `wait.changeSetMs`
 * (then an OperationError naming `purpose`, e.g. "import", and the last status). A change set CloudFormation
 * refused (FAILED, or being deleted) is deleted (best effort) and returned as `failed` with its status reason
 * ("The submitted information didn't contain changes..." for one that changes nothing). Shared by the import and
 * by `destroy --including-adopted` (src/aws/adoption.ts).
 */
export async function awaitChangeSet(
  client: CloudFormationClient,
  stackName: string,
  changeSetId: string,
  wait: Pick<ImportWait, "pollMs" | "changeSetMs">,
  purpose: string,
): Promise<{ failed?: { status: string; reason: string } }> {
  const deadline = Date.now() + wait.changeSetMs;
  for (;;) {
    let r: { Status?: string; StatusReason?: string };
    try {
      r = await client.send(
        new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }),
      );
    } catch (err) {
      throw callError(err, stackName, "DescribeChangeSet");
    }
    const status = r.Status ?? "";
    if (status === "CREATE_COMPLETE") return {};
    if (status === "FAILED" || status.startsWith("DELETE")) {
      await client
        .send(new DeleteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }))
        .catch(() => {});
      return { failed: { status, reason: r.StatusReason ?? "no reason given" } };
    }
    if (Date.now() + wait.pollMs > deadline) {
      throw new OperationError(
        `stack ${stackName}: the ${purpose} change set was not ready within ${Math.round(wait.changeSetMs / 1000)} s (status ${status || "unknown"})`,
        "nothing was changed yet; look at the change set in the CloudFormation console, delete it, and run again",
      );
    }
    await sleep(wait.pollMs);
  }
}

/** The id of the newest event of a stack, or undefined (no such stack, no events). */
async function lastEventId(client: CloudFormationClient, stackName: string): Promise<string | undefined> {
  try {
    const r = await client.send(new DescribeStackEventsCommand({ StackName: stackName }));
    return r.StackEvents?.[0]?.EventId;
  } catch (err) {
    const facts = classifyAwsError(err);
    if (facts.code === "ValidationError" && /does not exist/.test(facts.message)) return undefined;
    throw callError(err, stackName, "DescribeStackEvents");
  }
}

/**
 * The first (oldest) resource event of this run whose status ends in _FAILED: events are listed newest first,
 * so they are read until `before` (the newest event before the run), at most 10 pages.
 */
async function firstFailure(
  client: CloudFormationClient,
  stackId: string,
  before: string | undefined,
): Promise<StackEvent | undefined> {
  const run: StackEvent[] = [];
  let next: string | undefined;
  let pages = 0;
  outer: do {
    const r = await client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: next }));
    for (const e of r.StackEvents ?? []) {
      if (before !== undefined && e.EventId === before) break outer;
      run.push(e);
    }
    next = r.NextToken;
    pages++;
  } while (next && pages < 10);
  return run
    .reverse()
    .find((e) => e.ResourceType !== "AWS::CloudFormation::Stack" && /_FAILED$/.test(e.ResourceStatus ?? ""));
}
