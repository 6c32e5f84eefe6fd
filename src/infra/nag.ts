/**
 * cdk-nag (AwsSolutions) acknowledgements and findings, as data. Every acknowledgement names the rule finding
 * exactly (cdk-nag 3 ids such as `AwsSolutions-IAM5[Resource::*]`) and carries the reason the finding is
 * accepted; docs/infra.md lists them.
 */

import { readdirSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname, join } from "node:path";
import { type CfnResource, type PolicyValidationPluginReport, Validations } from "aws-cdk-lib";
import type { NagPack, NagPackProps } from "cdk-nag";
import type { IConstruct } from "constructs";

const require = createRequire(import.meta.url);

/**
 * Every CloudFormation resource type xeks emits (src/infra/constructs, src/infra/stacks.ts). The cdk-nag pack of
 * {@link awsSolutionsChecks} runs the rule modules of {@link EAGER_RULE_MODULES} on these types and treats every
 * other rule module as not applicable to them; test/infra-nag.test.ts fails when a synthesized template holds a
 * type missing here, and proves that the deferred modules' rules answer "not applicable" for every emitted resource.
 */
export const NAG_COVERED_TYPES: readonly string[] = [
  "AWS::IAM::Role",
  "AWS::IAM::Policy",
  "AWS::IAM::RolePolicy",
  "AWS::IAM::ManagedPolicy",
  "AWS::IAM::InstanceProfile",
  "AWS::EKS::AccessEntry",
  "AWS::EKS::PodIdentityAssociation",
  "AWS::EC2::VPCPeeringConnection",
  "AWS::EC2::Route",
  "AWS::EC2::SecurityGroup",
  "AWS::EC2::SecurityGroupIngress",
  "AWS::EC2::Instance",
];

/**
 * The cdk-nag 3 rule modules (node_modules/cdk-nag/lib/rules/<name>) whose rules can apply to
 * {@link NAG_COVERED_TYPES}: they test for aws-cdk-lib's aws-iam, aws-ec2 and aws-eks L1 classes. They are loaded
 * as cdk-nag loads them; the other 43 modules of cdk-nag 3.0.2 (228 of its 260 rule files, and the aws-cdk-lib
 * service modules they require: QuickSight, SageMaker, Glue, ...) are loaded only if a resource of another type is
 * ever checked.
 */
export const EAGER_RULE_MODULES: readonly string[] = ["iam", "ec2", "eks", "vpc"];

/**
 * The deferred stand-in of one cdk-nag rule module: see {@link awsSolutionsChecks}. The pack reads a module's rule
 * (`ec2_1.EC2RestrictedInbound`) at every rule of every resource: the rules named by the module's files (cdk-nag
 * keeps one file per rule, named after it) are the stand-in's own properties, and any other name goes to a Proxy
 * behind them that makes its stand-in on first use.
 */
function deferredRuleModule(file: string, notApplicable: string): object {
  const covered = new Set(NAG_COVERED_TYPES);
  let real: Record<string, (node: CfnResource) => unknown> | undefined;
  const ruleOf = (prop: string) => {
    const rule = (node: CfnResource) => {
      if (covered.has(node.cfnResourceType)) return notApplicable;
      real ??= require(file) as Record<string, (node: CfnResource) => unknown>;
      const fn = real[prop];
      if (typeof fn !== "function") throw new Error(`cdk-nag rule ${prop} not found in ${file}`);
      return fn(node);
    };
    Object.defineProperty(rule, "name", { value: prop });
    return rule;
  };
  const others = new Map<string, (node: CfnResource) => unknown>();
  const fallback = new Proxy(
    {},
    {
      get(_target, prop) {
        if (typeof prop !== "string") return undefined;
        let rule = others.get(prop);
        if (!rule) {
          rule = ruleOf(prop);
          others.set(prop, rule);
        }
        return rule;
      },
    },
  );
  const stub: Record<string, unknown> = Object.create(fallback);
  Object.defineProperty(stub, "__esModule", { value: true });
  for (const name of readdirSync(dirname(file))) {
    const rule = /^([A-Za-z_$][\w$]*)\.js$/.exec(name)?.[1];
    if (rule && rule !== "index") stub[rule] = ruleOf(rule);
  }
  return stub;
}

type NagPackClass = new (scope?: IConstruct, props?: NagPackProps) => NagPack;
let narrowedClass: NagPackClass | undefined;

/**
 * cdk-nag's own `AwsSolutionsChecks` class (node_modules/cdk-nag/lib/packs/aws-solutions.js: same rule ids,
 * texts, levels and rule functions), loaded with every rule module outside {@link EAGER_RULE_MODULES} deferred:
 * while the pack module is required, `require.cache` holds a stand-in for each of those modules whose rules
 * answer `NagRuleCompliance.NOT_APPLICABLE` for a {@link NAG_COVERED_TYPES} resource and, for any other resource,
 * require the real module and run the real rule. The stand-ins leave the cache right after, so a later
 * `import "cdk-nag"` loads the complete pack as usual. If cdk-nag's pack is already loaded, that class is used.
 * Why: the pack requires all of its rule modules and each rule file the aws-cdk-lib module of its service (issue
 * 14 measured about 14 MB, half of plan's CPU samples); loading the complete pack costs about 0.1 s alone (CommonJS,
 * idle machine) and 0.4 s under load, the narrowed one about 0.03 s.
 */
export function awsSolutionsChecks(scope: IConstruct, props?: NagPackProps): NagPack {
  narrowedClass ??= loadNarrowedPack();
  return new narrowedClass(scope, props);
}

function loadNarrowedPack(): NagPackClass {
  const packFile = require.resolve("cdk-nag/lib/packs/aws-solutions");
  const rulesDir = join(dirname(packFile), "..", "rules");
  const notApplicable = (
    require("cdk-nag/lib/nag-rules") as { NagRuleCompliance: { NOT_APPLICABLE: string } }
  ).NagRuleCompliance.NOT_APPLICABLE;
  const packWasLoaded = require.cache[packFile] !== undefined;
  const stubs: string[] = [];
  if (!packWasLoaded) {
    for (const entry of readdirSync(rulesDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || EAGER_RULE_MODULES.includes(entry.name)) continue;
      const file = require.resolve(join(rulesDir, entry.name));
      if (require.cache[file]) continue; // already loaded for real: nothing to save
      const stub = new Module(file);
      stub.filename = file;
      stub.loaded = true;
      stub.exports = deferredRuleModule(file, notApplicable);
      require.cache[file] = stub;
      stubs.push(file);
    }
  }
  try {
    return (require(packFile) as { AwsSolutionsChecks: NagPackClass }).AwsSolutionsChecks;
  } finally {
    for (const file of stubs) delete require.cache[file];
    if (!packWasLoaded) delete require.cache[packFile];
  }
}

/**
 * Acknowledge one cdk-nag finding on a construct (and its children). The reason is mandatory. The id is the finding
 * as cdk-nag names it (`AwsSolutions-IAM5[Resource::*]`), without a CDK validation namespace (`Prefix::Rule`): cdk-nag
 * matches acknowledgements itself (`NagPack.isAcknowledged`), and a namespaced id is one only CDK's report would
 * match, which `synthesize` does not ask for ({@link nagFindings}).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length === 0) throw new Error(`acknowledgement of ${id} needs a reason`);
  if (hasNamespace(id))
    throw new Error(`acknowledgement ${id}: name the cdk-nag finding without a namespace`);
  Validations.of(scope).acknowledge({ id, reason });
  // aws-cdk-lib records each acknowledgement with a stack trace of this process (`recordAcknowledgment` passes
  // stackTraceOverride, whatever aws:cdk:disable-creation-stack-traces says), which puts this machine's file paths
  // into <stack>.metadata.json. The trace says nothing about the topology: drop it, so the assembly holds no path
  // of the machine that planned it and two plans of one file write the same bytes.
  const entry = scope.node.metadata.findLast((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
  if (entry) delete (entry as { trace?: string[] }).trace;
}

/** Whether a validation id has a `Prefix::` namespace: `::` outside brackets (aws-cdk-lib `parseValidationId`). */
function hasNamespace(id: string): boolean {
  let depth = 0;
  for (let i = 0; i < id.length; i++) {
    const c = id[i];
    if (c === "[" || c === "(" || c === "{") depth++;
    else if (c === "]" || c === ")" || c === "}") depth--;
    else if (c === ":" && id[i + 1] === ":" && depth === 0) return true;
  }
  return false;
}

/** A rule finding acknowledged somewhere in an app. */
export interface Acknowledgement {
  /** Construct path, `xeks-prac-eks-abhi-cluster-base/PeeringAccepterRole`. */
  path: string;
  /** Finding id, `AwsSolutions-IAM5[Resource::*]`. */
  id: string;
  reason: string;
}

/** A finding no acknowledgement covers. Any of them makes `synthesize` fail. */
export interface NagFinding {
  rule: string;
  description: string;
  severity: string;
  paths: string[];
}

/** Every acknowledgement recorded in the construct tree under `root`. */
export function collectAcknowledgements(root: IConstruct): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      const data = entry.data as Record<string, string>;
      for (const [key, reason] of Object.entries(data)) {
        out.push({ path: node.node.path, id: key.replace(/^Annotation::/, ""), reason });
      }
    }
  }
  return out;
}

interface ValidationReport {
  pluginReports?: {
    pluginName: string;
    violations: {
      ruleName: string;
      description: string;
      severity: string;
      violatingConstructs?: { constructPath?: string }[];
      violatingResources?: { resourceLogicalId?: string; templatePath?: string }[];
    }[];
  }[];
}

/**
 * The findings of a cdk-nag pack's own report (`NagPack.validateScope(app)`), as {@link findingsOf} reads them from
 * the `validation-report.json` CDK writes when the pack runs as a validation plugin (aws-cdk-lib 2.276
 * `PolicyValidationReportFormatter.formatJson`): one per violation in the pack's order, the severity lower-cased
 * (`custom` when unknown, `error` when absent), the construct path of each violating resource. Equal to them because
 * CDK's own suppression pass matches only namespaced acknowledgement ids, which {@link acknowledge} refuses.
 */
export function nagFindings(report: PolicyValidationPluginReport): NagFinding[] {
  return report.violations.map((v) => {
    const severity = (v.severity || "error").toLowerCase();
    return {
      rule: v.ruleName,
      description: v.description,
      severity: KNOWN_SEVERITIES.has(severity) ? severity : "custom",
      paths: v.violatingResources.map((r) => r.constructPath ?? ""),
    };
  });
}

const KNOWN_SEVERITIES = new Set(["fatal", "error", "warning", "info"]);

/** The findings of a CDK `validation-report.json` that no acknowledgement suppressed. */
export function findingsOf(report: unknown): NagFinding[] {
  const r = report as ValidationReport;
  return (r.pluginReports ?? []).flatMap((p) =>
    p.violations.map((v) => ({
      rule: v.ruleName,
      description: v.description,
      severity: v.severity,
      paths: [
        ...(v.violatingConstructs ?? []).map((c) => c.constructPath ?? "?"),
        ...(v.violatingResources ?? []).map((c) => `${c.templatePath ?? "?"}#${c.resourceLogicalId ?? "?"}`),
      ],
    })),
  );
}
