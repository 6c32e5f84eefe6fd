/** Unit tests of src/token/: format, exec-credential, environment, cache, redact, generate. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { redact } from "../src/aws/redact.js";
import { cacheKey, TokenCache, usableCredentials, usableToken } from "../src/token/cache.js";
import {
  cacheDirectory,
  defaultSessionName,
  parseIni,
  resolveRegion,
  SESSION_NAME_PATTERN,
  sourceIdentity,
} from "../src/token/environment.js";
import { chooseApiVersion, renderExecCredential } from "../src/token/exec-credential.js";
import { buildPresignedUrl, formatTimestamp, stsHost, tokenExpiration } from "../src/token/format.js";
import { generateToken } from "../src/token/generate.js";
import { validateTokenRequest } from "../src/token/plugin.js";

test("STS hosts per partition, FIPS on request", () => {
  assert.equal(stsHost("ap-south-1"), "sts.ap-south-1.amazonaws.com");
  assert.equal(stsHost("cn-north-1"), "sts.cn-north-1.amazonaws.com.cn");
  assert.equal(stsHost("us-gov-west-1"), "sts.us-gov-west-1.amazonaws.com");
  assert.equal(stsHost("us-iso-east-1"), "sts.us-iso-east-1.c2s.ic.gov");
  assert.equal(stsHost("us-east-1", { fips: true }), "sts-fips.us-east-1.amazonaws.com");
});

test("presigned URL query order is aws-cli's, RFC 3986 escaped", () => {
  const url = buildPresignedUrl("h", {
    "X-Amz-Signature": "sig",
    "X-Amz-Security-Token": "a+b/c=",
    Action: "GetCallerIdentity",
    "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    Version: "2011-06-15",
  });
  assert.equal(
    url,
    "https://h/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=a%2Bb%2Fc%3D&X-Amz-Signature=sig",
  );
});

test("expiration: now + 14 min, or the credentials' expiry if earlier; formatted without fraction", () => {
  const t = new Date("2025-01-01T00:00:00.900Z");
  assert.equal(formatTimestamp(tokenExpiration(t)), "2025-01-01T00:14:00Z");
  assert.equal(
    formatTimestamp(tokenExpiration(t, new Date("2025-01-01T00:05:30.5Z"))),
    "2025-01-01T00:05:30Z",
  );
  assert.equal(formatTimestamp(tokenExpiration(t, new Date("2025-01-01T01:00:00Z"))), "2025-01-01T00:14:00Z");
});

test("the known token vector of aws eks get-token", async () => {
  const g = await generateToken({
    credentials: {
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    },
    region: "ap-south-1",
    clusterId: "prac",
    now: new Date("2025-01-01T00:00:00Z"),
  });
  assert.equal(
    g.url,
    "https://sts.ap-south-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fap-south-1%2Fsts%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=84f17139789f96787a32363ffa7df2261e4b3b8e0444981f1c284f252aed7b1c",
  );
  assert.equal(g.token, `k8s-aws-v1.${Buffer.from(g.url).toString("base64url")}`);
  assert.ok(!g.token.includes("="));
});

test("ExecCredential apiVersion choice mirrors aws-cli", () => {
  assert.deepEqual(chooseApiVersion(undefined), { apiVersion: "client.authentication.k8s.io/v1beta1" });
  assert.deepEqual(chooseApiVersion(""), { apiVersion: "client.authentication.k8s.io/v1beta1" });
  assert.equal(
    chooseApiVersion('{"apiVersion":"client.authentication.k8s.io/v1"}').apiVersion,
    "client.authentication.k8s.io/v1",
  );
  assert.equal(chooseApiVersion('{"apiVersion":"client.authentication.k8s.io/v1"}').warning, undefined);
  assert.match(chooseApiVersion("{").warning ?? "", /Error parsing KUBERNETES_EXEC_INFO/);
  assert.match(chooseApiVersion("null").warning ?? "", /Unrecognized API version/);
  assert.match(
    chooseApiVersion('{"apiVersion":"client.authentication.k8s.io/v1alpha1"}').warning ?? "",
    /deprecated/,
  );
  const text = renderExecCredential(
    "client.authentication.k8s.io/v1",
    "k8s-aws-v1.x",
    "2025-01-01T00:14:00Z",
  );
  assert.ok(text.endsWith("}\n"));
  assert.deepEqual(JSON.parse(text), {
    kind: "ExecCredential",
    apiVersion: "client.authentication.k8s.io/v1",
    spec: {},
    status: { expirationTimestamp: "2025-01-01T00:14:00Z", token: "k8s-aws-v1.x" },
  });
});

test("region: flag, AWS_REGION, AWS_DEFAULT_REGION, then the profile's config", () => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-unit-"));
  try {
    const config = join(dir, "config");
    writeFileSync(
      config,
      "[default]\nregion = us-west-2\n\n[profile dev]\n# comment\nregion=eu-west-1\ns3 =\n  region = nope\n",
    );
    const env = { AWS_CONFIG_FILE: config, HOME: dir };
    assert.equal(resolveRegion("ap-south-1", { ...env, AWS_REGION: "x" })?.region, "ap-south-1");
    assert.equal(
      resolveRegion(undefined, { ...env, AWS_REGION: "eu-north-1", AWS_DEFAULT_REGION: "y" })?.source,
      "AWS_REGION",
    );
    assert.equal(
      resolveRegion(undefined, { ...env, AWS_DEFAULT_REGION: "eu-south-1" })?.region,
      "eu-south-1",
    );
    assert.deepEqual(resolveRegion(undefined, env), { region: "us-west-2", source: "profile" });
    assert.equal(resolveRegion(undefined, { ...env, AWS_PROFILE: "dev" })?.region, "eu-west-1");
    assert.equal(resolveRegion(undefined, { ...env, AWS_PROFILE: "missing" }), undefined);
    assert.equal(resolveRegion(undefined, { HOME: dir, AWS_CONFIG_FILE: join(dir, "none") }), undefined);
    assert.deepEqual([...(parseIni("[ profile  a ]\nk = v = w\n").get("profile a") ?? [])], [["k", "v = w"]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("default session name: xeks-<user>@<where>, valid for STS", () => {
  const name = defaultSessionName({ USER: "someone" });
  assert.match(name, SESSION_NAME_PATTERN);
  assert.match(name, /^xeks-[^@]+@.+/);
});

test("source identity: changes with the access key, the profile and the config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "xeks-unit-"));
  try {
    const base = { HOME: dir, AWS_ACCESS_KEY_ID: "AKIA1", AWS_SECRET_ACCESS_KEY: "s1" };
    const a = cacheKey(sourceIdentity(base));
    assert.equal(
      cacheKey(sourceIdentity({ ...base, AWS_SECRET_ACCESS_KEY: "s2" })),
      a,
      "the secret is not part of it",
    );
    assert.notEqual(cacheKey(sourceIdentity({ ...base, AWS_ACCESS_KEY_ID: "AKIA2" })), a);
    assert.notEqual(cacheKey(sourceIdentity({ ...base, AWS_PROFILE: "p" })), a);
    mkdirSync(join(dir, ".aws"));
    writeFileSync(join(dir, ".aws", "config"), "[default]\n");
    assert.notEqual(cacheKey(sourceIdentity(base)), a);
    assert.ok(!sourceIdentity(base).join(" ").includes("s1"));
    assert.equal(cacheDirectory({ HOME: dir }), join(dir, ".cache", "xeks"));
    assert.equal(cacheDirectory({ HOME: dir, XDG_CACHE_HOME: "/x" }), "/x/xeks");
    assert.equal(cacheDirectory({ HOME: dir, XDG_CACHE_HOME: "relative" }), join(dir, ".cache", "xeks"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cache entries: margins, clock sanity, round trip, symlinks refused", () => {
  const now = new Date("2025-01-01T00:00:00Z");
  const token = (exp: string, signed = "2024-12-31T23:50:00Z") => ({
    version: 1 as const,
    key: "k",
    token: { token: "k8s-aws-v1.x", expirationTimestamp: exp, signedAt: signed },
  });
  assert.ok(usableToken(token("2025-01-01T00:01:01Z"), now));
  assert.equal(usableToken(token("2025-01-01T00:01:00Z"), now), undefined, "one minute margin");
  assert.equal(
    usableToken(token("2025-01-01T00:10:00Z", "2025-01-01T00:05:00Z"), now),
    undefined,
    "signed in the future",
  );
  assert.equal(
    usableToken(token("2025-01-01T00:30:00Z", "2024-12-31T23:59:00Z"), now),
    undefined,
    "longer than 15 min",
  );
  const creds = (exp: string) => ({
    version: 1 as const,
    key: "k",
    credentials: { accessKeyId: "A", secretAccessKey: "S", sessionToken: "T", expiration: exp },
  });
  assert.ok(usableCredentials(creds("2025-01-01T00:05:01Z"), now));
  assert.equal(usableCredentials(creds("2025-01-01T00:05:00Z"), now), undefined);

  const dir = mkdtempSync(join(tmpdir(), "xeks-unit-"));
  try {
    const cache = new TokenCache(join(dir, "xeks"));
    const key = cacheKey(["a"]);
    assert.equal(cache.read(key), undefined);
    cache.write({ ...token("2025-01-01T00:10:00Z"), key });
    assert.equal(statSync(cache.dir).mode & 0o777, 0o700);
    assert.equal(statSync(cache.pathFor(key)).mode & 0o777, 0o600);
    assert.equal(cache.read(key)?.token?.token, "k8s-aws-v1.x");
    assert.equal(cache.read(cacheKey(["b"])), undefined);
    // An entry written for another key under this name is ignored.
    writeFileSync(cache.pathFor(cacheKey(["c"])), readFileSync(cache.pathFor(key)), { mode: 0o600 });
    assert.equal(cache.read(cacheKey(["c"])), undefined);
    // A symlink in place of the file is not followed.
    const target = join(dir, "elsewhere.json");
    writeFileSync(target, readFileSync(cache.pathFor(key)), { mode: 0o600 });
    const d = cacheKey(["d"]);
    symlinkSync(target, cache.pathFor(d));
    assert.equal(cache.read(d), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("redact: known secrets and secret-shaped text", () => {
  const s = redact(
    "k8s-aws-v1.aGVsbG8 then x-amz-security-token:FwoGabc+/= and X-Amz-Signature=abcdef0123 and mysecretvalue!",
    ["mysecretvalue", "short"],
  );
  assert.equal(
    s,
    "[redacted] then x-amz-security-token:[redacted] and X-Amz-Signature=[redacted] and [redacted]!",
  );
});

test("request validation names the flag", () => {
  assert.throws(() => validateTokenRequest({}), /--cluster-name/);
  assert.throws(
    () => validateTokenRequest({ clusterName: "c", roleArn: "arn:aws:iam::111111111111:user/u" }),
    (err: Error & { issues?: { path: string }[] }) => err.issues?.[0]?.path === "--role-arn",
  );
  assert.doesNotThrow(() =>
    validateTokenRequest({
      clusterName: "prac-eks-abhi",
      roleArn: "arn:aws:iam::111111111111:role/path/EKS-CrossAccount-Access-Role",
      sessionName: "xeks-me@i-0123456789abcdef0",
      externalId: "analytics-7f3c2a",
      region: "ap-south-1",
    }),
  );
});
