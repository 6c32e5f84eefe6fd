/**
 * The lab's starting state: what exists in the accounts before xeks runs (the cluster account's VPC, subnets,
 * route table and cluster security group; each client account's VPC, subnet and route table), created at a
 * moto_server with plain query-protocol calls (src/sandbox/moto-api.ts), and the cluster the EKS emulator serves
 * for it. One implementation for `xeks sandbox up` (the spec SANDBOX_STARTING_STATE of src/sandbox/up.ts) and the
 * tests' labs (test/helpers/moto-deploy.ts, live-setup.ts, kinds-setup.ts), which differ only in the spec.
 * Nothing here prints. API facts: the EC2 API reference (CreateVpc, CreateSubnet, CreateRouteTable,
 * AssociateRouteTable, CreateSecurityGroup, DescribeRouteTables with the `association.main` filter).
 */
import type { FixtureCluster } from "./eks.js";
import { accountKey, motoCall, xmlField } from "./moto-api.js";

/** One subnet of the starting state. */
export interface SubnetSpec {
  cidr: string;
  /** Availability zone suffix (`a` -> REGIONa). Default: moto's choice (the region's first zone). */
  az?: string;
  /**
   * Associate it with the VPC's own route table (default true); false leaves it on the VPC's main route table
   * (implicit association).
   */
  ownRouteTable?: boolean;
}

/** What to create: one cluster account and any number of client accounts, all in one region. */
export interface StartingStateSpec {
  region: string;
  /** Role name the setup assumes in each account (moto's STS needs no such role to exist). */
  setupRole: string;
  cluster: {
    account: string;
    cidr: string;
    subnets: SubnetSpec[];
    /** The cluster security group (EKS names it eks-cluster-sg-NAME-ID; its description is EKS's). */
    securityGroup: { name: string; description: string };
  };
  /** Client accounts: each a VPC and a route table, with one subnet on it when `subnet` is given. */
  clients: { account: string; cidr: string; subnet?: SubnetSpec }[];
}

/** The ids of the starting state, in the order of the spec. */
export interface StartingState {
  cluster: {
    account: string;
    vpcId: string;
    subnetIds: string[];
    /** The route table created for the VPC. */
    routeTableId: string;
    /** The VPC's main route table (moto makes one with each VPC, as EC2 does). */
    mainRouteTableId: string;
    securityGroupId: string;
  };
  clients: { account: string; vpcId: string; subnetId?: string; routeTableId: string }[];
}

/** One client network of the starting state. */
export type ClientNetworkSpec = StartingStateSpec["clients"][number];

/** Runs `tasks` concurrently across accounts and one after another within an account; results in input order. */
function perAccount<T>(tasks: { account: string; run: () => Promise<T> }[]): Promise<T[]> {
  const chains = new Map<string, Promise<unknown>>();
  return Promise.all(
    tasks.map((t) => {
      const p = (chains.get(t.account) ?? Promise.resolve()).then(t.run);
      chains.set(
        t.account,
        p.catch(() => undefined),
      );
      return p;
    }),
  );
}

/** The EC2 calls of one setup at one moto_server, in one region, each account's key fetched once. */
function ec2Setup(motoUrl: string, region: string, setupRole: string) {
  const keys = new Map<string, Promise<string>>();
  const keyOf = (account: string) => {
    let k = keys.get(account);
    if (!k) {
      k = accountKey(motoUrl, account, setupRole);
      keys.set(account, k);
    }
    return k;
  };
  /** One EC2 call as `account`: the text of `tag` in the answer. */
  const ec2 = async (account: string, action: string, params: Record<string, string>, tag: string) =>
    xmlField(await motoCall(motoUrl, "ec2", await keyOf(account), action, params, region), tag, action);
  const subnet = (account: string, vpcId: string, s: SubnetSpec) =>
    ec2(
      account,
      "CreateSubnet",
      { VpcId: vpcId, CidrBlock: s.cidr, ...(s.az ? { AvailabilityZone: `${region}${s.az}` } : {}) },
      "subnetId",
    );
  const associate = (account: string, routeTableId: string, subnetId: string) =>
    ec2(account, "AssociateRouteTable", { RouteTableId: routeTableId, SubnetId: subnetId }, "associationId");
  const clientNetwork = async (c: ClientNetworkSpec): Promise<StartingState["clients"][number]> => {
    const vpcId = await ec2(c.account, "CreateVpc", { CidrBlock: c.cidr }, "vpcId");
    const subnetId = c.subnet ? await subnet(c.account, vpcId, c.subnet) : undefined;
    const routeTableId = await ec2(c.account, "CreateRouteTable", { VpcId: vpcId }, "routeTableId");
    if (subnetId && c.subnet?.ownRouteTable !== false) await associate(c.account, routeTableId, subnetId);
    return { account: c.account, vpcId, ...(subnetId ? { subnetId } : {}), routeTableId };
  };
  return { ec2, subnet, associate, clientNetwork };
}

/**
 * Create client networks (each a VPC and a route table, with one subnet on it when `subnet` is given) at the
 * moto_server `motoUrl`, in `region`, as `setupRole` of each account: concurrently across accounts, one after
 * another within an account. Returns the ids in the order of `clients`. Errors: as createStartingState.
 */
export function createClientNetworks(
  motoUrl: string,
  region: string,
  setupRole: string,
  clients: ClientNetworkSpec[],
): Promise<StartingState["clients"]> {
  const { clientNetwork } = ec2Setup(motoUrl, region, setupRole);
  return perAccount(clients.map((c) => ({ account: c.account, run: () => clientNetwork(c) })));
}

/**
 * Create `spec` at the moto_server `motoUrl` (or a proxy in front of it): concurrently across accounts, one call
 * after another within an account. Errors: OperationError naming the call moto refused or did not answer (each
 * call bounded at 30 s, moto-api.ts).
 */
export async function createStartingState(motoUrl: string, spec: StartingStateSpec): Promise<StartingState> {
  const { ec2, subnet, associate, clientNetwork } = ec2Setup(motoUrl, spec.region, spec.setupRole);
  const { account, cidr } = spec.cluster;
  const clusterSide = async (): Promise<StartingState["cluster"]> => {
    const vpcId = await ec2(account, "CreateVpc", { CidrBlock: cidr }, "vpcId");
    const subnetIds: string[] = [];
    for (const s of spec.cluster.subnets) subnetIds.push(await subnet(account, vpcId, s));
    const routeTableId = await ec2(account, "CreateRouteTable", { VpcId: vpcId }, "routeTableId");
    for (const [i, s] of spec.cluster.subnets.entries())
      if (s.ownRouteTable !== false) await associate(account, routeTableId, subnetIds[i] as string);
    const mainRouteTableId = await ec2(
      account,
      "DescribeRouteTables",
      {
        "Filter.1.Name": "vpc-id",
        "Filter.1.Value.1": vpcId,
        "Filter.2.Name": "association.main",
        "Filter.2.Value.1": "true",
      },
      "routeTableId",
    );
    const securityGroupId = await ec2(
      account,
      "CreateSecurityGroup",
      {
        GroupName: spec.cluster.securityGroup.name,
        GroupDescription: spec.cluster.securityGroup.description,
        VpcId: vpcId,
      },
      "groupId",
    );
    return { account, vpcId, subnetIds, routeTableId, mainRouteTableId, securityGroupId };
  };
  type Done = StartingState["cluster"] | StartingState["clients"][number];
  const [cluster, ...clients] = await perAccount<Done>([
    { account, run: clusterSide },
    ...spec.clients.map((c) => ({ account: c.account, run: () => clientNetwork(c) })),
  ]);
  return { cluster: cluster as StartingState["cluster"], clients: clients as StartingState["clients"] };
}

/**
 * The EKS emulator's cluster `name` for a starting state (src/sandbox/eks.ts FixtureCluster): in the cluster
 * account and region of `spec`, its VPC, subnets and cluster security group; API_AND_CONFIG_MAP, private endpoint
 * only, unless `more` says otherwise (endpoint, CA, public access, ...).
 */
export function startingCluster(
  name: string,
  spec: StartingStateSpec,
  state: StartingState,
  more: Partial<FixtureCluster> = {},
): FixtureCluster {
  return {
    name,
    account: spec.cluster.account,
    region: spec.region,
    vpcId: state.cluster.vpcId,
    subnetIds: state.cluster.subnetIds,
    clusterSecurityGroupId: state.cluster.securityGroupId,
    authenticationMode: "API_AND_CONFIG_MAP",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
    ...more,
  };
}
