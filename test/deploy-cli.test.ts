/**
 * `xeks deploy|diff|destroy`: bad input is refused with exit 2, one paragraph and no stack trace, before any AWS
 * call (the endpoint points at a closed loopback port, so a call would fail differently). Run `npm run build`
 * first: these run bin/xeks.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT, xeks } from "./helpers/cli.js";

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
    refused(run(["deploy", SEED, "--out", dir]), /refusing to replace/);
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
