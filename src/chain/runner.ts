/**
 * The one chain runner: `prove()` (plan, doctor) and the client probe (`doctor --from-client`) both run their
 * links through it, so the order of results, the propagation of `unknown` to links whose prerequisite did not
 * get far enough, the handling of a check that throws, and the verdict exist once.
 *
 * A link step is a module shape: an id (contract.md), the link ids it needs (`prerequisites`, in the order they
 * are checked) and `evaluate`, which returns the finding and, when dependents may run, the value they need.
 * The runner never prints and makes no AWS calls of its own.
 */
import type { Finding } from "./link.js";
import { unknown } from "./link.js";
import { safeFix } from "./safety.js";
import type { ChainReport, LinkId, LinkResult, ReportMode } from "./types.js";
import { verdictOf } from "./types.js";

/** What one link step returns: its finding, and what dependents need when it got far enough. */
export interface StepOutcome<T> {
  finding: Finding;
  /**
   * Present when dependents may run (pass or warn, and some fails such as the probe's wrong but working
   * identity). A prerequisite without a value blocks its dependents: they report `unknown` ("not tried").
   */
  value?: T;
}

/** Who a result is about: the `subject`, `client` and `accessRole` fields of a LinkResult. */
export interface Placement {
  subject: string;
  client?: string;
  accessRole?: string;
}

/**
 * A link as the runner runs it. `evaluate` returns null when the link does not apply to the subject (no result
 * is recorded). `prerequisites` name links by id: the latest result of that id in this run counts; the first
 * one without a value blocks the step.
 */
export interface LinkStep<S, T = unknown> {
  id: LinkId;
  prerequisites?: readonly LinkId[];
  evaluate(subject: S): Promise<StepOutcome<T> | null> | StepOutcome<T> | null;
}

/** What differs between the runs of plan/doctor and of the probe. */
export interface RunnerOptions<S> {
  /** The subject, client and access role a result names. */
  place(subject: S): Placement;
  /** The fix of a link whose check threw (the finding is `unknown`: "the check itself failed: ..."). */
  crashFix: string;
  /** Said after "fix X first, then" on a blocked link: "run the probe again". Default "run xeks again". */
  rerun?: string;
  /**
   * Asked before each step that is not blocked: a reason not to start it (the probe's overall deadline),
   * with the finding to record instead. Dependents then say "X was not tried (reason)".
   */
  gate?: () => { reason: string; finding: Finding } | undefined;
  /**
   * Names of roles under /aws-reserved/ the run knows of (besides the `AWSReserved…` names): no recorded fix
   * may write to them (src/chain/safety.ts).
   */
  reservedRoles?: ReadonlySet<string>;
}

/** One run of links: results in run order, values for dependents, the verdict. */
export class ChainRun<S> {
  readonly links: LinkResult[] = [];
  private readonly status = new Map<LinkId, LinkResult["status"]>();
  private readonly values = new Map<LinkId, unknown>();
  private readonly notTried = new Map<LinkId, string>();
  private readonly rootOf = new Map<LinkId, LinkId>();

  constructor(private readonly options: RunnerOptions<S>) {}

  /** The value a step returned for its dependents, or undefined when it did not get far enough. */
  value<T>(id: LinkId): T | undefined {
    return this.values.get(id) as T | undefined;
  }

  /** Why a link's dependents cannot run: "client.dns failed", "... could not be decided", ... */
  blocker(id: LinkId): string {
    const reason = this.notTried.get(id);
    if (reason !== undefined) return `${id} was not tried (${reason})`;
    const s = this.status.get(id);
    if (s === "fail") return `${id} failed`;
    if (s === "unknown") return `${id} could not be decided`;
    return `${id} did not get far enough`;
  }

  /** Run one step for one subject and record its result (unless the link does not apply). */
  async run<T>(step: LinkStep<S, T>, subject: S): Promise<T | undefined> {
    const blockedBy = (step.prerequisites ?? []).find((id) => !this.values.has(id));
    if (blockedBy !== undefined) {
      const root = this.rootOf.get(blockedBy) ?? blockedBy;
      this.rootOf.set(step.id, root);
      const via = root === blockedBy ? "" : ` (needed by ${blockedBy})`;
      const again = this.options.rerun ?? "run xeks again";
      this.record(
        step.id,
        subject,
        unknown(`not tried: ${this.blocker(root)}${via}`, `fix ${root} first, then ${again}`),
      );
      return undefined;
    }
    const stop = this.options.gate?.();
    if (stop) {
      this.record(step.id, subject, stop.finding);
      this.notTried.set(step.id, stop.reason);
      return undefined;
    }
    let outcome: StepOutcome<T> | null;
    try {
      outcome = await step.evaluate(subject);
    } catch (err) {
      outcome = {
        finding: unknown(
          `the check itself failed: ${(err as Error)?.message ?? String(err)}`,
          this.options.crashFix,
        ),
      };
    }
    if (outcome === null) return undefined;
    this.record(step.id, subject, outcome.finding);
    if (outcome.value !== undefined) this.values.set(step.id, outcome.value);
    return outcome.value;
  }

  /** Run steps in order for one subject. */
  async runAll(steps: readonly LinkStep<S>[], subject: S): Promise<void> {
    for (const step of steps) await this.run(step, subject);
  }

  /** The ChainReport of this run; the verdict comes from `verdictOf`. */
  report(
    mode: ReportMode,
    cluster: NonNullable<ChainReport["cluster"]>,
    clients: NonNullable<ChainReport["clients"]>,
  ): ChainReport {
    return {
      kind: "ChainReport",
      version: 1,
      mode,
      verdict: verdictOf(this.links),
      cluster,
      clients,
      links: this.links,
    };
  }

  private record(id: LinkId, subject: S, finding: Finding): void {
    const place = this.options.place(subject);
    const result: LinkResult = {
      id,
      subject: place.subject,
      status: finding.status,
      summary: finding.summary,
    };
    // The one guard on fixes: none writes to a role under /aws-reserved/ (src/chain/safety.ts).
    if (finding.fix !== undefined) result.fix = safeFix(finding.fix, this.options.reservedRoles);
    if (finding.evidence !== undefined) result.evidence = finding.evidence;
    if (place.client !== undefined) result.client = place.client;
    if (place.accessRole !== undefined) result.accessRole = place.accessRole;
    this.links.push(result);
    this.status.set(id, finding.status);
    this.values.delete(id);
  }
}
