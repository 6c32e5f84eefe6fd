/**
 * The wait bound (src/aws/watchdog.ts) and the in-flight state (src/deploy/in-flight.ts), in process:
 * - B = 3 × XEKS_AWS_TIMEOUT_MS + 3 s;
 * - an SDK client whose endpoint accepts and never answers ends the watched work with AwsSilenceError naming the
 *   endpoint, the service and the operation, even though the client itself would retry for longer;
 * - an endpoint that answers, however long the work takes in all, never does; nor does one that stopped being
 *   waited on (its last attempt failed more than a retry gap ago, nothing in flight);
 * - the tracker follows the run's events (phase, stack, its stack events, peering) and the CLI's lines say what
 *   was in flight, how to watch it and how to resume.
 * Loopback servers only; no timing assertion (each test's timeout is the guard).
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { boundedRequestHandler } from "../src/aws/sdk.js";
import {
  AwsSilenceError,
  AwsWatchdog,
  currentWatchdog,
  RETRY_GAP_MS,
  silenceBoundMs,
  watchedAgents,
} from "../src/aws/watchdog.js";
import { inFlightLines } from "../src/cli/interrupt.js";
import {
  describeWhere,
  interruptedResult,
  RunTracker,
  stillInProgress,
  watchCommand,
} from "../src/deploy/in-flight.js";
import { startSilentServer, type TcpFixture } from "./helpers/tcp-fixtures.js";

const KEYS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" };

function sts(url: string, timeoutMs: number, maxAttempts = 3): STSClient {
  return new STSClient({
    region: "ap-south-1",
    endpoint: url,
    credentials: KEYS,
    maxAttempts,
    requestHandler: boundedRequestHandler(timeoutMs, watchedAgents()),
  });
}

describe("the bound", () => {
  test("3 x XEKS_AWS_TIMEOUT_MS + 3 s", () => {
    assert.equal(silenceBoundMs(10_000), 33_000);
    assert.equal(silenceBoundMs(1_000), 6_000);
    assert.equal(silenceBoundMs(100), 3_300);
  });
});

describe("an endpoint that accepts and never answers", { timeout: 60_000 }, () => {
  let silent: TcpFixture;
  before(async () => {
    silent = await startSilentServer();
  });
  after(() => silent.close());

  test("ends the watched work at the bound, naming endpoint, service and operation", async () => {
    const url = `http://${silent.host}:${silent.port}`;
    // 10 attempts of 200 ms would take 2 s and more; the bound is 500 ms of silence.
    const client = sts(url, 200, 10);
    const dog = new AwsWatchdog(500, { checkEveryMs: 20 });
    try {
      await assert.rejects(
        dog.run(() => client.send(new GetCallerIdentityCommand({}))),
        (err: unknown) => {
          assert.ok(err instanceof AwsSilenceError, String(err));
          assert.equal(err.silent.endpoint, url);
          assert.equal(err.silent.service, "sts");
          assert.equal(err.silent.operation, "GetCallerIdentity");
          assert.ok(err.silent.attempts >= 2, `${err.silent.attempts} attempts`);
          assert.match(
            err.message,
            new RegExp(`no answer from AWS: sts:GetCallerIdentity at ${url} did not answer for \\d+ s`),
          );
          return true;
        },
      );
    } finally {
      client.destroy();
    }
  });

  test("outside a watchdog's run the agents watch nothing: the client's own limits apply", async () => {
    const client = sts(`http://${silent.host}:${silent.port}`, 150, 2);
    try {
      assert.equal(currentWatchdog(), undefined);
      await assert.rejects(client.send(new GetCallerIdentityCommand({})), { name: "TimeoutError" });
    } finally {
      client.destroy();
    }
  });
});

describe("an endpoint that answers", { timeout: 60_000 }, () => {
  let server: Server;
  let url: string;
  before(async () => {
    // STS's answer to GetCallerIdentity, after 60 ms.
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        setTimeout(() => {
          res.writeHead(200, { "content-type": "text/xml" });
          res.end(
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:user/u</Arn><UserId>U</UserId><Account>111111111111</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
          );
        }, 60),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("never ends the work, however long it takes in all", async () => {
    const client = sts(url, 1_000);
    const dog = new AwsWatchdog(150, { checkEveryMs: 10 });
    try {
      // Ten calls in a row: more than twice the bound in all, each answered within it.
      const accounts = await dog.run(async () => {
        const out: string[] = [];
        for (let i = 0; i < 10; i++)
          out.push((await client.send(new GetCallerIdentityCommand({}))).Account ?? "");
        return out;
      });
      assert.deepEqual(new Set(accounts), new Set(["111111111111"]));
    } finally {
      client.destroy();
    }
  });
});

/** A stand-in for a ClientRequest: the watchdog only listens for "response" and "close" and may destroy it. */
function fakeRequest() {
  const req = new EventEmitter() as EventEmitter & { destroyed?: object; destroy(err?: object): void };
  req.destroy = (err?: object) => {
    req.destroyed = err ?? {};
  };
  return req;
}

describe("who is waited on", () => {
  test("an attempt in flight, or one that failed within the retry gap, counts; an abandoned endpoint does not", () => {
    let now = 0;
    const dog = new AwsWatchdog(5_000, { now: () => now });
    const attempt = (info = { service: "ec2", operation: "DescribeVpcs" }) => {
      const req = fakeRequest();
      dog.attempt(req as never, "https://ec2.ap-south-1.amazonaws.com", info);
      return req;
    };
    let r = attempt();
    now = 3_000;
    assert.equal(dog.silent()?.silentMs, 3_000, "in flight");
    r.emit("close"); // timed out, no answer
    now = 4_000;
    assert.equal(dog.silent()?.silentMs, 4_000, "its retry is due within the gap");
    now = 3_000 + RETRY_GAP_MS + 1;
    assert.equal(dog.silent(), undefined, "nobody retried it: nobody is waiting on it");
    // A new wait on it later starts a new clock.
    r = attempt();
    now += 1_000;
    assert.equal(dog.silent()?.silentMs, 1_000);
    // An answer ends the silence.
    r.emit("response");
    r.emit("close");
    assert.equal(dog.silent(), undefined);
  });

  test("at the bound: in-flight attempts are destroyed and later ones fail at once", async () => {
    let now = 0;
    const dog = new AwsWatchdog(1_000, { now: () => now });
    const first = fakeRequest();
    dog.attempt(first as never, "http://127.0.0.1:1", { service: "cloudformation" });
    now = 999;
    dog.check();
    assert.equal(first.destroyed, undefined);
    now = 1_000;
    dog.check();
    assert.ok((first.destroyed as object | undefined) instanceof AwsSilenceError);
    const later = fakeRequest();
    dog.attempt(later as never, "http://127.0.0.1:1", {});
    await new Promise((resolve) => process.nextTick(resolve));
    assert.ok(later.destroyed instanceof AwsSilenceError);
  });
});

describe("what was in flight", () => {
  const known = [
    {
      name: "xeks-c-client-ops-link",
      phase: 3,
      account: "222222222222",
      region: "ap-south-1",
      credentials: "client ops",
      profile: "ops",
    },
    {
      name: "xeks-c-cluster-link-ops",
      phase: 4,
      account: "111111111111",
      region: "ap-south-1",
      credentials: "cluster",
    },
  ];
  const helpers = { describeWhere, watchCommand, stillInProgress };

  test("the tracker follows phases, stacks and the stack's own events", () => {
    const t = new RunTracker("deploy");
    t.know(known);
    t.knowStatus(new Map([["xeks-c-client-ops-link", undefined]]));
    assert.equal(describeWhere(t.state), "before any AWS call");
    t.observe({ type: "phase", number: 3, name: "client-link", title: "", stacks: [], of: 4 });
    t.observe({
      type: "stack",
      stack: "xeks-c-client-ops-link",
      phase: 3,
      account: "222222222222",
      action: "create",
      status: "started",
    });
    let s = t.state;
    assert.equal(s.changed, true);
    assert.equal(s.stack?.status, undefined, "a new stack has no status yet");
    assert.equal(describeWhere(s), "in phase 3/4 (client-link), stack xeks-c-client-ops-link");
    t.observe({
      type: "resource",
      stack: "xeks-c-client-ops-link",
      logicalId: "PeeringConnection",
      resourceType: "AWS::EC2::VPCPeeringConnection",
      status: "CREATE_IN_PROGRESS",
    });
    assert.equal(t.state.stack?.status, undefined, "a resource's event is not the stack's status");
    t.observe({
      type: "resource",
      stack: "xeks-c-client-ops-link",
      logicalId: "xeks-c-client-ops-link",
      resourceType: "AWS::CloudFormation::Stack",
      status: "CREATE_IN_PROGRESS",
      reason: "User Initiated",
    });
    s = t.state;
    assert.equal(s.stack?.status, "CREATE_IN_PROGRESS");
    assert.equal(s.stack?.statusFrom, "event");
    assert.equal(stillInProgress(s), true);
    assert.equal(
      watchCommand(s),
      "aws cloudformation describe-stacks --stack-name xeks-c-client-ops-link --region ap-south-1 --profile ops",
    );
    const lines = inFlightLines(s, "xeks deploy x.yaml --client-profile ops=ops --yes", helpers);
    assert.deepEqual(lines, [
      "in flight: stack xeks-c-client-ops-link (account 222222222222, region ap-south-1, client ops), being created",
      "last known status: CREATE_IN_PROGRESS (its latest event): User Initiated",
      "CloudFormation goes on with this operation: xeks did not cancel it.",
      "watch it with: aws cloudformation describe-stacks --stack-name xeks-c-client-ops-link --region ap-south-1 --profile ops",
      "once it is no longer *_IN_PROGRESS, resume with: xeks deploy x.yaml --client-profile ops=ops --yes",
    ]);
    t.observe({
      type: "stack",
      stack: "xeks-c-client-ops-link",
      phase: 3,
      account: "222222222222",
      action: "create",
      status: "done",
    });
    t.observe({ type: "phase", number: 4, name: "cluster-link", title: "", stacks: [], of: 4 });
    t.observe({
      type: "peering",
      stack: "xeks-c-cluster-link-ops",
      peeringId: "pcx-1",
      status: "pending-acceptance",
    });
    s = t.state;
    assert.deepEqual(s.done, ["xeks-c-client-ops-link"]);
    assert.equal(s.stack, undefined);
    assert.match(
      describeWhere(s),
      /waiting for peering connection pcx-1 before stack xeks-c-cluster-link-ops/,
    );
    assert.equal(
      watchCommand(s),
      "aws ec2 describe-vpc-peering-connections --vpc-peering-connection-ids pcx-1 --region ap-south-1",
    );
    const doc = interruptedResult(t, s, "SIGTERM", 143, "xeks deploy x.yaml --yes");
    assert.equal(doc.kind, "Interrupted");
    assert.equal(doc.exitCode, 143);
    assert.equal(doc.watch, watchCommand(s));
  });

  test("refresh asks CloudFormation, within its time; without an answer the last known status stands", async () => {
    const t = new RunTracker("destroy");
    let answer: () => Promise<{ status: string } | undefined> = async () => ({
      status: "DELETE_IN_PROGRESS",
    });
    t.know(known, () => answer());
    t.knowStatus(new Map([["xeks-c-cluster-link-ops", "CREATE_COMPLETE"]]));
    t.observe({
      type: "stack",
      stack: "xeks-c-cluster-link-ops",
      phase: 4,
      account: "111111111111",
      action: "delete",
      status: "started",
    });
    assert.equal(t.state.stack?.status, "CREATE_COMPLETE");
    assert.equal(t.state.stack?.statusFrom, "before-run");
    let s = await t.refresh(1_000);
    assert.equal(s.stack?.status, "DELETE_IN_PROGRESS");
    assert.equal(s.stack?.statusFrom, "now");
    answer = () => new Promise(() => {}); // never answers
    s = await t.refresh(50);
    assert.equal(s.stack?.status, "DELETE_IN_PROGRESS", "the last known status stands");
    answer = async () => undefined;
    s = await t.refresh(1_000);
    assert.equal(s.stack?.exists, false);
    assert.match(
      inFlightLines(s, "xeks destroy x.yaml --yes", helpers).join("\n"),
      /no such stack \(asked just now\): it is deleted/,
    );
  });

  test("nothing in flight: said so, with the command to run again", () => {
    const t = new RunTracker("diff");
    t.step("reading");
    const s = t.state;
    assert.equal(describeWhere(s), "while reading the cluster and the stacks");
    assert.deepEqual(inFlightLines(s, "xeks diff x.yaml", helpers), [
      "nothing was changed.",
      "run it again: xeks diff x.yaml",
    ]);
  });
});
