/**
 * Shared fixtures of the client-probe tests: a test CA and an API server certificate for `probe.eks.test`,
 * the topology the probe reads (cluster VPC CIDR 127.10.0.0/16, so loopback addresses count as "inside the
 * cluster VPC"), and the client role's session from moto (what the instance profile would hand out).
 */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { ProbeCredentials } from "../../src/probe/index.js";
import type { Topology } from "../../src/topology/types.js";
import { createTestCa, type TestCa } from "./tls.js";
import { topologyOf } from "./topologies.js";

export const HOST = "probe.eks.test";
/** The endpoint's address: inside the cluster VPC CIDR of the test topology. */
export const API_ADDRESS = "127.10.0.5";
export const CLUSTER_CIDR = "127.10.0.0/16";
export const CLIENT_ROLE_ARN = "arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role";
export const ACCESS_ROLE_ARN = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";
export const SESSION = "probe-test";
export const EXPECTED_USERNAME = `arn:aws:sts::111111111111:assumed-role/EKS-CrossAccount-Access-Role/${SESSION}`;

export interface TopologyOptions {
  port: number;
  ca?: string;
  endpoint?: string | null;
  policies?: unknown[];
  externalId?: string;
  kubernetesGroups?: string[];
}

export function probeTopologyInput(o: TopologyOptions): Record<string, unknown> {
  const endpoint = o.endpoint === undefined ? `https://${HOST}:${o.port}` : o.endpoint;
  return {
    version: 1,
    cluster: {
      name: "prac-eks-abhi",
      account: "111111111111",
      region: "ap-south-1",
      authenticationMode: "API",
      endpointAccess: { private: true, public: false },
      ...(endpoint ? { endpoint } : {}),
      ...(o.ca && endpoint ? { certificateAuthority: o.ca } : {}),
      securityGroupId: "sg-0123456789abcdef0",
      vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: CLUSTER_CIDR, routeTables: ["rtb-0aaa1111bbbb2222c"] },
    },
    clients: [
      {
        name: "ops",
        account: "222222222222",
        region: "ap-south-1",
        vpc: { id: "vpc-0ddd3333eeee4444f", cidr: "172.31.0.0/16", routeTables: ["rtb-0ddd3333eeee4444f"] },
        role: "EC2-EKS-CrossAccount-Role",
      },
    ],
    access: [
      {
        role: "EKS-CrossAccount-Access-Role",
        clients: ["ops"],
        policies: o.policies ?? [{ policy: "AmazonEKSEditPolicy", namespaces: ["dev"] }],
        kubernetesGroups: o.kubernetesGroups ?? ["dev-team"],
        ...(o.externalId ? { externalId: o.externalId } : {}),
      },
    ],
  };
}

export function probeTopology(o: TopologyOptions): Topology {
  return topologyOf(probeTopologyInput(o));
}

export interface ProbeCa {
  ca: TestCa;
  /** The API server's certificate for HOST, signed by `ca`. */
  server: { cert: string; key: string };
}

export function probeCa(): ProbeCa {
  const ca = createTestCa("xeks probe test cluster CA");
  return { ca, server: ca.issue([HOST]) };
}

/** A session of `roleArn` from moto: what the instance profile (or a profile) would give the client. */
export async function motoSession(
  motoUrl: string,
  roleArn = CLIENT_ROLE_ARN,
  sessionName = "i-0123456789abcdef0",
): Promise<ProbeCredentials & { sessionToken: string; expiration: Date }> {
  const sts = new STSClient({
    region: "ap-south-1",
    endpoint: motoUrl,
    credentials: {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
  });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error("moto: no credentials");
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
  } finally {
    sts.destroy();
  }
}
