import { namespaceMatches } from "../../access/evaluate.js";
import { accessPolicyName, associateAccessPolicyCommand } from "../../access/names.js";
import type { AccessPolicyAssociationFact } from "../../model/types.js";
import { factKey, unread } from "../../model/types.js";
import type { AccessPolicyRef } from "../../topology/types.js";
import { factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import { findEntry } from "./access-entry.js";

function scopeText(s: AccessPolicyAssociationFact["scope"]): string {
  return s.type === "cluster" ? "cluster" : `namespaces ${s.namespaces.join(", ")}`;
}

/**
 * Does `have` grant at least `want`? A namespace is covered when one of the associated patterns matches it
 * (`team-*` covers `team-a`); an asked glob is covered only by the same glob or a wider pattern that matches it.
 */
function covers(
  have: AccessPolicyAssociationFact["scope"],
  want: AccessPolicyRef["scope"],
): "same" | "wider" | "narrower" {
  if (have.type === "cluster") return want.type === "cluster" ? "same" : "wider";
  if (want.type === "cluster") return "narrower";
  const missing = want.namespaces.some((n) => !have.namespaces.some((p) => namespaceMatches(p, n)));
  if (missing) return "narrower";
  const same =
    have.namespaces.length === want.namespaces.length &&
    want.namespaces.every((n) => have.namespaces.includes(n));
  return same ? "same" : "wider";
}

/** eks.access-policy: the entry's associations grant what the topology asks, with the asked scope. */
export const accessPolicy: Link<"access"> = {
  id: "eks.access-policy",
  title: "access policies and scopes",
  subject: "access",
  evaluate({ topology, model }, { access }) {
    const c = topology.cluster;
    const missing = unread(model, factKey.accessEntries()) ?? unread(model, factKey.accessEntry(access.arn));
    if (missing)
      return unknown(
        `access policies could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "eks:ListAssociatedAccessPolicies"} in account ${c.account}`,
      );
    const entry = findEntry(model, access.arn);
    if (!entry)
      return fail(`no access entry for ${access.role}, so no policy applies`, "see eks.access-entry");
    const associate = (p: AccessPolicyRef) => associateAccessPolicyCommand(c, entry.principalArn, p);
    const evidence = entry.policies.map((p) => ({
      fact: `association ${accessPolicyName(p.policyArn) ?? p.policyArn}`,
      source: entry.source === "declared" ? ("declared" as const) : factSource(model),
      detail: scopeText(p.scope),
    }));
    const problems: string[] = [];
    const fixes: string[] = [];
    const wider: string[] = [];
    for (const want of access.policies) {
      const have = entry.policies.find((p) => p.policyArn === want.arn);
      if (!have) {
        problems.push(`${want.name} is not associated`);
        fixes.push(associate(want));
        continue;
      }
      const cmp = covers(have.scope, want.scope);
      if (cmp === "narrower") {
        problems.push(
          `${want.name} is scoped to ${scopeText(have.scope)}, the topology asks ${scopeText(want.scope)}`,
        );
        fixes.push(associate(want));
      } else if (cmp === "wider") {
        wider.push(`${want.name} is scoped to ${scopeText(have.scope)}, wider than ${scopeText(want.scope)}`);
      }
    }
    const extra = entry.policies.filter((p) => !access.policies.some((w) => w.arn === p.policyArn));
    for (const p of extra)
      wider.push(`${accessPolicyName(p.policyArn) ?? p.policyArn} is associated but not in the topology`);
    if (problems.length > 0) {
      return fail(
        `${access.role}: ${problems.join("; ")}`,
        `in account ${c.account}: ${fixes.join(" && ")}`,
        evidence,
      );
    }
    if (wider.length > 0) {
      return warn(
        `${access.role} is granted more than the topology asks: ${wider.join("; ")}`,
        `in account ${c.account}: re-associate with the asked scope, or aws eks disassociate-access-policy for the extra policies`,
        evidence,
      );
    }
    const names = access.policies.map((p) => `${p.name} (${scopeText(p.scope)})`).join(", ");
    return pass(`${access.role} is granted ${names}`, evidence);
  },
};
