/**
 * The user's files (src/files, docs/security.md "What xeks reads", "What xeks writes", "Symlinks"): the module
 * in-process, then every command that reads or writes a user's file against each hostile kind of file (a FIFO,
 * the character device /dev/null, a symlink to /dev/zero, the topology as an output, a 0444 file, a directory,
 * an oversized file): exit 2 naming the flag, nothing blocks (each run has a timeout; a hang fails), no AWS
 * call, and every file unchanged (type, mode, bytes; /dev/null still a character device). Needs `npm run build`.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { InputError } from "../src/errors.js";
import {
  checkWriteTarget,
  declareInput,
  namespaceTag,
  READ_LIMITS,
  readOptionalFile,
  readUserFile,
  readUserFileIfExists,
  recordedInputs,
  resetFileRegistry,
  writeFileAtomic,
} from "../src/files/index.js";
import { ROOT } from "./helpers/cli.js";
import { type AsyncRunResult, run, xeksAsync } from "./helpers/spawn.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "xeks-files-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function mkfifo(path: string): void {
  execFileSync("mkfifo", [path]);
}

/** Throws an InputError naming `field` whose message matches `message`. */
function refuses(fn: () => unknown, field: string, message: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  assert.match(caught.message, message);
  assert.equal(caught.issues[0]?.path, field);
  return caught;
}

const READ = { field: "FILE", what: "topology file", maxBytes: READ_LIMITS.topology };
const WRITE = { field: "--report", what: "the report" };

function assertDevNull(): void {
  assert.ok(lstatSync("/dev/null").isCharacterDevice(), "/dev/null is still a character device");
}

describe("reads", () => {
  beforeEach(() => resetFileRegistry());

  test("a regular file is read and recorded (dev+ino, resolved path, field)", () => {
    const d = tempDir();
    const f = join(d, "t.yaml");
    writeFileSync(f, "version: 1\n");
    assert.equal(readUserFile(f, READ), "version: 1\n");
    const [rec] = recordedInputs();
    assert.equal(rec?.field, "FILE");
    assert.equal(rec?.ino, statSync(f).ino);
    assert.equal(rec?.dev, statSync(f).dev);
  });

  test("a FIFO, /dev/null, a symlink to /dev/zero, a directory: InputError at once, nothing recorded", () => {
    const d = tempDir();
    mkfifo(join(d, "fifo"));
    symlinkSync("/dev/zero", join(d, "zero"));
    mkdirSync(join(d, "dir"));
    refuses(
      () => readUserFile(join(d, "fifo"), READ),
      "FILE",
      /it is a FIFO \(named pipe\), not a regular file/,
    );
    refuses(() => readUserFile("/dev/null", READ), "FILE", /it is a character device/);
    refuses(() => readUserFile(join(d, "zero"), READ), "FILE", /it is a character device/);
    refuses(() => readUserFile(join(d, "dir"), READ), "FILE", /it is a directory/);
    assert.deepEqual(recordedInputs(), []);
    assert.ok(lstatSync(join(d, "fifo")).isFIFO());
    assertDevNull();
  });

  test("a file over the cap is refused naming the cap; one at the cap is read", () => {
    const d = tempDir();
    writeFileSync(join(d, "big"), Buffer.alloc(READ_LIMITS.topology + 1, 0x23));
    writeFileSync(join(d, "cap"), Buffer.alloc(READ_LIMITS.topology, 0x23));
    const err = refuses(() => readUserFile(join(d, "big"), READ), "FILE", /larger than 1 MiB/);
    assert.match(err.issues[0]?.message ?? "", /at most 1 MiB/);
    assert.equal(readUserFile(join(d, "cap"), READ).length, READ_LIMITS.topology);
  });

  test("a missing file: InputError from readUserFile, undefined from readUserFileIfExists", () => {
    const d = tempDir();
    refuses(() => readUserFile(join(d, "nope"), READ), "FILE", /no such file/);
    assert.equal(readUserFileIfExists(join(d, "nope"), READ), undefined);
  });

  test("readOptionalFile: text of a regular file, undefined for anything else, never recorded", () => {
    const d = tempDir();
    writeFileSync(join(d, "config"), "[default]\n");
    mkfifo(join(d, "fifo"));
    assert.equal(readOptionalFile(join(d, "config"), READ_LIMITS.awsConfig), "[default]\n");
    assert.equal(readOptionalFile(join(d, "fifo"), READ_LIMITS.awsConfig), undefined);
    assert.equal(readOptionalFile("/dev/zero", READ_LIMITS.awsConfig), undefined);
    assert.equal(readOptionalFile(join(d, "config"), 3), undefined);
    assert.equal(readOptionalFile(join(d, "nope"), 3), undefined);
    assert.deepEqual(recordedInputs(), []);
  });
});

describe("writes", () => {
  beforeEach(() => resetFileRegistry());

  function leftovers(d: string): string[] {
    return readdirSync(d).filter((n) => n.includes(".xeks-"));
  }

  test("a new file gets the given mode; a replaced file keeps its mode; no temporary file is left", () => {
    const d = tempDir();
    writeFileAtomic(join(d, "new"), "a", { ...WRITE, mode: 0o600 });
    assert.equal(statSync(join(d, "new")).mode & 0o7777, 0o600);
    writeFileSync(join(d, "old"), "old");
    chmodSync(join(d, "old"), 0o640);
    writeFileAtomic(join(d, "old"), "new", { ...WRITE, mode: 0o600 });
    assert.equal(readFileSync(join(d, "old"), "utf8"), "new");
    assert.equal(statSync(join(d, "old")).mode & 0o7777, 0o640);
    writeFileAtomic(join(d, "old"), "newer", { ...WRITE, maxMode: 0o600 });
    assert.equal(statSync(join(d, "old")).mode & 0o7777, 0o600, "maxMode drops group and other bits");
    assert.deepEqual(leftovers(d), []);
  });

  test("as root, a replaced file keeps its owner", { skip: process.geteuid?.() !== 0 }, () => {
    const d = tempDir();
    writeFileSync(join(d, "owned"), "old");
    chownSync(join(d, "owned"), 1234, 1235);
    writeFileAtomic(join(d, "owned"), "new", WRITE);
    const st = statSync(join(d, "owned"));
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 1235);
  });

  test("a FIFO, /dev/null, a symlink to /dev/zero, a directory: refused and unchanged", () => {
    const d = tempDir();
    mkfifo(join(d, "fifo"));
    symlinkSync("/dev/zero", join(d, "zero"));
    mkdirSync(join(d, "dir"));
    for (const write of [
      writeFileAtomic,
      (p: string, _t: string, o: typeof WRITE) => checkWriteTarget(p, o),
    ]) {
      refuses(() => write(join(d, "fifo"), "x", WRITE), "--report", /it is a FIFO/);
      refuses(() => write("/dev/null", "x", WRITE), "--report", /it is a character device/);
      refuses(() => write(join(d, "zero"), "x", WRITE), "--report", /it is a character device/);
      refuses(() => write(join(d, "dir"), "x", WRITE), "--report", /it is a directory/);
    }
    assert.ok(lstatSync(join(d, "fifo")).isFIFO());
    assert.equal(readlinkSync(join(d, "zero")), "/dev/zero");
    assert.ok(lstatSync(join(d, "dir")).isDirectory());
    assertDevNull();
    assert.deepEqual(leftovers(d), []);
  });

  test("a read-only file (0444) is refused even as root, and unchanged", () => {
    const d = tempDir();
    writeFileSync(join(d, "ro"), "mine");
    chmodSync(join(d, "ro"), 0o444);
    refuses(() => writeFileAtomic(join(d, "ro"), "x", WRITE), "--report", /read-only \(mode 0444\)/);
    refuses(() => checkWriteTarget(join(d, "ro"), WRITE), "--report", /read-only/);
    assert.equal(readFileSync(join(d, "ro"), "utf8"), "mine");
    assert.equal(statSync(join(d, "ro")).mode & 0o7777, 0o444);
  });

  test("never over a file the command read or declared under another role: path, symlink or hard link", () => {
    const d = tempDir();
    const topo = join(d, "seed.yaml");
    writeFileSync(topo, "version: 1\n");
    readUserFile(topo, READ);
    symlinkSync(topo, join(d, "link.yaml"));
    linkSync(topo, join(d, "hard.yaml"));
    refuses(() => checkWriteTarget(topo, WRITE), "--report", /the file this command reads as FILE/);
    refuses(() => writeFileAtomic(join(d, "link.yaml"), "x", WRITE), "--report", /reads as FILE/);
    refuses(() => writeFileAtomic(join(d, "hard.yaml"), "x", WRITE), "--report", /reads as FILE/);
    assert.equal(readFileSync(topo, "utf8"), "version: 1\n");
    // The same role may write back what it read (the kubeconfig: read, merged, written).
    writeFileAtomic(topo, "version: 2\n", { ...WRITE, field: "KUBECONFIG", role: "FILE" });
    assert.equal(readFileSync(topo, "utf8"), "version: 2\n");
  });

  test("declareInput refuses an output before the input is read, even when it does not exist yet", () => {
    const d = tempDir();
    declareInput(join(d, "later.yaml"), "FILE");
    refuses(() => checkWriteTarget(join(d, "later.yaml"), WRITE), "--report", /reads as FILE/);
    assert.equal(existsSync(join(d, "later.yaml")), false);
  });

  test("symlinks: written through to the target; a dangling one is refused", () => {
    const d = tempDir();
    writeFileSync(join(d, "target"), "old");
    chmodSync(join(d, "target"), 0o600);
    symlinkSync("target", join(d, "link"));
    assert.equal(writeFileAtomic(join(d, "link"), "new", WRITE), join(d, "target"));
    assert.ok(lstatSync(join(d, "link")).isSymbolicLink());
    assert.equal(readFileSync(join(d, "target"), "utf8"), "new");
    assert.equal(statSync(join(d, "target")).mode & 0o7777, 0o600);
    symlinkSync(join(d, "missing"), join(d, "dangling"));
    refuses(() => writeFileAtomic(join(d, "dangling"), "x", WRITE), "--report", /dangling symlink/);
    assert.equal(existsSync(join(d, "missing")), false);
  });

  test("a symlink owned by another user in a sticky world-writable directory is not followed", {
    skip: process.geteuid?.() !== 0,
  }, () => {
    const d = tempDir();
    const shared = join(d, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    writeFileSync(join(d, "victim"), "precious");
    symlinkSync(join(d, "victim"), join(shared, "report.html"));
    lchownSync(join(shared, "report.html"), 1234, 1234);
    refuses(() => checkWriteTarget(join(shared, "report.html"), WRITE), "--report", /owned by another user/);
    refuses(() => writeFileAtomic(join(shared, "report.html"), "x", WRITE), "--report", /another user/);
    assert.equal(readFileSync(join(d, "victim"), "utf8"), "precious");
  });

  test("overwrite: false refuses an existing file; createDirMode creates the directory; else exit 2", () => {
    const d = tempDir();
    writeFileSync(join(d, "exists"), "mine");
    refuses(
      () => writeFileAtomic(join(d, "exists"), "x", { ...WRITE, overwrite: false, existsHint: "or --force" }),
      "--report",
      /it exists/,
    );
    assert.equal(readFileSync(join(d, "exists"), "utf8"), "mine");
    writeFileAtomic(join(d, "fresh"), "x", { ...WRITE, overwrite: false });
    assert.equal(readFileSync(join(d, "fresh"), "utf8"), "x");
    refuses(() => checkWriteTarget(join(d, "no", "dir", "f"), WRITE), "--report", /does not exist/);
    writeFileAtomic(join(d, "a", "b", "f"), "x", { ...WRITE, createDirMode: 0o700 });
    assert.equal(statSync(join(d, "a")).mode & 0o777, 0o700);
    refuses(() => checkWriteTarget(join(d, "exists", "f"), WRITE), "--report", /under a file/);
    assert.deepEqual(leftovers(d), []);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The CLI: every command that reads or writes a user's file, against each kind of hostile file.

/** A snapshot of a directory tree: type, mode and bytes (or link text) of every entry. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[name] = `link ${readlinkSync(p)}`;
    else if (st.isFIFO()) out[name] = `fifo ${mode}`;
    else if (st.isDirectory()) out[name] = `dir ${mode} [${Object.entries(snapshot(p)).join(";")}]`;
    else if (st.isFile())
      out[name] = `file ${mode} ${st.size} ${st.ino} ${readFileSync(p).subarray(0, 4096).toString("base64")}`;
    else out[name] = `other ${mode}`;
  }
  return out;
}

const KUBECONFIG_TEXT = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n";

describe("the CLI refuses hostile files with exit 2, at once, changing nothing", () => {
  let server: Server;
  let calls = 0;
  let fx: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let before0: Record<string, string>;

  before(async () => {
    server = createServer((req, res) => {
      calls++;
      req.resume();
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    fx = tempDir();
    home = join(fx, "home");
    mkdirSync(join(home, ".aws"), { recursive: true });
    writeFileSync(join(home, ".aws", "config"), "");
    writeFileSync(join(home, ".aws", "credentials"), "");
    writeFileSync(join(fx, "seed.yaml"), readFileSync(join(ROOT, "examples", "seed.yaml")));
    mkfifo(join(fx, "fifo"));
    symlinkSync("/dev/zero", join(fx, "zero"));
    symlinkSync("/dev/null", join(fx, "null-link"));
    symlinkSync("seed.yaml", join(fx, "seed-link.yaml"));
    linkSync(join(fx, "seed.yaml"), join(fx, "seed-hard.yaml"));
    mkdirSync(join(fx, "dir"));
    writeFileSync(join(fx, "ro.html"), "<p>mine</p>");
    chmodSync(join(fx, "ro.html"), 0o444);
    writeFileSync(join(fx, "ro-config"), KUBECONFIG_TEXT);
    chmodSync(join(fx, "ro-config"), 0o444);
    writeFileSync(join(fx, "big.yaml"), Buffer.alloc(READ_LIMITS.topology + 1, 0x23));
    writeFileSync(join(fx, "big-config"), Buffer.alloc(READ_LIMITS.kubeconfig + 1, 0x23));
    const port = (server.address() as AddressInfo).port;
    env = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, ".aws", "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      AWS_REGION: "ap-south-1",
      KUBECONFIG: join(home, ".kube", "config"),
      XEKS_AWS_TIMEOUT_MS: "500",
    };
    before0 = snapshot(fx);
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Run `fn` over `items`, two at a time (each run is a process start: halve the wall time). */
  async function inPairs<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += 2) await Promise.all(items.slice(i, i + 2).map(fn));
  }

  async function refused(args: string[], field: string, message: RegExp, extra: NodeJS.ProcessEnv = {}) {
    const r: AsyncRunResult = await xeksAsync(args, {
      cwd: fx,
      env: { ...env, ...extra },
      timeoutMs: 30_000,
    });
    assert.equal(r.signal, null, `xeks ${args.join(" ")} hung and was killed`);
    assert.equal(r.status, 2, `xeks ${args.join(" ")}: status ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, new RegExp(`\\n {2}${field.replace(/[$]/g, "\\$")}: `));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(calls, 0, "no AWS call");
    assert.deepEqual(snapshot(fx), before0, "every file unchanged");
    assertDevNull();
  }

  // The topology argument of every command that takes one.
  const topologyCommands: [string, (f: string) => string[]][] = [
    ["plan", (f) => ["plan", f]],
    ["can-i", (f) => ["can-i", "get", "pods", f]],
    ["doctor", (f) => ["doctor", f]],
    ["doctor --from-client", (f) => ["doctor", f, "--from-client"]],
    ["deploy", (f) => ["deploy", f, "--yes"]],
    ["diff", (f) => ["diff", f]],
    ["destroy", (f) => ["destroy", f, "--yes"]],
    ["kubeconfig", (f) => ["kubeconfig", f, "--client", "ops"]],
  ];
  const badTopologies: [string, string, RegExp][] = [
    ["a FIFO", "fifo", /topology file fifo: it is a FIFO/],
    ["/dev/null", "/dev/null", /topology file \/dev\/null: it is a character device/],
    ["a symlink to /dev/zero", "zero", /topology file zero: it is a character device/],
    ["a directory", "dir", /topology file dir: it is a directory/],
    ["an oversized file", "big.yaml", /topology file big\.yaml: it is larger than 1 MiB/],
  ];
  for (const [command, args] of topologyCommands) {
    test(`${command}: a topology that is a FIFO, /dev/null, a symlink to /dev/zero, a directory, too large`, async () => {
      await inPairs(badTopologies, ([, file, message]) => refused(args(file), "FILE", message));
    });
  }

  const badOutputs: [string, string, RegExp][] = [
    ["a FIFO", "fifo", /fifo: it is a FIFO/],
    ["/dev/null", "/dev/null", /\/dev\/null: it is a character device/],
    ["a symlink to /dev/null", "null-link", /null-link: it is a character device/],
    ["a symlink to /dev/zero", "zero", /zero: it is a character device/],
    ["a 0444 file", "ro.html", /ro\.html: it is read-only \(mode 0444\)/],
    ["a directory", "dir", /dir: it is a directory/],
  ];
  const topologyAsOutput: [string, string, RegExp][] = [
    ["the topology", "seed.yaml", /seed\.yaml: it is the file this command reads as FILE/],
    ["a symlink to the topology", "seed-link.yaml", /it is the file this command reads as FILE/],
    ["a hard link to the topology", "seed-hard.yaml", /it is the file this command reads as FILE/],
  ];
  const reportCommands: [string, string[]][] = [
    ["plan --report", ["plan", "seed.yaml"]],
    ["doctor --report", ["doctor", "seed.yaml"]],
    ["doctor --from-client --report", ["doctor", "seed.yaml", "--from-client"]],
  ];
  for (const [command, args] of reportCommands) {
    test(`${command}: a FIFO, a device, a symlink to one, a 0444 file, a directory, the topology itself`, async () => {
      await inPairs([...badOutputs, ...topologyAsOutput], ([, file, message]) =>
        refused(
          [...args, "--report", file],
          "--report",
          new RegExp(`cannot write the report .*${message.source}`),
        ),
      );
    });
  }

  test("discover --out, with and without --force: a FIFO, a device, a symlink to one, 0444, a directory", async () => {
    const args = ["discover", "--cluster-name", "c1", "--client", "ops=222222222222"];
    for (const force of [[], ["--force"]]) {
      await inPairs(badOutputs, async ([, file, message]) => {
        // Without --force an existing regular file is refused as existing, before its mode is looked at.
        const expected = file === "ro.html" && force.length === 0 ? /ro\.html: it exists/ : message;
        await refused([...args, "--out", file, ...force], "--out", expected);
      });
    }
    // Without --force an existing regular file is refused before any AWS call (discover reads no topology).
    await refused([...args, "--out", "seed.yaml"], "--out", /seed\.yaml: it exists/);
  });

  test("kubeconfig --kubeconfig and $KUBECONFIG: a FIFO, a device, 0444, a directory, too large, the topology", async () => {
    const args = ["kubeconfig", "seed.yaml", "--client", "ops"];
    const cases: [string, RegExp][] = [
      ["fifo", /kubeconfig .*fifo: it is a FIFO/],
      ["/dev/null", /kubeconfig \/dev\/null: it is a character device/],
      ["zero", /kubeconfig .*zero: it is a character device/],
      ["null-link", /kubeconfig .*null-link: it is a character device/],
      ["ro-config", /kubeconfig .*ro-config: it is read-only \(mode 0444\)/],
      ["dir", /kubeconfig .*dir: it is a directory/],
      ["big-config", /kubeconfig .*big-config: it is larger than 16 MiB/],
      ["seed.yaml", /kubeconfig .*seed\.yaml: it is the file this command reads as FILE/],
      ["seed-hard.yaml", /it is the file this command reads as FILE/],
    ];
    await inPairs(cases, ([file, message]) =>
      refused([...args, "--kubeconfig", file], "--kubeconfig", message),
    );
    await refused(args, "KUBECONFIG", /kubeconfig .*fifo: it is a FIFO/, { KUBECONFIG: join(fx, "fifo") });
    await refused(args, "KUBECONFIG", /read-only/, { KUBECONFIG: join(fx, "ro-config") });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Temporary files: a short name, signals during a write, a killed writer's leftovers; read-only and virtual
// directories.

describe("temporary files and directories", () => {
  beforeEach(() => resetFileRegistry());

  const temps = (d: string) => readdirSync(d).filter((n) => n.includes(".xeks-"));

  /** A pid that existed a moment ago and does not any more. */
  function deadPid(): number {
    const r = spawnSync("true");
    assert.ok(r.pid);
    return r.pid;
  }

  /**
   * Run writeFileAtomic (the compiled module) in a child process that sends itself `signal` while its
   * rename is under way (the rename then succeeds, or fails with EIO when `fail`). Returns how it ended.
   */
  async function writeWithSignal(target: string, signal: NodeJS.Signals, fail = false) {
    const script = `
      import fs from "node:fs";
      import { syncBuiltinESMExports } from "node:module";
      const rename = fs.renameSync;
      fs.renameSync = (from, to) => {
        process.kill(process.pid, process.env.SIG);
        if (process.env.FAIL) throw Object.assign(new Error("injected"), { code: "EIO" });
        return rename(from, to);
      };
      syncBuiltinESMExports();
      const { writeFileAtomic } = await import(process.env.FILES);
      try {
        writeFileAtomic(process.env.TARGET, "new", { field: "--report", what: "the report" });
        process.stdout.write("written\\n");
      } catch (err) {
        process.stdout.write(\`threw \${err.constructor.name}\\n\`);
      }
      setTimeout(() => process.stdout.write("survived the signal\\n"), 3000);
    `;
    return run(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        PATH: process.env.PATH,
        SIG: signal,
        TARGET: target,
        FILES: join(ROOT, "dist", "files", "index.js"),
        ...(fail ? { FAIL: "1" } : {}),
      },
      timeoutMs: 30_000,
    });
  }

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    test(`${signal} during a write: the write ends whole, no temporary file, the process dies of ${signal}`, async () => {
      const d = tempDir();
      const target = join(d, "r.html");
      writeFileSync(target, "old");
      const ok = await writeWithSignal(target, signal);
      assert.equal(ok.signal, signal, `${ok.stdout}${ok.stderr}`);
      assert.equal(ok.stdout, "written\n");
      assert.equal(readFileSync(target, "utf8"), "new");
      assert.deepEqual(temps(d), []);
      // The rename fails as the signal arrives: the target is left as it was, and the temporary file removed.
      const failed = await writeWithSignal(target, signal, true);
      assert.equal(failed.signal, signal, `${failed.stdout}${failed.stderr}`);
      assert.equal(failed.stdout, "threw OperationError\n");
      assert.equal(readFileSync(target, "utf8"), "new");
      assert.deepEqual(temps(d), []);
    });
  }

  test("SIGKILL mid-write leaves the temporary file; the next write to that directory removes it", async () => {
    const d = tempDir();
    const target = join(d, "r.html");
    writeFileSync(target, "old");
    const killed = await writeWithSignal(target, "SIGKILL");
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(readFileSync(target, "utf8"), "old");
    const [left] = temps(d);
    assert.match(left ?? "", new RegExp(`^\\.xeks-${namespaceTag()}-\\d+-[0-9a-f]{8}\\.tmp$`));
    writeFileAtomic(target, "newer", WRITE);
    assert.equal(readFileSync(target, "utf8"), "newer");
    assert.deepEqual(temps(d), []);
  });

  test("the sweep: only this module's temporary files of dead pids of this host and pid namespace, regular files of this user", () => {
    const d = tempDir();
    const dead = deadPid();
    const tag = namespaceTag();
    const otherTag = tag === "00000000" ? "11111111" : "00000000";
    const dayAndMore = new Date(Date.now() - 25 * 60 * 60 * 1000);
    const swept = [
      `.xeks-${tag}-${dead}-0123abcd.tmp`,
      `.xeks-${tag}-${process.pid}-0123abcd.tmp`, // our pid, and no write of ours under way: a dead twin's
    ];
    // Untagged names of earlier releases: their writer may be in another pid namespace, so only when a day old.
    const sweptOld = [`.xeks-${dead}-0123abcd.tmp`, `.r.html.xeks-${dead}-89abcdef.tmp`];
    const kept = [
      `.xeks-${tag}-1-0123abcd.tmp`, // pid 1 lives
      `.xeks-${otherTag}-${dead}-0123abcd.tmp`, // another container or host: its pid says nothing here
      `.xeks-${dead}-44444444.tmp`, // untagged and recent
      `.r.html.xeks-${dead}-55555555.tmp`, // the same, earlier form
      `.other.html.xeks-${dead}-0123abcd.tmp`, // the earlier form of another target
      `.xeks-${tag}-${dead}-0123abcd.tmp.bak`,
      `notes.xeks-${tag}-${dead}-0123abcd.tmp`,
    ];
    for (const n of [...swept, ...sweptOld, ...kept]) writeFileSync(join(d, n), "x");
    for (const n of sweptOld) utimesSync(join(d, n), dayAndMore, dayAndMore);
    utimesSync(join(d, `.other.html.xeks-${dead}-0123abcd.tmp`), dayAndMore, dayAndMore);
    mkdirSync(join(d, `.xeks-${tag}-${dead}-fedcba98.tmp`)); // not a regular file
    kept.push(`.xeks-${tag}-${dead}-fedcba98.tmp`);
    if (process.geteuid?.() === 0) {
      writeFileSync(join(d, `.xeks-${tag}-${dead}-00000000.tmp`), "x");
      chownSync(join(d, `.xeks-${tag}-${dead}-00000000.tmp`), 1234, 1234); // another user's
      kept.push(`.xeks-${tag}-${dead}-00000000.tmp`);
    }
    writeFileAtomic(join(d, "r.html"), "x", WRITE);
    assert.deepEqual(readdirSync(d).sort(), [...kept, "r.html"].sort());
  });

  test("a 255-byte file name has a temporary file (its name is short)", () => {
    const d = tempDir();
    const name = `${"a".repeat(250)}.html`;
    checkWriteTarget(join(d, name), WRITE);
    writeFileAtomic(join(d, name), "x", WRITE);
    assert.equal(readFileSync(join(d, name), "utf8"), "x");
    assert.deepEqual(temps(d), []);
  });

  test("a directory with no write bit (0555) is refused like a 0444 file, also as root", () => {
    const d = tempDir();
    const ro = join(d, "ro");
    mkdirSync(ro);
    writeFileSync(join(ro, "old.html"), "mine");
    chmodSync(ro, 0o555);
    try {
      for (const name of ["new.html", "old.html"]) {
        refuses(
          () => checkWriteTarget(join(ro, name), WRITE),
          "--report",
          /its directory .*\/ro is read-only \(mode 0555\)/,
        );
        refuses(() => writeFileAtomic(join(ro, name), "x", WRITE), "--report", /read-only \(mode 0555\)/);
      }
      assert.deepEqual(readdirSync(ro), ["old.html"]);
      assert.equal(readFileSync(join(ro, "old.html"), "utf8"), "mine");
    } finally {
      chmodSync(ro, 0o755);
    }
  });

  test("/proc and /sys: the message says no file can be created there", () => {
    for (const path of ["/proc/self/x.html", "/proc/x.html", "/sys/kernel/x.html"]) {
      refuses(
        () => checkWriteTarget(path, WRITE),
        "--report",
        /on \/(proc|sys) \(\w+\), a virtual file system/,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// --out DIR of plan, deploy, diff and destroy: replaced whole, so it may hold nothing but a cloud assembly and
// never a file the command reads.

describe("--out holds only a cloud assembly and none of the command's inputs", () => {
  let server: Server;
  let calls = 0;
  let fx: string;
  let base: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = createServer((req, res) => {
      calls++;
      req.resume();
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    fx = tempDir();
    mkdirSync(join(fx, "home"));
    writeFileSync(join(fx, "seed.yaml"), readFileSync(join(ROOT, "examples", "seed.yaml")));
    env = {
      PATH: process.env.PATH,
      HOME: join(fx, "home"),
      AWS_CONFIG_FILE: join(fx, "home", "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(fx, "home", "none"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      AWS_REGION: "ap-south-1",
      XEKS_AWS_TIMEOUT_MS: "500",
    };
    const r = await xeksAsync(["plan", "seed.yaml", "--out", "base"], { cwd: fx, env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    base = join(fx, "base");
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** A copy of an earlier plan's output directory, plus `extra(dir)`. */
  function earlierOutput(name: string, extra: (dir: string) => void = () => {}): string {
    const dir = join(fx, name);
    execFileSync("cp", ["-a", base, dir]);
    extra(dir);
    return dir;
  }

  async function refusedOut(args: string[], dir: string, message: RegExp, field = "--out") {
    const before0 = snapshot(fx);
    const inside = snapshot(dir);
    const r = await xeksAsync(args, { cwd: fx, env, timeoutMs: 60_000 });
    assert.equal(r.signal, null, `xeks ${args.join(" ")} hung`);
    assert.equal(r.status, 2, `xeks ${args.join(" ")}: ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, new RegExp(`\\n {2}${field}: `));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(snapshot(dir), inside, "every entry of the directory unchanged");
    assert.deepEqual(snapshot(fx), before0, "nothing beside it either");
    assert.equal(calls, 0, "no AWS call");
  }

  test("the topology copied into an earlier output (with notes, a symlink, a FIFO): exit 2, all kept", async () => {
    const out = earlierOutput("out-topo", (d) => {
      writeFileSync(join(d, "topo.yaml"), readFileSync(join(fx, "seed.yaml")));
      writeFileSync(join(d, "notes.txt"), "mine");
      writeFileSync(join(fx, "victim"), "victim");
      symlinkSync(join(fx, "victim"), join(d, "link.json"));
      mkfifo(join(d, "fifo.json"));
    });
    await refusedOut(
      ["plan", "out-topo/topo.yaml", "--out", "out-topo"],
      out,
      /refusing to replace out-topo: it holds out-topo\/topo\.yaml, the file this command reads as FILE/,
    );
    assert.equal(readFileSync(join(fx, "victim"), "utf8"), "victim");
    assert.ok(lstatSync(join(out, "fifo.json")).isFIFO());
  });

  test("a hard link to the topology under an assembly file name: exit 2 (same inode)", async () => {
    const out = earlierOutput("out-hard", (d) => linkSync(join(fx, "seed.yaml"), join(d, "x.template.json")));
    await refusedOut(["plan", "seed.yaml", "--out", "out-hard"], out, /reads as FILE/);
  });

  const foreign: [string, (d: string) => void, RegExp][] = [
    ["a user's file", (d) => writeFileSync(join(d, "notes.txt"), "mine"), /notes\.txt, a file no synthesis/],
    ["a FIFO", (d) => mkfifo(join(d, "fifo.json")), /fifo\.json, a FIFO \(named pipe\) no synthesis/],
    ["a symlink", (d) => symlinkSync("/etc/hostname", join(d, "link.json")), /link\.json, a symlink/],
    ["a directory", (d) => mkdirSync(join(d, "src")), /src, a directory no synthesis/],
    [
      "a symlink under an assembly name",
      (d) => symlinkSync("/etc/hostname", join(d, "manifest2.template.json")),
      /manifest2\.template\.json, a symlink/,
    ],
  ];
  for (const [what, add, message] of foreign) {
    test(`plan: an earlier output that also holds ${what}: exit 2 naming it, nothing removed`, async () => {
      const name = `out-${what.replace(/\W+/g, "-")}`;
      const out = earlierOutput(name, add);
      await refusedOut(["plan", "seed.yaml", "--out", name], out, message);
    });
  }

  test("deploy, diff and destroy: the same refusal before any AWS call", async () => {
    const out = earlierOutput("out-deploy", (d) => writeFileSync(join(d, "notes.txt"), "mine"));
    for (const args of [["deploy", "--yes"], ["diff"], ["destroy", "--yes"]]) {
      const [command, ...rest] = args as [string, ...string[]];
      await refusedOut([command, "seed.yaml", ...rest, "--out", "out-deploy"], out, /it holds notes\.txt/);
    }
  });

  test("a read-only (0555) output directory, and --report inside --out: exit 2", async () => {
    const out = earlierOutput("out-ro");
    chmodSync(out, 0o555);
    try {
      await refusedOut(
        ["plan", "seed.yaml", "--out", "out-ro"],
        out,
        /out-ro: it is read-only \(mode 0555\)/,
      );
    } finally {
      chmodSync(out, 0o755);
    }
    const roParent = join(fx, "ro-parent");
    mkdirSync(roParent);
    chmodSync(roParent, 0o555);
    try {
      await refusedOut(
        ["deploy", "seed.yaml", "--yes", "--out", "ro-parent/out"],
        roParent,
        /its directory .*ro-parent is read-only \(mode 0555\)/,
      );
    } finally {
      chmodSync(roParent, 0o755);
    }
    const out2 = earlierOutput("out-report");
    await refusedOut(
      ["plan", "seed.yaml", "--out", "out-report", "--report", "out-report/r.html"],
      out2,
      /cannot write the report out-report\/r\.html: it is inside --out out-report/,
      "--report",
    );
  });

  test("what a synthesis or the deploy toolkit leaves (locks, asset.*) is replaced; nothing is left beside", async () => {
    const out = earlierOutput("out-ok", (d) => {
      writeFileSync(join(d, "synth.lock"), "123");
      writeFileSync(join(d, "read.123.1.lock"), "123");
      writeFileSync(join(d, "tree.json"), "{}");
      mkdirSync(join(d, "asset.0123abcd"));
      writeFileSync(join(d, "asset.0123abcd", "index.js"), "");
    });
    const r = await xeksAsync(["plan", "seed.yaml", "--out", "out-ok"], { cwd: fx, env, timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), readdirSync(base).sort());
    assert.deepEqual(
      readdirSync(fx).filter((n) => n.startsWith(".")),
      [],
      "no former assembly or temporary directory left beside it",
    );
    assert.equal(calls, 0);
  });
});
