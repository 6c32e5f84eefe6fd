/**
 * Client kinds in the topology file (issue 13, docs/clients.md): each kind normalizes to the principal the
 * access roles trust; the cross-field rules (role or identity, vpc or publicCidrs, reserved roles, OIDC
 * subjects) refuse with the field path and what would be valid.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { InputError } from "../src/errors.js";
import { parseTopology } from "../src/topology/load.js";

type Doc = Record<string, unknown> & { clients: Record<string, unknown>[] };

function base(clients: Record<string, unknown>[]): Doc {
  return {
    version: 1,
    cluster: {
      name: "prod",
      account: "111111111111",
      region: "eu-west-1",
      securityGroupId: "sg-0123456789abcdef0",
      vpc: { id: "vpc-0aaa1111bbbb2222c", cidr: "10.0.0.0/16", routeTables: ["rtb-0aaa1111bbbb2222c"] },
    },
    clients,
    access: [
      {
        role: "eks-admin",
        clients: clients.map((c) => c.name as string),
        policies: ["AmazonEKSClusterAdminPolicy"],
      },
    ],
  };
}

const ACCOUNT = "222222222222";
const VPC = { id: "vpc-0ddd3333eeee4444f", cidr: "172.31.0.0/16", routeTables: ["rtb-0ddd3333eeee4444f"] };
const SUBJECT = "repo:acme/deploy:ref:refs/heads/main";

function load(doc: Doc) {
  return parseTopology(stringify(doc), "kinds.yaml");
}

/** The issues of a refused document, as `path: message` lines. */
function refused(doc: Doc): string[] {
  try {
    load(doc);
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail("the document was accepted");
}

test("sso: no role; the principal is the account root with the permission set's two ArnLike patterns", () => {
  const t = load(
    base([
      {
        name: "people",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        identity: { kind: "sso", permissionSet: "PlatformEngineers" },
      },
    ]),
  );
  const c = t.clients[0];
  assert.equal(c?.role, undefined);
  assert.equal(c?.vpc, undefined);
  assert.deepEqual(c?.publicCidrs, ["203.0.113.0/24"]);
  assert.deepEqual(c?.identity, { kind: "sso", permissionSet: "PlatformEngineers", policies: [] });
  assert.deepEqual(c?.principal.arnPatterns, [
    "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformEngineers_*",
    "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PlatformEngineers_*",
  ]);
  assert.equal(c?.principal.account, ACCOUNT);
  assert.equal(c?.principal.arn, undefined);
  assert.deepEqual(c?.principal.actions, ["sts:AssumeRole"]);
});

test("oidc: a created web-identity role (default name xeks-CLUSTER-CLIENT), provider ARN, default audience", () => {
  const t = load(
    base([
      {
        name: "ci",
        account: ACCOUNT,
        publicCidrs: ["198.51.100.0/24"],
        identity: { kind: "oidc", provider: "token.actions.githubusercontent.com", subjects: [SUBJECT] },
      },
    ]),
  );
  const c = t.clients[0];
  assert.equal(c?.role?.name, "xeks-prod-ci");
  assert.equal(c?.role?.existing, false);
  assert.equal(c?.role?.instanceProfile, undefined);
  assert.deepEqual(c?.identity, {
    kind: "oidc",
    provider: "token.actions.githubusercontent.com",
    providerArn: "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com",
    audience: "sts.amazonaws.com",
    subjects: [SUBJECT],
  });
  assert.equal(c?.principal.arn, "arn:aws:iam::222222222222:role/xeks-prod-ci");
});

test("pod-identity: a created role named as given; the principal tags its session", () => {
  const t = load(
    base([
      {
        name: "argo",
        account: ACCOUNT,
        vpc: VPC,
        identity: {
          kind: "pod-identity",
          cluster: "tools",
          namespace: "argocd",
          serviceAccount: "argocd-application-controller",
          role: "argocd-manager",
        },
      },
    ]),
  );
  const c = t.clients[0];
  assert.equal(c?.role?.arn, "arn:aws:iam::222222222222:role/argocd-manager");
  assert.deepEqual(c?.principal.actions, ["sts:AssumeRole", "sts:TagSession"]);
  assert.equal(
    c?.identity.kind === "pod-identity" && c.identity.clusterArn,
    "arn:aws:eks:eu-west-1:222222222222:cluster/tools",
  );
});

test("role: an existing role by ARN (with its path); the legacy role key is kind instance", () => {
  const t = load(
    base([
      {
        name: "batch",
        account: ACCOUNT,
        vpc: VPC,
        identity: { kind: "role", arn: "arn:aws:iam::222222222222:role/teams/batch-runner" },
      },
      {
        name: "ops",
        account: "333333333333",
        vpc: { ...VPC, id: "vpc-0ddd3333eeee4444e", cidr: "172.30.0.0/16" },
        role: "EC2-EKS-CrossAccount-Role",
      },
    ]),
  );
  const [batch, ops] = t.clients;
  assert.deepEqual(
    [batch?.role?.name, batch?.role?.path, batch?.role?.existing, batch?.identity.kind],
    ["batch-runner", "/teams/", true, "role"],
  );
  assert.equal(batch?.principal.arn, "arn:aws:iam::222222222222:role/teams/batch-runner");
  assert.deepEqual(
    [ops?.identity.kind, ops?.role?.instanceProfile, ops?.principal.example.session],
    ["instance", "EC2-EKS-CrossAccount-Role", "i-0123456789abcdef0"],
  );
});

test("a role under /aws-reserved/ is refused, with the permission set to use as kind sso", () => {
  const issues = refused(
    base([
      {
        name: "people",
        account: ACCOUNT,
        vpc: VPC,
        role: {
          name: "AWSReservedSSO_PlatformEngineers_0a1b2c3d4e5f6a7b",
          existing: true,
          path: "/aws-reserved/sso.amazonaws.com/",
        },
      },
    ]),
  );
  assert.equal(issues.length, 1, issues.join("\n"));
  assert.match(issues[0] ?? "", /^clients\[0\]\.role\.path: .*kind: sso, permissionSet: PlatformEngineers/);
  const byArn = refused(
    base([
      {
        name: "people",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        identity: {
          kind: "role",
          arn: "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admins_0a1b2c3d4e5f6a7b",
        },
      },
    ]),
  );
  assert.match(byArn.join("\n"), /clients\[0\]\.identity\.arn: .*permissionSet: Admins/);
});

test("OIDC subjects: wildcards only after repo:OWNER/REPO: (GitHub), none for other providers", () => {
  const bad = ["*", "repo:*", "repo:acme/*", "repo:acme/de*:ref:refs/heads/main", "repo:acme/*:pull_request"];
  const issues = refused(
    base([
      {
        name: "ci",
        account: ACCOUNT,
        publicCidrs: ["198.51.100.0/24"],
        identity: {
          kind: "oidc",
          provider: "token.actions.githubusercontent.com",
          subjects: [...bad, "repo:acme/deploy:ref:refs/heads/*", "repo:acme/deploy:environment:prod"],
        },
      },
    ]),
  );
  assert.deepEqual(
    issues.map((i) => i.split(":")[0]),
    bad.map((_, j) => `clients[0].identity.subjects[${j}]`),
  );
  assert.match(issues[0] ?? "", /only after repo:OWNER\/REPO:/);
  const other = refused(
    base([
      {
        name: "ci",
        account: ACCOUNT,
        publicCidrs: ["198.51.100.0/24"],
        identity: { kind: "oidc", provider: "gitlab.example.com", subjects: ["project_path:acme/*"] },
      },
    ]),
  );
  assert.match(
    other.join("\n"),
    /subjects\[0\]: a wildcard in a subject is refused for provider gitlab\.example\.com/,
  );
});

test("the shape rules of a client name the field and what would be valid", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { name: "x", account: ACCOUNT, vpc: VPC, role: "r", identity: { kind: "sso", permissionSet: "P" } },
      /^clients\[0\]\.role: give either role .* or identity/,
    ],
    [{ name: "x", account: ACCOUNT, vpc: VPC }, /^clients\[0\]\.identity: say who the client is/],
    [
      { name: "x", account: ACCOUNT, role: "r" },
      /^clients\[0\]\.vpc: give the client's vpc .* or its publicCidrs/,
    ],
    [
      { name: "x", account: ACCOUNT, vpc: VPC, publicCidrs: ["203.0.113.0/24"], role: "r" },
      /^clients\[0\]\.publicCidrs: give either vpc .* or publicCidrs/,
    ],
    [
      {
        name: "x",
        account: ACCOUNT,
        vpc: VPC,
        instance: { subnetId: "subnet-0123456789abcdef0" },
        identity: { kind: "sso", permissionSet: "P" },
      },
      /^clients\[0\]\.instance: a client instance runs with an EC2 role: kind sso has none/,
    ],
    [
      {
        name: "x",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        peering: { id: "pcx-0123456789abcdef0" },
        identity: { kind: "sso", permissionSet: "P" },
      },
      /^clients\[0\]\.peering: a peering connection needs the client's vpc/,
    ],
    [
      {
        name: "x",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        identity: { kind: "role", arn: "arn:aws:iam::999999999999:role/elsewhere" },
      },
      /^clients\[0\]\.identity\.arn: the role is in account 999999999999, the client in 222222222222/,
    ],
    [
      {
        name: "x",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        identity: { kind: "sso", permissionSet: "a-name-longer-than-thirty-two-chars" },
      },
      /^clients\[0\]\.identity\.permissionSet: expected a permission set name/,
    ],
    [
      {
        name: "x",
        account: ACCOUNT,
        publicCidrs: ["203.0.113.0/24"],
        identity: { kind: "people", permissionSet: "P" },
      },
      /^clients\[0\]\.identity\.kind: /,
    ],
  ];
  for (const [client, expected] of cases) {
    const issues = refused(base([client]));
    assert.ok(
      issues.some((i) => expected.test(i)),
      `${JSON.stringify(client)}\nexpected ${expected}\ngot:\n${issues.join("\n")}`,
    );
  }
});

test("a reserved role by name (any path, any case) or a service-linked role is refused; so is an access role named so", () => {
  const variants: [Record<string, unknown>, RegExp][] = [
    [
      { role: { name: "AWSReservedSSO_PlatformEngineers_0123456789abcdef", existing: true } },
      /^clients\[0\]\.role\.name: .*kind: sso, permissionSet: PlatformEngineers/,
    ],
    [{ role: "awsreservedsso_admins_0123456789abcdef" }, /^clients\[0\]\.role: .*AWSReservedSSO_/],
    [
      {
        identity: {
          kind: "role",
          arn: "arn:aws:iam::222222222222:role/AWSReservedSSO_Admins_0123456789abcdef",
        },
      },
      /^clients\[0\]\.identity\.arn: .*permissionSet: Admins/,
    ],
    [
      {
        identity: {
          kind: "role",
          arn: "arn:aws:iam::222222222222:role/AWS-Reserved/sso.amazonaws.com/Admins",
        },
      },
      /^clients\[0\]\.identity\.arn: a role under \/aws-reserved\//,
    ],
    [
      {
        identity: {
          kind: "role",
          arn: "arn:aws:iam::222222222222:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
        },
      },
      /^clients\[0\]\.identity\.arn: .*AWSServiceRoleFor/,
    ],
    [
      {
        identity: {
          kind: "oidc",
          provider: "token.actions.githubusercontent.com",
          subjects: [SUBJECT],
          role: "AWSReservedSSO_X_0123456789abcdef",
        },
      },
      /^clients\[0\]\.identity\.role: /,
    ],
  ];
  for (const [who, expected] of variants) {
    const issues = refused(base([{ name: "x", account: ACCOUNT, publicCidrs: ["203.0.113.0/24"], ...who }]));
    assert.ok(
      issues.some((i) => expected.test(i)),
      `${JSON.stringify(who)}\nexpected ${expected}\ngot:\n${issues.join("\n")}`,
    );
  }
  const doc = base([{ name: "x", account: ACCOUNT, publicCidrs: ["203.0.113.0/24"], role: "r" }]);
  (doc.access as Record<string, unknown>[])[0] = {
    role: "AWSReservedSSO_Admins_0123456789abcdef",
    clients: ["x"],
    policies: ["AmazonEKSClusterAdminPolicy"],
  };
  assert.match(refused(doc).join("\n"), /^access\[0\]\.role: an access role named AWSReservedSSO_/m);
});

test("one client per permission set and account; subjects and audience carry no template syntax", () => {
  const sso = { kind: "sso", permissionSet: "PlatformEngineers" };
  const twice = refused(
    base([
      { name: "a", account: ACCOUNT, publicCidrs: ["203.0.113.0/24"], identity: sso },
      {
        name: "b",
        account: ACCOUNT,
        publicCidrs: ["198.51.100.0/24"],
        identity: { ...sso, permissionSet: "platformengineers" },
      },
    ]),
  );
  assert.match(
    twice.join("\n"),
    /^clients\[1\]\.identity\.permissionSet: permission set platformengineers in account 222222222222 is already the client clients\[0\]/m,
  );
  for (const [subjects, audience] of [
    [[`$\{token.actions.githubusercontent.com:sub}`], undefined],
    [["{{resolve:ssm:/x}}"], undefined],
    [[SUBJECT], `$\{aws:username}`],
  ] as const) {
    const issues = refused(
      base([
        {
          name: "ci",
          account: ACCOUNT,
          publicCidrs: ["198.51.100.0/24"],
          identity: {
            kind: "oidc",
            provider: "token.actions.githubusercontent.com",
            subjects,
            ...(audience ? { audience } : {}),
          },
        },
      ]),
    );
    assert.match(
      issues.join("\n"),
      /clients\[0\]\.identity\.(subjects\[0\]|audience): must not contain \$\{, #\{ or \{\{resolve:/,
    );
  }
});

test("publicCidrs: not wider than /8, never a private range (the endpoint sees the NAT's public address)", () => {
  for (const [cidr, expected] of [
    ["0.0.0.0/0", /0\.0\.0\.0\/0 is wider than \/8/],
    ["10.0.0.0/8", /10\.0\.0\.0\/8 is in 10\.0\.0\.0\/8, which is not a public address/],
    ["172.20.0.0/16", /is in 172\.16\.0\.0\/12/],
    ["100.64.1.0/24", /is in 100\.64\.0\.0\/10/],
  ] as const) {
    const issues = refused(base([{ name: "x", account: ACCOUNT, publicCidrs: [cidr], role: "r" }]));
    assert.ok(
      issues.some((i) => i.startsWith("clients[0].publicCidrs[0]: ") && expected.test(i)),
      issues.join("\n"),
    );
  }
  assert.doesNotThrow(() =>
    load(base([{ name: "x", account: ACCOUNT, publicCidrs: ["8.0.0.0/8"], role: "r" }])),
  );
});
