/**
 * The client probe (`xeks doctor --from-client`) and the client kinds of issue 13, at unit level: which caller
 * client.identity expects per kind (an IAM Identity Center session of the permission set for sso), how a caller
 * is named (an Identity Center session names its permission set), and client.dns for a client without a VPC
 * (publicCidrs): the public endpoint's addresses pass and are the ones to connect to, no private-DNS or peering
 * check applies, and a private-only endpoint fails with the public-access fix. No network: the resolver is a
 * table; one case asks moto's STS who an Identity Center session is.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { parsePrincipal } from "../src/domain/arn.js";
import { checkDns } from "../src/probe/dns.js";
import { checkIdentity, describePrincipal, expectedCaller } from "../src/probe/identity.js";
import { classifier, tableResolver } from "../src/probe/index.js";
import type { ProbeScope } from "../src/probe/types.js";
import type { Topology } from "../src/topology/types.js";
import { startMoto } from "./helpers/moto.js";
import { topologyOf } from "./helpers/topologies.js";

const SSO_SESSION =
  "arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_PlatformEngineers_0123456789abcdef/alice@example.com";

function kindsTopology(): Topology {
  return topologyOf({
    version: 1,
    cluster: {
      name: "prac-eks-abhi",
      account: "111111111111",
      region: "ap-south-1",
      endpointAccess: { private: true, public: true },
      publicAccessCidrs: ["203.0.113.0/24"],
      endpoint: "https://ABC.gr7.ap-south-1.eks.amazonaws.com",
      securityGroupId: "sg-0123456789abcdef0",
      vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
    },
    clients: [
      {
        name: "people",
        account: "333333333333",
        publicCidrs: ["203.0.113.0/24"],
        identity: { kind: "sso", permissionSet: "PlatformEngineers" },
      },
      {
        name: "deploy",
        account: "444444444444",
        publicCidrs: ["203.0.113.0/24"],
        identity: {
          kind: "oidc",
          provider: "token.actions.githubusercontent.com",
          subjects: ["repo:acme/x:ref:refs/heads/main"],
        },
      },
    ],
    access: [
      { role: "EKS-People-Access-Role", clients: ["people"], policies: ["AmazonEKSClusterAdminPolicy"] },
      { role: "EKS-Deploy-Access-Role", clients: ["deploy"], policies: ["AmazonEKSClusterAdminPolicy"] },
    ],
  });
}

function scopeFor(topology: Topology, client: string): ProbeScope {
  const c = topology.clients.find((x) => x.name === client);
  const access = topology.access.find((a) => a.clients.includes(client));
  assert.ok(c && access);
  return { topology, client: c, access, env: {}, file: "xeks.yaml", now: () => new Date() };
}

describe("client.identity per kind", () => {
  test("an Identity Center session is named by its permission set", () => {
    assert.equal(
      describePrincipal(parsePrincipal(SSO_SESSION), SSO_SESSION),
      "an IAM Identity Center session of permission set PlatformEngineers in account 333333333333 (role AWSReservedSSO_PlatformEngineers_0123456789abcdef, user alice@example.com)",
    );
    const plain = "arn:aws:sts::222222222222:assumed-role/EC2-Role/i-0123456789abcdef0";
    assert.equal(
      describePrincipal(parsePrincipal(plain), plain),
      "role EC2-Role of account 222222222222 (session i-0123456789abcdef0)",
    );
  });

  test("sso: a session of the permission set passes; another permission set, account or role does not", () => {
    const topology = kindsTopology();
    const expected = expectedCaller(scopeFor(topology, "people"));
    const p = parsePrincipal(SSO_SESSION);
    assert.ok(expected.matches(p));
    assert.ok(p?.kind === "assumed-role");
    assert.equal(
      expected.passSummary(p),
      "IAM Identity Center session of permission set PlatformEngineers in account 333333333333 (role AWSReservedSSO_PlatformEngineers_0123456789abcdef, user alice@example.com)",
    );
    assert.match(expected.arn, /assumed-role\/AWSReservedSSO_PlatformEngineers_<suffix>\/<user>$/);
    for (const other of [
      // A permission set whose name only starts with PlatformEngineers.
      "arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_PlatformEngineers_Admins_0123456789abcdef/bob",
      "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_PlatformEngineers_0123456789abcdef/alice",
      "arn:aws:sts::333333333333:assumed-role/PlatformEngineers/alice",
      "arn:aws:iam::333333333333:user/alice",
    ]) {
      assert.equal(expected.matches(parsePrincipal(other)), false, other);
    }
    assert.match(expected.source, /sso_session/);
  });

  test("oidc: a session of the web-identity role passes", () => {
    const topology = kindsTopology();
    const expected = expectedCaller(scopeFor(topology, "deploy"));
    const p = parsePrincipal(
      "arn:aws:sts::444444444444:assumed-role/xeks-prac-eks-abhi-deploy/GitHubActions",
    );
    assert.ok(expected.matches(p));
    assert.equal(expected.matches(parsePrincipal(SSO_SESSION)), false);
    assert.match(expected.source, /AWS_WEB_IDENTITY_TOKEN_FILE/);
  });
});

describe("client.identity with STS (moto)", () => {
  test("a session of the permission set's role: IAM Identity Center session of permission set NAME", async () => {
    const moto = await startMoto();
    try {
      const sts = new STSClient({
        region: "ap-south-1",
        endpoint: moto.url,
        credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x".repeat(40) },
      });
      const c = (
        await sts.send(
          new AssumeRoleCommand({
            RoleArn:
              "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformEngineers_0123456789abcdef",
            RoleSessionName: "alice@example.com",
          }),
        )
      ).Credentials;
      sts.destroy();
      const topology = kindsTopology();
      const out = await checkIdentity(scopeFor(topology, "people"), {
        credentials: async () => ({
          accessKeyId: c?.AccessKeyId ?? "",
          secretAccessKey: c?.SecretAccessKey ?? "",
          sessionToken: c?.SessionToken ?? "",
        }),
        region: "ap-south-1",
        endpoint: moto.url,
        timeoutMs: 5000,
      });
      assert.equal(out.finding.status, "pass", out.finding.summary);
      assert.match(out.finding.summary, /^IAM Identity Center session of permission set PlatformEngineers/);
      // The same session is not the pipeline's role: named by its permission set in the failure.
      const other = await checkIdentity(scopeFor(topology, "deploy"), {
        credentials: async () => ({
          accessKeyId: c?.AccessKeyId ?? "",
          secretAccessKey: c?.SecretAccessKey ?? "",
          sessionToken: c?.SessionToken ?? "",
        }),
        region: "ap-south-1",
        endpoint: moto.url,
        timeoutMs: 5000,
      });
      assert.equal(other.finding.status, "fail");
      assert.match(
        other.finding.summary,
        /an IAM Identity Center session of permission set PlatformEngineers/,
      );
      assert.doesNotMatch(other.finding.fix ?? "", /instance profile/);
    } finally {
      await moto.stop();
    }
  });
});

describe("client.dns for a client without a VPC (publicCidrs)", () => {
  const topology = kindsTopology();
  const scope = scopeFor(topology, "people");
  const host = "abc.gr7.ap-south-1.eks.amazonaws.com";
  const target = { endpoint: `https://${host}`, evidence: [] } as unknown as Parameters<typeof checkDns>[1];
  const classify = classifier("10.0.0.0/16");

  test("public addresses pass and are the addresses to connect to", async () => {
    const out = await checkDns(scope, target, {
      resolver: tableResolver({ [host]: ["3.6.10.20", "13.232.1.2"] }),
      classifier: classify,
      timeoutMs: 1000,
    });
    assert.equal(out.finding.status, "pass", out.finding.summary);
    assert.match(out.finding.summary, /public endpoint/);
    assert.match(out.finding.summary, /network\.public-access/);
    assert.deepEqual(out.value?.addresses, ["3.6.10.20", "13.232.1.2"]);
  });

  test("a private-only endpoint fails with the public-access fix, not a peering or DNS one", async () => {
    const out = await checkDns(scope, target, {
      resolver: tableResolver({ [host]: ["10.0.1.5"] }),
      classifier: classify,
      timeoutMs: 1000,
    });
    assert.equal(out.finding.status, "fail");
    assert.match(out.finding.fix ?? "", /endpointPublicAccess=true,publicAccessCidrs=203\.0\.113\.0\/24/);
    assert.doesNotMatch(`${out.finding.summary} ${out.finding.fix}`, /peering|Route 53|hosted zone|vpc-0/i);
  });

  test("a name that does not resolve: no VPC DNS commands in the fix", async () => {
    const out = await checkDns(scope, target, {
      resolver: tableResolver({ [host]: "nxdomain" }),
      classifier: classify,
      timeoutMs: 1000,
    });
    assert.equal(out.finding.status, "fail");
    assert.doesNotMatch(out.finding.fix ?? "", /describe-vpc-attribute|modify-vpc-attribute/);
    assert.match(out.finding.fix ?? "", /no VPC/);
  });
});
