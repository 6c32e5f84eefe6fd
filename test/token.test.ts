/**
 * `xeks token` end to end: parity with `aws eks get-token` at a frozen clock, role chaining against a local
 * moto_server, the IMDSv2 path against a fake metadata service, the ExecCredential contract, flags, and
 * that no secret or noise reaches stderr. Nothing here talks to real AWS: every run has an isolated HOME
 * and AWS files, IMDS disabled unless faked, and the STS endpoint pointed at a local server.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { verifyToken } from "../src/token/verify.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { XEKS } from "./helpers/cli.js";
import { parseExecCredential } from "./helpers/exec-credential.js";
import { startFakeImds } from "./helpers/imds.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { checkPresignedUrl } from "./helpers/sigv4.js";
import { run, xeksAsync } from "./helpers/spawn.js";
import { startSilentServer, type TcpFixture } from "./helpers/tcp-fixtures.js";

// This test process loads the SDK too (to ask moto who a key is); keep its Node 20 warning out of the log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const CLUSTER = "prac-eks-abhi";
const ROLE = "arn:aws:iam::111111111111:role/X";
const STATIC = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const SESSION = {
  AWS_ACCESS_KEY_ID: "ASIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
  AWS_SESSION_TOKEN: "FwoGZXIvYXdzEBYaDH+example/session+token/with=specials==",
};

const envs: IsolatedEnv[] = [];
function isolated(
  vars: Record<string, string | undefined> = {},
  files: { config?: string; credentials?: string } = {},
) {
  const e = isolatedAwsEnv({ ...files, vars });
  envs.push(e);
  return e;
}
after(() => {
  for (const e of envs) e.cleanup();
});

interface CacheFile {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
  token: { token: string; expirationTimestamp: string; signedAt: string };
}

function cacheEntries(e: IsolatedEnv): { path: string; json: CacheFile }[] {
  const dir = join(e.cacheHome, "xeks");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ path: join(dir, f), json: JSON.parse(readFileSync(join(dir, f), "utf8")) }));
}

describe("parity with aws eks get-token (faketime 2025-01-01 00:00:00)", () => {
  const frozen = ["-f", "2025-01-01 00:00:00"];
  for (const [label, creds] of [
    ["static credentials", STATIC],
    ["credentials with a session token", SESSION],
  ] as const) {
    for (const region of ["ap-south-1", "us-east-1", "cn-north-1"]) {
      test(`${label}, ${region}: same token and apiVersion`, async () => {
        const e = isolated(creds);
        const [ours, theirs] = await Promise.all([
          run(
            "faketime",
            [...frozen, XEKS, "token", "--cluster-name", CLUSTER, "--region", region, "--no-cache"],
            {
              env: e.env,
            },
          ),
          run(
            "faketime",
            [...frozen, "aws", "eks", "get-token", "--cluster-name", CLUSTER, "--region", region],
            {
              env: e.env,
            },
          ),
        ]);
        assert.equal(ours.status, 0, ours.stderr);
        assert.equal(theirs.status, 0, theirs.stderr);
        assert.equal(ours.stderr, "");
        const a = parseExecCredential(ours.stdout);
        const b = parseExecCredential(theirs.stdout);
        assert.equal(a.token, b.token);
        assert.equal(a.apiVersion, b.apiVersion);
        assert.equal(a.expirationTimestamp, "2025-01-01T00:14:00Z");
        assert.equal(a.expirationTimestamp, b.expirationTimestamp);
        assert.equal(a.url.searchParams.has("X-Amz-Security-Token"), "AWS_SESSION_TOKEN" in creds);
      });
    }
  }

  test("KUBERNETES_EXEC_INFO asking for v1, and --cluster-id: same as aws", async () => {
    const e = isolated({
      ...SESSION,
      AWS_DEFAULT_REGION: "eu-west-1", // aws-cli v1 reads only this one
      KUBERNETES_EXEC_INFO: JSON.stringify({
        kind: "ExecCredential",
        apiVersion: "client.authentication.k8s.io/v1",
        spec: { interactive: false },
      }),
    });
    const id = "0123456789abcdef0123456789abcdef";
    const [ours, theirs] = await Promise.all([
      run("faketime", [...frozen, XEKS, "token", "--cluster-id", id, "--no-cache"], { env: e.env }),
      run("faketime", [...frozen, "aws", "eks", "get-token", "--cluster-id", id], { env: e.env }),
    ]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(theirs.status, 0, theirs.stderr);
    const a = parseExecCredential(ours.stdout);
    const b = parseExecCredential(theirs.stdout);
    assert.equal(a.apiVersion, "client.authentication.k8s.io/v1");
    assert.equal(a.apiVersion, b.apiVersion);
    assert.equal(a.token, b.token);
  });
});

describe("role chaining against moto", () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });

  test("AssumeRole with the base credentials; the token is signed by the assumed-role key", async () => {
    await moto.clearRecording();
    const e = isolated({ ...STATIC, AWS_ENDPOINT_URL_STS: moto.url });
    const r = await xeksAsync(
      ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
      {
        env: e.env,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "nothing on stderr, not even the SDK's Node version warning");
    const cred = parseExecCredential(r.stdout);
    // The presigned host is the regional STS host, not the endpoint override (docs/token.md).
    assert.equal(cred.url.host, "sts.ap-south-1.amazonaws.com");
    assert.match(cred.accessKeyId, /^ASIA/);
    assert.notEqual(cred.accessKeyId, STATIC.AWS_ACCESS_KEY_ID);

    const calls = moto.requests().filter((q) => q.action === "AssumeRole");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.accessKeyId, STATIC.AWS_ACCESS_KEY_ID, "AssumeRole signed with the base key");
    const body = new URLSearchParams(calls[0]?.body ?? "");
    assert.equal(body.get("RoleArn"), ROLE);
    assert.match(body.get("RoleSessionName") ?? "", /^xeks-[\w+=,.@-]+$/);
    assert.ok((body.get("RoleSessionName") ?? "").length <= 64);

    // The cache holds the assumed credentials: the token's key is theirs and their secret signed it,
    // with x-k8s-aws-id = the cluster name.
    const [entry] = cacheEntries(e);
    const assumed = entry?.json.credentials;
    assert.equal(assumed.accessKeyId, cred.accessKeyId);
    const sig = checkPresignedUrl(cred.url.href, assumed.secretAccessKey, { "x-k8s-aws-id": CLUSTER });
    assert.ok(sig.valid, "the signature verifies with the assumed-role secret");
    assert.ok(!checkPresignedUrl(cred.url.href, assumed.secretAccessKey, { "x-k8s-aws-id": "other" }).valid);
    assert.equal(cred.url.searchParams.get("X-Amz-Security-Token"), assumed.sessionToken);

    // moto knows that key as the assumed role in account 111111111111.
    const sts = new STSClient({
      region: "ap-south-1",
      endpoint: moto.url,
      credentials: {
        accessKeyId: assumed.accessKeyId,
        secretAccessKey: assumed.secretAccessKey,
        sessionToken: assumed.sessionToken,
      },
    });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    assert.equal(who.Account, "111111111111");
    assert.equal(who.Arn, `arn:aws:sts::111111111111:assumed-role/X/${body.get("RoleSessionName")}`);

    const verdict = verifyToken(cred.token, { now: new Date() });
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.fields.temporary, true);
    assert.ok(verdict.fields.signedHeaders.includes("x-k8s-aws-id"));
    assert.equal(verdict.fields.accessKeyId, cred.accessKeyId);
  });

  test("--session-name and --external-id reach AssumeRole; AWS_ENDPOINT_URL is honoured", async () => {
    await moto.clearRecording();
    const e = isolated({ ...SESSION, AWS_ENDPOINT_URL: moto.url, AWS_REGION: "ap-south-1" });
    const r = await xeksAsync(
      [
        "token",
        "--cluster-name",
        CLUSTER,
        "--role-arn",
        ROLE,
        "--session-name",
        "alice@laptop",
        "--external-id",
        "ext-123",
      ],
      { env: e.env },
    );
    assert.equal(r.status, 0, r.stderr);
    const calls = moto.requests().filter((q) => q.action === "AssumeRole");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.accessKeyId, SESSION.AWS_ACCESS_KEY_ID);
    const body = new URLSearchParams(calls[0]?.body ?? "");
    assert.equal(body.get("RoleSessionName"), "alice@laptop");
    assert.equal(body.get("ExternalId"), "ext-123");
    assert.equal(parseExecCredential(r.stdout).url.host, "sts.ap-south-1.amazonaws.com");
  });

  test("base credentials from an instance profile through IMDSv2", async () => {
    await moto.clearRecording();
    const imds = await startFakeImds({
      roleName: "EC2-EKS-CrossAccount-Role",
      credentials: {
        accessKeyId: "ASIAIMDSEXAMPLE00001",
        secretAccessKey: "imdsSecretKeyExample0000000000000000000",
        sessionToken: "imds-session-token-example",
        expiration: new Date(Date.now() + 6 * 3600_000),
      },
    });
    try {
      const e = isolated({ AWS_ENDPOINT_URL_STS: moto.url, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url });
      delete e.env.AWS_EC2_METADATA_DISABLED;
      const r = await xeksAsync(
        ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
        {
          env: e.env,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.deepEqual(imds.requests[0], { method: "PUT", path: "/latest/api/token", withToken: false });
      const gets = imds.requests.slice(1);
      assert.ok(gets.length >= 2);
      assert.ok(
        gets.every((q) => q.method === "GET" && q.withToken),
        JSON.stringify(gets),
      );
      assert.ok(
        gets.some((q) => q.path === "/latest/meta-data/iam/security-credentials/EC2-EKS-CrossAccount-Role"),
      );
      const calls = moto.requests().filter((q) => q.action === "AssumeRole");
      assert.equal(calls.length, 1);
      assert.equal(calls[0]?.accessKeyId, "ASIAIMDSEXAMPLE00001", "AssumeRole signed with the instance role");
      const cred = parseExecCredential(r.stdout);
      assert.match(cred.accessKeyId, /^ASIA/);
      assert.notEqual(cred.accessKeyId, "ASIAIMDSEXAMPLE00001");
    } finally {
      await imds.close();
    }
  });

  test("no noise on stderr with the SDK loaded, even with AWS_PROFILE and env keys both set", async () => {
    await moto.clearRecording();
    const e = isolated(
      { ...STATIC, AWS_PROFILE: "ops", AWS_ENDPOINT_URL_STS: moto.url },
      {
        credentials:
          "[ops]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = profileSecretExample000000000000000000\n",
        config: "[profile ops]\nregion = eu-west-1\n",
      },
    );
    const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--role-arn", ROLE], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning/);
    // The region came from the profile; the profile's key (not the env key) signed AssumeRole, as in the SDK.
    assert.equal(parseExecCredential(r.stdout).url.host, "sts.eu-west-1.amazonaws.com");
    assert.equal(moto.requests().find((q) => q.action === "AssumeRole")?.accessKeyId, "AKIAPROFILEEXAMPLE01");
  });
});

describe("ExecCredential contract", () => {
  test("expirationTimestamp is the signing credentials' expiry when that comes before now + 14 min", async () => {
    const expiry = new Date(Date.now() + 10 * 60_000);
    const imds = await startFakeImds({
      roleName: "R",
      credentials: {
        accessKeyId: "ASIAIMDSEXAMPLE00002",
        secretAccessKey: "imdsSecretKeyExample0000000000000000002",
        sessionToken: "imds-session-token-example-2",
        expiration: expiry,
      },
    });
    try {
      const e = isolated({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_REGION: "ap-south-1" });
      delete e.env.AWS_EC2_METADATA_DISABLED;
      const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--no-cache"], { env: e.env });
      assert.equal(r.status, 0, r.stderr);
      const cred = parseExecCredential(r.stdout);
      assert.equal(cred.expirationTimestamp, `${expiry.toISOString().slice(0, 19)}Z`);
      assert.equal(cred.accessKeyId, "ASIAIMDSEXAMPLE00002");
    } finally {
      await imds.close();
    }
  });

  test("apiVersion follows KUBERNETES_EXEC_INFO like aws-cli", async () => {
    const cases: [string | undefined, string, boolean][] = [
      [undefined, "client.authentication.k8s.io/v1beta1", false],
      ['{"apiVersion":"client.authentication.k8s.io/v1"}', "client.authentication.k8s.io/v1", false],
      [
        '{"apiVersion":"client.authentication.k8s.io/v1beta1"}',
        "client.authentication.k8s.io/v1beta1",
        false,
      ],
      [
        '{"apiVersion":"client.authentication.k8s.io/v1alpha1"}',
        "client.authentication.k8s.io/v1alpha1",
        true,
      ],
      ['{"apiVersion":"client.authentication.k8s.io/v9"}', "client.authentication.k8s.io/v1beta1", true],
      ["{not json", "client.authentication.k8s.io/v1beta1", true],
    ];
    for (const [info, expected, warns] of cases) {
      const e = isolated({ ...STATIC, AWS_REGION: "ap-south-1", KUBERNETES_EXEC_INFO: info });
      const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--no-cache"], { env: e.env });
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(doc), ["kind", "apiVersion", "spec", "status"]);
      assert.equal(doc.kind, "ExecCredential");
      assert.equal(doc.apiVersion, expected, String(info));
      assert.equal(r.stderr.trim().split("\n").filter(Boolean).length, warns ? 1 : 0, r.stderr);
    }
  });

  test("the region comes from the active profile when no flag or variable gives it", async () => {
    const e = isolated(
      { AWS_PROFILE: "dev" },
      {
        config: "[profile dev]\nregion = eu-central-1\n",
        credentials: `[dev]\naws_access_key_id = AKIADEVEXAMPLE000001\naws_secret_access_key = ${"y".repeat(40)}\n`,
      },
    );
    const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--no-cache"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const cred = parseExecCredential(r.stdout);
    assert.equal(cred.url.host, "sts.eu-central-1.amazonaws.com");
    assert.equal(cred.accessKeyId, "AKIADEVEXAMPLE000001");
  });
});

describe("flags and errors", () => {
  test("--help explains and exits 0", async () => {
    const r = await xeksAsync(["token", "--help"], { env: isolated().env });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: xeks token --cluster-name NAME/);
    assert.match(r.stdout, /--role-arn ARN/);
    assert.match(r.stdout, /cache/i);
  });

  const bad: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["--cluster-name"], /--cluster-name needs a value/],
    [["--cluster-name", CLUSTER, "extra"], /unexpected argument/],
    [["--region", "ap-south-1"], /--cluster-name/],
    [["--cluster-name", CLUSTER, "--cluster-id", "abc", "--region", "ap-south-1"], /not both/],
    [["--cluster-name", "bad name!", "--region", "ap-south-1"], /cluster name/],
    [["--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", "not-an-arn"], /IAM role ARN/],
    [
      ["--cluster-name", CLUSTER, "--region", "ap-south-1", "--session-name", "s1"],
      /only makes sense with --role-arn/,
    ],
    [
      ["--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE, "--session-name", "a b"],
      /2-64/,
    ],
    [["--cluster-name", CLUSTER, "--region", "ap south"], /AWS region/],
    [["--cluster-name", CLUSTER], /no AWS region/],
  ];
  for (const [args, message] of bad) {
    test(`exit 2 without a stack trace: ${args.join(" ")}`, async () => {
      const e = isolated(SESSION);
      const r = await xeksAsync(["token", ...args], { env: e.env });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^xeks: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      for (const s of [SESSION.AWS_SECRET_ACCESS_KEY, SESSION.AWS_SESSION_TOKEN])
        assert.ok(!r.stderr.includes(s));
    });
  }
});

describe("secrets never leak", () => {
  test("an STS error that echoes the session token and secret is redacted, also with XEKS_DEBUG", async () => {
    // Real STS echoes the canonical request (with x-amz-security-token) in SignatureDoesNotMatch.
    const server = createServer((req, res) => {
      const token = String(req.headers["x-amz-security-token"] ?? "");
      req.resume();
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
          `<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match. ` +
          `Canonical request: x-amz-security-token:${token} key ${SESSION.AWS_SECRET_ACCESS_KEY}</Message></Error>` +
          `<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const debug of [undefined, "1"]) {
        const e = isolated({
          ...SESSION,
          AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}`,
          XEKS_DEBUG: debug,
        });
        const r = await xeksAsync(
          ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
          {
            env: e.env,
          },
        );
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /could not assume role arn:aws:iam::111111111111:role\/X/);
        assert.match(r.stderr, /SignatureDoesNotMatch/);
        assert.ok(!r.stderr.includes(SESSION.AWS_SESSION_TOKEN), r.stderr);
        assert.ok(!r.stderr.includes(SESSION.AWS_SECRET_ACCESS_KEY), r.stderr);
        assert.equal(r.stdout, "");
      }
    } finally {
      server.close();
    }
  });

  test("the library's own error (message, hint, stack) carries no secret", async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>token ` +
          `${String(req.headers["x-amz-security-token"])} secret ${SESSION.AWS_SECRET_ACCESS_KEY}</Message></Error></ErrorResponse>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const e = isolated({
      ...SESSION,
      AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    });
    const saved = { ...process.env };
    // The SDK reads process.env itself: run with the isolated environment, then put everything back.
    for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
    Object.assign(process.env, e.env);
    try {
      const { getExecCredential } = await import("../src/token/plugin.js");
      const err = await getExecCredential(
        { clusterName: CLUSTER, region: "ap-south-1", roleArn: ROLE, cache: false },
        process.env,
      ).then(
        () => undefined,
        (x: unknown) => x as Error & { hint?: string },
      );
      assert.ok(err, "expected a failure");
      assert.equal(err.name, "OperationError");
      for (const text of [err.message, err.hint ?? "", err.stack ?? "", String(err)]) {
        assert.ok(!text.includes(SESSION.AWS_SECRET_ACCESS_KEY), text);
        assert.ok(!text.includes(SESSION.AWS_SESSION_TOKEN), text);
      }
      assert.match(err.message, /SignatureDoesNotMatch/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      server.close();
    }
  });

  test("an unreachable STS endpoint fails with exit 1 and no secret", async () => {
    const e = isolated({ ...SESSION, AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9" });
    const r = await xeksAsync(
      ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
      {
        env: e.env,
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not assume role/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    for (const s of [SESSION.AWS_SECRET_ACCESS_KEY, SESSION.AWS_SESSION_TOKEN])
      assert.ok(!r.stderr.includes(s));
  });

  test("no credentials at all: exit 1 with where xeks looked", async () => {
    const e = isolated({ AWS_REGION: "ap-south-1" });
    const r = await xeksAsync(["token", "--cluster-name", CLUSTER, "--no-cache"], { env: e.env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not load AWS credentials/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test("after a run, only the cache file holds the assumed secret, session token and token", async () => {
    const moto = await startMoto();
    try {
      const e = isolated({ ...SESSION, AWS_ENDPOINT_URL_STS: moto.url });
      const r = await xeksAsync(
        ["token", "--cluster-name", CLUSTER, "--region", "ap-south-1", "--role-arn", ROLE],
        {
          env: e.env,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      const token = parseExecCredential(r.stdout).token;
      const [entry] = cacheEntries(e);
      assert.ok(entry);
      const secrets = [entry.json.credentials.secretAccessKey, entry.json.credentials.sessionToken, token];
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((f) => {
          const p = join(dir, f);
          return statSync(p).isDirectory() ? walk(p) : [p];
        });
      for (const file of walk(e.dir)) {
        if (file === entry.path) continue;
        const text = readFileSync(file, "utf8");
        for (const s of secrets) assert.ok(!text.includes(s), `${file} holds a secret`);
      }
    } finally {
      await moto.stop();
    }
  });
});

// An endpoint that accepts TCP and never answers (a hung proxy, a half-dead VPC endpoint): every AWS call
// must give up (XEKS_AWS_TIMEOUT_MS keeps this fast) instead of holding kubectl forever. No timing is
// asserted: without the timeout the child is killed at the safety limit and its status is null, not 1.
describe("AWS calls are bounded (an endpoint that never answers)", () => {
  let silent: TcpFixture;
  before(async () => {
    silent = await startSilentServer();
  });
  after(async () => {
    await silent?.close();
  });
  const SAFETY = { timeoutMs: 45_000 };

  function checkTimedOut(r: { status: number | null; stderr: string; stdout: string }, what: RegExp) {
    assert.equal(r.status, 1, `status ${r.status}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, what);
    assert.match(r.stderr, /timed out: no answer within 300 ms \(2 attempts\)/);
    assert.match(r.stderr, /XEKS_AWS_TIMEOUT_MS/);
    assert.doesNotMatch(r.stderr, /\n\s+at |@smithy|WARN/);
    assert.equal(
      r.stderr.trim().split("\n")[0]?.startsWith("xeks: "),
      true,
      "one message line, then the hint",
    );
    assert.ok(r.stderr.trim().split("\n").length <= 2, r.stderr);
    for (const s of [SESSION.AWS_SECRET_ACCESS_KEY, SESSION.AWS_SESSION_TOKEN, STATIC.AWS_SECRET_ACCESS_KEY])
      assert.ok(!r.stderr.includes(s));
  }

  test("AssumeRole (--role-arn): exit 1 with one clear line, no secret", async () => {
    const e = isolated({
      ...SESSION,
      AWS_REGION: "ap-south-1",
      AWS_ENDPOINT_URL: `http://${silent.host}:${silent.port}`,
      XEKS_AWS_TIMEOUT_MS: "300",
    });
    const r = await xeksAsync(
      ["token", "--cluster-name", "x", "--role-arn", "arn:aws:iam::111111111111:role/R", "--no-cache"],
      { env: e.env, ...SAFETY },
    );
    checkTimedOut(r, /^xeks: could not assume role arn:aws:iam::111111111111:role\/R: /);
  });

  test("the credential chain's own STS call (a role_arn profile) is bounded too", async () => {
    const e = isolated(
      {
        AWS_PROFILE: "chain",
        AWS_ENDPOINT_URL: `http://${silent.host}:${silent.port}`,
        XEKS_AWS_TIMEOUT_MS: "300",
      },
      {
        config:
          "[profile chain]\nrole_arn = arn:aws:iam::111111111111:role/Base\nsource_profile = src\nregion = ap-south-1\n",
        credentials: `[src]\naws_access_key_id = ${STATIC.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${STATIC.AWS_SECRET_ACCESS_KEY}\n`,
      },
    );
    const r = await xeksAsync(["token", "--cluster-name", "x", "--no-cache"], { env: e.env, ...SAFETY });
    checkTimedOut(r, /^xeks: could not load AWS credentials: /);
  });

  test("a bad XEKS_AWS_TIMEOUT_MS is exit 2 naming it; a cached token does not read it", async () => {
    // Static keys, no --role-arn: no network call, and the token is cached.
    const e = isolated({ ...STATIC, AWS_REGION: "ap-south-1" });
    const first = await xeksAsync(["token", "--cluster-name", "x"], { env: e.env, ...SAFETY });
    assert.equal(first.status, 0, first.stderr);
    e.env.XEKS_AWS_TIMEOUT_MS = "soon";
    const warm = await xeksAsync(["token", "--cluster-name", "x"], { env: e.env, ...SAFETY });
    assert.equal(warm.status, 0, warm.stderr);
    assert.equal(parseExecCredential(warm.stdout).token, parseExecCredential(first.stdout).token);
    const r = await xeksAsync(["token", "--cluster-name", "x", "--no-cache"], { env: e.env, ...SAFETY });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /XEKS_AWS_TIMEOUT_MS: expected a whole number of milliseconds/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
