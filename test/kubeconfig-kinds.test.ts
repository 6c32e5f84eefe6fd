/**
 * The kubeconfig per client kind (docs/clients.md, "kubeconfig per kind"), on examples/people.yaml: every kind
 * gets the same exec entry (`xeks token --role-arn ACCESS_ROLE`); what differs is where `xeks token` finds its
 * first credentials, and these tests run the real `bin/xeks token` (needs `npm run build`) with each source,
 * the real SDK providers reading them, and moto_server answering sts:AssumeRole:
 * - sso: an IAM Identity Center profile (`sso_session`) and the token cache `aws sso login` leaves; moto has
 *   no Identity Center portal (GetRoleCredentials), so a local one answers (test/helpers/credential-endpoints.ts);
 * - oidc: the environment keys aws-actions/configure-aws-credentials exports (got from moto's
 *   AssumeRoleWithWebIdentity of the pipeline's role);
 * - pod-identity: the container credentials EKS Pod Identity injects, served on 127.0.0.1.
 * The kubeconfig's shape per kind is checked in-process (`generateKubeconfig`, dry run, the topology with its
 * endpoint and CA: no AWS call). Nothing leaves 127.0.0.1.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { parse } from "yaml";
import { credentialProvider } from "../src/aws/credentials.js";
import { InputError } from "../src/errors.js";
import { generateKubeconfig, isNpxBinDir, permissionSetAdmits, SELF_BIN } from "../src/kubeconfig/index.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import {
  type FakeCredentials,
  type FakeEndpoint,
  startFakeContainerCredentials,
  startFakeSsoPortal,
  writeSsoTokenCache,
} from "./helpers/credential-endpoints.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { createClusterAsRole } from "./helpers/moto-cluster.js";
import { xeksAsync } from "./helpers/spawn.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const CLUSTER = "prac-eks-abhi";
const REGION = "ap-south-1";
const role = (name: string) => `arn:aws:iam::111111111111:role/${name}`;
const PEOPLE_ROLE = role("EKS-PlatformEngineers-Access-Role");
const DEPLOY_ROLE = role("EKS-Deploy-Access-Role");
const ARGOCD_ROLE = role("EKS-ArgoCD-Access-Role");
const ENDPOINT = "https://0123456789ABCDEF0123456789ABCDEF.gr7.ap-south-1.eks.amazonaws.com";
const CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==";

const SSO_TOKEN = "aoaAAAAAGXeksTestSsoAccessToken0123456789";
const SSO_KEYS: FakeCredentials = {
  accessKeyId: "ASIASSOPLATFORMENG01",
  secretAccessKey: "s".repeat(40),
  sessionToken: "sso-session-token",
  expiration: new Date(Date.now() + 3_600_000),
};
const POD_AUTH = "pod-identity-authorization-token-0123456789";
const POD_KEYS: FakeCredentials = {
  accessKeyId: "ASIAPODIDENTITYROLE1",
  secretAccessKey: "p".repeat(40),
  sessionToken: "pod-identity-session-token",
  expiration: new Date(Date.now() + 3_600_000),
};

/** An Identity Center profile (sso-session form) per permission set, as `aws configure sso` writes them. */
const SSO_CONFIG = `[profile platform]
sso_session = acme
sso_account_id = 333333333333
sso_role_name = PlatformEngineers
region = ap-south-1

[profile readers]
sso_session = acme
sso_account_id = 333333333333
sso_role_name = Readers

[profile elsewhere]
sso_session = acme
sso_account_id = 999999999999
sso_role_name = PlatformEngineers

[profile dev]
region = ap-south-1

[sso-session acme]
sso_start_url = https://acme.awsapps.com/start
sso_region = ap-south-1
sso_registration_scopes = sso:account:access
`;

let moto: MotoServer;
let portal: FakeEndpoint;
let container: FakeEndpoint;
const work = mkdtempSync(join(tmpdir(), "xeks-kinds-"));
const envs: IsolatedEnv[] = [];
/** examples/people.yaml with the cluster's endpoint and CA, so the kubeconfig needs no DescribeCluster. */
const PEOPLE = join(work, "people.yaml");

before(async () => {
  moto = await startMoto();
  portal = await startFakeSsoPortal({ accessToken: SSO_TOKEN, credentials: SSO_KEYS });
  container = await startFakeContainerCredentials({
    authorization: POD_AUTH,
    credentials: POD_KEYS,
    accountId: "555555555555",
  });
  // The cluster, in its account, for the kubeconfig that asks DescribeCluster (examples/people.yaml as it is).
  await createClusterAsRole(moto.url, PEOPLE_ROLE, CLUSTER);
  const people = readFileSync(join(ROOT, "examples/people.yaml"), "utf8");
  writeFileSync(
    PEOPLE,
    people.replace(
      "  securityGroupId: sg-0123456789abcdef0\n",
      `  endpoint: ${ENDPOINT}\n  certificateAuthority: ${CA}\n  securityGroupId: sg-0123456789abcdef0\n`,
    ),
  );
});
after(async () => {
  await moto?.stop();
  await portal?.close();
  await container?.close();
  for (const e of envs) e.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function isolated(vars: Record<string, string | undefined> = {}, config = SSO_CONFIG): IsolatedEnv {
  const e = isolatedAwsEnv({ config, vars: { AWS_ENDPOINT_URL: moto.url, ...vars } });
  envs.push(e);
  return e;
}

/** The RoleArn of each sts:AssumeRole moto saw, with the key that signed it. */
function assumeRoleCalls(): { roleArn: string | null; accessKeyId: string | undefined }[] {
  return moto
    .requests()
    .filter((r) => r.action === "AssumeRole")
    .map((r) => ({ roleArn: new URLSearchParams(r.body).get("RoleArn"), accessKeyId: r.accessKeyId }));
}

/** `xeks token` for the cluster of people.yaml and one access role; the ExecCredential's token. */
async function token(roleArn: string, env: NodeJS.ProcessEnv) {
  const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--region", REGION, "--role-arn", roleArn], {
    env,
  });
  const cred = r.status === 0 ? JSON.parse(r.stdout) : undefined;
  return { ...r, token: cred?.status?.token as string | undefined };
}

/** The dry-run kubeconfig of a client of people.yaml (no AWS call: the topology has the endpoint and CA). */
async function kubeconfigOf(
  client: string,
  opts: { profile?: string; noProfile?: boolean; command?: string | null },
  env: NodeJS.ProcessEnv,
) {
  const result = await generateKubeconfig(
    {
      topologyFile: PEOPLE,
      client,
      dryRun: true,
      kubeconfig: join(work, "absent-kubeconfig"),
      // null: as without --exec-command (the command is looked up on env.PATH).
      ...(opts.command === null ? {} : { command: opts.command ?? "xeks" }),
      ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
      ...(opts.noProfile ? { noProfile: true } : {}),
    },
    env,
  );
  const doc = parse(result.text ?? "");
  return { result, exec: doc.users[0].user.exec };
}

describe("sso: people under an IAM Identity Center profile", () => {
  test("the kubeconfig runs xeks token with the access role and pins the Identity Center profile", async () => {
    const e = isolated();
    const { result, exec } = await kubeconfigOf("platform-engineers", { profile: "platform" }, e.env);
    assert.deepEqual(exec.args, [
      "token",
      "--cluster-name",
      CLUSTER,
      "--region",
      REGION,
      "--role-arn",
      PEOPLE_ROLE,
    ]);
    assert.deepEqual(exec.env, [{ name: "AWS_PROFILE", value: "platform" }]);
    assert.equal(exec.interactiveMode, "Never");
    assert.deepEqual(result.client, {
      name: "platform-engineers",
      kind: "sso",
      account: "333333333333",
      permissionSet: "PlatformEngineers",
    });
    assert.deepEqual(result.notes, []);
  });

  test("AWS_PROFILE is the profile too; without any profile a note says to pin one", async () => {
    const viaEnv = await kubeconfigOf("platform-engineers", {}, isolated({ AWS_PROFILE: "platform" }).env);
    assert.deepEqual(viaEnv.exec.env, [{ name: "AWS_PROFILE", value: "platform" }]);
    const none = await kubeconfigOf("platform-engineers", {}, isolated().env);
    assert.equal(none.exec.env, null);
    assert.equal(none.result.notes.length, 1);
    assert.match(none.result.notes[0] ?? "", /permission set PlatformEngineers.*--profile.*aws sso login/);
  });

  for (const [profile, why] of [
    [
      "readers",
      /permission set Readers \(sso_role_name\); the access role trusts permission set PlatformEngineers/,
    ],
    [
      "elsewhere",
      /signs in to account 999999999999 \(sso_account_id\); client platform-engineers is account 333333333333/,
    ],
  ] as const) {
    test(`a profile that cannot be the permission set (${profile}) is invalid input naming --profile`, async () => {
      await assert.rejects(
        kubeconfigOf("platform-engineers", { profile }, isolated().env),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.equal(err.issues[0]?.path, "--profile");
          assert.match(err.issues[0]?.message ?? "", why);
          return true;
        },
      );
    });
  }

  test("the profile check follows the trust's pattern AWSReservedSSO_NAME_* (its reach included)", () => {
    assert.equal(permissionSetAdmits("PlatformEngineers", "PlatformEngineers"), true);
    // The pattern's reach (docs/clients.md): a permission set named NAME_more is admitted by the same trust.
    assert.equal(permissionSetAdmits("PlatformEngineers", "PlatformEngineers_ReadOnly"), true);
    assert.equal(permissionSetAdmits("PlatformEngineers", "PlatformEngineersX"), false);
    assert.equal(permissionSetAdmits("PlatformEngineers", "Platform"), false);
  });

  test("xeks token signs in through the SSO token cache and assumes the access role with the permission set's keys", async () => {
    const e = isolated({ AWS_PROFILE: "platform", AWS_ENDPOINT_URL_SSO: portal.url });
    writeSsoTokenCache(e.home, "acme", {
      accessToken: SSO_TOKEN,
      expiresAt: new Date(Date.now() + 3_600_000),
      startUrl: "https://acme.awsapps.com/start",
      region: REGION,
    });
    await moto.clearRecording();
    portal.requests.length = 0;
    const r = await token(PEOPLE_ROLE, e.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.token ?? "", /^k8s-aws-v1\./);
    assert.equal(portal.requests.length, 1);
    const asked = portal.requests[0];
    assert.equal(asked?.path, "/federation/credentials");
    assert.equal(asked?.query.get("account_id"), "333333333333");
    assert.equal(asked?.query.get("role_name"), "PlatformEngineers");
    assert.equal(asked?.headers["x-amz-sso_bearer_token"], SSO_TOKEN);
    assert.deepEqual(assumeRoleCalls(), [{ roleArn: PEOPLE_ROLE, accessKeyId: SSO_KEYS.accessKeyId }]);
  });

  test("xeks kubeconfig --profile (the CLI): its own AssumeRole and DescribeCluster go through the Identity Center sign-in", async () => {
    const e = isolated({ AWS_ENDPOINT_URL_SSO: portal.url });
    writeSsoTokenCache(e.home, "acme", {
      accessToken: SSO_TOKEN,
      expiresAt: new Date(Date.now() + 3_600_000),
      startUrl: "https://acme.awsapps.com/start",
      region: REGION,
    });
    await moto.clearRecording();
    const r = await xeksAsync(
      [
        "kubeconfig",
        join(ROOT, "examples/people.yaml"),
        "--client",
        "platform-engineers",
        "--profile",
        "platform",
      ],
      { env: e.env },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "no note: the profile is pinned");
    assert.match(r.stdout, /from DescribeCluster/);
    assert.deepEqual(assumeRoleCalls(), [{ roleArn: PEOPLE_ROLE, accessKeyId: SSO_KEYS.accessKeyId }]);
    const describe = moto.requests().filter((q) => q.action === "DescribeCluster");
    assert.equal(describe.length, 1);
    assert.match(describe[0]?.accessKeyId ?? "", /^ASIA/);
    assert.notEqual(describe[0]?.accessKeyId, SSO_KEYS.accessKeyId, "described as the access role");
    const doc = parse(readFileSync(join(e.home, ".kube", "config"), "utf8"));
    assert.deepEqual(doc.users[0].user.exec.env, [{ name: "AWS_PROFILE", value: "platform" }]);
  });

  test("the CLI refuses a profile of another permission set before any AWS call (exit 2)", async () => {
    await moto.clearRecording();
    const r = await xeksAsync(
      ["kubeconfig", PEOPLE, "--client", "platform-engineers", "--profile", "readers", "--dry-run"],
      { env: isolated().env },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^xeks: the AWS profile readers is not the permission set PlatformEngineers/);
    assert.match(r.stderr, /--profile: profile readers signs in with permission set Readers/);
    assert.equal(moto.requests().length, 0);
  });

  test("an expired sign-in: exit 1 saying to run aws sso login; no call to the portal or STS", async () => {
    const e = isolated({ AWS_PROFILE: "platform", AWS_ENDPOINT_URL_SSO: portal.url });
    writeSsoTokenCache(e.home, "acme", {
      accessToken: SSO_TOKEN,
      expiresAt: new Date(Date.now() - 60_000),
      startUrl: "https://acme.awsapps.com/start",
      region: REGION,
    });
    await moto.clearRecording();
    portal.requests.length = 0;
    const r = await token(PEOPLE_ROLE, e.env);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^xeks: /);
    assert.match(r.stderr, /aws sso login/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    assert.equal(portal.requests.length, 0);
    assert.deepEqual(assumeRoleCalls(), []);
  });
});

test("the SSO portal is asked in the sso-session's region (sso_region), not the cluster's", async () => {
  // In-process, with a request handler that records the host and answers nothing: no traffic at all.
  const home = mkdtempSync(join(work, "sso-region-"));
  const config = join(home, "config");
  writeFileSync(config, SSO_CONFIG.replace("sso_region = ap-south-1", "sso_region = eu-west-1"));
  writeSsoTokenCache(home, "acme", {
    accessToken: SSO_TOKEN,
    expiresAt: new Date(Date.now() + 3_600_000),
    startUrl: "https://acme.awsapps.com/start",
    region: "eu-west-1",
  });
  const hosts: string[] = [];
  const handler = {
    handle: async (request: { hostname: string }) => {
      hosts.push(request.hostname);
      throw new Error("recorded");
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const saved = { HOME: process.env.HOME, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
  process.env.HOME = home;
  process.env.AWS_CONFIG_FILE = config;
  try {
    const provider = credentialProvider({
      profile: "platform",
      region: REGION,
      requestHandler: handler,
      maxAttempts: 1,
    });
    await assert.rejects(provider());
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.deepEqual(hosts, ["portal.sso.eu-west-1.amazonaws.com"]);
});

describe("oidc: a pipeline with the environment's credentials", () => {
  test("after configure-aws-credentials (environment keys of the web-identity role), xeks token assumes the access role with them", async () => {
    // What aws-actions/configure-aws-credentials does with role-to-assume: AssumeRoleWithWebIdentity, then
    // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the job's environment.
    const sts = new STSClient({
      region: REGION,
      endpoint: moto.url,
      credentials: { accessKeyId: "AKIAUNUSEDUNUSED0001", secretAccessKey: "u".repeat(40) },
    });
    const web = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: "arn:aws:iam::444444444444:role/xeks-prac-eks-abhi-deploy",
        RoleSessionName: "GitHubActions",
        WebIdentityToken: "header.payload.signature",
      }),
    );
    sts.destroy();
    const keys = web.Credentials;
    assert.ok(keys?.AccessKeyId && keys.SecretAccessKey && keys.SessionToken);
    const e = isolated({
      AWS_ACCESS_KEY_ID: keys.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.SecretAccessKey,
      AWS_SESSION_TOKEN: keys.SessionToken,
      AWS_REGION: REGION,
    });
    const { exec, result } = await kubeconfigOf("deploy", {}, e.env);
    assert.deepEqual(exec.args.slice(-2), ["--role-arn", DEPLOY_ROLE]);
    assert.equal(exec.env, null, "no profile pinned: kubectl's xeks token reads the job's environment");
    assert.deepEqual(result.notes, []);
    await moto.clearRecording();
    const r = await token(DEPLOY_ROLE, e.env);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(assumeRoleCalls(), [{ roleArn: DEPLOY_ROLE, accessKeyId: keys.AccessKeyId }]);
  });

  test("with AWS_PROFILE set where the kubeconfig is made: pinned with a note, and --no-profile pins nothing", async () => {
    const e = isolated({ AWS_PROFILE: "dev" });
    const pinned = await kubeconfigOf("deploy", {}, e.env);
    assert.deepEqual(pinned.exec.env, [{ name: "AWS_PROFILE", value: "dev" }]);
    assert.match(
      pinned.result.notes[0] ?? "",
      /runs in a pipeline, and this kubeconfig pins AWS_PROFILE=dev.*--no-profile/,
    );
    const bare = await kubeconfigOf("deploy", { noProfile: true }, e.env);
    assert.equal(bare.exec.env, null);
    assert.deepEqual(bare.result.notes, []);
  });

  test("the CLI: --no-profile pins nothing; a pinned AWS_PROFILE gets a note on stderr and in --output json", async () => {
    const e = isolated({ AWS_PROFILE: "dev" });
    const noted = await xeksAsync(["kubeconfig", PEOPLE, "--client", "deploy", "--dry-run", "-o", "json"], {
      env: e.env,
    });
    assert.equal(noted.status, 0, noted.stderr);
    assert.match(noted.stderr, /^xeks: note: client deploy runs in a pipeline, .*--no-profile/);
    const json = JSON.parse(noted.stdout);
    assert.equal(json.kind, "KubeconfigResult");
    assert.equal(json.client.kind, "oidc");
    assert.equal(json.notes.length, 1);
    const bare = await xeksAsync(["kubeconfig", PEOPLE, "--client", "deploy", "--no-profile", "--dry-run"], {
      env: e.env,
    });
    assert.equal(bare.status, 0, bare.stderr);
    assert.equal(bare.stderr, "");
    assert.equal(parse(bare.stdout).users[0].user.exec.env, null);
  });

  test("run through npx, the kubeconfig names this installation's bin/xeks, not npx's PATH entry for the run", async () => {
    // npm exec (npx) puts <cache>/_npx/<hash>/node_modules/.bin first on the PATH of the command it runs; a
    // later step (kubectl) does not have it.
    const bin = join(work, "npm-cache", "_npx", "0123456789abcdef", "node_modules", ".bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "xeks"), "#!/bin/sh\n");
    chmodSync(join(bin, "xeks"), 0o755);
    const e = isolated({ PATH: `${bin}:/usr/bin:/bin` });
    const viaNpx = await kubeconfigOf("deploy", { noProfile: true, command: null }, e.env);
    assert.equal(viaNpx.result.commandFrom, "npx");
    assert.equal(viaNpx.exec.command, SELF_BIN);
    // An installed xeks (npm install --global) is named as it is.
    const installed = join(work, "global-bin");
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(installed, "xeks"), "#!/bin/sh\n");
    chmodSync(join(installed, "xeks"), 0o755);
    const global = await kubeconfigOf(
      "deploy",
      { noProfile: true, command: null },
      isolated({ PATH: `${installed}:/usr/bin:/bin` }).env,
    );
    assert.equal(global.result.commandFrom, "path");
    assert.equal(global.exec.command, "xeks");
    assert.equal(isNpxBinDir("/home/runner/.npm/_npx/5f0e3c/node_modules/.bin"), true);
    assert.equal(isNpxBinDir("/usr/local/lib/node_modules/.bin"), false);
    assert.equal(isNpxBinDir("/srv/app/node_modules/.bin"), false);
  });

  test("--profile and --no-profile together are invalid input", async () => {
    await assert.rejects(
      kubeconfigOf("deploy", { profile: "dev", noProfile: true }, isolated().env),
      (err) => {
        assert.ok(err instanceof InputError);
        assert.equal(err.issues[0]?.path, "--no-profile");
        return true;
      },
    );
  });
});

describe("pod-identity: pods with the container credentials of EKS Pod Identity", () => {
  test("an in-pod kubeconfig: no profile, the command on the image's PATH", async () => {
    const e = isolated({ AWS_PROFILE: "dev" });
    const { exec, result } = await kubeconfigOf("argocd", { noProfile: true, command: "xeks" }, e.env);
    assert.equal(exec.command, "xeks");
    assert.deepEqual(exec.args.slice(-2), ["--role-arn", ARGOCD_ROLE]);
    assert.equal(exec.env, null);
    assert.equal(result.client?.kind, "pod-identity");
    assert.deepEqual(result.notes, []);
  });

  test("xeks token reads the container credentials (with the authorization token file) and assumes the access role", async () => {
    const tokenFile = join(work, "eks-pod-identity-token");
    writeFileSync(tokenFile, POD_AUTH);
    const e = isolated({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${container.url}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      AWS_REGION: REGION,
    });
    await moto.clearRecording();
    container.requests.length = 0;
    const r = await token(ARGOCD_ROLE, e.env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.token ?? "", /^k8s-aws-v1\./);
    assert.ok(container.requests.length >= 1);
    assert.ok(container.requests.every((q) => q.headers.authorization === POD_AUTH));
    assert.deepEqual(assumeRoleCalls(), [{ roleArn: ARGOCD_ROLE, accessKeyId: POD_KEYS.accessKeyId }]);
  });

  test("a wrong authorization token: exit 1, no AssumeRole", async () => {
    const tokenFile = join(work, "wrong-token");
    writeFileSync(tokenFile, "not-the-token");
    const e = isolated({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${container.url}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      AWS_REGION: REGION,
    });
    await moto.clearRecording();
    const r = await token(ARGOCD_ROLE, e.env);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^xeks: could not (load AWS credentials|assume role)/);
    assert.deepEqual(assumeRoleCalls(), []);
  });
});
