/**
 * `discover` and the client kinds (issue 13), against moto and the EKS fixture, in process: a client of people
 * is found by its IAM Identity Center permission set (`--client-account NAME=ACCOUNT:sso:SET`, or a role-less
 * spec whose access role trusts a role under /aws-reserved/sso.amazonaws.com/) and written as
 * `identity: { kind: sso, permissionSet }`, never as `role: { existing: true }`; without a peered VPC it gets
 * `publicCidrs` (what the public endpoint admits). The hand-built setup is test/helpers/live-setup.ts's (client
 * ops, an EC2 role and a peering) plus, in account 333333333333, the roles Identity Center would make. One
 * case runs `bin/xeks discover` (needs `npm run build`).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssociateAccessPolicyCommand, CreateAccessEntryCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { parse } from "yaml";
import { prove } from "../src/chain/prove.js";
import { type Discovery, discover } from "../src/discover/index.js";
import { ssoRoleArnPatterns } from "../src/domain/principal.js";
import { accessTrustPolicy } from "../src/domain/trust.js";
import { OperationError } from "../src/errors.js";
import { loadLiveModel } from "../src/model/live/load.js";
import type { EksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import {
  ADMIN_POLICY,
  buildSetup,
  CLUSTER_ACCOUNT,
  CLUSTER_NAME,
  REGION,
  type Setup,
} from "./helpers/live-setup.js";
import type { Moto } from "./helpers/moto-server.js";

const OPS_ACCOUNT = "222222222222";
const SSO_ACCOUNT = "333333333333";
const SET = "PlatformEngineers";
const SSO_PATH = "/aws-reserved/sso.amazonaws.com/";
const SSO_ROLE = `AWSReservedSSO_${SET}_0123456789abcdef`;
const SSO_ARN = `arn:aws:iam::${SSO_ACCOUNT}:role${SSO_PATH}${SSO_ROLE}`;
const PEOPLE_ROLE = "EKS-People-Access-Role";
const PEOPLE_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/${PEOPLE_ROLE}`;
const PUBLIC_CIDRS = ["203.0.113.0/24"];

let moto: Moto;
let eks: EksFixture;
const live = useEmulators<Setup>((m, e) => {
  moto = m;
  eks = e;
});

const SAML_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: {
        Federated: `arn:aws:iam::${SSO_ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
      },
      Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
    },
  ],
});

/**
 * The good setup plus the people: the permission set's role (and one of a permission set whose name only
 * starts with it) in 333333333333, an access role trusting them (`trust`: the patterns xeks deploys, or the
 * reserved role's exact ARN as a person might write it), its entry; the public endpoint on.
 */
async function fresh(trust: "patterns" | "exact", publicEndpoint = true) {
  live.cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  const setup = await buildSetup(moto, eks);
  const c = eks.clusters.get(CLUSTER_NAME);
  if (c && publicEndpoint) {
    c.endpointPublicAccess = true;
    c.publicAccessCidrs = PUBLIC_CIDRS;
  }
  const home = await makeAwsHome(moto, eks, {
    cluster: CLUSTER_ACCOUNT,
    ops: OPS_ACCOUNT,
    people: SSO_ACCOUNT,
  });
  live.setup = setup;
  live.home = home;
  const { IAMClient } = await import("@aws-sdk/client-iam");
  const people = new IAMClient({
    region: REGION,
    endpoint: moto.proxyUrl,
    credentials: home.credentials.get(SSO_ACCOUNT) as NonNullable<ReturnType<typeof home.credentials.get>>,
  });
  try {
    for (const name of [SSO_ROLE, `AWSReservedSSO_${SET}_Admins_fedcba9876543210`]) {
      await people.send(
        new CreateRoleCommand({ RoleName: name, Path: SSO_PATH, AssumeRolePolicyDocument: SAML_TRUST }),
      );
      await people.send(
        new PutRolePolicyCommand({
          RoleName: name,
          PolicyName: "AwsSSOInlinePolicy",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: PEOPLE_ARN }],
          }),
        }),
      );
    }
  } finally {
    people.destroy();
  }
  const trustDoc =
    trust === "patterns"
      ? accessTrustPolicy(
          [
            {
              account: SSO_ACCOUNT,
              arnPatterns: ssoRoleArnPatterns("aws", SSO_ACCOUNT, SET),
              actions: ["sts:AssumeRole"],
              example: { name: SSO_ROLE, arn: SSO_ARN, session: "someone" },
              label: `permission set ${SET}`,
            },
          ],
          undefined,
          "aws",
        )
      : {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { AWS: SSO_ARN }, Action: "sts:AssumeRole" }],
        };
  await setup
    .iam(CLUSTER_ACCOUNT)
    .send(
      new CreateRoleCommand({ RoleName: PEOPLE_ROLE, AssumeRolePolicyDocument: JSON.stringify(trustDoc) }),
    );
  await setup.eks.send(
    new CreateAccessEntryCommand({ clusterName: CLUSTER_NAME, principalArn: PEOPLE_ARN, type: "STANDARD" }),
  );
  await setup.eks.send(
    new AssociateAccessPolicyCommand({
      clusterName: CLUSTER_NAME,
      principalArn: PEOPLE_ARN,
      policyArn: ADMIN_POLICY,
      accessScope: { type: "cluster" },
    }),
  );
  return { setup, home };
}

/** Run `fn` with the home's environment (profiles, emulator endpoints), as the CLI would. */
async function withHome<T>(home: AwsHome, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  try {
    for (const [k, v] of Object.entries(home.env)) if (k !== "PATH" && v !== undefined) process.env[k] = v;
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** discover in process with the home's environment. */
async function run(home: AwsHome, clients: string[]): Promise<Discovery> {
  const { parseClientSpec } = await import("../src/discover/index.js");
  return withHome(home, () =>
    discover({
      clusterName: CLUSTER_NAME,
      region: REGION,
      clients: clients.map(parseClientSpec),
      clusterProfile: "cluster",
      clientProfiles: { ops: "ops", people: "people" },
    }),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is checked by the assertions
type Doc = Record<string, any>;

function checkPeople(result: Discovery): void {
  const doc: Doc = parse(result.text);
  const people = doc.clients.find((c: Doc) => c.name === "people");
  assert.ok(people, result.text);
  assert.equal(people.role, undefined, "never role: { existing: true } for a reserved role");
  assert.equal(people.identity.kind, "sso");
  assert.equal(people.identity.permissionSet, SET);
  assert.match(JSON.stringify(people.identity.policies), new RegExp(PEOPLE_ROLE));
  assert.equal(people.vpc, undefined);
  assert.equal(people.peering, undefined);
  assert.deepEqual(people.publicCidrs, PUBLIC_CIDRS);
  assert.deepEqual(doc.cluster.publicAccessCidrs, PUBLIC_CIDRS);
  const access = doc.access.find((a: Doc) => a.role === PEOPLE_ROLE);
  assert.deepEqual(access?.clients, ["people"]);
  // ops is as before: its EC2 role, its peering.
  const ops = doc.clients.find((c: Doc) => c.name === "ops");
  assert.equal(ops.role.existing, true);
  assert.ok(ops.peering.id);
  // The topology loads, and the people client is the permission set's principal.
  const t = result.topology.clients.find((c) => c.name === "people");
  assert.equal(t?.identity.kind, "sso");
  assert.equal(t?.role, undefined);
  assert.ok(
    result.notes.some((n) => n.includes(SSO_ROLE) && !n.includes("Admins")),
    result.notes.join("\n"),
  );
}

describe("discover and IAM Identity Center permission sets", () => {
  test("--client-account NAME=ACCOUNT:sso:SET finds the permission set's role by name", async () => {
    const { home } = await fresh("patterns");
    const result = await run(home, [`ops=${OPS_ACCOUNT}`, `people=${SSO_ACCOUNT}:sso:${SET}`]);
    checkPeople(result);
    assert.ok(moto.calls.some((c) => c.action === "ListRoles"));

    // doctor on the discovered file: both clients' links pass; nothing about a VPC is read for people.
    moto.clearCalls();
    const report = await withHome(home, async () => {
      const { model } = await loadLiveModel(result.topology, {
        clusterProfile: "cluster",
        clientProfiles: { ops: "ops", people: "people" },
      });
      return prove(result.topology, model, "live");
    });
    for (const l of report.links) {
      if (l.client === "people" || l.client === "ops")
        assert.equal(l.status, "pass", `${l.client} ${l.id}: ${l.summary}`);
    }
    assert.equal(
      report.links.find((l) => l.id === "network.public-access" && l.client === "people")?.status,
      "pass",
    );
    const peopleKey = home.credentials.get(SSO_ACCOUNT)?.accessKeyId;
    assert.ok(!moto.calls.some((c) => c.service === "ec2" && c.accessKeyId === peopleKey));
  });

  test("a role-less spec whose access role trusts a reserved role is written as kind sso", async () => {
    const { home } = await fresh("exact");
    const result = await run(home, [`ops=${OPS_ACCOUNT}`, `people=${SSO_ACCOUNT}`]);
    checkPeople(result);
  });

  test("xeks discover (the CLI) names the permission set in its summary and its JSON", async () => {
    const { home } = await fresh("patterns");
    const r = await xeksAsync(
      [
        "discover",
        "--cluster-name",
        CLUSTER_NAME,
        "--region",
        REGION,
        "--client-account",
        `ops=${OPS_ACCOUNT}`,
        "--client-account",
        `people=${SSO_ACCOUNT}:sso:${SET}`,
        "--cluster-profile",
        "cluster",
        "--client-profile",
        "ops=ops",
        "--client-profile",
        "people=people",
        "--out",
        "-",
        "-o",
        "json",
      ],
      { env: home.env },
    );
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0, r.stdout);
    const doc = JSON.parse(r.stdout) as Doc;
    assert.deepEqual(
      doc.clients.find((c: Doc) => c.name === "people"),
      { name: "people", account: SSO_ACCOUNT, kind: "sso", permissionSet: SET },
    );
    assert.ok(
      doc.summary.some((l: string) =>
        /client people .*public endpoint from 203\.0\.113\.0\/24, permission set PlatformEngineers/.test(l),
      ),
      doc.summary.join("\n"),
    );
    assert.equal(parse(doc.topology).clients[1].identity.kind, "sso");
  });

  test("a role-less spec whose access role trusts the permission set's pattern is kind sso", async () => {
    const { home } = await fresh("patterns");
    checkPeople(await run(home, [`ops=${OPS_ACCOUNT}`, `people=${SSO_ACCOUNT}`]));
  });

  test("the reserved role named in the spec is kind sso too", async () => {
    const { home } = await fresh("exact");
    const result = await run(home, [`ops=${OPS_ACCOUNT}`, `people=${SSO_ACCOUNT}:${SSO_ROLE}`]);
    checkPeople(result);
  });

  test("people without a peering and a private-only endpoint: discover says it cannot describe them", async () => {
    const { home } = await fresh("patterns", false);
    await assert.rejects(run(home, [`ops=${OPS_ACCOUNT}`, `people=${SSO_ACCOUNT}:sso:${SET}`]), (err) => {
      assert.ok(err instanceof OperationError);
      assert.match(err.message, /public endpoint .* is off/);
      return true;
    });
  });

  test("the spec form is checked", async () => {
    const { parseClientSpec } = await import("../src/discover/index.js");
    assert.deepEqual(parseClientSpec("people=333333333333:sso:PlatformEngineers"), {
      name: "people",
      account: "333333333333",
      permissionSet: "PlatformEngineers",
    });
    assert.deepEqual(parseClientSpec("ops=222222222222:EC2-Role"), {
      name: "ops",
      account: "222222222222",
      role: "EC2-Role",
    });
    assert.throws(() => parseClientSpec("people=333333333333:sso:"), /bad --client-account/);
  });
});
