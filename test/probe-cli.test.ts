/**
 * `bin/xeks doctor --from-client` end to end (run `npm run build` first): exit codes, the text checklist and
 * the JSON report, with the instance's credentials from a fake IMDS, STS from moto_server, names resolved by
 * `--resolve` and the API server on 127.10.0.5. No test waits for more than a short --timeout.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { CLIENT_LINK_IDS } from "../src/chain/types.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { type FakeImds, startFakeImds } from "./helpers/imds.js";
import {
  type KubeReviewServer,
  type ReviewConfig,
  startKubeReviewServer,
} from "./helpers/kube-review-server.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";
import {
  ACCESS_ROLE_ARN,
  API_ADDRESS,
  EXPECTED_USERNAME,
  HOST,
  motoSession,
  type ProbeCa,
  probeCa,
  probeTopologyInput,
  SESSION,
} from "./helpers/probe-fixture.js";
import { xeksAsync } from "./helpers/spawn.js";
import { startBlackhole } from "./helpers/tcp-fixtures.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const GOOD: ReviewConfig = {
  whoami: { username: EXPECTED_USERNAME, groups: ["dev-team", "system:authenticated"], arn: ACCESS_ROLE_ARN },
  access: [{ verb: "create", resource: "deployments", namespace: "dev", allowed: true }],
};

let moto: MotoServer;
let imds: FakeImds;
let pki: ProbeCa;
let api: KubeReviewServer;
let iso: IsolatedEnv;
let file: string;

before(async () => {
  moto = await startMoto();
  pki = probeCa();
  api = await startKubeReviewServer(pki.server, structuredClone(GOOD), { host: API_ADDRESS });
  const session = await motoSession(moto.url);
  imds = await startFakeImds({
    roleName: "EC2-EKS-CrossAccount-Role",
    credentials: { ...session, accessKeyId: session.accessKeyId },
  });
  iso = isolatedAwsEnv({
    vars: {
      AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      AWS_ENDPOINT_URL_STS: moto.url,
      AWS_ENDPOINT_URL_EKS: moto.url,
    },
  });
  file = join(iso.dir, "xeks.yaml");
  writeFileSync(file, stringify(probeTopologyInput({ port: api.port, ca: pki.ca.base64 })));
});
after(async () => {
  await api?.close();
  await imds?.close();
  await moto?.stop();
  iso?.cleanup();
});

function doctor(extra: string[], opts: { resolve?: string } = {}) {
  return xeksAsync(
    [
      "doctor",
      "--from-client",
      file,
      "--resolve",
      opts.resolve ?? `${HOST}:${API_ADDRESS}`,
      "--session-name",
      SESSION,
      "--timeout",
      "2000",
      ...extra,
    ],
    { env: iso.env, cwd: iso.dir, timeoutMs: 60_000 },
  );
}

interface JsonLink {
  id: string;
  subject: string;
  status: string;
  summary: string;
  fix?: string;
  client?: string;
  accessRole?: string;
}

describe("xeks doctor --from-client", () => {
  test("the good path: exit 0, a checklist of the eight client links", async () => {
    api.config = structuredClone(GOOD);
    const r = await doctor([]);
    assert.equal(r.stderr, "", "nothing on stderr (no NodeVersionSupportWarning)");
    assert.equal(r.status, 0, r.stdout);
    assert.match(
      r.stdout,
      /^xeks doctor --from-client \(client probe\): cluster prac-eks-abhi \(account 111111111111, ap-south-1\)/,
    );
    for (const id of CLIENT_LINK_IDS) assert.match(r.stdout, new RegExp(`✓ ${id.replace(".", "\\.")} `));
    assert.match(r.stdout, /through the instance profile of i-0123456789abcdef0/);
    assert.match(r.stdout, /verdict: pass - 8 links: 8 pass\. The chain holds\./);
    assert.match(r.stdout, /Probed from .* in \d+\.\d s/);
    assert.ok(imds.requests.some((q) => q.path.startsWith("/latest/meta-data/iam/security-credentials/")));
  });

  test("--output json: one ChainReport document, mode client, as contract.md", async () => {
    api.config = structuredClone(GOOD);
    const r = await doctor(["--output", "json"]);
    assert.equal(r.status, 0, r.stdout);
    const report = JSON.parse(r.stdout) as {
      kind: string;
      version: number;
      mode: string;
      verdict: string;
      links: JsonLink[];
    };
    assert.equal(report.kind, "ChainReport");
    assert.equal(report.version, 1);
    assert.equal(report.mode, "client");
    assert.equal(report.verdict, "pass");
    assert.deepEqual(
      report.links.map((l) => l.id),
      [...CLIENT_LINK_IDS],
    );
    for (const l of report.links) {
      assert.deepEqual(Object.keys(l).slice(0, 4), ["id", "subject", "status", "summary"]);
      assert.equal(l.client, "ops");
      assert.equal(l.accessRole, "EKS-CrossAccount-Access-Role");
    }
    assert.equal(report.links[0]?.subject, "client ops");
    assert.equal(report.links[1]?.subject, "client ops -> access role EKS-CrossAccount-Access-Role");
    assert.doesNotMatch(r.stdout, /k8s-aws-v1\./, "never the token");
  });

  test("NXDOMAIN via --resolve HOST:nxdomain: exit 1, the fix under the link", async () => {
    const r = await doctor([], { resolve: `${HOST}:nxdomain` });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /✗ client\.dns +probe\.eks\.test does not exist for --resolve .* \(NXDOMAIN\)/);
    assert.match(
      r.stdout,
      /\n +fix: on the instance: cat \/etc\/resolv\.conf; getent hosts probe\.eks\.test/,
    );
    assert.match(r.stdout, /\? client\.tcp +not tried: client\.dns failed/);
    assert.match(r.stdout, /verdict: fail/);
  });

  test("a TCP timeout within --timeout: exit 1, client.tcp names the network links", async () => {
    const hole = await startBlackhole("127.10.0.7");
    const other = join(iso.dir, "blackhole.yaml");
    writeFileSync(other, stringify(probeTopologyInput({ port: hole.port, ca: pki.ca.base64 })));
    try {
      const r = await xeksAsync(
        [
          "doctor",
          "--from-client",
          other,
          "--resolve",
          `${HOST}:127.10.0.7`,
          "--timeout",
          "300",
          "-o",
          "json",
        ],
        { env: iso.env, cwd: iso.dir, timeoutMs: 60_000 },
      );
      assert.equal(r.status, 1, r.stderr);
      const links = (JSON.parse(r.stdout) as { links: JsonLink[] }).links;
      const tcp = links.find((l) => l.id === "client.tcp");
      assert.equal(tcp?.status, "fail");
      assert.match(tcp?.summary ?? "", /no answer from 127\.10\.0\.7:\d+ within 300 ms/);
      assert.match(tcp?.fix ?? "", /network\.security-group/);
    } finally {
      await hole.close();
    }
  });

  test("a resolver that never answers: exit 1 after --timeout, the resolver named", async () => {
    const r = await doctor(["--timeout", "300", "--deadline", "5000"], { resolve: `${HOST}:timeout` });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "");
    assert.match(
      r.stdout,
      /✗ client\.dns +--resolve \(probe\.eks\.test -> timeout\) did not answer within 300 ms/,
    );
  });

  test("401 from the API server: exit 1, client.whoami points at the access entry", async () => {
    api.config = { ...structuredClone(GOOD), whoamiStatus: 401 };
    const r = await doctor(["-o", "json"]);
    assert.equal(r.status, 1);
    const links = (JSON.parse(r.stdout) as { links: JsonLink[] }).links;
    const w = links.find((l) => l.id === "client.whoami");
    assert.equal(w?.status, "fail");
    assert.match(w?.summary ?? "", /eks\.access-entry/);
    assert.equal(
      links.find((l) => l.id === "client.permissions")?.summary,
      "not tried: client.whoami failed",
    );
  });

  test("403 on the access review: exit 1, client.permissions points at the access policy", async () => {
    api.config = { ...structuredClone(GOOD), accessStatus: 403 };
    const r = await doctor([]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /✗ client\.permissions +403 Forbidden/);
    assert.match(r.stdout, /eks\.access-policy/);
  });

  test("invalid input exits 2 with one message", async () => {
    for (const [args, pattern] of [
      [["--resolve", "nocolon"], /bad --resolve "nocolon"/],
      [["--resolve", `${HOST}:not-an-ip`], /not-an-ip is not an IP address/],
      [["--timeout", "soon"], /bad --timeout "soon"/],
      [["--client", "nobody"], /no client nobody/],
      [["--role-arn", "Nope"], /client ops has no access role Nope/],
      [["--cluster-profile", "a"], /do not apply with --from-client/],
    ] as const) {
      const r = await xeksAsync(["doctor", "--from-client", file, ...args], { env: iso.env, cwd: iso.dir });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(r.stdout, "");
    }
    const stray = await xeksAsync(["doctor", file, "--client", "ops"], { env: iso.env, cwd: iso.dir });
    assert.equal(stray.status, 2);
    assert.match(stray.stderr, /--client only with --from-client/);
    const strayTimeout = await xeksAsync(["doctor", file, "--timeout", "100"], {
      env: iso.env,
      cwd: iso.dir,
    });
    assert.equal(strayTimeout.status, 2);
    assert.match(strayTimeout.stderr, /--timeout only with --from-client/);
    const missing = await xeksAsync(["doctor", "--from-client", join(iso.dir, "nope.yaml")], {
      env: iso.env,
    });
    assert.equal(missing.status, 2);
  });
});
