/**
 * Interrupts and wait bounds of `xeks deploy`, end to end against the emulator (the lab of
 * test/helpers/moto-deploy.ts: moto_server with the CloudFormation shim, two accounts, assume-role profiles),
 * with a loopback proxy in front of moto (test/helpers/freeze-proxy.ts) that parks or swallows requests:
 *
 * - AWS stops answering mid-deploy (the proxy accepts and never answers): the command ends with exit 1, naming
 *   the endpoint and service, the stack in flight and the command that resumes;
 * - SIGINT while a stack's change set waits to be executed: exit 130, the phase, the stack, its status as
 *   CloudFormation reports it, the describe-stacks command and the resume command on stderr, one `Interrupted`
 *   document on stdout with --output json; then the resume command finishes the deploy, with no duplicate
 *   role, instance profile or peering connection, whether CloudFormation executed the parked request after
 *   xeks left or never saw it.
 *
 * No timing assertion: each run's own timeout is the guard. Run `npm run build` first: these run bin/xeks.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { XEKS } from "./helpers/cli.js";
import { type FreezeProxy, type ProxyCall, startFreezeProxy } from "./helpers/freeze-proxy.js";
import {
  CLIENT_ACCOUNT,
  CLUSTER_ACCOUNT,
  type Lab,
  leftovers,
  PROFILE_FLAGS,
  STACKS,
  startLab,
} from "./helpers/moto-deploy.js";

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr matches. */
  waitForStderr(pattern: RegExp): Promise<void>;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** bin/xeks, asynchronously, with a handle to signal it. Killed after `timeoutMs` (the test's guard). */
function startXeks(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Running {
  const child = spawn(XEKS, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  const done = new Promise<{
    status: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        waiters.push({ pattern, resolve });
        void done.then(() => reject(new Error(`xeks ended before stderr matched ${pattern}:\n${stderr}`)));
      }),
    done,
  };
}

/** The stack a CloudFormation request names (by name or ARN). */
function stackOf(call: ProxyCall): string {
  const name = new URLSearchParams(call.body).get("StackName") ?? "";
  return /^arn:/.test(name) ? (name.split("/")[1] ?? name) : name;
}

const executes = (stack: string) => (c: ProxyCall) => c.action === "ExecuteChangeSet" && stackOf(c) === stack;

/** Resolves when the proxy parks a request. */
function parked(proxy: FreezeProxy): Promise<ProxyCall> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      const p = proxy.parked[0];
      if (p) {
        clearInterval(check);
        resolve(p);
      }
    }, 20);
  });
}

/** The resume command the message names, as arguments for bin/xeks. */
function resumeArgs(stderr: string): string[] {
  const line = /resume with: xeks (.+)$/m.exec(stderr)?.[1];
  assert.ok(line, `no resume command in:\n${stderr}`);
  return line.trim().split(/\s+/);
}

describe("deploy: interrupts and AWS that stops answering", { timeout: 240_000 }, () => {
  let lab: Lab;
  let file: string;
  let proxy: FreezeProxy | undefined;

  before(async () => {
    lab = await startLab();
    file = lab.writeTopology();
  });
  after(async () => {
    await proxy?.close();
    await lab?.stop();
  });

  const envThrough = (p: FreezeProxy, extra: NodeJS.ProcessEnv = {}) => ({
    ...lab.env,
    AWS_ENDPOINT_URL: p.url,
    ...extra,
  });

  test("an endpoint that accepts and never answers mid-deploy ends the command (exit 1), naming it and the stack in flight", async () => {
    proxy = await startFreezeProxy(lab.moto.url);
    proxy.freezeAfter(executes(STACKS.base));
    // --concurrency 1: the stacks of phase 2 one after the other, so that the access stack is not yet started
    // when the endpoint freezes (the next test deploys it).
    const args = ["deploy", file, "--yes", "--no-doctor", "--concurrency", "1"];
    const run = startXeks([...args, ...PROFILE_FLAGS], {
      cwd: lab.dir,
      env: envThrough(proxy, { XEKS_AWS_TIMEOUT_MS: "1000" }),
    });
    const r = await run.done;
    assert.equal(r.status, 1, r.stderr);
    assert.ok(proxy.frozen && proxy.waiting > 0, "the run met the frozen endpoint");
    const at = proxy.url.replace(/[.]/g, "\\.");
    assert.match(
      r.stderr,
      new RegExp(
        `xeks: no answer from AWS: cloudformation:\\w+ at ${at} did not answer for \\d+ s \\(\\d+ attempts?\\)`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(`deploy stopped in phase 2/4 \\(cluster-access\\), stack ${STACKS.base}`),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `in flight: stack ${STACKS.base} \\(account ${CLUSTER_ACCOUNT}, region ap-south-1, cluster\\)`,
      ),
    );
    assert.match(r.stderr, /xeks did not cancel/);
    assert.match(
      r.stderr,
      new RegExp(
        `watch it with: aws cloudformation describe-stacks --stack-name ${STACKS.base} --region ap-south-1 --profile cluster`,
      ),
    );
    assert.match(r.stderr, /gives up after 6 s without an answer \(3 x XEKS_AWS_TIMEOUT_MS \+ 3 s/);
    assert.match(
      r.stderr,
      /resume with: xeks deploy \S+xeks\.yaml --cluster-profile cluster --client-profile ops=ops --concurrency 1 --yes --no-doctor$/m,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
    // Nothing printed after the message: the abandoned work is not reported.
    assert.match(r.stderr.trimEnd(), /resume with: .*$/);
    // The summary says what was done, and what failed.
    assert.match(r.stdout, new RegExp(`created +${STACKS.identity}`));
    assert.match(r.stdout, new RegExp(`failed +${STACKS.base}`));
    await proxy.close();
    proxy = undefined;
  });

  test("SIGINT while a change set waits to be executed: exit 130, what is in flight, and a resume that leaves no duplicate", async () => {
    // 1. Interrupted in phase 2; the parked ExecuteChangeSet never reaches CloudFormation.
    proxy = await startFreezeProxy(lab.moto.url);
    proxy.hold(executes(STACKS.access));
    // --concurrency 1: the stacks of phase 2 one after the other, so that the parked one is the only one in flight.
    const args = ["deploy", file, "--yes", "--no-doctor", "--output", "json", "--concurrency", "1"];
    let run = startXeks([...args, ...PROFILE_FLAGS], {
      cwd: lab.dir,
      env: envThrough(proxy),
    });
    await parked(proxy);
    await run.waitForStderr(new RegExp(`${STACKS.access} \\(${CLUSTER_ACCOUNT}\\): create\\.\\.\\.`));
    run.child.kill("SIGINT");
    let r = await run.done;
    assert.equal(r.status, 130, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `xeks: deploy interrupted \\(SIGINT\\) in phase 2/4 \\(cluster-access\\), stack ${STACKS.access}`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `in flight: stack ${STACKS.access} \\(account ${CLUSTER_ACCOUNT}, region ap-south-1, cluster\\), being created`,
      ),
    );
    // Asked just now: the change set exists, not executed.
    assert.match(r.stderr, /last known status: REVIEW_IN_PROGRESS \(asked just now\)/);
    assert.match(
      r.stderr,
      new RegExp(
        `watch it with: aws cloudformation describe-stacks --stack-name ${STACKS.access} --region ap-south-1 --profile cluster`,
      ),
    );
    assert.match(r.stderr, /the change set exists and had not been executed/);
    assert.match(
      r.stderr,
      /resume with: xeks deploy \S+xeks\.yaml --cluster-profile cluster --client-profile ops=ops --concurrency 1 --yes --no-doctor --output json$/m,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
    // --output json: one document, saying interrupted.
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.kind, "Interrupted");
    assert.equal(doc.signal, "SIGINT");
    assert.equal(doc.exitCode, 130);
    assert.equal(doc.inFlight.stack.name, STACKS.access);
    assert.equal(doc.inFlight.stack.status, "REVIEW_IN_PROGRESS");
    assert.equal(doc.inFlight.phase.number, 2);
    assert.equal(doc.inFlight.changed, true);
    assert.match(doc.resume, /--yes/);
    assert.match(doc.watch, /^aws cloudformation describe-stacks --stack-name /);
    proxy.drop();
    assert.equal((await lab.stacks(CLUSTER_ACCOUNT)).get(STACKS.access), "REVIEW_IN_PROGRESS");

    // 2. The resume command, interrupted in phase 3; the parked request reaches CloudFormation after xeks left.
    proxy.hold(executes(STACKS.clientLink));
    run = startXeks(resumeArgs(r.stderr), { cwd: lab.dir, env: envThrough(proxy) });
    await parked(proxy);
    await run.waitForStderr(new RegExp(`${STACKS.clientLink} \\(${CLIENT_ACCOUNT}\\): create\\.\\.\\.`));
    run.child.kill("SIGINT");
    r = await run.done;
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, new RegExp(`in phase 3/4 \\(client-link\\), stack ${STACKS.clientLink}`));
    assert.match(r.stderr, /--profile ops/);
    assert.match(r.stderr, new RegExp(`done in this run and kept: ${STACKS.access}`));
    assert.equal(JSON.parse(r.stdout).kind, "Interrupted");
    proxy.release(); // CloudFormation goes on with what it was asked
    await new Promise<void>((resolve) => {
      const check = setInterval(async () => {
        if ((await lab.stacks(CLIENT_ACCOUNT)).get(STACKS.clientLink) === "CREATE_COMPLETE") {
          clearInterval(check);
          resolve();
        }
      }, 100);
    });

    // 3. The resume command finishes; nothing twice.
    run = startXeks(resumeArgs(r.stderr), { cwd: lab.dir, env: envThrough(proxy) });
    r = await run.done;
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.kind, "DeployResult");
    assert.equal(result.outcome, "deployed");
    const outcome = Object.fromEntries(
      result.stacks.map((s: { name: string; outcome: string }) => [s.name, s.outcome]),
    );
    assert.equal(outcome[STACKS.clientLink], "unchanged", "the stack CloudFormation finished is kept");
    assert.equal(outcome[STACKS.clusterLink], "created");
    for (const account of [CLUSTER_ACCOUNT, CLIENT_ACCOUNT]) {
      for (const [name, status] of await lab.stacks(account)) assert.equal(status, "CREATE_COMPLETE", name);
    }
    const left = await leftovers(lab);
    const count = (re: RegExp) => left.filter((l) => re.test(l)).length;
    assert.equal(count(/^stack /), 5, left.join("\n"));
    assert.equal(count(/^role .*:role\/EKS-CrossAccount-Access-Role$/), 1, left.join("\n"));
    assert.equal(count(/^role .*:role\/EC2-EKS-CrossAccount-Role$/), 1, left.join("\n"));
    assert.equal(count(/^instance profile /), 1, left.join("\n"));
    const peerings = new Set(left.flatMap((l) => /^peering (pcx-\w+)/.exec(l)?.[1] ?? []));
    assert.equal(peerings.size, 1, left.join("\n"));
  });
});
