import { accountRootArn, assumedRoleArn, roleArn, vpcArn } from "../../domain/arn.js";
import type { Model, PeeringFact } from "../../model/types.js";
import type { Client, Topology } from "../../topology/types.js";
import { allowAll, decide, describeDenial } from "../iam.js";
import { factSource, fail, type Link, pass, unknown, warn } from "../link.js";
import type { Evidence } from "../types.js";
import { outsideOrganization, pathsOutside } from "./assume.js";
import { peeringLabel, peeringsBetween, peeringsUnread } from "./common.js";

/**
 * network.peering: an active (or, in a plan, a planned and acceptable) peering joins the two VPCs. Not
 * applicable (null) to a client without a VPC (`publicCidrs`).
 */
export const peering: Link<"client"> = {
  id: "network.peering",
  title: "VPC peering connection is active",
  subject: "client",
  async evaluate({ topology, model }, { client }) {
    const vpc = client.vpc;
    if (!vpc) return null;
    const cluster = topology.cluster;
    const create = `xeks deploy (or in account ${client.account}: aws ec2 create-vpc-peering-connection --vpc-id ${vpc.id} --peer-vpc-id ${cluster.vpc.id} --peer-owner-id ${cluster.account} --peer-region ${cluster.region} --region ${client.region}, then accept it in account ${cluster.account})`;
    const missing = peeringsUnread(model, client, topology);
    const found = peeringsBetween(model, client, topology);
    if (found.length === 0 && missing) {
      return unknown(
        `peering connections could not be read in either account: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "ec2:DescribeVpcPeeringConnections"} to the credentials used for account ${cluster.account} (or ${client.account})`,
      );
    }
    if (model.cluster.vpcId !== cluster.vpc.id) {
      return fail(
        `the cluster is in ${model.cluster.vpcId}, not in ${cluster.vpc.id} as the topology says`,
        `set cluster.vpc to the cluster's VPC (xeks discover --cluster-name ${cluster.name} --region ${cluster.region} writes it)`,
      );
    }
    const best = found[0];
    if (!best) {
      return fail(`no peering connection joins ${vpc.id} and ${cluster.vpc.id}`, create);
    }
    const evidence = [
      {
        fact: peeringLabel(best.id),
        source: best.source === "declared" ? ("declared" as const) : factSource(model),
        detail: `${best.requester.vpcId} (${best.requester.account}) -> ${best.accepter.vpcId} (${best.accepter.account}), ${best.status}`,
      },
    ];
    if (best.status === "active") return pass(`peering ${best.id} is active`, evidence);
    if (best.status === "planned") return planned(best, topology, model, client, vpc.id, evidence);
    if (best.status === "pending-acceptance") {
      return fail(
        `peering ${best.id} is pending acceptance`,
        `in account ${best.accepter.account}: aws ec2 accept-vpc-peering-connection --vpc-peering-connection-id ${best.id} --region ${best.accepter.region}`,
        evidence,
      );
    }
    return fail(
      `peering ${best.id} is ${best.status}`,
      `delete it and create a new one: ${create}`,
      evidence,
    );
  },
};

/** A planned peering holds when its accepter role lets the client account accept it on the cluster VPC. */
async function planned(
  p: PeeringFact,
  topology: Topology,
  model: Model,
  client: Client,
  clientVpcId: string,
  evidence: Evidence[],
) {
  const cluster = topology.cluster;
  if (p.requester.vpcId !== clientVpcId || p.accepter.account !== cluster.account) {
    return fail(
      `${peeringLabel(p.id)} is requested from the wrong side (${p.requester.vpcId} in ${p.requester.account})`,
      "the client account must request the peering and the cluster account accept it: check src/infra's client link stack",
      evidence,
    );
  }
  if (p.accepter.region !== cluster.region) {
    return fail(
      `the planned peering names PeerRegion ${p.accepter.region}, the cluster is in ${cluster.region}`,
      `set PeerRegion ${cluster.region} on the peering connection`,
      evidence,
    );
  }
  const role = p.peerRoleArn ? model.roles[p.peerRoleArn] : undefined;
  if (!p.peerRoleArn || !role) {
    return fail(
      `the planned peering has no accepter role in account ${cluster.account}${p.peerRoleArn ? ` (${p.peerRoleArn} is not created)` : ""}`,
      "a cross-account peering needs PeerRoleArn naming a role in the accepter account that allows ec2:AcceptVpcPeeringConnection",
      evidence,
    );
  }
  const org = topology.organization;
  const inOrg = org !== undefined && client.organizationId === org.id;
  if (inOrg && org.paths.length > 0 && !client.organizationPath) {
    return unknown(
      `the organization path of account ${client.account} is not declared: the accepter role trusts only accounts under organization.paths (aws:PrincipalOrgPaths)`,
      `declare clients[${topology.clients.indexOf(client)}].organizationPath (in the management account: aws organizations list-parents --child-id ${client.account}, up to the root)`,
      evidence,
    );
  }
  /** sts:AssumeRole on the accepter role by the deploying principal of `account` (org id and path as given). */
  const deployerMayAssume = (account: string, orgId: string | undefined, orgPath: string | undefined) =>
    decide({
      principal: assumedRoleArn(cluster.partition, account, "xeks-deployer", "peering"),
      principalArn: roleArn(cluster.partition, account, "xeks-deployer"),
      principalAccount: account,
      action: "sts:AssumeRole",
      resource: role.arn,
      resourceAccount: cluster.account,
      // The deploying principal in the client account is not modelled (its SCP exemptions are unknown), so the
      // client account's SCPs are not applied here; the cluster account's RCPs bind whoever assumes the role.
      identityPolicies: [allowAll("sts:AssumeRole")],
      resourcePolicy: role.trustPolicy,
      rcps: model.rcps[cluster.account],
      context: {
        ...(orgId ? { "aws:PrincipalOrgID": orgId } : {}),
        ...(orgPath ? { "aws:PrincipalOrgPaths": [orgPath] } : {}),
      },
    });
  const trust = await deployerMayAssume(
    client.account,
    model.organizations[client.account],
    client.organizationPath,
  );
  evidence.push({
    fact: `trust policy of accepter role ${role.arn}`,
    source: "template",
    detail: trust.result,
  });
  if (trust.result !== "Allowed") {
    return fail(
      `the accepter role ${role.name} does not trust account ${client.account}: ${trust.denials.map(describeDenial).join("; ") || trust.result}`,
      `let ${accountRootArn(cluster.partition, client.account)} assume ${role.arn}`,
      evidence,
    );
  }
  const clusterVpcArn = vpcArn(cluster.partition, cluster.region, cluster.account, cluster.vpc.id);
  const accept = await decide({
    principal: assumedRoleArn(cluster.partition, cluster.account, role.name, "peering"),
    principalArn: role.arn,
    principalAccount: cluster.account,
    action: "ec2:AcceptVpcPeeringConnection",
    resource: clusterVpcArn,
    resourceAccount: cluster.account,
    identityPolicies: role.policies,
    permissionsBoundary: role.permissionsBoundary,
    scps: model.scps[cluster.account],
  });
  evidence.push({ fact: `policies of accepter role ${role.arn}`, source: "template", detail: accept.result });
  if (accept.result !== "Allowed") {
    return fail(
      `the accepter role ${role.name} may not accept a peering into ${cluster.vpc.id}: ${accept.denials.map(describeDenial).join("; ") || accept.result}`,
      `allow ec2:AcceptVpcPeeringConnection on ${clusterVpcArn} to ${role.arn}`,
      evidence,
    );
  }
  const summary = `peering will be requested by ${client.account} and accepted through ${role.name}`;
  if (inOrg) {
    // The organization statement's reach: the same deployer in an account of another organization, in an account of
    // the organization under another path (`pathsOutside`), and in the cluster account (excluded by
    // aws:PrincipalAccount) must not get in.
    const other = client.account === "999999999999" ? "888888888888" : "999999999999";
    const outsideOrg = outsideOrganization(org.id);
    const outside = await deployerMayAssume(
      other,
      outsideOrg,
      client.organizationPath?.replace(org.id, outsideOrg),
    );
    const getsIn = outside.result === "Allowed";
    const fact = `reach of organization ${org.id} on accepter role ${role.arn} (iam-simulate)`;
    evidence.push({
      fact,
      source: "template",
      detail: `gets in: account ${client.account} (in ${org.id}); ${getsIn ? "gets in" : "does not get in"}: account ${other} of another organization, ${outsideOrg}`,
    });
    const wider = getsIn ? [`account ${other} of ${outsideOrg}`] : [];
    const negatives = [
      ...pathsOutside(org.paths).map((p) => ({
        account: other,
        path: p,
        why: `account ${other} of ${org.id} under another path, ${p}`,
      })),
      {
        account: cluster.account,
        path: client.organizationPath,
        why: `the cluster account ${cluster.account}, excluded by aws:PrincipalAccount`,
      },
    ];
    for (const n of negatives) {
      const d = await deployerMayAssume(n.account, org.id, n.path);
      if (d.result === "Allowed") wider.push(n.why);
      evidence.push({
        fact,
        source: "template",
        detail: `${d.result === "Allowed" ? "gets in" : "does not get in"}: ${n.why}`,
      });
    }
    if (wider.length > 0) {
      return warn(
        `${summary}, but the accepter role's trust is wider than the organization${org.paths.length > 0 ? "'s paths" : ""}: ${wider.join("; ")} ${wider.length === 1 ? "gets" : "get"} in`,
        `trust the organization only: aws:PrincipalOrgID ${org.id}${org.paths.length > 0 ? ` and aws:PrincipalOrgPaths ${org.paths.join(", ")}` : ""}, without the cluster account (StringNotEquals aws:PrincipalAccount ${cluster.account}) on ${role.arn}`,
        evidence,
      );
    }
  }
  return pass(summary, evidence);
}
