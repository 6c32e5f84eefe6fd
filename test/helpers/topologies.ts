/** Topologies for infra tests and benches: generated ones of any size, and small variants of the examples. */
import { stringify } from "yaml";
import type { TopologyInput } from "../../src/topology/schema.js";
import type { Topology } from "../../src/topology/types.js";
import { validateTopology } from "../../src/topology/validate.js";

/** Turn a raw document into a Topology, failing loudly on a mistake in the test data. */
export function topologyOf(raw: unknown): Topology {
  const r = validateTopology(raw);
  if (!("topology" in r)) throw new Error(`bad test topology: ${JSON.stringify(r.issues, null, 2)}`);
  return r.topology;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/**
 * A topology with `n` clients: client i has its own account, a /24 VPC in 172.16.0.0/12, two route tables,
 * and its own access role (view, namespace-scoped); every fifth client has an instance; every third access
 * role has an external id; one more role (cluster admin) trusts the first ten clients.
 */
export function generatedInput(n: number): TopologyInput {
  const clients = Array.from({ length: n }, (_, i) => ({
    name: `team-${i + 1}`,
    account: String(200000000000 + i + 1),
    vpc: {
      id: `vpc-${hex(i + 1, 17)}`,
      cidr: `172.${16 + Math.floor(i / 256)}.${i % 256}.0/24`,
      routeTables: [`rtb-${hex(0x1000 + i, 17)}`, `rtb-${hex(0x2000 + i, 17)}`],
    },
    role: `Team${i + 1}-EKS-Client-Role`,
    ...(i % 5 === 0 ? { instance: { subnetId: `subnet-${hex(i + 1, 17)}`, type: "t3.micro" } } : {}),
  }));
  const access = clients.map((c, i) => ({
    role: `Team${i + 1}-EKS-View-Role`,
    clients: [c.name],
    policies: [{ policy: "AmazonEKSViewPolicy", namespaces: [c.name, `${c.name}-*`] }],
    ...(i % 3 === 0 ? { externalId: `ext-${c.name}` } : {}),
  }));
  return {
    version: 1,
    cluster: {
      name: "bench-cluster",
      account: "111111111111",
      region: "eu-west-1",
      authenticationMode: "API",
      endpointAccess: { private: true, public: false },
      securityGroupId: "sg-0123456789abcdef0",
      vpc: {
        id: "vpc-0aaa1111bbbb2222c",
        cidr: "10.0.0.0/16",
        routeTables: ["rtb-0aaa1111bbbb2222c", "rtb-0aaa1111bbbb3333d", "rtb-0aaa1111bbbb4444e"],
      },
    },
    clients,
    access: [
      ...access,
      {
        role: "Platform-EKS-Admin-Role",
        clients: clients.slice(0, 10).map((c) => c.name),
        policies: ["AmazonEKSClusterAdminPolicy"],
        kubernetesGroups: ["platform-admins"],
        username: "platform:{{SessionName}}",
      },
    ],
  };
}

export function generatedTopology(n: number): Topology {
  return topologyOf(generatedInput(n));
}

/** The same topology as YAML text, for the CLI. */
export function generatedYaml(n: number): string {
  return stringify(generatedInput(n));
}

/** A base64 PEM that parses as a kubeconfig's certificate-authority-data (not a real certificate). */
export const TEST_CA_BASE64 = Buffer.from(
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
).toString("base64");

/**
 * The seed system (one client `ops`, one access role with AmazonEKSClusterAdminPolicy) as YAML, with the
 * cluster's endpoint and CA declared, so `xeks kubeconfig` needs no DescribeCluster (no AWS call).
 * Defaults: cluster `prac-eks-abhi`, a made-up EKS endpoint, TEST_CA_BASE64.
 */
export function offlineSeedYaml(
  opts: { cluster?: string; endpoint?: string; certificateAuthority?: string } = {},
): string {
  return `version: 1
cluster:
  name: ${opts.cluster ?? "prac-eks-abhi"}
  account: "111111111111"
  region: ap-south-1
  endpoint: ${opts.endpoint ?? "https://ABCDEF.gr7.ap-south-1.eks.amazonaws.com"}
  certificateAuthority: ${opts.certificateAuthority ?? TEST_CA_BASE64}
  securityGroupId: sg-0123456789abcdef0
  vpc: { id: vpc-0aaa1111bbbb2222c, cidr: 10.0.0.0/16, routeTables: [rtb-0aaa1111bbbb2222c] }
clients:
  - name: ops
    account: "222222222222"
    vpc: { id: vpc-0ddd3333eeee4444f, cidr: 172.31.0.0/16, routeTables: [rtb-0ddd3333eeee4444f] }
    role: EC2-EKS-CrossAccount-Role
access:
  - role: EKS-CrossAccount-Access-Role
    clients: [ops]
    policies: [AmazonEKSClusterAdminPolicy]
`;
}
