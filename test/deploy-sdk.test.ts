/**
 * How deploy configures the AWS SDK: every client (ours, the credential chain's, toolkit-lib's) gives up on an
 * endpoint that accepts and never answers, within XEKS_AWS_TIMEOUT_MS; the SDK never writes to the terminal;
 * and SDK errors become exit 2 only when a named profile is at fault. In-process, against a loopback server
 * that accepts TCP and never says a word (test/helpers/tcp-fixtures.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { awsTimeoutMs, requestHandlerOptions } from "../src/aws/sdk.js";
import { awsError, sdkApis } from "../src/deploy/aws.js";
import { type CredentialSet, defaultProviderFactory } from "../src/deploy/credentials.js";
import { XeksIoHost } from "../src/deploy/io-host.js";

const AWS_TIMEOUT_ENV = "XEKS_AWS_TIMEOUT_MS";
const awsTimeouts = (env: Record<string, string>) => {
  const { connectionTimeout, requestTimeout } = requestHandlerOptions(awsTimeoutMs(env));
  return { connectionTimeout, requestTimeout };
};

import { AccountToolkit } from "../src/deploy/toolkit.js";
import type { DeployEvent } from "../src/deploy/types.js";
import { InputError, OperationError } from "../src/errors.js";
import { synthesize } from "../src/infra/synthesize.js";
import { parseTopology } from "../src/topology/load.js";
import { isolatedAwsEnv } from "./helpers/aws-env.js";
import { startSilentServer, type TcpFixture } from "./helpers/tcp-fixtures.js";

const seed = parseTopology(
  readFileSync(new URL("../examples/seed.yaml", import.meta.url), "utf8"),
  "seed.yaml",
);

const staticSet = (): CredentialSet => ({
  key: "cluster",
  account: seed.cluster.account,
  region: seed.cluster.region,
  provider: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
  flag: "--cluster-profile",
});

/** Set environment variables for the duration of a test file. */
function withEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

// A guard, not a timing assertion: without bounded timeouts these calls would wait for minutes.
describe("an endpoint that accepts and never answers", { timeout: 120_000 }, () => {
  let silent: TcpFixture;
  let restore: () => void;
  before(async () => {
    silent = await startSilentServer();
    restore = withEnv({
      AWS_ENDPOINT_URL: `http://${silent.host}:${silent.port}`,
      [AWS_TIMEOUT_ENV]: "300",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  });
  after(async () => {
    restore();
    await silent.close();
  });

  test("STS, EKS, EC2 and CloudFormation calls fail with a timeout instead of waiting", async () => {
    const set = staticSet();
    const region = seed.cluster.region;
    await Promise.all([
      assert.rejects(sdkApis.sts(set).getCallerIdentity(), { name: "TimeoutError" }),
      assert.rejects(sdkApis.eks(set, region).describeCluster("c"), { name: "TimeoutError" }),
      assert.rejects(sdkApis.ec2(set, region).describePeering("pcx-0123"), { name: "TimeoutError" }),
      assert.rejects(sdkApis.cfn(set, region).describeStack("s"), { name: "TimeoutError" }),
    ]);
  });

  test("a timeout is an operation failure (exit 1) that says AWS did not answer", async () => {
    const err = await sdkApis
      .sts(staticSet())
      .getCallerIdentity()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const e = awsError(err, "checking the credentials", { profile: "p", flag: "--cluster-profile" });
    assert.ok(e instanceof OperationError, String(e));
    assert.match(e.message, /no answer from AWS \(TimeoutError\)/);
  });

  test("the credential chain's own STS client (a role_arn profile) gives up too", async () => {
    const iso = isolatedAwsEnv({
      config:
        "[profile base]\nregion = ap-south-1\n[profile deployer]\nrole_arn = arn:aws:iam::111111111111:role/d\nsource_profile = base\n",
      credentials: "[base]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = x\n",
    });
    const restoreFiles = withEnv({
      AWS_CONFIG_FILE: iso.configFile,
      AWS_SHARED_CREDENTIALS_FILE: iso.credentialsFile,
    });
    try {
      await assert.rejects(defaultProviderFactory("deployer", seed.cluster.region)(), {
        name: "TimeoutError",
      });
    } finally {
      restoreFiles();
      iso.cleanup();
    }
  });

  test("toolkit-lib's SDK gets the same timeouts (through the base credentials' client config)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "xeks-sdk-"));
    try {
      const synth = synthesize(seed, { outDir: join(dir, "out"), nag: false });
      const stack = synth.manifest.phases[1]?.stacks[0]?.name as string;
      const events: DeployEvent[] = [];
      const toolkit = new AccountToolkit(staticSet(), synth.outDir, new XeksIoHost((e) => events.push(e)));
      await assert.rejects(toolkit.diff([stack]));
      const debug = events.flatMap((e) => (e.type === "debug" ? [e.message] : []));
      assert.ok(
        debug.some((m) => /TimeoutError.*exceeded the configured 300 ms requestTimeout/.test(m)),
        debug.join("\n"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the SDK stays quiet", () => {
  test("AWS_PROFILE and AWS_ACCESS_KEY_ID together: no 'multiple credential sources' warning", async () => {
    const iso = isolatedAwsEnv({
      config: "[profile p]\nregion = ap-south-1\n",
      credentials: "[p]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = x\n",
    });
    const restore = withEnv({
      AWS_CONFIG_FILE: iso.configFile,
      AWS_SHARED_CREDENTIALS_FILE: iso.credentialsFile,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PROFILE: "p",
      AWS_ACCESS_KEY_ID: "AKIDENV",
      AWS_SECRET_ACCESS_KEY: "y",
    });
    const said: string[] = [];
    const { warn, error, log } = console;
    console.warn = (...a: unknown[]) => said.push(a.join(" "));
    console.error = console.warn;
    console.log = console.warn;
    try {
      const creds = await defaultProviderFactory(undefined, "ap-south-1")();
      assert.ok(creds.accessKeyId);
    } finally {
      Object.assign(console, { warn, error, log });
      restore();
      iso.cleanup();
    }
    assert.deepEqual(said, []);
  });
});

describe("which SDK errors are the user's input", () => {
  const providerError = Object.assign(new Error("Could not load credentials from any providers"), {
    name: "CredentialsProviderError",
  });

  test("a named profile that gives no credentials: exit 2, naming the flag", () => {
    const e = awsError(providerError, "checking", {
      profile: "nope",
      flag: "--client-profile ops=PROFILE",
    });
    assert.ok(e instanceof InputError);
    assert.equal(e.issues[0]?.path, "--client-profile ops=PROFILE");
    assert.match(e.issues[0]?.message ?? "", /profile nope exists/);
  });

  test("the ambient chain finding nothing: exit 1, with how to configure credentials", () => {
    const e = awsError(providerError, "checking", { flag: "--cluster-profile" });
    assert.ok(e instanceof OperationError, String(e));
    assert.match(e.message, /cannot load the ambient credentials/);
    assert.match(e.hint ?? "", /configure credentials .* or name a profile with --cluster-profile/);
  });

  test("credentials AWS refuses: exit 1, whichever they are", () => {
    const refused = Object.assign(new Error("The security token included in the request is invalid."), {
      name: "InvalidClientTokenId",
    });
    for (const set of [{ profile: "p", flag: "--cluster-profile" }, { flag: "--cluster-profile" }]) {
      const e = awsError(refused, "checking", set);
      assert.ok(e instanceof OperationError, String(e));
      assert.match(e.hint ?? "", /refresh the credentials/);
    }
  });
});

describe(AWS_TIMEOUT_ENV, () => {
  test("default 3 s to connect and 10 s per request; the variable sets the request timeout", () => {
    assert.deepEqual(awsTimeouts({}), { connectionTimeout: 3_000, requestTimeout: 10_000 });
    assert.deepEqual(awsTimeouts({ [AWS_TIMEOUT_ENV]: "250" }), {
      connectionTimeout: 250,
      requestTimeout: 250,
    });
    assert.deepEqual(awsTimeouts({ [AWS_TIMEOUT_ENV]: "60000" }), {
      connectionTimeout: 3_000,
      requestTimeout: 60_000,
    });
  });

  test("anything else is refused, naming the variable and what would be valid", () => {
    for (const bad of ["0", "99", "600001", "-5", "1.5", "10s", "abc"]) {
      assert.throws(
        () => awsTimeouts({ [AWS_TIMEOUT_ENV]: bad }),
        (e: unknown) =>
          e instanceof InputError &&
          e.issues[0]?.path === AWS_TIMEOUT_ENV &&
          /whole number of milliseconds from 100 to 600000/.test(e.issues[0]?.message ?? ""),
      );
    }
  });
});
