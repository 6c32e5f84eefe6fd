/**
 * `synthesize(topology, { outDir })`: the CDK app of a topology, synthesized offline into a standard cloud
 * assembly plus `xeks.manifest.json`. Library code: it never prints; CDK's own reporting is turned into data
 * (nag findings, annotations) and typed errors.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { InputError, OperationError } from "../errors.js";
import type { Topology } from "../topology/types.js";
import { type Layout, planLayout } from "./layout.js";
import { buildManifest, XEKS_MANIFEST_FILE, type XeksManifest } from "./manifest.js";
import { type Acknowledgement, collectAcknowledgements, findingsOf, type NagFinding } from "./nag.js";
import { synthesisIssues } from "./name-checks.js";
import { addXeksStacks, type XeksStack } from "./stacks.js";
import { fieldOfConstructPath, synthesisInputError } from "./synthesis-errors.js";
import { KUBECTL_VERSION } from "./user-data.js";

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Where `app.synth()` writes the cloud assembly. */
  outdir: string;
  /**
   * Run cdk-nag AwsSolutions on synth.
   * @default true
   */
  nag?: boolean;
  /**
   * kubectl release for client instances.
   * @default DEFAULT_KUBECTL_VERSION
   */
  kubectlVersion?: string;
}

/** CDK context that keeps synthesis quiet and self-contained (see docs/infra.md, "Library noise"). */
export const APP_CONTEXT = {
  // Validation findings go to validation-report.json only; xeks reads it and decides (never console.error).
  "@aws-cdk/core:failSynthOnValidationErrors": false,
  // No stack traces (file paths of this machine) in the assembly's metadata: the output is reproducible.
  "aws:cdk:disable-creation-stack-traces": true,
};

/** The CDK app of a topology: every stack, with cdk-nag AwsSolutions attached unless `nag: false`. */
export function buildApp(
  topology: Topology,
  options: BuildAppOptions,
): { app: App; stacks: XeksStack[]; layout: Layout } {
  const layout = planLayout(topology);
  const app = new App({
    outdir: options.outdir,
    builtinCloudFormationValidation: false,
    autoSynth: false,
    stackTraces: false,
    treeMetadata: false,
    analyticsReporting: false,
    context: { ...APP_CONTEXT },
  });
  const stacks = addXeksStacks(app, { topology, layout, kubectlVersion: options.kubectlVersion });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stacks, layout };
}

/** Options of {@link synthesize}. */
export interface SynthesizeOptions {
  /** The assembly directory; replaced as a whole (written beside it, then renamed into place). */
  outDir: string;
  /**
   * Run cdk-nag AwsSolutions; any unacknowledged finding fails synthesis and writes nothing.
   * @default true
   */
  nag?: boolean;
  /**
   * kubectl release for client instances.
   * @default DEFAULT_KUBECTL_VERSION
   */
  kubectlVersion?: string;
}

/** A CDK annotation (construct warning or error), collected instead of printed. */
export interface Annotation {
  level: "info" | "warning" | "error";
  path: string;
  message: string;
}

export interface SynthesisResult {
  /** Absolute path of the written assembly. */
  outDir: string;
  manifest: XeksManifest;
  layout: Layout;
  /** Each stack's template, by stack name. */
  templates: Map<string, Record<string, unknown>>;
  acknowledged: Acknowledgement[];
  annotations: Annotation[];
}

/**
 * `--out` must be a directory xeks may replace: new, empty, or written by an earlier plan. Throws InputError
 * otherwise. Deploy calls it before any AWS call; synthesize calls it again before writing.
 */
export function checkOutDir(outDir: string): void {
  if (isReplaceable(resolve(outDir))) return;
  throw new InputError(`refusing to replace ${outDir}: it is not an xeks output directory`, [
    {
      path: "--out",
      message:
        "name a new directory, an empty one, or one an earlier `xeks plan` wrote (it holds xeks.manifest.json)",
    },
  ]);
}

function isReplaceable(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (!statSync(dir).isDirectory()) return false;
  const entries = readdirSync(dir);
  // Only an empty directory or one an earlier plan wrote: never a project that happens to hold a manifest.json.
  return entries.length === 0 || entries.includes(XEKS_MANIFEST_FILE);
}

function annotationsOf(asm: ReturnType<App["synth"]>): Annotation[] {
  const out: Annotation[] = [];
  for (const stack of asm.stacks) {
    for (const m of stack.messages) {
      out.push({ level: m.level as Annotation["level"], path: m.id, message: String(m.entry.data) });
    }
  }
  return out;
}

/**
 * Synthesize the topology into `outDir`: `manifest.json`, one `<stack>.template.json` per stack and
 * `xeks.manifest.json`. Nothing is written unless all of it is: the assembly is synthesized into a
 * temporary directory beside `outDir`, which then replaces `outDir` by rename.
 *
 * Throws InputError when the topology cannot be laid out, when a construct refuses a value built from it (the
 * issue names the topology field, see `synthesis-errors.ts`) or `outDir` is not a directory xeks may replace, and
 * OperationError when cdk-nag reports a finding or the assembly cannot be written.
 */
export function synthesize(topology: Topology, options: SynthesizeOptions): SynthesisResult {
  checkOutDir(options.outDir);
  const issues = synthesisIssues(topology);
  if (issues.length > 0) {
    throw new InputError(
      `${topology.file ?? "the topology"} cannot be synthesized; nothing was written`,
      issues,
      topology.file,
    );
  }
  if (options.kubectlVersion !== undefined && !KUBECTL_VERSION.test(options.kubectlVersion)) {
    throw new InputError(`kubectl version ${options.kubectlVersion} is not a release name`, [
      { path: "kubectlVersion", message: "expected vMAJOR.MINOR.PATCH, e.g. v1.33.4" },
    ]);
  }
  const outDir = resolve(options.outDir);
  const parent = dirname(outDir);
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${basename(outDir)}.tmp-${suffix}`);
  const nag = options.nag ?? true;
  try {
    mkdirSync(tmp, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "EEXIST" || code === "EACCES" || code === "EROFS") {
      throw new InputError(`cannot write the assembly to ${options.outDir} (${code})`, [
        { path: "--out", message: "name a directory that can be created or replaced, in a writable place" },
      ]);
    }
    throw new OperationError(`cannot write ${options.outDir}: ${(err as Error).message}`);
  }
  try {
    const layout = planLayout(topology);
    let app: App;
    let asm: ReturnType<App["synth"]>;
    try {
      app = buildApp(topology, { outdir: tmp, nag, kubectlVersion: options.kubectlVersion }).app;
      asm = app.synth();
    } catch (err) {
      // A construct refused a value of the file: exit 2 with the field it came from, not a CDK message.
      throw synthesisInputError(err, topology, layout);
    }
    const reportFile = join(tmp, "validation-report.json");
    const findings: NagFinding[] = existsSync(reportFile)
      ? findingsOf(JSON.parse(readFileSync(reportFile, "utf8")))
      : [];
    if (findings.length > 0) {
      const list = findings.map((f) => `${f.rule} at ${f.paths.join(", ")}: ${f.description}`);
      throw new OperationError(
        `cdk-nag AwsSolutions reported ${findings.length} unacknowledged finding(s); nothing was written`,
        list.join("\n  "),
      );
    }
    const annotations = annotationsOf(asm);
    const errors = annotations.filter((a) => a.level === "error");
    if (errors.length > 0) {
      // Error annotations sit on constructs built from the file: name the field each came from.
      throw new InputError(
        `synthesis reported ${errors.length} error(s); nothing was written`,
        errors.map((e) => ({
          path: fieldOfConstructPath(topology, layout, e.path) ?? "",
          message: `CDK: ${e.message} (at ${e.path})`,
        })),
        topology.file,
      );
    }
    const templates = new Map<string, Record<string, unknown>>();
    const files = new Map<string, { templateFile: string; templateBytes: number }>();
    for (const stack of asm.stacks) {
      const path = join(tmp, stack.templateFile);
      const text = readFileSync(path, "utf8");
      templates.set(stack.stackName, JSON.parse(text) as Record<string, unknown>);
      files.set(stack.stackName, {
        templateFile: stack.templateFile,
        templateBytes: Buffer.byteLength(text),
      });
    }
    const acknowledged = nag ? collectAcknowledgements(app) : [];
    const manifest = buildManifest(layout, files, { pack: "AwsSolutions", ran: nag, acknowledged });
    writeFileSync(join(tmp, XEKS_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    replaceDir(tmp, outDir, suffix);
    return { outDir, manifest, layout, templates, acknowledged, annotations };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Put `tmp` where `target` is: rename the old one aside, rename the new one in, delete the old one. */
function replaceDir(tmp: string, target: string, suffix: string): void {
  const old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
  const hadOld = existsSync(target);
  try {
    if (hadOld) renameSync(target, old);
    renameSync(tmp, target);
  } catch (err) {
    if (hadOld && !existsSync(target) && existsSync(old)) renameSync(old, target);
    throw new OperationError(`cannot replace ${target}: ${(err as Error).message}`);
  }
  if (hadOld) rmSync(old, { recursive: true, force: true });
}
