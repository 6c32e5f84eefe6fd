/**
 * `xeks doctor` against emulators: moto_server (IAM, STS, EC2 in two accounts) and the EKS fixture. The good
 * setup, built by hand with SDK calls, passes; each single break fails exactly its link (and the links that
 * depend on it, named in the case) with its fix while every other link keeps passing; a denied read makes the
 * links that need it unknown; doctor makes no write call; credentials for the wrong account are refused.
 * Needs `npm run build` (runs bin/xeks).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { prove } from "../src/chain/prove.js";
import type { ChainReport } from "../src/chain/types.js";
import { loadLiveModel } from "../src/model/live/load.js";
import { DOCTOR_ACTIONS } from "../src/model/live/permissions.js";
import { loadTopology } from "../src/topology/load.js";
import type { EksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import {
  BREAKS,
  buildSetup,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  type Setup,
  type SetupOptions,
} from "./helpers/live-setup.js";
import type { Moto } from "./helpers/moto-server.js";

const CLIENT_ACCOUNT = "222222222222";
const CLIENT_FLAGS = ["--cluster-profile", "cluster", "--client-profile", "ops=ops"];

let moto: Moto;
let eks: EksFixture;
const live = useEmulators<Setup>((m, e) => {
  moto = m;
  eks = e;
});

/** Empty emulators, the good setup built again, an AWS home with profiles `cluster` and `ops`. */
async function fresh(options?: SetupOptions, topology?: (t: string) => string) {
  live.cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  const setup = await buildSetup(moto, eks, options);
  const home = await makeAwsHome(
    moto,
    eks,
    { cluster: CLUSTER_ACCOUNT, ops: CLIENT_ACCOUNT },
    { ambient: CLUSTER_ACCOUNT },
  );
  live.setup = setup;
  live.home = home;
  const file = join(home.dir, "xeks.yaml");
  writeFileSync(file, topology ? topology(setup.topology) : setup.topology);
  moto.clearCalls();
  eks.clearCalls();
  return { setup, home, file };
}

async function doctorJson(file: string, home: AwsHome, extra: string[] = CLIENT_FLAGS) {
  const r = await xeksAsync(["doctor", file, "-o", "json", ...extra], { env: home.env });
  let report: ChainReport | undefined;
  try {
    report = JSON.parse(r.stdout) as ChainReport;
  } catch {
    // asserted by the caller
  }
  return { ...r, report };
}

function statuses(report: ChainReport): Record<string, string> {
  return Object.fromEntries(report.links.map((l) => [l.id, l.status]));
}

describe("doctor on the good setup", () => {
  test("passes every link, exit 0, one JSON document, clean stderr", async () => {
    const { home, file } = await fresh();
    const r = await doctorJson(file, home);
    assert.equal(r.stderr, "", "nothing on stderr (no NodeVersionSupportWarning)");
    assert.equal(r.status, 0, r.stdout);
    assert.ok(r.report);
    assert.equal(r.report.kind, "ChainReport");
    assert.equal(r.report.mode, "live");
    assert.equal(r.report.verdict, "pass");
    // 13 chain links and the quota links: network.peering-quota, iam.policy-size of the client and access role.
    assert.equal(r.report.links.length, 16);
    for (const l of r.report.links) assert.equal(l.status, "pass", `${l.id}: ${l.summary}`);
    const evidence = r.report.links.flatMap((l) => l.evidence ?? []);
    assert.ok(
      evidence.some((e) => e.source === "live"),
      "evidence says the facts are live",
    );
  });

  test("text output and an HTML report; stderr stays clean", async () => {
    const { home, file } = await fresh();
    const html = join(home.dir, "doctor.html");
    const r = await xeksAsync(["doctor", file, ...CLIENT_FLAGS, "--report", html], { env: home.env });
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /eks\.access-policy/);
    assert.match(r.stdout, /verdict: pass/);
    assert.match(r.stdout, /read-only/);
    assert.ok(existsSync(html));
    const page = readFileSync(html, "utf8");
    assert.match(page, /<html/i);
    assert.match(page, /<svg/i);
  });

  test("makes no write call: everything moto and the EKS fixture saw is Describe/Get/List", async () => {
    const { home, file } = await fresh();
    await moto.clearRecording();
    const r = await doctorJson(file, home);
    assert.equal(r.status, 0, r.stdout);
    const recorded = moto.recording();
    assert.ok(recorded.length >= 10, `moto recorded ${recorded.length} requests`);
    for (const c of recorded) assert.match(c.action, /^(Describe|Get|List)[A-Z]/, `${c.service}:${c.action}`);
    assert.deepEqual(new Set(recorded.map((c) => c.service)), new Set(["sts", "iam", "ec2"]));
    assert.ok(new Set(recorded.map((c) => c.accessKeyId)).size >= 2, "both accounts' credentials were used");
    // The proxy saw the same requests moto recorded.
    assert.equal(moto.calls.length, recorded.length);
    // Every action is in the read-only policy of docs/doctor.md.
    const allowed = new Set<string>(Object.values(DOCTOR_ACTIONS).flat());
    for (const a of [
      ...recorded.map((c) => `${c.service}:${c.action}`),
      ...eks.calls.map((c) => `eks:${c.operation}`),
    ]) {
      if (a !== "sts:GetCallerIdentity") assert.ok(allowed.has(a), `${a} is in DOCTOR_POLICY`);
    }
    assert.ok(eks.calls.length >= 3);
    for (const c of eks.calls) {
      assert.equal(c.method, "GET", `${c.operation} ${c.path}`);
      assert.match(c.operation, /^(Describe|List)[A-Z]/);
    }
  });

  test("follows pagination: entries and policies over several pages", async () => {
    const { setup, home, file } = await fresh(undefined, (t) =>
      t.replace(
        "policies: [AmazonEKSClusterAdminPolicy]",
        "policies: [AmazonEKSClusterAdminPolicy, AmazonEKSViewPolicy]",
      ),
    );
    for (const name of ["a-platform", "b-ci", "c-audit"]) {
      await setup.eks.send(
        new CreateAccessEntryCommand({
          clusterName: CLUSTER_NAME,
          principalArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${name}`,
        }),
      );
    }
    await setup.eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: CLUSTER_NAME,
        principalArn: setup.accessRoleArn,
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        accessScope: { type: "cluster" },
      }),
    );
    assert.equal(eks.pageSize, 1);
    eks.clearCalls();
    const r = await doctorJson(file, home);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(statuses(r.report as ChainReport)["eks.access-policy"], "pass");
    assert.equal(eks.calls.filter((c) => c.operation === "ListAccessEntries").length, 4);
    assert.equal(eks.calls.filter((c) => c.operation === "ListAssociatedAccessPolicies").length, 2);
    assert.equal(
      eks.calls.filter((c) => c.operation === "DescribeAccessEntry").length,
      1,
      "only the relevant entry",
    );
  });

  test("retries throttled calls with backoff", async () => {
    const { home, file } = await fresh();
    eks.throttleNext(3);
    const r = await doctorJson(file, home);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(eks.calls.filter((c) => c.operation === "Throttled").length, 3);
  });

  test("ambient credentials serve the cluster account", async () => {
    const { home, file } = await fresh();
    const r = await doctorJson(file, home, ["--client-profile", "ops=ops"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.report?.verdict, "pass");
  });
});

describe("doctor on a broken setup: exactly the broken link fails, with its fix", () => {
  for (const b of BREAKS) {
    test(b.name, async () => {
      const { setup, home, file } = await fresh(b.options);
      await b.apply?.(setup, eks);
      const r = await doctorJson(file, home);
      assert.equal(r.stderr, "");
      assert.equal(r.status, 1, r.stdout);
      const report = r.report as ChainReport;
      assert.equal(report.verdict, "fail");
      const failing = { [b.link]: b.fix, ...b.alsoFails };
      for (const l of report.links) {
        const fix = failing[l.id];
        if (fix) {
          assert.equal(l.status, "fail", `${l.id} should fail: ${l.summary}`);
          assert.ok(l.fix?.includes(fix), `${l.id} fix should mention "${fix}": ${l.fix}`);
        } else {
          assert.equal(l.status, "pass", `${l.id} should keep passing: ${l.summary}`);
        }
      }
      assert.equal(report.links.length, 16);
    });
  }

  test("an expired peering (EC2 expires unaccepted requests after a week; moto cannot): the live model, in process", async () => {
    const { home, file } = await fresh();
    const saved = { ...process.env };
    try {
      for (const [k, v] of Object.entries(home.env)) if (k !== "PATH" && v !== undefined) process.env[k] = v;
      const topology = loadTopology(file);
      const { model, stats } = await loadLiveModel(topology, {
        clusterProfile: "cluster",
        clientProfiles: { ops: "ops" },
      });
      assert.equal(stats.calls, moto.calls.length + eks.calls.length, "every call is counted");
      const p = model.peerings[0];
      assert.ok(p);
      assert.equal(p.status, "active");
      p.status = "expired";
      const report = await prove(topology, model, "live");
      const s = statuses(report);
      assert.equal(s["network.peering"], "fail");
      assert.match(
        report.links.find((l) => l.id === "network.peering")?.fix ?? "",
        /create-vpc-peering-connection/,
      );
      // Routes through an expired peering must be replaced once a new one exists.
      assert.equal(s["network.route.client-to-cluster"], "fail");
      assert.equal(s["iam.client-role"], "pass");
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test("a CONFIG_MAP cluster refusing access-entry calls (as EKS does): no entry, not unknown", async () => {
    const { home, file } = await fresh();
    const c = eks.clusters.get(CLUSTER_NAME);
    if (c) c.authenticationMode = "CONFIG_MAP";
    eks.enforceAuthenticationMode = true;
    const r = await doctorJson(file, home);
    assert.equal(r.status, 1);
    const s = statuses(r.report as ChainReport);
    assert.equal(s["eks.authentication-mode"], "fail");
    assert.equal(s["eks.access-entry"], "fail");
    assert.equal(s["network.peering"], "pass");
  });
});

describe("doctor when a read is denied: the links that need it are unknown, never pass", () => {
  const cases: {
    name: string;
    deny: (m: Moto, e: EksFixture) => void;
    unknown: string[];
    permission: string;
  }[] = [
    {
      name: "iam:GetRole",
      deny: (m) => m.deny("iam:GetRole"),
      unknown: ["iam.client-role", "iam.assume-permission", "iam.access-role-trust", "iam.describe-cluster"],
      permission: "iam:GetRole",
    },
    {
      name: "iam:GetRolePolicy",
      deny: (m) => m.deny("iam:GetRolePolicy"),
      unknown: ["iam.client-role", "iam.assume-permission", "iam.access-role-trust", "iam.describe-cluster"],
      permission: "iam:GetRolePolicy",
    },
    {
      name: "ec2:DescribeRouteTables",
      deny: (m) => m.deny("ec2:DescribeRouteTables"),
      unknown: ["network.route.client-to-cluster", "network.route.cluster-to-client"],
      permission: "ec2:DescribeRouteTables",
    },
    {
      name: "ec2:DescribeSecurityGroupRules",
      deny: (m) => m.deny("ec2:DescribeSecurityGroupRules"),
      unknown: ["network.security-group"],
      permission: "ec2:DescribeSecurityGroupRules",
    },
    {
      name: "ec2:DescribeInstances",
      deny: (m) => m.deny("ec2:DescribeInstances"),
      unknown: ["iam.client-role"],
      permission: "ec2:DescribeInstances",
    },
    {
      name: "eks:DescribeCluster",
      deny: (_m, e) => e.deny("DescribeCluster"),
      unknown: ["network.endpoint", "eks.authentication-mode"],
      permission: "eks:DescribeCluster",
    },
    {
      name: "eks:ListAccessEntries",
      deny: (_m, e) => e.deny("ListAccessEntries"),
      unknown: ["eks.access-entry", "eks.access-policy"],
      permission: "eks:ListAccessEntries",
    },
    {
      name: "eks:ListAssociatedAccessPolicies",
      deny: (_m, e) => e.deny("ListAssociatedAccessPolicies"),
      unknown: ["eks.access-entry", "eks.access-policy"],
      permission: "eks:ListAssociatedAccessPolicies",
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { home, file } = await fresh();
      c.deny(moto, eks);
      const r = await doctorJson(file, home);
      assert.equal(r.status, 1, r.stdout);
      const report = r.report as ChainReport;
      assert.equal(report.verdict, "unknown");
      for (const l of report.links) {
        if (c.unknown.includes(l.id)) {
          assert.equal(l.status, "unknown", `${l.id}: ${l.summary}`);
          assert.ok(
            `${l.summary} ${l.fix}`.includes(c.permission),
            `${l.id} names ${c.permission}: ${l.fix}`,
          );
        } else {
          assert.equal(l.status, "pass", `${l.id}: ${l.summary}`);
        }
      }
    });
  }

  test("peerings denied in the cluster account are read from the client account", async () => {
    const { home, file } = await fresh();
    const key = home.credentials.get(CLUSTER_ACCOUNT)?.accessKeyId;
    moto.deny(`ec2:DescribeVpcPeeringConnections@${key}`);
    const r = await doctorJson(file, home);
    assert.equal(r.status, 0, r.stdout);
    assert.equal(statuses(r.report as ChainReport)["network.peering"], "pass");
    const denied = moto.calls.filter((c) => c.action === "DescribeVpcPeeringConnections");
    assert.ok(denied.some((c) => c.accessKeyId === key) && denied.some((c) => c.accessKeyId !== key));
  });

  test("peerings denied in both accounts: network.peering is unknown", async () => {
    const { home, file } = await fresh();
    moto.deny("ec2:DescribeVpcPeeringConnections");
    const r = await doctorJson(file, home);
    const l = (r.report as ChainReport).links.find((x) => x.id === "network.peering");
    assert.equal(l?.status, "unknown");
    assert.match(`${l?.fix}`, /ec2:DescribeVpcPeeringConnections/);
    assert.equal(r.status, 1);
  });
});

describe("doctor refuses bad input (exit 2)", () => {
  test("a profile for the wrong account, before any other call", async () => {
    const { home, file } = await fresh();
    const r = await doctorJson(file, home, ["--cluster-profile", "ops", "--client-profile", "ops=ops"]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /profile ops \(for the cluster\) belong to account 222222222222/);
    assert.match(r.stderr, /--cluster-profile/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    assert.ok(
      moto.calls.every((c) => c.action === "GetCallerIdentity"),
      JSON.stringify(moto.calls),
    );
    assert.equal(eks.calls.length, 0);
  });

  test("a client profile naming a client the topology does not have", async () => {
    const { home, file } = await fresh();
    const r = await doctorJson(file, home, ["--client-profile", "nobody=ops"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--client-profile/);
    assert.equal(moto.calls.length, 0);
  });

  test("a malformed --client-profile and a missing file", async () => {
    const { home, file } = await fresh();
    const bad = await doctorJson(file, home, ["--client-profile", "ops"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /NAME=PROFILE/);
    const missing = await doctorJson(join(home.dir, "nope.yaml"), home);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.yaml/);
  });

  test("a profile that does not exist", async () => {
    const { home, file } = await fresh();
    const r = await doctorJson(file, home, ["--cluster-profile", "nonesuch", "--client-profile", "ops=ops"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nonesuch/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
