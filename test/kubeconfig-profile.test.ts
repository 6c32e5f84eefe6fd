/**
 * `xeks kubeconfig --profile P`: xeks's own AssumeRole and DescribeCluster are signed with P's keys (the identity
 * `xeks token` will use through the pinned AWS_PROFILE), even with other keys in the environment and with no
 * default credentials at all; a profile that does not exist is invalid input naming it. moto_server records
 * the access key id of every request (from the Authorization header's Credential=).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { parse } from "yaml";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { createClusterAsRole } from "./helpers/moto-cluster.js";
import { xeksAsync } from "./helpers/spawn.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const ACCESS_ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";
const CLUSTER = "profile-cluster";
const ENV_KEY = "AKIAENVIRONMENTKEY01";
const PROFILE_KEY = "AKIAPROFILEKEYOPS001";

let moto: MotoServer;
const envs: IsolatedEnv[] = [];
before(async () => {
  moto = await startMoto();
  // The cluster lives in account 111111111111: create it as the access role.
  await createClusterAsRole(moto.url, ACCESS_ROLE, CLUSTER);
  // And one in the account of plain keys (moto's default account), for DescribeCluster without a role.
  const own = new EKSClient({
    region: "ap-south-1",
    endpoint: moto.url,
    credentials: { accessKeyId: "AKIASETUPEXAMPLE0001", secretAccessKey: "x".repeat(40) },
  });
  await own.send(
    new CreateClusterCommand({
      name: CLUSTER,
      roleArn: "arn:aws:iam::123456789012:role/eks-cluster",
      resourcesVpcConfig: { subnetIds: ["subnet-0aaa1111bbbb2222c"] },
    }),
  );
  own.destroy();
});
after(async () => {
  await moto?.stop();
  for (const e of envs) e.cleanup();
});

/** An isolated environment with profile `ops` (its own keys and region) in the shared files. */
function isolated(vars: Record<string, string | undefined>): IsolatedEnv {
  const e = isolatedAwsEnv({
    config: "[profile ops]\nregion = ap-south-1\n",
    credentials: `[ops]\naws_access_key_id = ${PROFILE_KEY}\naws_secret_access_key = ${"p".repeat(40)}\n`,
    vars: { AWS_ENDPOINT_URL: moto.url, ...vars },
  });
  envs.push(e);
  return e;
}

const FLAGS = ["kubeconfig", "--cluster-name", CLUSTER, "--role-arn", ACCESS_ROLE];

describe("--profile P signs xeks's own calls with P's keys", () => {
  test("environment keys set too: AssumeRole is signed by P's key, DescribeCluster by the session it got", async () => {
    await moto.clearRecording();
    const e = isolated({ AWS_ACCESS_KEY_ID: ENV_KEY, AWS_SECRET_ACCESS_KEY: "e".repeat(40) });
    const r = await xeksAsync([...FLAGS, "--region", "ap-south-1", "--profile", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const requests = moto.requests();
    const assume = requests.filter((q) => q.action === "AssumeRole");
    assert.equal(assume.length, 1);
    assert.equal(assume[0]?.accessKeyId, PROFILE_KEY, "signed by the profile, not the environment's key");
    const describe = requests.filter((q) => q.action === "DescribeCluster");
    assert.equal(describe.length, 1);
    assert.match(describe[0]?.accessKeyId ?? "", /^ASIA/, "signed by the access role's session");
    assert.deepEqual(
      requests.filter((q) => q.accessKeyId === ENV_KEY).map((q) => q.action),
      [],
      "nothing signed by the environment's key",
    );
    const doc = parse(readFileSync(join(e.home, ".kube", "config"), "utf8"));
    assert.deepEqual(doc.users[0].user.exec.env, [{ name: "AWS_PROFILE", value: "ops" }]);
  });

  test("no default credentials at all: --profile P alone works, and the region comes from P", async () => {
    await moto.clearRecording();
    const e = isolated({});
    const r = await xeksAsync([...FLAGS, "--profile", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(moto.requests().find((q) => q.action === "AssumeRole")?.accessKeyId, PROFILE_KEY);
    const doc = parse(readFileSync(join(e.home, ".kube", "config"), "utf8"));
    assert.equal(doc.clusters[0].name, `arn:aws:eks:ap-south-1:111111111111:cluster/${CLUSTER}`);
  });

  test("no --role-arn: DescribeCluster itself is signed by P's key, not the environment's", async () => {
    await moto.clearRecording();
    const e = isolated({ AWS_ACCESS_KEY_ID: ENV_KEY, AWS_SECRET_ACCESS_KEY: "e".repeat(40) });
    const r = await xeksAsync(["kubeconfig", "--cluster-name", CLUSTER, "--profile", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const describe = moto.requests().filter((q) => q.action === "DescribeCluster");
    assert.deepEqual(
      describe.map((q) => q.accessKeyId),
      [PROFILE_KEY],
    );
  });

  test("without --profile, AWS_PROFILE=P is the same identity", async () => {
    await moto.clearRecording();
    const e = isolated({
      AWS_PROFILE: "ops",
      AWS_ACCESS_KEY_ID: ENV_KEY,
      AWS_SECRET_ACCESS_KEY: "e".repeat(40),
    });
    const r = await xeksAsync(FLAGS, { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(moto.requests().find((q) => q.action === "AssumeRole")?.accessKeyId, PROFILE_KEY);
  });

  test("without a profile, the ambient credentials sign (environment keys)", async () => {
    await moto.clearRecording();
    const e = isolated({ AWS_ACCESS_KEY_ID: ENV_KEY, AWS_SECRET_ACCESS_KEY: "e".repeat(40) });
    const r = await xeksAsync([...FLAGS, "--region", "ap-south-1"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(moto.requests().find((q) => q.action === "AssumeRole")?.accessKeyId, ENV_KEY);
  });
});

describe("a profile that does not exist", () => {
  for (const [name, args, vars, flag] of [
    ["--profile", ["--profile", "nope"], {}, "--profile"],
    ["AWS_PROFILE", [], { AWS_PROFILE: "nope" }, "AWS_PROFILE"],
  ] as const) {
    test(`${name}: exit 2 naming the profile and where it was looked for; no AWS call, nothing written`, async () => {
      await moto.clearRecording();
      const e = isolated({ AWS_ACCESS_KEY_ID: ENV_KEY, AWS_SECRET_ACCESS_KEY: "e".repeat(40), ...vars });
      const r = await xeksAsync([...FLAGS, "--region", "ap-south-1", ...args], { env: e.env });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /the AWS profile nope does not exist/);
      assert.match(
        r.stderr,
        new RegExp(`${flag}: no \\[profile nope\\] in .*config and no \\[nope\\] in .*credentials`),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(moto.requests().length, 0);
      assert.throws(() => readFileSync(join(e.home, ".kube", "config")), "nothing written");
    });
  }
});
