/**
 * A second `xeks sandbox up` in the same HOME, right after the first (src/sandbox/up.ts awsConfigText): the aws
 * CLI caches assumed-role credentials in ~/.aws/cli/cache under the AssumeRole arguments (the role ARN and an
 * explicit session name, not the endpoint), so with the same session names the second sandbox's moto_server
 * would be sent the first one's keys, which it does not know (its answers then come from another account).
 * With a session name per `up`, the real aws CLI sees the second sandbox's VPCs. Real moto_server and aws CLI;
 * everything on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cleanEnv, makeXeksWrapper } from "./helpers/sandbox-cli.js";
import { run } from "./helpers/spawn.js";

const root = mkdtempSync(join(tmpdir(), "xeks-sandbox-again-"));
const bin = makeXeksWrapper(join(root, ".tools"));
const env = cleanEnv(join(root, "home"), `${bin}:${process.env.PATH}`);
mkdirSync(join(root, "home"), { recursive: true });
const bash = (script: string) =>
  run("bash", ["-c", `set -e\n[ -f .xeks-sandbox/env.sh ] && . .xeks-sandbox/env.sh\n${script}`], {
    cwd: root,
    env,
    timeoutMs: 120_000,
  });
after(async () => {
  if (existsSync(join(root, ".xeks-sandbox", "state.json"))) await bash("xeks sandbox down");
  rmSync(root, { recursive: true, force: true });
});

test("two ups in a row, same HOME: the aws CLI reaches the second sandbox's account", async () => {
  for (const round of [1, 2]) {
    const up = await bash("xeks sandbox up");
    assert.equal(up.status, 0, up.stderr);
    const vpc = readFileSync(join(root, ".xeks-sandbox", "env.sh"), "utf8").match(
      /^export XEKS_SANDBOX_CLUSTER_VPC=(\S+)$/m,
    )?.[1];
    assert.ok(vpc);
    const r = await bash(
      "aws ec2 describe-vpcs --profile sandbox-cluster --query 'Vpcs[].VpcId' --output text",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`\\b${vpc}\\b`), `round ${round}: the VPC of this sandbox's account`);
    assert.ok(readdirSync(join(root, "home", ".aws", "cli", "cache")).length > 0, "the aws CLI cached keys");
    const down = await bash("xeks sandbox down");
    assert.equal(down.status, 0, down.stderr);
  }
});
