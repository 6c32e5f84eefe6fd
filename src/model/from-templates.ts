/**
 * The plan source of the model: facts declared in the topology (what already exists) plus what the
 * synthesized CloudFormation templates will create. The templates, not the topology, say what will be
 * created, so a bug in src/infra shows up as a failed link.
 */

import { entryMatchesRole } from "../domain/access-entry.js";
import { ADOPTED_METADATA_KEY } from "../domain/adoption.js";
import { roleArn } from "../domain/arn.js";
import { SSO_ROLE_PATH } from "../domain/principal.js";
import { trustPolicy } from "../domain/trust.js";
import type { Topology } from "../topology/types.js";
import {
  type AccessEntryFact,
  emptyModel,
  type Model,
  type PolicyDocument,
  type PolicyFact,
  type RoleFact,
  type RouteTableFact,
} from "./types.js";

/** One synthesized stack, with where its parameters' values come from. */
export interface PlannedStack {
  stackName: string;
  account: string;
  region: string;
  template: CfnTemplate;
  /** Parameter name -> the stack and output that feed it at deploy time. */
  parameterSources: Record<string, { stack: string; output: string }>;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Resources?: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, { Value: unknown }>;
}

/**
 * The import identifier of a resource xeks adopts (`Metadata["xeks:adopted"].identifier`, written by the stacks:
 * docs/adopt.md), or undefined for a resource the template creates.
 */
function adoptedIdentifier(res: { Metadata?: Record<string, unknown> }): Record<string, string> | undefined {
  const adopted = res.Metadata?.[ADOPTED_METADATA_KEY] as { identifier?: Record<string, string> } | undefined;
  return adopted?.identifier;
}

/** A value the resolver could not turn into text (an SSM parameter, an unknown attribute). */
const UNRESOLVED = "<unresolved>";

class Resolver {
  private readonly byName = new Map<string, PlannedStack>();
  constructor(
    stacks: PlannedStack[],
    private readonly partition: string,
  ) {
    for (const s of stacks) this.byName.set(s.stackName, s);
  }

  /** Resolve an intrinsic-laden value in a stack's context to plain JSON. */
  value(stack: PlannedStack, v: unknown, depth = 0): unknown {
    if (depth > 20) return UNRESOLVED;
    if (Array.isArray(v)) return v.map((x) => this.value(stack, x, depth + 1));
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const k = keys[0] as string;
      const arg = o[k];
      switch (k) {
        case "Ref":
          return this.ref(stack, String(arg), depth);
        case "Fn::GetAtt": {
          const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(".");
          return this.getAtt(stack, id ?? "", attr ?? "", depth);
        }
        case "Fn::Join": {
          const [sep, parts] = arg as [string, unknown[]];
          const resolved = (this.value(stack, parts, depth + 1) as unknown[]).map(String);
          return resolved.join(sep);
        }
        case "Fn::Sub": {
          const [text, vars] = Array.isArray(arg)
            ? (arg as [string, Record<string, unknown>])
            : [String(arg), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
            name in vars
              ? String(this.value(stack, vars[name], depth + 1))
              : String(this.ref(stack, name, depth)),
          );
        }
        case "Fn::Select": {
          const [i, list] = arg as [number, unknown];
          const l = this.value(stack, list, depth + 1);
          return Array.isArray(l) ? l[Number(i)] : UNRESOLVED;
        }
        case "Fn::Split": {
          const [sep, text] = arg as [string, unknown];
          return String(this.value(stack, text, depth + 1)).split(sep);
        }
        case "Fn::If":
        case "Fn::ImportValue":
        case "Fn::GetAZs":
          return UNRESOLVED;
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = this.value(stack, x, depth + 1);
    return out;
  }

  private ref(stack: PlannedStack, name: string, depth: number): unknown {
    switch (name) {
      case "AWS::Partition":
        return this.partition;
      case "AWS::AccountId":
        return stack.account;
      case "AWS::Region":
        return stack.region;
      case "AWS::URLSuffix":
        return this.partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
      case "AWS::StackName":
        return stack.stackName;
      case "AWS::NoValue":
        return undefined;
    }
    if (stack.template.Parameters?.[name]) {
      const src = stack.parameterSources[name];
      if (src) {
        const from = this.byName.get(src.stack);
        const output = from?.template.Outputs?.[src.output];
        if (from && output) return this.value(from, output.Value, depth + 1);
        return UNRESOLVED;
      }
      const def = stack.template.Parameters[name]?.Default;
      return def === undefined ? UNRESOLVED : def;
    }
    const res = stack.template.Resources?.[name];
    if (!res) return UNRESOLVED;
    const props = res.Properties ?? {};
    switch (res.Type) {
      case "AWS::IAM::Role":
      case "AWS::IAM::InstanceProfile":
        return this.value(
          stack,
          props.RoleName ?? props.InstanceProfileName ?? `${stack.stackName}-${name}`,
          depth + 1,
        );
      case "AWS::EC2::VPCPeeringConnection":
        return adoptedIdentifier(res)?.Id ?? plannedId(stack, name);
      default:
        return `${stack.stackName}/${name}`;
    }
  }

  private getAtt(stack: PlannedStack, id: string, attr: string, depth: number): unknown {
    const res = stack.template.Resources?.[id];
    if (!res) return UNRESOLVED;
    if (res.Type === "AWS::IAM::Role" && attr === "Arn") {
      const props = res.Properties ?? {};
      const name = this.ref(stack, id, depth);
      const path = (this.value(stack, props.Path ?? "/", depth + 1) as string) || "/";
      return roleArn(this.partition, stack.account, String(name), path);
    }
    if (res.Type === "AWS::EC2::VPCPeeringConnection" && attr === "Id") {
      return adoptedIdentifier(res)?.Id ?? plannedId(stack, id);
    }
    return `${stack.stackName}/${id}.${attr}`;
  }
}

/** The id the model gives a peering connection that a template will create. */
function plannedId(stack: PlannedStack, logicalId: string): string {
  return `planned:${stack.stackName}/${logicalId}`;
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function asDoc(v: unknown): PolicyDocument {
  return v as PolicyDocument;
}

const EC2_TRUST: PolicyDocument = trustPolicy({ service: "ec2.amazonaws.com" });

/**
 * The trust policy IAM Identity Center gives the roles of a permission set: the account's Identity Center SAML
 * provider (`saml-provider/AWSSSO_<id>_DO_NOT_DELETE`) may call sts:AssumeRoleWithSAML and sts:TagSession for
 * the AWS sign-in audience (as IAM shows it on an `AWSReservedSSO_*` role). A plan's example: the id is made up.
 */
function ssoRoleTrust(partition: string, account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: {
          Federated: `arn:${partition}:iam::${account}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
        },
        Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      },
    ],
  };
}

/** Declared facts: the cluster, VPCs and route tables as the topology describes them, SCPs, existing roles. */
function declared(topology: Topology): Model {
  const c = topology.cluster;
  const model = emptyModel("plan", {
    name: c.name,
    account: c.account,
    region: c.region,
    partition: c.partition,
    arn: c.arn,
    authenticationMode: c.authenticationMode,
    endpointAccess: c.endpointAccess,
    ...(c.publicAccessCidrs ? { publicAccessCidrs: [...c.publicAccessCidrs] } : {}),
    endpoint: c.endpoint,
    certificateAuthority: c.certificateAuthority,
    securityGroupId: c.securityGroupId,
    vpcId: c.vpc.id,
    source: "declared",
  });
  const addVpc = (vpc: Topology["cluster"]["vpc"], account: string, region: string) => {
    model.vpcs[vpc.id] = { id: vpc.id, account, region, cidrs: [vpc.cidr], source: "declared" };
    for (const id of vpc.routeTables) {
      const table: RouteTableFact = model.routeTables[id] ?? { id, vpcId: vpc.id, account, routes: [] };
      table.routes.push({ destination: vpc.cidr, target: "local", state: "active", source: "declared" });
      model.routeTables[id] = table;
    }
    for (const r of vpc.routes) {
      const table: RouteTableFact = model.routeTables[r.routeTable] ?? {
        id: r.routeTable,
        vpcId: vpc.id,
        account,
        routes: [],
      };
      table.routes.push({
        destination: r.destination,
        target: r.target,
        state: "active",
        source: "declared",
      });
      model.routeTables[r.routeTable] = table;
    }
  };
  addVpc(c.vpc, c.account, c.region);
  if (c.scps.length > 0) model.scps[c.account] = c.scps.map((p) => ({ ...p, source: "declared" }));
  if (c.rcps.length > 0) model.rcps[c.account] = c.rcps.map((p) => ({ ...p, source: "declared" }));
  for (const e of c.accessEntries) {
    model.accessEntries[e.principalArn] = {
      principalArn: e.principalArn,
      type: e.type,
      username: e.username,
      kubernetesGroups: e.kubernetesGroups,
      policies: e.policies.map((p) => ({ policyArn: p.arn, scope: p.scope })),
      source: "declared",
    };
  }
  for (const client of topology.clients) {
    if (client.vpc) addVpc(client.vpc, client.account, client.region);
    // A peering left as it is (`peering.adopt: false`) is a declared fact: active, joining the two VPCs.
    if (client.vpc && client.peering && !client.peering.adopt) {
      model.peerings.push({
        id: client.peering.id,
        requester: { vpcId: client.vpc.id, account: client.account, region: client.region },
        accepter: { vpcId: c.vpc.id, account: c.account, region: c.region },
        status: "active",
        source: "declared",
      });
    }
    if (client.organizationId) model.organizations[client.account] = client.organizationId;
    if (client.scps.length > 0) {
      model.scps[client.account] = client.scps.map((p) => ({ ...p, source: "declared" as const }));
    }
    if (client.identity.kind === "sso") {
      // The permission set's roles: at plan, the example role Identity Center would create, with the
      // permission set's declared policies (docs/clients.md). xeks writes nothing to it.
      const example = client.principal.example;
      model.principalRoles[client.name] = [example.arn];
      model.roles[example.arn] = {
        arn: example.arn,
        account: client.account,
        name: example.name,
        path: SSO_ROLE_PATH,
        trustPolicy: ssoRoleTrust(partitionOfArn(example.arn), client.account),
        policies: client.identity.policies.map((p) => ({ ...p, source: "declared" })),
        instanceProfiles: [],
        source: "declared",
      };
      continue;
    }
    const r = client.role;
    if (!r) continue;
    const boundary: PolicyFact | undefined = r.permissionsBoundary
      ? {
          name: r.permissionsBoundary.arn ?? "permissions boundary",
          document: r.permissionsBoundary.document,
          source: "declared",
        }
      : undefined;
    if (r.existing) {
      // The user asserts the role exists (kind instance: as an EC2 role with an instance profile; kind role: with
      // the trust it has, left as it is and not checked); its policies are declared.
      const instance = client.identity.kind === "instance";
      model.roles[r.arn] = {
        arn: r.arn,
        account: client.account,
        name: r.name,
        path: r.path,
        trustPolicy: r.trustPolicy ?? (instance ? EC2_TRUST : { Version: "2012-10-17", Statement: [] }),
        policies: r.policies.map((p) => ({ ...p, source: "declared" })),
        permissionsBoundary: boundary,
        instanceProfiles: instance ? [r.instanceProfile ?? r.name] : [],
        source: "declared",
      };
    }
  }
  return model;
}

/** The partition of an ARN (`arn:PARTITION:…`). */
function partitionOfArn(arn: string): string {
  return arn.split(":")[1] ?? "aws";
}

/** Build the plan model from the topology's declared facts and the synthesized stacks. */
export function modelFromTemplates(topology: Topology, stacks: PlannedStack[]): Model {
  const model = declared(topology);
  const resolver = new Resolver(stacks, topology.cluster.partition);
  const boundaries = new Map<string, PolicyDocument>();
  for (const client of topology.clients) {
    const b = client.role?.permissionsBoundary;
    if (b?.arn) boundaries.set(b.arn, b.document);
  }
  const roleByRef = new Map<string, RoleFact>();

  // Roles first, so policies and profiles can attach to them.
  for (const stack of stacks) {
    for (const [id, res] of Object.entries(stack.template.Resources ?? {})) {
      if (res.Type !== "AWS::IAM::Role") continue;
      const p = resolver.value(stack, res.Properties ?? {}) as Record<string, unknown>;
      const arn = String(resolver.value(stack, { "Fn::GetAtt": [id, "Arn"] }));
      const boundaryArn = p.PermissionsBoundary as string | undefined;
      const role: RoleFact = {
        arn,
        account: stack.account,
        name: String(p.RoleName ?? id),
        path: String(p.Path ?? "/"),
        trustPolicy: asDoc(p.AssumeRolePolicyDocument),
        policies: asList(p.Policies).map((x) => {
          const pol = x as { PolicyName: string; PolicyDocument: unknown };
          return {
            name: `inline ${pol.PolicyName}`,
            document: asDoc(pol.PolicyDocument),
            source: "template",
          };
        }),
        permissionsBoundary:
          boundaryArn && boundaries.has(boundaryArn)
            ? {
                name: boundaryArn,
                document: boundaries.get(boundaryArn) as PolicyDocument,
                source: "declared",
              }
            : undefined,
        instanceProfiles: [],
        source: "template",
      };
      model.roles[arn] = role;
      roleByRef.set(`${stack.stackName}/${id}`, role);
      roleByRef.set(`${stack.account}/name/${role.name}`, role);
    }
  }
  const roleFor = (stack: PlannedStack, raw: unknown, resolved: unknown): RoleFact | undefined => {
    const ref = (raw as { Ref?: string } | undefined)?.Ref;
    if (ref && roleByRef.has(`${stack.stackName}/${ref}`)) return roleByRef.get(`${stack.stackName}/${ref}`);
    const name = String(resolved);
    return (
      roleByRef.get(`${stack.account}/name/${name}`) ??
      Object.values(model.roles).find((r) => r.account === stack.account && r.name === name)
    );
  };

  for (const stack of stacks) {
    for (const [id, res] of Object.entries(stack.template.Resources ?? {})) {
      const raw = res.Properties ?? {};
      const p = resolver.value(stack, raw) as Record<string, unknown>;
      switch (res.Type) {
        case "AWS::IAM::Policy":
        case "AWS::IAM::RolePolicy": {
          const rawRoles = res.Type === "AWS::IAM::Policy" ? asList(raw.Roles) : [raw.RoleName];
          const names = res.Type === "AWS::IAM::Policy" ? asList(p.Roles) : [p.RoleName];
          rawRoles.forEach((r, i) => {
            const role = roleFor(stack, r, names[i]);
            // An adopted inline policy is the declared one, now the template's: keep one of them.
            if (role && adoptedIdentifier(res)) {
              role.policies = role.policies.filter(
                (x) => !(x.source === "declared" && x.name === String(p.PolicyName)),
              );
            }
            role?.policies.push({
              name: `inline ${String(p.PolicyName)}`,
              document: asDoc(p.PolicyDocument),
              source: "template",
            });
          });
          break;
        }
        case "AWS::IAM::ManagedPolicy": {
          const rawRoles = asList(raw.Roles);
          const names = asList(p.Roles);
          rawRoles.forEach((r, i) => {
            roleFor(stack, r, names[i])?.policies.push({
              name: `managed ${String(p.ManagedPolicyName ?? id)}`,
              document: asDoc(p.PolicyDocument),
              source: "template",
            });
          });
          break;
        }
        case "AWS::IAM::InstanceProfile": {
          const rawRoles = asList(raw.Roles);
          const names = asList(p.Roles);
          rawRoles.forEach((r, i) => {
            roleFor(stack, r, names[i])?.instanceProfiles.push(
              String(p.InstanceProfileName ?? `${stack.stackName}-${id}`),
            );
          });
          break;
        }
        case "AWS::EC2::VPCPeeringConnection": {
          // An adopted connection exists and was accepted already (docs/adopt.md).
          const adopted = adoptedIdentifier(res)?.Id;
          model.peerings.push({
            id: adopted ?? plannedId(stack, id),
            requester: { vpcId: String(p.VpcId), account: stack.account, region: stack.region },
            accepter: {
              vpcId: String(p.PeerVpcId),
              account: String(p.PeerOwnerId ?? stack.account),
              region: String(p.PeerRegion ?? stack.region),
            },
            status: adopted ? "active" : "planned",
            peerRoleArn: p.PeerRoleArn === undefined ? undefined : String(p.PeerRoleArn),
            source: "template",
          });
          break;
        }
        case "AWS::EC2::Route": {
          const tableId = String(p.RouteTableId);
          const table: RouteTableFact = model.routeTables[tableId] ?? {
            id: tableId,
            vpcId: UNRESOLVED,
            account: stack.account,
            routes: [],
          };
          const target =
            p.VpcPeeringConnectionId ??
            p.TransitGatewayId ??
            p.GatewayId ??
            p.NatGatewayId ??
            p.NetworkInterfaceId ??
            UNRESOLVED;
          // An adopted route is the declared one (same table, destination and target), now the template's.
          if (adoptedIdentifier(res)) {
            table.routes = table.routes.filter(
              (r) =>
                !(
                  r.source === "declared" &&
                  r.destination === String(p.DestinationCidrBlock) &&
                  r.target === String(target)
                ),
            );
          }
          table.routes.push({
            destination: String(p.DestinationCidrBlock),
            target: String(target),
            state: "active",
            source: "template",
          });
          model.routeTables[tableId] = table;
          break;
        }
        case "AWS::EC2::SecurityGroupIngress":
          model.securityGroupRules.push({
            groupId: String(p.GroupId),
            protocol: String(p.IpProtocol),
            fromPort: Number(p.FromPort ?? -1),
            toPort: Number(p.ToPort ?? -1),
            cidr: p.CidrIp === undefined ? undefined : String(p.CidrIp),
            sourceGroupId:
              p.SourceSecurityGroupId === undefined ? undefined : String(p.SourceSecurityGroupId),
            source: "template",
          });
          break;
        case "AWS::EKS::AccessEntry": {
          const entry: AccessEntryFact = {
            principalArn: String(p.PrincipalArn),
            type: String(p.Type ?? "STANDARD"),
            username: p.Username === undefined ? undefined : String(p.Username),
            kubernetesGroups: asList(p.KubernetesGroups).map(String),
            policies: asList(p.AccessPolicies).map((x) => {
              const a = x as { PolicyArn: string; AccessScope: { Type: string; Namespaces?: string[] } };
              return {
                policyArn: String(a.PolicyArn),
                scope:
                  a.AccessScope?.Type === "namespace"
                    ? { type: "namespace" as const, namespaces: asList(a.AccessScope.Namespaces).map(String) }
                    : { type: "cluster" as const },
              };
            }),
            source: "template",
          };
          if (String(p.ClusterName) !== topology.cluster.name) break;
          // EKS keeps one entry per principal, whatever the ARN's path or case.
          const existing = Object.values(model.accessEntries).find(
            (e) => e.source === "declared" && entryMatchesRole(e.principalArn, entry.principalArn),
          );
          if (existing && !adoptedIdentifier(res)) {
            entry.conflict = `an access entry for ${entry.principalArn} exists already (cluster.accessEntries): creating it fails with ResourceInUseException`;
          }
          model.accessEntries[entry.principalArn] = entry;
          break;
        }
        case "AWS::EKS::PodIdentityAssociation":
          model.podIdentityAssociations.push({
            account: stack.account,
            region: stack.region,
            clusterName: String(p.ClusterName),
            namespace: String(p.Namespace),
            serviceAccount: String(p.ServiceAccount),
            roleArn: String(p.RoleArn),
            ...(p.TargetRoleArn === undefined ? {} : { targetRoleArn: String(p.TargetRoleArn) }),
            source: "template",
          });
          break;
        case "AWS::EC2::Instance":
          model.instances.push({
            id: `planned:${stack.stackName}/${id}`,
            account: stack.account,
            subnetId: p.SubnetId === undefined ? undefined : String(p.SubnetId),
            instanceProfile: p.IamInstanceProfile === undefined ? undefined : String(p.IamInstanceProfile),
            httpTokensRequired:
              (p.MetadataOptions as { HttpTokens?: string } | undefined)?.HttpTokens === "required",
            source: "template",
          });
          break;
      }
    }
  }
  // A StackSet client's role (`arn:…:iam::*:role/…`, from its member template) is also the representative
  // member's role, the caller the proof simulates (docs/organizations.md, "How the proof sees a StackSet").
  for (const client of topology.clients) {
    const member = client.fromOrganization ? client.principal.example.arn : undefined;
    const role = client.role ? model.roles[client.role.arn] : undefined;
    if (!member || !role || model.roles[member]) continue;
    model.roles[member] = { ...role, arn: member, account: member.split(":")[4] ?? role.account };
  }
  return model;
}
