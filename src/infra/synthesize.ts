/**
 * `synthesize(topology, { outDir })`: the CDK app of a topology, synthesized offline into a standard cloud
 * assembly plus `xeks.manifest.json`. Library code: it never prints; CDK's own reporting is turned into data
 * (nag findings, annotations) and typed errors.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { stringify as stringifyYaml } from "yaml";
import { InputError, type InputIssue, OperationError } from "../errors.js";
import {
  describeType,
  type FileIdentity,
  isDirectory,
  leftoverOfDeadWriter,
  namespaceTag,
  recordedInputs,
} from "../files/index.js";
import { type Layout, planLayout } from "../layout/layout.js";
import { growingListPath } from "../layout/name-checks.js";
import type { Topology } from "../topology/types.js";
import {
  buildManifest,
  importRecord,
  XEKS_MANIFEST_FILE,
  type XeksManifest,
  type XeksManifestImport,
} from "./manifest.js";
import {
  type Acknowledgement,
  awsSolutionsChecks,
  collectAcknowledgements,
  type NagFinding,
  nagFindings,
} from "./nag.js";
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
  /**
   * The layout of `topology`, when the caller has it already (planLayout of the same topology: one plan computes it
   * once).
   * @default planLayout(topology)
   */
  layout?: Layout;
}

/** CDK context that keeps synthesis quiet and self-contained (see docs/infra.md, "Library noise"). */
export const APP_CONTEXT = {
  // Validation findings of a plugin (buildApp with nag) go to validation-report.json only, never console.error;
  // synthesize runs the pack itself after synth (runNag).
  "@aws-cdk/core:failSynthOnValidationErrors": false,
  // No stack traces (file paths of this machine) in the assembly's metadata: the output is reproducible.
  "aws:cdk:disable-creation-stack-traces": true,
};

/** The CDK app of a topology: every stack, with cdk-nag AwsSolutions attached unless `nag: false`. */
export function buildApp(
  topology: Topology,
  options: BuildAppOptions,
): { app: App; stacks: XeksStack[]; layout: Layout } {
  const layout = options.layout ?? planLayout(topology);
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
  // cdk-nag's AwsSolutions pack with the rule modules of services xeks never emits deferred (nag.ts).
  if (options.nag ?? true) Validations.of(app).addPlugins(awsSolutionsChecks(app));
  return { app, stacks, layout };
}

/** Options of {@link synthesize}. */
export interface SynthesizeOptions {
  /**
   * The assembly directory; replaced as a whole (written beside it, then renamed into place). It may hold only
   * a cloud assembly and none of the command's inputs (`checkOutDir`).
   */
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
 * What a synthesis (and the deploy toolkit reading it) writes at the top of `--out`, and so what xeks may
 * delete when it replaces the directory: a cloud assembly (aws-cdk-lib `App.synth` with `treeMetadata: false`
 * writes manifest.json, cdk.out, validation-report.json, `<stack>.template.json`, `<stack>.metadata.json`;
 * tree.json, `<stack>.assets.json` and `asset.*` files or directories when trees or assets are turned on),
 * xeks.manifest.json, and the lock files of @aws-cdk/toolkit-lib's RWLock (`synth.lock`,
 * `read.<pid>.<n>.lock`) that deploy, diff and destroy leave when killed. Checked on `plan examples/*.yaml`.
 */
const ASSEMBLY_FILES = new Set([
  "manifest.json",
  "tree.json",
  "cdk.out",
  "validation-report.json",
  XEKS_MANIFEST_FILE,
  "synth.lock",
]);
const ASSEMBLY_FILE_PATTERNS = [
  /^[^/]+\.template\.json$/,
  /^[^/]+\.metadata\.json$/,
  /^[^/]+\.assets\.json$/,
  /^read\.[^.]+\.[^.]+\.lock$/,
];

/** Whether `name` (an entry of `--out`) is something a synthesis writes there; `st` is its lstat. */
function isAssemblyEntry(name: string, st: Stats): boolean {
  if (name.startsWith("asset.")) return st.isFile() || st.isDirectory();
  if (!st.isFile()) return false; // a symlink, FIFO, device, socket or directory xeks never writes
  return ASSEMBLY_FILES.has(name) || ASSEMBLY_FILE_PATTERNS.some((re) => re.test(name));
}

const OUT_HINT =
  "name a new directory, an empty one, or one an earlier `xeks plan` wrote that holds only its cloud assembly " +
  "(xeks.manifest.json, manifest.json, cdk.out, *.template.json, *.metadata.json, *.assets.json, " +
  "validation-report.json, tree.json, asset.*)";

function outDirError(outDir: string, why: string, hint = OUT_HINT): InputError {
  return new InputError(`refusing to replace ${outDir}: ${why}`, [{ path: "--out", message: hint }]);
}

/** The file this command reads (src/files registry) that is `dir` or lies under it, if any. */
function inputInside(dir: string): FileIdentity | undefined {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = dir;
  }
  const under = (p: string) =>
    p === real || p.startsWith(`${real}${sep}`) || p === dir || p.startsWith(`${dir}${sep}`);
  const inputs = recordedInputs();
  const byPath = inputs.find((r) => under(r.realpath));
  if (byPath) return byPath;
  // A hard link to an input among the entries (a tree walk would cost more than it can find: asset.*
  // directories are the only subdirectories and xeks writes none today).
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    let st: Stats;
    try {
      st = lstatSync(join(dir, name));
    } catch {
      continue;
    }
    const hit = inputs.find((r) => r.dev === st.dev && r.ino === st.ino);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * `--out` must be a directory xeks may replace as a whole: a new one, an empty one, or one an earlier plan
 * wrote (it holds xeks.manifest.json) that holds nothing but a cloud assembly (`ASSEMBLY_FILES` and
 * patterns). It must hold no file this command reads (the topology and any file recorded or declared through
 * src/files: load them first), and neither it nor its parent is read-only (no write bit for anyone: root
 * could write there, but the owner said no). Otherwise InputError (exit 2) naming `--out`, the first
 * entry that stands in the way and what would be valid; nothing is touched. Deploy, diff and destroy call it
 * before any AWS call; synthesize calls it again before writing and right before replacing the directory.
 */
export function checkOutDir(outDir: string): void {
  const dir = resolve(outDir);
  parentWritable(outDir);
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    throw outDirError(outDir, `it cannot be read (${code})`);
  }
  if (!st.isDirectory()) throw outDirError(outDir, "it is not a directory");
  const input = inputInside(dir);
  if (input) {
    throw outDirError(
      outDir,
      `it holds ${input.path}, the file this command reads as ${input.field}, and xeks replaces the whole directory`,
      `name another directory for --out, or move ${input.path} out of ${outDir}`,
    );
  }
  if ((st.mode & 0o222) === 0) {
    throw outDirError(
      outDir,
      `it is read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`,
      "make it writable (chmod u+w) or name another directory",
    );
  }
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw outDirError(outDir, `it cannot be listed (${(err as NodeJS.ErrnoException).code})`);
  }
  if (entries.length === 0) return;
  // Only a directory an earlier plan wrote: never a project that happens to hold a manifest.json.
  if (!entries.includes(XEKS_MANIFEST_FILE)) {
    throw outDirError(outDir, `it is not an xeks output directory (it has no ${XEKS_MANIFEST_FILE})`);
  }
  for (const name of entries) {
    let est: Stats;
    try {
      est = lstatSync(join(dir, name));
    } catch {
      continue; // removed meanwhile
    }
    if (!isAssemblyEntry(name, est)) {
      const what = est.isFile() ? "a file" : describeType(est);
      throw outDirError(
        outDir,
        `it holds ${name}, ${what} no synthesis writes, and xeks replaces the whole directory`,
        `move ${name} out of ${outDir}, or name another directory for --out; ${OUT_HINT}`,
      );
    }
  }
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Refuse (InputError, exit 2, naming `field`) an output file of the same command that lies inside `--out`
 * (`plan --out DIR --report DIR/r.html`): the next plan replaces DIR as a whole, and refuses a DIR holding a
 * file no synthesis writes. Paths are compared with symlinks resolved where they exist. `what` names the file in
 * the message, as src/files does ("the report").
 */
export function checkOutsideOutDir(outDir: string, path: string, field: string, what = "the report"): void {
  const dir = realOrResolved(outDir);
  const file = realOrResolved(path);
  if (file === dir || file.startsWith(`${dir}${sep}`)) {
    throw new InputError(`cannot write ${what} ${path}: it is inside --out ${outDir}`, [
      {
        path: field,
        message: `name a file outside ${outDir}: xeks replaces the --out directory as a whole, and keeps only a cloud assembly in it`,
      },
    ]);
  }
}

function parentWritable(outDir: string): void {
  const parent = dirname(resolve(outDir));
  let st: Stats;
  try {
    st = statSync(parent);
  } catch {
    return; // mkdir -p below reports it
  }
  if (st.isDirectory() && (st.mode & 0o222) === 0) {
    throw outDirError(
      outDir,
      `its directory ${parent} is read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`,
      "make the directory writable (chmod u+w) or name a directory elsewhere for --out",
    );
  }
}

/**
 * The largest template body CloudFormation takes inline, in characters: @aws-cdk/toolkit-lib sends a template
 * as YAML (`toYAML`: yaml-1.1 schema, no line folding) in TemplateBody when it has at most 50 KiB, else it
 * needs the bootstrap bucket, which the LegacyStackSynthesizer stacks of xeks do not use (docs/deploy.md).
 * CloudFormation's own quota is the same: "Template body size in a request: 51,200 bytes".
 */
const MAX_INLINE_TEMPLATE = 50 * 1024;

/**
 * Templates over MAX_INLINE_TEMPLATE as deploy would send them, each an issue at the list that makes the stack
 * grow (its route tables). The YAML form is computed only for a template whose JSON text passes half the
 * limit (the YAML of a template is shorter than its indented JSON).
 */
function oversizedTemplates(
  topology: Topology,
  layout: Layout,
  templates: Map<string, Record<string, unknown>>,
  files: Map<string, { templateBytes: number }>,
): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const [name, template] of templates) {
    if ((files.get(name)?.templateBytes ?? 0) <= MAX_INLINE_TEMPLATE / 2) continue;
    const size = stringifyYaml(template, { schema: "yaml-1.1", lineWidth: 0 }).length;
    if (size <= MAX_INLINE_TEMPLATE) continue;
    const stack = layout.stacks.find((s) => s.name === name);
    issues.push({
      path: stack ? growingListPath(topology, stack) : "",
      message:
        `makes the template of stack ${name} ${size} characters as deploy sends it, over the ${MAX_INLINE_TEMPLATE} ` +
        "CloudFormation takes inline (xeks uses no bootstrap bucket); list fewer route tables",
    });
  }
  return issues;
}

/**
 * cdk-nag AwsSolutions on the synthesized app, as CDK would run it as a validation plugin (`buildApp` with `nag`)
 * at the end of `app.synth()`: the pack's `validateScope` on the same tree in the same state, minus what CDK's
 * plugin machinery adds for a report xeks never shows (an index of every resource's logical id, a second walk for
 * acknowledgements). Returns the unacknowledged findings ({@link nagFindings});
 * when there are none, writes the `validation-report.json` CDK writes then, byte for byte (its report formatter in
 * aws-cdk-lib 2.276: no plugin report for a pack that passed; test/synth-nag.test.ts compares both), so the
 * assembly is the one the plugin gives. A pack that throws is an OperationError (CDK would have filed it as a
 * failed plugin with no finding).
 */
function runNag(app: App, asm: ReturnType<App["synth"]>, dir: string): NagFinding[] {
  let findings: NagFinding[];
  try {
    findings = nagFindings(awsSolutionsChecks(app).validateScope(app));
  } catch (err) {
    throw new OperationError(`cdk-nag AwsSolutions failed: ${(err as Error).message}; nothing was written`);
  }
  if (findings.length === 0) {
    const report = { version: asm.version, title: "Validation Report", pluginReports: [] };
    writeFileSync(join(dir, VALIDATION_REPORT_FILE), JSON.stringify(report, undefined, 2));
  }
  return findings;
}

/** The report CDK writes in an assembly when validation plugins ran (aws-cdk-lib `cxapi.VALIDATION_REPORT_FILE`). */
const VALIDATION_REPORT_FILE = "validation-report.json";

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

  if (options.kubectlVersion !== undefined && !KUBECTL_VERSION.test(options.kubectlVersion)) {
    throw new InputError(`kubectl version ${options.kubectlVersion} is not a release name`, [
      { path: "kubectlVersion", message: "expected vMAJOR.MINOR.PATCH, e.g. v1.33.4" },
    ]);
  }
  const outDir = resolve(options.outDir);
  const parent = dirname(outDir);
  const suffix = `${namespaceTag()}-${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = join(parent, `.${basename(outDir)}.tmp-${suffix}`);
  const nag = options.nag ?? true;
  try {
    // Non-recursive when the parent exists, so that a read-only file system says EROFS (a recursive mkdir
    // reports ENOENT there).
    mkdirSync(tmp, { recursive: !isDirectory(parent) });
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
    let stacks: XeksStack[];
    let asm: ReturnType<App["synth"]>;
    try {
      ({ app, stacks } = buildApp(topology, {
        outdir: tmp,
        nag: false,
        kubectlVersion: options.kubectlVersion,
        layout,
      }));
      asm = app.synth();
    } catch (err) {
      // A construct refused a value of the file: exit 2 with the field it came from, not a CDK message.
      throw synthesisInputError(err, topology, layout);
    }
    const findings: NagFinding[] = nag ? runNag(app, asm, tmp) : [];
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
      // The file's own length is its size in bytes (CDK writes UTF-8 JSON): no second pass over the text.
      const bytes = readFileSync(join(tmp, stack.templateFile));
      templates.set(stack.stackName, JSON.parse(bytes.toString("utf8")) as Record<string, unknown>);
      files.set(stack.stackName, { templateFile: stack.templateFile, templateBytes: bytes.length });
    }
    const tooLarge = oversizedTemplates(topology, layout, templates, files);
    if (tooLarge.length > 0) {
      throw new InputError(
        `${topology.file ?? "the topology"} gives a template CloudFormation would not take inline; nothing was written`,
        tooLarge,
        topology.file,
      );
    }
    const acknowledged = nag ? collectAcknowledgements(app) : [];
    const imports = new Map<string, XeksManifestImport[]>(
      stacks.map((st) => [st.stackName, st.imports.map((a) => importRecord(a, templates.get(st.stackName)))]),
    );
    const manifest = buildManifest(layout, files, { pack: "AwsSolutions", ran: nag, acknowledged }, imports);
    writeFileSync(join(tmp, XEKS_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    checkOutDir(options.outDir); // again: synthesis took seconds, and the directory may have changed
    replaceDir(tmp, outDir, suffix);
    // Only now: a plan that fails leaves everything beside --out as it was (a `.old` directory may be the only
    // copy of the former assembly when a plan was killed between the two renames).
    sweepStaleStaging(outDir);
    return { outDir, manifest, layout, templates, acknowledged, annotations };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Put `tmp` where `target` is: rename the old one aside, rename the new one in, then delete from the old one
 * only what a synthesis writes (`isAssemblyEntry`) and the directory itself when that empties it. An entry
 * that appeared since `checkOutDir` looked is kept, in `.<target>.old-<tag>-<pid>-<hex>` beside it. A symlink
 * `target` is replaced itself (the directory it pointed to is left as it was).
 */
function replaceDir(tmp: string, target: string, suffix: string): void {
  const old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
  const hadOld = existsSync(target) || isSymlink(target);
  try {
    if (hadOld) renameSync(target, old);
    renameSync(tmp, target);
  } catch (err) {
    if (hadOld && !existsSync(target) && existsSync(old)) renameSync(old, target);
    throw new OperationError(`cannot replace ${target}: ${(err as Error).message}`);
  }
  if (hadOld) removeAssembly(old);
}

/**
 * Remove what an interrupted plan left beside `outDir`: its staging directory `.DIR.tmp-<tag>-<pid>-<8 hex>` (a
 * plan killed during the synthesis: SIGINT, SIGTERM, SIGKILL; 19 MB at 500 clients) and its
 * `.DIR.old-<tag>-<pid>-<8 hex>` (killed between the two renames of `replaceDir`). Only directories (not symlinks)
 * of a dead writer of this user (`leftoverOfDeadWriter`: this host's and pid namespace's tag and a pid that is no
 * live process; the untagged names of earlier releases, `.DIR.tmp-<pid>-<8 hex>`, only when not modified for a day:
 * a synthesis writes into its directory until its last second). In them only what a synthesis writes is deleted
 * (`removeAssembly`: `asset.*` entries whole, as when `--out` is replaced), and a directory that holds anything else
 * is left. Called after a successful synthesis. Never throws.
 */
function sweepStaleStaging(outDir: string): void {
  const parent = dirname(outDir);
  const prefix = `.${basename(outDir)}.`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const tagged = /^(?:tmp|old)-([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{8}$/.exec(rest);
    const untagged = tagged ? null : /^(?:tmp|old)-(\d{1,10})-[0-9a-f]{8}$/.exec(rest);
    if (!tagged && !untagged) continue;
    const path = join(parent, name);
    try {
      const st = lstatSync(path);
      const pid = Number(tagged ? tagged[2] : untagged?.[1]);
      if (st.isDirectory() && leftoverOfDeadWriter(tagged?.[1], pid, st)) removeAssembly(path);
    } catch {
      // gone meanwhile
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Delete a former assembly directory, entry by entry: only what a synthesis writes. Never throws. */
function removeAssembly(dir: string): void {
  try {
    if (lstatSync(dir).isSymbolicLink()) {
      unlinkSync(dir);
      return;
    }
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (!isAssemblyEntry(name, st)) continue;
      if (st.isDirectory()) rmSync(path, { recursive: true, force: true });
      else unlinkSync(path);
    }
    rmdirSync(dir);
  } catch {
    // a file that appeared meanwhile (ENOTEMPTY), or the disk: the former assembly stays beside the new one
  }
}
