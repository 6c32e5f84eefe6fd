/**
 * `xeks kubeconfig`: merging into an existing file, the entries it writes (never static credentials), the
 * choice of access role, flags and errors, and DescribeCluster with the access role's credentials at moto.
 */
import assert from "node:assert/strict";
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { InputError } from "../src/errors.js";
import { buildEntries, type KubeconfigSpec, mergeKubeconfig } from "../src/kubeconfig/index.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { XEKS } from "./helpers/cli.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { createClusterAsRole } from "./helpers/moto-cluster.js";
import { run, xeksAsync } from "./helpers/spawn.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const STATIC = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const ACCESS_ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");

function topology(opts: { endpoint?: boolean; secondRole?: boolean } = {}): string {
  return `version: 1
cluster:
  name: prac-eks-abhi
  account: "111111111111"
  region: ap-south-1
${opts.endpoint === false ? "" : `  endpoint: https://ABCDEF.gr7.ap-south-1.eks.amazonaws.com\n  certificateAuthority: ${CA}\n`}  securityGroupId: sg-0123456789abcdef0
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
    externalId: ops-ext-42
${
  opts.secondRole
    ? `  - role: EKS-View-Role
    clients: [ops]
    policies: [AmazonEKSViewPolicy]
`
    : ""
}`;
}

const EXISTING = `# my clusters
apiVersion: v1
kind: Config
preferences: {}
clusters:
  - name: kind-dev # local
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${CA}
users:
  - name: kind-dev
    user:
      token: static-token-of-another-cluster
contexts:
  - name: kind-dev
    context: { cluster: kind-dev, user: kind-dev }
current-context: kind-dev
`;

const envs: IsolatedEnv[] = [];
after(() => {
  for (const e of envs) e.cleanup();
});
function isolated(
  vars: Record<string, string | undefined> = {},
): IsolatedEnv & { topo: string; kube: string } {
  const e = isolatedAwsEnv({ vars: { ...STATIC, ...vars } });
  envs.push(e);
  const topo = join(e.dir, "xeks.yaml");
  const kube = join(e.home, ".kube", "config");
  return { ...e, topo, kube };
}

const spec: KubeconfigSpec = {
  clusterName: "prac-eks-abhi",
  region: "ap-south-1",
  server: "https://ABCDEF.gr7.ap-south-1.eks.amazonaws.com",
  certificateAuthorityData: CA,
  roleArn: ACCESS_ROLE,
  exec: "xeks",
  clusterEntryName: "arn:aws:eks:ap-south-1:111111111111:cluster/prac-eks-abhi",
  userName: "EKS-CrossAccount-Access-Role@prac-eks-abhi",
  contextName: "EKS-CrossAccount-Access-Role@prac-eks-abhi",
};

describe("merge", () => {
  test("keeps every other entry and comment, replaces the same names, sets the current context", () => {
    const entries = buildEntries(spec);
    const first = mergeKubeconfig(EXISTING, entries);
    assert.deepEqual(first.actions, { cluster: "added", user: "added", context: "added" });
    assert.match(first.text, /^# my clusters/);
    assert.match(first.text, /# local/);
    const doc = parse(first.text);
    assert.deepEqual(
      doc.clusters.map((c: { name: string }) => c.name),
      ["kind-dev", spec.clusterEntryName],
    );
    assert.equal(doc.users[0].user.token, "static-token-of-another-cluster", "other users untouched");
    assert.equal(doc["current-context"], spec.contextName);
    assert.deepEqual(doc.users[1].user.exec, {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "xeks",
      args: ["token", "--cluster-name", "prac-eks-abhi", "--region", "ap-south-1", "--role-arn", ACCESS_ROLE],
      env: null,
      interactiveMode: "Never",
      provideClusterInfo: false,
    });
    const again = mergeKubeconfig(first.text, entries);
    assert.deepEqual(again.actions, { cluster: "unchanged", user: "unchanged", context: "unchanged" });
    assert.equal(again.text, first.text);
    const moved = mergeKubeconfig(first.text, buildEntries({ ...spec, server: "https://NEW.example.com" }));
    assert.equal(moved.actions.cluster, "updated");
    assert.equal(parse(moved.text).clusters.length, 2);
  });

  test("an empty or missing file becomes a kubeconfig; a broken one is refused", () => {
    for (const text of [undefined, "", "\n", "clusters: null\n"]) {
      const doc = parse(mergeKubeconfig(text, buildEntries(spec)).text);
      assert.equal(doc.kind, "Config");
      assert.equal(doc.clusters.length, 1);
    }
    assert.throws(() => mergeKubeconfig("clusters: [\n", buildEntries(spec), { file: "f" }), InputError);
    assert.throws(() => mergeKubeconfig("- a\n- b\n", buildEntries(spec)), InputError);
    assert.throws(() => mergeKubeconfig("clusters: {a: 1}\n", buildEntries(spec)), InputError);
  });

  test("the aws exec flavour, and what it cannot do", () => {
    const exec = buildEntries({ ...spec, exec: "aws", profile: "ops" }).user.user.exec;
    assert.equal(exec.command, "aws");
    assert.deepEqual(exec.args, [
      "--region",
      "ap-south-1",
      "eks",
      "get-token",
      "--cluster-name",
      "prac-eks-abhi",
      "--output",
      "json",
      "--role-arn",
      ACCESS_ROLE,
    ]);
    assert.deepEqual(exec.env, [{ name: "AWS_PROFILE", value: "ops" }]);
    assert.throws(() => buildEntries({ ...spec, exec: "aws", externalId: "x1" }), /no --external-id/);
    assert.deepEqual(buildEntries({ ...spec, clusterId: "abc123" }).user.user.exec.args.slice(0, 3), [
      "token",
      "--cluster-id",
      "abc123",
    ]);
  });
});

describe("xeks kubeconfig from a topology", () => {
  test("merges into the first $KUBECONFIG path, 0600, no static credentials", async () => {
    const e = isolated();
    writeFileSync(e.topo, topology());
    const second = join(e.dir, "second-config");
    e.env.KUBECONFIG = `${e.kube}:${second}`;
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(e.home, ".kube"));
    writeFileSync(e.kube, EXISTING, { mode: 0o644 });
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /Added context EKS-CrossAccount-Access-Role@prac-eks-abhi/);
    assert.equal(statSync(e.kube).mode & 0o777, 0o600);
    assert.throws(() => statSync(second), "only the first path is written");
    const text = readFileSync(e.kube, "utf8");
    const doc = parse(text);
    assert.equal(doc.users.length, 2);
    const user = doc.users.find(
      (u: { name: string }) => u.name === "EKS-CrossAccount-Access-Role@prac-eks-abhi",
    );
    assert.deepEqual(Object.keys(user.user), ["exec"], "only an exec block");
    assert.deepEqual(user.user.exec.args, [
      "token",
      "--cluster-name",
      "prac-eks-abhi",
      "--region",
      "ap-south-1",
      "--role-arn",
      ACCESS_ROLE,
      "--external-id",
      "ops-ext-42",
    ]);
    assert.equal(user.user.exec.interactiveMode, "Never");
    const cluster = doc.clusters.find((c: { name: string }) => c.name.startsWith("arn:aws:eks:"));
    assert.equal(cluster.cluster.server, "https://ABCDEF.gr7.ap-south-1.eks.amazonaws.com");
    assert.equal(cluster.cluster["certificate-authority-data"], CA);
    for (const secret of [STATIC.AWS_ACCESS_KEY_ID, STATIC.AWS_SECRET_ACCESS_KEY])
      assert.ok(!text.includes(secret));
    assert.equal(doc["current-context"], "EKS-CrossAccount-Access-Role@prac-eks-abhi");
    // Twice: the same file.
    const again = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(e.kube, "utf8"), text);
  });

  test("several access roles: exit 2 listing them; --role-arn chooses", async () => {
    const e = isolated();
    writeFileSync(e.topo, topology({ secondRole: true }));
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /choose one with --role-arn/);
    assert.match(
      r.stderr,
      /EKS-CrossAccount-Access-Role \(arn:aws:iam::111111111111:role\/EKS-CrossAccount-Access-Role\)/,
    );
    assert.match(r.stderr, /EKS-View-Role/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const ok = await xeksAsync(
      ["kubeconfig", e.topo, "--client", "ops", "--role-arn", "EKS-View-Role", "--dry-run"],
      {
        env: e.env,
      },
    );
    assert.equal(ok.status, 0, ok.stderr);
    const doc = parse(ok.stdout);
    assert.equal(doc["current-context"], "EKS-View-Role@prac-eks-abhi");
    assert.ok(doc.users[0].user.exec.args.includes("arn:aws:iam::111111111111:role/EKS-View-Role"));
    assert.throws(() => statSync(e.kube), "a dry run writes nothing");
    const bad = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--role-arn", "Nope"], {
      env: e.env,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no access role Nope/);
  });

  test("--alias, --exec aws, --exec-command, --profile, --kubeconfig, --output json", async () => {
    const e = isolated({ AWS_PROFILE: "ops" });
    writeFileSync(e.configFile, "[profile ops]\nregion = ap-south-1\n");
    writeFileSync(e.topo, topology().replace("    externalId: ops-ext-42\n", ""));
    const target = join(e.dir, "real-config");
    writeFileSync(target, EXISTING);
    const link = join(e.dir, "link-config");
    symlinkSync(target, link);
    const r = await xeksAsync(
      [
        "kubeconfig",
        e.topo,
        "--client",
        "ops",
        "--alias",
        "prod",
        "--exec",
        "aws",
        "--exec-command",
        "/opt/aws/bin/aws",
        "--kubeconfig",
        link,
        "-o",
        "json",
      ],
      { env: e.env },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.kind, "KubeconfigResult");
    assert.equal(out.context, "prod");
    assert.equal(out.file, target);
    assert.ok(lstatSync(link).isSymbolicLink(), "the symlink is kept, its target written");
    const doc = parse(readFileSync(target, "utf8"));
    const user = doc.users.find((u: { name: string }) => u.name === "prod");
    assert.equal(user.user.exec.command, "/opt/aws/bin/aws");
    assert.deepEqual(user.user.exec.env, [{ name: "AWS_PROFILE", value: "ops" }]);
    assert.deepEqual(user.user.exec.args.slice(2, 4), ["eks", "get-token"]);
  });

  const bad: [string[], RegExp][] = [
    [["--client", "nobody"], /no client nobody/],
    [["--client", "ops", "--cluster-name", "x"], /--cluster-name/],
    [["--client", "ops", "--exec", "aws"], /no --external-id/],
    [["--client", "ops", "--exec", "kubectl"], /--exec kubectl is not xeks or aws/],
    [["--client", "ops", "--region", "eu-west-1"], /differs from the cluster's region/],
    [["--client", "ops", "--output", "yaml"], /--output yaml/],
    [["--client", "ops", "--bogus"], /unknown option/],
  ];
  for (const [args, message] of bad) {
    test(`exit 2: ${args.join(" ")}`, async () => {
      const e = isolated();
      writeFileSync(e.topo, topology());
      const r = await xeksAsync(["kubeconfig", e.topo, ...args], { env: e.env });
      assert.equal(r.status, 2, r.stderr + r.stdout);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  test("flag mode needs --cluster-name and a region", async () => {
    const e = isolated();
    const r1 = await xeksAsync(["kubeconfig", "--role-arn", ACCESS_ROLE, "--region", "ap-south-1"], {
      env: e.env,
    });
    assert.equal(r1.status, 2);
    assert.match(r1.stderr, /--cluster-name/);
    const r2 = await xeksAsync(["kubeconfig", "--cluster-name", "c", "--role-arn", ACCESS_ROLE], {
      env: e.env,
    });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /no AWS region/);
    const r3 = await xeksAsync(
      ["kubeconfig", "--cluster-name", "c", "--role-arn", "arn:aws:iam::1:role/x", "--region", "ap-south-1"],
      {
        env: e.env,
      },
    );
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /--role-arn/);
  });
});

/** A loopback endpoint that accepts TCP, never answers, and counts the connections it was offered. */
async function startSilentCounter(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((sock) => {
    count++;
    sockets.add(sock);
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => resolve());
      }),
  };
}

// Every AWS endpoint points at a listener that never answers (XEKS_AWS_TIMEOUT_MS keeps a call short):
// an input check that ran after AWS shows as a connection, and a missing timeout as a killed child.
describe("local input is checked before any AWS call; AWS calls are bounded", () => {
  let silent: Awaited<ReturnType<typeof startSilentCounter>>;
  before(async () => {
    silent = await startSilentCounter();
  });
  after(async () => {
    await silent?.close();
  });
  const SAFETY = { timeoutMs: 45_000 };
  const FLAG_MODE = [
    "kubeconfig",
    "--cluster-name",
    "c1",
    "--role-arn",
    ACCESS_ROLE,
    "--region",
    "ap-south-1",
  ];
  function offline(vars: Record<string, string> = {}) {
    return isolated({ AWS_ENDPOINT_URL: silent.url, XEKS_AWS_TIMEOUT_MS: "300", ...vars });
  }
  async function refusedOffline(
    e: ReturnType<typeof offline>,
    args: string[],
    message: RegExp,
    command: { file: string; prefix: string[] } = { file: XEKS, prefix: [] },
  ) {
    const before = silent.count();
    const r = await run(command.file, [...command.prefix, ...args], { env: e.env, ...SAFETY });
    assert.equal(r.status, 2, `status ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(silent.count(), before, "no AWS call was made");
    return r;
  }

  test("--exec aws with --external-id or --session-name: exit 2 before AssumeRole", async () => {
    const e = offline();
    await refusedOffline(e, [...FLAG_MODE, "--exec", "aws", "--external-id", "ext-1"], /no --external-id/);
    await refusedOffline(e, [...FLAG_MODE, "--exec", "aws", "--session-name", "me-1"], /no --session-name/);
    assert.throws(() => statSync(e.kube), "nothing written");
  });

  test("--exec aws with a topology access role that has an externalId: exit 2 before AssumeRole", async () => {
    const e = offline();
    writeFileSync(e.topo, topology({ endpoint: false }));
    const r = await refusedOffline(
      e,
      ["kubeconfig", e.topo, "--client", "ops", "--exec", "aws"],
      /no --external-id/,
    );
    assert.match(r.stderr, /externalId/);
    assert.match(r.stderr, /--exec: use --exec xeks/);
  });

  test("a kubeconfig that is not YAML, not a kubeconfig, or a directory: exit 2 before AssumeRole", async () => {
    const e = offline();
    mkdirSync(join(e.home, ".kube"));
    for (const [text, message] of [
      ["clusters: [\n", /is not valid YAML/],
      ["- a\n- b\n", /is not a kubeconfig/],
      ["clusters: {a: 1}\n", /clusters is not a list/],
    ] as const) {
      writeFileSync(e.kube, text);
      await refusedOffline(e, FLAG_MODE, message);
      assert.equal(readFileSync(e.kube, "utf8"), text, "never overwritten");
    }
    const dir = join(e.dir, "a-directory");
    mkdirSync(dir);
    await refusedOffline(e, [...FLAG_MODE, "--kubeconfig", dir], /is a directory/);
    e.env.KUBECONFIG = dir;
    await refusedOffline(e, FLAG_MODE, /KUBECONFIG: expected a kubeconfig file/);
  });

  test("--kubeconfig that is a directory, under a file, or unreadable: exit 2 naming --kubeconfig", async () => {
    const e = offline();
    const dir = join(e.dir, "kube-dir");
    mkdirSync(dir);
    const r1 = await refusedOffline(e, [...FLAG_MODE, "--kubeconfig", dir], /is a directory/);
    assert.match(r1.stderr, /--kubeconfig: expected a kubeconfig file this user may read and write/);
    const file = join(e.dir, "plain-file");
    writeFileSync(file, "");
    await refusedOffline(e, [...FLAG_MODE, "--kubeconfig", join(file, "config")], /is under a file/);

    // Unreadable: root reads anything, so as root the command runs as nobody.
    const locked = join(e.dir, "locked");
    mkdirSync(locked);
    const secret = join(locked, "config");
    writeFileSync(secret, EXISTING, { mode: 0o600 });
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      for (const d of [e.dir, e.home, join(e.home, ".aws"), locked]) chmodSync(d, 0o755);
    } else {
      chmodSync(secret, 0o000);
    }
    const r3 = await refusedOffline(
      e,
      [...FLAG_MODE, "--kubeconfig", secret],
      /cannot be read by this user/,
      asRoot
        ? { file: "setpriv", prefix: ["--reuid=65534", "--regid=65534", "--clear-groups", XEKS] }
        : undefined,
    );
    assert.match(r3.stderr, /--kubeconfig: /);
    chmodSync(secret, 0o600);
    assert.equal(readFileSync(secret, "utf8"), EXISTING);
  });

  test("-n/--namespace and --profile are validated; a valid namespace is written", async () => {
    const e = offline();
    writeFileSync(e.topo, topology());
    const base = ["kubeconfig", e.topo, "--client", "ops"];
    for (const ns of ["Bad NS!", "-dev", "a".repeat(64), "UPPER"])
      await refusedOffline(e, [...base, "-n", ns], /--namespace: expected a Kubernetes namespace name/);
    for (const profile of ["bad profile", "", "p\nq", "x".repeat(129)])
      await refusedOffline(e, [...base, "--profile", profile], /--profile: expected an AWS profile name/);
    const env = { ...e.env, AWS_PROFILE: "two words" };
    await refusedOffline({ ...e, env }, base, /AWS_PROFILE: expected an AWS profile name/);
    assert.throws(() => statSync(e.kube), "nothing written");
    // A profile that exists in neither shared file: exit 2 naming it, before any AWS call.
    const missing = await refusedOffline(
      e,
      [...base, "--profile", "ops@acct:1/x"],
      /--profile: no \[profile ops@acct:1\/x\]/,
    );
    assert.match(missing.stderr, /the AWS profile ops@acct:1\/x does not exist/);
    assert.throws(() => statSync(e.kube), "nothing written");
    writeFileSync(e.credentialsFile, "[ops@acct:1/x]\naws_access_key_id = AKIAPROFILEEXAMPLE01\n");
    const ok = await xeksAsync([...base, "--namespace", "team-a", "--profile", "ops@acct:1/x"], {
      env: e.env,
    });
    assert.equal(ok.status, 0, ok.stderr);
    const doc = parse(readFileSync(e.kube, "utf8"));
    assert.equal(doc.contexts[0].context.namespace, "team-a");
    assert.deepEqual(doc.users[0].user.exec.env, [{ name: "AWS_PROFILE", value: "ops@acct:1/x" }]);
  });

  test("AssumeRole at an endpoint that never answers: exit 1 with one clear line, nothing written", async () => {
    const e = offline();
    const r = await xeksAsync(FLAG_MODE.slice(), { env: e.env, ...SAFETY });
    assert.equal(r.status, 1, `status ${r.status}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^xeks: could not assume role .+: timed out: no answer within 300 ms \(2 attempts\)\n/,
    );
    assert.match(r.stderr, /XEKS_AWS_TIMEOUT_MS/);
    assert.doesNotMatch(r.stderr, /\n\s+at |@smithy/);
    assert.ok(!r.stderr.includes(STATIC.AWS_SECRET_ACCESS_KEY));
    assert.throws(() => statSync(e.kube));
  });
});

describe("DescribeCluster as the access role (moto)", () => {
  let moto: MotoServer;
  const CLUSTER = "only-in-account-a";
  before(async () => {
    moto = await startMoto();
    // Create the cluster in account 111111111111, as the access role: the caller's own account cannot see it.
    await createClusterAsRole(moto.url, ACCESS_ROLE, CLUSTER);
  });
  after(async () => {
    await moto?.stop();
  });

  test("flag mode: the endpoint and CA come from DescribeCluster signed by the assumed role", async () => {
    await moto.clearRecording();
    const e = isolated({ AWS_ENDPOINT_URL: moto.url });
    const r = await xeksAsync(
      [
        "kubeconfig",
        "--cluster-name",
        CLUSTER,
        "--role-arn",
        ACCESS_ROLE,
        "--region",
        "ap-south-1",
        "--external-id",
        "ext-9",
      ],
      { env: e.env },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const assume = moto.requests().filter((q) => q.action === "AssumeRole");
    assert.equal(assume.length, 1);
    assert.equal(assume[0]?.accessKeyId, STATIC.AWS_ACCESS_KEY_ID);
    assert.equal(new URLSearchParams(assume[0]?.body).get("ExternalId"), "ext-9");
    const describe = moto.requests().filter((q) => q.action === "DescribeCluster");
    assert.equal(describe.length, 1);
    assert.match(describe[0]?.accessKeyId ?? "", /^ASIA/);
    assert.notEqual(
      describe[0]?.accessKeyId,
      STATIC.AWS_ACCESS_KEY_ID,
      "not the caller's credentials (aws-cli#8554)",
    );
    const doc = parse(readFileSync(e.kube, "utf8"));
    assert.equal(doc.clusters[0].name, `arn:aws:eks:ap-south-1:111111111111:cluster/${CLUSTER}`);
    assert.match(doc.clusters[0].cluster.server, /^https:\/\/.+\.eks\.amazonaws\.com\/?$/);
    assert.ok(doc.clusters[0].cluster["certificate-authority-data"].length > 10);
    assert.deepEqual(doc.users[0].user.exec.args, [
      "token",
      "--cluster-name",
      CLUSTER,
      "--region",
      "ap-south-1",
      "--role-arn",
      ACCESS_ROLE,
      "--external-id",
      "ext-9",
    ]);
    const text = readFileSync(e.kube, "utf8");
    assert.doesNotMatch(text, /ASIA|AKIA/, "no key of any kind in the file");
  });

  test("topology without endpoint: DescribeCluster as the topology's access role, with its external id", async () => {
    await moto.clearRecording();
    const e = isolated({ AWS_ENDPOINT_URL: moto.url });
    writeFileSync(e.topo, topology({ endpoint: false }).replaceAll("prac-eks-abhi", CLUSTER));
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /from DescribeCluster/);
    const assume = moto.requests().find((q) => q.action === "AssumeRole");
    assert.equal(new URLSearchParams(assume?.body).get("ExternalId"), "ops-ext-42");
    assert.equal(new URLSearchParams(assume?.body).get("RoleArn"), ACCESS_ROLE);
    assert.match(moto.requests().find((q) => q.action === "DescribeCluster")?.accessKeyId ?? "", /^ASIA/);
  });

  test("DescribeCluster at an endpoint that never answers: exit 1 after AssumeRole, nothing written", async () => {
    const silent = await startSilentCounter();
    try {
      const e = isolated({
        AWS_ENDPOINT_URL_STS: moto.url,
        AWS_ENDPOINT_URL_EKS: silent.url,
        XEKS_AWS_TIMEOUT_MS: "300",
      });
      const r = await xeksAsync(
        ["kubeconfig", "--cluster-name", CLUSTER, "--role-arn", ACCESS_ROLE, "--region", "ap-south-1"],
        { env: e.env, timeoutMs: 45_000 },
      );
      assert.equal(r.status, 1, `status ${r.status}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^xeks: eks:DescribeCluster on only-in-account-a in ap-south-1 as arn:aws:iam::111111111111:role\/EKS-CrossAccount-Access-Role failed: timed out: no answer within 300 ms \(2 attempts\)\n/,
      );
      assert.match(r.stderr, /AWS_ENDPOINT_URL_EKS/);
      assert.doesNotMatch(r.stderr, /\n\s+at |@smithy|ASIA/);
      assert.ok(silent.count() >= 1, "the EKS call went to the silent endpoint");
      assert.throws(() => statSync(e.kube));
    } finally {
      await silent.close();
    }
  });

  test("a cluster the role cannot see: exit 1, pointing at eks:DescribeCluster", async () => {
    const e = isolated({ AWS_ENDPOINT_URL: moto.url });
    const r = await xeksAsync(
      ["kubeconfig", "--cluster-name", "missing", "--role-arn", ACCESS_ROLE, "--region", "ap-south-1"],
      {
        env: e.env,
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /eks:DescribeCluster on missing/);
    assert.match(r.stderr, /ResourceNotFound/);
    assert.throws(() => statSync(e.kube));
  });
});
