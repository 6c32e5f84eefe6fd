/**
 * cdk-nag as xeks runs it (src/infra/nag.ts `awsSolutionsChecks`): cdk-nag's own AwsSolutions pack with the rule
 * modules of services xeks never emits deferred. These tests prove it is equivalent to the complete pack on what
 * xeks synthesizes: every rule gives the same answer on every resource of the examples and of a generated
 * topology, the reports match, the deferred modules' rules are all "not applicable" there, and every emitted
 * resource type is one the narrowed pack covers.
 *
 * Order matters: the narrowed pack is loaded before anything loads the complete `cdk-nag` (a static
 * `import "cdk-nag"` here would make both the same class, which the first test refuses).
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { App, type CfnResource, CfnResource as CfnResourceClass } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import {
  awsSolutionsChecks,
  collectAcknowledgements,
  EAGER_RULE_MODULES,
  NAG_COVERED_TYPES,
} from "../src/infra/nag.js";
import { buildApp } from "../src/infra/synthesize.js";
import { loadTopology } from "../src/topology/index.js";
import type { Topology } from "../src/topology/types.js";
import { tempDir } from "./helpers/infra.js";
import { generatedTopology } from "./helpers/topologies.js";

const require = createRequire(import.meta.url);

// Loaded first, while no complete pack is in the module cache.
const narrowedPack = awsSolutionsChecks(new App());
const ruleModulesLoaded = new Set(
  Object.keys(require.cache).flatMap(
    (file) => /[\\/]cdk-nag[\\/]lib[\\/]rules[\\/]([^\\/]+)[\\/]/.exec(file)?.[1] ?? [],
  ),
);
const cdkNag = (await import("cdk-nag")) as typeof import("cdk-nag");

const EXAMPLES = join(import.meta.dirname, "..", "examples");
const topologies: [string, Topology][] = [
  ...readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f): [string, Topology] => [f, loadTopology(join(EXAMPLES, f))]),
  ["generated 12 clients", generatedTopology(12)],
];

interface Outcome {
  rule: string;
  path: string;
  result: string;
}

/** Run a pack over an app's tree, recording every rule's answer on every resource, and its report. */
function runPack(pack: import("cdk-nag").NagPack, app: App) {
  const outcomes: Outcome[] = [];
  const p = pack as unknown as { applyRule(params: ApplyRuleParams): void };
  const apply = p.applyRule.bind(pack);
  p.applyRule = (params: ApplyRuleParams) => {
    let result: string;
    try {
      const r = params.rule(params.node);
      result = Array.isArray(r) ? `findings:${r.join(",")}` : String(r);
    } catch (e) {
      result = `threw:${(e as Error).message}`;
    }
    outcomes.push({
      rule: params.ruleSuffixOverride ?? params.rule.name,
      path: params.node.node.path,
      result,
    });
    apply(params);
  };
  const report = pack.validateScope(app);
  return { outcomes, report };
}

interface ApplyRuleParams {
  ruleSuffixOverride?: string;
  node: CfnResource;
  rule(node: CfnResource): unknown;
}

function cfnResources(root: IConstruct): CfnResource[] {
  return root.node.findAll().filter((c): c is CfnResource => CfnResourceClass.isCfnResource(c));
}

function appOf(topology: Topology): App {
  const { app } = buildApp(topology, { outdir: tempDir("xeks-nag-"), nag: false });
  app.synth();
  return app;
}

test("the narrowed pack is cdk-nag's AwsSolutions class, loaded without the deferred rule modules", () => {
  assert.equal(narrowedPack.constructor.name, "AwsSolutionsChecks");
  assert.notEqual(narrowedPack.constructor, cdkNag.AwsSolutionsChecks, "the complete pack was loaded first");
  // Only the eager rule modules ran their module code (and required their aws-cdk-lib modules).
  assert.deepEqual([...ruleModulesLoaded].sort(), [...EAGER_RULE_MODULES].sort());
  assert.ok(narrowedPack instanceof cdkNag.NagPack);
});

for (const [name, topology] of topologies) {
  test(`${name}: every AwsSolutions rule answers the same on every resource, narrowed and complete`, () => {
    const app = appOf(topology);
    const narrowed = runPack(awsSolutionsChecks(app), app);
    const full = runPack(new cdkNag.AwsSolutionsChecks(app), app);
    assert.ok(full.outcomes.length > 0);
    assert.deepEqual(narrowed.outcomes, full.outcomes);
    assert.deepEqual(narrowed.report, full.report);
    // Both read the same acknowledgements from the tree; nothing is left open on the examples.
    assert.ok(collectAcknowledgements(app).length > 0 || name.startsWith("generated"));
    assert.equal(full.report.success, true, JSON.stringify(full.report.violations));
  });

  test(`${name}: the deferred rule modules answer "not applicable" for every emitted resource`, () => {
    const app = appOf(topology);
    const resources = cfnResources(app);
    const rules = cdkNag.rules as unknown as Record<string, Record<string, unknown>>;
    const deferred = Object.keys(rules).filter((m) => !EAGER_RULE_MODULES.includes(m));
    assert.ok(deferred.length > 30, `only ${deferred.length} deferred modules`);
    for (const module of deferred) {
      for (const [ruleName, rule] of Object.entries(rules[module] ?? {})) {
        if (typeof rule !== "function") continue;
        for (const node of resources) {
          let result: unknown;
          try {
            result = (rule as (n: CfnResource) => unknown)(node);
          } catch (e) {
            result = `threw: ${(e as Error).message}`;
          }
          assert.equal(
            result,
            cdkNag.NagRuleCompliance.NOT_APPLICABLE,
            `${module}.${ruleName} on ${node.cfnResourceType} ${node.node.path}`,
          );
        }
      }
    }
  });

  test(`${name}: every resource type xeks emits is covered by the narrowed pack`, () => {
    const app = appOf(topology);
    const assembly = app.synth();
    const types = new Set<string>();
    for (const stack of assembly.stacks) {
      const resources = (stack.template as { Resources?: Record<string, { Type: string }> }).Resources ?? {};
      for (const r of Object.values(resources)) types.add(r.Type);
    }
    assert.ok(types.size > 0);
    const uncovered = [...types].filter((t) => !NAG_COVERED_TYPES.includes(t));
    assert.deepEqual(
      uncovered,
      [],
      "add the type to NAG_COVERED_TYPES (src/infra/nag.ts) only after checking which cdk-nag rule modules apply to it",
    );
  });
}
