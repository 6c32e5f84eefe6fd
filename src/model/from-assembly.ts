/**
 * Read a synthesized assembly (xeks.manifest.json and the templates beside it) into the stacks the plan
 * model is built from.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors.js";
import {
  manifestStacks,
  XEKS_MANIFEST_FILE,
  type XeksManifest,
  type XeksManifestStack,
} from "../infra/manifest.js";
import type { Topology } from "../topology/types.js";
import { type CfnTemplate, modelFromTemplates, type PlannedStack } from "./from-templates.js";
import type { Model } from "./types.js";

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (err) {
    throw new OperationError(
      `cannot read ${file}: ${(err as Error).message}`,
      "run xeks plan to synthesize it again",
    );
  }
}

/** The planned stacks of a manifest, with each parameter's source; `templateOf` supplies each template. */
export function plannedStacks(
  manifest: XeksManifest,
  templateOf: (stack: XeksManifestStack) => CfnTemplate,
): PlannedStack[] {
  const stacks: PlannedStack[] = manifestStacks(manifest).map((s) => ({
    stackName: s.name,
    account: s.account,
    region: s.region,
    template: templateOf(s),
    parameterSources: Object.fromEntries(
      s.parameters.map((p) => [p.name, { stack: p.source.stack, output: p.source.output }]),
    ),
  }));
  // A StackSet's member template, as a stack in account "*" (every member: its role is arn:…:iam::*:role/…).
  for (const set of manifest.stackSets ?? []) {
    stacks.push({
      stackName: set.name,
      account: "*",
      region: set.region,
      template: templateOf({
        ...set,
        kind: "client-identity",
        dependsOn: [],
        parameters: [],
        outputs: [],
        imports: [],
      }),
      parameterSources: {},
    });
  }
  return stacks;
}

/** The stacks of an assembly directory, as written by `xeks plan`. */
export function readAssembly(dir: string): { manifest: XeksManifest; stacks: PlannedStack[] } {
  const manifest = readJson<XeksManifest>(join(dir, XEKS_MANIFEST_FILE));
  return {
    manifest,
    stacks: plannedStacks(manifest, (s) => readJson<CfnTemplate>(join(dir, s.templateFile))),
  };
}

/** The plan model of a topology whose assembly was synthesized into `dir`. */
export function modelFromAssembly(topology: Topology, dir: string): Model {
  return modelFromTemplates(topology, readAssembly(dir).stacks);
}
