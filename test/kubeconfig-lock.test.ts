/**
 * `xeks kubeconfig` merges as kubectl does them: under kubectl's lock `<file>.lock` (client-go
 * tools/clientcmd/loader.go lockFile/unlockFile), so parallel xeks runs and a racing real
 * `kubectl config set-context` lose nothing; a file kubectl would not read as this kubeconfig (another kind,
 * duplicate keys or names), a read-only file, a FIFO or a device is refused (exit 2) and left exactly as it
 * was; a stale lock is exit 1 after the bounded wait, naming the lock; the message names the current context
 * the file really has. Runs the compiled CLI with a topology that holds the endpoint and CA: no AWS call.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { InputError } from "../src/errors.js";
import { currentContextOf, parseKubeconfig } from "../src/kubeconfig/index.js";
import { lockWaitMs } from "../src/kubeconfig/lock.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import { run, xeksAsync } from "./helpers/spawn.js";
import { offlineSeedYaml } from "./helpers/topologies.js";

const TOPOLOGY = offlineSeedYaml();
const EXISTING = `apiVersion: v1
kind: Config
clusters:
  - name: kind-dev
    cluster: { server: "https://127.0.0.1:6443" }
users:
  - name: kind-dev
    user: { token: static-token-of-another-cluster }
contexts:
  - name: kind-dev
    context: { cluster: kind-dev, user: kind-dev }
current-context: kind-dev
`;

const envs: IsolatedEnv[] = [];
after(() => {
  for (const e of envs) e.cleanup();
});

/** An isolated environment with the topology written; every AWS endpoint is a closed loopback port. */
function setup(vars: Record<string, string> = {}) {
  const e = isolatedAwsEnv({
    vars: {
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      ...vars,
    },
  });
  envs.push(e);
  const topo = join(e.dir, "xeks.yaml");
  writeFileSync(topo, TOPOLOGY);
  return { ...e, topo };
}

function contextNames(file: string): string[] {
  const doc = parse(readFileSync(file, "utf8"));
  return (doc.contexts ?? []).map((c: { name: string }) => c.name).sort();
}

/** Bytes, type and mode of a path (lstat and stat), to prove it was left exactly as it was. */
function snapshot(path: string): { bytes?: string; type: string; mode: number; link: boolean } {
  const l = lstatSync(path);
  const s = statSync(path);
  const type = s.isFile() ? "file" : s.isFIFO() ? "fifo" : s.isCharacterDevice() ? "char" : "other";
  return {
    ...(s.isFile() ? { bytes: readFileSync(path, "latin1") } : {}),
    type,
    mode: s.mode & 0o7777,
    link: l.isSymbolicLink(),
  };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".lock") || f.endsWith(".tmp"));
}

describe("parallel merges keep every context", () => {
  test("10 xeks kubeconfig at once into one file: all 10 contexts, no lock left", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "60000" });
    const file = join(e.dir, "shared-config");
    writeFileSync(file, EXISTING);
    const names = Array.from({ length: 10 }, (_, i) => `ctx-${i}`);
    const results = await Promise.all(
      names.map((name) =>
        xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--alias", name, "--kubeconfig", file], {
          env: e.env,
          timeoutMs: 90_000,
        }),
      ),
    );
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(contextNames(file), [...names, "kind-dev"].sort());
    const doc = parse(readFileSync(file, "utf8"));
    assert.equal(doc.users.length, 11, "every user entry too");
    assert.equal(doc.users[0].user.token, "static-token-of-another-cluster");
    assert.ok(names.includes(doc["current-context"]), "the current context is one of the merged ones");
    assert.deepEqual(leftovers(e.dir), []);
  });

  test("xeks racing real `kubectl config set-context` (KUBECONFIG=F): nothing is lost", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "60000" });
    const file = join(e.dir, "raced-config");
    writeFileSync(file, EXISTING);
    const env = { ...e.env, KUBECONFIG: file };
    // kubectl does not wait for a held lock: it fails at once with `open F.lock: file exists`. A user runs it
    // again; so does this test (bounded), and only for that message.
    const kubectlSetContext = async (name: string) => {
      for (let attempt = 0; attempt < 400; attempt++) {
        const r = await run(
          "kubectl",
          ["config", "set-context", name, "--cluster=kind-dev", "--user=kind-dev"],
          {
            env,
            timeoutMs: 30_000,
          },
        );
        if (r.status === 0) return attempt;
        assert.equal(r.stderr, `error: open ${file}.lock: file exists\n`);
        await sleep(5 + Math.random() * 20);
      }
      assert.fail(`kubectl config set-context ${name} never got the lock`);
    };
    const xeksNames = Array.from({ length: 8 }, (_, i) => `x-${i}`);
    const kubectlNames = Array.from({ length: 8 }, (_, i) => `k-${i}`);
    const all = await Promise.all([
      ...xeksNames.map((name) =>
        xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--alias", name], { env, timeoutMs: 90_000 }),
      ),
      // One kubectl after the other: kubectl reads the file before it takes the lock and, under it, deletes the
      // contexts its stale copy lacks (client-go ModifyConfig), so two kubectl at once can lose each other's
      // context whatever xeks does (docs/security.md, "kubeconfig").
      (async () => {
        for (const name of kubectlNames) await kubectlSetContext(name);
        return 0;
      })(),
    ]);
    for (const r of all.slice(0, xeksNames.length))
      assert.equal((r as { status: number }).status, 0, (r as { stderr: string }).stderr);
    assert.deepEqual(contextNames(file), [...xeksNames, ...kubectlNames, "kind-dev"].sort());
    assert.equal(existsSync(`${file}.lock`), false, "the lock is gone");
    assert.deepEqual(leftovers(e.dir), []);
    // kubectl itself still reads the result.
    const view = await run("kubectl", ["config", "get-contexts", "-o", "name"], { env });
    assert.equal(view.status, 0, view.stderr);
    assert.deepEqual(view.stdout.trim().split("\n").sort(), contextNames(file));
  });

  test("a lock released during the wait: xeks goes on and merges", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "60000" });
    const file = join(e.dir, "config");
    writeFileSync(file, EXISTING);
    writeFileSync(`${file}.lock`, "", { mode: 0 });
    const pending = xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", file], {
      env: e.env,
      timeoutMs: 90_000,
    });
    await sleep(700);
    assert.equal(readFileSync(file, "utf8"), EXISTING, "nothing written while the lock is held");
    const { unlinkSync } = await import("node:fs");
    unlinkSync(`${file}.lock`);
    const r = await pending;
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(contextNames(file), ["EKS-CrossAccount-Access-Role@prac-eks-abhi", "kind-dev"]);
    assert.deepEqual(leftovers(e.dir), []);
  });
});

describe("a held lock", () => {
  test("a stale lock: exit 1 after the wait, naming the lock and how to remove it; file and lock untouched", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "200" });
    const file = join(e.dir, "config");
    writeFileSync(file, EXISTING, { mode: 0o640 });
    writeFileSync(`${file}.lock`, "", { mode: 0 });
    const before = snapshot(file);
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", file], {
      env: e.env,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^xeks: the kubeconfig ${file} is locked: ${file}\\.lock exists`));
    assert.match(r.stderr, /was not removed within 200 ms/);
    assert.match(r.stderr, new RegExp(`remove it with \`rm ${file}\\.lock\``));
    assert.match(r.stderr, /XEKS_KUBECONFIG_LOCK_WAIT_MS/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stdout, "");
    assert.deepEqual(snapshot(file), before);
    assert.ok(existsSync(`${file}.lock`), "another process's lock is never removed");
  });

  test("the lock of a symlinked kubeconfig is beside the symlink, as kubectl's", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "100" });
    const real = join(e.dir, "real-config");
    const link = join(e.dir, "link-config");
    writeFileSync(real, EXISTING);
    symlinkSync(real, link);
    writeFileSync(`${link}.lock`, "");
    const k = await run("kubectl", ["config", "set-context", "k1", "--cluster=kind-dev"], {
      env: { ...e.env, KUBECONFIG: link },
    });
    assert.equal(k.status, 1);
    assert.match(
      k.stderr,
      new RegExp(`open ${link}\\.lock: file exists`),
      "kubectl locks the symlink's path",
    );
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], {
      env: { ...e.env, KUBECONFIG: link },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${link}\\.lock exists`));
    assert.equal(readFileSync(real, "utf8"), EXISTING);
  });

  test("XEKS_KUBECONFIG_LOCK_WAIT_MS is validated before anything", async () => {
    const e = setup({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "soon" });
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /XEKS_KUBECONFIG_LOCK_WAIT_MS: expected a whole number of milliseconds/);
    assert.throws(() => statSync(join(e.home, ".kube")), "nothing created");
    assert.equal(lockWaitMs({}), 5000);
    assert.equal(lockWaitMs({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "0" }), 0);
    assert.throws(() => lockWaitMs({ XEKS_KUBECONFIG_LOCK_WAIT_MS: "600001" }), InputError);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} while the lock is held removes it, and the process dies of the signal`, async () => {
      const e = setup();
      const file = join(e.dir, "config");
      const script = `
        import { acquireKubeconfigLock } from ${JSON.stringify(join(ROOT, "src/kubeconfig/lock.ts"))};
        await acquireKubeconfigLock(${JSON.stringify(file)}, { waitMs: 0 });
        process.stdout.write("held\\n");
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          if (d.includes("held")) resolve();
        });
        child.on("exit", () => reject(new Error(`exited before holding the lock: ${stderr}`)));
      });
      assert.ok(existsSync(`${file}.lock`));
      assert.equal(statSync(`${file}.lock`).mode & 0o777, 0, "mode 0, as client-go creates it");
      const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) =>
        child.on("exit", (code, sig) => resolve({ code, sig })),
      );
      child.kill(signal);
      const { code, sig } = await exited;
      clearTimeout(killer);
      assert.equal(sig, signal, `exit code ${code}: ${stderr}`);
      assert.equal(existsSync(`${file}.lock`), false);
    });
  }
});

describe("files kubectl would not read as this kubeconfig are refused, unchanged", () => {
  const refused: [string, string, RegExp, RegExp][] = [
    [
      "kind: Pod",
      "apiVersion: v1\nkind: Pod\nmetadata: { name: web }\n",
      /is not a kubeconfig: its kind is Pod, not Config/,
      /:2:7: kind: a kubeconfig has kind: Config/,
    ],
    [
      "apiVersion: apps/v1",
      "apiVersion: apps/v1\nkind: Config\n",
      /its apiVersion is apps\/v1, not v1/,
      /:1:\d+: apiVersion: /,
    ],
    [
      "two current-context keys",
      `${EXISTING}current-context: other\n`,
      /has the key current-context twice \(lines 12 and 13\); kubectl reads only the last one \(kubectl's current context is the last: other\)/,
      /:13:1: current-context: current-context again \(first at line 12\)/,
    ],
    [
      "a key twice inside a context",
      EXISTING.replace(
        "context: { cluster: kind-dev, user: kind-dev }",
        "context:\n      cluster: kind-dev\n      user: kind-dev\n      cluster: prod",
      ),
      /has the key cluster twice \(lines 12 and 14\)/,
      /:14:7: contexts\[0\]\.context\.cluster: cluster again/,
    ],
    [
      "two contexts with one name",
      EXISTING.replace(
        "current-context: kind-dev",
        "  - name: kind-dev\n    context: { cluster: x, user: y }\ncurrent-context: kind-dev",
      ),
      /has two contexts named kind-dev \(lines 10 and 12\)/,
      /contexts\[1\]\.name: name kind-dev again/,
    ],
    [
      "a YAML merge key making it a Pod (kubectl applies << and refuses the file)",
      "apiVersion: v1\nkind: Config\n<<: {kind: Pod}\n",
      /uses a YAML merge key \(<<\) on line 3; kubectl applies it/,
      /:3:1: <<: write the merged keys out in place of <</,
    ],
    [
      "a YAML merge key setting another current context",
      `${EXISTING}<<: {current-context: evil}\n`,
      /uses a YAML merge key \(<<\) on line 13/,
      /:13:1: <<: /,
    ],
    [
      "a YAML merge key deep in a context, from an anchor",
      EXISTING.replace(
        "context: { cluster: kind-dev, user: kind-dev }",
        "context: &base { cluster: kind-dev, user: kind-dev }\n  - name: prod\n    context: { <<: *base, namespace: x }",
      ),
      /uses a YAML merge key \(<<\) on line 13/,
      /:13:16: contexts\[1\]\.context\.<<: /,
    ],
  ];
  for (const [title, text, message, issue] of refused) {
    test(`${title}: exit 2 naming the file, the key and its line`, async () => {
      const e = setup();
      const file = join(e.dir, "config");
      writeFileSync(file, text, { mode: 0o644 });
      const before = snapshot(file);
      const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", file], {
        env: e.env,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^xeks: ${file} `));
      assert.match(r.stderr, message);
      assert.match(r.stderr, issue);
      assert.match(r.stderr, /not touching it/i);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.deepEqual(snapshot(file), before);
      assert.deepEqual(leftovers(e.dir), []);
      assert.throws(() => parseKubeconfig(text, file), InputError);
    });
  }

  test("with two current-context keys, kubectl uses the last one, the one xeks names", async () => {
    const e = setup();
    const file = join(e.dir, "config");
    writeFileSync(file, `${EXISTING}current-context: other\n`);
    const k = await run("kubectl", ["config", "current-context"], { env: { ...e.env, KUBECONFIG: file } });
    assert.equal(k.stdout.trim(), "other");
  });

  test("a read-only (0444) kubeconfig: exit 2, not replaced", async () => {
    const e = setup();
    const file = join(e.dir, "config");
    writeFileSync(file, EXISTING);
    chmodSync(file, 0o444);
    const before = snapshot(file);
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", file], {
      env: e.env,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /read-only/);
    assert.match(r.stderr, /--kubeconfig/);
    assert.deepEqual(snapshot(file), before);
    assert.deepEqual(leftovers(e.dir), []);
  });

  test("a FIFO and /dev/null as the kubeconfig: exit 2 without blocking, unchanged, no lock beside them", async () => {
    const e = setup();
    const fifo = join(e.dir, "fifo-config");
    const mk = await run("mkfifo", ["-m", "0600", fifo]);
    assert.equal(mk.status, 0, mk.stderr);
    const before = snapshot(fifo);
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", fifo], {
      env: e.env,
      timeoutMs: 30_000,
    });
    assert.equal(r.signal, null, "not killed: it did not block");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /FIFO|named pipe/i);
    assert.deepEqual(snapshot(fifo), before);
    assert.deepEqual(leftovers(e.dir), []);

    const devnull = snapshot("/dev/null");
    const d = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], {
      env: { ...e.env, KUBECONFIG: "/dev/null" },
      timeoutMs: 30_000,
    });
    assert.equal(d.status, 2, d.stderr);
    assert.match(d.stderr, /\/dev\/null/);
    assert.match(d.stderr, /device/);
    assert.deepEqual(snapshot("/dev/null"), devnull);
    assert.equal(existsSync("/dev/null.lock"), false);
  });
});

describe("the current context reported is the one the file has", () => {
  test("before and after, in text and JSON", async () => {
    const e = setup();
    mkdirSync(join(e.home, ".kube"));
    const file = join(e.home, ".kube", "config");
    writeFileSync(file, EXISTING);
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Added context EKS-CrossAccount-Access-Role@prac-eks-abhi to .+; it is now the current context \(was kind-dev\)\.\n/,
    );
    assert.equal(
      parse(readFileSync(file, "utf8"))["current-context"],
      "EKS-CrossAccount-Access-Role@prac-eks-abhi",
    );
    const again = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "-o", "json"], { env: e.env });
    assert.equal(again.status, 0, again.stderr);
    const out = JSON.parse(again.stdout);
    assert.deepEqual(out.currentContext, {
      before: "EKS-CrossAccount-Access-Role@prac-eks-abhi",
      after: "EKS-CrossAccount-Access-Role@prac-eks-abhi",
    });
    const kubectl = await run("kubectl", ["config", "current-context"], { env: e.env });
    assert.equal(kubectl.stdout.trim(), out.currentContext.after, "kubectl agrees");
    const text = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.match(text.stdout, /it stays the current context\.\n/);

    const empty = join(e.dir, "no-current");
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\ncurrent-context: ""\n');
    const none = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "--kubeconfig", empty], {
      env: e.env,
    });
    assert.match(none.stdout, /it is now the current context \(was unset\)\.\n/);
  });

  test("currentContextOf reads it as kubectl does", () => {
    assert.equal(currentContextOf(parseKubeconfig(EXISTING)), "kind-dev");
    assert.equal(currentContextOf(parseKubeconfig("kind: Config\ncurrent-context:\n")), undefined);
    assert.equal(currentContextOf(parseKubeconfig('kind: ""\n')), undefined);
    assert.throws(() => parseKubeconfig("current-context: [a]\n"), /current-context is not a string/);
    assert.throws(() => parseKubeconfig("kind: 3\n"), /its kind is 3/);
  });
});
