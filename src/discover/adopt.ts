/**
 * What discover marks as existing so that deploy adopts it (docs/adopt.md, docs/doctor.md "discover"): whether a
 * found peering connection can be imported into xeks's client stack, and which inline policy of a client role is
 * its sts:AssumeRole policy (`clients[].role.assumePolicy`).
 */
import { decide } from "../chain/iam.js";
import { assumedRoleArn } from "../domain/arn.js";
import { trustPolicy } from "../domain/trust.js";
import type { PeeringFact, PolicyDocument, PolicyStatement, RoleFact } from "../model/types.js";
import { inlinePolicies } from "./write.js";

/**
 * The peering as the topology writes it (`clients[].peering`). xeks's client stack describes the connection as the
 * client VPC's request (`VpcId` the client VPC, `PeerVpcId` the cluster VPC, in the client account); one the
 * cluster side requested does not match that, so it is left as it is (`adopt: false`), with a line in `notes`.
 */
export function peeringOf(
  p: PeeringFact,
  clientVpcId: string,
  client: string,
  notes: string[],
): { id: string; adopt: boolean } {
  if (p.requester.vpcId === clientVpcId) return { id: p.id, adopt: true };
  notes.push(
    `client ${client}: peering ${p.id} was requested from the cluster VPC, not the client's: xeks's stacks request ` +
      "from the client side, so it is written with adopt: false (left as it is, routes adopted through it)",
  );
  return { id: p.id, adopt: false };
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function statements(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/**
 * Does the document grant exactly sts:AssumeRole on some of `arns` and nothing else (Allow statements only, no
 * NotAction, NotResource or Condition)? Only such a policy can be adopted: deploy replaces its document with
 * xeks's (sts:AssumeRole on every access role of the client), which then loses nothing.
 */
export function onlyAssumes(doc: PolicyDocument, arns: readonly string[]): boolean {
  const st = statements(doc);
  return (
    st.length > 0 &&
    st.every(
      (s) =>
        s.Effect === "Allow" &&
        s.NotAction === undefined &&
        s.NotResource === undefined &&
        s.Condition === undefined &&
        list(s.Action).length > 0 &&
        list(s.Action).every((a) => a.toLowerCase() === "sts:assumerole") &&
        list(s.Resource).length > 0 &&
        list(s.Resource).every((r) => arns.includes(r)),
    )
  );
}

/**
 * The client role's inline policy that allows sts:AssumeRole on its access roles (`accessArns`, as IAM names
 * them), to be adopted under its name: among the policies that allow it on at least one of them by themselves
 * (the IAM evaluation the proof uses, the other policies left out) and grant nothing else (`onlyAssumes`), the one
 * that allows it on the most, the first in IAM's order on a tie. Undefined when none qualifies: deploy then adds
 * xeks's own policy, and the policies that allow it but grant more are named in `notes`.
 */
export async function assumePolicyOf(
  role: RoleFact,
  accessArns: readonly string[],
  clusterAccount: string,
  partition: string,
  client: string,
  notes: string[],
): Promise<string | undefined> {
  if (accessArns.length === 0) return undefined;
  const scored = await Promise.all(
    inlinePolicies(role).map(async (p) => {
      let allowed = 0;
      for (const arn of accessArns) {
        const d = await decide({
          principal: assumedRoleArn(partition, role.account, role.name, "i-0123456789abcdef0"),
          principalArn: role.arn,
          principalAccount: role.account,
          action: "sts:AssumeRole",
          resource: arn,
          resourceAccount: clusterAccount,
          identityPolicies: [{ name: `inline ${p.name}`, document: p.document, source: "live" }],
          resourcePolicy: trustPolicy({ aws: [role.arn] }),
        });
        if (d.result === "Allowed") allowed++;
      }
      return { name: p.name, allowed, only: onlyAssumes(p.document, accessArns) };
    }),
  );
  const allowing = scored.filter((s) => s.allowed > 0);
  const best = allowing.filter((s) => s.only).sort((a, b) => b.allowed - a.allowed)[0];
  if (!best) {
    for (const s of allowing) {
      notes.push(
        `client ${client}: the inline policy ${s.name} of role ${role.name} allows sts:AssumeRole on its access ` +
          "role but grants more: it is not adopted (deploy would replace its document); deploy adds xeks's own policy beside it",
      );
    }
  }
  return best?.name;
}
