/**
 * A two-account lab for `xeks deploy|diff|destroy`, made of the sandbox's pieces (src/sandbox, the lab of `xeks
 * sandbox up`): a private moto_server (src/sandbox/moto.ts through test/helpers/moto.ts, with moto's request
 * recorder on) in front of which nothing but the SDK sits, the EKS emulator (src/sandbox/eks.ts: moto's
 * DescribeCluster has no accessConfig), an isolated HOME whose AWS config has assume-role profiles per account,
 * and the existing network a topology refers to (VPCs, route tables, the cluster security group): the starting
 * state of src/sandbox/starting-state.ts with LAB_STARTING_STATE.
 *
 * By default moto_server runs with the moto patches `xeks sandbox` ships (src/sandbox/patches.ts), a sitecustomize
 * that makes moto's CloudFormation behave like CloudFormation for cross-account peering, resource failures and
 * deletions (see the shim's docstring and docs/deploy.md). `shim: false` runs moto as shipped.
 *
 * Nothing here reaches AWS: every endpoint is a loopback server, the keys are fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
} from "@aws-sdk/client-cloudformation";
import {
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand, EKSClient } from "@aws-sdk/client-eks";
import { IAMClient, ListInstanceProfilesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { motoPatchesDir } from "../../src/sandbox/patches.js";
import {
  createStartingState,
  type StartingState,
  type StartingStateSpec,
  startingCluster,
} from "../../src/sandbox/starting-state.js";
import { type AuthenticationMode, type EksFixture, startEksFixture } from "./eks-fixture.js";
import { type MotoRequest, type MotoServer, startMoto } from "./moto.js";
import { type AsyncRunResult, xeksAsync } from "./spawn.js";

export const CLUSTER_ACCOUNT = "111111111111";
export const CLIENT_ACCOUNT = "222222222222";
export const WRONG_ACCOUNT = "333333333333";
export const REGION = "ap-south-1";
export const CLUSTER_NAME = "prac-eks-abhi";
export const CLUSTER_CIDR = "10.0.0.0/16";
export const CLIENT_CIDR = "172.31.0.0/16";
export const ACCESS_ROLE = "EKS-CrossAccount-Access-Role";
export const CLIENT_ROLE = "EC2-EKS-CrossAccount-Role";

/** The folder of the moto patches: the same file `xeks sandbox up` starts moto with. */
export const SHIM_DIR = motoPatchesDir();

/**
 * The lab's starting state: the cluster VPC (CLUSTER_CIDR) with a route table and the cluster security group,
 * the client VPC (CLIENT_CIDR) with a route table; no subnets (the deploy tests need none).
 */
export const LAB_STARTING_STATE: StartingStateSpec = {
  region: REGION,
  setupRole: "xeks-test",
  cluster: {
    account: CLUSTER_ACCOUNT,
    cidr: CLUSTER_CIDR,
    subnets: [],
    securityGroup: { name: "eks-cluster-sg", description: "cluster" },
  },
  clients: [{ account: CLIENT_ACCOUNT, cidr: CLIENT_CIDR }],
};

/** Flags naming the lab's profiles: the cluster profile and the client `ops`'s. */
export const PROFILE_FLAGS = ["--cluster-profile", "cluster", "--client-profile", "ops=ops"];

/** Actions that change nothing. */
export const READ_ONLY = /^(Get|Describe|List|AssumeRole$|GetCallerIdentity$)/;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface Lab {
  moto: MotoServer;
  eks: EksFixture;
  /** Environment for a child `xeks`: isolated HOME, profiles, endpoints. */
  env: NodeJS.ProcessEnv;
  dir: string;
  cluster: { vpcId: string; routeTableId: string; securityGroupId: string };
  client: { vpcId: string; routeTableId: string };
  /**
   * The topology's first lines (`version: 1` and the `cluster:` block of the lab's cluster), endpoint private only
   * unless `endpoint` says otherwise, with `publicAccessCidrs` when given; the caller adds `clients:` and `access:`.
   */
  clusterYaml(opts?: {
    clusterRouteTables?: string[];
    endpoint?: { private: boolean; public: boolean };
    publicAccessCidrs?: string[];
  }): string[];
  /** Write the topology (optionally with other route tables) and return its path. */
  writeTopology(opts?: { clusterRouteTables?: string[]; clientRouteTables?: string[] }): string;
  /** Run bin/xeks in the lab (cwd = the lab's directory), asynchronously: the EKS fixture serves in-process. */
  run(args: string[], input?: string): Promise<AsyncRunResult>;
  /** SDK clients acting in an account. */
  ec2(account: string): Promise<EC2Client>;
  iam(account: string): Promise<IAMClient>;
  cfn(account: string): Promise<CloudFormationClient>;
  /** Stacks of an account that are not deleted: name -> status. */
  stacks(account: string): Promise<Map<string, string>>;
  /** Recorded AWS requests that reached moto since the last `clearRecording()`. */
  requests(): MotoRequest[];
  clearRecording(): Promise<void>;
  /** Make the EKS fixture's cluster use this authentication mode. */
  setAuthMode(mode: AuthenticationMode): void;
  /** Create the access entry CloudFormation would have (moto skips AWS::EKS::AccessEntry). */
  createAccessEntry(): Promise<void>;
  stop(): Promise<void>;
}

const CONFIG = (accounts: Record<string, string>) =>
  [
    "[profile base]",
    `region = ${REGION}`,
    ...Object.entries(accounts).flatMap(([name, account]) => [
      `[profile ${name}]`,
      `role_arn = arn:aws:iam::${account}:role/xeks-deployer`,
      "source_profile = base",
      `region = ${REGION}`,
    ]),
    "",
  ].join("\n");

const BASE_KEYS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

export async function startLab(opts: { shim?: boolean } = {}): Promise<Lab> {
  const shim = opts.shim ?? true;
  const moto = await startMoto(shim ? { patches: true } : { env: { XEKS_MOTO_SHIM: "0" } });
  const eks = await startEksFixture();
  const dir = mkdtempSync(join(tmpdir(), "xeks-deploy-"));
  const home = join(dir, "home");
  const configFile = join(dir, "aws-config");
  const credentialsFile = join(dir, "aws-credentials");
  writeFileSync(configFile, CONFIG({ cluster: CLUSTER_ACCOUNT, ops: CLIENT_ACCOUNT, wrong: WRONG_ACCOUNT }));
  writeFileSync(
    credentialsFile,
    `[base]\naws_access_key_id = ${BASE_KEYS.accessKeyId}\naws_secret_access_key = ${BASE_KEYS.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(dir, "cache"),
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL: moto.url,
    AWS_ENDPOINT_URL_EKS: eks.url,
    AWS_REGION: REGION,
    NO_COLOR: "1",
  };

  const creds = new Map<string, Promise<Credentials>>();
  const credentialsFor = (account: string): Promise<Credentials> => {
    let p = creds.get(account);
    if (!p) {
      p = (async () => {
        const sts = new STSClient({ region: REGION, endpoint: moto.url, credentials: BASE_KEYS });
        try {
          const r = await sts.send(
            new AssumeRoleCommand({
              RoleArn: `arn:aws:iam::${account}:role/xeks-test`,
              RoleSessionName: "lab",
            }),
          );
          const c = r.Credentials;
          if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
            throw new Error("moto gave no credentials");
          return {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
          };
        } finally {
          sts.destroy();
        }
      })();
      creds.set(account, p);
    }
    return p;
  };
  const clients: { destroy(): void }[] = [];
  const make = async <T extends { destroy(): void }>(
    account: string,
    ctor: new (cfg: { region: string; endpoint: string; credentials: Credentials }) => T,
  ): Promise<T> => {
    const c = new ctor({ region: REGION, endpoint: moto.url, credentials: await credentialsFor(account) });
    clients.push(c);
    return c;
  };

  // The existing network (the sandbox's starting state, src/sandbox/starting-state.ts): the cluster VPC, route
  // table and security group; the client VPC and route table.
  const start = await createStartingState(moto.url, LAB_STARTING_STATE);
  const vpcA = start.cluster.vpcId;
  const rtbA = start.cluster.routeTableId;
  const sgA = start.cluster.securityGroupId;
  const { vpcId: vpcB, routeTableId: rtbB } = start.clients[0] as StartingState["clients"][number];
  eks.addCluster(startingCluster(CLUSTER_NAME, LAB_STARTING_STATE, start));

  const lab: Lab = {
    moto,
    eks,
    env,
    dir,
    cluster: { vpcId: vpcA, routeTableId: rtbA, securityGroupId: sgA },
    client: { vpcId: vpcB, routeTableId: rtbB },
    clusterYaml(o = {}) {
      const endpoint = o.endpoint ?? { private: true, public: false };
      return [
        "version: 1",
        "cluster:",
        `  name: ${CLUSTER_NAME}`,
        `  account: "${CLUSTER_ACCOUNT}"`,
        `  region: ${REGION}`,
        "  authenticationMode: API_AND_CONFIG_MAP",
        `  endpointAccess: { private: ${endpoint.private}, public: ${endpoint.public} }`,
        ...(o.publicAccessCidrs ? [`  publicAccessCidrs: [${o.publicAccessCidrs.join(", ")}]`] : []),
        `  securityGroupId: ${sgA}`,
        `  vpc: { id: ${vpcA}, cidr: ${CLUSTER_CIDR}, routeTables: [${(o.clusterRouteTables ?? [rtbA]).join(", ")}] }`,
      ];
    },
    writeTopology(o = {}) {
      const file = join(dir, "xeks.yaml");
      const list = (ids: string[]) => `[${ids.join(", ")}]`;
      writeFileSync(
        file,
        [
          ...lab.clusterYaml({ clusterRouteTables: o.clusterRouteTables ?? [rtbA] }),
          "clients:",
          "  - name: ops",
          `    account: "${CLIENT_ACCOUNT}"`,
          `    vpc: { id: ${vpcB}, cidr: ${CLIENT_CIDR}, routeTables: ${list(o.clientRouteTables ?? [rtbB])} }`,
          `    role: ${CLIENT_ROLE}`,
          "access:",
          `  - role: ${ACCESS_ROLE}`,
          "    clients: [ops]",
          "    policies: [AmazonEKSClusterAdminPolicy]",
          "",
        ].join("\n"),
      );
      return file;
    },
    run(args, input) {
      return xeksAsync(args, { cwd: dir, env, input: input ?? "", timeoutMs: 180_000 });
    },
    ec2: (account) => make(account, EC2Client),
    iam: (account) => make(account, IAMClient),
    cfn: (account) => make(account, CloudFormationClient),
    async stacks(account) {
      const cfn = await make(account, CloudFormationClient);
      const r = await cfn.send(new ListStacksCommand({}));
      const out = new Map<string, string>();
      for (const s of r.StackSummaries ?? []) {
        if (s.StackName && s.StackStatus && s.StackStatus !== "DELETE_COMPLETE")
          out.set(s.StackName, s.StackStatus);
      }
      return out;
    },
    requests: () => moto.requests(),
    clearRecording: async () => {
      await moto.clearRecording();
      eks.clearCalls();
    },
    setAuthMode(mode) {
      const c = eks.clusters.get(CLUSTER_NAME);
      if (c) c.authenticationMode = mode;
    },
    async createAccessEntry() {
      const client = new EKSClient({
        region: REGION,
        endpoint: eks.url,
        credentials: await credentialsFor(CLUSTER_ACCOUNT),
      });
      clients.push(client);
      const principalArn = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ACCESS_ROLE}`;
      await client.send(
        new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn, type: "STANDARD" }),
      );
      await client.send(
        new AssociateAccessPolicyCommand({
          clusterName: CLUSTER_NAME,
          principalArn,
          policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
          accessScope: { type: "cluster" },
        }),
      );
    },
    async stop() {
      for (const c of clients) c.destroy();
      await eks.stop();
      await moto.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Names of the lab's stacks, by phase. */
export const STACKS = {
  identity: `xeks-${CLUSTER_NAME}-client-ops-identity`,
  base: `xeks-${CLUSTER_NAME}-cluster-base`,
  access: `xeks-${CLUSTER_NAME}-cluster-access-${ACCESS_ROLE}`,
  clientLink: `xeks-${CLUSTER_NAME}-client-ops-link`,
  clusterLink: `xeks-${CLUSTER_NAME}-cluster-link-ops`,
};

/** What xeks leaves in the accounts, for "destroy leaves nothing" checks. */
export async function leftovers(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  for (const account of [CLUSTER_ACCOUNT, CLIENT_ACCOUNT]) {
    for (const [name, status] of await lab.stacks(account)) {
      if (name.startsWith("xeks-")) out.push(`stack ${name} (${status}) in ${account}`);
    }
    const iam = await lab.iam(account);
    for (const r of (await iam.send(new ListRolesCommand({}))).Roles ?? []) {
      if ([ACCESS_ROLE, CLIENT_ROLE].includes(r.RoleName ?? "") || r.RoleName?.startsWith("xeks-")) {
        out.push(`role ${r.Arn}`);
      }
    }
    for (const p of (await iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []) {
      out.push(`instance profile ${p.Arn}`);
    }
    const ec2 = await lab.ec2(account);
    for (const p of (await ec2.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections ??
      []) {
      if (p.Status?.Code !== "deleted")
        out.push(`peering ${p.VpcPeeringConnectionId} (${p.Status?.Code}) in ${account}`);
    }
    for (const t of (await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []) {
      for (const r of t.Routes ?? []) {
        if (r.VpcPeeringConnectionId)
          out.push(`route ${t.RouteTableId} ${r.DestinationCidrBlock} -> ${r.VpcPeeringConnectionId}`);
      }
    }
  }
  const ec2A = await lab.ec2(CLUSTER_ACCOUNT);
  const sg = (await ec2A.send(new DescribeSecurityGroupsCommand({ GroupIds: [lab.cluster.securityGroupId] })))
    .SecurityGroups?.[0];
  for (const p of sg?.IpPermissions ?? []) {
    for (const r of p.IpRanges ?? [])
      if (r.CidrIp === CLIENT_CIDR) out.push(`ingress ${p.FromPort} from ${r.CidrIp}`);
  }
  return out;
}

/** Resources of a stack: logical id -> type. */
export async function stackResources(lab: Lab, account: string, stack: string): Promise<Map<string, string>> {
  const cfn = await lab.cfn(account);
  const r = await cfn.send(new ListStackResourcesCommand({ StackName: stack }));
  return new Map(
    (r.StackResourceSummaries ?? []).map(
      (s) => [s.LogicalResourceId ?? "", s.ResourceType ?? ""] as [string, string],
    ),
  );
}

/** A stack's parameters and outputs. */
export async function stackInfo(
  lab: Lab,
  account: string,
  stack: string,
): Promise<{ status: string; parameters: Record<string, string>; outputs: Record<string, string> }> {
  const cfn = await lab.cfn(account);
  const s = (await cfn.send(new DescribeStacksCommand({ StackName: stack }))).Stacks?.[0];
  return {
    status: s?.StackStatus ?? "",
    parameters: Object.fromEntries((s?.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue])),
    outputs: Object.fromEntries((s?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue])),
  };
}
