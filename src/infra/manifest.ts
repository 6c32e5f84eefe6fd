/**
 * `xeks.manifest.json`: xeks's own manifest beside the CDK cloud assembly. It says in which order the stacks
 * deploy (phases), in which account and region, and where each CloudFormation parameter's value comes from
 * (an output of a stack of an earlier phase): the cross-account values CDK references cannot carry.
 * Read by deploy, doctor and the plan proof. Public format: extend it, never break it.
 */
import type { XeksManifestImport } from "../domain/adoption.js";
import { sameJson } from "../domain/json.js";
import type { Adoption, Layout, PhaseName, PieceLayout, Side, StackKind } from "../layout/layout.js";

export type { XeksManifestImport } from "../domain/adoption.js";

import type { Acknowledgement } from "./nag.js";

export const XEKS_MANIFEST_FILE = "xeks.manifest.json";

export interface XeksManifest {
  kind: "XeksManifest";
  version: 1;
  /** The CDK cloud assembly manifest in the same directory. */
  assembly: "manifest.json";
  cluster: { name: string; account: string; region: string; arn: string; partition: string };
  /** Deployment order: every stack of phase N is deployed before any stack of phase N+1; destroy in reverse. */
  phases: XeksManifestPhase[];
  /** cdk-nag: whether it ran and what was acknowledged (with reasons). */
  nag: { pack: "AwsSolutions"; ran: boolean; acknowledged: Acknowledgement[] };
  /** Remarks on the planned state (an existing route in the way, a client no access role names). */
  notes: string[];
  /** Each piece of the chain and what deploy does with it: create, adopt or leave (docs/adopt.md). */
  pieces: PieceLayout[];
  /**
   * The service-managed StackSets of clients from an organization (docs/organizations.md), deployed in phase 1 in their
   * administrator accounts through the StackSets API; not in `phases[].stacks`. Absent: none.
   */
  stackSets?: XeksManifestStackSet[];
}

/** A StackSet of the manifest: the administrator side, and the member template it deploys in every account. */
export interface XeksManifestStackSet {
  /** The StackSet's name (also the member template's artifact id). */
  name: string;
  client: string;
  phase: 1;
  /** The administrator account (the management account, or a delegated administrator: `callAs`). */
  account: string;
  /** The StackSet's own region. */
  region: string;
  permissionModel: "SERVICE_MANAGED";
  callAs: "SELF" | "DELEGATED_ADMIN";
  autoDeployment: { enabled: true; retainStacksOnAccountRemoval: boolean };
  organizationalUnits: string[];
  /** The regions of the stack instances. */
  regions: string[];
  capabilities: string[];
  description: string;
  /** The member template, relative to the assembly directory (environment-agnostic). */
  templateFile: string;
  templateBytes: number;
}

export interface XeksManifestPhase {
  /** 1-based. */
  number: number;
  name: PhaseName;
  /** Which side's accounts the phase deploys to. */
  side: Side;
  title: string;
  /** Accounts the phase deploys to (one set of credentials each). */
  accounts: string[];
  /** Stacks of the phase: independent of each other, deployable in parallel. */
  stacks: XeksManifestStack[];
}

export interface XeksManifestStack {
  /** CloudFormation stack name; also the cloud assembly artifact id. */
  name: string;
  kind: StackKind;
  account: string;
  region: string;
  /** The client (client-identity, client-link, cluster-link stacks). */
  client?: string;
  /** The access role (cluster-access stacks). */
  accessRole?: string;
  /** Template file, relative to the assembly directory. */
  templateFile: string;
  /** Size of the template file in bytes (CloudFormation takes 51,200 inline, without an S3 bucket). */
  templateBytes: number;
  /** Stacks (of earlier phases) that must exist first. */
  dependsOn: string[];
  /** CloudFormation parameters without a default, and where each value comes from. */
  parameters: XeksManifestParameter[];
  outputs: XeksManifestOutput[];
  /** Resources of the stack that exist and that deploy imports before updating the stack (docs/adopt.md). */
  imports: XeksManifestImport[];
}

/** An intrinsic function (`{ Ref }`, `{ "Fn::GetAtt" }`, ...): its value is known only at deploy. */
function isIntrinsic(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === "Ref" || (keys[0] ?? "").startsWith("Fn::"));
}

/**
 * The manifest's import record of an adopted resource, from its synthesized template: the template's properties
 * with the found ones in place (`null`: absent on the piece), and the differences a reader should see (a found
 * value against a literal planned one; a `Ref` the import replaces by the found literal is not a difference).
 */
export function importRecord(
  adoption: Adoption & { logicalId: string },
  template: Record<string, unknown> | undefined,
): XeksManifestImport {
  const resources = (template?.Resources ?? {}) as Record<string, { Properties?: Record<string, unknown> }>;
  const planned = resources[adoption.logicalId]?.Properties ?? {};
  const properties: Record<string, unknown> = { ...planned };
  const differences: XeksManifestImport["differences"] = [];
  for (const [key, value] of Object.entries(adoption.found)) {
    if (value === null) delete properties[key];
    else properties[key] = value;
    const was = planned[key];
    if (isIntrinsic(was)) continue;
    if (!sameJson(value ?? undefined, was)) {
      differences.push({ property: key, found: value ?? null, planned: was ?? null });
    }
  }
  return {
    logicalId: adoption.logicalId,
    resourceType: adoption.resourceType,
    identifier: { ...adoption.identifier },
    piece: adoption.piece,
    properties,
    differences,
  };
}

export interface XeksManifestParameter {
  name: string;
  description: string;
  /** Read this output of this stack (deployed in `phase`) and pass it as the parameter. */
  source: { stack: string; output: string; phase: number };
}

export interface XeksManifestOutput {
  name: string;
  description: string;
  /** The value when known before deployment (a literal ARN or name). */
  value?: string;
}

/** Build the manifest from the layout and what synthesis wrote. */
export function buildManifest(
  layout: Layout,
  files: Map<string, { templateFile: string; templateBytes: number }>,
  nag: XeksManifest["nag"],
  imports: Map<string, XeksManifestImport[]> = new Map(),
): XeksManifest {
  return {
    kind: "XeksManifest",
    version: 1,
    assembly: "manifest.json",
    cluster: { ...layout.cluster },
    phases: layout.phases.map((p) => ({
      number: p.number,
      name: p.name,
      side: p.side,
      title: p.title,
      accounts: [...new Set(p.stacks.map((s) => s.account))],
      stacks: p.stacks.map((s) => {
        const file = files.get(s.name);
        return {
          name: s.name,
          kind: s.kind,
          account: s.account,
          region: s.region,
          ...(s.client ? { client: s.client } : {}),
          ...(s.accessRole ? { accessRole: s.accessRole } : {}),
          templateFile: file?.templateFile ?? `${s.name}.template.json`,
          templateBytes: file?.templateBytes ?? 0,
          dependsOn: [...s.dependsOn],
          parameters: s.parameters.map((param) => ({
            name: param.name,
            description: param.description,
            source: { ...param.from },
          })),
          outputs: s.outputs.map((o) => ({ ...o })),
          imports: imports.get(s.name) ?? [],
        };
      }),
    })),
    nag,
    notes: [...layout.notes],
    pieces: layout.pieces.map((p) => ({ ...p })),
    ...(layout.stackSets && layout.stackSets.length > 0
      ? {
          stackSets: layout.stackSets.map((set) => {
            const file = files.get(set.name);
            return {
              name: set.name,
              client: set.client,
              phase: set.phase,
              account: set.account,
              region: set.region,
              permissionModel: set.permissionModel,
              callAs: set.callAs,
              autoDeployment: { ...set.autoDeployment },
              organizationalUnits: [...set.organizationalUnits],
              regions: [...set.regions],
              capabilities: [...set.capabilities],
              description: set.description,
              templateFile: file?.templateFile ?? `${set.name}.template.json`,
              templateBytes: file?.templateBytes ?? 0,
            };
          }),
        }
      : {}),
  };
}

/** Every stack of a manifest, in deployment order. */
export function manifestStacks(manifest: XeksManifest): XeksManifestStack[] {
  return manifest.phases.flatMap((p) => p.stacks);
}
