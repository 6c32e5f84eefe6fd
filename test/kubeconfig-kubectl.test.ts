/**
 * The real kubectl with a kubeconfig from `xeks kubeconfig`, against a local HTTPS API server whose CA is in
 * the kubeconfig: the bearer token it receives passes src/token/verify, is signed (provably, with the
 * assumed-role secret) over x-k8s-aws-id = the cluster name, and a second kubectl inside the cache window
 * makes no STS request. The same with `--exec aws`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { after, before, test } from "node:test";
import { verifyToken } from "../src/token/verify.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import { type FakeKubeApi, startFakeKubeApi } from "./helpers/https.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { checkPresignedUrl, decodeEksToken } from "./helpers/sigv4.js";
import { run, xeksAsync } from "./helpers/spawn.js";
import { createTestCa, type TestCa } from "./helpers/tls.js";
import { offlineSeedYaml } from "./helpers/topologies.js";

const CLUSTER = "prac-eks-abhi";
const ACCESS_ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";

let moto: MotoServer;
let api: FakeKubeApi;
let ca: TestCa;
let e: IsolatedEnv;

before(async () => {
  moto = await startMoto();
  ca = createTestCa();
  api = await startFakeKubeApi(ca.issue(["127.0.0.1", "localhost"]));
  e = isolatedAwsEnv({
    vars: {
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      AWS_ENDPOINT_URL_STS: moto.url,
      // kubectl finds `xeks` (and `aws`) on PATH, as after `npm install -g xeks`.
      PATH: `${join(ROOT, "bin")}${delimiter}${process.env.PATH ?? ""}`,
    },
  });
  writeFileSync(
    join(e.dir, "xeks.yaml"),
    offlineSeedYaml({ cluster: CLUSTER, endpoint: api.url, certificateAuthority: ca.base64 }),
  );
});

after(async () => {
  await api?.close();
  await moto?.stop();
  e?.cleanup();
});

const kubectl = (args: string[]) => run("kubectl", args, { env: e.env, timeoutMs: 60_000 });

test("kubectl with xeks token: a verifiable token, signed over the cluster name, cached across calls", async () => {
  const k = await xeksAsync(["kubeconfig", join(e.dir, "xeks.yaml"), "--client", "ops"], { env: e.env });
  assert.equal(k.status, 0, k.stderr);
  await moto.clearRecording();

  const first = await kubectl(["get", "--raw", "/version"]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).gitVersion, "v1.32.0-eks-fake");
  assert.equal(first.stderr, "");
  assert.equal(moto.count("AssumeRole"), 1);
  const tokens = api.tokens();
  assert.ok(tokens.length >= 1);
  const token = tokens[tokens.length - 1] as string;

  const verdict = verifyToken(token, { now: new Date(), partition: "aws" });
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.ok(verdict.fields.signedHeaders.includes("x-k8s-aws-id"));
  assert.equal(verdict.fields.host, "sts.ap-south-1.amazonaws.com");
  assert.equal(verdict.fields.temporary, true);

  // The test knows the secret that signed it (the assumed-role session in xeks's cache): recompute SigV4.
  const dir = join(e.cacheHome, "xeks");
  const [file] = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const cached = JSON.parse(readFileSync(join(dir, file ?? ""), "utf8"));
  assert.equal(cached.credentials.accessKeyId, verdict.fields.accessKeyId);
  const url = decodeEksToken(token);
  assert.ok(checkPresignedUrl(url, cached.credentials.secretAccessKey, { "x-k8s-aws-id": CLUSTER }).valid);
  assert.ok(
    !checkPresignedUrl(url, cached.credentials.secretAccessKey, { "x-k8s-aws-id": "another-cluster" }).valid,
  );

  const second = await kubectl(["get", "--raw", "/version"]);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(moto.count("AssumeRole"), 1, "the second kubectl made no STS request");
  assert.equal(api.tokens().at(-1), token, "and presented the cached token");
  assert.equal(moto.requests().filter((q) => q.service === "sts").length, 1);
});

test("kubectl with --exec aws: aws eks get-token assumes the role at the same moto", async () => {
  const k = await xeksAsync(
    ["kubeconfig", join(e.dir, "xeks.yaml"), "--client", "ops", "--exec", "aws", "--alias", "via-aws"],
    { env: e.env },
  );
  assert.equal(k.status, 0, k.stderr);
  await moto.clearRecording();
  const r = await kubectl(["--context", "via-aws", "get", "--raw", "/version"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(moto.count("AssumeRole"), 1);
  const assume = moto.requests().find((q) => q.action === "AssumeRole");
  assert.equal(new URLSearchParams(assume?.body).get("RoleArn"), ACCESS_ROLE);
  assert.equal(new URLSearchParams(assume?.body).get("RoleSessionName"), "EKSGetTokenAuth");
  assert.match(api.tokens().at(-1) ?? "", /^k8s-aws-v1\./);
});
