import { GITHUB_ACTIONS_PROVIDER, POD_IDENTITY_SERVICE } from "../../domain/principal.js";
import { shellQuote } from "../../domain/shell.js";
import { podIdentityTrustPolicy, trustPolicy, webIdentityTrustPolicy } from "../../domain/trust.js";
import { factKey, type Model, type RoleFact, unread } from "../../model/types.js";
import type { Client, ClientRole } from "../../topology/types.js";
import { serviceMayAssume } from "../iam.js";
import { type Finding, factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import type { Evidence } from "../types.js";
import { webIdentityDecision } from "../web-identity.js";
import { ownRoles, roleNameOfArn } from "./callers.js";

/**
 * iam.client-role: what the client's kind needs on the client side (docs/clients.md).
 * - instance: the role exists, trusts ec2.amazonaws.com and is in an instance profile (live: the client
 *   instance carries it);
 * - role: the existing role exists; its trust is left as it is and not checked;
 * - oidc: the OIDC provider exists with the audience (live; at plan the evidence says doctor checks it) and the
 *   web-identity role trusts it for the declared `aud` and each `sub`, and for no other subject or audience;
 * - pod-identity: the role trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession, and a Pod
 *   Identity association of the client account's cluster gives it to the namespace's service account;
 * - sso: the permission set has at least one role in the client account (`model.principalRoles`).
 * No fix here replaces a trust that is not xeks's own (kind role, sso).
 */
export const clientRole: Link<"client"> = {
  id: "iam.client-role",
  title: "client identity (role, permission set, provider, association)",
  subject: "client",
  async evaluate({ model }, { client }) {
    switch (client.identity.kind) {
      case "sso":
        return ssoRoles(model, client, client.identity.permissionSet);
      case "oidc":
        return oidcRole(model, client, client.identity);
      case "pod-identity":
        return podIdentityRole(model, client, client.identity);
      case "role":
        return existingRole(model, client);
      case "instance":
        return instanceRole(model, client);
    }
  },
};

/** The client's role (every kind but sso has one after validation; a throw is reported as a bug). */
function roleOf(client: Client): ClientRole {
  if (!client.role) throw new Error(`client ${client.name} of kind ${client.identity.kind} has no role`);
  return client.role;
}

/** The role's fact, or the finding when it could not be read or does not exist. */
function roleFact(model: Model, client: Client, r: ClientRole, absentFix: string): RoleFact | Finding {
  const missing = unread(model, factKey.role(r.arn));
  if (missing)
    return unknown(
      `role ${r.arn} could not be read: ${missing.reason}`,
      missing.hint ??
        `allow ${missing.permission ?? "iam:GetRole"} to the credentials used for account ${client.account}`,
    );
  return model.roles[r.arn] ?? fail(`role ${r.arn} does not exist`, absentFix);
}

const isFinding = (x: RoleFact | Finding): x is Finding => "status" in x;

function trustEvidence(model: Model, role: RoleFact): Evidence {
  return {
    fact: `trust policy of ${role.arn}`,
    source: role.source === "declared" ? "declared" : factSource(model),
    detail: JSON.stringify(role.trustPolicy.Statement),
  };
}

async function instanceRole(model: Model, client: Client): Promise<Finding> {
  const r = roleOf(client);
  const arn = r.arn;
  const inAccount = `in account ${client.account}`;
  const profileName = r.instanceProfile ?? r.name;
  const role = roleFact(
    model,
    client,
    r,
    r.existing
      ? `${inAccount}: create the role ${r.name} (trusted by ec2.amazonaws.com) with an instance profile, or set clients[].role.existing: false so xeks creates it`
      : "xeks deploy creates it",
  );
  if (isFinding(role)) return role;
  const source = role.source === "declared" ? ("declared" as const) : factSource(model);
  const evidence: Evidence[] = [trustEvidence(model, role)];
  const trust = await serviceMayAssume(role.trustPolicy, "ec2.amazonaws.com", arn);
  if (trust.result !== "Allowed") {
    // Only the trust of a role xeks creates may be replaced; an existing role's trust is its owner's (it may be
    // a person's, a pipeline's or a service's role): never a command that replaces it.
    const statement = JSON.stringify(trustPolicy({ service: "ec2.amazonaws.com" }).Statement[0]);
    return fail(
      `role ${r.name} does not trust ec2.amazonaws.com, so no instance can use it`,
      r.existing
        ? `if ${r.name} is meant for EC2 instances, ${inAccount} add the statement ${statement} to its trust policy beside the statements it has (IAM console, or get-role and update the document keeping them); if it is used by people, a pipeline or pods, declare the client with that kind instead (identity: { kind: role, arn: ${r.arn} } proves it with its trust as it is; kinds sso, oidc, pod-identity: docs/clients.md)`
        : `xeks deploy sets it (the role is xeks's own), or ${inAccount}: aws iam update-assume-role-policy --role-name ${r.name} --policy-document ${shellQuote(JSON.stringify(trustPolicy({ service: "ec2.amazonaws.com" })))}`,
      evidence,
    );
  }
  if (role.instanceProfiles.length === 0) {
    return fail(
      `role ${r.name} is in no instance profile, so no instance can carry it`,
      `${inAccount}: aws iam create-instance-profile --instance-profile-name ${profileName} && aws iam add-role-to-instance-profile --instance-profile-name ${profileName} --role-name ${r.name}`,
      evidence,
    );
  }
  evidence.push({ fact: "instance profiles", source, detail: role.instanceProfiles.join(", ") });
  if (model.source === "live" && client.instance) {
    const notRead = unread(model, factKey.instances(client.account));
    if (notRead) {
      return unknown(
        `the client instance in ${client.instance.subnetId} could not be read: ${notRead.reason}`,
        `allow ${notRead.permission ?? "ec2:DescribeInstances"} to the credentials used for account ${client.account}`,
        evidence,
      );
    }
    const instance = model.instances.find(
      (i) => i.account === client.account && i.subnetId === client.instance?.subnetId,
    );
    const profile = instance?.instanceProfile ?? "";
    if (instance && !role.instanceProfiles.some((p) => profile === p || profile.endsWith(`/${p}`))) {
      return fail(
        `instance ${instance.id} does not carry the instance profile of ${r.name}`,
        instance.instanceProfile
          ? `${inAccount}: aws ec2 replace-iam-instance-profile-association --iam-instance-profile Name=${role.instanceProfiles[0]} --region ${client.region} --association-id $(aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values=${instance.id} --region ${client.region} --query 'IamInstanceProfileAssociations[0].AssociationId' --output text)`
          : `${inAccount}: aws ec2 associate-iam-instance-profile --instance-id ${instance.id} --iam-instance-profile Name=${role.instanceProfiles[0]} --region ${client.region}`,
        evidence,
      );
    }
  }
  return pass(
    `role ${r.name} trusts ec2.amazonaws.com, instance profile ${role.instanceProfiles.join(", ")}`,
    evidence,
  );
}

/** Kind role: an existing role, its trust left as it is (docs/clients.md): it must exist, nothing more. */
function existingRole(model: Model, client: Client): Finding {
  const r = roleOf(client);
  const role = roleFact(
    model,
    client,
    r,
    `in account ${client.account}: the role ${r.name} does not exist; set clients[].identity.arn to an existing role of the account`,
  );
  if (isFinding(role)) return role;
  return pass(`role ${r.name} exists; its trust is left as it is (xeks does not check it)`, [
    trustEvidence(model, role),
  ]);
}

/** A subject and an audience no topology trusts, for the reach of a web-identity trust. */
function outsiderSubject(provider: string): string {
  return provider === GITHUB_ACTIONS_PROVIDER
    ? "repo:xeks-reach/not-declared:ref:refs/heads/main"
    : "xeks-reach-not-declared";
}

/** IAM StringLike matching (`*` any characters, `?` one), for the subjects a topology declares. */
function stringLike(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${re}$`, "s").test(value);
}

/**
 * Subjects next to the declared ones that the declared ones do not cover: for GitHub Actions, per repository
 * `repo:OWNER/REPO:` of a declared subject, another repository of the same owner, another branch, a pull
 * request and an environment (GitHub Docs, "Example subject claims"). A trust that lets one of them in is
 * wider than declared (owner-wide `repo:OWNER/*`, repository-wide `repo:OWNER/REPO:*`, branch-wide patterns).
 */
function neighbourSubjects(provider: string, subjects: readonly string[]): string[] {
  if (provider !== GITHUB_ACTIONS_PROVIDER) return [];
  const out = new Set<string>();
  for (const s of subjects) {
    const m = /^repo:([^/:]+)\/([^:]+):/.exec(s);
    if (!m) continue;
    const [prefix, owner] = [m[0], m[1]];
    const rest = s.slice(prefix.length).replace(/[*?]/g, "x");
    out.add(`repo:${owner}/xeks-reach-other-repo:${rest}`);
    out.add(`${prefix}ref:refs/heads/xeks-reach-other-branch`);
    out.add(`${prefix}ref:refs/tags/xeks-reach-other-tag`);
    out.add(`${prefix}pull_request`);
    out.add(`${prefix}environment:xeks-reach-other-environment`);
  }
  return [...out].filter((sub) => !subjects.some((declared) => stringLike(declared, sub)));
}

/**
 * Kind oidc: the provider exists in the client account with the audience (live; a plan cannot know: doctor
 * checks it), and the web-identity role xeks creates trusts it for the audience and each subject, and lets no
 * other subject or audience in (structural decision, src/chain/web-identity.ts).
 */
function oidcRole(model: Model, client: Client, id: Extract<Client["identity"], { kind: "oidc" }>): Finding {
  const r = roleOf(client);
  const inAccount = `in account ${client.account}`;
  const evidence: Evidence[] = [];
  if (model.source === "live") {
    const missing = unread(model, factKey.oidcProvider(id.providerArn));
    if (missing) {
      return unknown(
        `OIDC provider ${id.providerArn} could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "iam:GetOpenIDConnectProvider"} to the credentials used for account ${client.account}`,
      );
    }
    const provider = model.oidcProviders[id.providerArn];
    if (!provider) {
      return fail(
        `OIDC provider ${id.provider} does not exist in account ${client.account}: no token of it can be exchanged`,
        `${inAccount}: aws iam create-open-id-connect-provider --url https://${id.provider} --client-id-list ${shellQuote(id.audience)}`,
      );
    }
    evidence.push({
      fact: `OIDC provider ${id.providerArn}`,
      source: provider.source === "declared" ? "declared" : "live",
      detail: `audiences ${provider.audiences.join(", ") || "none"}`,
    });
    if (!provider.audiences.includes(id.audience)) {
      return fail(
        `OIDC provider ${id.provider} does not accept the audience ${id.audience}`,
        `${inAccount}: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${id.providerArn} --client-id ${shellQuote(id.audience)}`,
        evidence,
      );
    }
  } else {
    evidence.push({
      fact: `OIDC provider ${id.providerArn}`,
      source: "declared",
      detail: "must exist with the audience in the client account: not known at plan, checked by xeks doctor",
    });
  }
  const role = roleFact(model, client, r, "xeks deploy creates it");
  if (isFinding(role)) return role;
  evidence.push(trustEvidence(model, role));
  const trustFix = `xeks deploy sets it (the role is xeks's own), or ${inAccount}: aws iam update-assume-role-policy --role-name ${r.name} --policy-document ${shellQuote(JSON.stringify(webIdentityTrustPolicy(id.providerArn, id.provider, id.audience, id.subjects)))}`;
  const decideFor = (sub: string, aud: string) =>
    webIdentityDecision(role.trustPolicy, {
      providerArn: id.providerArn,
      claims: { [`${id.provider}:aud`]: aud, [`${id.provider}:sub`]: sub },
    });
  const line = (who: string, d: { result: string; reason: string }) =>
    evidence.push({
      fact: `web-identity trust of ${r.name} (structural check, src/chain/web-identity.ts)`,
      source: role.source === "declared" ? "declared" : factSource(model),
      detail: `${d.result === "Allowed" ? "gets in" : "does not get in"}: ${who} (${d.reason})`,
    });
  for (const sub of id.subjects) {
    const d = decideFor(sub, id.audience);
    line(`sub ${sub}, aud ${id.audience}`, d);
    if (d.result === "Invalid") {
      return unknown(`the trust policy of ${r.name} could not be evaluated: ${d.reason}`, trustFix, evidence);
    }
    if (d.result !== "Allowed") {
      return fail(
        `role ${r.name} does not trust ${id.provider} for sub ${sub} and aud ${id.audience}, so the pipeline cannot assume it`,
        trustFix,
        evidence,
      );
    }
  }
  const outsiders: [string, string][] = [
    [outsiderSubject(id.provider), id.audience],
    [id.subjects[0] ?? "", "xeks-reach-other-audience"],
    ...neighbourSubjects(id.provider, id.subjects).map((sub): [string, string] => [sub, id.audience]),
  ];
  const wider: string[] = [];
  for (const [sub, aud] of outsiders) {
    const d = decideFor(sub, aud);
    line(`sub ${sub}, aud ${aud}`, d);
    if (d.result === "Allowed") wider.push(`sub ${sub} with aud ${aud}`);
  }
  if (wider.length > 0) {
    return warn(
      `role ${r.name}'s trust is wider than declared: ${wider.join("; ")} gets in`,
      trustFix,
      evidence,
    );
  }
  return pass(
    `role ${r.name} trusts ${id.provider} for aud ${id.audience} and ${id.subjects.length === 1 ? `sub ${id.subjects[0]}` : `${id.subjects.length} subjects`} only`,
    evidence,
  );
}

/**
 * Kind pod-identity: the Pod Identity role trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession,
 * and an association of the client account's cluster gives it to the service account (plain form: RoleArn;
 * a targetRoleArn makes EKS hand the pods another role's session, a warning).
 */
async function podIdentityRole(
  model: Model,
  client: Client,
  id: Extract<Client["identity"], { kind: "pod-identity" }>,
): Promise<Finding> {
  const r = roleOf(client);
  const inAccount = `in account ${client.account}`;
  const role = roleFact(model, client, r, "xeks deploy creates it");
  if (isFinding(role)) return role;
  const evidence: Evidence[] = [trustEvidence(model, role)];
  for (const action of ["sts:AssumeRole", "sts:TagSession"]) {
    const d = await serviceMayAssume(role.trustPolicy, POD_IDENTITY_SERVICE, r.arn, action);
    evidence.push({
      fact: `decision (iam-simulate): ${POD_IDENTITY_SERVICE} ${action} on ${r.name}`,
      source: factSource(model),
      detail: d.result,
    });
    if (d.result === "Invalid") {
      return unknown(
        `the trust policy of ${r.name} could not be evaluated: ${d.errors}`,
        "fix the trust policy",
        evidence,
      );
    }
    if (d.result !== "Allowed") {
      return fail(
        `role ${r.name} does not let ${POD_IDENTITY_SERVICE} call ${action}, so EKS Pod Identity cannot give it to pods`,
        `xeks deploy sets it (the role is xeks's own), or ${inAccount}: aws iam update-assume-role-policy --role-name ${r.name} --policy-document ${shellQuote(JSON.stringify(podIdentityTrustPolicy()))}`,
        evidence,
      );
    }
  }
  const who = `${id.namespace}/${id.serviceAccount} in cluster ${id.cluster}`;
  const missing = unread(model, factKey.podIdentityAssociations(id.clusterArn));
  if (missing) {
    return unknown(
      `the Pod Identity associations of cluster ${id.cluster} could not be read: ${missing.reason}`,
      missing.hint ??
        `allow ${missing.permission ?? "eks:ListPodIdentityAssociations, eks:DescribePodIdentityAssociation"} to the credentials used for account ${client.account}`,
      evidence,
    );
  }
  const found = model.podIdentityAssociations.filter(
    (a) =>
      a.account === client.account &&
      a.clusterName === id.cluster &&
      a.namespace === id.namespace &&
      a.serviceAccount === id.serviceAccount,
  );
  const create = `${inAccount}: aws eks create-pod-identity-association --cluster-name ${id.cluster} --namespace ${id.namespace} --service-account ${id.serviceAccount} --role-arn ${r.arn} --region ${client.region}`;
  const association = found[0];
  if (!association) {
    return fail(
      `no Pod Identity association gives ${who} a role`,
      model.source === "plan"
        ? `the client's identity stack must create it (a bug in xeks if it does not); ${create}`
        : `xeks deploy creates it, or ${create}`,
      evidence,
    );
  }
  evidence.push({
    fact: `Pod Identity association ${association.id ?? "(planned)"} of ${who}`,
    source: association.source === "declared" ? "declared" : factSource(model),
    detail: `role ${association.roleArn}${association.targetRoleArn ? `, target role ${association.targetRoleArn}` : ""}`,
  });
  if (association.roleArn !== r.arn) {
    return fail(
      `the Pod Identity association of ${who} gives role ${roleNameOfArn(association.roleArn)}, not ${r.name}`,
      association.id
        ? `${inAccount}: aws eks update-pod-identity-association --cluster-name ${id.cluster} --association-id ${association.id} --role-arn ${r.arn} --region ${client.region}`
        : create,
      evidence,
    );
  }
  if (association.targetRoleArn) {
    return warn(
      `the Pod Identity association of ${who} names target role ${association.targetRoleArn}: the pods get that role's session, not ${r.name}'s, so the chain xeks proves (pods assume the access role with ${r.name}) is not the one they use`,
      association.id
        ? `${inAccount}: remove the target role of association ${association.id} on cluster ${id.cluster} (EKS console, Access > Pod Identity associations > Edit; or the EKS UpdatePodIdentityAssociation API), or keep the target role form, documented in docs/clients.md`
        : "drop TargetRoleArn from the association",
      evidence,
    );
  }
  return pass(
    `role ${r.name} trusts ${POD_IDENTITY_SERVICE} (AssumeRole, TagSession); ${who} gets it through a Pod Identity association`,
    evidence,
  );
}

/**
 * Kind sso: at least one role of the permission set exists in the client account (Identity Center creates one
 * when the permission set is assigned to a user or group in that account). Never a trust fix: the roles are
 * Identity Center's.
 */
function ssoRoles(model: Model, client: Client, permissionSet: string): Finding {
  const matching = model.principalRoles[client.name] ?? [];
  const roles = ownRoles(model, client, permissionSet);
  const missing = unread(model, factKey.principalRoles(client.name));
  if (missing && matching.length === 0) {
    return unknown(
      `the roles of permission set ${permissionSet} in account ${client.account} could not be listed: ${missing.reason}`,
      missing.hint ??
        `allow ${missing.permission ?? "iam:ListRoles"} to the credentials used for account ${client.account}`,
    );
  }
  if (roles.length === 0) {
    return fail(
      `no role of permission set ${permissionSet} in account ${client.account}: assign the permission set to a user or group in that account`,
      `in the IAM Identity Center administration account: aws sso-admin create-account-assignment --instance-arn INSTANCE_ARN --permission-set-arn PERMISSION_SET_ARN --target-type AWS_ACCOUNT --target-id ${client.account} --principal-type GROUP --principal-id GROUP_ID (Identity Center then creates the role AWSReservedSSO_${permissionSet}_… in the account)`,
    );
  }
  const evidence: Evidence[] = roles.map((arn) => {
    const fact = model.roles[arn];
    return {
      fact: `role ${arn}`,
      source: fact?.source === "declared" ? "declared" : factSource(model),
      detail: fact ? `trust ${JSON.stringify(fact.trustPolicy.Statement)}` : "listed",
    };
  });
  const others = matching.filter((arn) => !roles.includes(arn));
  const names = roles.map(roleNameOfArn).join(", ");
  if (others.length > 0) {
    evidence.push({
      fact: "roles of other permission sets that match the pattern AWSReservedSSO_NAME_* (they get in too)",
      source: factSource(model),
      detail: others.join(", "),
    });
  }
  return pass(
    `${roles.length} role(s) of permission set ${permissionSet} in account ${client.account}${model.source === "plan" ? " (at plan: the example role)" : ""}: ${names}`,
    evidence,
  );
}
