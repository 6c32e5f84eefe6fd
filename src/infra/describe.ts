/**
 * What `xeks plan` says it will create, as data: per phase, per account, per stack, one line per thing in
 * human terms. Read from the same layout the stacks are built from. The CLI only formats it.
 */
import type { Intent, Layout, PhaseName, Side, StackKind } from "./layout.js";

export interface PlanItem {
  /** The intent kind, or `instance-profile`, `assume-policy`, `instance-security-group` for the parts of one. */
  kind: string;
  /** One line: "access role X trusted by arn:…". */
  text: string;
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
  /** Count of stacks, and of the distinct accounts touched. */
  totals: { stacks: number; accounts: number; phases: number };
}

function list(items: readonly string[]): string {
  return items.join(", ");
}

function describeIntent(intent: Intent): PlanItem[] {
  switch (intent.kind) {
    case "client-role": {
      const items: PlanItem[] = [];
      const assume =
        intent.assumes.length > 0
          ? `sts:AssumeRole on ${list(intent.assumes)}`
          : "(none: no access role names this client)";
      if (intent.existing) {
        items.push({
          kind: "assume-policy",
          text: `inline policy ${intent.policyName} on the existing role ${intent.arn}: ${assume}`,
        });
        return items;
      }
      const extras = [
        intent.permissionsBoundaryArn ? `permissions boundary ${intent.permissionsBoundaryArn}` : "",
        intent.ssmManagedInstance ? "AmazonSSMManagedInstanceCore attached (Session Manager)" : "",
      ].filter(Boolean);
      items.push({
        kind: "client-role",
        text: `client role ${intent.roleName} (${intent.arn}) trusted by ec2.amazonaws.com${extras.length ? `; ${list(extras)}` : ""}`,
      });
      items.push({
        kind: "instance-profile",
        text: `instance profile ${intent.instanceProfileName} for role ${intent.roleName}`,
      });
      if (intent.assumes.length > 0) {
        items.push({
          kind: "assume-policy",
          text: `inline policy ${intent.policyName} on ${intent.roleName}: ${assume}`,
        });
      }
      return items;
    }
    case "peering-accepter-role":
      return [
        {
          kind: intent.kind,
          text:
            `peering accepter role ${intent.roleName} trusted by account${intent.trustedAccounts.length > 1 ? "s" : ""} ` +
            `${list(intent.trustedAccounts)}; may only ec2:AcceptVpcPeeringConnection into ${intent.accepterVpcArn.split("/")[1]} ` +
            `from ${list(intent.requesterVpcArns.map((a) => a.split("/")[1] ?? a))}`,
        },
      ];
    case "access-role":
      return [
        {
          kind: intent.kind,
          text:
            `access role ${intent.roleName} trusted by ${list(intent.trustedBy)}` +
            `${intent.externalId ? " with sts:ExternalId" : ""}; may eks:DescribeCluster on ${intent.clusterArn} and eks:ListClusters`,
        },
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
        {
          kind: intent.kind,
          text:
            `EKS access entry (STANDARD) on cluster ${intent.clusterName} for ${intent.principalArn}: ${list(policies)}` +
            `${extras.length ? `; ${list(extras)}` : ""}`,
        },
      ];
    }
    case "peering-connection":
      return [
        {
          kind: intent.kind,
          text:
            `VPC peering request ${intent.vpcId} -> ${intent.peerVpcId} (account ${intent.peerOwnerId}, ${intent.peerRegion}), ` +
            `accepted through ${intent.peerRoleArn}`,
        },
      ];
    case "routes": {
      const via =
        "resource" in intent.peering
          ? "peering (this stack)"
          : `peering (from phase ${intent.peering.from.phase}, ${intent.peering.from.stack})`;
      return intent.routeTableIds.map((rtb) => ({
        kind: "route",
        text: `route ${intent.destinationCidr} -> ${via} in ${rtb}`,
      }));
    }
    case "cluster-ingress":
      return [
        {
          kind: intent.kind,
          text: `ingress TCP ${intent.port} from ${intent.cidr} (client ${intent.client}) on the cluster security group ${intent.securityGroupId}`,
        },
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
    totals: {
      stacks: layout.stacks.length,
      accounts: new Set(layout.stacks.map((s) => s.account)).size,
      phases: layout.phases.filter((p) => p.stacks.length > 0).length,
    },
  };
}
