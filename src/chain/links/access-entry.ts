import { findAccessEntry, findSessionEntry } from "../../domain/access-entry.js";
import { RESERVED_USERNAME_PREFIXES } from "../../domain/names.js";
import { type AccessEntryFact, factKey, type Model, unread } from "../../model/types.js";
import { factSource, fail, type Link, pass, unknown } from "../link.js";

const RESERVED = RESERVED_USERNAME_PREFIXES;

/** The access entry that applies to the role `roleArn` in the model (src/domain/access-entry.ts). */
export function findEntry(model: Model, roleArn: string): AccessEntryFact | undefined {
  return findAccessEntry(model.accessEntries, roleArn);
}

/** eks.access-entry: a STANDARD entry for the access role's role ARN (not a session ARN), still matching the role. */
export const accessEntry: Link<"access"> = {
  id: "eks.access-entry",
  title: "access entry for the access role",
  subject: "access",
  evaluate({ topology, model }, { access }) {
    const c = topology.cluster;
    const create = `in account ${c.account}: aws eks create-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${access.arn} --type STANDARD`;
    const missing = unread(model, factKey.accessEntries()) ?? unread(model, factKey.accessEntry(access.arn));
    if (missing) {
      return unknown(
        `access entries could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "eks:ListAccessEntries, eks:DescribeAccessEntry"} in account ${c.account}`,
      );
    }
    const entry = findEntry(model, access.arn);
    if (!entry) {
      const session = findSessionEntry(model.accessEntries, access.arn);
      if (session) {
        return fail(
          `the access entry names the session ARN ${session.principalArn}; EKS matches the role ARN, so it never applies`,
          `in account ${c.account}: aws eks delete-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${session.principalArn} && aws eks create-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${access.arn} --type STANDARD`,
          [{ fact: `access entry ${session.principalArn}`, source: factSource(model) }],
        );
      }
      return fail(`no access entry for ${access.arn}: the token is accepted, then 401 Unauthorized`, create);
    }
    const evidence = [
      {
        fact: `access entry ${entry.principalArn}`,
        source: entry.source === "declared" ? ("declared" as const) : factSource(model),
        detail: `type ${entry.type}${entry.username ? `, username ${entry.username}` : ""}`,
      },
    ];
    if (entry.conflict) {
      return fail(
        entry.conflict,
        `adopt the role and its entry instead (access[].adopt with the role's trust and inline policies as found; xeks discover writes it: docs/adopt.md), which keeps access throughout; or, in account ${c.account}, delete the entry (aws eks delete-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${entry.principalArn}: no access until deploy creates it again) and let xeks own it`,
        evidence,
      );
    }
    if (entry.type !== "STANDARD") {
      return fail(
        `the access entry for ${access.role} has type ${entry.type}; only STANDARD entries carry access policies and may be cross-account`,
        `in account ${c.account}: aws eks delete-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${entry.principalArn} && ${create.replace(/^in account \d+: /, "")}`,
        evidence,
      );
    }
    if (entry.username && RESERVED.some((p) => entry.username?.startsWith(p))) {
      return fail(
        `the entry's username ${entry.username} uses a reserved prefix`,
        `in account ${c.account}: aws eks update-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${entry.principalArn} --username ${access.username ?? "<name>"}`,
        evidence,
      );
    }
    const role = model.roles[access.arn];
    const recreate = `in account ${c.account}: aws eks delete-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${access.arn} && xeks deploy (or create-access-entry and associate-access-policy again)`;
    if (entry.principalUniqueId && role?.uniqueId && entry.principalUniqueId !== role.uniqueId) {
      return fail(
        `the role ${access.role} was deleted and recreated (unique id ${role.uniqueId}, the entry was made for ${entry.principalUniqueId}): EKS no longer matches it`,
        recreate,
        evidence,
      );
    }
    // EKS requires the principal to exist when the entry is made, so a role younger than its entry is a new
    // role with the old ARN (live: the API does not expose the unique id EKS keeps).
    if (entry.createdAt && role?.createdAt && Date.parse(role.createdAt) > Date.parse(entry.createdAt)) {
      return fail(
        `the role ${access.role} was deleted and recreated (role created ${role.createdAt}, after its access entry, created ${entry.createdAt}): EKS matches the old role's unique id, so it no longer applies`,
        recreate,
        [
          ...evidence,
          { fact: `role ${role.arn}`, source: factSource(model), detail: `created ${role.createdAt}` },
        ],
      );
    }
    return pass(`STANDARD access entry for ${access.role}`, evidence);
  },
};
