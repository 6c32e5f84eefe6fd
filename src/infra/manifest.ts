/**
 * `xeks.manifest.json`: xeks's own manifest beside the CDK cloud assembly. It says in which order the stacks
 * deploy (phases), in which account and region, and where each CloudFormation parameter's value comes from
 * (an output of a stack of an earlier phase): the cross-account values CDK references cannot carry.
 * Read by deploy, doctor and the plan proof. Public format: extend it, never break it.
 */
import type { Layout, PhaseName, Side, StackKind } from "./layout.js";
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
        };
      }),
    })),
    nag,
    notes: [...layout.notes],
  };
}

/** Every stack of a manifest, in deployment order. */
export function manifestStacks(manifest: XeksManifest): XeksManifestStack[] {
  return manifest.phases.flatMap((p) => p.stacks);
}
