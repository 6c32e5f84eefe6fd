/**
 * What `xeks plan` says it will create, as data: per phase, per account, per stack, one line per thing in
 * human terms. Read from the same layout the stacks are built from. The CLI only formats it.
 */

import { requesterPolicySplit } from "../domain/accepter-policy.js";
import { globMatch, patternNameOfArn } from "../domain/organization.js";
import { type ClientPrincipal, POD_IDENTITY_SERVICE } from "../domain/principal.js";
import { externalIdsOf, type TrustDocument, trustedAwsPrincipals } from "../domain/trust.js";
import type { Adoption, Intent, Layout, PhaseName, PieceLayout, Side, StackKind } from "../layout/layout.js";
import { manifestStacks, type XeksManifest } from "./manifest.js";

export interface PlanItem {
  /** The intent kind, or `instance-profile`, `assume-policy`, `instance-security-group` for the parts of one. */
  kind: string;
  /** One line: "access role X trusted by arn:…"; an adopted piece's line starts "adopt ". */
  text: string;
  /** "adopt": the piece exists and CloudFormation takes it over (docs/adopt.md). Absent: created. */
  action?: "adopt";
}

/** `{ action: "adopt", text: "adopt " + text }` for an adopted piece, else the item as it is. */
function adopted(item: PlanItem, adoption: Adoption | undefined): PlanItem {
  return adoption ? { ...item, action: "adopt", text: `adopt ${item.text}` } : item;
}

export interface PlanStack {
  name: string;
  kind: StackKind;
  client?: string;
  accessRole?: string;
  dependsOn: string[];
  /** "PeeringConnectionId <- output PeeringConnectionId of STACK (phase 3)". */
  parameters: { name: string; from: { stack: string; output: string; phase: number }; text: string }[];
  items: PlanItem[];
}

export interface PlanAccount {
  account: string;
  region: string;
  side: Side;
  stacks: PlanStack[];
}

export interface PlanPhase {
  number: number;
  name: PhaseName;
  title: string;
  side: Side;
  accounts: PlanAccount[];
}

export interface PlanDescription {
  cluster: Layout["cluster"];
  phases: PlanPhase[];
  notes: string[];
  /** Each piece of the chain: create, adopt or leave (docs/adopt.md). */
  pieces: PieceLayout[];
  /** Count of stacks, and of the distinct accounts touched. */
  totals: { stacks: number; accounts: number; phases: number };
  /** The StackSets of clients from an organization (phase 1, docs/organizations.md); absent when there is none. */
  stackSets?: PlanStackSet[];
}

/** A StackSet of the plan: where it lives, whom it targets, and what its member template creates in each account. */
export interface PlanStackSet {
  name: string;
  client: string;
  phase: 1;
  /** The administrator account and the StackSet's region. */
  account: string;
  region: string;
  callAs: "SELF" | "DELEGATED_ADMIN";
  organizationalUnits: string[];
  /** The stack instances' regions. */
  regions: string[];
  autoDeployment: { enabled: true; retainStacksOnAccountRemoval: boolean };
  /** "service-managed StackSet NAME in account A (callAs SELF): every account of ou-…, regions …, AutoDeployment …". */
  text: string;
  /** What the member template creates in every member account. */
  items: PlanItem[];
}

function list(items: readonly string[]): string {
  return items.join(", ");
}

/**
 * Who an access role lets in for one client: the exact role ARN (with "(sts:AssumeRole, sts:TagSession)" for a
 * Pod Identity role), or for a permission set "roles of permission set NAME in account ACCOUNT (aws:PrincipalArn
 * like P1, P2)".
 */
function principalPhrase(p: ClientPrincipal): string {
  if (p.arn) return p.actions.includes("sts:TagSession") ? `${p.arn} (${p.actions.join(", ")})` : p.arn;
  return `roles of ${p.label} in account ${p.account ?? "?"} (aws:PrincipalArn like ${list(p.arnPatterns ?? [])})`;
}

/** "accounts of organization o-… under PATH" (docs/organizations.md). */
function organizationPhrase(org: { id: string; paths: readonly string[] }): string {
  return `accounts of organization ${org.id}${org.paths.length > 0 ? ` under ${list(org.paths)}` : ""}`;
}

/**
 * Who an access role lets in: with an organization statement, one phrase for the clients it covers ("roles like
 * P in accounts of organization o-… (N client roles)"), then one per other principal (`principalPhrase`).
 */
function accessTrustPhrases(intent: Extract<Intent, { kind: "access-role" }>): string[] {
  const org = intent.organization;
  const covered = new Set(org?.covered ?? []);
  const isCovered = (p: ClientPrincipal) => p.arn !== undefined && covered.has(p.arn);
  const inOrg = intent.principals.filter(isCovered);
  if (!org || inOrg.length === 0) return intent.principals.map(principalPhrase);
  const names = inOrg.map((p) => patternNameOfArn(p.arn as string));
  const patterns = org.rolePatterns.filter((pattern) => names.some((n) => globMatch(pattern, n)));
  return [
    `roles like ${list(patterns)} in ${organizationPhrase(org)} (${inOrg.length} client role${inOrg.length > 1 ? "s" : ""})`,
    ...intent.principals.filter((p) => !isCovered(p)).map(principalPhrase),
  ];
}

/**
 * " with sts:ExternalId" when the access role asks for one; " with sts:ExternalId on sts:AssumeRole" when a Pod
 * Identity role also tags its session (the condition key exists for sts:AssumeRole only: `accessTrustPolicy`).
 */
function externalIdPhrase(intent: Extract<Intent, { kind: "access-role" }>): string {
  if (!intent.externalId) return "";
  return intent.principals.some((p) => p.actions.includes("sts:TagSession"))
    ? " with sts:ExternalId on sts:AssumeRole"
    : " with sts:ExternalId";
}

function describeIntent(intent: Intent): PlanItem[] {
  switch (intent.kind) {
    case "client-role": {
      const items: PlanItem[] = [];
      const assume =
        intent.assumes.length > 0
          ? `${list(intent.assumeActions)} on ${list(intent.assumes)}`
          : "(none: no access role names this client)";
      if (intent.existing) {
        items.push(
          adopted(
            {
              kind: "assume-policy",
              text: `inline policy ${intent.policyName} on the existing role ${intent.arn}: ${assume}`,
            },
            intent.adoptPolicy,
          ),
        );
        return items;
      }
      const extras = [
        intent.permissionsBoundaryArn ? `permissions boundary ${intent.permissionsBoundaryArn}` : "",
        intent.ssmManagedInstance ? "AmazonSSMManagedInstanceCore attached (Session Manager)" : "",
      ].filter(Boolean);
      const more = extras.length ? `; ${list(extras)}` : "";
      const t = intent.trust;
      items.push({
        kind: "client-role",
        text:
          t.kind === "web-identity"
            ? `web-identity role ${intent.roleName} trusting ${t.provider} for ${list(t.subjects)} ` +
              `(audience ${t.audience}; OIDC provider ${t.providerArn}, which must exist; ${intent.arn})${more}`
            : t.kind === "pod-identity"
              ? `Pod Identity role ${intent.roleName} trusting ${POD_IDENTITY_SERVICE} for sts:AssumeRole and ` +
                `sts:TagSession (${intent.arn})${more}`
              : `client role ${intent.roleName} (${intent.arn}) trusted by ec2.amazonaws.com${more}`,
      });
      if (intent.instanceProfileName !== undefined) {
        items.push({
          kind: "instance-profile",
          text: `instance profile ${intent.instanceProfileName} for role ${intent.roleName}`,
        });
      }
      if (intent.assumes.length > 0) {
        items.push({
          kind: "assume-policy",
          text: `inline policy ${intent.policyName} on ${intent.roleName}: ${assume}`,
        });
      }
      return items;
    }
    case "pod-identity-association":
      return [
        {
          kind: intent.kind,
          text:
            `Pod Identity association on cluster ${intent.clusterName}: pods of service account ` +
            `${intent.namespace}/${intent.serviceAccount} get role ${intent.roleName}`,
        },
      ];
    case "peering-accepter-role": {
      // Past the inline quota, the requester VPCs move into customer managed policies (src/infra/constructs/network.ts).
      const split = requesterPolicySplit(
        intent.accepterVpcArn,
        intent.peeringConnectionArnPattern,
        intent.requesterVpcArns,
      );
      const managed = (split ?? []).map((vpcs, i) => ({
        kind: "managed-policy",
        text: `managed policy ${intent.roleName}-requesters-${i + 1} attached to ${intent.roleName}: ${vpcs.length} requester VPC${vpcs.length === 1 ? "" : "s"}`,
      }));
      return [
        {
          kind: intent.kind,
          text:
            `peering accepter role ${intent.roleName} trusted by ${list([
              ...(intent.organization ? [organizationPhrase(intent.organization)] : []),
              ...(intent.trustedAccounts.length > 0
                ? [`account${intent.trustedAccounts.length > 1 ? "s" : ""} ${list(intent.trustedAccounts)}`]
                : []),
            ])}; may only ec2:AcceptVpcPeeringConnection into ${intent.accepterVpcArn.split("/")[1]} ` +
            `from ${list(intent.requesterVpcArns.map((a) => a.split("/")[1] ?? a))}`,
        },
        ...managed,
      ];
    }
    case "access-role":
      return [
        adopted(
          {
            kind: intent.kind,
            text:
              `access role ${intent.roleName} trusted by ${list(accessTrustPhrases(intent))}` +
              `${externalIdPhrase(intent)}; may eks:DescribeCluster on ${intent.clusterArn} and eks:ListClusters` +
              `${intent.keepPolicies.length > 0 ? `; keeps its inline ${list(intent.keepPolicies.map((p) => p.name))}` : ""}`,
          },
          intent.adopt,
        ),
      ];
    case "access-entry": {
      const policies = intent.policies.map(
        (p) =>
          `${p.name} (${p.scope.type === "cluster" ? "cluster" : `namespaces ${list(p.scope.namespaces)}`})`,
      );
      const extras = [
        intent.kubernetesGroups.length > 0 ? `groups ${list(intent.kubernetesGroups)}` : "",
        intent.username ? `username ${intent.username}` : "",
      ].filter(Boolean);
      return [
        adopted(
          {
            kind: intent.kind,
            text:
              `EKS access entry (STANDARD) on cluster ${intent.clusterName} for ${intent.principalArn}: ${list(policies)}` +
              `${extras.length ? `; ${list(extras)}` : ""}`,
          },
          intent.adopt,
        ),
      ];
    }
    case "peering-connection":
      return [
        intent.adopt
          ? {
              kind: intent.kind,
              action: "adopt",
              text: `adopt VPC peering connection ${intent.adopt.identifier.Id} ${intent.vpcId} -> ${intent.peerVpcId} (account ${intent.peerOwnerId}, ${intent.peerRegion})`,
            }
          : {
              kind: intent.kind,
              text:
                `VPC peering request ${intent.vpcId} -> ${intent.peerVpcId} (account ${intent.peerOwnerId}, ${intent.peerRegion}), ` +
                `accepted through ${intent.peerRoleArn}`,
            },
      ];
    case "routes": {
      const p = intent.peering;
      const via =
        "resource" in p
          ? "peering (this stack)"
          : "id" in p
            ? `peering ${p.id} (left as it is)`
            : `peering (from phase ${p.from.phase}, ${p.from.stack})`;
      return intent.routeTableIds.map((rtb) =>
        adopted(
          { kind: "route", text: `route ${intent.destinationCidr} -> ${via} in ${rtb}` },
          intent.adopt[rtb],
        ),
      );
    }
    case "cluster-ingress":
      return [
        adopted(
          {
            kind: intent.kind,
            text: `ingress TCP ${intent.port} from ${intent.cidr} (client ${intent.client}) on the cluster security group ${intent.securityGroupId}`,
          },
          intent.adopt,
        ),
      ];
    case "client-instance": {
      const contexts = intent.contexts.map((c) => `${c.roleName}@${intent.clusterName}`);
      const source =
        intent.endpoint && intent.certificateAuthority
          ? "endpoint and CA from the topology"
          : "endpoint and CA read at boot with DescribeCluster";
      return [
        {
          kind: "instance-security-group",
          text: `security group for the client instance in ${intent.vpcId}: no inbound, outbound TCP 443 only`,
        },
        {
          kind: intent.kind,
          text:
            `client instance ${intent.instanceType} (Amazon Linux 2023, ${intent.architecture}) in ${intent.subnetId} with ` +
            `profile ${intent.instanceProfileName}: IMDSv2 only, no public IP, no key pair, Session Manager; kubectl and a ` +
            `kubeconfig (${contexts.length > 0 ? `contexts ${list(contexts)}` : "no context"}; ${source})`,
        },
      ];
    }
  }
}

/** Describe the layout: phases in order, within each the accounts, within each the stacks and their items. */
export function describePlan(layout: Layout): PlanDescription {
  const phases: PlanPhase[] = layout.phases.map((p) => {
    const accounts: PlanAccount[] = [];
    for (const s of p.stacks) {
      let acct = accounts.find((a) => a.account === s.account && a.region === s.region);
      if (!acct) {
        acct = { account: s.account, region: s.region, side: s.side, stacks: [] };
        accounts.push(acct);
      }
      acct.stacks.push({
        name: s.name,
        kind: s.kind,
        ...(s.client ? { client: s.client } : {}),
        ...(s.accessRole ? { accessRole: s.accessRole } : {}),
        dependsOn: [...s.dependsOn],
        parameters: s.parameters.map((param) => ({
          name: param.name,
          from: { ...param.from },
          text: `${param.name} <- output ${param.from.output} of ${param.from.stack} (phase ${param.from.phase})`,
        })),
        items: s.intents.flatMap(describeIntent),
      });
    }
    return { number: p.number, name: p.name, title: p.title, side: p.side, accounts };
  });
  return {
    cluster: { ...layout.cluster },
    phases,
    notes: [...layout.notes],
    pieces: layout.pieces.map((p) => ({ ...p })),
    totals: {
      stacks: layout.stacks.length,
      accounts: new Set(layout.stacks.map((s) => s.account)).size,
      phases: layout.phases.filter((p) => p.stacks.length > 0).length,
    },
    ...(layout.stackSets && layout.stackSets.length > 0
      ? {
          stackSets: layout.stackSets.map((set) => ({
            name: set.name,
            client: set.client,
            phase: set.phase,
            account: set.account,
            region: set.region,
            callAs: set.callAs,
            organizationalUnits: [...set.organizationalUnits],
            regions: [...set.regions],
            autoDeployment: { ...set.autoDeployment },
            text:
              `service-managed StackSet ${set.name} in account ${set.account} (${set.region}, callAs ${set.callAs}): ` +
              `every account of ${list(set.organizationalUnits)}, regions ${list(set.regions)}; AutoDeployment on ` +
              `(accounts that join later get it; ${set.autoDeployment.retainStacksOnAccountRemoval ? "kept" : "deleted"} when they leave)`,
            items: set.intents.flatMap(describeIntent),
          })),
        }
      : {}),
  };
}

/** One piece of the chain in the plan's "Existing pieces" list, with the update deploy makes to an adopted one. */
export interface PieceDescription extends PieceLayout {
  /** For an adopted piece: one line per property the update changes ("trust: ... -> ..."). */
  changes: string[];
}

/**
 * The pieces of the chain with their action (create, adopt, leave) and, for each adopted one, the properties where
 * it differs from what xeks writes (from the manifest's import records): the tightening deploy will make.
 */
export function describePieces(manifest: XeksManifest): PieceDescription[] {
  const imports = manifestStacks(manifest).flatMap((s) => s.imports ?? []);
  return manifest.pieces.map((p) => {
    const record = p.action === "adopt" ? imports.find((i) => i.piece === p.piece) : undefined;
    return {
      ...p,
      changes: (record?.differences ?? []).map((d) => describeDifference(d.property, d.found, d.planned)),
    };
  });
}

/** A trust policy's statements as "[ACTIONS if CONDITION KEYS; ...]", in order ("[]" for none). */
function statementsPhrase(doc: unknown): string {
  const statements = doc && typeof doc === "object" ? statementsOfTrust(doc as TrustDocument) : [];
  const parts = statements.map((st) => {
    const s = st as {
      Effect?: string;
      Action?: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    };
    const actions = [s.Action ?? []].flat().map(String).join(", ");
    const keys = Object.values(s.Condition ?? {}).flatMap((op) => Object.keys(op ?? {}));
    return `${s.Effect === "Deny" ? "deny " : ""}${actions}${keys.length > 0 ? ` if ${keys.join(", ")}` : ""}`;
  });
  return `[${parts.join("; ")}]`;
}

/** Who a trust policy lets in, in one phrase: "arn:aws:iam::222222222222:root (external id required)". */
function trustPhrase(doc: unknown): string {
  if (!doc || typeof doc !== "object") return "nothing";
  const trust = doc as TrustDocument;
  // `"Principal": "*"` (or `{ "AWS": "*" }`) in an Allow statement lets in any principal of any account, unless
  // an aws:PrincipalOrgID condition narrows it to an organization's (docs/organizations.md).
  const orgOf = (st: { Principal?: unknown; Condition?: unknown }): string[] =>
    Object.values((st.Condition ?? {}) as Record<string, Record<string, unknown>>).flatMap((op) =>
      Object.entries(op ?? {}).flatMap(([key, value]) =>
        key.toLowerCase() === "aws:principalorgid"
          ? Array.isArray(value)
            ? value.map(String)
            : [String(value)]
          : [],
      ),
    );
  const organizations = [...new Set(statementsOfTrust(trust).flatMap(orgOf))];
  const anyone = statementsOfTrust(trust).some(
    (st) =>
      (st as { Effect?: string }).Effect === "Allow" &&
      orgOf(st).length === 0 &&
      (st.Principal === "*" || trustedAwsPrincipals({ Statement: [st] } as TrustDocument).includes("*")),
  );
  if (anyone) return `any principal (*)${externalIdsOf(trust).length > 0 ? " (with an external id)" : ""}`;
  const aws = trustedAwsPrincipals(trust).filter((a) => a !== "*" || organizations.length === 0);
  const valuesOf = (v: unknown): string[] =>
    Array.isArray(v) ? v.map(String) : v !== undefined && v !== null ? [String(v)] : [];
  const services = statementsOfTrust(trust).flatMap((st) => {
    const p = st.Principal as { Service?: unknown; Federated?: unknown } | undefined;
    return typeof p === "object" && p ? [...valuesOf(p.Service), ...valuesOf(p.Federated)] : [];
  });
  // A principal narrowed by aws:PrincipalArn (a permission set's roles, trusted through the account root).
  const narrowed = statementsOfTrust(trust).flatMap((st) =>
    Object.values((st as { Condition?: Record<string, Record<string, unknown>> }).Condition ?? {}).flatMap(
      (op) =>
        Object.entries(op ?? {}).flatMap(([key, value]) =>
          key.toLowerCase() === "aws:principalarn" ? valuesOf(value) : [],
        ),
    ),
  );
  const who = [
    ...organizations.map((o) => `principals of organization ${o}`),
    ...aws,
    ...services,
    ...(narrowed.length > 0 ? [`only roles like ${list([...new Set(narrowed)])}`] : []),
  ];
  const ids = externalIdsOf(trust);
  return `${who.length > 0 ? list(who) : "no AWS or service principal"}${ids.length > 0 ? " (with an external id)" : ""}`;
}

function statementsOfTrust(trust: TrustDocument): { Principal?: unknown }[] {
  const st = (trust as { Statement?: unknown }).Statement;
  return (Array.isArray(st) ? st : st ? [st] : []) as { Principal?: unknown }[];
}

/** Compact JSON, cut at 160 characters. */
function shortJson(v: unknown): string {
  if (v === null || v === undefined) return "(none)";
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** One line for one property an adopted piece changes: the trust policy in terms of who gets in. */
export function describeDifference(property: string, found: unknown, planned: unknown): string {
  if (property === "AssumeRolePolicyDocument") {
    const before = trustPhrase(found);
    const after = trustPhrase(planned);
    if (before !== after) return `trust policy: trusts ${before} -> trusts ${after}`;
    // The same principals: what changes is which actions each statement allows and under which conditions.
    return `trust policy: trusts ${after}; statements ${statementsPhrase(found)} -> ${statementsPhrase(planned)}`;
  }
  if (property === "Policies") {
    const names = (v: unknown) =>
      Array.isArray(v) ? v.map((x) => String((x as { PolicyName?: unknown }).PolicyName)) : [];
    return `inline policies: ${list(names(found)) || "(none)"} -> ${list(names(planned)) || "(none)"}`;
  }
  return `${property}: ${shortJson(found)} -> ${shortJson(planned)}`;
}
