/**
 * Wait bounds (docs/security.md, "Wait bounds"): XEKS_AWS_TIMEOUT_MS bounds each whole AWS attempt (connect,
 * send, headers and body), for every SDK client xeks makes, and doctor and discover are bounded as a whole.
 *
 * - In process: `boundedRequestHandler` (src/aws/sdk.ts) ends an attempt whose body trickles in, or whose
 *   headers do, with a TimeoutError the SDK retries (so a call makes its known number of attempts); refuses an
 *   answer over the size cap without retrying; keeps the caller's abortSignal; passes a normal answer whole.
 *   The watchdog (src/aws/watchdog.ts) counts headers followed by a
 *   trickling body as silence, and in doctor's mode gives up the endpoint alone.
 * - Through bin/xeks (needs `npm run build`), against a loopback endpoint that sends its headers and then one
 *   body byte every 50 ms (test/helpers/slow-endpoint.ts), with XEKS_AWS_TIMEOUT_MS=300: token, kubeconfig,
 *   doctor, discover and diff (deploy's own STS client) each end with exit 1 and their message; doctor against
 *   an endpoint that never answers (or trickles), with sts:GetCallerIdentity answered, prints its report with
 *   the links unknown and a line naming the endpoint, well within a guard far below what it used to take.
 *
 * No timing assertion: each run has a guard (the test's or the child's timeout); a run killed by it fails.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { boundedRequestHandler, MAX_AWS_RESPONSE_BYTES, SDK_MAX_ATTEMPTS } from "../src/aws/sdk.js";
import { AwsSilenceError, AwsWatchdog, watchedAgents } from "../src/aws/watchdog.js";
import { isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import {
  type CannedAnswer,
  identityAnswer,
  type SlowEndpoint,
  startSlowEndpoint,
} from "./helpers/slow-endpoint.js";
import { xeksAsync } from "./helpers/spawn.js";
import { generatedYaml } from "./helpers/topologies.js";

const KEYS = {
  accessKeyId: "AKIDWAITBOUNDS000001",
  secretAccessKey: "wait/bounds/secret/key/0000000000000000",
};

function sts(url: string, timeoutMs: number, maxAttempts: number, maxBytes?: number): STSClient {
  return new STSClient({
    region: "ap-south-1",
    endpoint: url,
    credentials: KEYS,
    maxAttempts,
    requestHandler: boundedRequestHandler(timeoutMs, watchedAgents(), maxBytes),
  });
}

describe("one attempt is bounded as a whole", { timeout: 60_000 }, () => {
  const endpoints: SlowEndpoint[] = [];
  after(async () => {
    for (const e of endpoints) await e.close();
  });
  const start = async (mode: "trickle" | "trickle-headers" | "silent", answer?: () => CannedAnswer) => {
    const e = await startSlowEndpoint({ mode, everyMs: 20, ...(answer ? { answer } : {}) });
    endpoints.push(e);
    return e;
  };

  test("a body that trickles in: a TimeoutError per attempt, retried up to the client's count", async () => {
    const e = await start("trickle");
    const client = sts(e.url, 300, 2);
    try {
      await assert.rejects(
        client.send(new GetCallerIdentityCommand({})),
        (err: Error & { code?: string }) => {
          assert.equal(err.name, "TimeoutError");
          assert.equal(err.code, "ETIMEDOUT");
          assert.match(err.message, /exceeded the configured 300 ms while its answer was still arriving/);
          return true;
        },
      );
      assert.equal(e.calls.length, 2, "two attempts, each ended by the deadline");
    } finally {
      client.destroy();
    }
  });

  test("headers that trickle in: a TimeoutError too", async () => {
    const e = await start("trickle-headers");
    const client = sts(e.url, 300, 1);
    try {
      await assert.rejects(client.send(new GetCallerIdentityCommand({})), { name: "TimeoutError" });
      assert.equal(e.calls.length, 1);
    } finally {
      client.destroy();
    }
  });

  test("an answer over the size cap fails at once, not retried", async () => {
    const e = await start("silent", () => ({
      status: 200,
      headers: { "content-type": "text/xml" },
      body: `<GetCallerIdentityResponse>${"x".repeat(4096)}</GetCallerIdentityResponse>`,
    }));
    const client = sts(e.url, 2_000, 3, 1024);
    try {
      await assert.rejects(client.send(new GetCallerIdentityCommand({})), (err: Error) => {
        assert.equal(err.name, "ResponseTooLarge");
        assert.match(err.message, /the answer exceeded 1024 bytes/);
        return true;
      });
      assert.equal(e.calls.length, 1, "not retried");
    } finally {
      client.destroy();
    }
    assert.equal(MAX_AWS_RESPONSE_BYTES, 10 * 1024 * 1024);
    assert.equal(SDK_MAX_ATTEMPTS, 3);
  });

  test("the caller's abortSignal still aborts (an AbortError, not retried)", async () => {
    const e = await start("trickle");
    const client = sts(e.url, 30_000, 3);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 200);
    try {
      await assert.rejects(client.send(new GetCallerIdentityCommand({}), { abortSignal: abort.signal }), {
        name: "AbortError",
      });
      assert.equal(e.calls.length, 1);
    } finally {
      clearTimeout(timer);
      client.destroy();
    }
  });

  test("a normal answer passes whole", async () => {
    const e = await start(
      "silent",
      () =>
        identityAnswer({ [KEYS.accessKeyId]: "111111111111" })({
          service: "sts",
          action: "GetCallerIdentity",
          accessKeyId: KEYS.accessKeyId,
        }) as CannedAnswer,
    );
    const client = sts(e.url, 2_000, 3);
    try {
      const out = await client.send(new GetCallerIdentityCommand({}));
      assert.equal(out.Account, "111111111111");
      assert.equal(out.Arn, "arn:aws:iam::111111111111:user/tester");
    } finally {
      client.destroy();
    }
  });
});

describe("the watchdog: headers and a trickling body are not an answer", { timeout: 60_000 }, () => {
  let e: SlowEndpoint;
  before(async () => {
    e = await startSlowEndpoint({ mode: "trickle", everyMs: 20 });
  });
  after(() => e.close());

  test("deploy's mode: the run ends at the bound", async () => {
    // Each attempt may take 20 s: only the watchdog (500 ms of silence) can end this one.
    const client = sts(e.url, 20_000, 3);
    const dog = new AwsWatchdog(500, { checkEveryMs: 20 });
    try {
      await assert.rejects(
        dog.run(() => client.send(new GetCallerIdentityCommand({}))),
        (err: unknown) => err instanceof AwsSilenceError && err.silent.endpoint === e.url,
      );
    } finally {
      client.destroy();
    }
  });

  test("doctor's mode: the endpoint alone is given up; later calls to it fail at once", async () => {
    const client = sts(e.url, 20_000, 3);
    const dog = new AwsWatchdog(500, { checkEveryMs: 20, giveUp: "endpoint" });
    try {
      const outcome = await dog.run(async () => {
        const first = await client.send(new GetCallerIdentityCommand({})).catch((err: unknown) => err);
        const before = e.calls.length;
        const second = await client.send(new GetCallerIdentityCommand({})).catch((err: unknown) => err);
        return { first, second, sentAfter: e.calls.length - before };
      });
      assert.ok(outcome.first instanceof AwsSilenceError, String(outcome.first));
      assert.ok(outcome.second instanceof AwsSilenceError, String(outcome.second));
      assert.equal(outcome.sentAfter, 0, "nothing more was sent to the endpoint given up");
      const stopped = dog.stopped();
      assert.equal(stopped.length, 1);
      assert.equal(stopped[0]?.endpoint, e.url);
      assert.equal(stopped[0]?.service, "sts");
      assert.equal(stopped[0]?.operation, "GetCallerIdentity");
    } finally {
      client.destroy();
    }
  });
});

// ---- through bin/xeks -----------------------------------------------------------------------------------

const CLUSTER_ACCOUNT = "111111111111";
const CLIENT_ACCOUNT = "222222222222";
const PROFILE_KEYS: Record<string, { id: string; account: string }> = {
  cluster: { id: "AKIDWAITCLUSTER00001", account: CLUSTER_ACCOUNT },
  ops: { id: "AKIDWAITOPS000000001", account: CLIENT_ACCOUNT },
};
const SECRET = "waitBoundsSecretKey/0123456789abcdefghijklmn";
const SEED = join(ROOT, "examples", "seed.yaml");
/** A guard per run, not a timing assertion: before this change, these runs waited for minutes or forever. */
const GUARD = { timeoutMs: 45_000 };

function awsHome(endpoint: string, vars: Record<string, string> = {}) {
  const credentials = Object.entries(PROFILE_KEYS)
    .map(([p, k]) => `[${p}]\naws_access_key_id = ${k.id}\naws_secret_access_key = ${SECRET}\n`)
    .join("\n");
  return isolatedAwsEnv({
    credentials,
    config: Object.keys(PROFILE_KEYS)
      .map((p) => `[profile ${p}]\nregion = ap-south-1\n`)
      .join("\n"),
    vars: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "ap-south-1",
      XEKS_AWS_TIMEOUT_MS: "300",
      ...vars,
    },
  });
}

const ambientKeys = { AWS_ACCESS_KEY_ID: PROFILE_KEYS.cluster?.id ?? "", AWS_SECRET_ACCESS_KEY: SECRET };
const identities = Object.fromEntries(Object.values(PROFILE_KEYS).map((k) => [k.id, k.account]));

function noNoise(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at |@smithy|\[WARN\]|\[ERROR\]/);
  assert.ok(!stderr.includes(SECRET), "no secret");
}

// The runs are independent (each its own HOME): they run side by side.
describe("commands against an endpoint that sends headers, then a byte every 50 ms", {
  timeout: 180_000,
  concurrency: true,
}, () => {
  let trickle: SlowEndpoint;
  let answering: SlowEndpoint;
  const homes: ReturnType<typeof awsHome>[] = [];
  before(async () => {
    trickle = await startSlowEndpoint({ mode: "trickle" });
    // The same, except that sts:GetCallerIdentity answers (so doctor and discover get past the credentials).
    answering = await startSlowEndpoint({ mode: "trickle", answer: identityAnswer(identities) });
  });
  after(async () => {
    for (const h of homes) h.cleanup();
    await trickle.close();
    await answering.close();
  });
  const home = (endpoint: string, vars?: Record<string, string>) => {
    const h = awsHome(endpoint, vars);
    homes.push(h);
    return h;
  };

  test("token (--role-arn): exit 1, sts:AssumeRole timed out, 2 attempts", async () => {
    const h = home(trickle.url, ambientKeys);
    const r = await xeksAsync(
      ["token", "--cluster-name", "c", "--role-arn", "arn:aws:iam::111111111111:role/R", "--no-cache"],
      { env: h.env, ...GUARD },
    );
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /could not assume role arn:aws:iam::111111111111:role\/R/);
    assert.match(r.stderr, /300 ms/);
    noNoise(r.stderr);
  });

  test("kubeconfig (--role-arn): exit 1, nothing written", async () => {
    const h = home(trickle.url, ambientKeys);
    const kubeconfig = join(h.dir, "kubeconfig");
    const r = await xeksAsync(
      [
        "kubeconfig",
        "--cluster-name",
        "c",
        "--role-arn",
        "arn:aws:iam::111111111111:role/R",
        "--kubeconfig",
        kubeconfig,
      ],
      { env: h.env, ...GUARD },
    );
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /arn:aws:iam::111111111111:role\/R/);
    assert.match(r.stderr, /300 ms/);
    noNoise(r.stderr);
  });

  test("diff (deploy's own STS client checks the credentials): exit 1, no answer from AWS", async () => {
    const h = home(trickle.url, ambientKeys);
    const r = await xeksAsync(["diff", SEED, "--out", join(h.dir, "assembly")], { env: h.env, ...GUARD });
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no answer from AWS/);
    noNoise(r.stderr);
  });

  test("doctor, every endpoint trickling: exit 1 at the credential check, naming sts:GetCallerIdentity", async () => {
    const h = home(trickle.url, ambientKeys);
    const r = await xeksAsync(
      ["doctor", SEED, "--cluster-profile", "cluster", "--client-profile", "ops=ops"],
      {
        env: h.env,
        ...GUARD,
      },
    );
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /sts:GetCallerIdentity/);
    assert.match(r.stderr, /300 ms|no answer from AWS/);
    noNoise(r.stderr);
  });

  test("doctor, reads trickling: the report prints, links unknown, a line names the endpoint", async () => {
    const h = home(answering.url);
    const r = await xeksAsync(
      ["doctor", SEED, "--cluster-profile", "cluster", "--client-profile", "ops=ops", "--concurrency", "1"],
      { env: h.env, ...GUARD },
    );
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /unknown/i);
    assert.match(
      r.stdout,
      new RegExp(
        `no answer from AWS: \\w+:.+ at ${answering.url} did not answer for \\d+ s \\(\\d+ attempts?\\)`,
      ),
    );
    noNoise(r.stderr);
  });

  test("discover, reads trickling: exit 1 naming eks:DescribeCluster", async () => {
    const h = home(answering.url);
    const r = await xeksAsync(
      [
        "discover",
        "--cluster-name",
        "c",
        "--region",
        "ap-south-1",
        "--client-account",
        `ops=${CLIENT_ACCOUNT}`,
        "--cluster-profile",
        "cluster",
        "--client-profile",
        "ops=ops",
        "--out",
        join(h.dir, "xeks.yaml"),
      ],
      { env: h.env, ...GUARD },
    );
    assert.equal(r.signal, null, "ended by itself");
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /DescribeCluster/);
    assert.match(r.stderr, /300 ms|no answer from AWS/);
    noNoise(r.stderr);
  });
});

describe("doctor against an endpoint that never answers (sts:GetCallerIdentity answered)", () => {
  let silent: SlowEndpoint;
  let dir: string;
  const accounts: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "xeks-wait-"));
    // Six clients, one read at a time: about 40 reads. Each used to wait for its 5 attempts, one after the
    // other (about a minute at 300 ms); now the endpoint is given up after 3 × 300 ms + 3 s of silence.
    for (let i = 1; i <= 6; i++) accounts[`AKIDWAITTEAM00000${i}00`] = String(200000000000 + i);
    accounts.AKIDWAITCLUSTER00001 = CLUSTER_ACCOUNT;
    silent = await startSlowEndpoint({ mode: "silent", answer: identityAnswer(accounts) });
  });
  after(async () => {
    await silent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("ends well within its guard: report printed, links unknown, exit 1, the endpoint named", {
    timeout: 30_000,
  }, async () => {
    const keys = Object.entries(accounts);
    const profiles = keys.map(([id], i) => (id === "AKIDWAITCLUSTER00001" ? "cluster" : `team-${i + 1}`));
    const h = isolatedAwsEnv({
      credentials: keys
        .map(([id], i) => `[${profiles[i]}]\naws_access_key_id = ${id}\naws_secret_access_key = ${SECRET}\n`)
        .join("\n"),
      vars: { AWS_ENDPOINT_URL: silent.url, AWS_REGION: "eu-west-1", XEKS_AWS_TIMEOUT_MS: "300" },
    });
    try {
      const file = join(dir, "six.yaml");
      writeFileSync(file, generatedYaml(6));
      const flags = profiles.flatMap((p) =>
        p === "cluster" ? ["--cluster-profile", "cluster"] : ["--client-profile", `${p}=${p}`],
      );
      const r = await xeksAsync(["doctor", file, ...flags, "--concurrency", "1", "-o", "json"], {
        env: h.env,
        timeoutMs: 25_000,
      });
      assert.equal(r.signal, null, `ended by itself: ${r.stderr}`);
      assert.equal(r.status, 1, r.stderr);
      const report = JSON.parse(r.stdout) as { links: { status: string }[] };
      assert.ok(report.links.some((l) => l.status === "unknown"));
      assert.match(
        r.stderr,
        new RegExp(`xeks: no answer from AWS: \\w+:.+ at ${silent.url} did not answer for \\d+ s`),
      );
      noNoise(r.stderr);
    } finally {
      h.cleanup();
    }
  });
});
