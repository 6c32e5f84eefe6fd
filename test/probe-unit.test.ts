/** The client probe's pure parts: --resolve parsing, resolvers, address classes, probe choice, error reading. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { InputError } from "../src/errors.js";
import {
  Budget,
  caPem,
  choosePermissionProbes,
  classifier,
  credentialOverrides,
  denialSource,
  endpointHostPort,
  ProbeTimeout,
  parsePrincipal,
  parseResolveSpecs,
  runBounded,
  tableResolver,
} from "../src/probe/index.js";
import { proxyFor } from "../src/probe/tcp.js";
import { isolatedAwsEnv } from "./helpers/aws-env.js";
import { probeTopology } from "./helpers/probe-fixture.js";
import { createTestCa } from "./helpers/tls.js";

describe("--resolve", () => {
  test("HOST:ADDR, several addresses, curl's HOST:PORT:ADDR, [IPv6] and the failure outcomes", () => {
    assert.deepEqual(
      parseResolveSpecs([
        "A.eks.test:127.10.0.5",
        "b.eks.test:443:127.10.0.6,127.10.0.7",
        "c.eks.test:[::1]",
        "d.eks.test:NXDOMAIN",
        "e.eks.test:timeout",
        "a.eks.test:127.10.0.8",
      ]),
      {
        "a.eks.test": ["127.10.0.5", "127.10.0.8"],
        "b.eks.test": ["127.10.0.6", "127.10.0.7"],
        "c.eks.test": ["::1"],
        "d.eks.test": "nxdomain",
        "e.eks.test": "timeout",
      },
    );
  });

  test("bad values are input errors naming the flag", () => {
    for (const bad of [
      "nocolon",
      ":127.0.0.1",
      "h.test:",
      "h.test:1.2.3",
      "h.test:127.0.0.1,nope",
      "127.0.0.1:127.0.0.2",
    ]) {
      assert.throws(
        () => parseResolveSpecs([bad]),
        (err: unknown) => err instanceof InputError && err.issues[0]?.path === "--resolve",
        bad,
      );
    }
  });

  test("the table resolver answers, fails with the right codes, hangs until aborted, and falls back", async () => {
    const fallback = { name: "fallback", lookup: async () => ["127.0.0.9"] };
    const r = tableResolver(
      {
        "a.test": ["127.0.0.1"],
        "n.test": "nxdomain",
        "d.test": "nodata",
        "s.test": "servfail",
        "t.test": "timeout",
      },
      fallback,
    );
    const signal = new AbortController().signal;
    assert.deepEqual(await r.lookup("A.test.", signal), ["127.0.0.1"]);
    assert.deepEqual(await r.lookup("other.test", signal), ["127.0.0.9"]);
    for (const [host, code] of [
      ["n.test", "ENOTFOUND"],
      ["d.test", "ENODATA"],
      ["s.test", "ESERVFAIL"],
    ]) {
      await assert.rejects(r.lookup(host as string, signal), (e: { code?: string }) => e.code === code);
    }
    await assert.rejects(
      runBounded(50, (s) => r.lookup("t.test", s)),
      (e: unknown) => e instanceof ProbeTimeout,
    );
    await assert.rejects(
      tableResolver({}).lookup("x.test", signal),
      (e: { code?: string }) => e.code === "ENOTFOUND",
    );
  });
});

describe("the system resolver", () => {
  test("resolves through getaddrinfo (/etc/hosts: localhost, no network)", async () => {
    const { systemResolver } = await import("../src/probe/index.js");
    const found = await systemResolver().lookup("localhost", new AbortController().signal);
    assert.ok(
      found.some((a) => a === "127.0.0.1" || a === "::1"),
      found.join(", "),
    );
  });
});

describe("address classes", () => {
  test("cluster CIDR first, then test-given public ranges, then the built-in ranges", () => {
    const c = classifier("10.0.0.0/16");
    assert.equal(c.classify("10.0.3.4"), "cluster");
    assert.equal(c.classify("10.1.0.1"), "private");
    assert.equal(c.classify("172.20.0.1"), "private");
    assert.equal(c.classify("100.64.1.1"), "private");
    assert.equal(c.classify("3.6.1.1"), "public");
    assert.equal(c.classify("127.0.0.1"), "special");
    assert.equal(c.classify("169.254.1.1"), "special");
    assert.equal(c.classify("::1"), "ipv6");
    const t = classifier("127.10.0.0/16", { publicCidrs: ["127.200.0.0/16"] });
    assert.equal(t.classify("127.10.0.5"), "cluster");
    assert.equal(t.classify("127.200.0.5"), "public");
    assert.equal(t.classify("127.0.0.1"), "special");
  });

  test("endpoint host and port", () => {
    assert.deepEqual(endpointHostPort("https://ABC.gr7.ap-south-1.eks.amazonaws.com"), {
      hostname: "abc.gr7.ap-south-1.eks.amazonaws.com",
      port: 443,
    });
    assert.deepEqual(endpointHostPort("https://probe.eks.test:8443/"), {
      hostname: "probe.eks.test",
      port: 8443,
    });
    assert.equal(endpointHostPort("not a url"), undefined);
  });
});

describe("permission probes (chosen with src/access)", () => {
  const probesFor = (policies: unknown[]) => {
    const access = probeTopology({ port: 443, policies }).access[0];
    assert.ok(access);
    return choosePermissionProbes(access).probes.map(
      (p) => `${p.expect} ${p.request.verb} ${p.request.resource} ${p.request.namespace ?? "-"}`,
    );
  };

  test("one granted request per association inside its scope, and one the policies must not grant", () => {
    assert.deepEqual(probesFor([{ policy: "AmazonEKSViewPolicy", namespaces: ["dev"] }]), [
      "allowed list pods dev",
      "denied get secrets dev",
    ]);
    assert.deepEqual(probesFor([{ policy: "AmazonEKSEditPolicy", namespaces: ["team-*"] }]), [
      "allowed create deployments team-xeks-probe",
      "denied create rolebindings team-xeks-probe",
    ]);
    assert.deepEqual(probesFor([{ policy: "AmazonEKSAdminPolicy", namespaces: ["dev"] }]), [
      "allowed create rolebindings dev",
      "denied list pods kube-system",
    ]);
    assert.deepEqual(probesFor(["AmazonEKSAdminViewPolicy"]), [
      "allowed get secrets default",
      "denied create rolebindings default",
    ]);
    assert.deepEqual(probesFor(["AmazonEKSClusterAdminPolicy"]), ["allowed create clusterrolebindings -"]);
  });

  test("a namespace scope that covers kube-system picks another outside namespace", () => {
    assert.deepEqual(probesFor([{ policy: "AmazonEKSAdminPolicy", namespaces: ["kube-*", "dev"] }]), [
      "allowed create rolebindings kube-xeks-probe",
      "denied list pods xeks-probe-outside",
    ]);
  });
});

describe("reading AWS answers", () => {
  test("which policy an AssumeRole AccessDenied names", () => {
    assert.equal(denialSource("... with an explicit deny in a service control policy"), "scp");
    assert.equal(denialSource("... with an explicit deny in a permissions boundary"), "boundary");
    assert.equal(
      denialSource("... because no identity-based policy allows the sts:AssumeRole action"),
      "identity",
    );
    assert.equal(
      denialSource("... because no resource-based policy allows the sts:AssumeRole action"),
      "trust",
    );
    assert.equal(
      denialSource("User: x is not authorized to perform: sts:AssumeRole on resource: y"),
      undefined,
    );
  });

  test("caller ARNs", () => {
    assert.deepEqual(
      parsePrincipal("arn:aws:sts::222222222222:assumed-role/EC2-EKS-CrossAccount-Role/i-0abc"),
      {
        kind: "assumed-role",
        partition: "aws",
        account: "222222222222",
        role: "EC2-EKS-CrossAccount-Role",
        session: "i-0abc",
      },
    );
    assert.equal(parsePrincipal("arn:aws:iam::222222222222:user/ops/alice")?.kind, "user");
    assert.equal(parsePrincipal("arn:aws:iam::222222222222:root")?.kind, "root");
    assert.equal(parsePrincipal("nonsense"), undefined);
  });

  test("what overrides the instance profile", () => {
    const iso = isolatedAwsEnv();
    try {
      assert.deepEqual(credentialOverrides(iso.env), []);
      writeFileSync(
        iso.credentialsFile,
        "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n",
      );
      assert.match(
        credentialOverrides(iso.env)[0]?.cause ?? "",
        /\[default\] profile of .* holds access keys/,
      );
      const causes = credentialOverrides({ ...iso.env, AWS_ACCESS_KEY_ID: "AKIA", AWS_PROFILE: "dev" }).map(
        (o) => o.cause,
      );
      assert.equal(causes.length, 2);
      assert.match(causes[0] ?? "", /AWS_ACCESS_KEY_ID/);
      assert.match(causes[1] ?? "", /AWS_PROFILE=dev/);
    } finally {
      iso.cleanup();
    }
  });

  test("HTTPS_PROXY unless NO_PROXY covers the endpoint", () => {
    const host = "abc.gr7.ap-south-1.eks.amazonaws.com";
    assert.equal(proxyFor({}, host), undefined);
    assert.equal(proxyFor({ HTTPS_PROXY: "http://proxy:3128" }, host), "http://proxy:3128");
    assert.equal(proxyFor({ https_proxy: "http://p", NO_PROXY: ".eks.amazonaws.com" }, host), undefined);
    assert.equal(
      proxyFor({ HTTPS_PROXY: "http://p", no_proxy: "eks.amazonaws.com,10.0.0.0/8" }, host),
      undefined,
    );
    assert.equal(proxyFor({ HTTPS_PROXY: "http://p", NO_PROXY: "example.com" }, host), "http://p");
  });

  test("the CA as DescribeCluster returns it (base64 of PEM) or as PEM", () => {
    const ca = createTestCa();
    assert.equal(caPem(ca.base64), ca.cert);
    assert.equal(caPem(ca.cert), ca.cert);
    assert.equal(caPem(Buffer.from("junk").toString("base64")), undefined);
  });
});

describe("time limits", () => {
  test("runBounded aborts the step's signal and rejects with ProbeTimeout", async () => {
    let seen: AbortSignal | undefined;
    await assert.rejects(
      runBounded(20, (signal) => {
        seen = signal;
        return new Promise(() => {});
      }),
      (e: unknown) => e instanceof ProbeTimeout && e.ms === 20,
    );
    assert.equal(seen?.aborted, true);
    assert.equal(await runBounded(1000, async () => 7), 7);
  });

  test("the budget cuts a step to what is left of the deadline", () => {
    let now = 0;
    const b = new Budget(500, 1200, () => now);
    assert.equal(b.forStep(), 500);
    now = 1000;
    assert.equal(b.forStep(), 200);
    now = 1300;
    assert.equal(b.forStep(), 0);
    assert.equal(b.expired(), true);
  });
});
