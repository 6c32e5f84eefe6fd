/**
 * doctor's live model for the client kinds of issue 13 (sso, oidc, pod-identity), against moto (IAM, STS, EC2,
 * SAML and OIDC providers) and the EKS fixture (Pod Identity associations, the real REST protocol). The setup
 * is built by hand (test/helpers/kinds-setup.ts); the model is read in process with loadLiveModel and proven
 * with prove(), as `xeks doctor` does. Checks: the facts each kind needs are read (the permission set's roles,
 * the OIDC provider, the association, the cluster's publicAccessCidrs), nothing is read about a VPC the
 * clients do not have, every call is read-only, a denied read becomes `unread`, and the client's links pass on
 * the good setup and fail for one missing piece per kind. One case runs `bin/xeks doctor` (needs
 * `npm run build`).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { prove } from "../src/chain/prove.js";
import type { ChainReport } from "../src/chain/types.js";
import { ssoRoleArnPatterns } from "../src/domain/principal.js";
import { arnLike, type LiveModel, loadLiveModel } from "../src/model/live/load.js";
import { DOCTOR_ACTIONS } from "../src/model/live/permissions.js";
import { factKey } from "../src/model/types.js";
import { loadTopology } from "../src/topology/load.js";
import type { Topology } from "../src/topology/types.js";
import type { EksFixture } from "./helpers/eks-fixture.js";
import { useEmulators } from "./helpers/emulators.js";
import {
  buildKinds,
  KINDS_CLUSTER,
  KINDS_CLUSTER_ACCOUNT,
  type KindsOptions,
  type KindsSetup,
  OIDC_ACCOUNT,
  OIDC_HOST,
  POD_ACCOUNT,
  POD_CLUSTER,
  POD_ROLE,
  SSO_ACCOUNT,
  SSO_PATH,
  SSO_ROLE,
} from "./helpers/kinds-setup.js";
import { type AwsHome, makeAwsHome, xeksAsync } from "./helpers/live-env.js";
import type { Moto } from "./helpers/moto-server.js";

const PROFILES = {
  cluster: KINDS_CLUSTER_ACCOUNT,
  people: SSO_ACCOUNT,
  deploy: OIDC_ACCOUNT,
  argocd: POD_ACCOUNT,
};
const CLIENT_PROFILES = { people: "people", deploy: "deploy", argocd: "argocd" };
const CLIENT_LINKS = ["iam.client-role", "iam.assume-permission", "iam.access-role-trust"];

let moto: Moto;
let eks: EksFixture;
const live = useEmulators<KindsSetup>((m, e) => {
  moto = m;
  eks = e;
});

/** Empty emulators, the kinds setup, an AWS home with one profile per account; the topology loaded. */
async function fresh(
  options?: KindsOptions,
): Promise<{ setup: KindsSetup; home: AwsHome; topology: Topology }> {
  live.cleanup();
  await moto.reset();
  moto.allowAll();
  eks.reset();
  eks.allowAll();
  const setup = await buildKinds(moto, eks, options);
  const home = await makeAwsHome(moto, eks, PROFILES, { ambient: KINDS_CLUSTER_ACCOUNT });
  live.setup = setup;
  live.home = home;
  const file = join(home.dir, "xeks.yaml");
  writeFileSync(file, setup.text);
  moto.clearCalls();
  eks.clearCalls();
  return { setup, home, topology: loadTopology(file) };
}

/** loadLiveModel and prove in process, with the home's environment (as doctor runs them). */
async function doctor(home: AwsHome, topology: Topology): Promise<LiveModel & { report: ChainReport }> {
  const saved = { ...process.env };
  try {
    for (const [k, v] of Object.entries(home.env)) if (k !== "PATH" && v !== undefined) process.env[k] = v;
    const loaded = await loadLiveModel(topology, {
      clusterProfile: "cluster",
      clientProfiles: CLIENT_PROFILES,
    });
    const report = await prove(topology, loaded.model, "live");
    return { ...loaded, report };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** The status of a link for one client (links about a client carry its name). */
function linkOf(report: ChainReport, id: string, client: string) {
  return report.links.find((l) => l.id === id && l.client === client);
}

function fixes(report: ChainReport): string[] {
  return report.links.flatMap((l) => (l.fix ? [l.fix] : []));
}

describe("ArnLike, as doctor matches a permission set's roles", () => {
  test("each ARN part alone; * crosses / but not :, ? is one character", () => {
    const [direct, regional] = ssoRoleArnPatterns("aws", SSO_ACCOUNT, "PlatformEngineers");
    assert.ok(direct && regional);
    const base = `arn:aws:iam::${SSO_ACCOUNT}:role${SSO_PATH}`;
    assert.ok(arnLike(direct, `${base}${SSO_ROLE}`));
    assert.ok(!arnLike(regional, `${base}${SSO_ROLE}`));
    assert.ok(arnLike(regional, `${base}eu-west-1/${SSO_ROLE}`));
    assert.ok(!arnLike(direct, `${base}AWSReservedSSO_Readers_0123456789abcdef`));
    assert.ok(!arnLike(direct, `arn:aws:iam::999999999999:role${SSO_PATH}${SSO_ROLE}`));
    // The documented reach: a permission set named PlatformEngineers_Admins matches too.
    assert.ok(arnLike(direct, `${base}AWSReservedSSO_PlatformEngineers_Admins_0123456789abcdef`));
    assert.ok(!arnLike("arn:aws:iam::*:role/x", "arn:aws:iam::1:2:role/x"), "* stays in its part");
    assert.ok(arnLike("arn:aws:iam::12345678901?:role/a.b", "arn:aws:iam::123456789012:role/a.b"));
    assert.ok(
      !arnLike("arn:aws:iam::123456789012:role/a.b", "arn:aws:iam::123456789012:role/aXb"),
      ". is literal",
    );
  });
});

describe("doctor's live model for the client kinds", () => {
  test("reads what each kind needs, and nothing about VPCs the clients do not have", async () => {
    const { home, topology } = await fresh();
    await moto.clearRecording();
    const { model } = await doctor(home, topology);
    assert.deepEqual(model.unread, [], JSON.stringify(model.unread));

    // sso: the permission set's role under /aws-reserved/sso.amazonaws.com/, read like any role.
    const ssoArn = `arn:aws:iam::${SSO_ACCOUNT}:role${SSO_PATH}${SSO_ROLE}`;
    assert.deepEqual(model.principalRoles.people, [ssoArn]);
    const ssoRole = model.roles[ssoArn];
    assert.ok(ssoRole, "the permission set's role is in model.roles");
    assert.equal(ssoRole.path, SSO_PATH);
    assert.match(JSON.stringify(ssoRole.trustPolicy), /sts:AssumeRoleWithSAML/);
    assert.match(JSON.stringify(ssoRole.policies), /EKS-People-Access-Role/);

    // oidc: the provider, by ARN.
    const providerArn = `arn:aws:iam::${OIDC_ACCOUNT}:oidc-provider/${OIDC_HOST}`;
    const provider = model.oidcProviders[providerArn];
    assert.ok(provider, JSON.stringify(model.oidcProviders));
    assert.equal(provider.url, OIDC_HOST);
    assert.deepEqual(provider.audiences, ["sts.amazonaws.com"]);
    assert.ok(model.roles[`arn:aws:iam::${OIDC_ACCOUNT}:role/xeks-prac-eks-abhi-deploy`]);

    // pod-identity: the association with its role, read with the client account's credentials.
    assert.equal(model.podIdentityAssociations.length, 1);
    const a = model.podIdentityAssociations[0];
    assert.equal(a?.clusterName, POD_CLUSTER);
    assert.equal(a?.account, POD_ACCOUNT);
    assert.equal(a?.namespace, "argocd");
    assert.equal(a?.serviceAccount, "argocd-application-controller");
    assert.equal(a?.roleArn, `arn:aws:iam::${POD_ACCOUNT}:role/${POD_ROLE}`);
    assert.match(a?.id ?? "", /^a-[a-z0-9]{17}$/);
    assert.ok(eks.calls.some((c) => c.operation === "ListPodIdentityAssociations"));
    assert.ok(eks.calls.some((c) => c.operation === "DescribePodIdentityAssociation"));

    // The cluster's public endpoint and the CIDRs it admits.
    assert.deepEqual(model.cluster.endpointAccess, { private: true, public: true });
    assert.deepEqual(model.cluster.publicAccessCidrs, ["203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"]);

    // Clients without a VPC: no VPC, route-table or peering read with a client account's credentials.
    const clusterKey = home.credentials.get(KINDS_CLUSTER_ACCOUNT)?.accessKeyId;
    const ec2 = moto.calls.filter((c) => c.service === "ec2");
    assert.ok(ec2.length > 0);
    for (const c of ec2) assert.equal(c.accessKeyId, clusterKey, `${c.action} with a client's credentials`);
    assert.equal(
      moto.calls.filter((c) => c.action === "DescribeVpcPeeringConnections").length,
      0,
      "no peering to read when no client has a VPC",
    );

    // Read-only, and every action is in the documented policy.
    const allowed = new Set<string>(Object.values(DOCTOR_ACTIONS).flat());
    for (const c of moto.recording()) {
      assert.match(c.action, /^(Describe|Get|List)[A-Z]/, `${c.service}:${c.action}`);
      if (c.action !== "GetCallerIdentity") assert.ok(allowed.has(`${c.service}:${c.action}`), c.action);
    }
    for (const c of eks.calls) {
      assert.equal(c.method, "GET", `${c.operation} ${c.path}`);
      assert.ok(allowed.has(`eks:${c.operation}`), c.operation);
    }
  });

  test("a denied read of each kind's fact is unread, naming the permission", async () => {
    const { home, topology } = await fresh();
    moto.deny("iam:ListRoles", "iam:GetOpenIDConnectProvider");
    eks.deny("ListPodIdentityAssociations");
    const { model } = await doctor(home, topology);
    const deploy = topology.clients.find((c) => c.name === "deploy");
    const argocd = topology.clients.find((c) => c.name === "argocd");
    assert.ok(deploy?.identity.kind === "oidc" && argocd?.identity.kind === "pod-identity");
    const keys = new Map(model.unread.map((u) => [u.key, u]));
    assert.equal(keys.get(factKey.principalRoles("people"))?.permission, "iam:ListRoles");
    assert.equal(
      keys.get(factKey.oidcProvider(deploy.identity.providerArn))?.permission,
      "iam:GetOpenIDConnectProvider",
    );
    assert.equal(
      keys.get(factKey.podIdentityAssociations(argocd.identity.clusterArn))?.permission,
      "eks:ListPodIdentityAssociations",
    );
    assert.equal(model.principalRoles.people, undefined, "not read: not an empty list");
  });
});

describe("doctor's client links per kind", () => {
  test("the good setup: each client's links pass", async () => {
    const { home, topology } = await fresh();
    const { report } = await doctor(home, topology);
    for (const client of ["people", "deploy", "argocd"]) {
      for (const id of CLIENT_LINKS) {
        const l = linkOf(report, id, client);
        assert.equal(l?.status, "pass", `${client} ${id}: ${l?.summary} ${l?.fix ?? ""}`);
      }
    }
  });

  test("xeks doctor (the CLI): verdict pass, exit 0, the public endpoint admits each client, clean stderr", async () => {
    const { home } = await fresh();
    const file = join(home.dir, "xeks.yaml");
    const r = await xeksAsync(
      [
        "doctor",
        file,
        "-o",
        "json",
        "--cluster-profile",
        "cluster",
        ...Object.entries(CLIENT_PROFILES).flatMap(([c, p]) => ["--client-profile", `${c}=${p}`]),
      ],
      { env: home.env },
    );
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0, r.stdout);
    const report = JSON.parse(r.stdout) as ChainReport;
    assert.equal(report.verdict, "pass");
    for (const client of ["people", "deploy", "argocd"]) {
      assert.equal(linkOf(report, "network.public-access", client)?.status, "pass", client);
      for (const id of ["network.peering", "network.route.client-to-cluster", "network.security-group"]) {
        assert.equal(linkOf(report, id, client), undefined, `${id} does not apply to ${client}`);
      }
    }
  });

  test("the public endpoint not admitting a client's CIDRs fails network.public-access for it", async () => {
    const { home, topology } = await fresh();
    const c = eks.clusters.get(KINDS_CLUSTER);
    assert.ok(c);
    c.publicAccessCidrs = ["203.0.113.0/24"];
    const { model, report } = await doctor(home, topology);
    assert.deepEqual(model.cluster.publicAccessCidrs, ["203.0.113.0/24"]);
    assert.equal(linkOf(report, "network.public-access", "people")?.status, "pass");
    const l = linkOf(report, "network.public-access", "deploy");
    assert.equal(l?.status, "fail", l?.summary);
    assert.match(l?.fix ?? "", /publicAccessCidrs=/);
  });

  test("sso: no role of the permission set in the account fails iam.client-role, and no fix replaces a trust", async () => {
    const { home, topology } = await fresh({ omit: ["sso-role"] });
    const { model, report } = await doctor(home, topology);
    assert.deepEqual(model.principalRoles.people, [], "listed, none of that permission set");
    const l = linkOf(report, "iam.client-role", "people");
    assert.equal(l?.status, "fail", `${l?.summary}`);
    for (const fix of fixes(report)) assert.doesNotMatch(fix, /update-assume-role-policy/);
  });

  test("oidc: the provider missing fails iam.client-role", async () => {
    const { home, topology } = await fresh({ omit: ["oidc-provider"] });
    const { model, report } = await doctor(home, topology);
    assert.deepEqual(model.oidcProviders, {}, "NoSuchEntity is a fact: no provider");
    assert.ok(!model.unread.some((u) => u.key.startsWith("oidcProvider:")));
    const l = linkOf(report, "iam.client-role", "deploy");
    assert.equal(l?.status, "fail", `${l?.summary}`);
  });

  test("pod-identity: no association fails iam.client-role", async () => {
    const { home, topology } = await fresh({ omit: ["pod-association"] });
    const { model, report } = await doctor(home, topology);
    assert.deepEqual(model.podIdentityAssociations, []);
    assert.ok(!model.unread.some((u) => u.key.startsWith("podIdentityAssociations:")));
    const l = linkOf(report, "iam.client-role", "argocd");
    assert.equal(l?.status, "fail", `${l?.summary}`);
  });
});
