/**
 * toolkit-lib reports through an IoHost. Its messages are never printed as they come: this host turns the ones
 * xeks cares about into xeks events (CloudFormation resource activity, per-stack diffs), answers its questions
 * (xeks asked the user before calling it), and passes everything else on as debug events.
 */
import type { IIoHost, IoMessage, IoRequest } from "@aws-cdk/toolkit-lib";
import { eventInfo, type StackEventInfo } from "./aws.js";
import type { DeployEvent, EventSink } from "./types.js";

type ResourceEvent = Extract<DeployEvent, { type: "resource" }>;

/**
 * The resource events of one batch, oldest first. toolkit-lib's poller sorts each poll's events by Timestamp,
 * but a sort that keeps equal timestamps in the order DescribeStackEvents gave them, newest first (events of
 * the same second or millisecond: a resource's CREATE_IN_PROGRESS and CREATE_COMPLETE, at the emulator): here
 * each stack's events are ordered by time, and events of equal time in the reverse of their arrival. Stacks keep
 * the order of their first event. Pure; `arrival` is the events in the order they came.
 */
export function oldestFirst(arrival: readonly ResourceEvent[]): ResourceEvent[] {
  const byStack = new Map<string, { e: ResourceEvent; i: number }[]>();
  arrival.forEach((e, i) => {
    const list = byStack.get(e.stack) ?? [];
    list.push({ e, i });
    byStack.set(e.stack, list);
  });
  const time = (e: ResourceEvent) => (e.time ? Date.parse(e.time) : Number.NaN);
  return [...byStack.values()].flatMap((list) =>
    list
      .sort((a, b) => {
        const ta = time(a.e);
        const tb = time(b.e);
        if (Number.isNaN(ta) || Number.isNaN(tb) || ta === tb) return b.i - a.i;
        return ta - tb;
      })
      .map((x) => x.e),
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Requests toolkit-lib makes during deploy/destroy; xeks has already asked the user (or been told --yes). */
const CONFIRMATIONS = new Set([
  "CDK_TOOLKIT_I5060", // deploy these changes?
  "CDK_TOOLKIT_I5050", // roll back a paused stack first?
  "CDK_TOOLKIT_I7010", // destroy these stacks?
]);

interface ActivityPayload {
  event?: Parameters<typeof eventInfo>[0] & { StackName?: string };
}

interface StackDiffPayload {
  formattedDiff?: { diff?: string; security?: string };
  diffs?: Record<string, unknown>;
  stack?: { stackName?: string };
}

export class XeksIoHost implements IIoHost {
  /** *_FAILED resource events seen per stack during this run, oldest first. */
  readonly failures = new Map<string, StackEventInfo[]>();
  /** DELETE_SKIPPED / DELETE_FAILED events per stack (resources left behind). */
  readonly leftBehind = new Map<string, StackEventInfo[]>();
  /** Formatted template diffs per stack (no colours). */
  readonly diffTexts = new Map<string, string>();
  /** The last messages, for context when something fails. */
  readonly recent: string[] = [];
  private readonly seen = new Set<string>();
  /** Resource events of the batch being received, emitted oldest first by `flush`. */
  private pending: ResourceEvent[] = [];
  private flushTimer?: NodeJS.Immediate;

  constructor(private readonly emit: EventSink) {}

  async notify(msg: IoMessage<unknown>): Promise<void> {
    const text = stripAnsi(msg.message ?? "");
    this.recent.push(text);
    if (this.recent.length > 50) this.recent.shift();
    if (msg.code === "CDK_TOOLKIT_I5502") {
      this.activity(msg.data as ActivityPayload);
      return;
    }
    if (msg.code === "CDK_TOOLKIT_I4002") {
      const d = msg.data as StackDiffPayload;
      const name = d.stack?.stackName ?? Object.keys(d.diffs ?? {})[0];
      const diff = d.formattedDiff?.diff;
      if (name && diff) this.diffTexts.set(name, stripAnsi(diff).trim());
    }
    this.emit({ type: "debug", message: `[${msg.level}${msg.code ? ` ${msg.code}` : ""}] ${text}` });
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    this.emit({ type: "debug", message: `[request ${msg.code}] ${stripAnsi(msg.message).split("\n")[0]}` });
    if (CONFIRMATIONS.has(msg.code)) return true as T;
    return msg.defaultResponse;
  }

  /** Emit the resource events received so far, oldest first within each stack (`oldestFirst`). */
  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const e of oldestFirst(batch)) this.emit(e);
  }

  private activity(payload: ActivityPayload): void {
    const e = payload.event;
    if (!e) return;
    const id =
      e.EventId ?? `${e.StackName}/${e.LogicalResourceId}/${e.ResourceStatus}/${String(e.Timestamp)}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    const info = eventInfo(e);
    const stack = e.StackName ?? "";
    // toolkit-lib notifies a poll's events one after the other, without awaiting anything in between: the batch
    // is what arrives before the next turn of the event loop (`flush`, also called before a stack's outcome).
    this.pending.push({
      type: "resource",
      stack,
      logicalId: info.logicalId,
      resourceType: info.resourceType,
      status: info.status,
      ...(info.reason ? { reason: info.reason } : {}),
      ...(info.time ? { time: info.time.toISOString() } : {}),
    });
    this.flushTimer ??= setImmediate(() => this.flush());
    if (info.resourceType === "AWS::CloudFormation::Stack") return;
    if (info.status.endsWith("_FAILED")) {
      const list = this.failures.get(stack) ?? [];
      list.push(info);
      this.failures.set(stack, list);
    }
    if (info.status === "DELETE_SKIPPED" || info.status === "DELETE_FAILED") {
      const list = this.leftBehind.get(stack) ?? [];
      list.push(info);
      this.leftBehind.set(stack, list);
    }
  }
}
