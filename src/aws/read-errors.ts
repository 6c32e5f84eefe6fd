/**
 * What an AWS error means for a live read (./read.ts): denied by IAM (the fact is unread, and the missing
 * permission is known), not found (the thing does not exist, which is itself a fact), or failed for another
 * reason (unread too). The kind comes from the one classifier, ./errors.ts.
 */

import { type AwsErrorKind, awsErrorHint, classifyAwsError, formatAwsError } from "./errors.js";

export type ReadErrorKind = "denied" | "notFound" | "failed";

export interface ClassifiedError {
  kind: ReadErrorKind;
  /** The kind of the one AWS error classifier (src/aws/errors.ts): refused, timeout, notAws, ... */
  awsKind: AwsErrorKind;
  /** The AWS error code (or the JavaScript error name). */
  code: string;
  /** One line for a report: "iam:GetRole was denied (AccessDenied)". */
  detail: string;
  /** The permission the call needed. */
  permission: string;
  /** What to do, from the one table of hints (src/aws/errors.ts); the permission only when denied. */
  hint?: string;
}

/** Classify a read's error with the one AWS classifier (src/aws/errors.ts). */
export function classify(err: unknown, permission: string): ClassifiedError {
  const facts = classifyAwsError(err);
  const { code } = facts;
  const hint = awsErrorHint(facts.kind, { operation: permission });
  const base = { awsKind: facts.kind, code, permission, ...(hint ? { hint } : {}) };
  if (facts.kind === "denied") {
    return { kind: "denied", ...base, detail: `${permission} was denied (${code})` };
  }
  if (facts.kind === "notFound") {
    return { kind: "notFound", ...base, detail: `${permission}: not found (${code})` };
  }
  // One line, bounded: AWS messages can carry encoded authorization details.
  const line = formatAwsError(facts);
  const bounded = line.length > 240 ? `${line.slice(0, 237)}...` : line;
  return { kind: "failed", ...base, detail: `${permission} failed: ${bounded}` };
}

/** A read that did not succeed: carried up to the fact it was for, then recorded as `unread`. */
export class ReadFailure extends Error {
  override readonly name = "ReadFailure";
  constructor(readonly error: ClassifiedError) {
    super(error.detail);
  }
}

/** Run one SDK call; turn its error into a ReadFailure that names the permission. */
export async function read<T>(permission: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ReadFailure) throw err;
    throw new ReadFailure(classify(err, permission));
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ReadFailure && err.error.kind === "notFound";
}
