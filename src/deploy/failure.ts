/**
 * When a stack fails: which resource, and CloudFormation's reason. The first failed resource event is the cause;
 * the ones after it are mostly "Resource creation cancelled" echoes. When the service names no resource (an API
 * call refused outright, or an emulator that reports no resource events), the resource is inferred from the
 * template: the one whose properties hold the id the reason quotes.
 */
import type { StackEventInfo } from "./aws.js";
import { stripAnsi } from "./io-host.js";
import type { StackFailure } from "./types.js";

const ECHO =
  /Resource (creation|update|deletion) cancelled|cancelled by user|The following resource\(s\) failed/i;

/** The event that caused a failure, from events of one stack operation (any order). */
export function rootCause(events: readonly StackEventInfo[]): StackEventInfo | undefined {
  const failed = events
    .filter((e) => e.status.endsWith("_FAILED") && e.resourceType !== "AWS::CloudFormation::Stack")
    .sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0));
  return failed.find((e) => e.reason && !ECHO.test(e.reason)) ?? failed[0];
}

/** toolkit-lib's error text without its decorations: `❌  NAME failed: Code: message` -> `Code: message`. */
export function reasonFromError(err: unknown, stack: string): string {
  let text = stripAnsi((err as Error)?.message ?? String(err)).trim();
  text = text.replace(/^\W*\s*/u, "");
  const prefix = `${stack} failed:`;
  if (text.startsWith(prefix)) text = text.slice(prefix.length).trim();
  text = text.replace(/^(DeploymentError|ToolkitError|Error):\s*/, "");
  return text.replace(/\s+/g, " ").trim();
}

type Template = { Resources?: Record<string, { Type?: string; Properties?: unknown }> };

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** The resource whose literal property values include an AWS id the reason quotes (rtb-…, vpc-…, sg-…, an ARN). */
export function inferResource(
  reason: string,
  template: Template,
): { logicalId: string; resourceType: string } | undefined {
  const ids = reason.match(/\b(?:[a-z]{2,5}-[0-9a-f]{8,17}|arn:aws[\w-]*:[^\s'"]+)\b/g) ?? [];
  if (ids.length === 0) return undefined;
  for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
    const values = strings(r.Properties);
    if (ids.some((id) => values.includes(id))) return { logicalId, resourceType: r.Type ?? "" };
  }
  return undefined;
}

/** Put together what is known about a failure. */
export function describeFailure(
  stack: string,
  events: readonly StackEventInfo[],
  err: unknown,
  template: Template | undefined,
): StackFailure {
  const cause = rootCause(events);
  if (cause) {
    return {
      stack,
      resource: cause.logicalId,
      resourceType: cause.resourceType,
      reason: cause.reason ?? cause.status,
    };
  }
  const reason = reasonFromError(err, stack);
  const guess = template ? inferResource(reason, template) : undefined;
  if (guess)
    return { stack, resource: guess.logicalId, resourceType: guess.resourceType, reason, inferred: true };
  return { stack, reason };
}
