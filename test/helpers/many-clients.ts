/**
 * Many clients in the deploy lab (test/helpers/moto-deploy.ts): N client VPCs with one route table each, all in
 * the lab's client account, and the topology naming them (clients c01..cNN, each with its own role, one access
 * role for all). Kept as small as a client can be: one VPC, one route table, the identity and link stacks.
 * Used by test/deploy-parallel.test.ts and bench/deploy.bench.ts.
 */
import { writeFileSync } from "node:fs";
import { createClientNetworks } from "../../src/sandbox/starting-state.js";
import { ACCESS_ROLE, CLIENT_ACCOUNT, CLUSTER_NAME, type Lab, REGION } from "./moto-deploy.js";

export interface ManyClients {
  /** c01, c02, ... */
  names: string[];
  /** Each client's VPC and route table, by index. */
  vpcs: { id: string; rtb: string; cidr: string }[];
  /** Write the topology; `routeTables` replaces a client's route table ids (by name). */
  write(file: string, routeTables?: Record<string, string>): void;
}

/** Stack names of a client (the lab's cluster name). */
export const clientStacks = {
  identity: (c: string) => `xeks-${CLUSTER_NAME}-client-${c}-identity`,
  clientLink: (c: string) => `xeks-${CLUSTER_NAME}-client-${c}-link`,
  clusterLink: (c: string) => `xeks-${CLUSTER_NAME}-cluster-link-${c}`,
};

/** Create `n` client VPCs (10.2.0.0/16, 10.3.0.0/16, ...) with a route table each in the lab's client account. */
export async function manyClients(lab: Lab, n: number): Promise<ManyClients> {
  if (n < 1 || n > 250) throw new RangeError(`1 to 250 clients, not ${n}`);
  const names = Array.from({ length: n }, (_, i) => `c${String(i + 1).padStart(2, "0")}`);
  // Client networks of the sandbox's starting state (src/sandbox/starting-state.ts), all in the client account.
  const cidrs = names.map((_, i) => `10.${i + 2}.0.0/16`);
  const made = await createClientNetworks(
    lab.moto.url,
    REGION,
    "xeks-test",
    cidrs.map((cidr) => ({ account: CLIENT_ACCOUNT, cidr })),
  );
  const vpcs: ManyClients["vpcs"] = made.map((m, i) => ({
    id: m.vpcId,
    rtb: m.routeTableId,
    cidr: cidrs[i] as string,
  }));
  return {
    names,
    vpcs,
    write(file, routeTables = {}) {
      writeFileSync(
        file,
        [
          ...lab.clusterYaml(),
          "clients:",
          ...names.flatMap((name, i) => {
            const v = vpcs[i] as ManyClients["vpcs"][number];
            return [
              `  - name: ${name}`,
              `    account: "${CLIENT_ACCOUNT}"`,
              `    vpc: { id: ${v.id}, cidr: ${v.cidr}, routeTables: [${routeTables[name] ?? v.rtb}] }`,
              `    role: ${name}-role`,
            ];
          }),
          "access:",
          `  - role: ${ACCESS_ROLE}`,
          `    clients: [${names.join(", ")}]`,
          "    policies: [AmazonEKSClusterAdminPolicy]",
          "",
        ].join("\n"),
      );
    },
  };
}
