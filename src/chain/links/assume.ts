import { assumedRoleArn, roleArn } from "../../domain/arn.js";
import {
  globMatch,
  nameFromPattern,
  patternName,
  underPaths,
  WELL_KNOWN_ROLES,
} from "../../domain/organization.js";
import { SSO_ROLE_PATH, ssoExampleRole } from "../../domain/principal.js";
import { shellQuote } from "../../domain/shell.js";
import { accessTrustPolicy, externalIdGuards, externalIdsOf } from "../../domain/trust.js";
import { accepterRoleName } from "../../layout/names.js";
import { factKey, type Model, type PolicyDocument, type PolicyFact, unread } from "../../model/types.js";
import { accessOrganizationTrust, organizationCovers } from "../../topology/organization.js";
import type { AccessRole, Client, Topology } from "../../topology/types.js";
import { allowAll, decide, describeDenial, type IamDecision, type IamRequest } from "../iam.js";
import { type Finding, factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import { memoOf } from "../memo.js";
import type { Evidence } from "../types.js";
import { assumePolicyDocument, clientCallers, permissionSetPolicyFix } from "./callers.js";

/** The caller of sts:AssumeRole: a role session in a client account. */
export interface AssumeCaller {
  account: string;
  roleName: string;
  roleArn: string;
  /** aws:PrincipalOrgID, when known. */
  organizationId?: string;
  /** The account's organization path (aws:PrincipalOrgPaths, one value), when declared. */
  organizationPath?: string;
  /** The role session name of the simulated caller (default `i-0123456789abcdef0`, an EC2 instance id). */
  session?: string;
}

/** The role being assumed. */
export interface AssumeTarget {
  arn: string;
  account: string;
  /** The external id the caller passes. */
  externalId?: string | null;
}

/**
 * The request a client makes: its role session calls `action` (sts:AssumeRole; for Pod Identity also
 * sts:TagSession) on the access role. Both links decide this request, each with the other side held open.
 */
function assumeRequest(
  partition: string,
  caller: AssumeCaller,
  target: AssumeTarget,
  action = "sts:AssumeRole",
): Omit<IamRequest, "identityPolicies"> {
  const context: Record<string, string | string[]> = {};
  if (target.externalId) context["sts:ExternalId"] = target.externalId;
  if (caller.organizationId) context["aws:PrincipalOrgID"] = caller.organizationId;
  if (caller.organizationPath) context["aws:PrincipalOrgPaths"] = [caller.organizationPath];
  return {
    principal: assumedRoleArn(
      partition,
      caller.account,
      caller.roleName,
      caller.session ?? "i-0123456789abcdef0",
    ),
    principalArn: caller.roleArn,
    principalAccount: caller.account,
    action,
    resource: target.arn,
    resourceAccount: target.account,
    context,
  };
}

/**
 * The trust side of sts:AssumeRole (or of `action`, such as sts:TagSession): does the target's trust policy
 * (and the RCPs of its account) let the caller in? The identity side is held open. Used by
 * iam.access-role-trust and by `xeks discover`.
 */
export function trustDecision(opts: {
  partition: string;
  caller: AssumeCaller;
  target: AssumeTarget;
  trustPolicy: PolicyDocument;
  rcps?: PolicyFact[];
  action?: string;
}): Promise<IamDecision> {
  const action = opts.action ?? "sts:AssumeRole";
  return decide({
    ...assumeRequest(opts.partition, opts.caller, opts.target, action),
    identityPolicies: [allowAll(action)],
    resourcePolicy: opts.trustPolicy,
    rcps: opts.rcps,
  });
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
      `no access role names client ${client.name}, so it has no access to cluster ${c.name}: its ${client.principal.label} may assume no access role (the other links prove only the path to the endpoint)`,
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

/** The evidence source of a role fact: declared, or the model's (template at plan, live). */
function roleSource(model: Model, source: string): Evidence["source"] {
  return source === "declared" ? "declared" : factSource(model);
}

/** The caller as messages name it: the role, or for a permission set "ROLE (permission set P)". */
function callerLabel(client: Client, caller: AssumeCaller): string {
  return client.identity.kind === "sso" ? `${caller.roleName} (${client.principal.label})` : caller.roleName;
}

/**
 * The finding when a client has no role to simulate (sso with no role of the permission set in the account):
 * iam.client-role reports it; the pair links cannot decide anything.
 */
/**
 * The roles acting for a client (`clientCallers`), or the finding when there is none to simulate: unknown when
 * they could not be listed (the permission that would decide it), unknown "see iam.client-role" when none exists.
 */
function callersOrFinding(model: Model, client: Client): AssumeCaller[] | Finding {
  const { callers, missing } = clientCallers(model, client);
  if (missing) {
    return unknown(
      `the roles of ${client.principal.label} could not be listed: ${missing.reason}`,
      missing.hint ?? `allow ${missing.permission ?? "iam:ListRoles"} in account ${client.account}`,
    );
  }
  if (callers.length > 0) return callers;
  return unknown(
    `no role of ${client.principal.label} in account ${client.account} to simulate: see iam.client-role`,
    "see iam.client-role",
  );
}

/**
 * iam.assume-permission: the identity side (policies, boundary, SCPs) of each role acting for the client allows
 * the principal's actions (sts:AssumeRole; plus sts:TagSession for Pod Identity) on the access role. For a
 * permission set (sso) the roles are its Identity Center roles and the fix names the permission set: IAM
 * refuses changes to roles under /aws-reserved/.
 */
export const assumePermission: Link<"pair"> = {
  id: "iam.assume-permission",
  title: "client role may call sts:AssumeRole on the access role",
  subject: "pair",
  async evaluate({ model }, { client, access }): Promise<Finding> {
    const callers = callersOrFinding(model, client);
    if (!Array.isArray(callers)) return callers;
    const actions = client.principal.actions;
    const target = targetOf(model, access);
    const evidence: Evidence[] = [];
    for (const caller of callers) {
      const missing = unread(model, factKey.role(caller.roleArn));
      if (missing)
        return unknown(
          `role ${caller.roleArn} could not be read: ${missing.reason}`,
          missing.hint ??
            `allow ${missing.permission ?? "iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies"} in account ${client.account}`,
          evidence,
        );
      const role = model.roles[caller.roleArn];
      if (!role) return fail(`client role ${caller.roleArn} does not exist`, "see iam.client-role", evidence);
      // Isolate the identity side: a trust policy that lets exactly this role in, for the same actions.
      const isolating = accessTrustPolicy(
        [{ ...client.principal, arn: caller.roleArn, account: undefined, arnPatterns: undefined }],
        null,
        model.cluster.partition,
      );
      evidence.push(
        ...role.policies.map((p) => ({
          fact: `policy ${p.name} of ${callerLabel(client, caller)}`,
          source: roleSource(model, p.source),
        })),
        ...(role.permissionsBoundary
          ? [
              {
                fact: `permissions boundary ${role.permissionsBoundary.name}`,
                source: role.permissionsBoundary.source,
              },
            ]
          : []),
        ...(model.scps[client.account] ?? []).map((p) => ({
          fact: `SCP ${p.name} of account ${client.account}`,
          source: p.source,
        })),
      );
      for (const action of actions) {
        const d = await decide({
          ...assumeRequest(model.cluster.partition, caller, target, action),
          identityPolicies: role.policies,
          permissionsBoundary: role.permissionsBoundary,
          scps: model.scps[client.account],
          resourcePolicy: isolating,
        });
        evidence.push({
          fact: `decision (iam-simulate): ${caller.roleName} ${action}`,
          source: factSource(model),
          detail: d.result,
        });
        if (d.result === "Allowed") continue;
        if (d.result === "Invalid")
          return unknown(
            `the policies could not be evaluated: ${d.errors}`,
            "fix the policy documents named in the evidence",
            evidence,
          );
        const why = d.denials.map(describeDenial).join("; ") || d.result;
        return fail(
          `${callerLabel(client, caller)} may not ${action} on ${access.role}: ${why}`,
          identityFix(client, caller, access, d),
          evidence,
        );
      }
    }
    const who =
      client.identity.kind === "sso"
        ? `${client.principal.label} (${callers.map((c) => c.roleName).join(", ")})`
        : (callers[0]?.roleName ?? client.principal.label);
    return pass(`${who} may ${actions.join(" and ")} on ${access.role}`, evidence);
  },
};

/** The fix for a denied identity side, naming what can change: the role's policies, or the permission set. */
function identityFix(client: Client, caller: AssumeCaller, access: AccessRole, d: IamDecision): string {
  const blocker = d.denials.find((x) => x.explicit) ?? d.denials[0];
  const actions = client.principal.actions;
  const doc = assumePolicyDocument(actions, [access.arn]);
  const sso = client.identity.kind === "sso" ? client.identity : undefined;
  if (blocker?.by === "scp") {
    const exempt = sso
      ? `the roles of permission set ${sso.permissionSet} (aws:PrincipalArn ArnLike ${client.principal.arnPatterns?.join(", ")})`
      : caller.roleArn;
    return `in the organization's management account: exempt ${exempt} from the SCP ${blocker.policy ?? ""} (for example with an aws:PrincipalArn condition), or detach it from account ${client.account}`;
  }
  if (sso) {
    if (blocker?.by === "boundary") {
      return `in the IAM Identity Center administration account: allow ${actions.join(" and ")} on ${access.arn} in the permissions boundary of permission set ${sso.permissionSet} (aws sso-admin put-permissions-boundary-to-permission-set), or remove it (aws sso-admin delete-permissions-boundary-from-permission-set), then aws sso-admin provision-permission-set --target-type AWS_ACCOUNT --target-id ${client.account}`;
    }
    if (blocker?.explicit) {
      return `in the IAM Identity Center administration account: remove the statement ${blocker.statement ?? ""} of ${blocker.policy ?? "the policy"} of permission set ${sso.permissionSet} that denies ${actions.join(" and ")} on ${access.arn}, then aws sso-admin provision-permission-set --target-type AWS_ACCOUNT --target-id ${client.account}`;
    }
    return permissionSetPolicyFix(sso.permissionSet, client.account, doc);
  }
  if (blocker?.by === "boundary") {
    return `in account ${client.account}: allow ${actions.join(" and ")} on ${access.arn} in the permissions boundary of ${caller.roleName}, or remove the boundary`;
  }
  if (blocker?.explicit) {
    return `in account ${client.account}: remove the statement ${blocker.statement ?? ""} of ${blocker.policy ?? "the policy"} that denies ${actions.join(" and ")} on ${access.arn}`;
  }
  return `in account ${client.account}: aws iam put-role-policy --role-name ${caller.roleName} --policy-name xeks-assume-${access.role} --policy-document ${shellQuote(doc)}`;
}

/** The principals an access role trusts: those of the clients it names (docs/clients.md). */
function principalsOf(topology: Topology, access: AccessRole) {
  return topology.clients.filter((c) => access.clients.includes(c.name)).map((c) => c.principal);
}

/** Another 12-digit account than `account`, for the reach of a permission set pattern. */
function otherAccount(account: string): string {
  return account === "999999999999" ? "888888888888" : "999999999999";
}

/**
 * Who gets in through the access role's trust for a permission set (sso), decided by iam-simulate: the
 * permission set's roles (each caller, and the same role under a region-prefixed path) must get in; a role of
 * another permission set of the same account, a plain role of that account, and the permission set's role in
 * another account must not. A name `NAME_more` of another permission set also matches the pattern
 * `AWSReservedSSO_NAME_*` (docs/clients.md): said, not judged. Returns the evidence lines and the roles that get
 * in but should not.
 */
async function ssoReach(
  client: Client,
  callers: AssumeCaller[],
  trust: (caller: AssumeCaller) => Promise<IamDecision>,
  partition: string,
  source: Evidence["source"],
): Promise<{ evidence: Evidence[]; wider: string[] }> {
  if (client.identity.kind !== "sso") return { evidence: [], wider: [] };
  const set = client.identity.permissionSet;
  const account = client.account;
  const session = client.principal.example.session;
  const asCaller = (arn: string, acct = account): AssumeCaller => ({
    account: acct,
    roleName: arn.slice(arn.lastIndexOf("/") + 1),
    roleArn: arn,
    session,
  });
  const example = ssoExampleRole(partition, account, set);
  const regional = roleArn(partition, account, example.name, `${SSO_ROLE_PATH}${client.region}/`);
  const inside = [...callers, asCaller(regional)];
  const wide = asCaller(
    roleArn(partition, account, `AWSReservedSSO_${set}_more_0123456789abcdef`, SSO_ROLE_PATH),
  );
  const outside = [
    asCaller(roleArn(partition, account, "AWSReservedSSO_Other_0123456789abcdef", SSO_ROLE_PATH)),
    asCaller(roleArn(partition, account, "NotInPermissionSet")),
    asCaller(ssoExampleRole(partition, otherAccount(account), set).arn, otherAccount(account)),
  ];
  const evidence: Evidence[] = [];
  const wider: string[] = [];
  const line = (detail: string): Evidence => ({
    fact: `reach of ${client.principal.label} (iam-simulate)`,
    source,
    detail,
  });
  for (const c of inside) {
    const d = await trust(c);
    evidence.push(line(`${d.result === "Allowed" ? "gets in" : "does not get in"}: ${c.roleArn}`));
  }
  const more = await trust(wide);
  evidence.push(
    line(
      `${more.result === "Allowed" ? "gets in" : "does not get in"}: ${wide.roleArn} (a permission set named ${set}_more would match AWSReservedSSO_${set}_*)`,
    ),
  );
  for (const c of outside) {
    const d = await trust(c);
    if (d.result === "Allowed") wider.push(c.roleArn);
    evidence.push(line(`${d.result === "Allowed" ? "gets in" : "does not get in"}: ${c.roleArn}`));
  }
  return { evidence, wider };
}

/** An organization id that is not `id`, for the reach of an organization statement. */
export function outsideOrganization(id: string): string {
  return id === "o-outsideorg0" ? "o-outsideorg1" : "o-outsideorg0";
}

/** A role name in the client account that none of the organization's role patterns matches. */
function roleOutsidePatterns(patterns: readonly string[]): string {
  const candidates = ["NotA-Client-Role", "xeks-not-a-client", "Outside-0", "zz"];
  return candidates.find((c) => !patterns.some((p) => globMatch(p, c))) ?? (candidates[0] as string);
}

/**
 * Organization paths of the same organization that are not under the declared `paths` (docs/organizations.md): a
 * sibling OU under the same root (`o-ID/r-ROOT/ou-ROOT-zzzzzzzz/`, or `…-yyyyyyyy` when that one is declared) and
 * the root itself (`o-ID/r-ROOT/`), each only when no declared path covers it. An organization has one root, so
 * these are paths a real member account may have. Empty without paths.
 */
export function pathsOutside(paths: readonly string[]): string[] {
  const first = paths[0];
  if (!first) return [];
  const [orgId, root] = first.split("/");
  const rootPath = `${orgId}/${root}/`;
  const rootId = (root ?? "").replace(/^r-/, "");
  const sibling = ["zzzzzzzz", "yyyyyyyy", "xxxxxxxx"]
    .map((s) => `${rootPath}ou-${rootId}-${s}/`)
    .find((p) => !underPaths(p, paths));
  return [sibling, rootPath].filter((p): p is string => p !== undefined && !underPaths(p, paths));
}

/** A 12-digit account other than those given: 999999999998, else 888888888887. */
function anotherMember(...accounts: string[]): string {
  return accounts.includes("999999999998") ? "888888888887" : "999999999998";
}

/** A caller that must not get in through an organization statement, and why. */
interface Negative {
  caller: AssumeCaller;
  why: string;
  /** A role of the member account itself (outside the patterns, a role AWS creates in member accounts). */
  member: boolean;
}

/**
 * The callers of an organization statement's reach, built from one client (`rep`, with the roles acting for it):
 * "by design", a role matching the client's pattern (wildcards as `x`) in another member account that is no
 * declared client, the delegation the statement makes; and the callers that must not get in: the same role name in
 * an account outside the organization (`outsideOrganization`), a role outside the role name patterns in the
 * client's account, with paths the same role name under another path of the organization (`pathsOutside`), the
 * cluster account's peering accepter role and a role of the cluster account matching a pattern (an access role:
 * excluded by `aws:PrincipalAccount`), and the roles AWS creates in member accounts (`WELL_KNOWN_ROLES`). Undefined
 * when `rep` has no role.
 */
function reachCallers(
  topology: Topology,
  access: AccessRole,
  rep: Client,
  callers: AssumeCaller[],
  org: NonNullable<Topology["organization"]>,
  partition: string,
): { byDesign: AssumeCaller; designWhy: string; outside: Negative[] } | undefined {
  const role = rep.role;
  if (!role) return undefined;
  const other = otherAccount(rep.account);
  const member = callers[0]?.account ?? rep.account;
  const outsideOrg = outsideOrganization(org.id);
  const path = rep.organizationPath;
  const outsideName = roleOutsidePatterns(org.rolePatterns);
  const clusterAccount = topology.cluster.account;
  const as = (account: string, name: string, orgId: string, orgPath: string | undefined): AssumeCaller => ({
    account,
    roleName: name,
    roleArn: roleArn(partition, account, name, role.path),
    session: rep.principal.example.session,
    organizationId: orgId,
    ...(orgPath ? { organizationPath: orgPath } : {}),
  });
  /** A caller by the part of its ARN after `role/` (path without its leading `/`, then the name). */
  const named = (account: string, after: string, orgPath = path): AssumeCaller => ({
    account,
    roleName: after.slice(after.lastIndexOf("/") + 1),
    roleArn: `arn:${partition}:iam::${account}:role/${after}`,
    session: rep.principal.example.session,
    organizationId: org.id,
    ...(orgPath ? { organizationPath: orgPath } : {}),
  });
  const own = patternName(role.path, role.name);
  const pattern = org.rolePatterns.find((p) => globMatch(p, own)) ?? own;
  const outside: Negative[] = [
    {
      caller: as(other, role.name, outsideOrg, path?.replace(org.id, outsideOrg)),
      why: `the same role name in account ${other} of another organization, ${outsideOrg}`,
      member: false,
    },
    {
      caller: named(member, outsideName),
      why: `a role of account ${member} outside the role name pattern${org.rolePatterns.length > 1 ? "s" : ""} ${org.rolePatterns.join(", ")}`,
      member: true,
    },
    ...pathsOutside(org.paths).map((p) => ({
      caller: as(other, role.name, org.id, p),
      why: `the same role name in account ${other} of ${org.id} under another path, ${p}`,
      member: false,
    })),
    {
      caller: named(clusterAccount, accepterRoleName(topology.cluster.name), path ?? org.paths[0]),
      why: `the peering accepter role of the cluster account ${clusterAccount}, excluded by aws:PrincipalAccount`,
      member: false,
    },
  ];
  const sibling = topology.access.find(
    (a) => a.role !== access.role && org.rolePatterns.some((p) => globMatch(p, a.role)),
  );
  outside.push({
    caller: named(clusterAccount, sibling?.role ?? nameFromPattern(pattern), path ?? org.paths[0]),
    why: sibling
      ? `access role ${sibling.role} of the cluster account ${clusterAccount}, excluded by aws:PrincipalAccount`
      : `a role of the cluster account ${clusterAccount} matching ${pattern}, excluded by aws:PrincipalAccount`,
    member: false,
  });
  for (const known of WELL_KNOWN_ROLES) {
    outside.push({
      caller: named(member, known.example),
      why: `${known.label}, in member account ${member}`,
      member: true,
    });
  }
  const delegate = anotherMember(member, other);
  const byDesign = named(delegate, nameFromPattern(pattern));
  return {
    byDesign,
    designWhy: `a role matching ${pattern} in account ${delegate} of ${org.id}, not a declared client: the organization statement lets every member account's matching roles in`,
    outside,
  };
}

/** An evidence line of the reach of organization `org`. */
function reachLine(org: { id: string }, source: Evidence["source"], detail: string): Evidence {
  return { fact: `reach of organization ${org.id} (iam-simulate)`, source, detail };
}

/** Decide `negatives` with `trust`: their evidence lines, and the callers that get in. */
async function decideNegatives(
  negatives: Negative[],
  org: { id: string },
  trust: (caller: AssumeCaller) => Promise<IamDecision>,
  source: Evidence["source"],
): Promise<{ evidence: Evidence[]; wider: string[] }> {
  const evidence: Evidence[] = [];
  const wider: string[] = [];
  for (const { caller, why } of negatives) {
    const d = await trust(caller);
    if (d.result === "Allowed") wider.push(caller.roleArn);
    evidence.push(
      reachLine(
        org,
        source,
        `${d.result === "Allowed" ? "gets in" : "does not get in"}: ${caller.roleArn} (${why})`,
      ),
    );
  }
  return { evidence, wider };
}

/** The reach of an organization statement, decided once for a class of access roles (`organizationReach`). */
interface ClassReach {
  /** The pair whose finding lists the reach in full: the first pair of the class that gets in. */
  client: Client;
  access: AccessRole;
  /** The member account of the client's roles (its negatives' account). */
  member: string;
  /** The "gets in (by design)" line, then one line per caller that must not get in, in order. */
  evidence: Evidence[];
  /** The callers (role ARNs) that get in but must not. */
  wider: string[];
}

/** The reach of `access`'s organization statement decided with `rep` (whose `callers` get in) as the client. */
async function decideReach(
  topology: Topology,
  model: Model,
  rep: Client,
  access: AccessRole,
  callers: AssumeCaller[],
  org: NonNullable<Topology["organization"]>,
): Promise<ClassReach> {
  const role = model.roles[access.arn] as NonNullable<Model["roles"][string]>;
  const partition = model.cluster.partition;
  const source = roleSource(model, role.source);
  const built = reachCallers(topology, access, rep, callers, org, partition);
  const member = callers[0]?.account ?? rep.account;
  if (!built) return { client: rep, access, member, evidence: [], wider: [] };
  const trust = (caller: AssumeCaller) =>
    trustDecision({
      partition,
      trustPolicy: role.trustPolicy,
      rcps: model.rcps[model.cluster.account],
      caller,
      target: targetOf(model, access),
    });
  const designed = await trust(built.byDesign);
  const evidence = [
    reachLine(
      org,
      source,
      `${designed.result === "Allowed" ? "gets in (by design)" : "does not get in"}: ${built.byDesign.roleArn} (${built.designWhy})`,
    ),
  ];
  const negatives = await decideNegatives(built.outside, org, trust, source);
  return {
    client: rep,
    access,
    member,
    evidence: [...evidence, ...negatives.evidence],
    wider: negatives.wider,
  };
}

/** Condition operators under which an sts:ExternalId value is compared as a string (IAM User Guide, "String condition operators"). */
const STRING_OPERATOR = /^(ForAnyValue:|ForAllValues:)?String(Not)?(Equals|Like)(IgnoreCase)?(IfExists)?$/;

/**
 * The key of an access role's class for the organization reach: its trust policy as JSON with its own external id
 * (as an sts:ExternalId value under a string operator) replaced by a placeholder, and whether it has one. Undefined
 * (a class of its own) when the reach could depend on more than that: RCPs declared on the cluster account, a role
 * not read, a statement with Resource or NotResource (the request names the access role), a policy variable
 * (`${`), an sts:ExternalId value with `*` or `?`, under another operator than a string one or Null, or equal to
 * the own external id but for case.
 */
/** Condition keys whose values are account ids. */
const ACCOUNT_KEYS = new Set(["aws:principalaccount", "aws:sourceaccount", "aws:resourceaccount"]);

/**
 * Whether a trust policy names accounts by a pattern (`33333333333?`, `2222*`): in an ARN's account field or as
 * the value of an account condition key, anything with `*` or `?` but the whole field `*` (the organization
 * statement's `arn:PARTITION:iam::*:role/PATTERN`, which names no account). Such a policy treats member accounts
 * differently, so its reach is decided for its own pairs (found by review: a class shared across such roles missed a
 * widening in a non-first pair's account).
 */
function namesAccountsByPattern(doc: unknown): boolean {
  const wild = (account: string) => account !== "*" && /[*?]/.test(account);
  const visit = (value: unknown, key: string | undefined): boolean => {
    if (typeof value === "string") {
      const arn = /^arn:[^:]*:[^:]*:[^:]*:([^:]*):/.exec(value);
      if (arn && wild(arn[1] ?? "")) return true;
      return key !== undefined && ACCOUNT_KEYS.has(key.toLowerCase()) && wild(value);
    }
    if (Array.isArray(value)) return value.some((v) => visit(v, key));
    if (value && typeof value === "object")
      return Object.entries(value).some(([k, v]) => visit(v, k.includes(":") ? k : key));
    return false;
  };
  return visit(doc, undefined);
}

function reachClassKey(model: Model, access: AccessRole): string | undefined {
  if ((model.rcps[model.cluster.account] ?? []).length > 0) return undefined;
  if (unread(model, factKey.role(access.arn))) return undefined;
  const role = model.roles[access.arn];
  if (!role) return undefined;
  if (JSON.stringify(role.trustPolicy).includes("${")) return undefined;
  if (namesAccountsByPattern(role.trustPolicy)) return undefined;
  const own = access.externalId ?? undefined;
  const statements: unknown[] = [];
  for (const s of [role.trustPolicy.Statement].flat()) {
    if (s.Resource !== undefined || s.NotResource !== undefined) return undefined;
    if (!s.Condition) {
      statements.push(s);
      continue;
    }
    const condition: Record<string, Record<string, unknown>> = {};
    for (const [operator, block] of Object.entries(s.Condition)) {
      const copy: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== "sts:externalid") {
          copy[key] = value;
          continue;
        }
        if (operator === "Null") {
          copy[key] = value;
          continue;
        }
        if (!STRING_OPERATOR.test(operator)) return undefined;
        const values = [value].flat();
        for (const v of values) {
          if (typeof v !== "string" || v.includes("*") || v.includes("?")) return undefined;
          if (own !== undefined && v !== own && v.toLowerCase() === own.toLowerCase()) return undefined;
        }
        const renamed = (v: unknown) => (own !== undefined && v === own ? { externalId: "own" } : v);
        copy[key] = Array.isArray(value) ? value.map(renamed) : renamed(value);
      }
      condition[operator] = copy;
    }
    statements.push({ ...s, Condition: condition });
  }
  return `${own === undefined ? "no external id" : "external id"} ${JSON.stringify({ ...role.trustPolicy, Statement: statements })}`;
}

/** The access roles by class key (`reachClassKey`; an access role of its own class under its ARN). */
function reachClasses(
  topology: Topology,
  model: Model,
): { keyOf: Map<string, string>; members: Map<string, AccessRole[]> } {
  return memoOf(topology, model, "organization-reach-classes", () => {
    const keyOf = new Map<string, string>();
    const members = new Map<string, AccessRole[]>();
    for (const access of topology.access) {
      const key = reachClassKey(model, access) ?? `own ${access.arn}`;
      keyOf.set(access.arn, key);
      members.set(key, [...(members.get(key) ?? []), access]);
    }
    return { keyOf, members };
  });
}

/**
 * The roles acting for `client` when the pair (`client`, `access`) shows the organization's reach: the client is
 * covered, its path declared when paths are, its roles listed, and each of them gets in for each of the principal's
 * actions. Otherwise undefined.
 */
async function reachingCallers(
  topology: Topology,
  model: Model,
  client: Client,
  access: AccessRole,
  org: NonNullable<Topology["organization"]>,
): Promise<AssumeCaller[] | undefined> {
  if (!organizationCovers(topology, client) || !client.role) return undefined;
  if (org.paths.length > 0 && !client.organizationPath) return undefined;
  const role = model.roles[access.arn];
  if (!role || unread(model, factKey.role(access.arn))) return undefined;
  const callers = callersOrFinding(model, client);
  if (!Array.isArray(callers)) return undefined;
  const target = targetOf(model, access);
  for (const caller of callers) {
    for (const action of client.principal.actions) {
      const d = await trustDecision({
        partition: model.cluster.partition,
        trustPolicy: role.trustPolicy,
        rcps: model.rcps[model.cluster.account],
        caller,
        target,
        action,
      });
      if (d.result !== "Allowed") return undefined;
    }
  }
  return callers;
}

/**
 * Who gets in through an access role's organization statement (docs/organizations.md), decided by iam-simulate
 * once per class of access roles (`reachClassKey`: trust policies equal but for each role's own external id, no
 * RCP on the cluster account): with the callers of `reachCallers` built from the client of the class's first pair
 * that gets in (clients in topology order, for each the access roles naming it in topology order), against that
 * pair's trust policy and external id. Within a proof scope the promise is kept (`memoOf`) and every pair of the
 * class reuses it; outside one it is decided again, with the same pair, giving the same lines. Undefined when no
 * pair of the class gets in.
 */
function organizationReach(
  topology: Topology,
  model: Model,
  access: AccessRole,
  org: NonNullable<Topology["organization"]>,
): Promise<ClassReach | undefined> {
  const classes = reachClasses(topology, model);
  const key = classes.keyOf.get(access.arn) ?? `own ${access.arn}`;
  return memoOf(topology, model, `organization-reach:${key}`, async () => {
    const members = classes.members.get(key) ?? [access];
    for (const client of topology.clients) {
      for (const a of topology.access) {
        if (!members.includes(a) || !a.clients.includes(client.name)) continue;
        const callers = await reachingCallers(topology, model, client, a, org);
        if (callers) return decideReach(topology, model, client, a, callers, org);
      }
    }
    return undefined;
  });
}

/**
 * The organization reach lines of a pair whose callers get in: a "gets in" line per caller; then, for the first
 * pair of its class (`organizationReach`), the class's lines in full, and for every other pair one line naming that
 * pair, plus, when the trust policy's text names the pair's own account (a statement for that account), the
 * negatives in that account (`Negative.member`) decided for it. The callers that must not get in but do.
 */
async function pairReach(
  topology: Topology,
  model: Model,
  client: Client,
  access: AccessRole,
  callers: AssumeCaller[],
  org: NonNullable<Topology["organization"]>,
): Promise<{ evidence: Evidence[]; wider: string[] }> {
  const role = model.roles[access.arn];
  const clientRole = client.role;
  if (!role || !clientRole) return { evidence: [], wider: [] };
  const source = roleSource(model, role.source);
  const evidence = callers.map((c) =>
    reachLine(
      org,
      source,
      `gets in: ${c.roleArn} (${patternName(clientRole.path, c.roleName)} in ${org.id}${c.organizationPath ? `, path ${c.organizationPath}` : ""})`,
    ),
  );
  const shared =
    (await organizationReach(topology, model, access, org)) ??
    (await decideReach(topology, model, client, access, callers, org));
  if (shared.client.name === client.name && shared.access.role === access.role) {
    return { evidence: [...evidence, ...shared.evidence.map((e) => ({ ...e }))], wider: [...shared.wider] };
  }
  const same =
    shared.access.role === access.role
      ? "the same trust policy"
      : (shared.access.externalId ?? undefined) !== (access.externalId ?? undefined)
        ? "trust policies equal but for the external id"
        : "equal trust policies";
  evidence.push(
    reachLine(
      org,
      source,
      `the same as under client ${shared.client.name} with access role ${shared.access.role} (${same})`,
    ),
  );
  const wider = [...shared.wider];
  const member = callers[0]?.account ?? client.account;
  if (member !== shared.member && JSON.stringify(role.trustPolicy).includes(member)) {
    const built = reachCallers(topology, access, client, callers, org, model.cluster.partition);
    const trust = (caller: AssumeCaller) =>
      trustDecision({
        partition: model.cluster.partition,
        trustPolicy: role.trustPolicy,
        rcps: model.rcps[model.cluster.account],
        caller,
        target: targetOf(model, access),
      });
    const own = await decideNegatives(
      (built?.outside ?? []).filter((n) => n.member),
      org,
      trust,
      source,
    );
    evidence.push(...own.evidence);
    wider.push(...own.wider);
  }
  return { evidence, wider };
}

/**
 * iam.access-role-trust: the access role's trust policy lets each role acting for the client in (with the
 * external id) for the principal's actions (sts:AssumeRole; plus sts:TagSession for Pod Identity). For a
 * permission set it also shows the reach: who gets in and who does not (warn when someone outside gets in); for a
 * client the organization statement covers, the organization's reach (`pairReach`: in full for the first pair of
 * a class of access roles, by reference for the others), and unknown when
 * organization paths are declared but not the client's `organizationPath`. Fixes rebuild the access role's trust
 * with `accessTrustPolicy` (with the organization statement) for every client the access role names.
 */
export const accessRoleTrust: Link<"pair"> = {
  id: "iam.access-role-trust",
  title: "access role trusts the client role",
  subject: "pair",
  async evaluate({ topology, model }, { client, access }): Promise<Finding> {
    const missing = unread(model, factKey.role(access.arn));
    if (missing)
      return unknown(
        `role ${access.arn} could not be read: ${missing.reason}`,
        missing.hint ?? `allow ${missing.permission ?? "iam:GetRole"} in account ${model.cluster.account}`,
      );
    const role = model.roles[access.arn];
    if (!role) return fail(`access role ${access.arn} does not exist`, "xeks deploy creates it");
    const callers = callersOrFinding(model, client);
    if (!Array.isArray(callers)) return callers;
    const org = organizationCovers(topology, client) ? topology.organization : undefined;
    if (org && org.paths.length > 0 && !client.organizationPath) {
      const i = topology.clients.indexOf(client);
      return unknown(
        `the organization path of account ${client.account} is not declared: the access roles trust only accounts under organization.paths (aws:PrincipalOrgPaths)`,
        `declare clients[${i}].organizationPath (in the management account: aws organizations list-parents --child-id ${client.account}, up to the root), e.g. ${org.paths[0]}`,
      );
    }
    const partition = model.cluster.partition;
    const target = targetOf(model, access);
    const trust = { partition, trustPolicy: role.trustPolicy, rcps: model.rcps[model.cluster.account] };
    const actions = client.principal.actions;
    const evidence: Evidence[] = [
      {
        fact: `trust policy of ${access.arn}`,
        source: roleSource(model, role.source),
        detail: JSON.stringify(role.trustPolicy.Statement),
      },
    ];
    const trustDoc = accessTrustPolicy(
      principalsOf(topology, access),
      access.externalId,
      partition,
      accessOrganizationTrust(topology, access),
    );
    const fix = `in account ${model.cluster.account}: aws iam update-assume-role-policy --role-name ${access.role} --policy-document ${shellQuote(JSON.stringify(trustDoc))} (or add the statement beside the existing ones)`;
    for (const caller of callers) {
      for (const action of actions) {
        const d = await trustDecision({ ...trust, caller, target, action });
        evidence.push({
          fact: `decision (iam-simulate): ${caller.roleName} ${action}`,
          source: factSource(model),
          // sts:ExternalId is a condition key of sts:AssumeRole only (sts:TagSession is decided without it).
          detail:
            action !== "sts:AssumeRole"
              ? d.result
              : `${d.result}${access.externalId ? " with the topology's external id" : " with no external id"}`,
        });
        if (d.result === "Allowed") continue;
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
          const other = await trustDecision({
            ...trust,
            caller,
            target: { ...target, externalId: id },
            action,
          });
          if (other.result === "Allowed") {
            needsExternalId = true;
            break;
          }
        }
        if (needsExternalId) {
          return fail(
            access.externalId
              ? `${access.role}'s trust policy requires an external id other than the one in the topology`
              : `${access.role}'s trust policy requires an external id, but the topology grants none (access[].externalId)`,
            access.externalId ? fix : `set access[].externalId to the expected value, or ${fix}`,
            evidence,
          );
        }
        if (action !== "sts:AssumeRole" && externalIdGuards(role.trustPolicy, action)) {
          // The one-statement form earlier releases wrote for Pod Identity roles with an external id.
          return fail(
            `${access.role}'s trust policy allows ${action} only with sts:ExternalId, a condition key of sts:AssumeRole alone, so no request matches it: ${callerLabel(client, caller)} may not call ${action}`,
            `allow ${action} in a statement of its own, without the sts:ExternalId condition (keep it on sts:AssumeRole): ${fix}`,
            evidence,
          );
        }
        return fail(
          `${access.role}'s trust policy does not let ${callerLabel(client, caller)} ${action === "sts:AssumeRole" ? "in" : `call ${action}`}: ${d.denials.map(describeDenial).join("; ") || d.result}`,
          fix,
          evidence,
        );
      }
    }
    const reach = await ssoReach(
      client,
      callers,
      (caller) => trustDecision({ ...trust, caller, target }),
      partition,
      roleSource(model, role.source),
    );
    evidence.push(...reach.evidence);
    // An external id in the topology is a promise that the trust asks for it (the confused deputy): a caller that
    // gets in without one makes the trust wider than declared.
    if (access.externalId) {
      for (const caller of callers) {
        const without = await trustDecision({ ...trust, caller, target: { ...target, externalId: null } });
        evidence.push({
          fact: `decision (iam-simulate): ${caller.roleName} sts:AssumeRole without the external id`,
          source: factSource(model),
          detail: without.result === "Allowed" ? "Allowed: the trust does not ask for it" : without.result,
        });
        if (without.result === "Allowed")
          reach.wider.push(`${callerLabel(client, caller)} without the external id (access[].externalId)`);
      }
    }
    if (org) {
      const orgReach = await pairReach(topology, model, client, access, callers, org);
      evidence.push(...orgReach.evidence);
      reach.wider.push(...orgReach.wider);
    }
    if (reach.wider.length > 0) {
      return warn(
        `${access.role}'s trust is wider than declared: ${reach.wider.join(", ")} ${reach.wider.length === 1 ? "gets" : "get"} in besides ${client.principal.label}`,
        fix,
        evidence,
      );
    }
    const who =
      client.identity.kind === "sso"
        ? `${client.principal.label} (${callers.map((c) => c.roleName).join(", ")})`
        : (callers[0]?.roleName ?? client.principal.label);
    return pass(
      `${access.role} trusts ${who}${actions.length > 1 ? ` for ${actions.join(" and ")}` : ""}${access.externalId ? " with the external id" : ""}`,
      evidence,
    );
  },
};
