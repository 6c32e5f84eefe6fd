/**
 * The checks of `xeks audit`: pure functions from the estate that was read (./estate.ts) to findings
 * (./findings.ts). No AWS call here. A part of the estate that could not be read yields the findings of the checks
 * that needed it as `unknown`, with the permission or credentials that would decide them.
 *
 * Facts relied on (cited per check in ./findings.ts RULES):
 * - an access entry's principal that was deleted: IAM GetRole / GetUser answers NoSuchEntity;
 * - a role deleted and created again: its CreateDate (IAM GetRole) is later than the entry's `createdAt` (EKS
 *   DescribeAccessEntry), because EKS checks that the principal exists when the entry is made (the same rule
 *   `doctor` applies: src/chain/links/access-entry.ts, src/domain/facts.ts AccessEntryFact.createdAt);
 * - a trust policy naming a deleted principal shows its unique id (`AROA…`, `AIDA…`) instead of its ARN (IAM User
 *   Guide, "Policy elements: Principal");
 * - a route whose target was deleted has state `blackhole` (EC2 DescribeRouteTables);
 * - the networks the cluster VPC reaches: its own CIDRs, the VPCs of its active peerings (EC2
 *   DescribeVpcPeeringConnections), the destinations of its live routes, and the topology's clients.
 */
import type { AuditPrincipal } from "../aws/audit-read.js";
import { canonicalRoleArn, formatArn } from "../domain/arn.js";
import { cidrOverlaps } from "../domain/cidr.js";
import type { AccessPolicyAssociationFact, PolicyDocument, RouteTableFact } from "../domain/facts.js";
import { shellQuote } from "../domain/shell.js";
import type { AccessPolicyRef } from "../topology/types.js";
import type { AuditEstate, EntryEstate, Read } from "./estate.js";
import {
  type AuditResource,
  type Evidence,
  type Finding,
  type FindingId,
  finding,
  sortFindings,
  unknownFinding,
} from "./findings.js";

/** Entry types EKS manages for nodes: not reported as undeclared. */
export const NODE_ENTRY_TYPES: readonly string[] = [
  "EC2_LINUX",
  "EC2_WINDOWS",
  "FARGATE_LINUX",
  "HYBRID_LINUX",
  "EC2",
];

/** A unique id of an IAM role (AROA…) or user (AIDA…), as IAM shows a deleted principal in a policy. */
export const UNIQUE_ID = /^(AROA|AIDA)[A-Z0-9]{12,}$/;

/**
 * Every finding of the estate, in report order. An empty read is not a clean one: a VPC always has a main route
 * table (Amazon VPC User Guide, "Route tables": "Your VPC has an implicit router, and you use route tables to
 * control where network traffic is directed... Main route table: the route table that automatically comes with
 * your VPC"), so no route table at all for the cluster VPC means the credentials do not see it, and the checks
 * that need the route tables are unknown.
 */
export function runChecks(input: AuditEstate): Finding[] {
  const estate = withoutEmptyReads(input);
  return sortFindings([
    ...entryFindings(estate),
    ...routeFindings(estate),
    ...securityGroupFindings(estate),
    ...peeringFindings(estate),
  ]);
}

/** The estate with a read that answered nothing where something must exist turned into a failed read. */
function withoutEmptyReads(estate: AuditEstate): AuditEstate {
  const vpcId = estate.cluster.description.vpcId;
  if (!vpcId || !estate.routeTables.ok || estate.routeTables.value.length > 0) return estate;
  return {
    ...estate,
    routeTables: {
      ok: false,
      detail: `ec2:DescribeRouteTables answered no route table for ${vpcId}, yet every VPC has a main route table: these credentials do not see the cluster VPC`,
      permission: "ec2:DescribeRouteTables",
      account: estate.cluster.account,
      denied: false,
      hint: `read it with credentials of the account that owns ${vpcId} (--cluster-profile), which list at least its main route table`,
    },
  };
}

function ec2Resource(estate: AuditEstate, type: string, id: string): AuditResource {
  const c = estate.cluster;
  return {
    type,
    id,
    arn: formatArn({
      partition: c.partition,
      service: "ec2",
      region: c.region,
      account: c.account,
      resource: `${type}/${id}`,
    }),
    account: c.account,
    region: c.region,
  };
}

function clusterResource(estate: AuditEstate): AuditResource {
  const c = estate.cluster;
  return {
    type: "cluster",
    id: c.name,
    ...(c.description.arn ? { arn: c.description.arn } : {}),
    account: c.account,
    region: c.region,
  };
}

function vpcResource(estate: AuditEstate): AuditResource {
  return ec2Resource(estate, "vpc", estate.cluster.description.vpcId ?? "(no VPC)");
}

/** "allow PERMISSION in account A" (+ the classifier's hint when the read failed for another reason). */
function decideRead(r: Extract<Read<unknown>, { ok: false }>): string {
  return r.denied
    ? `allow ${r.permission} in account ${r.account}`
    : `make ${r.permission} answer in account ${r.account}${r.hint ? ` (${r.hint})` : ""}`;
}

function unknownFor(
  ids: FindingId[],
  resource: AuditResource,
  what: string,
  r: Extract<Read<unknown>, { ok: false }>,
) {
  return ids.map((id) => unknownFinding(id, resource, `${what}: ${r.detail}`, decideRead(r)));
}

// ---------------------------------------------------------------------------------------------------------------
// Access entries

function entryResource(estate: AuditEstate, e: EntryEstate): AuditResource {
  const c = estate.cluster;
  return {
    type: "access-entry",
    id: e.entry.principalArn,
    ...(e.entry.accessEntryArn ? { arn: e.entry.accessEntryArn } : {}),
    account: c.account,
    region: c.region,
  };
}

function entryEvidence(e: EntryEstate): Evidence {
  return {
    fact: `access entry ${e.entry.principalArn} (eks:DescribeAccessEntry)`,
    detail: `type ${e.entry.type}${e.entry.createdAt ? `, created ${e.entry.createdAt}` : ""}${
      e.entry.kubernetesGroups.length ? `, groups ${e.entry.kubernetesGroups.join(", ")}` : ""
    }`,
  };
}

/** `q`: a value from AWS or the topology as one shell word (src/domain/shell.ts), so a pasted fix runs nothing. */
const q = shellQuote;

/** `aws eks OP --cluster-name … --region … --principal-arn …REST`; REST must quote its own values with `q`. */
function eksCli(estate: AuditEstate, op: string, principalArn: string, rest = ""): string {
  const c = estate.cluster;
  return `aws eks ${op} --cluster-name ${q(c.name)} --region ${q(c.region)} --principal-arn ${q(principalArn)}${rest}`;
}

function entryFindings(estate: AuditEstate): Finding[] {
  const c = estate.cluster;
  if (!estate.entries.ok) {
    return unknownFor(
      estate.topology
        ? [
            "entry.principal-missing",
            "entry.principal-recreated",
            "entry.undeclared",
            "entry.wider-than-declared",
            "trust.dangling-principal",
          ]
        : ["entry.principal-missing", "entry.principal-recreated", "trust.dangling-principal"],
      clusterResource(estate),
      `the access entries of ${c.name} could not be read`,
      estate.entries,
    );
  }
  const out: Finding[] = [];
  const declared = declaredEntries(estate);
  const trustChecked = new Set<string>();
  for (const e of estate.entries.value) {
    const resource = entryResource(estate, e);
    const arn = e.entry.principalArn;
    const p = e.principal;
    let stale = false;
    if (p?.state === "no-credentials") {
      out.push(
        unknownFinding(
          "entry.principal-missing",
          resource,
          `whether ${arn} exists, and is the principal the entry was made for, is unknown: no credentials given reach account ${p.account}`,
          `give credentials for account ${p.account}: ${estate.credentialsFlag(p.account)}`,
          [entryEvidence(e)],
        ),
      );
    } else if (p?.state === "unread") {
      out.push(
        unknownFinding(
          "entry.principal-missing",
          resource,
          `whether ${arn} exists, and is the principal the entry was made for, is unknown: ${p.detail}`,
          `allow ${p.permission} in account ${p.account}`,
          [entryEvidence(e)],
        ),
      );
    } else if (p?.state === "read" && !p.principal) {
      stale = true;
      out.push(
        finding(
          "entry.principal-missing",
          resource,
          `the access entry names ${arn}, which does not exist (IAM NoSuchEntity): the entry is bound to a deleted principal`,
          [
            entryEvidence(e),
            {
              fact: `${arn} (iam:${arn.includes(":user/") ? "GetUser" : "GetRole"})`,
              detail: "NoSuchEntity",
            },
          ],
          `in account ${c.account}: ${eksCli(estate, "delete-access-entry", arn)}`,
        ),
      );
    } else if (p?.state === "read" && p.principal) {
      const pr = p.principal;
      if (e.entry.createdAt && pr.createdAt && Date.parse(pr.createdAt) > Date.parse(e.entry.createdAt)) {
        stale = true;
        const again = declared.get(canonicalRoleArn(arn))?.managed
          ? "xeks deploy"
          : `${eksCli(estate, "create-access-entry", arn, ` --type ${q(e.entry.type)}`)} (then associate its access policies again)`;
        out.push(
          finding(
            "entry.principal-recreated",
            resource,
            `${arn} was deleted and created again after its access entry (${kindName(pr)} created ${pr.createdAt}, entry created ${e.entry.createdAt}): EKS matches the earlier ${kindName(pr)}'s unique id, so the entry grants the current one nothing`,
            [
              entryEvidence(e),
              {
                fact: `${pr.arn} (iam:${pr.kind === "role" ? "GetRole" : "GetUser"})`,
                detail: `created ${pr.createdAt}${pr.uniqueId ? `, unique id ${pr.uniqueId}` : ""}`,
              },
            ],
            `in account ${c.account}: ${eksCli(estate, "delete-access-entry", arn)} && ${again}`,
          ),
        );
      }
      if (pr.kind === "role" && pr.trustPolicy && !trustChecked.has(pr.arn)) {
        trustChecked.add(pr.arn);
        const f = trustFinding(estate, pr, pr.trustPolicy);
        if (f) out.push(f);
      }
    }
    const decl = declared.get(canonicalRoleArn(arn));
    if (estate.topology && !decl && !stale && !NODE_ENTRY_TYPES.includes(e.entry.type)) {
      out.push(
        finding(
          "entry.undeclared",
          resource,
          `the ${e.entry.type} access entry for ${arn} is in no topology: access nobody declared`,
          [entryEvidence(e)],
          `declare it in ${estate.topology.file ?? "the topology"} (cluster.accessEntries, or access[] for a role xeks should manage), or remove it: in account ${c.account}: ${eksCli(estate, "delete-access-entry", arn)}`,
        ),
      );
    }
    if (decl && !stale) out.push(...widerFindings(estate, e, resource, decl));
  }
  return out;
}

function kindName(p: AuditPrincipal): string {
  return p.kind === "role" ? "role" : "user";
}

interface DeclaredEntry {
  policies: AccessPolicyRef[];
  kubernetesGroups: string[];
  /** Managed by xeks (topology access[]): `xeks deploy` restores it. */
  managed: boolean;
}

/** The entries the topology declares, by canonical principal ARN (access[] wins over cluster.accessEntries). */
function declaredEntries(estate: AuditEstate): Map<string, DeclaredEntry> {
  const out = new Map<string, DeclaredEntry>();
  const t = estate.topology;
  if (!t) return out;
  for (const e of t.cluster.accessEntries) {
    out.set(canonicalRoleArn(e.principalArn), {
      policies: e.policies,
      kubernetesGroups: e.kubernetesGroups,
      managed: false,
    });
  }
  for (const a of t.access) {
    out.set(canonicalRoleArn(a.arn), {
      policies: a.policies,
      kubernetesGroups: a.kubernetesGroups,
      managed: true,
    });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(name);
}

function policyName(arn: string): string {
  return arn.split("/").pop() ?? arn;
}

function scopeText(s: AccessPolicyAssociationFact["scope"]): string {
  return s.type === "cluster" ? "cluster scope" : `namespaces ${s.namespaces.join(", ")}`;
}

/** How an entry's live access goes beyond what the topology declares: one line per excess. */
export function excessAccess(
  live: AccessPolicyAssociationFact[],
  groups: string[],
  decl: { policies: AccessPolicyRef[]; kubernetesGroups: string[] },
): {
  reasons: string[];
  extraPolicies: AccessPolicyAssociationFact[];
  narrowed: AccessPolicyRef[];
  extraGroups: string[];
} {
  const reasons: string[] = [];
  const extraPolicies: AccessPolicyAssociationFact[] = [];
  const narrowed: AccessPolicyRef[] = [];
  for (const l of live) {
    const same = decl.policies.filter((d) => d.arn === l.policyArn);
    if (same.length === 0) {
      reasons.push(`${policyName(l.policyArn)} (${scopeText(l.scope)}) is not declared`);
      extraPolicies.push(l);
      continue;
    }
    if (same.some((d) => d.scope.type === "cluster")) continue;
    const allowed = same.flatMap((d) => (d.scope.type === "namespace" ? d.scope.namespaces : []));
    if (l.scope.type === "cluster") {
      reasons.push(
        `${policyName(l.policyArn)} is at cluster scope; the topology declares namespaces ${allowed.join(", ")}`,
      );
      narrowed.push(same[0] as AccessPolicyRef);
      continue;
    }
    const beyond = l.scope.namespaces.filter((n) => !allowed.some((a) => a === n || globMatch(a, n)));
    if (beyond.length > 0) {
      reasons.push(
        `${policyName(l.policyArn)} reaches namespaces ${beyond.join(", ")} beyond the declared ${allowed.join(", ")}`,
      );
      narrowed.push(same[0] as AccessPolicyRef);
    }
  }
  const extraGroups = groups.filter((g) => !decl.kubernetesGroups.includes(g));
  if (extraGroups.length > 0) reasons.push(`Kubernetes groups ${extraGroups.join(", ")} are not declared`);
  return { reasons, extraPolicies, narrowed, extraGroups };
}

function widerFindings(
  estate: AuditEstate,
  e: EntryEstate,
  resource: AuditResource,
  decl: DeclaredEntry,
): Finding[] {
  const c = estate.cluster;
  const arn = e.entry.principalArn;
  if (!e.policies) return [];
  if (!e.policies.ok) {
    return unknownFor(
      ["entry.wider-than-declared"],
      resource,
      `the access policies of ${arn} could not be read`,
      e.policies,
    );
  }
  const x = excessAccess(e.policies.value, e.entry.kubernetesGroups, decl);
  if (x.reasons.length === 0) return [];
  const fixes = [
    ...x.extraPolicies.map((p) =>
      eksCli(estate, "disassociate-access-policy", arn, ` --policy-arn ${q(p.policyArn)}`),
    ),
    ...x.narrowed.map((d) =>
      eksCli(
        estate,
        "associate-access-policy",
        arn,
        ` --policy-arn ${q(d.arn)} --access-scope ${q(`type=namespace,namespaces=${d.scope.type === "namespace" ? d.scope.namespaces.join(",") : ""}`)}`,
      ),
    ),
    ...(x.extraGroups.length > 0
      ? [
          eksCli(
            estate,
            "update-access-entry",
            arn,
            decl.kubernetesGroups.length > 0
              ? ` --kubernetes-groups ${decl.kubernetesGroups.map(q).join(" ")}`
              : " --kubernetes-groups '[]'",
          ),
        ]
      : []),
  ];
  return [
    finding(
      "entry.wider-than-declared",
      resource,
      `the access entry for ${arn} grants more than ${estate.topology?.file ?? "the topology"} declares: ${x.reasons.join("; ")}`,
      [
        entryEvidence(e),
        {
          fact: `access policies of ${arn} (eks:ListAssociatedAccessPolicies)`,
          detail:
            e.policies.value.map((p) => `${policyName(p.policyArn)} (${scopeText(p.scope)})`).join("; ") ||
            "none",
        },
      ],
      `in account ${c.account}: ${fixes.join(" && ")}; or, if the access is meant, declare it in ${estate.topology?.file ?? "the topology"}`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Trust policies

/** The unique ids (AROA…, AIDA…) a policy names as AWS principals: principals that were deleted. */
export function danglingPrincipals(doc: PolicyDocument): string[] {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const out = new Set<string>();
  for (const s of statements) {
    for (const principal of [s?.Principal, s?.NotPrincipal]) {
      if (!principal || typeof principal !== "object") continue;
      const aws = (principal as Record<string, unknown>).AWS;
      for (const v of Array.isArray(aws) ? aws : [aws]) {
        if (typeof v === "string" && UNIQUE_ID.test(v)) out.add(v);
      }
    }
  }
  return [...out];
}

function trustFinding(estate: AuditEstate, role: AuditPrincipal, doc: PolicyDocument): Finding | undefined {
  const ids = danglingPrincipals(doc);
  if (ids.length === 0) return undefined;
  const managed = estate.topology?.access.some((a) => canonicalRoleArn(a.arn) === canonicalRoleArn(role.arn));
  const edit = managed
    ? "xeks deploy (it writes the trust policy the topology declares)"
    : `aws iam get-role --role-name ${q(role.name)} --query Role.AssumeRolePolicyDocument > trust.json, remove ${ids.join(", ")} from trust.json, then aws iam update-assume-role-policy --role-name ${q(role.name)} --policy-document file://trust.json`;
  return finding(
    "trust.dangling-principal",
    { type: "iam-role", id: role.arn, arn: role.arn, account: role.account, region: "" },
    `the trust policy of ${role.arn} names ${ids.join(", ")}: IAM shows a principal's unique id instead of its ARN once the principal is deleted, so nobody can use ${ids.length === 1 ? "that principal" : "those principals"}`,
    [{ fact: `trust policy of ${role.arn} (iam:GetRole)`, detail: `Principal AWS ${ids.join(", ")}` }],
    `in account ${role.account}: ${edit}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Routes, security group, peerings

/**
 * The route tables of the cluster's subnets: those explicitly associated with one, the VPC's main table when a
 * subnet has no explicit association, and the route tables the topology names for the cluster VPC.
 */
export function clusterRouteTables(estate: AuditEstate, tables: RouteTableFact[]): RouteTableFact[] {
  const subnets = estate.cluster.description.subnetIds;
  const named = new Set(estate.topology?.cluster.vpc.routeTables ?? []);
  const explicit = new Set(tables.flatMap((t) => t.subnets ?? []));
  const mainNeeded = subnets.some((s) => !explicit.has(s));
  return tables.filter(
    (t) => named.has(t.id) || (t.subnets ?? []).some((s) => subnets.includes(s)) || (mainNeeded && t.main),
  );
}

function routeFindings(estate: AuditEstate): Finding[] {
  const c = estate.cluster;
  if (!estate.routeTables.ok) {
    return unknownFor(
      ["route.blackhole"],
      vpcResource(estate),
      "the route tables of the cluster VPC could not be read",
      estate.routeTables,
    );
  }
  const out: Finding[] = [];
  const dead = deadPeerings(estate);
  for (const t of clusterRouteTables(estate, estate.routeTables.value)) {
    for (const r of t.routes) {
      const peering = dead.get(r.target);
      if (r.state !== "blackhole" && !peering) continue;
      const evidence: Evidence[] = [
        {
          fact: `route table ${t.id} (ec2:DescribeRouteTables)`,
          detail: `${r.destination} -> ${r.target}, ${r.state}${t.main ? "; the VPC's main table" : ""}${t.subnets?.length ? `; subnets ${t.subnets.join(", ")}` : ""}`,
        },
      ];
      if (peering) {
        evidence.push({
          fact: `peering ${r.target} (ec2:DescribeVpcPeeringConnections)`,
          detail: `status ${peering}`,
        });
      }
      out.push(
        finding(
          "route.blackhole",
          ec2Resource(estate, "route-table", t.id),
          `the route to ${r.destination} in ${t.id} goes to ${r.target}, which no longer exists (${r.state === "blackhole" ? "state blackhole" : `peering ${peering}`}): traffic to ${r.destination} is dropped`,
          evidence,
          `in account ${c.account}: aws ec2 delete-route --region ${q(c.region)} --route-table-id ${q(t.id)} --destination-cidr-block ${q(r.destination)} (or aws ec2 replace-route to a live target)`,
        ),
      );
    }
  }
  return out;
}

/** Peering statuses after which the connection carries no traffic and never will again. */
const DEAD_PEERING = new Set(["deleted", "deleting", "rejected", "expired", "failed"]);

/**
 * Peerings of the cluster VPC that are gone, by id, with their status. EC2 turns routes through a deleted peering
 * into blackholes (DescribeRouteTables `State`); a route whose peering reads as deleted, rejected, expired or failed
 * is treated as one too, whatever state the route reports (emulators, and the moment before EC2 updates it).
 */
function deadPeerings(estate: AuditEstate): Map<string, string> {
  if (!estate.peerings.ok) return new Map();
  return new Map(
    estate.peerings.value.filter((p) => DEAD_PEERING.has(p.status)).map((p) => [p.id, p.status]),
  );
}

function peerCidrs(
  estate: AuditEstate,
  p: { requester: { vpcId: string }; requesterCidrs: string[]; accepterCidrs: string[] },
): string[] {
  return p.requester.vpcId === estate.cluster.description.vpcId ? p.accepterCidrs : p.requesterCidrs;
}

/** The networks the cluster VPC reaches or the topology declares, each with where it comes from. */
function knownNetworks(
  estate: AuditEstate,
  vpc: string[],
  peerings: NonNullable<Extract<AuditEstate["peerings"], { ok: true }>["value"]>,
  tables: RouteTableFact[],
) {
  const out: { cidr: string; from: string }[] = vpc.map((cidr) => ({ cidr, from: "the cluster VPC" }));
  for (const p of peerings) {
    if (p.status !== "active") continue;
    for (const cidr of peerCidrs(estate, p)) out.push({ cidr, from: `peering ${p.id}` });
  }
  const dead = deadPeerings(estate);
  for (const t of tables) {
    for (const r of t.routes) {
      if (
        r.state === "active" &&
        !dead.has(r.target) &&
        !r.destination.endsWith("/0") &&
        r.target !== "local"
      )
        out.push({ cidr: r.destination, from: `route ${r.destination} -> ${r.target} in ${t.id}` });
    }
  }
  for (const cl of estate.topology?.clients ?? []) {
    if (cl.vpc) out.push({ cidr: cl.vpc.cidr, from: `client ${cl.name}` });
    for (const cidr of cl.publicCidrs) out.push({ cidr, from: `client ${cl.name} (publicCidrs)` });
  }
  return out;
}

function admits443(r: { protocol: string; fromPort: number; toPort: number }): boolean {
  if (r.protocol === "-1" || r.protocol === "all") return true;
  return (r.protocol === "tcp" || r.protocol === "6") && r.fromPort <= 443 && r.toPort >= 443;
}

function securityGroupFindings(estate: AuditEstate): Finding[] {
  const c = estate.cluster;
  const out: Finding[] = [];
  for (const g of estate.securityGroups) {
    const groupResource = ec2Resource(estate, "security-group", g.groupId);
    if (!g.rules.ok) {
      out.push(
        ...unknownFor(
          ["sg.orphan-cidr"],
          groupResource,
          `the rules of ${g.groupId} could not be read`,
          g.rules,
        ),
      );
      continue;
    }
    const candidates = g.rules.value.filter((r) => r.cidr && admits443(r));
    if (candidates.length === 0) continue;
    const inputs = [estate.vpcCidrs, estate.peerings, estate.routeTables];
    const failed = inputs.find((r): r is Extract<typeof r, { ok: false }> => !r.ok);
    if (failed) {
      out.push(
        ...unknownFor(
          ["sg.orphan-cidr"],
          groupResource,
          `whether the 443 rules of ${g.groupId} admit networks the cluster still reaches is unknown`,
          failed,
        ),
      );
      continue;
    }
    if (!estate.vpcCidrs.ok || !estate.peerings.ok || !estate.routeTables.ok) continue;
    const known = knownNetworks(
      estate,
      estate.vpcCidrs.value,
      estate.peerings.value,
      estate.routeTables.value,
    );
    for (const r of candidates) {
      const cidr = r.cidr as string;
      if (known.some((k) => cidrOverlaps(k.cidr, cidr))) continue;
      const resource = r.id ? ec2Resource(estate, "security-group-rule", r.id) : groupResource;
      out.push(
        finding(
          "sg.orphan-cidr",
          resource,
          `${g.groupId} admits TCP 443 from ${cidr}${r.description ? ` ("${r.description}")` : ""}, a CIDR that reaches no known network: neither the cluster VPC, an active peering, a live route nor a declared client has it`,
          [
            {
              fact: `rule ${r.id ?? "(no id)"} of ${g.groupId} (ec2:DescribeSecurityGroupRules)`,
              detail: `${r.protocol} ${r.fromPort}-${r.toPort} from ${cidr}`,
            },
            {
              fact: "networks the cluster VPC reaches",
              detail: known.map((k) => `${k.cidr} (${k.from})`).join("; ") || "none",
            },
          ],
          `in account ${c.account}: aws ec2 revoke-security-group-ingress --region ${q(c.region)} --group-id ${q(g.groupId)} ${r.id ? `--security-group-rule-ids ${q(r.id)}` : `--protocol ${q(r.protocol)} --port 443 --cidr ${q(cidr)}`}`,
        ),
      );
    }
  }
  return out;
}

function peeringFindings(estate: AuditEstate): Finding[] {
  const c = estate.cluster;
  if (!estate.peerings.ok) {
    return unknownFor(
      ["peering.unused"],
      vpcResource(estate),
      "the peering connections of the cluster VPC could not be read",
      estate.peerings,
    );
  }
  const active = estate.peerings.value.filter((p) => p.status === "active");
  if (active.length === 0) return [];
  if (!estate.routeTables.ok) {
    return unknownFor(
      ["peering.unused"],
      vpcResource(estate),
      "whether the cluster VPC routes to its peerings is unknown",
      estate.routeTables,
    );
  }
  const tables = estate.routeTables.value;
  const used = new Set(tables.flatMap((t) => t.routes.map((r) => r.target)));
  return active
    .filter((p) => !used.has(p.id))
    .map((p) => {
      const peer = p.requester.vpcId === c.description.vpcId ? p.accepter : p.requester;
      return finding(
        "peering.unused",
        ec2Resource(estate, "vpc-peering-connection", p.id),
        `${p.id} (to ${peer.vpcId} in account ${peer.account}, ${peerCidrs(estate, p).join(", ") || "CIDR unknown"}) is active, but no route of the cluster VPC's ${tables.length} route tables uses it`,
        [
          {
            fact: `peering ${p.id} (ec2:DescribeVpcPeeringConnections)`,
            detail: `active, ${p.requester.vpcId} -> ${p.accepter.vpcId}`,
          },
          {
            fact: `route tables of ${c.description.vpcId} (ec2:DescribeRouteTables)`,
            detail: tables.map((t) => t.id).join(", ") || "none",
          },
        ],
        `in account ${c.account}: aws ec2 delete-vpc-peering-connection --region ${q(c.region)} --vpc-peering-connection-id ${q(p.id)} (if nothing else needs it; or add the routes it was made for: aws ec2 create-route --route-table-id RTB --destination-cidr-block ${peerCidrs(estate, p)[0] !== undefined ? q(peerCidrs(estate, p)[0] as string) : "CIDR"} --vpc-peering-connection-id ${q(p.id)})`,
      );
    });
}
