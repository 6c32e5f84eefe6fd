/**
 * CloudFormation resource import (issue 12, adoption) end to end at moto: src/aws/cloudformation-import.ts
 * (`importTemplate`, `importResources`) against a private moto_server with src/sandbox/moto-patches (patches
 * 6-9: IMPORT change sets, role updates in place, AWS::IAM::RolePolicy, DeletionPolicy Retain; docs/deploy.md).
 * The pieces are built by hand with SDK calls in the lab's two accounts (test/helpers/hand-built.ts), as the
 * original system was: an access role whose trust names the client account's root, the client role's inline
 * AssumeRole policy (here on any role), the access entry, a cross-account peering connection, a route on each
 * side, the 443 rule. Then they are imported, updated (the trust and the inline policy tightened), and their
 * stacks deleted: nothing is created, replaced or deleted on the way. The tests share one
 * emulator and run in order. The last test shows the gaps on moto as shipped.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import {
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from "@aws-sdk/client-cloudformation";
import {
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeVpcPeeringConnectionsCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import {
  IMPORT_IDENTIFIER_KEYS,
  importResources,
  importTemplate,
  resourcesToImport,
  type XeksManifestImport,
} from "../src/aws/cloudformation-import.js";
import { OperationError } from "../src/errors.js";
import { ACCESS_ROLE_ARN, ASSUME_POLICY, buildByHand, type HandBuilt } from "./helpers/hand-built.js";
import {
  ACCESS_ROLE,
  CLIENT_ACCOUNT,
  CLIENT_CIDR,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_CIDR,
  CLUSTER_NAME,
  type Lab,
  READ_ONLY,
  REGION,
  startLab,
} from "./helpers/moto-deploy.js";

const CLUSTER_STACK = "xeks-import-test-cluster";
const CLIENT_STACK = "xeks-import-test-client";

const policy = (statement: object) => ({ Version: "2012-10-17", Statement: [statement] });
const rootTrust = policy({
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${CLIENT_ACCOUNT}:root` },
  Action: "sts:AssumeRole",
});
const exactTrust = policy({
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${CLIENT_ACCOUNT}:role/${CLIENT_ROLE}` },
  Action: "sts:AssumeRole",
});
const ec2Trust = policy({
  Effect: "Allow",
  Principal: { Service: "ec2.amazonaws.com" },
  Action: "sts:AssumeRole",
});
const assumeAny = policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" });

function imp(
  logicalId: string,
  resourceType: string,
  identifier: Record<string, string>,
  properties: Record<string, unknown>,
): XeksManifestImport {
  return { logicalId, resourceType, identifier, piece: logicalId, properties, differences: [] };
}

describe("importTemplate", () => {
  const role = imp(
    "AccessRole",
    "AWS::IAM::Role",
    { RoleName: "R" },
    { RoleName: "R", AssumeRolePolicyDocument: {} },
  );

  test("a new stack: only the imported resources, Retain, with the adoption metadata, no Outputs", () => {
    const t = importTemplate(undefined, [role]);
    assert.deepEqual(t, {
      AWSTemplateFormatVersion: "2010-09-09",
      Resources: {
        AccessRole: {
          Type: "AWS::IAM::Role",
          Properties: { RoleName: "R", AssumeRolePolicyDocument: {} },
          DeletionPolicy: "Retain",
          UpdateReplacePolicy: "Retain",
          Metadata: { "xeks:adopted": { identifier: { RoleName: "R" } } },
        },
      },
    });
  });

  test("an existing stack: its template kept as it is, resources already in it not added again", () => {
    const deployed = {
      Parameters: { P: { Type: "String" } },
      Resources: { Other: { Type: "AWS::IAM::Role", Properties: { RoleName: { Ref: "P" } } } },
      Outputs: { O: { Value: { Ref: "Other" } } },
    };
    const copy = structuredClone(deployed);
    const other = imp("Other", "AWS::IAM::Role", { RoleName: "x" }, { RoleName: "x" });
    const t = importTemplate(deployed, [role, other]);
    assert.deepEqual(deployed, copy, "the input is not modified");
    assert.deepEqual(t.Parameters, deployed.Parameters);
    assert.deepEqual(t.Outputs, deployed.Outputs);
    const resources = t.Resources as Record<string, unknown>;
    assert.deepEqual(resources.Other, deployed.Resources.Other);
    assert.deepEqual(Object.keys(resources), ["Other", "AccessRole"]);
  });

  test("a logical id taken by another type is an OperationError", () => {
    const deployed = { Resources: { AccessRole: { Type: "AWS::EC2::Route", Properties: {} } } };
    assert.throws(
      () => importTemplate(deployed, [role]),
      (e: unknown) => e instanceof OperationError && /AccessRole of type AWS::EC2::Route/.test(e.message),
    );
  });
});

test("the identifier keys are each type's primaryIdentifier in cfn-lint's registry schemas", () => {
  const types = Object.keys(IMPORT_IDENTIFIER_KEYS);
  const out = execFileSync(
    "python3",
    [
      "-c",
      [
        "import json, sys",
        "from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as M",
        "print(json.dumps({t: M.get_resource_schema('us-east-1', t).schema['primaryIdentifier'] for t in sys.argv[1:]}))",
      ].join("\n"),
      ...types,
    ],
    { encoding: "utf8" },
  );
  const schemas = JSON.parse(out) as Record<string, string[]>;
  for (const t of types) {
    assert.deepEqual(
      IMPORT_IDENTIFIER_KEYS[t],
      schemas[t]?.map((p) => p.replace(/^\/properties\//, "")),
      t,
    );
  }
});

describe("resource import at the emulator", () => {
  let lab: Lab;
  let iamA: IAMClient;
  let iamB: IAMClient;
  let credsA: AwsCredentialIdentityProvider;
  let credsB: AwsCredentialIdentityProvider;
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL, imds: process.env.AWS_EC2_METADATA_DISABLED };
  let built: HandBuilt;
  let clusterImports: XeksManifestImport[];
  let clientImports: XeksManifestImport[];

  const writes = () => lab.requests().filter((r) => !READ_ONLY.test(r.action ?? ""));

  before(async () => {
    lab = await startLab();
    // importResources builds its own client: its endpoint comes from the environment, as in xeks.
    process.env.AWS_ENDPOINT_URL = lab.moto.url;
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    const cfnA = await lab.cfn(CLUSTER_ACCOUNT);
    const cfnB = await lab.cfn(CLIENT_ACCOUNT);
    credsA = cfnA.config.credentials;
    credsB = cfnB.config.credentials;
    iamA = await lab.iam(CLUSTER_ACCOUNT);
    iamB = await lab.iam(CLIENT_ACCOUNT);
    // The system as built by hand, with a loose inline policy (any role) for the update to tighten.
    built = await buildByHand(lab, { unrelated: false, assumeResource: "*" });
    assert.match(built.sgr, /^sgr-/);
    assert.ok(built.accessRoleId && built.clientRoleId, "both roles built");

    clusterImports = [
      imp(
        "AccessRole",
        "AWS::IAM::Role",
        { RoleName: ACCESS_ROLE },
        { RoleName: ACCESS_ROLE, AssumeRolePolicyDocument: rootTrust },
      ),
      imp(
        "AccessEntry",
        "AWS::EKS::AccessEntry",
        { PrincipalArn: ACCESS_ROLE_ARN, ClusterName: CLUSTER_NAME },
        { ClusterName: CLUSTER_NAME, PrincipalArn: ACCESS_ROLE_ARN, Type: "STANDARD" },
      ),
      imp(
        "ClusterRoute",
        "AWS::EC2::Route",
        { RouteTableId: lab.cluster.routeTableId, CidrBlock: CLIENT_CIDR },
        {
          RouteTableId: lab.cluster.routeTableId,
          DestinationCidrBlock: CLIENT_CIDR,
          VpcPeeringConnectionId: built.pcx,
        },
      ),
      imp(
        "Ingress443",
        "AWS::EC2::SecurityGroupIngress",
        { Id: built.sgr },
        {
          GroupId: lab.cluster.securityGroupId,
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          CidrIp: CLIENT_CIDR,
        },
      ),
    ];
    clientImports = [
      imp(
        "AssumePolicy",
        "AWS::IAM::RolePolicy",
        { PolicyName: ASSUME_POLICY, RoleName: CLIENT_ROLE },
        { PolicyName: ASSUME_POLICY, RoleName: CLIENT_ROLE, PolicyDocument: assumeAny },
      ),
      imp(
        "Peering",
        "AWS::EC2::VPCPeeringConnection",
        { Id: built.pcx },
        {
          VpcId: lab.client.vpcId,
          PeerVpcId: lab.cluster.vpcId,
          PeerOwnerId: CLUSTER_ACCOUNT,
          PeerRegion: REGION,
        },
      ),
      imp(
        "ClientRoute",
        "AWS::EC2::Route",
        { RouteTableId: lab.client.routeTableId, CidrBlock: CLUSTER_CIDR },
        {
          RouteTableId: lab.client.routeTableId,
          DestinationCidrBlock: CLUSTER_CIDR,
          VpcPeeringConnectionId: built.pcx,
        },
      ),
    ];
  });

  after(async () => {
    await lab?.stop();
    if (saved.endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = saved.endpoint;
    if (saved.imds === undefined) delete process.env.AWS_EC2_METADATA_DISABLED;
    else process.env.AWS_EC2_METADATA_DISABLED = saved.imds;
  });

  const roleOf = async (iam: IAMClient, name: string) =>
    (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  const trustOf = async (iam: IAMClient, name: string) =>
    JSON.parse(decodeURIComponent((await roleOf(iam, name))?.AssumeRolePolicyDocument ?? "{}")) as unknown;

  /** Everything built by hand is still there, unchanged in identity. */
  async function assertStillThere(): Promise<void> {
    assert.equal((await roleOf(iamA, ACCESS_ROLE))?.RoleId, built.accessRoleId);
    assert.equal((await roleOf(iamB, CLIENT_ROLE))?.RoleId, built.clientRoleId);
    const names = (await iamB.send(new ListRolePoliciesCommand({ RoleName: CLIENT_ROLE }))).PolicyNames;
    assert.deepEqual(names, [ASSUME_POLICY]);
    for (const [account, table, cidr] of [
      [CLUSTER_ACCOUNT, lab.cluster.routeTableId, CLIENT_CIDR],
      [CLIENT_ACCOUNT, lab.client.routeTableId, CLUSTER_CIDR],
    ] as const) {
      const ec2 = await lab.ec2(account);
      const pcx = (
        await ec2.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [built.pcx] }))
      ).VpcPeeringConnections?.[0];
      assert.equal(pcx?.Status?.Code, "active", `peering seen from ${account}`);
      const routes = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] })))
        .RouteTables?.[0]?.Routes;
      assert.ok(
        routes?.some((r) => r.DestinationCidrBlock === cidr && r.VpcPeeringConnectionId === built.pcx),
        `route ${table} ${cidr}`,
      );
    }
    const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
    const rules = (
      await ec2A.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [built.sgr] }))
    ).SecurityGroupRules;
    assert.equal(rules?.[0]?.SecurityGroupRuleId, built.sgr);
    assert.equal(rules?.[0]?.CidrIpv4, CLIENT_CIDR);
  }

  async function stackResourcesOf(account: string, stack: string): Promise<Record<string, [string, string]>> {
    const cfn = await lab.cfn(account);
    const r = await cfn.send(new ListStackResourcesCommand({ StackName: stack }));
    return Object.fromEntries(
      (r.StackResourceSummaries ?? []).map((s) => [
        s.LogicalResourceId,
        [s.ResourceType, s.PhysicalResourceId],
      ]),
    );
  }

  test("new stacks import the hand-built pieces: IMPORT_COMPLETE, nothing created or replaced", async () => {
    await lab.clearRecording();
    const importNew = (
      credentials: AwsCredentialIdentityProvider,
      stackName: string,
      imports: XeksManifestImport[],
    ) =>
      importResources({
        region: REGION,
        credentials,
        stackName,
        templateBody: JSON.stringify(importTemplate(undefined, imports)),
        resourcesToImport: resourcesToImport(imports),
        wait: { pollMs: 50 },
      });
    const a = await importNew(credsA, CLUSTER_STACK, clusterImports);
    const b = await importNew(credsB, CLIENT_STACK, clientImports);
    assert.equal(a.status, "IMPORT_COMPLETE");
    assert.equal(b.status, "IMPORT_COMPLETE");
    const physical = (r: typeof a) => Object.fromEntries(r.imported.map((i) => [i.logicalId, i.physicalId]));
    assert.deepEqual(physical(a), {
      AccessRole: ACCESS_ROLE,
      AccessEntry: `${CLUSTER_NAME}|arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ACCESS_ROLE}`,
      ClusterRoute: `${lab.cluster.routeTableId}~${CLIENT_CIDR}`,
      Ingress443: built.sgr,
    });
    assert.deepEqual(physical(b), {
      AssumePolicy: `${ASSUME_POLICY}|${CLIENT_ROLE}`,
      Peering: built.pcx,
      ClientRoute: `${lab.client.routeTableId}~${CLUSTER_CIDR}`,
    });

    // The writes that reached AWS: CloudFormation's change sets, nothing else.
    const w = writes().map((r) => `${r.service}:${r.action}`);
    assert.deepEqual([...new Set(w)].sort(), [
      "cloudformation:CreateChangeSet",
      "cloudformation:ExecuteChangeSet",
    ]);

    const cfnA = await lab.cfn(CLUSTER_ACCOUNT);
    const s = (await cfnA.send(new DescribeStacksCommand({ StackName: CLUSTER_STACK }))).Stacks?.[0];
    assert.equal(s?.StackStatus, "IMPORT_COMPLETE");
    assert.equal((await stackResourcesOf(CLIENT_ACCOUNT, CLIENT_STACK)).Peering?.[1], built.pcx);
    await assertStillThere();
  });

  test("an update tightens the adopted role's trust in place (same RoleId); Ref of the peering gives its id", async () => {
    assert.deepEqual(await trustOf(iamA, ACCESS_ROLE), rootTrust);
    const cfnA = await lab.cfn(CLUSTER_ACCOUNT);
    const cfnB = await lab.cfn(CLIENT_ACCOUNT);
    const update = async (
      cfn: typeof cfnA,
      stack: string,
      change: (
        t: { Resources: Record<string, { Properties: Record<string, unknown> }> } & Record<string, unknown>,
      ) => void,
    ) => {
      const body = (await cfn.send(new GetTemplateCommand({ StackName: stack }))).TemplateBody ?? "{}";
      const template = JSON.parse(body);
      change(template);
      const cs = await cfn.send(
        new CreateChangeSetCommand({
          StackName: stack,
          ChangeSetName: "tighten",
          ChangeSetType: "UPDATE",
          TemplateBody: JSON.stringify(template),
          Capabilities: ["CAPABILITY_NAMED_IAM"],
        }),
      );
      await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: cs.Id, StackName: stack }));
      return (await cfn.send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0];
    };
    await lab.clearRecording();
    const sa = await update(cfnA, CLUSTER_STACK, (t) => {
      t.Resources.AccessRole.Properties.AssumeRolePolicyDocument = exactTrust;
    });
    assert.equal(sa?.StackStatus, "UPDATE_COMPLETE");
    const tight = policy({ Effect: "Allow", Action: "sts:AssumeRole", Resource: ACCESS_ROLE_ARN });
    const sb = await update(cfnB, CLIENT_STACK, (t) => {
      t.Resources.AssumePolicy.Properties.PolicyDocument = tight;
      t.Outputs = { PeeringId: { Value: { Ref: "Peering" } } };
    });
    assert.equal(sb?.StackStatus, "UPDATE_COMPLETE");
    assert.deepEqual(
      sb?.Outputs?.map((o) => [o.OutputKey, o.OutputValue]),
      [["PeeringId", built.pcx]],
    );

    assert.deepEqual(await trustOf(iamA, ACCESS_ROLE), exactTrust);
    const doc = (
      await iamB.send(new GetRolePolicyCommand({ RoleName: CLIENT_ROLE, PolicyName: ASSUME_POLICY }))
    ).PolicyDocument;
    assert.deepEqual(JSON.parse(decodeURIComponent(doc ?? "{}")), tight);
    const w = writes().map((r) => `${r.service}:${r.action}`);
    assert.deepEqual([...new Set(w)].sort(), [
      "cloudformation:CreateChangeSet",
      "cloudformation:ExecuteChangeSet",
    ]);
    await assertStillThere();
  });

  test("importing a resource that does not exist fails, naming it, and imports nothing", async () => {
    const ghost = imp(
      "GhostRole",
      "AWS::IAM::Role",
      { RoleName: "Ghost-Role" },
      { RoleName: "Ghost-Role", AssumeRolePolicyDocument: rootTrust },
    );
    const cfnA = await lab.cfn(CLUSTER_ACCOUNT);
    const deployed = JSON.parse(
      (await cfnA.send(new GetTemplateCommand({ StackName: CLUSTER_STACK }))).TemplateBody ?? "{}",
    );
    await assert.rejects(
      importResources({
        region: REGION,
        credentials: credsA,
        stackName: CLUSTER_STACK,
        templateBody: JSON.stringify(importTemplate(deployed, [ghost])),
        resourcesToImport: resourcesToImport([ghost]),
        wait: { pollMs: 50 },
      }),
      (e: unknown) => {
        assert.ok(e instanceof OperationError, String(e));
        assert.match(
          e.message,
          new RegExp(`^stack ${CLUSTER_STACK}: the import ended IMPORT_ROLLBACK_COMPLETE`),
        );
        assert.match(e.message, /resource GhostRole \(AWS::IAM::Role, RoleName=Ghost-Role\): IMPORT_FAILED/);
        assert.match(e.message, /was not found/);
        return true;
      },
    );
    assert.deepEqual(Object.keys(await stackResourcesOf(CLUSTER_ACCOUNT, CLUSTER_STACK)).sort(), [
      "AccessEntry",
      "AccessRole",
      "ClusterRoute",
      "Ingress443",
    ]);
    await assertStillThere();
  });

  test("a resource to import without DeletionPolicy is refused at the change set, naming it", async () => {
    const t = importTemplate(undefined, clusterImports.slice(0, 1)) as { Resources: Record<string, object> };
    delete (t.Resources.AccessRole as { DeletionPolicy?: string }).DeletionPolicy;
    await assert.rejects(
      importResources({
        region: REGION,
        credentials: credsA,
        stackName: "xeks-import-test-refused",
        templateBody: JSON.stringify(t),
        resourcesToImport: resourcesToImport(clusterImports.slice(0, 1)),
        wait: { pollMs: 50 },
      }),
      (e: unknown) =>
        e instanceof OperationError &&
        /^stack xeks-import-test-refused: cloudformation:CreateChangeSet failed: ValidationError: .*\[AccessRole\].*DeletionPolicy/.test(
          e.message,
        ),
    );
  });

  test("an existing stack imports with its template, parameters and outputs as they were; Retain survives removal", async () => {
    const stack = "xeks-import-test-existing";
    const cfnA = await lab.cfn(CLUSTER_ACCOUNT);
    const made = {
      Parameters: { Suffix: { Type: "String" } },
      Resources: {
        Made: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: { "Fn::Join": ["-", ["xeks-import-test-made", { Ref: "Suffix" }]] },
            AssumeRolePolicyDocument: ec2Trust,
            Policies: [
              { PolicyName: "keep", PolicyDocument: assumeAny },
              { PolicyName: "drop", PolicyDocument: assumeAny },
            ],
          },
        },
      },
      Outputs: { MadeArn: { Value: { "Fn::GetAtt": ["Made", "Arn"] } } },
    };
    const run = async (type: "CREATE" | "UPDATE", template: object, name: string) => {
      const cs = await cfnA.send(
        new CreateChangeSetCommand({
          StackName: stack,
          ChangeSetName: name,
          ChangeSetType: type,
          TemplateBody: JSON.stringify(template),
          Parameters: [
            type === "CREATE"
              ? { ParameterKey: "Suffix", ParameterValue: "a" }
              : { ParameterKey: "Suffix", UsePreviousValue: true },
          ],
          Capabilities: ["CAPABILITY_NAMED_IAM"],
        }),
      );
      await cfnA.send(new ExecuteChangeSetCommand({ ChangeSetName: cs.Id, StackName: stack }));
      return (await cfnA.send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0];
    };
    assert.equal((await run("CREATE", made, "create"))?.StackStatus, "CREATE_COMPLETE");
    const madeArn = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/xeks-import-test-made-a`;

    const extraId = (
      await iamA.send(
        new CreateRoleCommand({
          RoleName: "xeks-import-test-extra",
          AssumeRolePolicyDocument: JSON.stringify(rootTrust),
        }),
      )
    ).Role?.RoleId;
    const extra = imp(
      "Extra",
      "AWS::IAM::Role",
      { RoleName: "xeks-import-test-extra" },
      { RoleName: "xeks-import-test-extra", AssumeRolePolicyDocument: rootTrust },
    );
    const deployed = JSON.parse(
      (await cfnA.send(new GetTemplateCommand({ StackName: stack }))).TemplateBody ?? "{}",
    ) as Record<string, unknown>;
    assert.deepEqual(deployed, made);
    const r = await importResources({
      region: REGION,
      credentials: credsA,
      stackName: stack,
      templateBody: JSON.stringify(importTemplate(deployed, [extra])),
      parameters: [{ ParameterKey: "Suffix", UsePreviousValue: true }],
      resourcesToImport: resourcesToImport([extra]),
      changeSetName: "adopt-extra",
      wait: { pollMs: 50 },
    });
    assert.deepEqual(r.imported, [
      { logicalId: "Extra", resourceType: "AWS::IAM::Role", physicalId: "xeks-import-test-extra" },
    ]);
    const s = (await cfnA.send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0];
    assert.equal(s?.StackStatus, "IMPORT_COMPLETE");
    assert.deepEqual(
      s?.Parameters?.map((p) => [p.ParameterKey, p.ParameterValue]),
      [["Suffix", "a"]],
    );
    assert.deepEqual(
      s?.Outputs?.map((o) => [o.OutputKey, o.OutputValue]),
      [["MadeArn", madeArn]],
    );
    assert.deepEqual(Object.keys(await stackResourcesOf(CLUSTER_ACCOUNT, stack)).sort(), ["Extra", "Made"]);

    // An update that drops one of Made's inline policies and removes Extra from the template (Retain).
    const next = structuredClone(made);
    next.Resources.Made.Properties.Policies = next.Resources.Made.Properties.Policies.slice(0, 1);
    assert.equal((await run("UPDATE", next, "update"))?.StackStatus, "UPDATE_COMPLETE");
    const policies = (await iamA.send(new ListRolePoliciesCommand({ RoleName: "xeks-import-test-made-a" })))
      .PolicyNames;
    assert.deepEqual(policies, ["keep"]);
    assert.equal(
      (await roleOf(iamA, "xeks-import-test-extra"))?.RoleId,
      extraId,
      "removed from the stack, kept",
    );

    await cfnA.send(new DeleteStackCommand({ StackName: stack }));
    await assert.rejects(roleOf(iamA, "xeks-import-test-made-a"), /NoSuchEntity|cannot be found/);
    assert.equal((await roleOf(iamA, "xeks-import-test-extra"))?.RoleId, extraId);
  });

  test("deleting the stacks keeps every adopted (Retain) resource", async () => {
    await lab.clearRecording();
    for (const [account, stack] of [
      [CLUSTER_ACCOUNT, CLUSTER_STACK],
      [CLIENT_ACCOUNT, CLIENT_STACK],
    ] as const) {
      const cfn = await lab.cfn(account);
      await cfn.send(new DeleteStackCommand({ StackName: stack }));
      assert.equal((await lab.stacks(account)).has(stack), false);
    }
    const w = writes().map((r) => `${r.service}:${r.action}`);
    assert.deepEqual([...new Set(w)], ["cloudformation:DeleteStack"]);
    await assertStillThere();
    assert.deepEqual(await trustOf(iamA, ACCESS_ROLE), exactTrust);
  });
});

describe("moto as shipped (no shim): the gaps patches 6-9 fill", () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ shim: false });
  });
  after(async () => {
    await lab?.stop();
  });

  /** Create and execute a change set; the stack's status after, or the error of ExecuteChangeSet. */
  async function apply(
    stack: string,
    type: "CREATE" | "UPDATE" | "IMPORT",
    template: object,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const cfn = await lab.cfn(CLUSTER_ACCOUNT);
    const cs = await cfn.send(
      new CreateChangeSetCommand({
        StackName: stack,
        ChangeSetName: `cs-${type.toLowerCase()}`,
        ChangeSetType: type,
        TemplateBody: JSON.stringify(template),
        Capabilities: ["CAPABILITY_NAMED_IAM"],
        ...extra,
      }),
    );
    try {
      await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: cs.Id, StackName: stack }));
    } catch (err) {
      return `execute failed: ${(err as Error).name}`;
    }
    return (
      (await cfn.send(new DescribeStacksCommand({ StackName: cs.StackId }))).Stacks?.[0]?.StackStatus ?? ""
    );
  }
  const role = (name: string, trust: object, extra: object = {}) => ({
    Type: "AWS::IAM::Role",
    Properties: { RoleName: name, AssumeRolePolicyDocument: trust },
    ...extra,
  });

  test("gap 6: executing an IMPORT change set creates the resource again instead of importing it", async () => {
    const ec2 = await lab.ec2(CLUSTER_ACCOUNT);
    const pcx = (
      await ec2.send(
        new CreateVpcPeeringConnectionCommand({ VpcId: lab.cluster.vpcId, PeerVpcId: lab.cluster.vpcId }),
      )
    ).VpcPeeringConnection?.VpcPeeringConnectionId as string;
    const count = async () =>
      ((await ec2.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections ?? []).length;
    assert.equal(await count(), 1);
    const status = await apply(
      "gap-import",
      "IMPORT",
      {
        Resources: {
          Peering: {
            Type: "AWS::EC2::VPCPeeringConnection",
            Properties: { VpcId: lab.cluster.vpcId, PeerVpcId: lab.cluster.vpcId },
            DeletionPolicy: "Retain",
          },
        },
      },
      {
        ResourcesToImport: [
          {
            ResourceType: "AWS::EC2::VPCPeeringConnection",
            LogicalResourceId: "Peering",
            ResourceIdentifier: { Id: pcx },
          },
        ],
      },
    );
    assert.equal(status, "IMPORT_COMPLETE");
    assert.equal(await count(), 2, "a second peering connection was created");
  });

  test("gap 7: a role update ignores the new trust policy", async () => {
    assert.equal(
      await apply("gap-trust", "CREATE", { Resources: { R: role("gap-trust", rootTrust) } }),
      "CREATE_COMPLETE",
    );
    assert.equal(
      await apply("gap-trust", "UPDATE", { Resources: { R: role("gap-trust", exactTrust) } }),
      "UPDATE_COMPLETE",
    );
    const iam = await lab.iam(CLUSTER_ACCOUNT);
    const doc = (await iam.send(new GetRoleCommand({ RoleName: "gap-trust" }))).Role
      ?.AssumeRolePolicyDocument;
    assert.deepEqual(JSON.parse(decodeURIComponent(doc ?? "{}")), rootTrust);
  });

  test("gap 8: AWS::IAM::RolePolicy is skipped silently", async () => {
    const iam = await lab.iam(CLUSTER_ACCOUNT);
    await iam.send(
      new CreateRoleCommand({ RoleName: "gap-policy", AssumeRolePolicyDocument: JSON.stringify(ec2Trust) }),
    );
    const status = await apply("gap-policy", "CREATE", {
      Resources: {
        P: {
          Type: "AWS::IAM::RolePolicy",
          Properties: { RoleName: "gap-policy", PolicyName: "p", PolicyDocument: assumeAny },
        },
      },
    });
    assert.equal(status, "CREATE_COMPLETE");
    assert.deepEqual(
      (await iam.send(new ListRolePoliciesCommand({ RoleName: "gap-policy" }))).PolicyNames,
      [],
    );
  });

  test("gap 9: an update that removes a Retain resource deletes it", async () => {
    const keep = role("gap-retain", rootTrust, { DeletionPolicy: "Retain" });
    const other = role("gap-retain-other", rootTrust);
    assert.equal(
      await apply("gap-retain", "CREATE", { Resources: { K: keep, O: other } }),
      "CREATE_COMPLETE",
    );
    assert.equal(await apply("gap-retain", "UPDATE", { Resources: { O: other } }), "UPDATE_COMPLETE");
    const iam = await lab.iam(CLUSTER_ACCOUNT);
    await assert.rejects(
      iam.send(new GetRoleCommand({ RoleName: "gap-retain" })),
      /NoSuchEntity|cannot be found/,
    );
  });
});
