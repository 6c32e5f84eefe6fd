/**
 * stackset.instances (docs/contract.md, docs/organizations.md): for a client from an organization, every stack instance
 * of its StackSet is CURRENT, so that each member account of its OUs has the client role. Live only (doctor reads
 * ListStackInstances in the administrator account, with CallAs); not applicable at plan, where nothing is deployed,
 * and to any other client.
 */
import { stackNames } from "../../layout/names.js";
import { factKey, unread } from "../../model/types.js";
import { type Finding, fail, type Link, pass, unknown } from "../link.js";
import type { Evidence } from "../types.js";

export const stackSetInstances: Link<"client"> = {
  id: "stackset.instances",
  title: "every stack instance of the client's StackSet is current",
  subject: "client",
  evaluate({ topology, model }, { client }): Finding | null {
    const from = client.fromOrganization;
    if (!from || model.source === "plan") return null;
    const name = stackNames.clientIdentity(topology.cluster.name, client.name);
    const where = `in account ${from.administrator}`;
    const callAs = `--call-as ${from.callAs}`;
    const missing = unread(model, factKey.stackSetInstances(client.name));
    if (missing) {
      return unknown(
        `the stack instances of StackSet ${name} could not be read: ${missing.reason}`,
        missing.permission
          ? `allow ${missing.permission} ${where} to the credentials of client ${client.name} (--client-profile ${client.name}=PROFILE)`
          : (missing.hint ?? "see the reason"),
      );
    }
    const instances = model.stackSetInstances?.[client.name] ?? [];
    const evidence: Evidence[] = instances.map((i) => ({
      fact: `stack instance ${i.account} ${i.region}`,
      source: "live",
      detail: `${i.status}${i.detailedStatus ? ` (${i.detailedStatus})` : ""}${i.statusReason ? `: ${i.statusReason}` : ""}`,
    }));
    if (instances.length === 0) {
      return fail(
        `StackSet ${name} has no stack instance ${where} (callAs ${from.callAs}): no member account of ${from.organizationalUnits.join(", ")} has the role ${client.role?.name ?? ""}`,
        `xeks deploy creates the StackSet and its instances; if it exists, check that ${from.organizationalUnits.join(", ")} hold accounts: aws cloudformation list-stack-instances --stack-set-name ${name} ${callAs} (${where})`,
        evidence,
      );
    }
    const bad = instances.filter((i) => i.status !== "CURRENT");
    if (bad.length > 0) {
      const list = bad
        .slice(0, 5)
        .map((i) => `${i.account} (${i.region}) ${i.status}${i.statusReason ? `: ${i.statusReason}` : ""}`)
        .join("; ");
      return fail(
        `${bad.length} of ${instances.length} stack instances of StackSet ${name} are not CURRENT: ${list}${bad.length > 5 ? `; and ${bad.length - 5} more` : ""}`,
        `fix the cause in each account named (the reason says it), then run xeks deploy again or ${where}: aws cloudformation update-stack-instances --stack-set-name ${name} --deployment-targets OrganizationalUnitIds=${from.organizationalUnits.join(",")} --regions ${from.regions.join(" ")} ${callAs}`,
        evidence,
      );
    }
    // A declared OU or region without an instance (an OU added to the topology and not deployed yet): known when
    // every instance names its OU (ListStackInstances OrganizationalUnitId, which AWS gives and moto 5.2 does not).
    const ousKnown = instances.every((i) => i.organizationalUnit);
    const emptyOus = ousKnown
      ? from.organizationalUnits.filter((o) => !instances.some((i) => i.organizationalUnit === o))
      : [];
    const emptyRegions = from.regions.filter((r) => !instances.some((i) => i.region === r));
    if (emptyOus.length > 0 || emptyRegions.length > 0) {
      const what = [
        ...(emptyOus.length > 0 ? [`OU ${emptyOus.join(", ")}`] : []),
        ...(emptyRegions.length > 0 ? [`region ${emptyRegions.join(", ")}`] : []),
      ].join(" and ");
      return fail(
        `StackSet ${name} has no stack instance in ${what} declared in the topology: their member accounts do not have the role ${client.role?.name ?? ""}`,
        `run xeks deploy (it creates the missing instances), or ${where}: aws cloudformation create-stack-instances --stack-set-name ${name} --deployment-targets OrganizationalUnitIds=${(emptyOus.length > 0 ? emptyOus : from.organizationalUnits).join(",")} --regions ${(emptyRegions.length > 0 ? emptyRegions : from.regions).join(" ")} ${callAs}; if the OU holds no account, that is expected`,
        evidence,
      );
    }
    const accounts = [...new Set(instances.map((i) => i.account))];
    return pass(
      `${instances.length} stack instance${instances.length === 1 ? "" : "s"} of StackSet ${name} CURRENT in ${accounts.length} account${accounts.length === 1 ? "" : "s"}: ${accounts.slice(0, 10).join(", ")}${accounts.length > 10 ? ", …" : ""}`,
      evidence,
    );
  },
};
