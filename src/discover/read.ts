/**
 * discover's reads, through the live reader of doctor's model (src/aws/session.ts and read.ts: sessions, the
 * read-only guard, the shared call limit, the error classifier). Each read discover needs fails the command with the failure named.
 */

import {
  listRolesUnderPath,
  type PolicyCache,
  readRole,
  readRouteTables,
  readSubnets,
  readVpc,
} from "../aws/read.js";
import { ReadFailure } from "../aws/read-errors.js";
import type { AwsContext, Session } from "../aws/session.js";
import { isSessionArn } from "../domain/access-entry.js";
import { roleOfArn } from "../domain/arn.js";
import { isReservedRole, permissionSetOfRoleName, SSO_ROLE_PATH } from "../domain/principal.js";
import { trustedAwsPrincipals } from "../domain/trust.js";
import { OperationError } from "../errors.js";
import { clientSource } from "../model/live/load.js";
import type { PeeringFact, PolicyDocument, RoleFact, RouteTableFact } from "../model/types.js";
import { clientPeerings, otherSide, subnetRouteTables } from "./network.js";

/** `NAME=ACCOUNT[:ROLE]` or `NAME=ACCOUNT:sso:PERMISSIONSET` of `--client-account`. */
export interface DiscoverClient {
  name: string;
  account: string;
  /** The client's EC2 role name; found from the access roles' trust policies when absent. */
  role?: string;
  /** The IAM Identity Center permission set of a client of people (kind sso). */
  permissionSet?: string;
}

/**
 * Await a read discover cannot do without. Errors: OperationError "cannot read WHAT: DETAIL" with the
 * classifier's hint (a denied read names the permission to allow); anything but a ReadFailure as it is.
 */
export async function need<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ReadFailure) {
      throw new OperationError(
        `cannot read ${what}: ${err.error.detail}`,
        err.error.kind === "denied"
          ? `allow ${err.error.permission} to the credentials used (see docs/doctor.md for a read-only policy)`
          : err.error.hint,
      );
    }
    throw err;
  }
}

/** The role name of a role ARN; undefined for a session ARN or anything else. */
export function roleNameOf(arn: string): string | undefined {
  return isSessionArn(arn) ? undefined : roleOfArn(arn)?.name;
}

/** Role ARNs of `account` that a trust policy names under Principal.AWS (sessions left out). */
export function trustedRoleArns(trust: PolicyDocument, account: string): string[] {
  return trustedAwsPrincipals(trust).filter(
    (arn) => roleOfArn(arn)?.account === account && !isSessionArn(arn),
  );
}

/**
 * A client's side as read: its peering with the cluster VPC, its VPC and the route tables of its subnets. A
 * client of people (kind sso) without a peering has none of these: it reaches the public endpoint.
 */
export interface ClientRead {
  spec: DiscoverClient;
  session: Session;
  region: string;
  /** The permission set, for a client of people (kind sso; from the spec or the access roles' trust). */
  permissionSet?: string;
  peering?: PeeringFact;
  vpc?: { id: string; cidrs: string[] };
  tables: RouteTableFact[];
  tableIds: string[];
}

/**
 * The permission set a client spec stands for (kind sso), or undefined: the spec's `sso:NAME`; a role named
 * `AWSReservedSSO_NAME_<hex>`; else, with no role given, the one permission set whose roles in the client's
 * account the candidate access roles trust (a role ARN under /aws-reserved/sso.amazonaws.com/, or an
 * `AWSReservedSSO_NAME_*` pattern of that account in their trust policies).
 */
export function permissionSetOf(spec: DiscoverClient, candidates: RoleFact[]): string | undefined {
  if (spec.permissionSet) return spec.permissionSet;
  if (spec.role) return permissionSetOfRoleName(spec.role);
  const sets = new Set<string>();
  let others = 0;
  for (const arn of candidates.flatMap((r) => trustedRoleArns(r.trustPolicy, spec.account))) {
    const name = roleNameOf(arn) ?? "";
    const set = isReservedRole(arn) ? permissionSetOfRoleName(name) : undefined;
    if (set) sets.add(set);
    else others++;
  }
  const pattern = new RegExp(
    `:iam::${spec.account}:role/aws-reserved/sso\\.amazonaws\\.com/(?:\\*/)?AWSReservedSSO_([\\w+=,.@-]+?)_\\*`,
    "g",
  );
  for (const r of candidates) {
    for (const m of JSON.stringify(r.trustPolicy).matchAll(pattern)) if (m[1]) sets.add(m[1]);
  }
  return sets.size === 1 && others === 0 ? [...sets][0] : undefined;
}

/**
 * The roles IAM Identity Center made for `permissionSet` in the session's account: IAM ListRoles under
 * /aws-reserved/sso.amazonaws.com/, kept when the name is `AWSReservedSSO_<permissionSet>_<hex>` exactly (not a
 * permission set whose name only starts with it), each read (trust, policies). Errors: as `need`.
 */
export async function readPermissionSetRoles(
  session: Session,
  account: string,
  permissionSet: string,
  cache: PolicyCache,
): Promise<RoleFact[]> {
  const listed = await need(
    `the IAM Identity Center roles of account ${account}`,
    listRolesUnderPath(session, SSO_ROLE_PATH),
  );
  const mine = listed.filter((r) => permissionSetOfRoleName(r.name) === permissionSet);
  const roles = await Promise.all(
    mine.map((r) => need(`role ${r.name} of account ${account}`, readRole(session, r.name, account, cache))),
  );
  return roles.filter((r): r is RoleFact => r !== undefined);
}

/**
 * Read one client's side: the peering between the cluster VPC and a VPC of its account (active first), then
 * that VPC, its subnets and route tables with the client's credentials in the VPC's region. A client of people
 * (`sso`: its permission set, and the cluster's region for its session) may have no peering. Errors:
 * OperationError when no peering (for any other client) or several (to different VPCs of the account) qualify,
 * or the VPC is gone.
 */
export async function readClientSide(
  ctx: AwsContext,
  c: DiscoverClient,
  profile: string | undefined,
  peerings: PeeringFact[],
  clusterVpcId: string,
  notes: string[],
  sso?: { permissionSet: string; region: string },
): Promise<ClientRead> {
  const permissionSet = sso?.permissionSet;
  const candidates = clientPeerings(peerings, clusterVpcId, c.account);
  const best = candidates[0];
  if (!best && sso) {
    // People reach the public endpoint: no peering is needed (the caller writes publicCidrs).
    const session = ctx.session(clientSource(c.name, profile), sso.region);
    return { spec: c, session, region: session.region, permissionSet, tables: [], tableIds: [] };
  }
  if (!best) {
    throw new OperationError(
      `no peering connection joins the cluster VPC ${clusterVpcId} with a VPC of account ${c.account} (client ${c.name})`,
      "create and accept the peering first, or write the client's vpc in the topology by hand",
    );
  }
  const side = otherSide(best, clusterVpcId);
  const others = candidates.filter(
    (p) => otherSide(p, clusterVpcId).vpcId !== side.vpcId && p.status === best.status,
  );
  if (others.length > 0) {
    throw new OperationError(
      `account ${c.account} has several VPCs peered with the cluster VPC (${[best, ...others].map((p) => p.id).join(", ")}): discover cannot tell which is client ${c.name}'s`,
      "write the client's vpc in the topology by hand",
    );
  }
  if (best.status !== "active") notes.push(`client ${c.name}: peering ${best.id} is ${best.status}`);
  const session = ctx.session(clientSource(c.name, profile), side.region);
  const [vpc, subnets, tables] = await Promise.all([
    need(`VPC ${side.vpcId} of client ${c.name}`, readVpc(session, side.vpcId)),
    need(`the subnets of ${side.vpcId}`, readSubnets(session, side.vpcId)),
    need(`the route tables of ${side.vpcId}`, readRouteTables(session, side.vpcId, c.account)),
  ]);
  if (!vpc) {
    throw new OperationError(`VPC ${side.vpcId} of client ${c.name} was not found in account ${c.account}`);
  }
  return {
    spec: c,
    session,
    region: side.region,
    ...(permissionSet !== undefined ? { permissionSet } : {}),
    peering: best,
    vpc,
    tables,
    tableIds: subnetRouteTables(tables, subnets),
  };
}

/**
 * The candidate access roles of the cluster account: the `named` ones (each must exist), else the roles with an
 * access entry (`entryArns`). Roles that do not exist among the found ones are left out.
 */
export async function readCandidateRoles(
  session: Session,
  account: string,
  named: string[],
  entryArns: string[],
  cache: PolicyCache,
): Promise<RoleFact[]> {
  const names =
    named.length > 0
      ? named
      : [
          ...new Set(
            entryArns.filter((a) => a.includes(`:iam::${account}:role/`)).map((a) => roleNameOf(a) ?? ""),
          ),
        ].filter(Boolean);
  const roles = await Promise.all(
    names.map(async (name) => {
      const role = await need(`access role ${name}`, readRole(session, name, account, cache));
      if (!role && named.includes(name)) {
        throw new OperationError(`access role ${name} was not found in account ${account}`);
      }
      return role;
    }),
  );
  return roles.filter((r): r is RoleFact => r !== undefined);
}

/**
 * A client's EC2 role: the one named in `--client-account`, else the one role of the client's account the
 * candidate access roles trust. Errors: OperationError when none or several are trusted, or the role is gone.
 */
export async function readClientRole(
  c: ClientRead,
  candidates: RoleFact[],
  cache: PolicyCache,
): Promise<RoleFact> {
  let name = c.spec.role;
  if (!name) {
    const arns = [...new Set(candidates.flatMap((r) => trustedRoleArns(r.trustPolicy, c.spec.account)))];
    if (arns.length !== 1) {
      throw new OperationError(
        arns.length === 0
          ? `no access role trusts a role of account ${c.spec.account}: discover cannot tell client ${c.spec.name}'s role`
          : `access roles trust several roles of account ${c.spec.account} (${arns.join(", ")})`,
        `name it: --client-account ${c.spec.name}=${c.spec.account}:ROLE`,
      );
    }
    name = roleNameOf(arns[0] as string) as string;
  }
  const role = await need(
    `role ${name} of client ${c.spec.name}`,
    readRole(c.session, name, c.spec.account, cache),
  );
  if (!role) {
    throw new OperationError(
      `role ${name} of client ${c.spec.name} was not found in account ${c.spec.account}`,
    );
  }
  return role;
}
