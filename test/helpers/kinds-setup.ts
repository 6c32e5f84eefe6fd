/**
 * A hand-built setup for the client kinds of issue 13 (docs/clients.md), in moto and the EKS fixture: the
 * cluster account's VPC, route table and security group, a cluster whose public endpoint admits the clients'
 * CIDRs, and per kind a client account holding what that kind needs, built with ordinary SDK calls the way a
 * person (or IAM Identity Center, or a GitHub admin) would:
 * - sso (`people`, 333333333333): a SAML provider and the role Identity Center makes for permission set
 *   PlatformEngineers under /aws-reserved/sso.amazonaws.com/, with an inline policy allowing sts:AssumeRole on
 *   its access role;
 * - oidc (`deploy`, 444444444444): the OIDC provider token.actions.githubusercontent.com and the web-identity
 *   role xeks would create (xeks-prac-eks-abhi-deploy, trust from webIdentityTrustPolicy);
 * - pod-identity (`argocd`, 555555555555): the Pod Identity role (xeks-prac-eks-abhi-argocd), the client's
 *   cluster argocd-mgmt in the EKS fixture and its association for argocd/argocd-application-controller.
 * Each client has its own access role in the cluster account, trusting it with accessTrustPolicy (the one
 * builder xeks deploys), with an access entry and AmazonEKSClusterAdminPolicy. Every client reaches the public
 * endpoint from `publicCidrs` (no VPC, no peering).
 */
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreatePodIdentityAssociationCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateSAMLProviderCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { accessTrustPolicy, podIdentityTrustPolicy, webIdentityTrustPolicy } from "../../src/domain/trust.js";
import {
  createStartingState,
  type StartingStateSpec,
  startingCluster,
} from "../../src/sandbox/starting-state.js";
import type { Topology } from "../../src/topology/types.js";
import { validateTopology } from "../../src/topology/validate.js";
import type { EksFixture } from "./eks-fixture.js";
import { type Credentials, credentialsFor } from "./live-env.js";
import type { Moto } from "./moto-server.js";

export const KINDS_CLUSTER_ACCOUNT = "111111111111";
export const KINDS_CLUSTER = "prac-eks-abhi";
export const KINDS_REGION = "ap-south-1";
export const SSO_ACCOUNT = "333333333333";
export const OIDC_ACCOUNT = "444444444444";
export const POD_ACCOUNT = "555555555555";
export const PERMISSION_SET = "PlatformEngineers";
export const SSO_ROLE = `AWSReservedSSO_${PERMISSION_SET}_0123456789abcdef`;
export const SSO_PATH = "/aws-reserved/sso.amazonaws.com/";
export const OIDC_HOST = "token.actions.githubusercontent.com";
export const OIDC_ROLE = "xeks-prac-eks-abhi-deploy";
export const POD_ROLE = "xeks-prac-eks-abhi-argocd";
export const POD_CLUSTER = "argocd-mgmt";
export const ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** The three kinds' clients: name, account, access role. */
export const KIND_CLIENTS = [
  { name: "people", account: SSO_ACCOUNT, accessRole: "EKS-People-Access-Role", cidr: "203.0.113.0/24" },
  { name: "deploy", account: OIDC_ACCOUNT, accessRole: "EKS-Deploy-Access-Role", cidr: "198.51.100.0/24" },
  { name: "argocd", account: POD_ACCOUNT, accessRole: "EKS-Argo-Access-Role", cidr: "192.0.2.0/24" },
] as const;

export type KindName = (typeof KIND_CLIENTS)[number]["name"];

/** The starting state of the kinds setup: the cluster account's VPC, route table and security group only. */
export const KINDS_STARTING_STATE: StartingStateSpec = {
  region: KINDS_REGION,
  setupRole: "xeks-test-admin",
  cluster: {
    account: KINDS_CLUSTER_ACCOUNT,
    cidr: "10.0.0.0/16",
    subnets: [],
    securityGroup: { name: `eks-cluster-sg-${KINDS_CLUSTER}`, description: "EKS" },
  },
  clients: [],
};

export interface KindsOptions {
  /** Leave out a piece, for the failing cases. */
  omit?: ("sso-role" | "oidc-provider" | "pod-association")[];
}

export interface KindsSetup {
  topology: Topology;
  /** The topology's YAML text. */
  text: string;
  iam(account: string): IAMClient;
  eks: EKSClient;
  destroy(): void;
}

/** The topology text of the kinds setup, with the cluster's live ids. */
export function kindsTopologyText(cluster: { vpcId: string; routeTableId: string; sgId: string }): string {
  return [
    "version: 1",
    "cluster:",
    `  name: ${KINDS_CLUSTER}`,
    `  account: "${KINDS_CLUSTER_ACCOUNT}"`,
    `  region: ${KINDS_REGION}`,
    `  securityGroupId: ${cluster.sgId}`,
    `  vpc: { id: ${cluster.vpcId}, cidr: 10.0.0.0/16, routeTables: [${cluster.routeTableId}] }`,
    "clients:",
    "  - name: people",
    `    account: "${SSO_ACCOUNT}"`,
    "    publicCidrs: [203.0.113.0/24]",
    "    identity:",
    "      kind: sso",
    `      permissionSet: ${PERMISSION_SET}`,
    "      policies:",
    "        - name: PlatformEngineers-inline",
    "          document:",
    '            Version: "2012-10-17"',
    "            Statement:",
    "              - Effect: Allow",
    "                Action: sts:AssumeRole",
    `                Resource: arn:aws:iam::${KINDS_CLUSTER_ACCOUNT}:role/EKS-People-Access-Role`,
    "  - name: deploy",
    `    account: "${OIDC_ACCOUNT}"`,
    "    publicCidrs: [198.51.100.0/24]",
    `    identity: { kind: oidc, provider: ${OIDC_HOST}, subjects: ["repo:acme/cluster-config:ref:refs/heads/main"] }`,
    "  - name: argocd",
    `    account: "${POD_ACCOUNT}"`,
    "    publicCidrs: [192.0.2.0/24]",
    `    identity: { kind: pod-identity, cluster: ${POD_CLUSTER}, namespace: argocd, serviceAccount: argocd-application-controller }`,
    "access:",
    ...KIND_CLIENTS.flatMap((c) => [
      `  - role: ${c.accessRole}`,
      `    clients: [${c.name}]`,
      "    policies: [AmazonEKSClusterAdminPolicy]",
    ]),
    "",
  ].join("\n");
}

function assumePolicy(actions: string[], resource: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: actions.length === 1 ? actions[0] : actions, Resource: resource }],
  });
}

const DESCRIBE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["eks:DescribeCluster", "eks:ListClusters"], Resource: "*" }],
});

const SAML_METADATA =
  '<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ' +
  'entityID="https://portal.sso.ap-south-1.amazonaws.com/saml/assertion/EXAMPLE"><md:IDPSSODescriptor ' +
  'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>';

/** Build the kinds setup. The emulators should be empty (reset) first. */
export async function buildKinds(
  moto: Moto,
  eks: EksFixture,
  options: KindsOptions = {},
): Promise<KindsSetup> {
  const omit = new Set(options.omit ?? []);
  const accounts = [KINDS_CLUSTER_ACCOUNT, SSO_ACCOUNT, OIDC_ACCOUNT, POD_ACCOUNT];
  const creds = new Map<string, Credentials>();
  const iams = new Map<string, IAMClient>();
  for (const a of accounts) {
    const c = await credentialsFor(moto, a, KINDS_REGION);
    creds.set(a, c);
    const config = { region: KINDS_REGION, endpoint: moto.proxyUrl, credentials: c };
    iams.set(a, new IAMClient(config));
  }
  const iam = (a: string) => iams.get(a) as IAMClient;
  const eksCluster = new EKSClient({
    region: KINDS_REGION,
    endpoint: eks.url,
    credentials: creds.get(KINDS_CLUSTER_ACCOUNT) as Credentials,
  });
  const eksPods = new EKSClient({
    region: KINDS_REGION,
    endpoint: eks.url,
    credentials: creds.get(POD_ACCOUNT) as Credentials,
  });

  // Cluster account (the sandbox's starting state, src/sandbox/starting-state.ts): VPC, a route table, the
  // cluster security group; the public endpoint admits the clients.
  const start = await createStartingState(moto.proxyUrl, KINDS_STARTING_STATE);
  const { vpcId, routeTableId, securityGroupId: sgId } = start.cluster;
  eks.addCluster(
    startingCluster(KINDS_CLUSTER, KINDS_STARTING_STATE, start, {
      subnetIds: ["subnet-0aaa1111bbbb2222c"],
      endpointPublicAccess: true,
      publicAccessCidrs: KIND_CLIENTS.map((c) => c.cidr),
    }),
  );
  const text = kindsTopologyText({ vpcId, routeTableId, sgId });
  const validated = validateTopology((await import("yaml")).parse(text));
  if (!("topology" in validated)) throw new Error(`bad kinds topology: ${JSON.stringify(validated.issues)}`);
  const topology = validated.topology;
  const accessArn = (name: string) => `arn:aws:iam::${KINDS_CLUSTER_ACCOUNT}:role/${name}`;

  // sso: the SAML provider and the permission set's role, as IAM Identity Center provisions them.
  const people = accessArn("EKS-People-Access-Role");
  await iam(SSO_ACCOUNT).send(
    new CreateSAMLProviderCommand({
      Name: "AWSSSO_0123456789abcdef_DO_NOT_DELETE",
      SAMLMetadataDocument: SAML_METADATA,
    }),
  );
  const samlArn = `arn:aws:iam::${SSO_ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`;
  const samlTrust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: samlArn },
        Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      },
    ],
  });
  // Without the permission set's role, another permission set's role is there (the failing case).
  const ssoRole = omit.has("sso-role") ? "AWSReservedSSO_ReadOnly_fedcba9876543210" : SSO_ROLE;
  await iam(SSO_ACCOUNT).send(
    new CreateRoleCommand({ RoleName: ssoRole, Path: SSO_PATH, AssumeRolePolicyDocument: samlTrust }),
  );
  await iam(SSO_ACCOUNT).send(
    new PutRolePolicyCommand({
      RoleName: ssoRole,
      PolicyName: "AwsSSOInlinePolicy",
      PolicyDocument: assumePolicy(["sts:AssumeRole"], people),
    }),
  );

  // oidc: the provider (GitHub Actions) and the web-identity role.
  const deployClient = topology.clients.find((c) => c.name === "deploy");
  if (deployClient?.identity.kind !== "oidc") throw new Error("deploy is not oidc");
  const oidc = deployClient.identity;
  if (!omit.has("oidc-provider")) {
    await iam(OIDC_ACCOUNT).send(
      new CreateOpenIDConnectProviderCommand({
        Url: `https://${OIDC_HOST}`,
        ClientIDList: ["sts.amazonaws.com"],
        ThumbprintList: ["6938fd4d98bab03faadb97b34396831e3780aea1"],
      }),
    );
  }
  await iam(OIDC_ACCOUNT).send(
    new CreateRoleCommand({
      RoleName: OIDC_ROLE,
      AssumeRolePolicyDocument: JSON.stringify(
        webIdentityTrustPolicy(oidc.providerArn, oidc.provider, oidc.audience, oidc.subjects),
      ),
    }),
  );
  await iam(OIDC_ACCOUNT).send(
    new PutRolePolicyCommand({
      RoleName: OIDC_ROLE,
      PolicyName: "AssumeEksAccessRole",
      PolicyDocument: assumePolicy(["sts:AssumeRole"], accessArn("EKS-Deploy-Access-Role")),
    }),
  );

  // pod-identity: the Pod Identity role, the client's own cluster, and the association.
  const podRole = await iam(POD_ACCOUNT).send(
    new CreateRoleCommand({
      RoleName: POD_ROLE,
      AssumeRolePolicyDocument: JSON.stringify(podIdentityTrustPolicy()),
    }),
  );
  await iam(POD_ACCOUNT).send(
    new PutRolePolicyCommand({
      RoleName: POD_ROLE,
      PolicyName: "AssumeEksAccessRole",
      PolicyDocument: assumePolicy(["sts:AssumeRole", "sts:TagSession"], accessArn("EKS-Argo-Access-Role")),
    }),
  );
  eks.addCluster({
    name: POD_CLUSTER,
    account: POD_ACCOUNT,
    region: KINDS_REGION,
    vpcId: "vpc-0bbb7777cccc8888d",
    subnetIds: ["subnet-0bbb7777cccc8888d"],
    clusterSecurityGroupId: "sg-0bbb7777cccc8888d",
    authenticationMode: "API",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
  });
  if (!omit.has("pod-association")) {
    await eksPods.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: POD_CLUSTER,
        namespace: "argocd",
        serviceAccount: "argocd-application-controller",
        roleArn: podRole.Role?.Arn,
      }),
    );
  }

  // The access roles, each trusting its client as xeks deploys it, with an entry and the admin policy.
  for (const k of KIND_CLIENTS) {
    const client = topology.clients.find((c) => c.name === k.name);
    if (!client) throw new Error(`no client ${k.name}`);
    await iam(KINDS_CLUSTER_ACCOUNT).send(
      new CreateRoleCommand({
        RoleName: k.accessRole,
        AssumeRolePolicyDocument: JSON.stringify(accessTrustPolicy([client.principal], undefined, "aws")),
      }),
    );
    await iam(KINDS_CLUSTER_ACCOUNT).send(
      new PutRolePolicyCommand({
        RoleName: k.accessRole,
        PolicyName: "DescribeCluster",
        PolicyDocument: DESCRIBE_POLICY,
      }),
    );
    await eksCluster.send(
      new CreateAccessEntryCommand({
        clusterName: KINDS_CLUSTER,
        principalArn: accessArn(k.accessRole),
        type: "STANDARD",
      }),
    );
    await eksCluster.send(
      new AssociateAccessPolicyCommand({
        clusterName: KINDS_CLUSTER,
        principalArn: accessArn(k.accessRole),
        policyArn: ADMIN_POLICY,
        accessScope: { type: "cluster" },
      }),
    );
  }

  return {
    topology,
    text,
    iam,
    eks: eksCluster,
    destroy: () => {
      for (const c of [...iams.values(), eksCluster, eksPods]) c.destroy();
    },
  };
}
