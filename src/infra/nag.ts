/**
 * cdk-nag (AwsSolutions) acknowledgements and findings, as data. Every acknowledgement names the rule finding
 * exactly (cdk-nag 3 ids such as `AwsSolutions-IAM5[Resource::*]`) and carries the reason the finding is
 * accepted; docs/infra.md lists them.
 */
import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** Acknowledge one cdk-nag finding on a construct (and its children). The reason is mandatory. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length === 0) throw new Error(`acknowledgement of ${id} needs a reason`);
  Validations.of(scope).acknowledge({ id, reason });
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
