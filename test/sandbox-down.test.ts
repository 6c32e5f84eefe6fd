/**
 * `xeks sandbox down` stops what `up` recorded and only that (src/sandbox/up.ts): a recorded pid whose start
 * time or command line differ from the record (the pid now belongs to another process) is left alone; the
 * recorded process itself is stopped, with its process group only when `up` recorded it as a group leader. A
 * state.json that is malformed, a link, someone else's or in a group-writable directory is refused (InputError on
 * --dir, exit 2) and kept. Fast: `sleep` stands in for the sandbox's
 * processes, no moto. The full path is test/sandbox.test.ts.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../src/errors.js";
import { processIdentity, type SandboxState, sandboxDown, sandboxStatus } from "../src/sandbox/up.js";

const dir = mkdtempSync(join(tmpdir(), "xeks-sandbox-down-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function sleeper(): ChildProcess {
  const c = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
  children.push(c);
  return c;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => c.once("exit", () => resolve()));

function writeState(processes: SandboxState["processes"]): void {
  const state: SandboxState = {
    version: 1,
    ports: { moto: 1, eks: 2, kube: 3 },
    processes,
    ids: {
      cluster: { vpcId: "vpc-1", subnetIds: [], routeTableId: "rtb-1", securityGroupId: "sg-1" },
      client: { vpcId: "vpc-2", subnetId: "subnet-2", routeTableId: "rtb-2" },
    },
  };
  writeFileSync(join(dir, "state.json"), JSON.stringify(state));
}

test("a pid whose start time or command line is not the recorded one is left alone", async () => {
  const other = sleeper();
  const id = processIdentity(other.pid as number);
  assert.ok(id, "the process is visible in /proc");
  writeState([
    {
      name: "moto_server",
      pid: other.pid as number,
      port: 1,
      startTime: "1",
      cmdline: id.cmdline,
      group: true,
    },
    {
      name: "serve",
      pid: other.pid as number,
      port: 3,
      startTime: id.startTime,
      cmdline: "node\0other\0",
      group: true,
    },
  ]);
  const r = await sandboxDown(dir);
  assert.deepEqual(
    r.processes.map((p) => p.outcome),
    ["not ours", "not ours"],
  );
  assert.ok(processIdentity(other.pid as number), "still running");
  assert.equal(existsSync(join(dir, "state.json")), false, "the record is gone");
});

test("the recorded process is stopped; status says what runs", async () => {
  const mine = sleeper();
  const id = processIdentity(mine.pid as number);
  assert.ok(id);
  writeState([{ name: "moto_server", pid: mine.pid as number, port: 1, ...id, group: true }]);
  const before = sandboxStatus(dir);
  assert.deepEqual(
    before.processes.map((p) => [p.name, p.alive]),
    [["moto_server", true]],
  );
  assert.equal(before.running, false, "nothing listens on the recorded ports");
  const r = await sandboxDown(dir);
  assert.deepEqual(r.processes, [{ name: "moto_server", pid: mine.pid, outcome: "stopped" }]);
  await exited(mine);
  assert.equal(mine.signalCode, "SIGTERM");
  assert.deepEqual(sandboxStatus(dir).processes, [], "no record left");
});

test("nothing recorded: down does nothing", async () => {
  const r = await sandboxDown(join(dir, "none"));
  assert.deepEqual(r.processes, []);
});

/** A detached `sh` (a group leader) with a `sleep` child in its group; resolves with both pids. */
function shellWithChild(): Promise<{ shell: ChildProcess; childPid: number }> {
  const shell = spawn("sh", ["-c", "sleep 60 & echo $!; wait"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  children.push(shell);
  return new Promise((resolve) => {
    shell.stdout?.setEncoding("utf8").once("data", (d: string) => {
      const childPid = Number(d.trim());
      extraPids.push(childPid);
      resolve({ shell, childPid });
    });
  });
}
const extraPids: number[] = [];
after(() => {
  for (const pid of extraPids)
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
});

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (!processIdentity(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test("the process group is signalled only for a process up recorded as a group leader", async () => {
  for (const group of [false, true]) {
    const { shell, childPid } = await shellWithChild();
    const id = processIdentity(shell.pid as number);
    assert.ok(id);
    writeState([{ name: "moto_server", pid: shell.pid as number, port: 1, ...id, group }]);
    const r = await sandboxDown(dir);
    assert.deepEqual(
      r.processes.map((p) => p.outcome),
      ["stopped"],
    );
    if (group) assert.ok(await gone(childPid), "group: true: the whole group is stopped");
    else assert.ok(processIdentity(childPid), "group: false: the rest of the group is left alone");
  }
});

test("a malformed state.json: InputError on --dir, the file is kept, nothing signalled", async () => {
  const mine = sleeper();
  const id = processIdentity(mine.pid as number);
  assert.ok(id);
  const good = { name: "moto_server", pid: mine.pid, port: 1, ...id, group: true };
  const bad: [string, string][] = [
    ["{not json", "not JSON"],
    ["null", "not a JSON object"],
    [
      JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: [{ ...good, pid: 1 }] }),
      "pid",
    ],
    [
      JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: [{ ...good, pid: -5 }] }),
      "pid",
    ],
    [
      JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: [{ ...good, pid: "7" }] }),
      "pid",
    ],
    [JSON.stringify({ version: 1, ports: { moto: "1", eks: 2, kube: 3 }, processes: [good] }), "ports"],
    [
      JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: [{ ...good, group: 1 }] }),
      "group",
    ],
    [JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: {} }), "processes"],
    [
      JSON.stringify({ version: 1, ports: { moto: 1, eks: 2, kube: 3 }, processes: [], ids: { cluster: 1 } }),
      "ids",
    ],
  ];
  for (const [text, what] of bad) {
    writeFileSync(join(dir, "state.json"), text);
    for (const call of [() => sandboxDown(dir), async () => sandboxStatus(dir)])
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof InputError, `${text}: ${String(err)}`);
        assert.match(err.message, /is not a sandbox state file/);
        assert.ok(
          err.issues.some(
            (i) => (i.path === "--dir" && i.message.includes(what)) || err.message.includes(what),
          ),
          text,
        );
        return true;
      });
    assert.ok(existsSync(join(dir, "state.json")), "not deleted");
  }
  assert.ok(processIdentity(mine.pid as number), "nothing signalled");
  rmSync(join(dir, "state.json"));
});

test("a state.json that is a link or someone else's, or in a group-writable dir, is refused", async () => {
  const mine = sleeper();
  const id = processIdentity(mine.pid as number);
  assert.ok(id);
  writeState([{ name: "moto_server", pid: mine.pid as number, port: 1, ...id, group: true }]);
  const elsewhere = mkdtempSync(join(tmpdir(), "xeks-sandbox-down-link-"));
  try {
    renameSync(join(dir, "state.json"), join(elsewhere, "state.json"));
    symlinkSync(join(elsewhere, "state.json"), join(dir, "state.json"));
    await assert.rejects(sandboxDown(dir), /holds state\.json, which is a symbolic link/);
    rmSync(join(dir, "state.json"));
    renameSync(join(elsewhere, "state.json"), join(dir, "state.json"));
    if (process.getuid?.() === 0) {
      chownSync(join(dir, "state.json"), 65534, 65534);
      await assert.rejects(sandboxDown(dir), /holds state\.json, owned by uid 65534/);
      chownSync(join(dir, "state.json"), 0, 0);
    }
    chmodSync(dir, 0o777);
    await assert.rejects(sandboxDown(dir), /writable by group or others/);
    chmodSync(dir, 0o700);
    assert.ok(processIdentity(mine.pid as number), "nothing signalled");
  } finally {
    chmodSync(dir, 0o700);
    rmSync(elsewhere, { recursive: true, force: true });
    rmSync(join(dir, "state.json"), { force: true });
  }
});

test("startMoto stops the child it spawned when the onSpawn callback throws (nothing left running)", async () => {
  const { startMoto } = await import("../src/sandbox/moto.js");
  const bin = join(dir, "fake-bin");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(bin, { recursive: true });
  // A moto_server that never answers: only the callback's failure can end the start.
  writeFileSync(join(bin, "moto_server"), "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
  let pid: number | undefined;
  await assert.rejects(
    startMoto({
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      patches: false,
      onSpawn: (child) => {
        pid = child.pid;
        throw new Error("recording failed");
      },
    }),
    /recording failed/,
  );
  assert.ok(pid !== undefined);
  for (let i = 0; i < 50 && processIdentity(pid as number); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(processIdentity(pid as number), undefined, "the fake moto_server is still running");
});
