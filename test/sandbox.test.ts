/**
 * `xeks sandbox` and the guided tour (docs/tour.md), end to end with the real moto_server, kubectl and aws CLI.
 *
 * The tour's ```sh blocks are run verbatim, in order, each in a fresh bash with `set -e` that first sources
 * .xeks-sandbox/env.sh when it exists (what the reader's one shell has after step 1). `xeks` on PATH is a
 * wrapper that runs this checkout's src/cli (through tsx), so the test does not depend on dist/ being fresh;
 * kubectl runs it for `xeks token` too. The test then checks what the tour does not show (401 for a bad or
 * unmapped token, 403 as a Status object), that `sandbox down` leaves no process and no listening port, and that
 * without moto_server on PATH `sandbox up` exits 2 with the install command and starts nothing.
 * Nothing here reaches AWS: every endpoint is the sandbox's, on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT } from "./helpers/cli.js";
import { cleanEnv, makeXeksWrapper } from "./helpers/sandbox-cli.js";
import { run } from "./helpers/spawn.js";

const TOUR = join(ROOT, "docs", "tour.md");

/** The ```sh blocks of docs/tour.md, in order. */
function tourBlocks(): string[] {
  const text = readFileSync(TOUR, "utf8");
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => (m[1] ?? "").trim());
}

/** TCP ports in LISTEN state and their local addresses (hex, as /proc/net/tcp{,6} writes them). */
function listeners(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== "0A") continue;
      const [addr = "", port = ""] = cols[1]?.split(":") ?? [];
      const n = Number.parseInt(port, 16);
      out.set(n, [...(out.get(n) ?? []), addr]);
    }
  }
  return out;
}

/** TCP ports in LISTEN state, read from /proc/net/tcp{,6}, independently of src/sandbox. */
function listening(): Set<number> {
  return new Set(listeners().keys());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** GET `path` of the stand-in with a bearer token (none when ""); the status and the parsed JSON body. */
function kubeGet(
  url: string,
  ca: string,
  path: string,
  token: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        ca,
        headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        timeout: 15_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

interface Step {
  status: number;
  out?: RegExp[];
}

/** What each ```sh block of the tour must do (exit status, and what its output shows). */
const STEPS: Step[] = [
  // The command it prints is quoted (src/domain/shell.ts shellQuote).
  { status: 0, out: [/sandbox up in /, /^ {2}source '\.xeks-sandbox\/env\.sh'$/m] },
  { status: 0, out: [/verdict: pass - 16 links: 16 pass/] },
  {
    status: 0,
    out: [
      /Username\s+arn:aws:sts::111111111111:assumed-role\/EKS-CrossAccount-Access-Role\//,
      /^yes$/m,
      /kube-system/,
      /No resources found/,
    ],
  },
  { status: 0 },
  {
    status: 1,
    out: [
      /✗ network\.route\.cluster-to-client/,
      /fix: in account 111111111111: aws ec2 create-route --route-table-id rtb-\w+ --destination-cidr-block 172\.31\.0\.0\/16 --vpc-peering-connection-id pcx-\w+/,
    ],
  },
  { status: 0, out: [/verdict: pass - 16 links: 16 pass/] },
  { status: 0 },
  { status: 1, out: [/^no - the access entry has no access policies/m] },
  {
    status: 1,
    out: [
      /✗ eks\.access-policy\s+EKS-CrossAccount-Access-Role: AmazonEKSClusterAdminPolicy is not associated/,
    ],
  },
  { status: 0, out: [/^yes$/m] },
  { status: 0, out: [/Wrote discovered\.yaml/, /verdict: pass/] },
  {
    status: 0,
    // docs/tour.md: "Every step passes, whoami included".
    out: [
      /✓ client\.identity/,
      /✓ client\.dns/,
      /✓ client\.tls/,
      /✓ client\.whoami/,
      /✓ client\.permissions/,
      /verdict: pass/,
    ],
  },
  { status: 0, out: [/moto_server \(pid \d+\): stopped/, /serve \(pid \d+\): stopped/] },
];

describe("xeks sandbox: the guided tour", { timeout: 600_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const bash = (script: string, timeoutMs = 240_000) =>
    run("bash", ["-c", `set -e\n[ -f .xeks-sandbox/env.sh ] && source .xeks-sandbox/env.sh\n${script}`], {
      cwd: dir,
      env,
      timeoutMs,
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "xeks-tour-"));
    const bin = makeXeksWrapper(join(dir, ".tools"));
    env = cleanEnv(join(dir, "home"), `${bin}:${process.env.PATH}`);
    mkdirSync(join(dir, "home"), { recursive: true });
  });

  after(async () => {
    // Whatever happened, stop what the tour started.
    if (existsSync(join(dir, ".xeks-sandbox", "state.json"))) await bash("xeks sandbox down");
    rmSync(dir, { recursive: true, force: true });
  });

  test("every command of docs/tour.md runs verbatim and does what the page says", async () => {
    const blocks = tourBlocks();
    assert.equal(blocks.length, STEPS.length, "one expectation per ```sh block of docs/tour.md");
    let state: { processes: { pid: number; port: number }[]; ports: Record<string, number> } | undefined;
    for (const [i, block] of blocks.entries()) {
      const step = STEPS[i] as Step;
      if (i === blocks.length - 1) {
        // Before `down`: the checks the tour does not show.
        state = JSON.parse(readFileSync(join(dir, ".xeks-sandbox", "state.json"), "utf8"));
        await checkAuthentication();
        // Every sandbox port listens on 127.0.0.1 only (0100007F in /proc/net/tcp), never 0.0.0.0 or ::.
        const open = listeners();
        for (const port of Object.values(state?.ports ?? {}))
          assert.deepEqual(open.get(port), ["0100007F"], `port ${port} listens on 127.0.0.1 only`);
      }
      const r = await bash(block);
      const output = r.stdout + r.stderr;
      assert.equal(r.status, step.status, `step ${i + 1}:\n${block}\n--- output:\n${output}`);
      for (const re of step.out ?? []) assert.match(output, re, `step ${i + 1}:\n${block}`);
      if (i === 7) {
        // The access policy is detached: a list is Forbidden, as a Kubernetes Status.
        const denied = await bash("kubectl get pods");
        assert.equal(denied.status, 1);
        assert.match(
          denied.stderr,
          /Error from server \(Forbidden\): pods is forbidden: User "arn:aws:sts::111111111111:assumed-role\/EKS-CrossAccount-Access-Role\/[^"]+" cannot list resource "pods" in API group "" in the namespace "default"/,
        );
      }
    }
    // `sandbox down` left no process and no listening port behind.
    assert.ok(state);
    for (const p of state.processes) assert.equal(alive(p.pid), false, `pid ${p.pid} still runs`);
    const open = listening();
    for (const port of Object.values(state.ports))
      assert.equal(open.has(port), false, `port ${port} listens`);
    const ss = spawnSync("ss", ["-ltnH"], { encoding: "utf8" });
    if (ss.status === 0)
      for (const port of Object.values(state.ports))
        assert.doesNotMatch(ss.stdout, new RegExp(`:${port}\\s`));
    const status = await bash("xeks sandbox status");
    assert.equal(status.status, 1);
    assert.match(status.stdout, /no sandbox recorded/);
  });

  /** 401 for a malformed token and for a caller no access entry maps, 403 for a denied request. */
  async function checkAuthentication(): Promise<void> {
    const ca = readFileSync(join(dir, ".xeks-sandbox", "ca.crt"), "utf8");
    const url = readFileSync(join(dir, ".xeks-sandbox", "xeks.yaml"), "utf8").match(
      /endpoint: (https:\/\/127\.0\.0\.1:\d+)/,
    )?.[1] as string;
    assert.ok(url, "xeks.yaml names the endpoint");
    const bad = await kubeGet(url, ca, "/api/v1/pods", "k8s-aws-v1.bm90LWEtdG9rZW4");
    assert.equal(bad.status, 401);
    assert.deepEqual(
      { kind: bad.body.kind, reason: bad.body.reason, code: bad.body.code },
      { kind: "Status", reason: "Unauthorized", code: 401 },
    );
    // A token of the sandbox-ops profile's own role (xeks-sandbox-admin): valid, but no access entry maps it.
    const tok = await bash(
      "AWS_PROFILE=sandbox-ops xeks token --cluster-name prac-eks-abhi --region ap-south-1 --no-cache",
    );
    assert.equal(tok.status, 0, tok.stderr);
    const token = JSON.parse(tok.stdout).status.token as string;
    const unmapped = await kubeGet(url, ca, "/api/v1/pods", token);
    assert.equal(unmapped.status, 401);
    assert.equal(unmapped.body.reason, "Unauthorized");
    // The version is public; discovery needs a mapped caller.
    const version = await kubeGet(url, ca, "/version", "");
    assert.equal(version.status, 200);
    assert.match(String(version.body.gitVersion), /^v1\.31\./);
  }
});

describe("xeks sandbox up without moto_server", () => {
  test("exits 2 with the command that installs moto, and starts nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-nomoto-"));
    try {
      const bin = makeXeksWrapper(join(dir, ".tools"));
      const path = `${bin}:/usr/bin:/bin`;
      assert.ok(
        !path.split(":").some((d) => existsSync(join(d, "moto_server"))),
        "the PATH of this test has no moto_server",
      );
      const r = await run("xeks", ["sandbox", "up", "--dir", "lab"], {
        cwd: dir,
        env: cleanEnv(join(dir, "home"), path),
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /moto_server is not installed/);
      assert.match(r.stderr, /pip install 'moto\[server\]'/);
      assert.equal(r.stdout, "");
      assert.equal(existsSync(join(dir, "lab")), false, "no state directory: nothing was started or written");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
