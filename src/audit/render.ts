/**
 * The audit report as text (grouped by severity), as one JSON document, and as SARIF 2.1.0 (OASIS Static
 * Analysis Results Interchange Format, the schema `sarif-schema-2.1.0.json`) for code-scanning UIs. Pure: each
 * returns a string; only src/cli prints.
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { type AuditReport, FINDING_IDS, type Finding, RULES, SEVERITIES, type Severity } from "./findings.js";

const HEADINGS: Record<Severity, string> = { error: "Errors", warning: "Warnings", note: "Notes" };

/** Options of the text renderer. */
export interface TextOptions {
  /** Also print each finding's evidence. Default false. */
  verbose?: boolean;
  /**
   * Applied to every string that comes from AWS or a file (names, ids, messages, evidence, fixes) before it is
   * printed: the CLI passes its terminal escaping (control and bidi characters made visible). Default: as is.
   */
  escape?: (text: string) => string;
}

/**
 * The report for people: a header naming what was audited, then one section per severity (errors, warnings,
 * notes) with each finding's id, resource, message and fix (or, when unknown, what would decide it), and a summary.
 */
export function renderAuditText(report: AuditReport, options: TextOptions = {}): string {
  const s = report.scope;
  const x = options.escape ?? ((t: string) => t);
  const lines: string[] = [
    `xeks audit: cluster ${x(s.cluster.name)} (account ${x(s.cluster.account)}, ${x(s.cluster.region)})` +
      `${s.cluster.vpcId ? `, VPC ${x(s.cluster.vpcId)}` : ""}${s.topology ? `, topology ${x(s.topology)}` : ""}`,
    `  read ${s.accessEntries} access entries, ${s.principals} principals, ${s.routeTables} route tables, ` +
      `${s.securityGroupRules} security group rules, ${s.peerings} peering connections`,
    "",
  ];
  for (const severity of SEVERITIES) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(`${HEADINGS[severity]} (${group.length})`);
    for (const f of group) {
      lines.push(`  ${f.id}${f.status === "unknown" ? " (unknown)" : ""}  ${x(f.resource.id)}`);
      lines.push(`    ${x(f.message)}`);
      if (options.verbose)
        for (const e of f.evidence)
          lines.push(`    evidence: ${x(e.fact)}${e.detail ? `: ${x(e.detail)}` : ""}`);
      if (f.fix) lines.push(`    fix: ${x(f.fix)}`);
      if (f.decide) lines.push(`    to decide: ${x(f.decide)}`);
    }
    lines.push("");
  }
  lines.push(summary(report));
  if (report.stats) {
    lines.push(
      `Read ${report.stats.calls} AWS API calls (read-only) in ${(report.stats.ms / 1000).toFixed(1)} s.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function summary(report: AuditReport): string {
  const n = report.findings.length;
  if (n === 0) return "No findings.";
  const counts = SEVERITIES.map((s) => [s, report.findings.filter((f) => f.severity === s).length] as const)
    .filter(([, c]) => c > 0)
    .map(([s, c]) => `${c} ${s}${c === 1 ? "" : "s"}`);
  const unknown = report.findings.filter((f) => f.status === "unknown").length;
  return `${n} finding${n === 1 ? "" : "s"}: ${counts.join(", ")}${unknown ? ` (${unknown} unknown: a read was denied or no credentials reach the account)` : ""}.`;
}

/** The report as one JSON document: `{"kind": "AuditReport", "version": 1, "scope": …, "findings": […]}`. */
export function renderAuditJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Options of the SARIF renderer. */
export interface SarifOptions {
  /** xeks's version, for `tool.driver.version`. */
  toolVersion?: string;
  /**
   * The topology file's URI (a URI reference, used as it is): each result also gets it as its physical location,
   * which code-scanning UIs (GitHub) need to show a result. Default: the report's topology path, made a URI by
   * {@link sarifArtifactLocation}.
   */
  artifactUri?: string;
  /** The directory relative paths are taken from. Default: process.cwd(). */
  cwd?: string;
}

/** One path segment as a URI path segment: encodeURI, plus `#`, `?` (and `:`, which could pass for a scheme). */
function encodeSegment(segment: string): string {
  return encodeURI(segment).replace(/[#?:]/g, (c) => encodeURIComponent(c));
}

/**
 * A file path as a SARIF `artifactLocation` (SARIF 2.1.0 §3.4.3, `uri` is a URI reference): inside `cwd`, the
 * relative path, each segment percent-encoded (space, `%`, `#`, `?`, `:`, non-ASCII), with `uriBaseId`
 * `%SRCROOT%` as CodeQL writes it (GitHub code scanning reads such paths relative to the repository root, where
 * CI runs); outside `cwd`, an absolute `file://` URI (node:url pathToFileURL).
 */
export function sarifArtifactLocation(
  path: string,
  cwd: string = process.cwd(),
): { uri: string; uriBaseId?: string } {
  const abs = resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { uri: pathToFileURL(abs).href };
  }
  return { uri: rel.split(sep).map(encodeSegment).join("/"), uriBaseId: "%SRCROOT%" };
}

/** "text" with a full stop at its end (unless it ends with one, or with `?`, `!`). */
function sentence(text: string): string {
  const t = text.trimEnd();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** The SARIF 2.1.0 `$schema` URI. */
export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/**
 * The report as a SARIF 2.1.0 log: one run, tool `xeks` with one rule per check (id, name, short and full
 * description, help, default level), one result per finding (ruleId, ruleIndex, level = the severity, the message
 * with the fix or what would decide it, a logical location naming the AWS resource by ARN or id, a partial
 * fingerprint `id|resource` so that a finding keeps its identity from run to run). An unknown finding is
 * `kind: "review"` with `level: "none"` (SARIF §3.27.10 allows no other level with that kind); its check's
 * severity, which it keeps (unknown is never clean), is in `properties.severity`, its status in
 * `properties.status`, and its message starts with "Unknown:". `invocations[0].executionSuccessful` is false
 * for a report with `error` (the audit could not run), whose message is a `toolExecutionNotifications` entry.
 */
export function renderAuditSarif(report: AuditReport, options: SarifOptions = {}): string {
  const artifact = options.artifactUri
    ? { uri: options.artifactUri }
    : report.scope.topology
      ? sarifArtifactLocation(report.scope.topology, options.cwd)
      : undefined;
  const rules = FINDING_IDS.map((id) => {
    const r = RULES[id];
    return {
      id,
      name: id
        .replace(/[.-](\w)/g, (_m, c: string) => c.toUpperCase())
        .replace(/^\w/, (c) => c.toUpperCase()),
      shortDescription: { text: r.title },
      fullDescription: { text: r.help },
      help: { text: `${r.help}${r.needsTopology ? " Checked only when a topology file is given." : ""}` },
      defaultConfiguration: { level: r.severity },
      properties: { tags: ["security", "aws", "eks"] },
    };
  });
  const results = report.findings.map((f: Finding) => ({
    ruleId: f.id,
    ruleIndex: FINDING_IDS.indexOf(f.id),
    // SARIF §3.27.9: "fail" is a problem found; "review" a result a person must decide. §3.27.10: a kind other
    // than "fail" requires level "none"; the severity the check keeps is in properties.severity.
    kind: f.status === "unknown" ? "review" : "fail",
    level: f.status === "unknown" ? "none" : f.severity,
    message: {
      text: [
        sentence(`${f.status === "unknown" ? "Unknown: " : ""}${f.message}`),
        ...(f.fix ? [sentence(`Fix: ${f.fix}`)] : []),
        ...(f.decide ? [sentence(`To decide: ${f.decide}`)] : []),
      ].join(" "),
    },
    locations: [
      {
        ...(artifact ? { physicalLocation: { artifactLocation: artifact, region: { startLine: 1 } } } : {}),
        logicalLocations: [
          {
            name: f.resource.id,
            fullyQualifiedName: f.resource.arn ?? f.resource.id,
            kind: "resource",
          },
        ],
      },
    ],
    partialFingerprints: { "xeksFinding/v1": `${f.id}|${f.resource.arn ?? f.resource.id}` },
    properties: {
      status: f.status,
      severity: f.severity,
      resource: f.resource,
      evidence: f.evidence,
      ...(f.fix ? { fix: f.fix } : {}),
      ...(f.decide ? { decide: f.decide } : {}),
    },
  }));
  const log = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "xeks",
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            rules,
          },
        },
        // SARIF §3.20: whether the run did its job. A failed run has no results, and says why.
        invocations: [
          {
            executionSuccessful: !report.error,
            ...(report.error
              ? {
                  toolExecutionNotifications: [
                    {
                      level: "error",
                      message: { text: sentence(report.error.message) },
                      properties: { exitCode: report.error.exitCode },
                    },
                  ],
                }
              : {}),
          },
        ],
        automationDetails: {
          id: `xeks-audit/${report.scope.cluster.account}/${report.scope.cluster.region}/${report.scope.cluster.name}/`,
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
