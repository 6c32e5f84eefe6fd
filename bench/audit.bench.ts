/**
 * `xeks audit` on a large cluster, at the emulators (moto_server + the EKS emulator): the clean setup plus 500
 * access entries (450 roles that exist, 50 deleted) and 50 more peerings of the cluster VPC (40 with a route, 10
 * unused). Runs the library's runAudit with 8 calls in flight and with 1, on the bare emulators and with 30 ms added
 * to every request (about a regional AWS round trip). Prints wall times and the calls counted, by action (the
 * library's count and what the emulators saw); asserts the findings, nothing about time.
 */
import assert from "node:assert/strict";
import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
} from "@aws-sdk/client-ec2";
import { CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { runAudit } from "../src/audit/index.js";
import { startEksFixture } from "../test/helpers/eks-fixture.js";
import { makeAwsHome } from "../test/helpers/live-env.js";
import { buildSetup, CLUSTER_ACCOUNT, CLUSTER_NAME, REGION } from "../test/helpers/live-setup.js";
import { startMoto } from "../test/helpers/moto-server.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ENTRIES = 500;
const MISSING = 50;
const PEERINGS = 50;
const ROUTED = 40;
const LATENCY_MS = 30;

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** Run `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const moto = await startMoto();
const eks = await startEksFixture();
try {
  const t0 = performance.now();
  const setup = await buildSetup(moto, eks, { instance: false });
  const iam = setup.iam(CLUSTER_ACCOUNT);
  const ec2 = setup.ec2(CLUSTER_ACCOUNT);
  const names = Array.from({ length: ENTRIES }, (_, i) => `bench-role-${String(i).padStart(3, "0")}`);
  await pool(names.slice(MISSING), 8, (RoleName) =>
    iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: TRUST })),
  );
  await pool(names, 8, (name) =>
    setup.eks.send(
      new CreateAccessEntryCommand({
        clusterName: CLUSTER_NAME,
        principalArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${name}`,
        type: "STANDARD",
      }),
    ),
  );
  await pool(
    Array.from({ length: PEERINGS }, (_, i) => i),
    8,
    async (i) => {
      const cidr = `10.${120 + i}.0.0/16`;
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc?.VpcId;
      const pcx = (
        await ec2.send(
          new CreateVpcPeeringConnectionCommand({
            VpcId: setup.cluster.vpcId,
            PeerVpcId: vpc,
            PeerOwnerId: CLUSTER_ACCOUNT,
          }),
        )
      ).VpcPeeringConnection?.VpcPeeringConnectionId;
      await ec2.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
      if (i < ROUTED) {
        await ec2.send(
          new CreateRouteCommand({
            RouteTableId: setup.cluster.routeTableId,
            DestinationCidrBlock: cidr,
            VpcPeeringConnectionId: pcx,
          }),
        );
      }
    },
  );
  const setupMs = performance.now() - t0;
  const home = await makeAwsHome(moto, eks, { cluster: CLUSTER_ACCOUNT });
  for (const [k, v] of Object.entries(home.env)) if (k !== "PATH" && v !== undefined) process.env[k] = v;
  // EKS answers ListAccessEntries with up to 100 entries a page.
  eks.pageSize = 100;

  const run = async (concurrency: number) => {
    moto.clearCalls();
    eks.clearCalls();
    const t = performance.now();
    const report = await runAudit({
      clusterName: CLUSTER_NAME,
      region: REGION,
      clusterProfile: "cluster",
      concurrency,
    });
    const ms = performance.now() - t;
    const count = (id: string) => report.findings.filter((f) => f.id === id).length;
    assert.equal(count("entry.principal-missing"), MISSING);
    assert.equal(count("peering.unused"), PEERINGS - ROUTED);
    assert.equal(report.findings.length, MISSING + PEERINGS - ROUTED);
    assert.equal(report.stats?.byAction["iam:GetRole"], ENTRIES + 1, "one read per principal");
    return { ms, report, seen: moto.calls.length + eks.calls.length };
  };

  process.stdout.write(
    `setup by hand in the emulators: ${ENTRIES} access entries (${MISSING} of deleted roles), ${PEERINGS} more peerings ` +
      `(${PEERINGS - ROUTED} without a route), ${Math.round(setupMs)} ms\n\n`,
  );
  process.stdout.write("latency/request  concurrency  wall      API calls  at the emulators  findings\n");
  let last: Awaited<ReturnType<typeof run>> | undefined;
  for (const latency of [0, LATENCY_MS]) {
    moto.latencyMs = latency;
    eks.latencyMs = latency;
    await run(8); // warm up (module loading, connections)
    for (const concurrency of [8, 1]) {
      const r = await run(concurrency);
      last = r;
      process.stdout.write(
        `${`${latency} ms`.padEnd(17)}${String(concurrency).padEnd(13)}${`${(r.ms / 1000).toFixed(2)} s`.padEnd(10)}` +
          `${String(r.report.stats?.calls).padEnd(11)}${String(r.seen).padEnd(18)}${r.report.findings.length}\n`,
      );
    }
  }
  process.stdout.write("\ncalls by action (one run):\n");
  for (const [action, n] of Object.entries(last?.report.stats?.byAction ?? {}).sort()) {
    process.stdout.write(`  ${action.padEnd(40)}${n}\n`);
  }
  setup.destroy();
  home.cleanup();
} finally {
  await eks.stop();
  await moto.stop();
}
