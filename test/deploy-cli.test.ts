/**
 * `xeks deploy|diff|destroy`: bad input is refused with exit 2, one paragraph and no stack trace, before any AWS
 * call (the endpoint points at a closed loopback port, so a call would fail differently); the checks come in
 * order (flags, the non-interactive refusal, credentials, then synthesis into --out); missing credentials and
 * endpoints that never answer are operation failures (exit 1); the SDK never writes to stderr. Run
 * `npm run build` first: these run bin/xeks.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT, xeks } from "./helpers/cli.js";
import { xeksAsync } from "./helpers/spawn.js";
import { startSilentServer, type TcpFixture } from "./helpers/tcp-fixtures.js";

const SEED = join(ROOT, "examples", "seed.yaml");

describe("deploy, diff, destroy: bad input", () => {
  const iso = isolatedAwsEnv({
    vars: {
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "x",
    },
  });
  after(() => iso.cleanup());
  const run = (args: string[]) => xeks(args, { cwd: iso.dir, env: iso.env });

  const refused = (r: { status: number | null; stderr: string }, pattern: RegExp) => {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
    assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning/);
  };

  for (const cmd of ["deploy", "diff", "destroy"]) {
    test(`${cmd}: unknown --output`, () => {
      refused(
        run([cmd, SEED, "--output", "yaml"]),
        /unknown output format "yaml"[\s\S]*--output: expected text or json/,
      );
    });
    test(`${cmd}: --client-profile without NAME=`, () => {
      refused(run([cmd, SEED, "--client-profile", "ops"]), /bad --client-profile "ops"[\s\S]*NAME=PROFILE/);
    });
    test(`${cmd}: --client-profile naming a client the topology does not have`, () => {
      refused(
        run([cmd, SEED, "--client-profile", "payments=p"]),
        /client "payments", which the topology does not have[\s\S]*the clients are: ops/,
      );
    });
    test(`${cmd}: a missing topology file`, () => {
      refused(run([cmd, "nope.yaml"]), /cannot read topology file nope\.yaml: no such file/);
    });
  }

  test("deploy: --out naming a directory xeks did not write", () => {
    const dir = join(iso.dir, "mine");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "notes.txt"), "keep me");
    refused(run(["deploy", SEED, "--yes", "--out", dir]), /refusing to replace/);
  });

  test("deploy: an unknown flag", () => {
    const r = run(["deploy", SEED, "--yse"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option '--yse'[\s\S]*--yes/);
  });

  test("the commands are listed with their flags", () => {
    const r = run(["deploy", "--help"]);
    assert.equal(r.status, 0);
    for (const flag of [
      "--out",
      "--yes",
      "--cluster-profile",
      "--client-profile",
      "--allow-auth-mode-change",
      "--output",
    ]) {
      assert.match(r.stdout, new RegExp(flag));
    }
    assert.match(run(["--help"]).stdout, /deploy[\s\S]*diff[\s\S]*destroy/);
  });
});

describe("deploy, diff, destroy: the order of the checks, credentials and timeouts", () => {
  // A profile with static keys (p) and a role_arn profile over it (r). Every endpoint is loopback.
  const iso = isolatedAwsEnv({
    config: [
      "[profile p]",
      "region = ap-south-1",
      "[profile r]",
      "role_arn = arn:aws:iam::111111111111:role/xeks-deployer",
      "source_profile = p",
      "region = ap-south-1",
      "",
    ].join("\n"),
    credentials: "[p]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = x\n",
    vars: { AWS_ENDPOINT_URL: "http://127.0.0.1:9", XEKS_AWS_TIMEOUT_MS: "300" },
  });
  after(() => iso.cleanup());
  const KEYS = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "x" };
  const run = (args: string[], vars: Record<string, string> = {}) =>
    xeks(args, { cwd: iso.dir, env: { ...iso.env, ...vars } });
  const noTrace = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");

  /** An xeks output directory from an earlier run, to show that a refused run leaves it as it was. */
  const earlierOutput = (name: string) => {
    const dir = join(iso.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "xeks.manifest.json"), "{}\n");
    // An assembly file: a file no synthesis writes would be refused as --out (test/files.test.ts).
    writeFileSync(join(dir, "earlier.template.json"), "from an earlier run");
    return dir;
  };
  const untouched = (dir: string) => {
    assert.deepEqual(readdirSync(dir).sort(), ["earlier.template.json", "xeks.manifest.json"]);
    assert.equal(readFileSync(join(dir, "xeks.manifest.json"), "utf8"), "{}\n");
  };

  describe("deploy and destroy without --yes and without a terminal", () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    let endpoint = "";
    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const a = server.address();
      endpoint = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    for (const cmd of ["deploy", "destroy"]) {
      test(`${cmd}: refused at once: no AWS request, --out not synthesized`, async () => {
        connections = 0;
        const out = join(iso.dir, `${cmd}-fresh`);
        const kept = earlierOutput(`${cmd}-earlier`);
        for (const dir of [out, kept]) {
          const r = await xeksAsync([cmd, SEED, "--out", dir], {
            cwd: iso.dir,
            env: { ...iso.env, ...KEYS, AWS_ENDPOINT_URL: endpoint },
          });
          assert.equal(r.status, 2, r.stderr);
          assert.match(r.stderr, new RegExp(`refusing to ${cmd} without confirmation`));
          assert.match(r.stderr, new RegExp(`--yes: use --yes to ${cmd} without being asked`));
          noTrace(r.stderr);
        }
        assert.equal(connections, 0, "no connection reached the AWS endpoint");
        assert.equal(existsSync(out), false);
        untouched(kept);
      });
    }
  });

  for (const cmd of ["diff", "deploy", "destroy"]) {
    const yes = cmd === "diff" ? [] : ["--yes"];

    test(`${cmd}: a named profile that does not exist is refused (exit 2) before --out is touched`, () => {
      const kept = earlierOutput(`${cmd}-nope`);
      const r = run([cmd, SEED, ...yes, "--cluster-profile", "nope", "--out", kept]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /cannot load profile nope/);
      assert.match(r.stderr, /--cluster-profile: check that profile nope exists/);
      noTrace(r.stderr);
      untouched(kept);
      const fresh = join(iso.dir, `${cmd}-nope-fresh`);
      assert.equal(run([cmd, SEED, ...yes, "--cluster-profile", "nope", "--out", fresh]).status, 2);
      assert.equal(existsSync(fresh), false);
    });

    test(`${cmd}: no credentials at all is an operation failure (exit 1) saying how to configure them`, () => {
      const r = run([cmd, SEED, ...yes, "--out", join(iso.dir, `${cmd}-none`)]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /cannot load the ambient credentials/);
      assert.match(r.stderr, /configure credentials .* or name a profile with --cluster-profile/);
      noTrace(r.stderr);
      assert.equal(existsSync(join(iso.dir, `${cmd}-none`)), false);
    });
  }

  test("AWS_PROFILE and AWS_ACCESS_KEY_ID together: no SDK warning on stderr", () => {
    const r = run(["diff", SEED, "--out", join(iso.dir, "warn")], { AWS_PROFILE: "p", ...KEYS });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no answer from AWS/);
    assert.doesNotMatch(r.stderr, /WARNING|Multiple credential sources|@aws-sdk\/credential-provider/);
    assert.deepEqual(
      r.stderr.split("\n").filter((l) => l && !l.startsWith("xeks: ") && !l.startsWith("  ")),
      [],
      "only xeks's own paragraph",
    );
  });

  test("a bad XEKS_AWS_TIMEOUT_MS is refused, naming it", () => {
    const r = run(["diff", SEED], { ...KEYS, XEKS_AWS_TIMEOUT_MS: "soon" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /XEKS_AWS_TIMEOUT_MS: expected a whole number of milliseconds/);
  });

  describe("an endpoint that accepts and never answers", () => {
    let silent: TcpFixture;
    before(async () => {
      silent = await startSilentServer();
    });
    after(() => silent.close());
    const cases: [string, string[], Record<string, string>][] = [
      ["ambient keys (xeks's STS client)", [], KEYS],
      ["a role_arn profile (the credential chain's STS client)", ["--cluster-profile", "r"], {}],
    ];
    for (const [what, flags, vars] of cases) {
      test(`diff with ${what}: fails (exit 1) instead of waiting`, async () => {
        const r = await xeksAsync(["diff", SEED, ...flags, "--out", join(iso.dir, "silent")], {
          cwd: iso.dir,
          env: { ...iso.env, ...vars, AWS_ENDPOINT_URL: `http://${silent.host}:${silent.port}` },
          // A guard, not a timing assertion: without timeouts the run would wait for minutes.
          timeoutMs: 90_000,
        });
        assert.equal(r.signal, null, "the run ended by itself");
        assert.equal(r.status, 1, r.stderr);
        assert.match(
          r.stderr,
          /no answer from AWS \(TimeoutError\): a request has exceeded the configured 300 ms/,
        );
        assert.doesNotMatch(r.stderr, /\[WARN\]|@smithy/);
        noTrace(r.stderr);
      });
    }
  });
});
