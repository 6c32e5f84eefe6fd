/** Helpers for the infra tests: synthesize into a fresh temporary directory and read templates. */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { type SynthesisResult, type SynthesizeOptions, synthesize } from "../../src/infra/synthesize.js";
import type { Topology } from "../../src/topology/types.js";

/** A new empty temporary directory. */
export function tempDir(prefix = "xeks-infra-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Synthesize (with cdk-nag, as plan does) into `<tmp>/out`. */
export function synth(topology: Topology, options: Partial<SynthesizeOptions> = {}): SynthesisResult {
  return synthesize(topology, { outDir: join(tempDir(), "out"), ...options });
}

/** The template of one stack, for aws-cdk-lib/assertions. */
export function templateOf(result: SynthesisResult, stackName: string): Template {
  const json = result.templates.get(stackName);
  assert.ok(json, `no stack ${stackName}; stacks: ${[...result.templates.keys()].join(", ")}`);
  return Template.fromJSON(json);
}

/** Properties of every resource of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Record<string, unknown>> {
  const found = template.findResources(type);
  return Object.fromEntries(
    Object.entries(found).map(([id, r]) => [
      id,
      (r as { Properties?: Record<string, unknown> }).Properties ?? {},
    ]),
  );
}

/** The only resource of a type in a template. */
export function onlyResource(template: Template, type: string): Record<string, unknown> {
  const all = Object.values(resourcesOf(template, type));
  assert.equal(all.length, 1, `expected exactly one ${type}, found ${all.length}`);
  return all[0] as Record<string, unknown>;
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
  Sid?: string;
}

/** Every IAM policy statement of a template: inline role policies, RolePolicy, Policy, trust policies. */
export function statementsOf(json: Record<string, unknown>): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  const resources = (json.Resources ?? {}) as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const push = (where: string, doc: unknown) => {
    const statements = (doc as { Statement?: Statement | Statement[] } | undefined)?.Statement;
    for (const s of Array.isArray(statements) ? statements : statements ? [statements] : []) {
      out.push({ where, statement: s });
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    if (r.Type === "AWS::IAM::Role") {
      push(`${id}.AssumeRolePolicyDocument`, p.AssumeRolePolicyDocument);
      for (const pol of (p.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]) {
        push(`${id}.${pol.PolicyName}`, pol.PolicyDocument);
      }
    }
    if (r.Type === "AWS::IAM::RolePolicy" || r.Type === "AWS::IAM::Policy") push(id, p.PolicyDocument);
  }
  return out;
}

export const actionsOf = (s: Statement): string[] =>
  Array.isArray(s.Action) ? s.Action : s.Action ? [s.Action] : [];
