/**
 * Which EKS access entry applies to a principal. EKS keys access entries by principal ARN and matches a role
 * by its canonical ARN (path stripped, case ignored: see canonicalRoleArn); an entry created for a session ARN
 * (`assumed-role/…`) never applies, since EKS authorizes a session through its role's entry (EKS User Guide,
 * "Create access entries"). Domain layer: no imports outside src/domain.
 */
import { canonicalRoleArn } from "./arn.js";

/** An access entry's principal is a role session (`arn:P:sts::A:assumed-role/R/S`), which EKS never matches. */
export function isSessionArn(arn: string): boolean {
  return arn.includes(":assumed-role/");
}

/** The entry principal `entryArn` is the role `roleArn` as EKS matches it: not a session, same canonical ARN. */
export function entryMatchesRole(entryArn: string, roleArn: string): boolean {
  return !isSessionArn(entryArn) && canonicalRoleArn(entryArn) === canonicalRoleArn(roleArn);
}

/** The principal ARN of the entry that applies to `roleArn` among `arns`: the exact ARN first, else a match. */
export function findAccessEntryArn(arns: readonly string[], roleArn: string): string | undefined {
  return arns.find((a) => a === roleArn) ?? arns.find((a) => entryMatchesRole(a, roleArn));
}

/**
 * The entry that applies to `roleArn` in entries keyed by principal ARN: the exact key first, else an entry
 * whose principal matches the role (entryMatchesRole). Undefined when none applies.
 */
export function findAccessEntry<E extends { principalArn: string }>(
  entries: Readonly<Record<string, E>>,
  roleArn: string,
): E | undefined {
  const exact = entries[roleArn];
  if (exact) return exact;
  return Object.values(entries).find((e) => entryMatchesRole(e.principalArn, roleArn));
}

/** An entry made for a session of `roleArn` (a common mistake: it never applies), or undefined. */
export function findSessionEntry<E extends { principalArn: string }>(
  entries: Readonly<Record<string, E>>,
  roleArn: string,
): E | undefined {
  const want = canonicalRoleArn(roleArn);
  return Object.values(entries).find(
    (e) => isSessionArn(e.principalArn) && canonicalRoleArn(e.principalArn) === want,
  );
}

/** Every principal ARN among `arns` that belongs to the role `roleArn`: its entries and its sessions' entries. */
export function entryArnsOfRole(arns: readonly string[], roleArn: string): string[] {
  const want = canonicalRoleArn(roleArn);
  return arns.filter((a) => canonicalRoleArn(a) === want);
}
