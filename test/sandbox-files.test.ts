/**
 * The sandbox directory and the files `xeks sandbox up` writes (src/sandbox/files.ts, src/sandbox/up.ts), fast: no
 * moto_server (a fake `moto_server` script on PATH, which exits at once, stands in where `up` gets that far).
 * - `--dir` must be a directory (not a file, FIFO or link) of the user's, not group/world-writable, and empty or
 *   an earlier sandbox's: otherwise InputError on `--dir`, and nothing chmodded or written;
 * - files are replaced atomically, never written through a symbolic link; a log that is a link is refused;
 * - env.sh leaves no endpoint off 127.0.0.1 and no credential or profile of the user's (sourced by sh and bash);
 * - aws-config has a session name per `up` in every assume-role profile (the aws CLI's credential cache key);
 * - the drawn ports are distinct.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { InputError, OperationError } from "../src/errors.js";
import { SANDBOX_MARKER, writeDirFile } from "../src/sandbox/files.js";
import { awsConfigText, envShText, freePorts, newSessionTag, sandboxUp } from "../src/sandbox/up.js";
import { fakeMotoBin } from "./helpers/sandbox-cli.js";

const root = mkdtempSync(join(tmpdir(), "xeks-sandbox-files-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(root, `${name}-${++n}`);
/** A PATH whose moto_server exits at once: `up` gets past every check, then fails to start it. */
const env = { PATH: `${fakeMotoBin(root, "exit 3")}:/usr/bin:/bin` };

/** `up` rejects with an InputError on --dir whose message matches `re`. */
async function refusesDir(dir: string, re: RegExp): Promise<void> {
  await assert.rejects(sandboxUp({ dir, env }), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, re);
    assert.ok(
      err.issues.some((i) => i.path === "--dir"),
      "the issue names --dir",
    );
    return true;
  });
}

describe("sandbox up: the --dir it accepts", () => {
  test("a regular file or a FIFO: --dir, exit 2 (InputError), not EEXIST", async () => {
    const file = fresh("file");
    writeFileSync(file, "x");
    await refusesDir(file, /is a regular file, not a directory/);
    const fifo = fresh("fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    await refusesDir(fifo, /is a FIFO, not a directory/);
  });

  test("a non-empty directory that is no sandbox's is refused and keeps its mode", async () => {
    const dir = fresh("home");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "notes.txt"), "mine");
    await refusesDir(dir, /is not empty and is not a sandbox directory/);
    assert.equal(statSync(dir).mode & 0o777, 0o755, "not chmodded");
    assert.equal(existsSync(join(dir, SANDBOX_MARKER)), false, "nothing written");
  });

  test("an empty directory, or one an earlier up marked, is accepted (and keeps its mode)", async () => {
    for (const marked of [false, true]) {
      const dir = fresh("empty");
      mkdirSync(dir);
      chmodSync(dir, 0o750);
      if (marked) {
        writeFileSync(join(dir, SANDBOX_MARKER), "");
        writeFileSync(join(dir, "moto.log"), "old\n");
      }
      // Past the checks: the fake moto_server exits, so `up` fails to start it (OperationError, exit 1).
      await assert.rejects(sandboxUp({ dir, env }), OperationError);
      assert.equal(statSync(dir).mode & 0o777, 0o750, "an existing directory is not chmodded");
      assert.equal(existsSync(join(dir, "state.json")), false, "the partial state is removed");
    }
  });

  test("a directory writable by group or others, or someone else's, is refused", async () => {
    const open = fresh("open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    await refusesDir(open, /writable by group or others \(mode 777\)/);
    if (process.getuid?.() === 0) {
      const theirs = fresh("theirs");
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      await refusesDir(theirs, /is owned by uid 65534, not by you/);
    }
  });

  test("a symbolic link as --dir is refused", async () => {
    const target = fresh("target");
    mkdirSync(target, { mode: 0o700 });
    const link = fresh("link");
    symlinkSync(target, link);
    await refusesDir(link, /is a symbolic link, not a directory/);
  });

  test("a new path is created mode 0700", async () => {
    const dir = join(fresh("parent"), "lab");
    await assert.rejects(sandboxUp({ dir, env }), OperationError);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });
});

describe("sandbox files: never written through a link", () => {
  test("writeDirFile replaces a symbolic link at the name, the link's target is untouched", () => {
    const dir = fresh("links");
    mkdirSync(dir, { mode: 0o700 });
    const victim = fresh("victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, "env.sh"));
    writeDirFile(dir, "env.sh", "export X=1\n");
    assert.equal(readFileSync(victim, "utf8"), "precious");
    assert.equal(readFileSync(join(dir, "env.sh"), "utf8"), "export X=1\n");
    assert.equal(statSync(join(dir, "env.sh")).mode & 0o777, 0o600);
  });

  test("a log that is a symbolic link is refused (--dir), its target untouched, nothing started", async () => {
    const dir = fresh("loglink");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, SANDBOX_MARKER), "");
    const victim = fresh("victim");
    writeFileSync(victim, "precious");
    symlinkSync(victim, join(dir, "moto.log"));
    await refusesDir(dir, /holds moto\.log, which cannot be opened without following a link/);
    assert.equal(readFileSync(victim, "utf8"), "precious");
    assert.equal(existsSync(join(dir, "state.json")), false);
  });
});

describe("env.sh keeps every AWS call on 127.0.0.1", () => {
  const ids = {
    cluster: { vpcId: "vpc-1", subnetIds: ["subnet-1"], routeTableId: "rtb-1", securityGroupId: "sg-1" },
    client: { vpcId: "vpc-2", subnetId: "subnet-2", routeTableId: "rtb-2" },
  };
  const urls = {
    moto: "http://127.0.0.1:40100",
    eks: "http://127.0.0.1:40101",
    kube: "https://127.0.0.1:40102",
  };
  const off = "http://203.0.113.7:8080";
  const hostile: Record<string, string> = {
    AWS_ENDPOINT_URL: off,
    AWS_ENDPOINT_URL_STS: off,
    AWS_ENDPOINT_URL_EC2: off,
    AWS_ENDPOINT_URL_EKS: off,
    AWS_ENDPOINT_URL_CLOUDFORMATION: off,
    AWS_ENDPOINT_URL_IAM: off,
    AWS_ENDPOINT_URL_SOME_FUTURE_SERVICE: off,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
    AWS_CONTAINER_CREDENTIALS_FULL_URI: off,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: off,
    AWS_PROFILE: "prod",
    AWS_DEFAULT_PROFILE: "prod",
    AWS_ACCESS_KEY_ID: "AKIAREAL",
    AWS_SECRET_ACCESS_KEY: "real",
    AWS_SESSION_TOKEN: "real",
  };

  for (const shell of ["sh", "bash"]) {
    test(`sourced by ${shell}: no endpoint off 127.0.0.1, no profile or keys of the user's`, () => {
      const dir = fresh("env");
      mkdirSync(dir, { mode: 0o700 });
      writeDirFile(dir, "env.sh", envShText(dir, urls, ids));
      const r = spawnSync(shell, ["-c", '. "$1" && env', "sh", join(dir, "env.sh")], {
        env: { PATH: "/usr/bin:/bin", ...hostile },
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const after = new Map(
        r.stdout
          .split("\n")
          .filter((l) => l.includes("="))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
      );
      for (const [k, v] of after) {
        if (!k.startsWith("AWS_")) continue;
        for (const url of v.match(/[a-z]+:\/\/[^\s,]+/g) ?? [])
          assert.equal(new URL(url).hostname, "127.0.0.1", `${k}=${v}`);
      }
      for (const k of [
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_SOME_FUTURE_SERVICE",
      ])
        assert.equal(after.has(k), false, `${k} is unset`);
      assert.equal(after.get("AWS_ENDPOINT_URL"), urls.moto);
      assert.equal(after.get("AWS_ENDPOINT_URL_EKS"), urls.eks);
      assert.match(after.get("NO_PROXY") ?? "", /^127\.0\.0\.1,/);
    });
  }
});

describe("aws-config: a session name per up", () => {
  test("every assume-role profile names its session, and two ups name them differently", () => {
    const sessions = (text: string) => {
      const profiles = text.split(/^(?=\[profile )/m).filter((p) => p.includes("role_arn"));
      assert.equal(profiles.length, 3, "sandbox-cluster, sandbox-ops, sandbox-ops-instance");
      return profiles.map((p) => p.match(/^role_session_name = (\S+)$/m)?.[1]);
    };
    const first = sessions(awsConfigText(newSessionTag()));
    const second = sessions(awsConfigText(newSessionTag()));
    for (const s of [...first, ...second])
      assert.match(s ?? "", /^[\w+=,.@-]{2,64}$/, "a valid session name");
    for (const [i, s] of first.entries()) assert.notEqual(s, second[i], "the aws CLI cache key changes");
  });
});

test("freePorts: the ports drawn are distinct", async () => {
  for (let i = 0; i < 20; i++) assert.equal(new Set(await freePorts(3)).size, 3);
});
