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
import { CloudFormationClient, GetTemplateCommand } from "@aws-sdk/client-cloudformation";
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { parse as parseYaml } from "yaml";
import type { XeksManifestImport } from "../domain/adoption.js";
import { type ImportResourcesInput, type ImportResult, importResources } from "./cloudformation-import.js";
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
}

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
          let status: string | undefined;
          const gone = await absent(async () => {
            const r = await client.send(
              new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id.Id as string] }),
            );
            status = r.VpcPeeringConnections?.find((p) => p.VpcPeeringConnectionId === id.Id)?.Status?.Code;
          }, `peering connection ${id.Id} does not exist`);
          if (gone) return gone;
          if (status === undefined) return `peering connection ${id.Id} does not exist`;
          return status === "active" ? undefined : `peering connection ${id.Id} is ${status}, not active`;
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
          let found = false;
          const gone = await absent(async () => {
            const r = await client.send(
              new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id.Id as string] }),
            );
            found = (r.SecurityGroupRules ?? []).some((x) => x.SecurityGroupRuleId === id.Id);
          }, `security group rule ${id.Id} does not exist`);
          return gone ?? (found ? undefined : `security group rule ${id.Id} does not exist`);
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
  };
}
