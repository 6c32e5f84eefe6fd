/**
 * The StackSets calls of deploy and doctor (docs/organizations.md): a service-managed StackSet in the administrator
 * account, its stack instances in the accounts of organizational units, and the operations that make them. Every
 * call passes `CallAs` (SELF in the management account, DELEGATED_ADMIN in a delegated administrator account).
 * Clients: SDK_MAX_ATTEMPTS (3) attempts per call, each ended within XEKS_AWS_TIMEOUT_MS and watched
 * (src/aws/watchdog.ts), a silent logger; endpoints from the standard environment (AWS_ENDPOINT_URL).
 *
 * Source of each fact: AWS CloudFormation API Reference: CreateStackSet, UpdateStackSet, DescribeStackSet
 * (StackSetNotFoundException when there is none), CreateStackInstances (DeploymentTargets.OrganizationalUnitIds,
 * Regions, OperationPreferences), DescribeStackSetOperation (Status RUNNING | SUCCEEDED | FAILED | STOPPING |
 * STOPPED | QUEUED, StatusReason), ListStackInstances (StackInstanceSummary: Account, Region, Status CURRENT |
 * OUTDATED | INOPERABLE, StatusReason, StackInstanceStatus.DetailedStatus, OrganizationalUnitId).
 */
import {
  CloudFormationClient,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DeleteStackInstancesCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  ListStackInstancesCommand,
  ListStackSetOperationsCommand,
  type StackInstanceSummary,
  UpdateStackSetCommand,
} from "@aws-sdk/client-cloudformation";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import type { StackInstanceFact, StackSetCallAs } from "../domain/stackset.js";
import { ReadFailure, read } from "./read-errors.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import type { Session } from "./session.js";
import { watchedRequestHandler } from "./watchdog.js";

/** What xeks creates: a service-managed StackSet (manifest `stackSets[]`, src/infra/manifest.ts). */
export interface StackSetSpec {
  name: string;
  callAs: StackSetCallAs;
  autoDeployment: { enabled: boolean; retainStacksOnAccountRemoval: boolean };
  organizationalUnits: string[];
  regions: string[];
  capabilities: string[];
  description: string;
  /** Tags on the StackSet (propagated to the member stacks). */
  tags: Record<string, string>;
}

/** A StackSet as DescribeStackSet gives it. */
export interface StackSetState {
  name: string;
  /** ACTIVE or DELETED. */
  status: string;
  templateBody: string;
  permissionModel?: string;
  /** AutoDeployment as deployed (absent when DescribeStackSet does not say: moto 5.2 does not keep it). */
  autoDeployment?: { enabled: boolean; retainStacksOnAccountRemoval: boolean };
  /** StackSet.OrganizationalUnitIds: the OUs targeted so far (absent when not given: moto 5.2). */
  organizationalUnits?: string[];
  /** StackSet.Regions: the regions with stack instances (absent when not given: moto 5.2). */
  regions?: string[];
}

/** A StackSet operation (ListStackSetOperations StackSetOperationSummary). */
export interface StackSetOperationSummary {
  id: string;
  /** CREATE, UPDATE, DELETE, DETECT_DRIFT. */
  action: string;
  status: string;
}

/** One stack instance (ListStackInstances), see StackInstanceFact. */
export type StackInstanceInfo = StackInstanceFact;

/** The StackSets calls, behind an interface so that deploy and doctor can be driven by fakes. */
export interface StackSetApi {
  /** undefined when there is no such StackSet (or only a deleted one). */
  describe(name: string, callAs: StackSetCallAs): Promise<StackSetState | undefined>;
  create(spec: StackSetSpec, templateBody: string): Promise<void>;
  /**
   * UpdateStackSet of the template and settings on the OUs and regions (the StackSet alone when either list is
   * empty); returns the operation id.
   */
  update(spec: StackSetSpec, templateBody: string): Promise<string>;
  /** CreateStackInstances on the OUs and regions; returns the operation id. */
  createInstances(spec: StackSetSpec): Promise<string>;
  operation(
    name: string,
    operationId: string,
    callAs: StackSetCallAs,
  ): Promise<{ status: string; reason?: string }>;
  /**
   * DeleteStackInstances on the OUs and regions (RetainStacks false: the member stacks are deleted); returns the
   * operation id.
   */
  deleteInstances(
    name: string,
    callAs: StackSetCallAs,
    organizationalUnits: string[],
    regions: string[],
  ): Promise<string>;
  /** The StackSet's operations still running (RUNNING, QUEUED or STOPPING; ListStackSetOperations, all pages). */
  runningOperations(name: string, callAs: StackSetCallAs): Promise<StackSetOperationSummary[]>;
  /** Every stack instance (all pages). */
  listInstances(name: string, callAs: StackSetCallAs): Promise<StackInstanceInfo[]>;
}

/**
 * How the stack instances are deployed: every account of a region at once (MaxConcurrentPercentage 100), regions
 * in parallel, no failure tolerated (a failing account fails the operation, which deploy reports).
 */
const OPERATION_PREFERENCES = {
  RegionConcurrencyType: "PARALLEL",
  MaxConcurrentPercentage: 100,
  FailureTolerancePercentage: 0,
} as const;

/** Operation states that are not an end (StackSetOperation Status). */
export const RUNNING_OPERATION: ReadonlySet<string> = new Set(["RUNNING", "QUEUED", "STOPPING"]);

/**
 * The settings CreateStackSet and UpdateStackSet both take (CloudFormation API Reference, CreateStackSet and
 * UpdateStackSet): name, description, member template, SERVICE_MANAGED permission model, AutoDeployment,
 * capabilities and CallAs.
 */
function stackSetSettings(spec: StackSetSpec, templateBody: string) {
  return {
    StackSetName: spec.name,
    Description: spec.description,
    TemplateBody: templateBody,
    PermissionModel: "SERVICE_MANAGED" as const,
    AutoDeployment: {
      Enabled: spec.autoDeployment.enabled,
      RetainStacksOnAccountRemoval: spec.autoDeployment.retainStacksOnAccountRemoval,
    },
    Capabilities: spec.capabilities as never,
    CallAs: spec.callAs,
  };
}

function tagList(tags: Record<string, string>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? "Error";
}

/** The SDK implementation for one set of credentials in the StackSet's region. */
export function stackSetApi(provider: AwsCredentialIdentityProvider, region: string): StackSetApi {
  const client = new CloudFormationClient({
    region,
    credentials: provider,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: watchedRequestHandler(),
  });
  return {
    async describe(name, callAs) {
      try {
        const r = await client.send(new DescribeStackSetCommand({ StackSetName: name, CallAs: callAs }));
        const s = r.StackSet;
        if (!s || s.Status === "DELETED") return undefined;
        const auto = s.AutoDeployment;
        return {
          name,
          status: s.Status ?? "UNKNOWN",
          templateBody: s.TemplateBody ?? "",
          ...(s.PermissionModel ? { permissionModel: s.PermissionModel } : {}),
          ...(auto?.Enabled !== undefined
            ? {
                autoDeployment: {
                  enabled: auto.Enabled,
                  retainStacksOnAccountRemoval: auto.RetainStacksOnAccountRemoval ?? false,
                },
              }
            : {}),
          ...(s.OrganizationalUnitIds?.length ? { organizationalUnits: [...s.OrganizationalUnitIds] } : {}),
          ...(s.Regions?.length ? { regions: [...s.Regions] } : {}),
        };
      } catch (err) {
        if (/StackSetNotFound/.test(errorName(err))) return undefined;
        throw err;
      }
    },
    async create(spec, templateBody) {
      await client.send(
        new CreateStackSetCommand({
          ...stackSetSettings(spec, templateBody),
          Tags: tagList(spec.tags),
        }),
      );
    },
    async update(spec, templateBody) {
      const r = await client.send(
        new UpdateStackSetCommand({
          ...stackSetSettings(spec, templateBody),
          ...(spec.organizationalUnits.length > 0 && spec.regions.length > 0
            ? {
                DeploymentTargets: { OrganizationalUnitIds: [...spec.organizationalUnits] },
                Regions: [...spec.regions],
                OperationPreferences: { ...OPERATION_PREFERENCES },
              }
            : {}),
          Tags: tagList(spec.tags),
        }),
      );
      return r.OperationId ?? "";
    },
    async createInstances(spec) {
      const r = await client.send(
        new CreateStackInstancesCommand({
          StackSetName: spec.name,
          DeploymentTargets: { OrganizationalUnitIds: [...spec.organizationalUnits] },
          Regions: [...spec.regions],
          OperationPreferences: { ...OPERATION_PREFERENCES },
          CallAs: spec.callAs,
        }),
      );
      return r.OperationId ?? "";
    },
    async deleteInstances(name, callAs, organizationalUnits, regions) {
      const r = await client.send(
        new DeleteStackInstancesCommand({
          StackSetName: name,
          DeploymentTargets: { OrganizationalUnitIds: [...organizationalUnits] },
          Regions: [...regions],
          RetainStacks: false,
          OperationPreferences: { ...OPERATION_PREFERENCES },
          CallAs: callAs,
        }),
      );
      return r.OperationId ?? "";
    },
    async runningOperations(name, callAs) {
      const out: StackSetOperationSummary[] = [];
      let next: string | undefined;
      do {
        const r = await client.send(
          new ListStackSetOperationsCommand({ StackSetName: name, CallAs: callAs, NextToken: next }),
        );
        for (const o of r.Summaries ?? []) {
          if (o.Status && RUNNING_OPERATION.has(o.Status)) {
            out.push({ id: o.OperationId ?? "", action: o.Action ?? "", status: o.Status });
          }
        }
        next = r.NextToken;
      } while (next);
      return out;
    },
    async operation(name, operationId, callAs) {
      const r = await client.send(
        new DescribeStackSetOperationCommand({
          StackSetName: name,
          OperationId: operationId,
          CallAs: callAs,
        }),
      );
      const op = r.StackSetOperation;
      return {
        status: op?.Status ?? "UNKNOWN",
        ...(op?.StatusReason ? { reason: op.StatusReason } : {}),
      };
    },
    async listInstances(name, callAs) {
      const out: StackInstanceInfo[] = [];
      let next: string | undefined;
      do {
        const r = await client.send(
          new ListStackInstancesCommand({ StackSetName: name, CallAs: callAs, NextToken: next }),
        );
        for (const s of r.Summaries ?? []) out.push(instanceFact(s));
        next = r.NextToken;
      } while (next);
      return out;
    },
  };
}

/** A StackInstanceSummary as xeks reads it. */
function instanceFact(s: StackInstanceSummary): StackInstanceFact {
  return {
    account: s.Account ?? "",
    region: s.Region ?? "",
    status: s.Status ?? "UNKNOWN",
    ...(s.StatusReason ? { statusReason: s.StatusReason } : {}),
    ...(s.StackInstanceStatus?.DetailedStatus
      ? { detailedStatus: s.StackInstanceStatus.DetailedStatus }
      : {}),
    ...(s.OrganizationalUnitId ? { organizationalUnit: s.OrganizationalUnitId } : {}),
  };
}

/**
 * doctor's read (read-only, through a live Session): every stack instance of a StackSet (ListStackInstances, all
 * pages, with CallAs); undefined when there is no such StackSet (StackSetNotFoundException). Other failures are a
 * ReadFailure naming cloudformation:ListStackInstances.
 */
export async function readStackInstances(
  session: Session,
  name: string,
  callAs: StackSetCallAs,
): Promise<StackInstanceFact[] | undefined> {
  const client = session.cloudformation?.();
  if (!client) throw new Error("this session has no CloudFormation client");
  const out: StackInstanceFact[] = [];
  let next: string | undefined;
  try {
    do {
      const r = await read("cloudformation:ListStackInstances", () =>
        client.send(new ListStackInstancesCommand({ StackSetName: name, CallAs: callAs, NextToken: next })),
      );
      for (const s of r.Summaries ?? []) out.push(instanceFact(s));
      next = r.NextToken;
    } while (next);
  } catch (err) {
    if (err instanceof ReadFailure && /StackSetNotFound/.test(err.error.detail)) return undefined;
    throw err;
  }
  return out;
}
