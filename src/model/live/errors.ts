/**
 * What an AWS error means for a read: denied by IAM (the fact is unread, and the missing permission is known),
 * not found (the thing does not exist, which is itself a fact), or failed for another reason (unread too).
 */

/** Error codes AWS uses when IAM (or an SCP, a boundary, a VPC endpoint policy) denies the call. */
const DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnauthorizedException",
  "Client.UnauthorizedOperation",
  "AuthorizationError",
]);

const NOT_FOUND = new Set([
  "NoSuchEntity",
  "NoSuchEntityException",
  "ResourceNotFoundException",
  "InvalidVpcID.NotFound",
  "InvalidRouteTableID.NotFound",
  "InvalidGroup.NotFound",
  "InvalidGroupId.Malformed",
  "InvalidVpcPeeringConnectionID.NotFound",
  "InvalidSubnetID.NotFound",
]);

export type ReadErrorKind = "denied" | "notFound" | "failed";

export interface ClassifiedError {
  kind: ReadErrorKind;
  /** The AWS error code (or the JavaScript error name). */
  code: string;
  /** One line for a report: "iam:GetRole was denied (AccessDenied)". */
  detail: string;
  /** The permission the call needed. */
  permission: string;
}

function codeOf(err: unknown): string {
  const e = err as { name?: string; Code?: string; code?: string };
  return e?.Code ?? e?.name ?? e?.code ?? "Error";
}

function messageOf(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  // One line, bounded: AWS messages can carry encoded authorization details.
  const line = m.split("\n")[0] ?? "";
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}

export function classify(err: unknown, permission: string): ClassifiedError {
  const code = codeOf(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (DENIED.has(code) || (status === 403 && !/Expired|Signature|InvalidClientTokenId/.test(code))) {
    return { kind: "denied", code, permission, detail: `${permission} was denied (${code})` };
  }
  if (NOT_FOUND.has(code) || code.endsWith(".NotFound")) {
    return { kind: "notFound", code, permission, detail: `${permission}: not found (${code})` };
  }
  return { kind: "failed", code, permission, detail: `${permission} failed: ${code}: ${messageOf(err)}` };
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
