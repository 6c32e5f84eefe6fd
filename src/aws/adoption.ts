/**
 * What deploy asks AWS about adopted pieces (docs/adopt.md): whether each still exists before any change, the
 * template a stack has now (to import into it), and the import itself (src/aws/cloudformation-import.ts).
 *
 * Sources: IAM GetRole and GetRolePolicy (NoSuchEntity when absent); EC2 DescribeVpcPeeringConnections
 * (Status.Code), DescribeRouteTables (Routes[].DestinationCidrBlock, VpcPeeringConnectionId),
 * DescribeSecurityGroupRules (SecurityGroupRuleIds; InvalidSecurityGroupRuleId.NotFound when absent); EKS
 * DescribeAccessEntry (ResourceNotFoundException); CloudFormation GetTemplate (TemplateStage Original). Clients as
 * every deploy client: SDK_MAX_ATTEMPTS attempts, each bounded and watched, a silent logger.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
} from "@aws-sdk/client-cloudformation";
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
  type SecurityGroupRule,
  type VpcPeeringConnection,
} from "@aws-sdk/client-ec2";
import { DescribeAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { parse as parseYaml } from "yaml";
import type { XeksManifestImport } from "../domain/adoption.js";
import { OperationError } from "../errors.js";
import {
  awaitChangeSet,
  type ImportResourcesInput,
  type ImportResult,
  importResources,
} from "./cloudformation-import.js";
import { SDK_MAX_ATTEMPTS, silentLogger } from "./sdk.js";
import { watchedRequestHandler } from "./watchdog.js";

/** The calls deploy makes about adopted pieces, with one set of credentials in one region. */
export interface AdoptionApi {
  /**
   * Why the piece cannot be adopted (it no longer exists, or not as declared), or undefined when it is there.
   * Errors other than "not found" (denied, no answer) are thrown as the SDK raised them.
   */
  missing(piece: XeksManifestImport): Promise<string | undefined>;
  /** The stack's template as deployed (GetTemplate, Original), or undefined when there is no such stack. */
  deployedTemplate(stackName: string): Promise<Record<string, unknown> | undefined>;
  /** Import resources into the stack and wait (src/aws/cloudformation-import.ts `importResources`). */
  importResources(input: Omit<ImportResourcesInput, "region" | "credentials">): Promise<ImportResult>;
  /**
   * Let CloudFormation delete adopted resources with their stack (`destroy --including-adopted`): an update (a
   * change set) of the deployed template that only sets `DeletionPolicy` and `UpdateReplacePolicy` to Delete on
   * `logicalIds` (the
   * update the AWS knowledge center describes for the other direction, "How do I delete an AWS CloudFormation
   * stack but retain some provisioned resources?"), parameters kept, then a wait until UPDATE_COMPLETE (polled
   * every 2 s, at most 10 minutes for the change set and 10 for the update; a refused change set, a rollback or a
   * status that is not an update's is an Error naming it).
   */
  releaseAdopted(stackName: string, logicalIds: string[]): Promise<void>;
}

/** Between two polls, and the longest wait, of `releaseAdopted`. */
export const RELEASE_WAIT = { pollMs: 2_000, changeSetMs: 10 * 60_000, stackMs: 10 * 60_000 } as const;

function errorName(err: unknown): string {
  return (err as { name?: string; Code?: string })?.name ?? "";
}

const NOT_FOUND = /NoSuchEntity|NotFound|ResourceNotFound/;

/** The SDK implementation of {@link AdoptionApi} (endpoints from the standard environment). */
export function adoptionApi(credentials: AwsCredentialIdentityProvider, region: string): AdoptionApi {
  const config = {
    region,
    credentials,
    logger: silentLogger,
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: watchedRequestHandler(),
  };
  let iam: IAMClient | undefined;
  let ec2: EC2Client | undefined;
  let eks: EKSClient | undefined;
  let cfn: CloudFormationClient | undefined;
  const absent = async (call: () => Promise<unknown>, why: string): Promise<string | undefined> => {
    try {
      await call();
      return undefined;
    } catch (err) {
      if (NOT_FOUND.test(errorName(err))) return why;
      throw err;
    }
  };
  return {
    async missing(piece) {
      const id = piece.identifier;
      switch (piece.resourceType) {
        case "AWS::IAM::Role":
          iam ??= new IAMClient(config);
          return absent(
            () => (iam as IAMClient).send(new GetRoleCommand({ RoleName: id.RoleName })),
            `role ${id.RoleName} does not exist`,
          );
        case "AWS::IAM::RolePolicy":
          iam ??= new IAMClient(config);
          return absent(
            () =>
              (iam as IAMClient).send(
                new GetRolePolicyCommand({ RoleName: id.RoleName, PolicyName: id.PolicyName }),
              ),
            `role ${id.RoleName} has no inline policy ${id.PolicyName}`,
          );
        case "AWS::EKS::AccessEntry":
          eks ??= new EKSClient(config);
          return absent(
            () =>
              (eks as EKSClient).send(
                new DescribeAccessEntryCommand({
                  clusterName: id.ClusterName,
                  principalArn: id.PrincipalArn,
                }),
              ),
            `cluster ${id.ClusterName} has no access entry for ${id.PrincipalArn}`,
          );
        case "AWS::EC2::VPCPeeringConnection": {
          ec2 ??= new EC2Client(config);
          const client = ec2;
          let pcx: VpcPeeringConnection | undefined;
          const gone = await absent(async () => {
            const r = await client.send(
              new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id.Id as string] }),
            );
            pcx = r.VpcPeeringConnections?.find((p) => p.VpcPeeringConnectionId === id.Id);
          }, `peering connection ${id.Id} does not exist`);
          if (gone) return gone;
          if (!pcx) return `peering connection ${id.Id} does not exist`;
          const status = pcx.Status?.Code;
          if (status !== "active") return `peering connection ${id.Id} is ${status}, not active`;
          // The connection declared: between these VPCs, requested from the client's (what the stack describes).
          const p = piece.properties;
          const requester = pcx.RequesterVpcInfo?.VpcId;
          const accepter = pcx.AccepterVpcInfo?.VpcId;
          if (requester !== p.VpcId || accepter !== p.PeerVpcId) {
            return `peering connection ${id.Id} joins ${requester} (requester) and ${accepter} (accepter), not ${String(p.VpcId)} and ${String(p.PeerVpcId)}`;
          }
          return undefined;
        }
        case "AWS::EC2::Route": {
          ec2 ??= new EC2Client(config);
          const client = ec2;
          let routes: { DestinationCidrBlock?: string; VpcPeeringConnectionId?: string }[] = [];
          const gone = await absent(async () => {
            const r = await client.send(
              new DescribeRouteTablesCommand({ RouteTableIds: [id.RouteTableId as string] }),
            );
            routes = r.RouteTables?.[0]?.Routes ?? [];
          }, `route table ${id.RouteTableId} does not exist`);
          if (gone) return gone;
          const route = routes.find((r) => r.DestinationCidrBlock === id.CidrBlock);
          const target = piece.properties.VpcPeeringConnectionId;
          if (!route) return `route table ${id.RouteTableId} has no route to ${id.CidrBlock}`;
          if (typeof target === "string" && route.VpcPeeringConnectionId !== target) {
            return `the route to ${id.CidrBlock} in ${id.RouteTableId} no longer goes through ${target}`;
          }
          return undefined;
        }
        case "AWS::EC2::SecurityGroupIngress": {
          ec2 ??= new EC2Client(config);
          const client = ec2;
          let rule: SecurityGroupRule | undefined;
          const gone = await absent(async () => {
            const r = await client.send(
              new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id.Id as string] }),
            );
            rule = (r.SecurityGroupRules ?? []).find((x) => x.SecurityGroupRuleId === id.Id);
          }, `security group rule ${id.Id} does not exist`);
          if (gone) return gone;
          if (!rule) return `security group rule ${id.Id} does not exist`;
          // The rule declared: inbound, on the cluster group, the same protocol, ports and source.
          const p = piece.properties;
          const found = `${rule.IsEgress ? "outbound" : "inbound"} ${rule.IpProtocol} ${rule.FromPort}-${rule.ToPort} from ${rule.CidrIpv4 ?? rule.ReferencedGroupInfo?.GroupId ?? "?"} on ${rule.GroupId}`;
          const wanted = `inbound ${String(p.IpProtocol)} ${String(p.FromPort)}-${String(p.ToPort)} from ${String(p.CidrIp)} on ${String(p.GroupId)}`;
          return found === wanted ? undefined : `security group rule ${id.Id} is ${found}, not ${wanted}`;
        }
        default:
          return undefined;
      }
    },
    async deployedTemplate(stackName) {
      cfn ??= new CloudFormationClient(config);
      try {
        const r = await cfn.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: "Original" }));
        const body = r.TemplateBody ?? "{}";
        try {
          return JSON.parse(body) as Record<string, unknown>;
        } catch {
          return parseYaml(body) as Record<string, unknown>;
        }
      } catch (err) {
        if (errorName(err) === "ValidationError" && /does not exist/.test((err as Error).message ?? "")) {
          return undefined;
        }
        throw err;
      }
    },
    async importResources(input) {
      return importResources({ ...input, region, credentials });
    },
    async releaseAdopted(stackName, logicalIds) {
      const template = await this.deployedTemplate(stackName);
      if (!template) return;
      const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
      for (const id of logicalIds) {
        const r = resources[id];
        if (!r) continue;
        r.DeletionPolicy = "Delete";
        r.UpdateReplacePolicy = "Delete";
      }
      cfn ??= new CloudFormationClient(config);
      const client = cfn;
      const name = `xeks-release-${Date.now()}`;
      await client.send(
        new CreateChangeSetCommand({
          StackName: stackName,
          ChangeSetName: name,
          ChangeSetType: "UPDATE",
          TemplateBody: JSON.stringify(template),
          Parameters: Object.keys((template.Parameters ?? {}) as object).map((k) => ({
            ParameterKey: k,
            UsePreviousValue: true,
          })),
          Capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
          Description: "xeks destroy --including-adopted: let the stack delete its adopted resources",
        }),
      );
      const ready = await awaitChangeSet(client, stackName, name, RELEASE_WAIT, "release");
      // Nothing to change: the policies were Delete already.
      if (ready.failed && /didn't contain changes|No updates/i.test(ready.failed.reason)) return;
      if (ready.failed) {
        throw new OperationError(
          `stack ${stackName}: CloudFormation refused the change set that lets it delete its adopted resources (${ready.failed.status}): ${ready.failed.reason}`,
          "nothing was deleted; run destroy again without --including-adopted to keep them, or look at the stack in the CloudFormation console",
        );
      }
      await client.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: name }));
      const deadline = Date.now() + RELEASE_WAIT.stackMs;
      for (;;) {
        const r = await client.send(new DescribeStacksCommand({ StackName: stackName }));
        const status = r.Stacks?.[0]?.StackStatus ?? "";
        if (status === "UPDATE_COMPLETE") return;
        if (!status.endsWith("_IN_PROGRESS")) {
          throw new Error(`stack ${stackName} ended ${status} while releasing its adopted resources`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `stack ${stackName} was still ${status} after ${RELEASE_WAIT.stackMs / 60_000} minutes`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT.pollMs));
      }
    },
  };
}
