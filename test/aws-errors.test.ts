/**
 * The one AWS error classifier and its table of hints (src/aws/errors.ts), the one DescribeCluster
 * (src/aws/eks.ts) and the one account check (src/aws/accounts.ts). Every error is a real one: the real SDK
 * against loopback servers (a refused port, a server that answers HTML, one that never answers, the EKS REST
 * fixture, moto), never a hand-made object. The three reported mismatches: ECONNREFUSED does not get the
 * trust-policy hint, an HTML answer does not get "allow eks:ListAccessEntries", ResourceNotFound for a cluster
 * name does not get "needs eks:DescribeCluster". Then, end to end (run `npm run build` first: bin/xeks runs
 * dist/): deploy and doctor agree on a DescribeCluster answer without accessConfig, and doctor's account
 * mismatch names the client's flag and account, once.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { Agent, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EKSClient } from "@aws-sdk/client-eks";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { accountMismatch, checkAccounts, clientProfileFlag } from "../src/aws/accounts.js";
import { credentialProvider } from "../src/aws/credentials.js";
import { clusterDescription, describeCluster, describeClusterIfExists } from "../src/aws/eks.js";
import {
  type AwsErrorKind,
  awsErrorHint,
  classifyAwsError,
  credentialsNotLoaded,
  formatAwsError,
  isNoAnswer,
} from "../src/aws/errors.js";
import { listAccessEntries } from "../src/aws/read.js";
import { classify, ReadFailure } from "../src/aws/read-errors.js";
import { requestHandlerOptions, silentLogger } from "../src/aws/sdk.js";
import type { Session } from "../src/aws/session.js";
import type { ChainReport } from "../src/chain/types.js";
import { authModeFinding, readAuthMode } from "../src/deploy/auth-mode.js";
import { sdkApis } from "../src/deploy/aws.js";
import { credentialSets } from "../src/deploy/credentials.js";
import { InputError, OperationError } from "../src/errors.js";
import { describeClusterAs } from "../src/kubeconfig/describe.js";
import { assumeRole } from "../src/token/credentials.js";
import { loadTopology } from "../src/topology/load.js";
import { type EksFixture, startEksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import { buildSetup, CLUSTER_ACCOUNT, CLUSTER_NAME, REGION, type Setup } from "./helpers/live-setup.js";
import { type Moto, startMoto } from "./helpers/moto-server.js";
import { freePort } from "./helpers/ports.js";

const CLIENT_ACCOUNT = "222222222222";
const KEYS = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

const servers: Server[] = [];

/** A loopback HTTP server answering every request with `status`, `headers` and `body`; or never, with null. */
async function answering(
  reply: { status: number; headers: Record<string, string>; body: string } | null,
): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    if (!reply) return; // accept, read, never answer
    req.on("end", () => {
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const HTML = { "content-type": "text/html; charset=utf-8" };
const PROXY_PAGE = "<!DOCTYPE html><html><body><h1>Access denied by proxy</h1></body></html>";

function eksAt(endpoint: string, extra: Record<string, unknown> = {}): EKSClient {
  return new EKSClient({
    region: REGION,
    endpoint,
    credentials: KEYS,
    maxAttempts: 1,
    logger: silentLogger,
    ...extra,
  });
}

/** The error a promise rejects with. */
async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

/** A session of the live reader whose EKS client is `eks` (the reader uses nothing else here). */
function sessionWith(eks: EKSClient): Session {
  return { eks: () => eks } as unknown as Session;
}

let refusedUrl: string;
let htmlUrl: string;
let fixture: EksFixture;

before(async () => {
  refusedUrl = `http://127.0.0.1:${await freePort()}`;
  htmlUrl = await answering({ status: 403, headers: HTML, body: PROXY_PAGE });
  fixture = await startEksFixture();
  fixture.addCluster({
    name: CLUSTER_NAME,
    account: CLUSTER_ACCOUNT,
    region: REGION,
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0"],
    clusterSecurityGroupId: "sg-0123456789abcdef0",
    authenticationMode: "API_AND_CONFIG_MAP",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
  });
});

after(async () => {
  for (const s of servers) s.close();
  await fixture?.stop();
});

describe("one classifier: each kind from a real error, with its hint", () => {
  test("connection refused: refused, a network hint, never the trust policy (token's AssumeRole too)", async () => {
    const eks = eksAt(refusedUrl);
    const err = await errorOf(describeCluster(eks, CLUSTER_NAME));
    eks.destroy();
    const f = classifyAwsError(err);
    assert.equal(f.kind, "refused");
    assert.equal(f.code, "ECONNREFUSED");
    assert.equal(f.network, true);
    assert.ok(isNoAnswer(err));
    const hint = awsErrorHint(f.kind, { operation: "eks:DescribeCluster" }) ?? "";
    assert.match(hint, /endpoint and the network path to EKS \(AWS_ENDPOINT_URL_EKS/);
    assert.doesNotMatch(hint, /eks:DescribeCluster/);

    // The reported mismatch: the token's cold path said "the role trusts that identity" for ECONNREFUSED.
    const saved = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = refusedUrl;
    try {
      const e = await errorOf(
        assumeRole({
          roleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/Access`,
          sessionName: "t",
          region: REGION,
          credentials: async () => KEYS,
          timeoutMs: 2000,
        }),
      );
      assert.ok(e instanceof OperationError);
      assert.match(e.message, /ECONNREFUSED/);
      assert.doesNotMatch(`${e.hint}`, /trust/);
      assert.match(`${e.hint}`, /network path to STS/);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved;
    }
  });

  test("an HTML page (JSON and XML services alike): notAws, never 'allow eks:ListAccessEntries'", async () => {
    const eks = eksAt(htmlUrl);
    const err = await errorOf(describeCluster(eks, CLUSTER_NAME));
    const f = classifyAwsError(err);
    assert.equal(f.kind, "notAws", JSON.stringify(f));
    assert.equal(f.status, 403);
    assert.match(awsErrorHint(f.kind) ?? "", /not an AWS API \(an emulator without the API, a proxy page\)/);

    const sts = new STSClient({ region: REGION, endpoint: htmlUrl, credentials: KEYS, maxAttempts: 1 });
    const stsErr = await errorOf(
      sts.send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/A`, RoleSessionName: "s" }),
      ),
    );
    sts.destroy();
    assert.equal(classifyAwsError(stsErr).kind, "notAws", "a 403 HTML page is not a denial");

    // The reported mismatch, through doctor's reader: the read fails, is not a denial, and its hint says why.
    const read = await errorOf(listAccessEntries(sessionWith(eks), CLUSTER_NAME));
    eks.destroy();
    assert.ok(read instanceof ReadFailure);
    assert.equal(read.error.kind, "failed");
    assert.equal(read.error.awsKind, "notAws");
    assert.match(read.error.hint ?? "", /not an AWS API/);
    assert.doesNotMatch(`${read.error.detail} ${read.error.hint}`, /allow eks:ListAccessEntries/);
  });

  test("ResourceNotFound for a cluster: notFound, 'check the cluster name and region', no permission named", async () => {
    const eks = eksAt(fixture.url);
    const err = await errorOf(describeCluster(eks, "no-such-cluster"));
    assert.equal(await describeClusterIfExists(eks, "no-such-cluster"), undefined);
    eks.destroy();
    const f = classifyAwsError(err);
    assert.equal(f.kind, "notFound");
    assert.equal(f.code, "ResourceNotFoundException");
    assert.match(
      awsErrorHint(f.kind, { operation: "eks:DescribeCluster", thing: "cluster" }) ?? "",
      /check the cluster name and region/,
    );

    // The reported mismatch, through kubeconfig's DescribeCluster.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_EKS: fixture.url,
      AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      AWS_CONFIG_FILE: "/nonexistent/xeks-test-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/xeks-test-credentials",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    delete process.env.AWS_PROFILE;
    try {
      const e = await errorOf(
        describeClusterAs({
          clusterName: "no-such-cluster",
          region: REGION,
          sessionName: "t",
          timeoutMs: 2000,
        }),
      );
      assert.ok(e instanceof OperationError);
      assert.match(e.message, /ResourceNotFoundException/);
      assert.match(`${e.hint}`, /check the cluster name and region/);
      assert.doesNotMatch(`${e.hint}`, /needs eks:DescribeCluster/);

      // Denied: now, and only now, the permission.
      fixture.deny("DescribeCluster");
      const d = await errorOf(
        describeClusterAs({ clusterName: CLUSTER_NAME, region: REGION, sessionName: "t", timeoutMs: 2000 }),
      );
      assert.ok(d instanceof OperationError);
      assert.match(d.message, /AccessDeniedException/);
      assert.match(`${d.hint}`, /needs eks:DescribeCluster/);
    } finally {
      fixture.allowAll();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test("denied (JSON error): the permission of the operation; throttled (429)", async () => {
    const eks = eksAt(fixture.url);
    fixture.deny("DescribeCluster");
    const denied = await errorOf(describeCluster(eks, CLUSTER_NAME));
    fixture.allowAll();
    const f = classifyAwsError(denied);
    assert.equal(f.kind, "denied");
    assert.match(
      awsErrorHint(f.kind, { operation: "eks:DescribeCluster" }) ?? "",
      /need eks:DescribeCluster/,
    );
    const c = classify(denied, "eks:DescribeCluster");
    assert.equal(c.kind, "denied");
    assert.equal(c.detail, "eks:DescribeCluster was denied (AccessDeniedException)");

    fixture.throttleNext(1);
    const throttled = await errorOf(describeCluster(eks, CLUSTER_NAME));
    eks.destroy();
    assert.equal(classifyAwsError(throttled).kind, "throttled");
    assert.match(awsErrorHint("throttled") ?? "", /throttled/);
  });

  test("expired or invalid credentials (a 403 that is not a denial) and a profile that gives none", async () => {
    const url = await answering({
      status: 403,
      headers: { "content-type": "application/json", "x-amzn-ErrorType": "ExpiredTokenException" },
      body: JSON.stringify({ message: "The security token included in the request is expired" }),
    });
    const eks = eksAt(url);
    const expired = await errorOf(describeCluster(eks, CLUSTER_NAME));
    eks.destroy();
    const f = classifyAwsError(expired);
    assert.equal(f.kind, "credentials");
    assert.equal(f.code, "ExpiredTokenException");
    assert.match(awsErrorHint(f.kind) ?? "", /missing, expired or not accepted/);

    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_CONFIG_FILE: "/nonexistent/xeks-test-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/xeks-test-credentials",
    });
    try {
      const none = await errorOf(credentialProvider({ profile: "xeks-no-such-profile", region: REGION })());
      assert.equal(classifyAwsError(none).kind, "credentials");
    } finally {
      Object.assign(process.env, saved);
    }
  });

  test("timeout (the request deadline) and DNS (the resolver's answer), with the network hint", async () => {
    const silent = await answering(null);
    const eks = eksAt(silent, { requestHandler: requestHandlerOptions(300) });
    const timedOut = await errorOf(describeCluster(eks, CLUSTER_NAME));
    eks.destroy();
    const t = classifyAwsError(timedOut);
    assert.equal(t.kind, "timeout", JSON.stringify(t));
    assert.match(awsErrorHint(t.kind, { service: "eks" }) ?? "", /no answer in time: .*XEKS_AWS_TIMEOUT_MS/);

    // A resolver that answers ENOTFOUND / EAI_AGAIN (no query leaves the machine).
    for (const code of ["ENOTFOUND", "EAI_AGAIN"]) {
      const httpAgent = new Agent({
        lookup: ((host: string, _o: unknown, cb: (e: Error) => void) =>
          cb(Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code }))) as never,
      });
      const client = eksAt("http://eks.xeks-test.invalid", { requestHandler: { httpAgent } });
      const err = await errorOf(describeCluster(client, CLUSTER_NAME));
      client.destroy();
      const d = classifyAwsError(err);
      assert.equal(d.kind, "dns", `${code}: ${JSON.stringify(d)}`);
      assert.match(awsErrorHint(d.kind, { service: "eks" }) ?? "", /host name does not resolve/);
    }
  });

  test("moto: NoSuchEntity is notFound, a denial is denied; a wrapped refusal is still refused", async () => {
    const moto = await startMoto();
    try {
      const iam = new IAMClient({
        region: "us-east-1",
        endpoint: moto.proxyUrl,
        credentials: KEYS,
        maxAttempts: 1,
      });
      const missing = await errorOf(iam.send(new GetRoleCommand({ RoleName: "NoSuchRole" })));
      assert.equal(classifyAwsError(missing).kind, "notFound");
      assert.match(awsErrorHint("notFound", { thing: "role" }) ?? "", /role name and the account/);
      moto.deny("iam:GetRole");
      const denied = await errorOf(iam.send(new GetRoleCommand({ RoleName: "NoSuchRole" })));
      iam.destroy();
      const f = classifyAwsError(denied);
      assert.equal(f.kind, "denied");
      assert.equal(formatAwsError({ code: f.code, message: f.code }), f.code);
    } finally {
      await moto.stop();
    }
    const eks = eksAt(refusedUrl);
    const inner = await errorOf(describeCluster(eks, CLUSTER_NAME));
    eks.destroy();
    const wrapped = Object.assign(new OperationError("reading cluster"), { cause: inner });
    assert.equal(classifyAwsError(wrapped).kind, "refused");
  });

  test("the table: one hint per kind; the permission only for denied", () => {
    const kinds: AwsErrorKind[] = [
      "denied",
      "notFound",
      "throttled",
      "credentials",
      "refused",
      "timeout",
      "dns",
      "notAws",
    ];
    const hints = kinds.map((k) => awsErrorHint(k, { operation: "eks:ListAccessEntries" }) ?? "");
    assert.equal(new Set(hints).size, kinds.length, "a different hint per kind");
    for (const [i, k] of kinds.entries()) {
      assert.equal(/eks:ListAccessEntries/.test(hints[i] as string), k === "denied", `${k}: ${hints[i]}`);
    }
    assert.equal(awsErrorHint("other"), undefined);
  });

  test("credentials that could not be loaded are told from credentials AWS refused, by one test", () => {
    const named = (name: string, message = "x") =>
      classifyAwsError(Object.assign(new Error(message), { name }));
    for (const name of [
      "CredentialsProviderError",
      "CredentialsError",
      "TokenProviderError",
      "NoCredentials",
    ]) {
      assert.equal(credentialsNotLoaded(named(name)), true, name);
    }
    assert.equal(credentialsNotLoaded(named("Error", "Could not load credentials from any providers")), true);
    for (const name of ["ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"]) {
      assert.equal(credentialsNotLoaded(named(name)), false, name);
    }
  });
});

describe("one DescribeCluster: an answer without accessConfig", () => {
  test("is CONFIG_MAP, said by EKS's default, whatever the topology declares", () => {
    const d = clusterDescription({ name: "c", status: "ACTIVE" }, "c");
    assert.equal(d.authenticationMode, "CONFIG_MAP");
    assert.equal(d.authenticationModeSource, "default");
    const a = clusterDescription({ name: "c", accessConfig: { authenticationMode: "API" } }, "c");
    assert.equal(a.authenticationMode, "API");
    assert.equal(a.authenticationModeSource, "accessConfig");
  });
});

describe("end to end on the emulators (bin/xeks: npm run build first)", () => {
  let moto: Moto;
  let eks: EksFixture;
  let setup: Setup;
  let home: AwsHome;
  let file: string;
  // The emulators (the sandbox's lab: test/helpers/emulators.ts), stopped after the setup and home are cleaned up.
  const live = useEmulators<Setup>((m, e) => {
    moto = m;
    eks = e;
  });

  before(async () => {
    setup = await buildSetup(moto, eks);
    live.setup = setup;
    home = await makeAwsHome(
      moto,
      eks,
      { cluster: CLUSTER_ACCOUNT, ops: CLIENT_ACCOUNT },
      { ambient: CLUSTER_ACCOUNT },
    );
    live.home = home;
    file = join(home.dir, "xeks.yaml");
    // The topology declares API_AND_CONFIG_MAP: deploy used to take that when DescribeCluster did not say.
    writeFileSync(
      file,
      setup.topology.replace(
        `  region: ${REGION}\n`,
        `  region: ${REGION}\n  authenticationMode: API_AND_CONFIG_MAP\n`,
      ),
    );
  });
  async function doctor(extra: string[], env: NodeJS.ProcessEnv = home.env) {
    const r = await xeksAsync(["doctor", file, "-o", "json", ...extra], { env });
    let report: ChainReport | undefined;
    try {
      report = JSON.parse(r.stdout) as ChainReport;
    } catch {
      // asserted by the caller
    }
    return { ...r, report };
  }

  test("deploy and doctor agree on a DescribeCluster answer without accessConfig: CONFIG_MAP", async () => {
    const cluster = eks.clusters.get(CLUSTER_NAME);
    assert.ok(cluster);
    cluster.omitAccessConfig = true;
    try {
      const topology = await loadTopology(file);
      assert.equal(
        topology.cluster.authenticationMode,
        "API_AND_CONFIG_MAP",
        "the topology declares API_AND_CONFIG_MAP",
      );

      // doctor
      const r = await doctor(["--cluster-profile", "cluster", "--client-profile", "ops=ops"]);
      assert.ok(r.report, r.stderr);
      const link = r.report.links.find((l) => l.id === "eks.authentication-mode");
      assert.equal(link?.status, "fail");
      assert.match(`${link?.summary}`, /CONFIG_MAP/);

      // deploy's decision, with the real SDK against the same fixture
      const saved = { ...process.env };
      Object.assign(process.env, { AWS_ENDPOINT_URL_EKS: eks.url });
      try {
        const sets = credentialSets(
          topology,
          {},
          () => async () => home.credentials.get(CLUSTER_ACCOUNT) as never,
        );
        const set = sets.get("cluster");
        assert.ok(set);
        const api = sdkApis.eks(set, topology.cluster.region);
        const state = await readAuthMode(topology, api, false);
        assert.deepEqual(state, {
          cluster: CLUSTER_NAME,
          mode: "CONFIG_MAP",
          source: "live",
          action: "blocked",
        });
        const live = await api.describeCluster(CLUSTER_NAME);
        assert.ok(live);
        const finding = await authModeFinding(topology, live);
        assert.equal(finding.status, link?.status);
        assert.equal(finding.summary, link?.summary, "the same link, the same words");
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
    } finally {
      cluster.omitAccessConfig = false;
    }
  });

  test("doctor with the cluster account's credentials for a client in another account: the client's flag and account, once", async () => {
    // Ambient credentials: the cluster account's (111111111111); client ops is in 222222222222.
    const r = await doctor([]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /--client-profile ops=PROFILE/);
    assert.match(r.stderr, /not 222222222222, the account of client ops in the topology/);
    assert.doesNotMatch(r.stderr, /--cluster-profile/);
    assert.doesNotMatch(r.stderr, /the account of the cluster/);
    assert.equal(r.stderr.match(/not 222222222222/g)?.length, 1, r.stderr);
  });

  test("doctor whose STS refuses the connection: the network hint, not 'give ... working credentials'", async () => {
    const r = await doctor(["--cluster-profile", "cluster", "--client-profile", "ops=ops"], {
      ...home.env,
      AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9",
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot reach AWS STS/);
    assert.match(r.stderr, /nothing accepted the connection: check the endpoint and the network path to STS/);
    assert.doesNotMatch(r.stderr, /working credentials/);
  });

  test("an endpoint that answers HTML: doctor's access-entry link says so, not 'allow eks:ListAccessEntries'", async () => {
    const r = await doctor(["--cluster-profile", "cluster", "--client-profile", "ops=ops"], {
      ...home.env,
      AWS_ENDPOINT_URL_EKS: htmlUrl,
    });
    assert.ok(r.report, r.stderr);
    const link = r.report.links.find((l) => l.id === "eks.access-entry");
    assert.equal(link?.status, "unknown");
    assert.match(`${link?.fix}`, /not an AWS API/);
    assert.doesNotMatch(`${link?.fix}`, /allow eks:ListAccessEntries/);
  });
});

describe("one account check", () => {
  test("names the wrong set's flag and both accounts; the same line once", () => {
    const expect = { who: "client ops", account: CLIENT_ACCOUNT, flag: clientProfileFlag("ops") };
    const identity = { account: CLUSTER_ACCOUNT, arn: `arn:aws:iam::${CLUSTER_ACCOUNT}:user/admin` };
    assert.equal(accountMismatch({ ...expect, account: CLUSTER_ACCOUNT }, identity), undefined);
    assert.throws(
      () =>
        checkAccounts(
          [
            { expect, identity },
            { expect, identity },
          ],
          "nothing was changed",
        ),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.issues.length, 1);
        assert.equal(e.issues[0]?.path, "--client-profile");
        assert.match(
          e.issues[0]?.message ?? "",
          /^the ambient credentials \(for client ops\) belong to account 111111111111 .*not 222222222222, the account of client ops in the topology: pass --client-profile ops=PROFILE/,
        );
        return true;
      },
    );
  });
});
