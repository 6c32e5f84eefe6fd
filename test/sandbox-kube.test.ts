/**
 * The sandbox's Kubernetes stand-in (src/sandbox/kube.ts) on its own, fast: how a caller ARN maps through the
 * access entries (as EKS compares principals), and the answers that need no STS (401 for a missing, malformed or
 * unverifiable token as Kubernetes Status objects; /version without a token). The full path, a real token
 * replayed to moto and kubectl on top, is test/sandbox.test.ts.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, test } from "node:test";
import type { FixtureEntry } from "../src/sandbox/eks.js";
import { type KubeCluster, type KubeStandIn, mapCaller, startKubeStandIn } from "../src/sandbox/kube.js";
import { createTestCa } from "./helpers/tls.js";

const ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";

function entry(principalArn: string, username: string, policies: [string, string, string[]][]): FixtureEntry {
  const now = new Date();
  return {
    principalArn,
    type: "STANDARD",
    username,
    kubernetesGroups: ["team-a"],
    createdAt: now,
    modifiedAt: now,
    policies: new Map(
      policies.map(([arn, type, namespaces]) => [
        arn,
        { accessScope: { type, namespaces }, associatedAt: now, modifiedAt: now },
      ]),
    ),
  };
}

const cluster: KubeCluster = {
  name: "prac-eks-abhi",
  account: "111111111111",
  entries: new Map([
    [
      ROLE,
      entry(ROLE, "arn:aws:sts::111111111111:assumed-role/EKS-CrossAccount-Access-Role/{{SessionName}}", [
        ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "namespace", ["dev"]],
      ]),
    ],
  ]),
};

describe("mapCaller: the caller ARN through the access entries", () => {
  test("a session of the role maps to the role's entry; {{SessionName}} has @ as -", () => {
    const u = mapCaller(
      cluster,
      "arn:aws:sts::111111111111:assumed-role/EKS-CrossAccount-Access-Role/alice@laptop",
    );
    assert.ok(u);
    assert.equal(
      u.username,
      "arn:aws:sts::111111111111:assumed-role/EKS-CrossAccount-Access-Role/alice-laptop",
    );
    assert.deepEqual(u.groups, ["team-a", "system:authenticated"]);
    assert.equal(u.principalArn, ROLE);
    assert.equal(u.sessionName, "alice@laptop");
    assert.deepEqual(u.policies, [
      {
        arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        scope: { type: "namespace", namespaces: ["dev"] },
      },
    ]);
  });

  test("an entry with a role path matches the session (EKS drops the path), case ignored", () => {
    const withPath: KubeCluster = {
      ...cluster,
      entries: new Map([
        ["p", entry("arn:aws:iam::111111111111:role/team/eks-crossaccount-access-role", "u", [])],
      ]),
    };
    assert.ok(mapCaller(withPath, "arn:aws:sts::111111111111:assumed-role/EKS-CrossAccount-Access-Role/s"));
  });

  test("another role, another account or a user maps to nothing", () => {
    for (const arn of [
      "arn:aws:sts::111111111111:assumed-role/xeks-sandbox-admin/s",
      "arn:aws:sts::222222222222:assumed-role/EKS-CrossAccount-Access-Role/s",
      "arn:aws:iam::111111111111:user/EKS-CrossAccount-Access-Role",
    ])
      assert.equal(mapCaller(cluster, arn), undefined, arn);
  });
});

describe("the stand-in without STS", () => {
  let kube: KubeStandIn;
  let ca: string;
  before(async () => {
    const testCa = createTestCa();
    ca = testCa.cert;
    const cert = testCa.issue(["127.0.0.1"]);
    // STS on a closed port: every token that gets as far as the replay fails it.
    kube = await startKubeStandIn({
      cert: cert.cert,
      key: cert.key,
      stsUrl: "http://127.0.0.1:9",
      cluster: () => cluster,
      stsTimeoutMs: 2000,
    });
  });
  after(() => kube.stop());

  const get = (path: string, authorization?: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        new URL(path, kube.url),
        { ca, headers: authorization ? { authorization } : {}, timeout: 10_000 },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (d: string) => {
            text += d;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on("error", reject);
      req.end();
    });

  test("listens on 127.0.0.1 only", () => {
    assert.match(kube.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test("/version answers without a token", async () => {
    const r = await get("/version");
    assert.equal(r.status, 200);
    assert.equal(r.body.gitVersion, "v1.31.0-eks-xeks-sandbox");
  });

  for (const [what, header] of [
    ["no token", undefined],
    ["not a bearer token", "Basic dXNlcjpwYXNz"],
    ["not an EKS token", "Bearer abc"],
    ["an EKS prefix over garbage", "Bearer k8s-aws-v1.bm90LWEtdXJs"],
  ] as const) {
    test(`${what}: 401 Unauthorized, a Status object`, async () => {
      const r = await get("/api/v1/namespaces/default/pods", header);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    });
  }

  test("a well-formed token that STS does not answer for: 401", async () => {
    const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    const url =
      "https://sts.ap-south-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15" +
      "&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      `&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F${date.slice(0, 8)}%2Fap-south-1%2Fsts%2Faws4_request` +
      `&X-Amz-Date=${date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id` +
      `&X-Amz-Signature=${"a".repeat(64)}`;
    const token = `k8s-aws-v1.${Buffer.from(url).toString("base64url")}`;
    const r = await get("/api", `Bearer ${token}`);
    assert.equal(r.status, 401);
    assert.equal(r.body.reason, "Unauthorized");
  });
});
