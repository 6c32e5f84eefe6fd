import { assumedRoleArn } from "../../domain/arn.js";
import { externalIdsOf, trustPolicy } from "../../domain/trust.js";
import { factKey, type Model, type PolicyDocument, type PolicyFact, unread } from "../../model/types.js";
import type { AccessRole, Client } from "../../topology/types.js";
import { allowAll, decide, describeDenial, type IamDecision, type IamRequest } from "../iam.js";
import { type Finding, factSource, fail, type Link, pass, unknown, warn } from "../link.js";

/** The caller of sts:AssumeRole: a role session in a client account. */
export interface AssumeCaller {
  account: string;
  roleName: string;
  roleArn: string;
  /** aws:PrincipalOrgID, when known. */
  organizationId?: string;
}

/** The role being assumed. */
export interface AssumeTarget {
  arn: string;
  account: string;
  /** The external id the caller passes. */
  externalId?: string | null;
}

/**
 * The request the client instance makes: its role session (an instance id as session name) calls
 * sts:AssumeRole on the access role. Both links decide this request, each with the other side held open.
 */
function assumeRequest(
  partition: string,
  caller: AssumeCaller,
  target: AssumeTarget,
): Omit<IamRequest, "identityPolicies"> {
  const context: Record<string, string> = {};
  if (target.externalId) context["sts:ExternalId"] = target.externalId;
  if (caller.organizationId) context["aws:PrincipalOrgID"] = caller.organizationId;
  return {
    principal: assumedRoleArn(partition, caller.account, caller.roleName, "i-0123456789abcdef0"),
    principalArn: caller.roleArn,
    principalAccount: caller.account,
    action: "sts:AssumeRole",
    resource: target.arn,
    resourceAccount: target.account,
    context,
  };
}

/**
 * The trust side of sts:AssumeRole: does the target's trust policy (and the RCPs of its account) let the
 * caller in? The identity side is held open. Used by iam.access-role-trust and by `xeks discover`.
 */
export function trustDecision(opts: {
  partition: string;
  caller: AssumeCaller;
  target: AssumeTarget;
  trustPolicy: PolicyDocument;
  rcps?: PolicyFact[];
}): Promise<IamDecision> {
  return decide({
    ...assumeRequest(opts.partition, opts.caller, opts.target),
    identityPolicies: [allowAll("sts:AssumeRole")],
    resourcePolicy: opts.trustPolicy,
    rcps: opts.rcps,
  });
}

function callerOf(model: Model, client: Client): AssumeCaller {
  return {
    account: client.account,
    roleName: client.role.name,
    roleArn: client.role.arn,
    organizationId: model.organizations[client.account],
  };
}

function targetOf(model: Model, access: AccessRole): AssumeTarget {
  return { arn: access.arn, account: model.cluster.account, externalId: access.externalId };
}

/**
 * iam.assume-permission for a client that no access role names (`access[].clients`): its role may assume no
 * access role, so the client has no access to the cluster, however well its network links hold. A warning,
 * not a failure (the topology is valid and may be on its way), reported on the client itself since no
 * (client, access role) pair exists. Not applicable (null) to a client that an access role names: the pair
 * links decide those. The id is the contract's `iam.assume-permission`: what is missing is permission to
 * assume an access role.
 */
export const noAccessRole: Link<"client"> = {
  id: "iam.assume-permission",
  title: "client may assume an access role",
  subject: "client",
  evaluate({ topology }, { client }): Finding | null {
    if (topology.access.some((a) => a.clients.includes(client.name))) return null;
    const c = topology.cluster;
    const roles = topology.access.map((a) => a.role);
    return warn(
      `no access role names client ${client.name}, so it has no access to cluster ${c.name}: its role ${client.role.name} may assume no access role (the other links prove only the path to the endpoint)`,
      roles.length > 0
        ? `add ${client.name} to access[].clients of the access role it should use (${roles.join(", ")}), or remove client ${client.name} from the topology`
        : `add an access role to the topology with ${client.name} in its clients, or remove client ${client.name}`,
      [
        {
          fact: "access[].clients",
          source: "declared",
          detail:
            topology.access.map((a) => `${a.role}: ${a.clients.join(", ")}`).join("; ") || "no access role",
        },
      ],
    );
  },
};

/** iam.assume-permission: the client role's identity side (policies, boundary, SCPs) allows sts:AssumeRole. */
export const assumePermission: Link<"pair"> = {
  id: "iam.assume-permission",
  title: "client role may call sts:AssumeRole on the access role",
  subject: "pair",
  async evaluate({ model }, { client, access }): Promise<Finding> {
    const missing = unread(model, factKey.role(client.role.arn));
    if (missing)
      return unknown(
        `role ${client.role.arn} could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies"} in account ${client.account}`,
      );
    const role = model.roles[client.role.arn];
    if (!role) return fail(`client role ${client.role.arn} does not exist`, "see iam.client-role");
    // Isolate the identity side: a trust policy that lets exactly this role in.
    const req: IamRequest = {
      ...assumeRequest(model.cluster.partition, callerOf(model, client), targetOf(model, access)),
      identityPolicies: role.policies,
      permissionsBoundary: role.permissionsBoundary,
      scps: model.scps[client.account],
      resourcePolicy: trustPolicy({ aws: [client.role.arn] }),
    };
    const d = await decide(req);
    const evidence = [
      ...req.identityPolicies.map((p) => ({
        fact: `policy ${p.name} of ${client.role.name}`,
        source: p.source === "declared" ? ("declared" as const) : factSource(model),
      })),
      ...(req.permissionsBoundary
        ? [
            {
              fact: `permissions boundary ${req.permissionsBoundary.name}`,
              source: req.permissionsBoundary.source,
            },
          ]
        : []),
      ...(req.scps ?? []).map((p) => ({
        fact: `SCP ${p.name} of account ${client.account}`,
        source: p.source,
      })),
      { fact: "decision (iam-simulate)", source: factSource(model), detail: d.result },
    ];
    if (d.result === "Allowed") return pass(`${client.role.name} may assume ${access.role}`, evidence);
    if (d.result === "Invalid")
      return unknown(
        `the policies could not be evaluated: ${d.errors}`,
        "fix the policy documents named in the evidence",
        evidence,
      );
    const why = d.denials.map(describeDenial).join("; ") || d.result;
    const blocker = d.denials.find((x) => x.explicit) ?? d.denials[0];
    const fix =
      blocker?.by === "scp"
        ? `in the organization's management account: exempt ${client.role.arn} from the SCP ${blocker.policy ?? ""} (for example with an aws:PrincipalArn condition), or detach it from account ${client.account}`
        : blocker?.by === "boundary"
          ? `in account ${client.account}: allow sts:AssumeRole on ${access.arn} in the permissions boundary of ${client.role.name}, or remove the boundary`
          : blocker?.explicit
            ? `in account ${client.account}: remove the statement ${blocker.statement ?? ""} of ${blocker.policy ?? "the policy"} that denies sts:AssumeRole on ${access.arn}`
            : `in account ${client.account}: aws iam put-role-policy --role-name ${client.role.name} --policy-name xeks-assume-${access.role} --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"${access.arn}"}]}'`;
    return fail(`${client.role.name} may not assume ${access.role}: ${why}`, fix, evidence);
  },
};

/** iam.access-role-trust: the access role's trust policy lets the client role in (with the external id). */
export const accessRoleTrust: Link<"pair"> = {
  id: "iam.access-role-trust",
  title: "access role trusts the client role",
  subject: "pair",
  async evaluate({ model }, { client, access }): Promise<Finding> {
    const missing = unread(model, factKey.role(access.arn));
    if (missing)
      return unknown(
        `role ${access.arn} could not be read: ${missing.reason}`,
        missing.hint ?? `allow ${missing.permission ?? "iam:GetRole"} in account ${model.cluster.account}`,
      );
    const role = model.roles[access.arn];
    if (!role) return fail(`access role ${access.arn} does not exist`, "xeks deploy creates it");
    const caller = callerOf(model, client);
    const target = targetOf(model, access);
    const trust = {
      partition: model.cluster.partition,
      caller,
      trustPolicy: role.trustPolicy,
      rcps: model.rcps[model.cluster.account],
    };
    const d = await trustDecision({ ...trust, target });
    const evidence = [
      {
        fact: `trust policy of ${access.arn}`,
        source: role.source === "declared" ? ("declared" as const) : factSource(model),
        detail: JSON.stringify(role.trustPolicy.Statement),
      },
      {
        fact: "decision (iam-simulate)",
        source: factSource(model),
        detail: `${d.result}${access.externalId ? " with the topology's external id" : " with no external id"}`,
      },
    ];
    if (d.result === "Allowed") {
      return pass(
        `${access.role} trusts ${client.role.name}${access.externalId ? " with the external id" : ""}`,
        evidence,
      );
    }
    if (d.result === "Invalid")
      return unknown(
        `the trust policy could not be evaluated: ${d.errors}`,
        "fix the trust policy",
        evidence,
      );
    // Would it pass with the external id the trust policy names? Then the external id is what is missing.
    let needsExternalId = false;
    for (const id of externalIdsOf(role.trustPolicy)) {
      if (id === access.externalId) continue;
      if ((await trustDecision({ ...trust, target: { ...target, externalId: id } })).result === "Allowed") {
        needsExternalId = true;
        break;
      }
    }
    const trustDoc = trustPolicy({ aws: [client.role.arn] }, access.externalId);
    const fix = `in account ${model.cluster.account}: aws iam update-assume-role-policy --role-name ${access.role} --policy-document '${JSON.stringify(trustDoc)}' (or add the statement beside the existing ones)`;
    if (needsExternalId) {
      return fail(
        access.externalId
          ? `${access.role}'s trust policy requires an external id other than the one in the topology`
          : `${access.role}'s trust policy requires an external id, but the topology grants none (access[].externalId)`,
        access.externalId ? fix : `set access[].externalId to the expected value, or ${fix}`,
        evidence,
      );
    }
    return fail(
      `${access.role}'s trust policy does not let ${client.role.name} in: ${d.denials.map(describeDenial).join("; ")}`,
      fix,
      evidence,
    );
  },
};
