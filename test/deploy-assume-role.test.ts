/**
 * `--assume-role-name`: one base credential (the lab's static keys, profile `base`, moto's account
 * 123456789012), a 3-client topology across 4 accounts, each account holding an OrganizationAccountAccessRole
 * that trusts the base account (created in moto; moto's sts:AssumeRole returns credentials of the account the
 * role ARN names). deploy reaches every account through that role; a per-account profile still wins and is
 * still checked against its account; a refused AssumeRole (test/helpers/sts-deny-proxy.ts: moto does not
 * evaluate trust policies) names the account, the role and what to check. The watch command printed after an
 * interrupt runs in a shell with the real aws CLI and asks the stack's own account; discover reaches each client
 * account through the role. Run `npm run build` first: these run bin/xeks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateRouteTableCommand, CreateVpcCommand } from "@aws-sdk/client-ec2";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { assumedRoleProvider, parseAssumeRoleName, roleArnInAccount } from "../src/aws/assume-role-name.js";
import { credentialSets } from "../src/deploy/credentials.js";
import { RunTracker, watchCommand } from "../src/deploy/in-flight.js";
import { InputError, OperationError } from "../src/errors.js";
import {
  ACCESS_ROLE,
  CLIENT_ACCOUNT,
  CLIENT_ROLE,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  type Lab,
  REGION,
  startLab,
} from "./helpers/moto-deploy.js";
import { xeksAsync } from "./helpers/spawn.js";
import { startStsDenyProxy } from "./helpers/sts-deny-proxy.js";

const ROLE = "OrganizationAccountAccessRole";
const CLIENTS = [
  { name: "alpha", account: CLIENT_ACCOUNT, cidr: "172.31.0.0/16" },
  { name: "beta", account: "444444444444", cidr: "172.20.0.0/16" },
  { name: "gamma", account: "555555555555", cidr: "172.21.0.0/16" },
];

describe("unit: --assume-role-name", () => {
  test("the role name is checked; the ARN's partition follows the region", () => {
    assert.equal(parseAssumeRoleName("OrganizationAccountAccessRole"), ROLE);
    assert.throws(() => parseAssumeRoleName("team/Deployer"), InputError, "a role name has no path");
    assert.throws(() => parseAssumeRoleName("arn:aws:iam::111111111111:role/X"), InputError);
    assert.throws(() => parseAssumeRoleName("has space"), InputError);
    assert.equal(
      roleArnInAccount("111111111111", ROLE, "eu-west-1"),
      `arn:aws:iam::111111111111:role/${ROLE}`,
    );
    assert.equal(
      roleArnInAccount("111111111111", ROLE, "cn-north-1"),
      `arn:aws-cn:iam::111111111111:role/${ROLE}`,
    );
  });

  test("a per-account profile wins; the others assume the role, one provider per account", () => {
    const made: (string | undefined)[] = [];
    const factory = (profile: string | undefined) => {
      made.push(profile);
      return async () => ({ accessKeyId: "AKIA", secretAccessKey: "s" });
    };
    const topology = {
      cluster: { account: CLUSTER_ACCOUNT, region: REGION },
      clients: [
        { name: "a", account: CLIENT_ACCOUNT, region: REGION },
        { name: "b", account: "444444444444", region: REGION },
        { name: "c", account: "444444444444", region: REGION },
      ],
    } as unknown as Parameters<typeof credentialSets>[0];
    const sets = credentialSets(
      topology,
      { clientProfiles: { a: "ops" }, assumeRoleName: ROLE, profile: "base" },
      factory,
    );
    assert.equal(sets.get("client a")?.profile, "ops");
    assert.equal(sets.get("client a")?.role, undefined);
    assert.equal(sets.get("cluster")?.role, `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${ROLE}`);
    assert.equal(sets.get("client b")?.role, `arn:aws:iam::444444444444:role/${ROLE}`);
    assert.equal(
      sets.get("client b")?.provider,
      sets.get("client c")?.provider,
      "one assumption per account",
    );
    assert.notEqual(sets.get("cluster")?.provider, sets.get("client b")?.provider);
    assert.deepEqual(made.sort(), ["base", "ops"], "the base session and the per-account profile");
  });

  test("AccessDenied names the account, the role, the base identity and what to check", async () => {
    const sent: string[] = [];
    const sts = {
      async send(command: { constructor: { name: string } }) {
        sent.push(command.constructor.name);
        if (command.constructor.name === "AssumeRoleCommand") {
          throw Object.assign(new Error("User: arn:aws:iam::123456789012:user/ci is not authorized"), {
            name: "AccessDenied",
            $metadata: { httpStatusCode: 403 },
          });
        }
        return { Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/ci", UserId: "AIDA" };
      },
    };
    const provider = assumedRoleProvider(
      async () => ({ accessKeyId: "AKIA", secretAccessKey: "s" }),
      {
        roleArn: `arn:aws:iam::444444444444:role/${ROLE}`,
        account: "444444444444",
        region: REGION,
        who: "client beta",
        base: "the ambient credentials",
        flag: "--client-profile beta=PROFILE",
      },
      () => sts as never,
    );
    await assert.rejects(provider(), (err: unknown) => {
      assert.ok(err instanceof OperationError);
      assert.match(
        err.message,
        /cannot assume arn:aws:iam::444444444444:role\/OrganizationAccountAccessRole in account 444444444444 \(for client beta\) with the ambient credentials \(arn:aws:iam::123456789012:user\/ci\): AccessDenied/,
      );
      assert.match(err.hint ?? "", /role OrganizationAccountAccessRole exists in account 444444444444/);
      assert.match(
        err.hint ?? "",
        /trust policy allows sts:AssumeRole by the base identity arn:aws:iam::123456789012:user\/ci/,
      );
      assert.match(err.hint ?? "", /--client-profile beta=PROFILE/);
      return true;
    });
    assert.deepEqual(sent, ["AssumeRoleCommand", "GetCallerIdentityCommand"]);
  });
});

describe("deploy --assume-role-name against the emulator", () => {
  let lab: Lab;
  let file: string;
  let env: NodeJS.ProcessEnv;
  const stack = {
    base: `xeks-${CLUSTER_NAME}-cluster-base`,
    access: `xeks-${CLUSTER_NAME}-cluster-access-${ACCESS_ROLE}`,
    identity: (c: string) => `xeks-${CLUSTER_NAME}-client-${c}-identity`,
    clientLink: (c: string) => `xeks-${CLUSTER_NAME}-client-${c}-link`,
    clusterLink: (c: string) => `xeks-${CLUSTER_NAME}-cluster-link-${c}`,
  };
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    xeksAsync(args, { cwd: lab.dir, env: { ...env, ...extra }, timeoutMs: 240_000 });

  before(async () => {
    lab = await startLab();
    // The base session: the lab's static keys (profile base), in moto's default account.
    env = { ...lab.env, AWS_PROFILE: "base" };
    const sts = new STSClient({
      region: REGION,
      endpoint: lab.moto.url,
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x".repeat(40) },
    });
    const baseAccount = (await sts.send(new GetCallerIdentityCommand({}))).Account as string;
    sts.destroy();
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${baseAccount}:root` }, Action: "sts:AssumeRole" },
      ],
    });
    const vpcs: { id: string; rtb: string }[] = [];
    for (const c of CLIENTS) {
      if (c.account === CLIENT_ACCOUNT) {
        vpcs.push({ id: lab.client.vpcId, rtb: lab.client.routeTableId });
        continue;
      }
      const ec2 = await lab.ec2(c.account);
      const id = (await ec2.send(new CreateVpcCommand({ CidrBlock: c.cidr }))).Vpc?.VpcId as string;
      const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: id }))).RouteTable
        ?.RouteTableId as string;
      vpcs.push({ id, rtb });
    }
    for (const account of [CLUSTER_ACCOUNT, ...CLIENTS.map((c) => c.account)]) {
      const iam = await lab.iam(account);
      await iam.send(new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: trust }));
    }
    file = join(lab.dir, "org.yaml");
    writeFileSync(
      file,
      [
        ...lab.clusterYaml(),
        "clients:",
        ...CLIENTS.flatMap((c, i) => [
          `  - name: ${c.name}`,
          `    account: "${c.account}"`,
          `    vpc: { id: ${vpcs[i]?.id}, cidr: ${c.cidr}, routeTables: [${vpcs[i]?.rtb}] }`,
          `    role: ${CLIENT_ROLE}`,
        ]),
        "access:",
        `  - role: ${ACCESS_ROLE}`,
        `    clients: [${CLIENTS.map((c) => c.name).join(", ")}]`,
        "    policies: [AmazonEKSClusterAdminPolicy]",
        "",
      ].join("\n"),
    );
  });
  after(async () => {
    await lab?.stop();
  });

  test("a per-account profile of the wrong account wins over the role, and is refused before any change", async () => {
    const r = await run([
      "deploy",
      file,
      "--yes",
      "--assume-role-name",
      ROLE,
      "--client-profile",
      "beta=wrong",
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /do not match the topology's accounts.*nothing was changed/);
    assert.match(r.stderr, /profile wrong \(for client beta\) belong to account 333333333333/);
    assert.match(r.stderr, /--client-profile beta=PROFILE/);
    assert.deepEqual([...(await lab.stacks(CLUSTER_ACCOUNT)).keys()], []);
  });

  test("a refused AssumeRole names the account, the role ARN and the trust to check (exit 1, nothing changed)", async () => {
    const proxy = await startStsDenyProxy(
      lab.moto.url,
      "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: %ROLE%",
    );
    try {
      const r = await run(["diff", file, "--assume-role-name", ROLE], { AWS_ENDPOINT_URL_STS: proxy.url });
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        /cannot assume arn:aws:iam::\d{12}:role\/OrganizationAccountAccessRole in account \d{12} \(for (the cluster|client \w+)\) with the ambient credentials/,
      );
      assert.match(r.stderr, /AccessDenied/);
      assert.match(r.stderr, /its trust policy allows sts:AssumeRole by the base identity/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
      assert.ok(proxy.denied >= 1);
    } finally {
      await proxy.close();
    }
  });

  test("one base credential deploys every stack of 4 accounts, each in its own account", async () => {
    const r = await run(["deploy", file, "--yes", "--no-doctor", "--assume-role-name", ROLE]);
    assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
    for (const c of CLIENTS) {
      assert.match(
        r.stderr,
        new RegExp(
          `credentials for client ${c.name}: role arn:aws:iam::${c.account}:role/${ROLE} -> arn:aws:sts::${c.account}:assumed-role/${ROLE}/xeks`,
        ),
      );
    }
    assert.match(r.stdout, /Deployed cluster prac-eks-abhi: 11 stack\(s\) in 4 phase\(s\)/);
    assert.deepEqual(
      [...(await lab.stacks(CLUSTER_ACCOUNT)).entries()].sort(),
      [stack.base, stack.access, ...CLIENTS.map((c) => stack.clusterLink(c.name))]
        .map((s) => [s, "CREATE_COMPLETE"])
        .sort(),
    );
    for (const c of CLIENTS) {
      assert.deepEqual([...(await lab.stacks(c.account)).entries()].sort(), [
        [stack.identity(c.name), "CREATE_COMPLETE"],
        [stack.clientLink(c.name), "CREATE_COMPLETE"],
      ]);
    }
  });

  test("the watch command printed after an interrupt asks the stack's own account, through the role", async () => {
    const t = new RunTracker("deploy");
    const beta = CLIENTS[1] as (typeof CLIENTS)[number];
    t.know([
      {
        name: stack.identity(beta.name),
        phase: 1,
        account: beta.account,
        region: REGION,
        credentials: `client ${beta.name}`,
        role: roleArnInAccount(beta.account, ROLE, REGION),
        baseProfile: "base",
      },
    ]);
    t.observe({
      type: "stack",
      stack: stack.identity(beta.name),
      phase: 1,
      account: beta.account,
      action: "create",
      status: "started",
    });
    const cmd = watchCommand(t.state) as string;
    // As a user pastes it: a shell, the real aws CLI, the base session named by --profile, no AWS_PROFILE.
    const sh = spawnSync("sh", ["-c", cmd], {
      env: {
        ...Object.fromEntries(Object.entries(env).filter(([k]) => k !== "AWS_PROFILE")),
        AWS_DEFAULT_OUTPUT: "json",
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(sh.status, 0, sh.stderr);
    const doc = JSON.parse(sh.stdout);
    assert.equal(doc.Stacks?.[0]?.StackName, stack.identity(beta.name));
    assert.match(doc.Stacks?.[0]?.StackId ?? "", new RegExp(`:${beta.account}:stack/`));
  });

  test("diff with the base session named by --profile: nothing to change", async () => {
    const r = await run(["diff", file, "--profile", "base", "--assume-role-name", ROLE], { AWS_PROFILE: "" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nothing to change/);
  });

  test("doctor reads every account through the role", async () => {
    const r = await run(["doctor", file, "--assume-role-name", ROLE, "--output", "json"]);
    assert.notEqual(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /do not match the topology's accounts|cannot use/);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, "ChainReport");
  });

  test("discover reaches every client account through the role (the cluster with its own profile)", async () => {
    const r = await run([
      "discover",
      "--cluster-name",
      CLUSTER_NAME,
      "--region",
      REGION,
      "--cluster-profile",
      "cluster",
      ...CLIENTS.flatMap((c) => ["--client-account", `${c.name}=${c.account}:${CLIENT_ROLE}`]),
      "--role-arn",
      ACCESS_ROLE,
      "--assume-role-name",
      ROLE,
      "--out",
      "-",
      "--output",
      "json",
    ]);
    // Every client session passed the account check (each client account through the role); the emulator's
    // cluster has no access entries from CloudFormation, which stops discover later (exit 1), on the cluster side.
    assert.notEqual(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /do not match|belong to account|cannot use|cannot assume/);
    assert.match(
      r.stderr,
      /access role EKS-CrossAccount-Access-Role has no access entry on prac-eks-abhi|^$/,
    );
    // Without the role, the base session's account is not the clients': the account check refuses.
    const without = await run([
      "discover",
      "--cluster-name",
      CLUSTER_NAME,
      "--region",
      REGION,
      "--cluster-profile",
      "cluster",
      "--client-account",
      `beta=444444444444:${CLIENT_ROLE}`,
      "--out",
      "-",
    ]);
    assert.equal(without.status, 2, without.stderr);
    assert.match(without.stderr, /client beta.*444444444444|444444444444.*client beta/);
  });

  test("discover: --assume-role-name with a path is refused, naming the flag (exit 2)", async () => {
    const r = await run([
      "discover",
      "--cluster-name",
      CLUSTER_NAME,
      "--client-account",
      `beta=444444444444:${CLIENT_ROLE}`,
      "--assume-role-name",
      "a/b",
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--assume-role-name/);
  });

  test("a --profile that gives no credentials is named as that profile and flag, not as the ambient credentials (exit 2)", async () => {
    const r = await run(["doctor", file, "--profile", "no-such-profile", "--assume-role-name", ROLE], {
      AWS_PROFILE: "",
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /profile no-such-profile gives no credentials/);
    assert.match(r.stderr, /--profile/);
    assert.doesNotMatch(r.stderr, /ambient credentials/);
  });
});
