/**
 * The stacks xeks deploys, each an XeksStack built from its entry in the layout (`layout.ts`). They are added
 * to a CDK app together, in phase order (later stacks take earlier stacks' outputs as parameters):
 * `addXeksStacks(app, { topology })`.
 */

import {
  CfnDeletionPolicy,
  type CfnElement,
  CfnOutput,
  CfnParameter,
  type CfnResource,
  type IStackSynthesizer,
  LegacyStackSynthesizer,
  Stack,
  Tags,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ADOPTED_METADATA_KEY } from "../domain/adoption.js";
import { type Adoption, type Intent, type Layout, planLayout, type StackLayout } from "../layout/layout.js";
import { pascal, shortHash, TAG_CLIENT, TAG_CLUSTER, TAG_STACK } from "../layout/names.js";
import { memberStackLayout } from "../layout/stackset.js";
import type { Topology } from "../topology/types.js";
import { AccessRole, ClusterAccessEntry } from "./constructs/access.js";
import { ClientInstance, ClientRole, PodIdentityAssociation } from "./constructs/client.js";
import { ClusterIngress, PeeringAccepterRole, PeeringConnection, PeerRoutes } from "./constructs/network.js";
import { ConstructionError } from "./synthesis-errors.js";
import { clientUserData } from "./user-data.js";

/** Common props of the xeks stacks. */
export interface XeksStackProps {
  /** The normalized topology (`loadTopology`). */
  readonly topology: Topology;
  /**
   * The layout of that topology, when already computed (saves recomputing it per stack).
   * @default planLayout(topology)
   */
  readonly layout?: Layout;
  /**
   * The stack synthesizer.
   * @default LegacyStackSynthesizer: no bootstrap, no asset bucket (templates stay under 51,200 bytes)
   */
  readonly synthesizer?: IStackSynthesizer;
  /**
   * kubectl release installed on a client instance.
   * @default DEFAULT_KUBECTL_VERSION
   */
  readonly kubectlVersion?: string;
}

/**
 * A stack of the layout, with the layout's name, account and region, tags `xeks:cluster`, `xeks:stack` (and
 * `xeks:client`), and readable logical ids (the construct path in PascalCase instead of CDK's hashed ids).
 */
export class XeksStack extends Stack {
  readonly layout: StackLayout;
  /** The adopted resources of this stack, by logical id: what deploy imports (docs/adopt.md). */
  readonly imports: (Adoption & { logicalId: string })[] = [];
  private readonly logicalIds = new Map<string, string>();

  constructor(scope: Construct, stackLayout: StackLayout, props: XeksStackProps) {
    super(scope, stackLayout.name, {
      stackName: stackLayout.name,
      // A StackSet's member template (account "*", src/layout/stackset.ts) has no environment: it runs in every
      // member account, so its ARNs use AWS::AccountId and AWS::Partition.
      env:
        stackLayout.account === "*"
          ? undefined
          : { account: stackLayout.account, region: stackLayout.region },
      description: stackLayout.description,
      synthesizer: props.synthesizer ?? new LegacyStackSynthesizer(),
      analyticsReporting: false,
    });
    this.layout = stackLayout;
    Tags.of(this).add(TAG_CLUSTER, props.topology.cluster.name);
    Tags.of(this).add(TAG_STACK, stackLayout.name);
    if (stackLayout.client) Tags.of(this).add(TAG_CLIENT, stackLayout.client);
    const params = new Map<string, string>();
    for (const p of stackLayout.parameters) {
      const param = new CfnParameter(this, p.name, {
        type: "String",
        description: p.description,
        allowedPattern: p.allowedPattern,
        constraintDescription: "a VPC peering connection id: pcx- and 8 or 17 hex digits",
      });
      params.set(p.name, param.valueAsString);
    }
    for (const intent of stackLayout.intents) {
      try {
        addIntent(this, intent, params, props);
      } catch (err) {
        // Name the construct being built, so that synthesize can point at the topology field it came from.
        const last = this.node.children.at(-1);
        throw new ConstructionError(`${this.node.path}/${last?.node.id ?? ""}`, err);
      }
    }
  }

  /**
   * Mark `resource` as adopted: `DeletionPolicy` and `UpdateReplacePolicy` Retain (destroy never deletes what xeks
   * did not create), `Metadata.xeks:adopted` with its import identifier, and an import record for the manifest.
   */
  adopt(resource: CfnResource, adoption: Adoption): void {
    resource.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
    resource.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
    resource.addMetadata(ADOPTED_METADATA_KEY, { identifier: adoption.identifier });
    this.imports.push({ ...adoption, logicalId: this.getLogicalId(resource) });
  }

  /** `AccessRole/Default/Resource` -> `AccessRole`; `RoutesToCluster/rtb-0abc` -> `RoutesToClusterRtb0abc`. */
  protected override allocateLogicalId(element: CfnElement): string {
    const parts = element.node.scopes
      .slice(this.node.scopes.length)
      .map((s) => s.node.id)
      .filter((id) => id !== "Resource" && id !== "Default");
    let id = parts.map(pascal).join("").slice(0, 240) || "Resource";
    const owner = this.logicalIds.get(id);
    if (owner !== undefined && owner !== element.node.path) id = `${id}${shortHash(element.node.path)}`;
    this.logicalIds.set(id, element.node.path);
    return id;
  }
}

function addIntent(
  stack: XeksStack,
  intent: Intent,
  params: Map<string, string>,
  props: XeksStackProps,
): void {
  const cluster = props.topology.cluster.name;
  switch (intent.kind) {
    case "client-role": {
      const role = new ClientRole(stack, "ClientRole", {
        roleName: intent.roleName,
        path: intent.path,
        existing: intent.existing,
        trust: intent.trust,
        instanceProfile: intent.instanceProfileName !== undefined,
        instanceProfileName: intent.instanceProfileName,
        accessRoleArns: intent.assumes,
        assumeActions: intent.assumeActions,
        permissionsBoundaryArn: intent.permissionsBoundaryArn,
        policyName: intent.policyName,
        ssmManagedInstance: intent.ssmManagedInstance,
      });
      if (intent.adoptPolicy && role.assumePolicy) stack.adopt(role.assumePolicy, intent.adoptPolicy);
      new CfnOutput(stack, "ClientRoleArn", {
        value: role.roleArn,
        description:
          intent.trust.kind === "web-identity"
            ? "The web-identity role of the client"
            : intent.trust.kind === "pod-identity"
              ? "The Pod Identity role of the client"
              : intent.instanceProfileName !== undefined
                ? "The client EC2 role"
                : "The client role",
      });
      if (role.hasInstanceProfile) {
        new CfnOutput(stack, "InstanceProfileName", {
          value: role.instanceProfileName,
          description: "Instance profile of the client role",
        });
      }
      return;
    }
    case "pod-identity-association": {
      // The role is created in this stack (phase 1): the association waits for it.
      const role = stack.node.tryFindChild("ClientRole") as ClientRole | undefined;
      new PodIdentityAssociation(stack, "PodIdentityAssociation", {
        clusterName: intent.clusterName,
        namespace: intent.namespace,
        serviceAccount: intent.serviceAccount,
        roleArn: intent.roleArn,
        dependsOn: role?.role,
      });
      return;
    }
    case "peering-accepter-role": {
      const role = new PeeringAccepterRole(stack, "PeeringAccepterRole", {
        roleName: intent.roleName,
        requesterAccounts: intent.trustedAccounts,
        ...(intent.organization ? { organization: intent.organization } : {}),
        accepterVpcArn: intent.accepterVpcArn,
        requesterVpcArns: intent.requesterVpcArns,
      });
      new CfnOutput(stack, "PeeringAccepterRoleArn", {
        value: role.roleArn,
        description: "Role the client accounts assume to accept the peering",
      });
      return;
    }
    case "access-role": {
      const role = new AccessRole(stack, "AccessRole", {
        roleName: intent.roleName,
        principals: intent.principals,
        externalId: intent.externalId ?? undefined,
        ...(intent.organization ? { organization: intent.organization } : {}),
        clusterArn: intent.clusterArn,
        keepPolicies: intent.keepPolicies,
      });
      if (intent.adopt) stack.adopt(role.role.node.defaultChild as CfnResource, intent.adopt);
      new CfnOutput(stack, "AccessRoleArn", {
        value: role.roleArn,
        description: `The access role ${intent.roleName}`,
      });
      return;
    }
    case "access-entry": {
      const role = stack.node.tryFindChild("AccessRole") as Construct | undefined;
      const entry = new ClusterAccessEntry(stack, "AccessEntry", {
        clusterName: intent.clusterName,
        principalArn: intent.principalArn,
        accessPolicies: intent.policies.map((p) => ({ policyArn: p.arn, scope: p.scope })),
        kubernetesGroups: intent.kubernetesGroups,
        username: intent.username ?? undefined,
        dependsOn: role,
      });
      if (intent.adopt) stack.adopt(entry.entry, intent.adopt);
      return;
    }
    case "peering-connection": {
      const peering = new PeeringConnection(stack, "PeeringConnection", {
        vpcId: intent.vpcId,
        peerVpcId: intent.peerVpcId,
        peerOwnerId: intent.peerOwnerId,
        peerRegion: intent.peerRegion,
        peerRoleArn: intent.peerRoleArn,
        name: `xeks-${cluster}-${intent.client}`,
      });
      if (intent.adopt) stack.adopt(peering.connection, intent.adopt);
      new CfnOutput(stack, "PeeringConnectionId", {
        value: peering.peeringConnectionId,
        description: `VPC peering connection between client ${intent.client} and the cluster`,
      });
      return;
    }
    case "routes": {
      const p = intent.peering;
      const peering =
        "resource" in p
          ? (stack.node.findChild("PeeringConnection") as PeeringConnection).peeringConnectionId
          : "id" in p
            ? p.id
            : (params.get(p.parameter) as string);
      const routes = new PeerRoutes(stack, intent.side === "client" ? "RouteToCluster" : "RouteToClient", {
        routeTableIds: intent.routeTableIds,
        destinationCidr: intent.destinationCidr,
        vpcPeeringConnectionId: peering,
      });
      intent.routeTableIds.forEach((table, i) => {
        const a = intent.adopt[table];
        const route = routes.routes[i];
        if (a && route) stack.adopt(route, a);
      });
      return;
    }
    case "cluster-ingress": {
      const ingress = new ClusterIngress(stack, "ClusterIngress", {
        securityGroupId: intent.securityGroupId,
        cidr: intent.cidr,
        port: intent.port,
        description: `xeks: Kubernetes API from client ${intent.client} (${intent.cidr})`,
      });
      if (intent.adopt) stack.adopt(ingress.ingress, intent.adopt);
      return;
    }
    case "client-instance": {
      const instance = new ClientInstance(stack, "ClientInstance", {
        vpcId: intent.vpcId,
        subnetId: intent.subnetId,
        instanceType: intent.instanceType,
        architecture: intent.architecture,
        instanceProfileName: intent.instanceProfileName,
        name: `xeks-${cluster}-${intent.client}`,
        userData: clientUserData({
          clusterName: intent.clusterName,
          region: intent.region,
          endpoint: intent.endpoint,
          certificateAuthority: intent.certificateAuthority,
          contexts: intent.contexts,
          architecture: intent.architecture,
          kubectlVersion: props.kubectlVersion,
        }),
      });
      new CfnOutput(stack, "InstanceId", {
        value: instance.instance.ref,
        description: `Client instance of ${intent.client} (aws ssm start-session --target)`,
      });
      new CfnOutput(stack, "InstanceSecurityGroupId", {
        value: instance.securityGroup.attrGroupId,
        description: `Security group of the client instance of ${intent.client}`,
      });
      return;
    }
  }
}

/** Add every stack of the topology to `scope` (an App or a Stage), in deployment order. */
export function addXeksStacks(scope: Construct, props: XeksStackProps): XeksStack[] {
  const layout = props.layout ?? planLayout(props.topology);
  const all = { ...props, layout };
  const stacks = new Map<string, XeksStack>();
  for (const s of layout.stacks) {
    const stack = new XeksStack(scope, s, all);
    for (const dep of s.dependsOn) {
      const before = stacks.get(dep);
      if (before) stack.addStackDependency(before, "xeks phase order");
    }
    stacks.set(s.name, stack);
  }
  // The member templates of the StackSets (docs/organizations.md): deployed through the StackSets API, not as stacks.
  for (const set of layout.stackSets ?? []) {
    stacks.set(set.name, new XeksStack(scope, memberStackLayout(set), all));
  }
  return [...stacks.values()];
}
