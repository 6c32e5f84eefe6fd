/**
 * IAM decisions for the chain. The only module that imports @cloud-copilot/iam-simulate (AGPL-3.0): keep it
 * that way, so the rest of xeks depends on this small interface, not on the simulator.
 */
import { getDenialReasons, runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { parseArn } from "../domain/arn.js";
import type { PolicyDocument, PolicyFact } from "../model/types.js";
import { decisionMemo, documentId } from "./memo.js";

export type IamResult = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Invalid";

/** Which kind of policy said no. */
export type IamDenier = "identity" | "boundary" | "scp" | "rcp" | "trust" | "session" | "other";

export interface IamDenial {
  by: IamDenier;
  explicit: boolean;
  /** The policy (name) and statement that denied, for explicit denials. */
  policy?: string;
  statement?: string;
}

export interface IamDecision {
  result: IamResult;
  denials: IamDenial[];
  /** Validation problems with the input policies (result Invalid). */
  errors?: string;
}

export interface IamRequest {
  /** The caller: a role session ARN (arn:aws:sts::B:assumed-role/R/s) or an IAM ARN. */
  principal: string;
  /** The caller's IAM role ARN (aws:PrincipalArn). */
  principalArn: string;
  principalAccount: string;
  action: string;
  resource: string;
  resourceAccount: string;
  identityPolicies: PolicyFact[];
  permissionsBoundary?: PolicyFact;
  /** SCPs of the caller's account (declared). FullAWSAccess is assumed attached beside them. */
  scps?: PolicyFact[];
  /** RCPs of the resource's account (declared). RCPFullAWSAccess is always applied by the simulator. */
  rcps?: PolicyFact[];
  /** The resource's policy; for sts:AssumeRole, the role's trust policy. */
  resourcePolicy?: PolicyDocument;
  /** Extra request context: sts:ExternalId, aws:PrincipalOrgID, … */
  context?: Record<string, string | string[]>;
}

const FULL_AWS_ACCESS = {
  name: "FullAWSAccess",
  policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
};

function denierOf(policyType: string): IamDenier {
  switch (policyType) {
    case "identity":
      return "identity";
    case "pb":
    case "permissionBoundary":
      return "boundary";
    case "scp":
      return "scp";
    case "rcp":
      return "rcp";
    case "resource":
      return "trust";
    case "session":
      return "session";
    default:
      return "other";
  }
}

/**
 * The memo key of a request: every field that decides it, each policy document by its `documentId`. Undefined
 * outside a proof scope (src/chain/memo.ts).
 */
function requestKey(req: IamRequest): string | undefined {
  if (decisionMemo() === undefined) return undefined;
  const policies = (ps: PolicyFact[] | undefined) => (ps ?? []).map((p) => [p.name, documentId(p.document)]);
  return JSON.stringify([
    req.principal,
    req.principalArn,
    req.principalAccount,
    req.action,
    req.resource,
    req.resourceAccount,
    policies(req.identityPolicies),
    policies(req.permissionsBoundary ? [req.permissionsBoundary] : undefined),
    policies(req.scps),
    policies(req.rcps),
    documentId(req.resourcePolicy),
    req.context ?? {},
  ]);
}

/** A copy of a decision, so that no caller shares one with another. */
function copyOf(d: IamDecision): IamDecision {
  return { ...d, denials: d.denials.map((x) => ({ ...x })) };
}

/**
 * Decide one request the way IAM would (both sides for cross-account requests). Within a proof, a request equal
 * to an earlier one (the same fields and policy texts: the peering accepter's permissions, decided once per
 * client) gets the earlier decision without a second simulation.
 */
export async function decide(req: IamRequest): Promise<IamDecision> {
  const key = requestKey(req);
  const memo = decisionMemo();
  if (key !== undefined && memo !== undefined) {
    let pending = memo.get(key) as Promise<IamDecision> | undefined;
    if (!pending) {
      pending = simulate(req);
      memo.set(key, pending);
    }
    return copyOf(await pending);
  }
  return simulate(req);
}

async function simulate(req: IamRequest): Promise<IamDecision> {
  const simulation: Simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: {
        "aws:PrincipalArn": req.principalArn,
        // iam-simulate does not derive aws:PrincipalAccount from the principal ARN (measured: without it, a
        // StringNotEquals aws:PrincipalAccount condition holds for any caller): always pass it.
        "aws:PrincipalAccount": req.principalAccount,
        "aws:PrincipalType": "AssumedRole",
        ...req.context,
      },
    },
    identityPolicies: req.identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
    permissionBoundaryPolicies: req.permissionsBoundary
      ? [{ name: req.permissionsBoundary.name, policy: req.permissionsBoundary.document }]
      : undefined,
    serviceControlPolicies:
      req.scps && req.scps.length > 0
        ? [
            {
              orgIdentifier: `account-${req.principalAccount}`,
              policies: [FULL_AWS_ACCESS, ...req.scps.map((p) => ({ name: p.name, policy: p.document }))],
            },
          ]
        : [],
    resourceControlPolicies:
      req.rcps && req.rcps.length > 0
        ? [
            {
              orgIdentifier: `account-${req.resourceAccount}`,
              policies: req.rcps.map((p) => ({ name: p.name, policy: p.document })),
            },
          ]
        : [],
    resourcePolicy: req.resourcePolicy,
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === "error") {
    return { result: "Invalid", denials: [], errors: summarizeErrors(response.errors) };
  }
  if (response.resultType !== "single") {
    return { result: response.overallResult, denials: [] };
  }
  const analysis = response.result.analysis;
  const denials: IamDenial[] = analysis
    ? getDenialReasons(analysis).map((d) =>
        d.denialType === "Explicit"
          ? {
              by: denierOf(d.policyType),
              explicit: true,
              policy: d.policyIdentifier,
              statement: d.statementId ?? `statement ${d.statementIndex}`,
            }
          : { by: denierOf(d.policyType), explicit: false, policy: d.identifier },
      )
    : [];
  return { result: response.overallResult, denials };
}

function summarizeErrors(errors: unknown): string {
  const text = JSON.stringify(errors);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** "explicit deny in SCP deny-assume (statement DenyAssume)" */
export function describeDenial(d: IamDenial): string {
  const what: Record<IamDenier, string> = {
    identity: "the identity policies",
    boundary: "the permissions boundary",
    scp: "a service control policy",
    rcp: "a resource control policy",
    trust: "the trust policy",
    session: "the session policy",
    other: "a policy",
  };
  if (d.explicit) {
    return `explicit deny in ${what[d.by]}${d.policy ? ` ${d.policy}` : ""}${d.statement ? ` (${d.statement})` : ""}`;
  }
  return `no statement in ${what[d.by]} allows it`;
}

/** An identity policy that allows one action on anything: used to isolate the resource side of a decision. */
export function allowAll(action: string): PolicyFact {
  return {
    name: "(isolating the trust side)",
    source: "declared",
    document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] },
  };
}

/**
 * May this service principal (ec2.amazonaws.com, pods.eks.amazonaws.com) call `action` (default
 * sts:AssumeRole; Pod Identity also needs sts:TagSession) on a role with this trust policy?
 */
export async function serviceMayAssume(
  trustPolicy: PolicyDocument,
  service: string,
  roleArn: string,
  action = "sts:AssumeRole",
) {
  const account = parseArn(roleArn)?.account ?? "";
  const response = await runSimulation(
    {
      request: {
        principal: service,
        action,
        resource: { resource: roleArn, accountId: account },
        contextVariables: {},
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trustPolicy,
    },
    {},
  );
  if (response.resultType === "error")
    return { result: "Invalid" as const, errors: summarizeErrors(response.errors) };
  return { result: response.overallResult };
}

/**
 * Load what iam-simulate reads on its first decision of each action the links ask (its service data for sts,
 * eks and ec2: action details, resource types, condition keys), so that a proof worker started early
 * (src/chain/pool.ts) pays for it while the main thread synthesizes. Decides nothing anyone reads; never throws.
 */
export async function warmUp(): Promise<void> {
  const account = "111111111111";
  const role = `arn:aws:iam::${account}:role/xeks-warm-up`;
  const requests: [string, string][] = [
    ["sts:AssumeRole", role],
    ["sts:TagSession", role],
    ["sts:AssumeRoleWithWebIdentity", role],
    ["eks:DescribeCluster", `arn:aws:eks:eu-west-1:${account}:cluster/xeks-warm-up`],
    ["ec2:AcceptVpcPeeringConnection", `arn:aws:ec2:eu-west-1:${account}:vpc/vpc-0123456789abcdef0`],
  ];
  for (const [action, resource] of requests) {
    try {
      await simulate({
        principal: `arn:aws:sts::${account}:assumed-role/xeks-warm-up/warm-up`,
        principalArn: role,
        principalAccount: account,
        action,
        resource,
        resourceAccount: account,
        identityPolicies: [allowAll(action)],
        resourcePolicy: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: role }, Action: action }],
        },
      });
    } catch {
      // a warm-up that fails costs the proof nothing but the time it would have saved
    }
  }
}
