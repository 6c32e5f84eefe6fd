/**
 * What `deploy`, `diff` and `destroy` say when they stop mid-run: on SIGINT (Ctrl-C) or SIGTERM, and when AWS
 * stopped answering (NoAnswerError). Both name the phase and the stack in flight, its last known CloudFormation
 * status, that CloudFormation goes on with it (xeks cancels nothing), the AWS CLI command that shows it, and
 * the command that resumes the run. The state comes from the library's RunTracker; only this file prints it.
 *
 * Signals: the first one asks CloudFormation for the stack's status (at most INTERRUPT_LOOK_MS), prints, and
 * exits 130 (SIGINT) or 143 (SIGTERM), the shell's 128 + signal number; a second one prints what is known and
 * exits at once. With `--output json`, stdout gets one `Interrupted` document (src/deploy/in-flight.ts).
 */
import type { InFlightState, NoAnswerError, RunCommand, RunTracker } from "../deploy/index.js";
import { OperationError } from "../errors.js";

/** How long the first signal waits for CloudFormation's answer about the stack in flight. */
export const INTERRUPT_LOOK_MS = 3_000;

/** 128 + the signal number, as shells report a process killed by it. */
export const SIGNAL_EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

/** Pure helpers from the library, passed in so this module loads no library code itself. */
export interface InFlightHelpers {
  describeWhere(state: InFlightState): string;
  watchCommand(state: InFlightState): string | undefined;
  stillInProgress(state: InFlightState): boolean;
}

const ACTION_WORDS: Record<string, string> = {
  create: "being created",
  recreate: "being deleted and created again",
  update: "being updated",
  delete: "being deleted",
};

function statusLine(state: InFlightState): string[] {
  const s = state.stack;
  if (!s) return [];
  if (s.exists === false) {
    return [
      `CloudFormation has no such stack (asked just now)${s.action === "delete" ? ": it is deleted" : ": the request had not created it yet"}.`,
    ];
  }
  if (!s.status) {
    return [
      "no CloudFormation status known yet (the stack did not exist before this run, and CloudFormation had not reported on it)",
      "the request may have reached CloudFormation; xeks did not cancel anything.",
    ];
  }
  const from =
    s.statusFrom === "now"
      ? "asked just now"
      : s.statusFrom === "event"
        ? "its latest event"
        : "as read before this run's change";
  const lines = [`last known status: ${s.status} (${from})${s.statusReason ? `: ${s.statusReason}` : ""}`];
  if (s.statusFrom === "before-run") {
    lines.push(
      "CloudFormation had not reported on this run's operation yet; the request may have reached it; xeks did not cancel anything.",
    );
  } else if (s.status === "REVIEW_IN_PROGRESS") {
    lines.push(
      "the change set exists and had not been executed (xeks may have asked CloudFormation to execute it; it cancelled nothing).",
    );
  } else if (s.status.endsWith("_IN_PROGRESS")) {
    lines.push("CloudFormation goes on with this operation: xeks did not cancel it.");
  } else {
    lines.push("CloudFormation had finished this operation; xeks did not cancel anything.");
  }
  return lines;
}

/**
 * The lines that say what was in flight and how to resume, for an interrupt or for AWS not answering.
 * `resume` is the command that resumes the run.
 */
export function inFlightLines(
  state: InFlightState,
  resume: string,
  h: InFlightHelpers,
  beforeResume?: string,
): string[] {
  const lines: string[] = [];
  const s = state.stack;
  if (s) {
    lines.push(
      `in flight: stack ${s.name} (account ${s.account}, region ${s.region}, ${s.credentials}), ${ACTION_WORDS[s.action] ?? s.action}`,
      ...statusLine(state),
    );
    const others = state.alsoInFlight ?? [];
    if (others.length > 0) {
      const shown = others.slice(0, 10).join(", ");
      lines.push(
        `also in flight (same phase): ${shown}${others.length > 10 ? ` and ${others.length - 10} more` : ""}; CloudFormation goes on with them too.`,
      );
    }
  } else if (state.peering) {
    const p = state.peering;
    lines.push(
      `in flight: waiting for peering connection ${p.id} (last known status ${p.status}) before stack ${p.stack}; the connection goes on without xeks.`,
    );
  } else if (state.stackSetOperation) {
    const o = state.stackSetOperation;
    lines.push(
      `in flight: StackSet ${o.stackSet} (account ${o.account}, region ${o.region}), operation ${o.operationId}: ${o.what}; CloudFormation goes on with it: xeks did not stop it.`,
    );
  } else if (state.authModeUpdate) {
    const u = state.authModeUpdate;
    lines.push(
      `in flight: EKS update ${u.updateId} switching cluster ${u.cluster} to API_AND_CONFIG_MAP (last known status ${u.status}); EKS goes on with it: xeks did not cancel it.`,
    );
  } else if (!state.changed) {
    lines.push("nothing was changed.");
  } else {
    lines.push("nothing was in flight.");
  }
  const watch = h.watchCommand(state);
  if (watch) lines.push(`watch it with: ${watch}`);
  if (state.done.length > 0) lines.push(`done in this run and kept: ${state.done.join(", ")}`);
  if (beforeResume) lines.push(beforeResume);
  const verb = state.command === "diff" ? "run it again" : "resume with";
  lines.push(
    h.stillInProgress(state)
      ? `once it is no longer *_IN_PROGRESS, ${verb}: ${resume}`
      : `${verb}: ${resume}`,
  );
  return lines;
}

/**
 * The error the CLI reports when the library's run ended because AWS stopped answering. The work the library
 * abandoned may still hold timers (toolkit-lib's retries and polls): once the error is reported, the process
 * exits rather than wait for them.
 */
export function noAnswerError(err: NoAnswerError, resume: string, h: InFlightHelpers): OperationError {
  const check =
    `check the network path to the AWS endpoints (proxy, firewall, AWS_ENDPOINT_URL); xeks gives up after ` +
    `${Math.round(err.boundMs / 1000)} s without an answer (3 x XEKS_AWS_TIMEOUT_MS + 3 s; docs/security.md)`;
  setTimeout(() => process.exit(), 500).unref();
  const lines = inFlightLines(err.inFlight, resume, h, check).filter((l) => l !== "nothing was changed.");
  return new OperationError(err.message, lines.join("\n  "));
}

export interface InterruptOptions {
  command: RunCommand;
  tracker: RunTracker;
  output: "text" | "json";
  resume: string;
  helpers: InFlightHelpers & {
    interruptedResult: (
      tracker: RunTracker,
      state: InFlightState,
      signal: "SIGINT" | "SIGTERM",
      exitCode: number,
      resume: string,
    ) => unknown;
  };
  /** Stop the live display before printing. */
  beforePrint?: () => void;
  /** Tests: instead of process.exit. */
  exit?: (code: number) => void;
}

/**
 * Handle SIGINT and SIGTERM while a run goes on. Returns the function that removes the handlers (call it when
 * the run is over).
 */
export function handleInterrupts(opts: InterruptOptions): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let first: "SIGINT" | "SIGTERM" | undefined;
  let printed = false;

  const print = (state: InFlightState, signal: "SIGINT" | "SIGTERM", code: number, done: () => void) => {
    if (printed) return done();
    printed = true;
    opts.beforePrint?.();
    const head = `xeks: ${opts.command} interrupted (${signal}) ${opts.helpers.describeWhere(state)}`;
    const text = [head, ...inFlightLines(state, opts.resume, opts.helpers)].join("\n  ");
    process.stderr.write(`${text}\n`);
    if (opts.output === "json") {
      const doc = opts.helpers.interruptedResult(opts.tracker, state, signal, code, opts.resume);
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`, () => done());
    } else {
      done();
    }
  };

  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    const code = SIGNAL_EXIT[signal];
    if (first) {
      // The second one: say what is known, at once, and go.
      print(opts.tracker.state, first, SIGNAL_EXIT[first], () => {});
      exit(SIGNAL_EXIT[first]);
      return;
    }
    first = signal;
    const state = opts.tracker.state;
    if (state.stack) {
      opts.beforePrint?.();
      process.stderr.write(
        `\nxeks: ${signal}: asking CloudFormation how stack ${state.stack.name} stands (${signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again exits at once)\n`,
      );
    }
    void opts.tracker.refresh(INTERRUPT_LOOK_MS).then((now) => print(now, signal, code, () => exit(code)));
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}
