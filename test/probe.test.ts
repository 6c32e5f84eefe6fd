/**
 * The client probe as a library (src/probe) against local fixtures only: moto_server for STS (AssumeRole
 * denials through a proxy, since moto does not evaluate trust policies), an injected resolver, an HTTPS API
 * server with its own CA on 127.10.0.5 implementing the two review endpoints, and misbehaving TCP listeners.
 * The topology's cluster VPC CIDR is 127.10.0.0/16, so loopback addresses count as private endpoint addresses;
 * "public" is simulated by classifying 127.200.0.0/16 as public. Every connection goes to 127.0.0.0/8.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ChainReport, LinkResult } from "../src/chain/types.js";
import {
  type ProbeCredentials,
  type ProbeOptions,
  probeFromClient,
  type ResolveTable,
  tableResolver,
} from "../src/probe/index.js";
import { exitCodeFor, renderJson, renderText } from "../src/report/index.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
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
  probeTopology,
  SESSION,
  type TopologyOptions,
} from "./helpers/probe-fixture.js";
import { startStsDenyProxy } from "./helpers/sts-deny-proxy.js";
import { startBlackhole, startSilentServer } from "./helpers/tcp-fixtures.js";
import { createTestCa } from "./helpers/tls.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const GOOD: ReviewConfig = {
  whoami: { username: EXPECTED_USERNAME, groups: ["dev-team", "system:authenticated"], arn: ACCESS_ROLE_ARN },
  access: [{ verb: "create", resource: "deployments", namespace: "dev", allowed: true }],
};

let moto: MotoServer;
let pki: ProbeCa;
let api: KubeReviewServer;
let env: IsolatedEnv;
let clientSession: ProbeCredentials;

before(async () => {
  moto = await startMoto();
  pki = probeCa();
  api = await startKubeReviewServer(pki.server, structuredClone(GOOD), { host: API_ADDRESS });
  env = isolatedAwsEnv();
  clientSession = await motoSession(moto.url);
});
after(async () => {
  await api?.close();
  await moto?.stop();
  env?.cleanup();
});

function link(report: ChainReport, id: string): LinkResult {
  const found = report.links.find((l) => l.id === id);
  assert.ok(found, `link ${id} in the report`);
  return found;
}

function statuses(report: ChainReport): Record<string, string> {
  return Object.fromEntries(report.links.map((l) => [l.id, l.status]));
}

async function probe(
  over: Partial<ProbeOptions> & { topo?: Partial<TopologyOptions>; table?: ResolveTable } = {},
): Promise<ChainReport> {
  const { topo, table, ...rest } = over;
  return probeFromClient({
    topology: probeTopology({ port: api.port, ca: pki.ca.base64, ...topo }),
    credentials: async () => clientSession,
    endpoints: { sts: moto.url, eks: moto.url },
    resolver: tableResolver(table ?? { [HOST]: [API_ADDRESS] }),
    env: env.env,
    sessionName: SESSION,
    timeoutMs: 2000,
    deadlineMs: 20_000,
    ...rest,
  });
}

function reset(config: Partial<ReviewConfig> = {}): void {
  api.config = { ...structuredClone(GOOD), ...config };
}

describe("the good path", () => {
  test("every step passes: identity, AssumeRole, DNS, TCP, TLS, token, whoami, permissions", async () => {
    reset();
    api.requests.length = 0;
    const report = await probeFromClient({
      topology: probeTopology({ port: api.port, ca: pki.ca.base64 }),
      credentials: async () => clientSession,
      endpoints: { sts: moto.url, eks: moto.url },
      resolver: tableResolver({ [HOST]: [API_ADDRESS] }),
      env: env.env,
      sessionName: SESSION,
      timeoutMs: 2000,
    });
    assert.equal(report.kind, "ChainReport");
    assert.equal(report.mode, "client");
    assert.deepEqual(
      report.links.map((l) => l.id),
      [
        "client.identity",
        "client.assume-role",
        "client.dns",
        "client.tcp",
        "client.tls",
        "client.token",
        "client.whoami",
        "client.permissions",
      ],
    );
    for (const l of report.links) assert.equal(l.status, "pass", `${l.id}: ${l.summary} ${l.fix ?? ""}`);
    assert.equal(report.verdict, "pass");
    assert.equal(exitCodeFor(report), 0);
    assert.match(
      link(report, "client.identity").summary,
      /EC2-EKS-CrossAccount-Role of account 222222222222/,
    );
    assert.match(link(report, "client.identity").summary, /instance profile of i-0123456789abcdef0/);
    assert.match(
      link(report, "client.dns").summary,
      /127\.10\.0\.5: private, in the cluster VPC 127\.10\.0\.0\/16/,
    );
    assert.match(
      link(report, "client.whoami").summary,
      new RegExp(EXPECTED_USERNAME.replace(/[/.]/g, "\\$&")),
    );
    assert.match(link(report, "client.permissions").summary, /create deployments\.apps in namespace dev/);
    assert.match(link(report, "client.permissions").summary, /denied as it must be: create rolebindings/);
    // The API server saw a verified token on every request, and the reviews the topology implies.
    assert.ok(api.requests.length >= 3);
    assert.ok(api.requests.every((r) => r.tokenOk));
    const reviews = api.requests.filter((r) => r.attributes).map((r) => r.attributes);
    assert.deepEqual(reviews.map((a) => `${a?.verb} ${a?.resource} ${a?.namespace ?? ""}`).sort(), [
      "create deployments dev",
      "create rolebindings dev",
    ]);
    // Every link names the client and access role; no token or secret reaches the report.
    const json = renderJson(report);
    assert.ok(
      report.links.every((l) => l.client === "ops" && l.accessRole === "EKS-CrossAccount-Access-Role"),
    );
    assert.doesNotMatch(json, /k8s-aws-v1\./);
    assert.ok(!json.includes(clientSession.secretAccessKey));
    assert.ok(!json.includes(clientSession.sessionToken ?? "-"));
  });

  test("the text report reads as a checklist", async () => {
    reset();
    const text = renderText(await probe());
    assert.match(text, /^xeks doctor --from-client \(client probe\): cluster prac-eks-abhi/);
    assert.match(text, /client ops\n/);
    assert.match(text, /✓ client\.identity +the client role/);
    assert.match(text, /✓ client\.permissions/);
    assert.match(text, /verdict: pass - 8 links: 8 pass/);
  });

  test("with an external id, AssumeRole sends it", async () => {
    reset();
    await moto.clearRecording();
    const report = await probe({ topo: { externalId: "ext-ops-123" } });
    assert.equal(link(report, "client.assume-role").status, "pass");
    assert.match(link(report, "client.assume-role").summary, /with the external id/);
    const call = moto.requests().find((r) => r.action === "AssumeRole");
    assert.equal(new URLSearchParams(call?.body).get("ExternalId"), "ext-ops-123");
    assert.equal(new URLSearchParams(call?.body).get("RoleArn"), ACCESS_ROLE_ARN);
  });
});

describe("client.identity", () => {
  test("long-term keys in the environment: says who and blames AWS_ACCESS_KEY_ID; later steps still run", async () => {
    reset();
    const report = await probe({
      credentials: async () => ({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x".repeat(40) }),
      env: { ...env.env, AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "x".repeat(40) },
    });
    const id = link(report, "client.identity");
    assert.equal(id.status, "fail");
    assert.match(id.summary, /IAM user moto of account 123456789012/);
    assert.match(id.summary, /AWS_ACCESS_KEY_ID in the environment overrides the instance profile/);
    assert.match(id.fix ?? "", /unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN/);
    assert.equal(
      link(report, "client.assume-role").status,
      "pass",
      "the working credentials still assume the role",
    );
    assert.equal(report.verdict, "fail");
    assert.equal(exitCodeFor(report), 1);
  });

  test("another role of the client account: the wrong instance profile", async () => {
    reset();
    const other = await motoSession(moto.url, "arn:aws:iam::222222222222:role/Some-Other-Role");
    const report = await probe({ credentials: async () => other });
    const id = link(report, "client.identity");
    assert.equal(id.status, "fail");
    assert.match(id.summary, /role Some-Other-Role of account 222222222222/);
    assert.match(id.summary, /wrong instance profile/);
    assert.match(
      id.fix ?? "",
      /replace-iam-instance-profile-association --iam-instance-profile Name=EC2-EKS-CrossAccount-Role/,
    );
  });

  test("AWS_PROFILE overriding the instance role is named", async () => {
    reset();
    const other = await motoSession(moto.url, "arn:aws:iam::333333333333:role/Dev");
    const report = await probe({ credentials: async () => other, env: { ...env.env, AWS_PROFILE: "dev" } });
    const id = link(report, "client.identity");
    assert.equal(id.status, "fail");
    assert.match(id.summary, /AWS_PROFILE=dev selects a profile/);
    assert.match(id.fix ?? "", /unset AWS_PROFILE/);
  });

  test("no credentials at all: AWS steps are not tried, the network path still is", async () => {
    reset();
    const report = await probe({
      credentials: async () => {
        throw Object.assign(new Error("Could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        });
      },
    });
    assert.deepEqual(statuses(report), {
      "client.identity": "fail",
      "client.assume-role": "unknown",
      "client.dns": "pass",
      "client.tcp": "pass",
      "client.tls": "pass",
      "client.token": "unknown",
      "client.whoami": "unknown",
      "client.permissions": "unknown",
    });
    assert.match(link(report, "client.identity").summary, /no AWS credentials/);
    assert.match(link(report, "client.identity").fix ?? "", /associate-iam-instance-profile/);
    assert.equal(link(report, "client.assume-role").summary, "not tried: client.identity failed");
    assert.equal(
      link(report, "client.token").summary,
      "not tried: client.identity failed (needed by client.assume-role)",
    );
    assert.equal(
      link(report, "client.whoami").summary,
      "not tried: client.identity failed (needed by client.token)",
    );
  });
});

describe("client.assume-role", () => {
  test("AccessDenied: names the trust and permission links and xeks doctor; dependents are not tried", async () => {
    reset();
    const proxy = await startStsDenyProxy(moto.url);
    try {
      const report = await probe({ endpoints: { sts: proxy.url, eks: moto.url } });
      assert.equal(proxy.denied, 1);
      const a = link(report, "client.assume-role");
      assert.equal(a.status, "fail");
      assert.match(a.summary, /AccessDenied on sts:AssumeRole/);
      assert.match(a.summary, /trust policy \(iam\.access-role-trust, account 111111111111\)/);
      assert.match(a.summary, /permission \(iam\.assume-permission, account 222222222222\)/);
      assert.match(
        a.fix ?? "",
        /trust policy of EKS-CrossAccount-Access-Role must allow arn:aws:iam::222222222222:role\/EC2-EKS-CrossAccount-Role/,
      );
      assert.match(a.summary, /permissions boundary/);
      assert.match(a.summary, /service control policy/);
      assert.match(a.fix ?? "", /xeks doctor xeks\.yaml/);
      assert.match(a.fix ?? "", /xeks plan xeks\.yaml/);
      assert.equal(link(report, "client.identity").status, "pass");
      assert.equal(link(report, "client.dns").status, "pass", "the endpoint comes from the topology");
      assert.equal(link(report, "client.token").summary, "not tried: client.assume-role failed");
      assert.equal(
        link(report, "client.whoami").summary,
        "not tried: client.assume-role failed (needed by client.token)",
      );
      assert.equal(link(report, "client.permissions").status, "unknown");
      assert.equal(exitCodeFor(report), 1);
    } finally {
      await proxy.close();
    }
  });

  test("an SCP denial is read from the message", async () => {
    reset();
    const proxy = await startStsDenyProxy(
      moto.url,
      "User: arn:aws:sts::222222222222:assumed-role/EC2-EKS-CrossAccount-Role/i-0 is not authorized to perform: sts:AssumeRole on resource: %ROLE% with an explicit deny in a service control policy",
    );
    try {
      const a = link(await probe({ endpoints: { sts: proxy.url, eks: moto.url } }), "client.assume-role");
      assert.equal(a.status, "fail");
      assert.match(a.summary, /^AccessDenied: a service control policy/);
    } finally {
      await proxy.close();
    }
  });

  test("a denial by the identity policy points at iam.assume-permission only", async () => {
    reset();
    const proxy = await startStsDenyProxy(
      moto.url,
      "User: x is not authorized to perform: sts:AssumeRole on resource: %ROLE% because no identity-based policy allows the sts:AssumeRole action",
    );
    try {
      const a = link(await probe({ endpoints: { sts: proxy.url, eks: moto.url } }), "client.assume-role");
      assert.match(a.summary, /iam\.assume-permission \(account 222222222222\)/);
      assert.doesNotMatch(a.summary, /iam\.access-role-trust/);
    } finally {
      await proxy.close();
    }
  });
});

describe("client.dns", () => {
  test("NXDOMAIN: explains the resolver and the VPC's enableDnsSupport", async () => {
    reset();
    const report = await probe({ table: { [HOST]: "nxdomain" } });
    const d = link(report, "client.dns");
    assert.equal(d.status, "fail");
    assert.match(d.summary, /NXDOMAIN/);
    assert.match(d.summary, /enableDnsSupport/);
    assert.match(d.fix ?? "", /modify-vpc-attribute --vpc-id vpc-0ddd3333eeee4444f --enable-dns-support/);
    assert.match(d.fix ?? "", /getent hosts probe\.eks\.test/);
    assert.equal(link(report, "client.tcp").summary, "not tried: client.dns failed");
    assert.equal(link(report, "client.tls").summary, "not tried: client.dns failed (needed by client.tcp)");
    assert.equal(link(report, "client.token").status, "pass", "the token does not need the network path");
    assert.equal(
      link(report, "client.whoami").summary,
      "not tried: client.dns failed (needed by client.tls)",
    );
    assert.equal(exitCodeFor(report), 1);
  });

  test("a public address: the public-and-private endpoint trap, with both fixes", async () => {
    reset();
    // 127.200.0.5 stands for a public address: classified public by the test, never connected to.
    const report = await probe({
      table: { [HOST]: ["127.200.0.5"] },
      classification: { publicCidrs: ["127.200.0.0/16"] },
    });
    const d = link(report, "client.dns");
    assert.equal(d.status, "fail");
    assert.match(
      d.summary,
      /resolves to public address 127\.200\.0\.5, not into the cluster VPC 127\.10\.0\.0\/16/,
    );
    assert.match(d.summary, /private hosted zone/);
    assert.match(d.fix ?? "", /endpointPublicAccess=false,endpointPrivateAccess=true/);
    assert.match(d.fix ?? "", /Route 53 Resolver/);
    assert.match(d.fix ?? "", /network\.endpoint/);
    assert.equal(link(report, "client.tcp").status, "unknown");
  });

  test("a private address outside the cluster VPC", async () => {
    reset();
    const report = await probe({
      table: { [HOST]: ["127.10.0.5"] },
      classification: { clusterCidrs: ["127.20.0.0/16"] },
    });
    const d = link(report, "client.dns");
    assert.equal(d.status, "fail");
    assert.match(d.summary, /not an address of the cluster VPC 127\.20\.0\.0\/16/);
  });

  test("SERVFAIL names the resolver", async () => {
    reset();
    const d = link(await probe({ table: { [HOST]: "servfail" } }), "client.dns");
    assert.equal(d.status, "fail");
    assert.match(
      d.summary,
      /^--resolve \(probe\.eks\.test -> servfail\) answered SERVFAIL for probe\.eks\.test/,
    );
  });

  test("a resolver that never answers times out at --timeout", async () => {
    reset();
    const report = await probe({ table: { [HOST]: "timeout" }, timeoutMs: 300 });
    const d = link(report, "client.dns");
    assert.equal(d.status, "fail");
    assert.match(d.summary, /did not answer within 300 ms/);
  });

  test("the system resolver is named with the nameservers of resolv.conf", async () => {
    const { systemResolver } = await import("../src/probe/index.js");
    const { writeFileSync } = await import("node:fs");
    const file = `${env.dir}/resolv.conf`;
    writeFileSync(file, "# test\nnameserver 10.0.0.2\nsearch ec2.internal\n");
    assert.equal(systemResolver(file).name, `the system resolver (nameserver 10.0.0.2 from ${file})`);
  });
});

describe("client.tcp", () => {
  test("refused: the address is not the endpoint", async () => {
    reset();
    const report = await probe({ table: { [HOST]: ["127.10.0.9"] } });
    const t = link(report, "client.tcp");
    assert.equal(t.status, "fail");
    assert.match(t.summary, /127\.10\.0\.9:\d+ refused/);
    assert.match(t.summary, /not the cluster endpoint/);
    assert.equal(link(report, "client.tls").summary, "not tried: client.tcp failed");
    assert.equal(exitCodeFor(report), 1);
  });

  test("timeout: names routes, security group and peering", async () => {
    reset();
    const hole = await startBlackhole("127.10.0.7");
    try {
      const report = await probe({
        topo: { port: hole.port },
        table: { [HOST]: ["127.10.0.7"] },
        timeoutMs: 300,
      });
      const t = link(report, "client.tcp");
      assert.equal(t.status, "fail");
      assert.match(t.summary, /no answer from 127\.10\.0\.7:\d+ within 300 ms/);
      for (const id of [
        "network.route.client-to-cluster",
        "network.route.cluster-to-client",
        "network.security-group",
        "network.peering",
      ]) {
        assert.match(t.summary, new RegExp(id.replace(/\./g, "\\.")));
        assert.match(t.fix ?? "", new RegExp(id.replace(/\./g, "\\.")));
      }
      assert.match(t.summary, /sg-0123456789abcdef0 must admit TCP \d+ from 172\.31\.0\.0\/16/);
    } finally {
      await hole.close();
    }
  });

  test("one of two endpoint addresses does not answer: a warning, the other one is used", async () => {
    reset();
    const report = await probe({ table: { [HOST]: [API_ADDRESS, "127.10.0.9"] } });
    const t = link(report, "client.tcp");
    assert.equal(t.status, "warn");
    assert.match(t.summary, /127\.10\.0\.5 accepts port \d+, but 127\.10\.0\.9:\d+ refused/);
    assert.equal(link(report, "client.tls").status, "pass");
    assert.equal(report.verdict, "pass");
  });
});

describe("client.tls", () => {
  test("a certificate from another CA: CA mismatch", async () => {
    reset();
    const other = createTestCa("another cluster");
    const impostor = await startKubeReviewServer(other.issue([HOST]), structuredClone(GOOD), {
      host: "127.10.0.6",
    });
    try {
      const report = await probe({ topo: { port: impostor.port }, table: { [HOST]: ["127.10.0.6"] } });
      const t = link(report, "client.tls");
      assert.equal(t.status, "fail");
      assert.match(t.summary, /^CA mismatch/);
      assert.match(t.summary, /issued by CN=another cluster/);
      assert.match(
        t.fix ?? "",
        /describe-cluster --name prac-eks-abhi --region ap-south-1 --query cluster\.certificateAuthority\.data/,
      );
      assert.equal(link(report, "client.whoami").summary, "not tried: client.tls failed");
      assert.equal(impostor.requests.length, 0, "no request (and no token) went to the impostor");
    } finally {
      await impostor.close();
    }
  });

  test("a certificate for other names: hostname mismatch", async () => {
    reset();
    const wrong = await startKubeReviewServer(pki.ca.issue(["other.eks.test"]), structuredClone(GOOD), {
      host: "127.10.0.8",
    });
    try {
      const t = link(
        await probe({ topo: { port: wrong.port }, table: { [HOST]: ["127.10.0.8"] } }),
        "client.tls",
      );
      assert.equal(t.status, "fail");
      assert.match(t.summary, /^hostname mismatch/);
      assert.match(t.summary, /DNS:other\.eks\.test, not probe\.eks\.test/);
    } finally {
      await wrong.close();
    }
  });

  test("a listener that never speaks TLS: handshake timeout", async () => {
    reset();
    const silent = await startSilentServer("127.10.0.4");
    try {
      const report = await probe({
        topo: { port: silent.port },
        table: { [HOST]: ["127.10.0.4"] },
        timeoutMs: 300,
      });
      assert.equal(link(report, "client.tcp").status, "pass");
      const t = link(report, "client.tls");
      assert.equal(t.status, "fail");
      assert.match(t.summary, /^TLS handshake timeout/);
      assert.match(t.fix ?? "", /openssl s_client -connect 127\.10\.0\.4:\d+ -servername probe\.eks\.test/);
    } finally {
      await silent.close();
    }
  });

  test("a CA that is not a certificate", async () => {
    reset();
    const t = link(
      await probe({ topo: { ca: Buffer.from("not a certificate").toString("base64") } }),
      "client.tls",
    );
    assert.equal(t.status, "fail");
    assert.match(t.summary, /not a PEM certificate/);
  });
});

describe("client.whoami and client.permissions", () => {
  test("401: points at the access entry, the authentication mode and the recreated-role and session-ARN traps", async () => {
    reset({ whoamiStatus: 401 });
    const report = await probe({});
    const w = link(report, "client.whoami");
    assert.equal(w.status, "fail");
    assert.match(w.summary, /^401 Unauthorized/);
    assert.match(w.summary, /eks\.access-entry/);
    assert.match(w.summary, /eks\.authentication-mode/);
    assert.match(w.summary, /session ARN/);
    assert.match(w.summary, /deleted and recreated/);
    assert.match(
      w.fix ?? "",
      /describe-access-entry --cluster-name prac-eks-abhi --region ap-south-1 --principal-arn arn:aws:iam::111111111111:role\/EKS-CrossAccount-Access-Role/,
    );
    assert.equal(link(report, "client.permissions").summary, "not tried: client.whoami failed");
    assert.equal(exitCodeFor(report), 1);
  });

  test("403 on the access review: points at the access policy", async () => {
    reset({ accessStatus: 403 });
    const report = await probe({});
    assert.equal(link(report, "client.whoami").status, "pass");
    const p = link(report, "client.permissions");
    assert.equal(p.status, "fail");
    assert.match(p.summary, /^403 Forbidden/);
    assert.match(p.summary, /eks\.access-policy/);
    assert.match(p.fix ?? "", /list-associated-access-policies/);
    assert.equal(exitCodeFor(report), 1);
  });

  test("allowed:false where the topology grants: the policy and its scope, with the associate command", async () => {
    reset({ access: [] });
    const report = await probe({});
    const p = link(report, "client.permissions");
    assert.equal(p.status, "fail");
    assert.match(
      p.summary,
      /create deployments\.apps in namespace dev is denied, though AmazonEKSEditPolicy \(scope: namespace dev\) grants it/,
    );
    assert.match(p.summary, /eks\.access-policy/);
    assert.match(
      p.fix ?? "",
      /associate-access-policy --cluster-name prac-eks-abhi --region ap-south-1 --principal-arn arn:aws:iam::111111111111:role\/EKS-CrossAccount-Access-Role --policy-arn arn:aws:eks::aws:cluster-access-policy\/AmazonEKSEditPolicy --access-scope 'type=namespace,namespaces=dev'/,
    );
  });

  test("allowed:true where it must be denied: over-granted is a warning", async () => {
    reset({ access: [{ verb: "*", resource: "*", allowed: true }] });
    const report = await probe({});
    const p = link(report, "client.permissions");
    assert.equal(p.status, "warn");
    assert.match(
      p.summary,
      /^over-granted: create rolebindings\.rbac\.authorization\.k8s\.io in namespace dev is allowed/,
    );
    assert.equal(report.verdict, "pass");
    assert.equal(exitCodeFor(report), 0);
  });

  test("a username other than the topology implies is a warning", async () => {
    reset({ whoami: { username: "someone-else", groups: ["system:authenticated"] } });
    const w = link(await probe({}), "client.whoami");
    assert.equal(w.status, "warn");
    assert.match(w.summary, /the username is someone-else, not arn:aws:sts::111111111111:assumed-role/);
    assert.match(w.summary, /the groups lack dev-team/);
  });

  test("cluster admin and view policies: probes chosen with src/access", async () => {
    reset({
      whoami: { username: EXPECTED_USERNAME, groups: ["system:authenticated"] },
      access: [
        { verb: "create", resource: "clusterrolebindings", allowed: true },
        { verb: "list", resource: "pods", namespace: "team-xeks-probe", allowed: true },
      ],
    });
    api.requests.length = 0;
    const report = await probe({
      topo: {
        kubernetesGroups: [],
        policies: ["AmazonEKSClusterAdminPolicy", { policy: "AmazonEKSViewPolicy", namespaces: ["team-*"] }],
      },
    });
    const p = link(report, "client.permissions");
    assert.equal(p.status, "pass", `${p.summary} ${p.fix ?? ""}`);
    const asked = api.requests
      .filter((r) => r.attributes)
      .map((r) => `${r.attributes?.verb} ${r.attributes?.resource}`);
    assert.deepEqual(asked.sort(), ["create clusterrolebindings", "list pods"]);
    assert.match(p.summary, /nothing|allowed as the topology grants/);
  });
});

describe("endpoint from DescribeCluster", () => {
  test("no endpoint in the topology and no such cluster: dns is unknown and says why", async () => {
    reset();
    const report = await probe({ topo: { endpoint: null } });
    const d = link(report, "client.dns");
    assert.equal(d.status, "unknown");
    assert.match(
      d.summary,
      /eks:DescribeCluster as EKS-CrossAccount-Access-Role failed: ResourceNotFoundException/,
    );
    assert.match(d.summary, /another account than the cluster/);
    // Not found is not a permission (src/aws/errors.ts): the name and region, not iam.describe-cluster.
    assert.match(d.fix ?? "", /check the cluster name and region/);
    assert.doesNotMatch(d.fix ?? "", /iam\.describe-cluster|needs eks:DescribeCluster/);
    assert.equal(link(report, "client.tls").status, "unknown");
    assert.equal(exitCodeFor(report), 1);
  });

  test("the endpoint and CA come from DescribeCluster as the access role", async () => {
    reset();
    const { CreateClusterCommand, EKSClient } = await import("@aws-sdk/client-eks");
    const asAccess = await motoSession(moto.url, ACCESS_ROLE_ARN, "setup");
    const eks = new EKSClient({ region: "ap-south-1", endpoint: moto.url, credentials: asAccess });
    try {
      await eks.send(
        new CreateClusterCommand({
          name: "prac-eks-abhi",
          roleArn: "arn:aws:iam::111111111111:role/eks",
          resourcesVpcConfig: {},
        }),
      );
    } finally {
      eks.destroy();
    }
    await moto.clearRecording();
    const report = await probe({
      topo: { endpoint: null },
      resolver: { name: "test resolver", lookup: async () => [API_ADDRESS] },
    });
    const d = link(report, "client.dns");
    assert.equal(d.status, "pass");
    assert.match(d.summary, /\.ap-south-1\.eks\.amazonaws\.com resolves to 127\.10\.0\.5/);
    assert.ok(
      (d.evidence ?? []).some((e) =>
        /eks:DescribeCluster as EKS-CrossAccount-Access-Role: endpoint/.test(e.fact),
      ),
    );
    assert.equal(moto.count("DescribeCluster"), 1);
    // The probe went on to the endpoint DescribeCluster gave (port 443 there: nothing listens on loopback).
    const t = link(report, "client.tcp");
    assert.ok((t.evidence ?? []).some((e) => e.fact === "TCP 127.10.0.5:443"));
  });
});

describe("bounded time", () => {
  test("everything hangs: the deadline turns the steps it did not reach into unknown", async () => {
    reset();
    const hang = () => new Promise<never>(() => {});
    const report = await probe({
      credentials: hang as () => Promise<ProbeCredentials>,
      table: { [HOST]: "timeout" },
      timeoutMs: 200,
      deadlineMs: 300,
    });
    const s = statuses(report);
    assert.equal(s["client.identity"], "fail");
    assert.match(link(report, "client.identity").summary, /no answer within 200 ms/);
    assert.equal(s["client.assume-role"], "unknown");
    assert.match(link(report, "client.dns").summary, /did not answer within|deadline of 300 ms passed/);
    assert.ok(Object.values(s).every((x) => x === "fail" || x === "unknown"));
    assert.equal(exitCodeFor(report), 1);
  });
});
