/**
 * The disk cache of `xeks token`, through the real command against a private moto_server: modes, reuse
 * without STS, refusal of readable caches, corrupted and expired entries, an unwritable directory,
 * concurrent calls, the key, and that a cached token is printed without loading any package.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verifyToken } from "../src/token/verify.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import { parseExecCredential } from "./helpers/exec-credential.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import { run, xeksAsync } from "./helpers/spawn.js";

const CLUSTER = "prac-eks-abhi";
const ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";
const STATIC = {
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

let moto: MotoServer;
const envs: IsolatedEnv[] = [];
before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto?.stop();
  for (const e of envs) e.cleanup();
});

function isolated(vars: Record<string, string | undefined> = {}): IsolatedEnv {
  const e = isolatedAwsEnv({
    vars: { ...STATIC, AWS_ENDPOINT_URL_STS: moto.url, AWS_REGION: "ap-south-1", ...vars },
  });
  envs.push(e);
  return e;
}

const cacheDir = (e: IsolatedEnv) => join(e.cacheHome, "xeks");
const files = (e: IsolatedEnv) => readdirSync(cacheDir(e));
const jsonFiles = (e: IsolatedEnv) => files(e).filter((f) => f.endsWith(".json"));
const mode = (p: string) => statSync(p).mode & 0o777;
const assumeRoles = () => moto.count("AssumeRole", "sts");

async function token(e: IsolatedEnv, extra: string[] = [], roleArn: string | null = ROLE) {
  const args = ["token", "--cluster-name", CLUSTER, ...(roleArn ? ["--role-arn", roleArn] : []), ...extra];
  const r = await xeksAsync(args, { env: e.env });
  assert.equal(r.status, 0, r.stderr);
  const cred = parseExecCredential(r.stdout);
  const verdict = verifyToken(cred.token, { now: new Date() });
  assert.ok(verdict.ok, JSON.stringify(verdict));
  return { ...cred, stderr: r.stderr };
}

function editEntry(e: IsolatedEnv, edit: (entry: Record<string, Record<string, string>>) => void): void {
  const [name] = jsonFiles(e);
  assert.ok(name);
  const path = join(cacheDir(e), name);
  const entry = JSON.parse(readFileSync(path, "utf8"));
  edit(entry);
  writeFileSync(path, JSON.stringify(entry), { mode: 0o600 });
}

describe("xeks token cache", () => {
  test("files 0600 in a 0700 directory; a second call reuses the token without STS", async () => {
    const e = isolated();
    const before = assumeRoles();
    const first = await token(e);
    assert.equal(assumeRoles(), before + 1);
    assert.equal(mode(cacheDir(e)), 0o700);
    assert.equal(jsonFiles(e).length, 1);
    for (const f of files(e)) assert.equal(mode(join(cacheDir(e), f)), 0o600);
    const second = await token(e);
    assert.equal(assumeRoles(), before + 1, "no AssumeRole inside the cache window");
    assert.equal(second.token, first.token);
    assert.equal(second.expirationTimestamp, first.expirationTimestamp);
    assert.equal(second.stderr, "");
  });

  test("a cache directory that group or others can read is refused and rebuilt", async () => {
    const e = isolated();
    await token(e);
    const before = assumeRoles();
    chmodSync(cacheDir(e), 0o755);
    writeFileSync(join(cacheDir(e), "planted.json"), "{}");
    await token(e);
    assert.equal(assumeRoles(), before + 1, "the readable cache was not trusted");
    assert.equal(mode(cacheDir(e)), 0o700);
    assert.deepEqual(
      files(e).filter((f) => f === "planted.json"),
      [],
      "what it held was removed",
    );
    assert.equal(jsonFiles(e).length, 1);
  });

  test("a cache file that group or others can read is refused and replaced by a 0600 one", async () => {
    const e = isolated();
    await token(e);
    const [name] = jsonFiles(e);
    const path = join(cacheDir(e), name ?? "");
    chmodSync(path, 0o644);
    const before = assumeRoles();
    await token(e);
    assert.equal(assumeRoles(), before + 1);
    assert.equal(mode(path), 0o600);
  });

  test("a corrupted file is refreshed transparently", async () => {
    const e = isolated();
    await token(e);
    const [name] = jsonFiles(e);
    writeFileSync(join(cacheDir(e), name ?? ""), '{"version":1,"key":', { mode: 0o600 });
    const before = assumeRoles();
    const again = await token(e);
    assert.equal(again.stderr, "");
    assert.equal(assumeRoles(), before + 1);
    JSON.parse(readFileSync(join(cacheDir(e), name ?? ""), "utf8"));
  });

  test("an expiring token is re-signed with the cached credentials; expiring credentials are renewed", async () => {
    const e = isolated();
    await token(e);
    const before = assumeRoles();
    // The token has 30 s left: under the one-minute margin.
    editEntry(e, (entry) => {
      const t = entry.token as Record<string, string>;
      t.expirationTimestamp = `${new Date(Date.now() + 30_000).toISOString().slice(0, 19)}Z`;
      t.signedAt = new Date(Date.now() - 13.5 * 60_000).toISOString();
    });
    const resigned = await token(e);
    assert.equal(assumeRoles(), before, "the cached assumed-role credentials were reused");
    assert.ok(Date.parse(resigned.expirationTimestamp) > Date.now() + 10 * 60_000);
    // Now the credentials have 2 minutes left, and the token too.
    editEntry(e, (entry) => {
      (entry.credentials as Record<string, string>).expiration = new Date(Date.now() + 120_000).toISOString();
      (entry.token as Record<string, string>).expirationTimestamp =
        `${new Date(Date.now() + 50_000).toISOString().slice(0, 19)}Z`;
    });
    await token(e);
    assert.equal(assumeRoles(), before + 1, "credentials close to expiry are renewed");
  });

  test("an unwritable cache directory still yields a token, with one warning line", async () => {
    const e = isolated();
    const blocker = join(e.dir, "not-a-directory");
    writeFileSync(blocker, "");
    e.env.XDG_CACHE_HOME = blocker; // <file>/xeks cannot be created, even by root
    const r = await token(e);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? "", /^xeks: warning: cannot write the token cache/);
    if (process.getuid?.() !== 0) {
      const e2 = isolated();
      mkdirSync(join(e2.cacheHome, "xeks"), { recursive: true, mode: 0o500 });
      chmodSync(join(e2.cacheHome, "xeks"), 0o500);
      const r2 = await token(e2);
      assert.equal(r2.stderr.split("\n").filter((l) => l !== "").length, 1);
    }
  });

  test("concurrent calls all succeed, with valid output and one consistent cache file", async () => {
    const e = isolated();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        xeksAsync(["token", "--cluster-name", CLUSTER, "--role-arn", ROLE], { env: e.env }),
      ),
    );
    for (const r of results) {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.ok(verifyToken(parseExecCredential(r.stdout).token, { now: new Date() }).ok);
    }
    assert.equal(jsonFiles(e).length, 1);
    assert.deepEqual(
      files(e).filter((f) => f.endsWith(".tmp")),
      [],
      "no temporary file left behind",
    );
    const entry = JSON.parse(readFileSync(join(cacheDir(e), jsonFiles(e)[0] ?? ""), "utf8"));
    assert.ok(entry.credentials.accessKeyId && entry.token.token);
    // And a later call is served from it.
    const before = assumeRoles();
    const later = await token(e);
    assert.equal(later.token, entry.token.token);
    assert.equal(assumeRoles(), before);
  });

  test("--no-cache neither reads nor writes", async () => {
    const e = isolated();
    const before = assumeRoles();
    await token(e, ["--no-cache"]);
    await token(e, ["--no-cache"]);
    assert.equal(assumeRoles(), before + 2);
    assert.throws(() => statSync(cacheDir(e)));
  });

  test("the key separates source identity, role, external id, cluster and region", async () => {
    const e = isolated();
    await token(e);
    const count = () => jsonFiles(e).length;
    await token(e, ["--region", "eu-west-1"]);
    assert.equal(count(), 2);
    await token(e, ["--external-id", "ext-1"]);
    assert.equal(count(), 3);
    await xeksAsync(["token", "--cluster-name", "other", "--role-arn", ROLE], { env: e.env });
    assert.equal(count(), 4);
    await token(e, [], "arn:aws:iam::111111111111:role/Other");
    assert.equal(count(), 5);
    await token({ ...e, env: { ...e.env, AWS_ACCESS_KEY_ID: "AKIAOTHEREXAMPLE0001" } });
    assert.equal(count(), 6);
    writeFileSync(e.configFile, "[default]\nregion = ap-south-1\n"); // an edited config is a new source
    await token(e);
    assert.equal(count(), 7);
    await token(e); // and is then reused
    assert.equal(count(), 7);
  });

  test("without --role-arn the token is cached, the base credentials never are", async () => {
    const e = isolated();
    const before = assumeRoles();
    const first = await token(e, [], null);
    const second = await token(e, [], null);
    assert.equal(second.token, first.token);
    assert.equal(assumeRoles(), before);
    const entry = readFileSync(join(cacheDir(e), jsonFiles(e)[0] ?? ""), "utf8");
    assert.ok(!entry.includes(STATIC.AWS_SECRET_ACCESS_KEY));
    assert.equal(JSON.parse(entry).credentials, undefined);
  });

  test("a cached token is printed without loading any package (node_modules out of reach)", async () => {
    const e = isolated();
    const first = await token(e);
    // A copy of the built CLI with no node_modules anywhere above it: any package import would fail.
    const copy = mkdtempSync(join(tmpdir(), "xeks-nomodules-"));
    try {
      cpSync(join(ROOT, "bin"), join(copy, "bin"), { recursive: true });
      cpSync(join(ROOT, "dist"), join(copy, "dist"), { recursive: true });
      cpSync(join(ROOT, "package.json"), join(copy, "package.json"));
      const warm = await run(
        join(copy, "bin", "xeks"),
        ["token", "--cluster-name", CLUSTER, "--role-arn", ROLE],
        {
          env: e.env,
        },
      );
      assert.equal(warm.status, 0, warm.stderr);
      assert.equal(warm.stderr, "");
      assert.equal(parseExecCredential(warm.stdout).token, first.token);
      // The same copy cannot make a new token: proof that the warm path is the only one that worked.
      const cold = await run(
        join(copy, "bin", "xeks"),
        ["token", "--cluster-name", "other", "--role-arn", ROLE],
        {
          env: e.env,
        },
      );
      assert.notEqual(cold.status, 0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
