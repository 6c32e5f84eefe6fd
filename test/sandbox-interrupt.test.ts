/**
 * `xeks sandbox up` interrupted (src/cli/sandbox.ts, src/sandbox/up.ts), through the CLI: a fake `moto_server`
 * (a shell script that execs `sleep`, so it never answers) keeps `up` waiting; state.json records it as soon as it
 * starts; SIGINT (Ctrl-C) or SIGTERM then stops it, removes state.json and exits 130 or 143. Also through the CLI:
 * `--dir` naming a file exits 2 and names --dir. No moto, no AWS.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { processIdentity } from "../src/sandbox/up.js";
import { cleanEnv, fakeMotoBin, makeXeksWrapper } from "./helpers/sandbox-cli.js";
import { run } from "./helpers/spawn.js";

const root = mkdtempSync(join(tmpdir(), "xeks-sandbox-int-"));
const bin = makeXeksWrapper(join(root, ".tools"));
const fake = fakeMotoBin(root, "exec sleep 45");
const env = cleanEnv(join(root, "home"), `${bin}:${fake}:/usr/bin:/bin`);
const leftovers: number[] = [];
after(() => {
  for (const pid of leftovers)
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`${signal} while up waits for moto_server: it is stopped, state.json removed, exit ${code}`, async () => {
    const dir = join(root, `lab-${signal}`);
    const child = spawn("xeks", ["sandbox", "up", "--dir", dir], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const exit = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    // state.json names moto_server as soon as it starts (bounded: 30 s).
    let motoPid: number | undefined;
    for (let i = 0; i < 300 && motoPid === undefined; i++) {
      await sleep(100);
      try {
        const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
        motoPid = state.processes?.[0]?.pid;
      } catch {
        // not yet written
      }
    }
    assert.ok(motoPid, `state.json recorded moto_server; stderr: ${stderr}`);
    leftovers.push(motoPid);
    assert.ok(processIdentity(motoPid), "the fake moto_server runs");
    child.kill(signal);
    assert.equal(await exit, code, stderr);
    assert.match(stderr, new RegExp(`sandbox up interrupted \\(${signal}\\)`));
    assert.equal(processIdentity(motoPid), undefined, "moto_server was stopped");
    assert.equal(existsSync(join(dir, "state.json")), false, "the partial state is removed");
  });
}

test("--dir naming a file: exit 2, the message names --dir", async () => {
  const file = join(root, "a-file");
  writeFileSync(file, "x");
  const r = await run("xeks", ["sandbox", "up", "--dir", file], { env, timeoutMs: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--dir: /);
  assert.match(r.stderr, /is a regular file, not a directory/);
  assert.equal(readFileSync(file, "utf8"), "x");
});
