/**
 * The client side of an organization as a StackSet (issue 14, `clients[].fromOrganization`, docs/organizations.md):
 * validation (exit 2 with the field path), the plan (the StackSet beside the cluster side, text and JSON; the proof
 * holds through the organization statement for a representative member), the member template (environment-
 * agnostic, cfn-lint and cdk-nag clean), and the StackSets calls at a private moto_server: a service-managed
 * StackSet whose instances land in every account of the OU (the role and its instance profile exist there), a
 * second deploy that writes nothing, a changed template that updates. The plan is synthesized once.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { GetInstanceProfileCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { parse, stringify } from "yaml";
import { stackSetApi } from "../src/aws/stackset.js";
import { stackSetInstances } from "../src/chain/links/stackset.js";
import { prove } from "../src/chain/prove.js";
import { renderConfirmation } from "../src/cli/deploy.js";
import { formatPlan, planJson } from "../src/cli/plan.js";
import { deployStackSet } from "../src/deploy/stackset.js";
import { REPRESENTATIVE_MEMBER_ACCOUNT, stackSetOperationCommand } from "../src/domain/stackset.js";
import { InputError } from "../src/errors.js";
import { describePlan } from "../src/infra/describe.js";
import type { SynthesisResult } from "../src/infra/synthesize.js";
import { synthesize } from "../src/infra/synthesize.js";
import { modelFromAssembly } from "../src/model/from-assembly.js";
import { loadLiveModel } from "../src/model/live/load.js";
import { emptyLiveModel } from "../src/model/types.js";
import { parseTopology } from "../src/topology/index.js";
import { type MotoServer, startMoto } from "./helpers/moto.js";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURE = readFileSync(join(ROOT, "test/fixtures/stackset.yaml"), "utf8");
const work = mkdtempSync(join(tmpdir(), "xeks-stackset-"));
after(() => rmSync(work, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: the tests change plain documents freely.
type Doc = Record<string, any>;
const doc = (): Doc => parse(FIXTURE) as Doc;
const yamlOf = (d: Doc): string => stringify(d);

/** The issues of an invalid topology, as `path: message` lines. */
function issuesOf(d: Doc): string[] {
  try {
    parseTopology(yamlOf(d), "stackset.yaml");
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail("the topology was accepted");
}

describe("validation", () => {
  test("the fixture is valid: account is the administrator's, the role is every member's", () => {
    const t = parseTopology(FIXTURE, "stackset.yaml");
    const fleet = t.clients[0];
    assert.equal(fleet?.account, "333333333333");
    assert.deepEqual(fleet?.fromOrganization, {
      organizationalUnits: ["ou-ab12-11111111"],
      administrator: "333333333333",
      callAs: "SELF",
      regions: ["eu-west-1"],
      retainStacksOnAccountRemoval: false,
    });
    assert.equal(fleet?.role?.arn, "arn:aws:iam::*:role/Fleet-EKS-Client-Role");
    assert.equal(fleet?.principal.arn, "arn:aws:iam::*:role/Fleet-EKS-Client-Role");
    assert.equal(
      fleet?.principal.example.arn,
      `arn:aws:iam::${REPRESENTATIVE_MEMBER_ACCOUNT}:role/Fleet-EKS-Client-Role`,
    );
  });

  const cases: { name: string; change: (d: Doc) => void; expect: string }[] = [
    {
      name: "no organization declared",
      change: (d) => delete d.organization,
      expect: "clients[0].fromOrganization: ",
    },
    {
      name: "vpc given",
      change: (d) => {
        delete d.clients[0].publicCidrs;
        d.clients[0].vpc = {
          id: "vpc-0ddd3333eeee4444f",
          cidr: "172.31.0.0/16",
          routeTables: ["rtb-0ddd3333eeee4444f"],
        };
      },
      expect: "clients[0].vpc: a client from an organization reaches the cluster's public endpoint",
    },
    {
      name: "account given with fromOrganization",
      change: (d) => {
        d.clients[0].account = "222222222222";
      },
      expect: "clients[0].account: a client with fromOrganization has no account",
    },
    {
      name: "neither account nor fromOrganization",
      change: (d) => delete d.clients[0].fromOrganization,
      expect: "clients[0].account: required field is missing",
    },
    {
      name: "bad OU id",
      change: (d) => {
        d.clients[0].fromOrganization.organizationalUnits = ["ou-bad"];
      },
      expect: "clients[0].fromOrganization.organizationalUnits[0]: expected an organizational unit id",
    },
    {
      name: "bad callAs",
      change: (d) => {
        d.clients[0].fromOrganization.callAs = "ADMIN";
      },
      expect: "clients[0].fromOrganization.callAs: ",
    },
    {
      name: "a kind the StackSet cannot stand for",
      change: (d) => {
        delete d.clients[0].role;
        d.clients[0].identity = { kind: "sso", permissionSet: "Fleet" };
      },
      expect: "clients[0].identity.kind: a client from an organization is of kind instance or oidc",
    },
    {
      name: "the same role name in two StackSet clients (their OUs may nest or overlap)",
      change: (d) => {
        d.clients[1].identity.role = "fleet-eks-client-role";
        d.clients[1].fromOrganization.organizationalUnits = ["ou-ab12-22222222"];
      },
      expect:
        "clients[1].identity.role: role fleet-eks-client-role is already the role of client fleet's StackSet",
    },
    {
      name: "a second region (IAM is global: the named role would collide in every account)",
      change: (d) => {
        d.clients[0].fromOrganization.regions = ["eu-west-1", "eu-central-1"];
      },
      expect:
        "clients[0].fromOrganization.regions[1]: the member template creates the named role Fleet-EKS-Client-Role, and IAM is global",
    },
    {
      name: "one administrator account both SELF and DELEGATED_ADMIN",
      change: (d) => {
        d.clients[1].fromOrganization.administrator = "333333333333";
      },
      expect:
        "clients[1].fromOrganization.callAs: account 333333333333 is the administrator of client fleet's StackSet with callAs SELF",
    },
  ];
  for (const c of cases) {
    test(`refused: ${c.name}`, () => {
      const d = doc();
      c.change(d);
      const issues = issuesOf(d);
      assert.ok(
        issues.some((i) => i.startsWith(c.expect)),
        `expected an issue starting ${c.expect}; got:\n${issues.join("\n")}`,
      );
    });
  }

  test("the CLI exits 2 and names the field path", () => {
    const d = doc();
    d.clients[0].fromOrganization.organizationalUnits = ["ou-bad"];
    const file = join(work, "bad.yaml");
    writeFileSync(file, yamlOf(d));
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        "import { run } from './src/cli/main.ts'; await run(process.argv.slice(1));",
        "plan",
        file,
        "--out",
        join(work, "bad.out"),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /clients\[0\]\.fromOrganization\.organizationalUnits\[0\]: expected an organizational unit id/,
    );
  });
});

describe("plan", () => {
  let result: SynthesisResult;
  before(() => {
    result = synthesize(parseTopology(FIXTURE, join(ROOT, "test/fixtures/stackset.yaml")), {
      outDir: join(work, "out"),
    });
  });

  test("the StackSet is in the manifest beside the cluster side, not among the stacks", () => {
    const m = result.manifest;
    assert.deepEqual(
      m.phases.flatMap((p) => p.stacks.map((s) => s.name)),
      ["xeks-fleet-eks-cluster-access-EKS-Fleet-Access-Role"],
    );
    const set = m.stackSets?.[0];
    assert.ok(set);
    assert.equal(set.account, "333333333333");
    assert.equal(set.permissionModel, "SERVICE_MANAGED");
    assert.deepEqual(set.autoDeployment, { enabled: true, retainStacksOnAccountRemoval: false });
    assert.deepEqual(set.organizationalUnits, ["ou-ab12-11111111"]);
    assert.deepEqual(set.regions, ["eu-west-1"]);
    assert.deepEqual(set.capabilities, ["CAPABILITY_NAMED_IAM"]);
    assert.equal(set.callAs, "SELF");
  });

  test("the member template is environment-agnostic: no account id but the access role's", () => {
    const text = JSON.stringify(result.templates.get("xeks-fleet-eks-client-fleet-identity"));
    assert.match(text, /AWS::AccountId/);
    assert.deepEqual(
      [...new Set(text.match(/\d{12}/g))],
      ["111111111111"],
      "only the access role's account (its exact ARN in the sts:AssumeRole policy)",
    );
    const resources = Object.values(
      (result.templates.get("xeks-fleet-eks-client-fleet-identity") as Doc).Resources,
    ) as Doc[];
    assert.deepEqual(resources.map((r) => r.Type).sort(), ["AWS::IAM::InstanceProfile", "AWS::IAM::Role"]);
    const role = resources.find((r) => r.Type === "AWS::IAM::Role") as Doc;
    assert.deepEqual(
      role.Properties.Policies[0].PolicyDocument.Statement[0].Resource,
      ["arn:aws:iam::111111111111:role/EKS-Fleet-Access-Role"].at(0),
    );
    assert.equal(result.manifest.nag.ran, true, "cdk-nag AwsSolutions ran, with no open finding");
  });

  test("an oidc StackSet client trusts each member account's own OIDC provider; callAs DELEGATED_ADMIN", () => {
    const set = result.manifest.stackSets?.find((s) => s.client === "pipelines");
    assert.equal(set?.callAs, "DELEGATED_ADMIN");
    const template = result.templates.get("xeks-fleet-eks-client-pipelines-identity") as Doc;
    const role = Object.values(template.Resources as Doc).find(
      (r: Doc) => r.Type === "AWS::IAM::Role",
    ) as Doc;
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated, {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":iam::",
          { Ref: "AWS::AccountId" },
          ":oidc-provider/token.actions.githubusercontent.com",
        ],
      ],
    });
  });

  test("cfn-lint: the member template and the cluster side have no error and no warning", {
    skip: spawnSync("cfn-lint", ["--version"]).status !== 0 && "cfn-lint is not installed",
  }, () => {
    const files = [
      ...result.manifest.phases.flatMap((p) => p.stacks),
      ...(result.manifest.stackSets ?? []),
    ].map((s) => join(result.outDir, s.templateFile));
    assert.equal(files.length, 3);
    const r = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), "");
    assert.equal(r.status, 0);
  });

  test("the plan shows the StackSet (text data and JSON) and the proof holds for a representative member", async () => {
    const plan = describePlan(result.layout);
    const set = plan.stackSets?.[0];
    assert.ok(set);
    assert.match(
      set.text,
      /^service-managed StackSet xeks-fleet-eks-client-fleet-identity in account 333333333333/,
    );
    assert.match(set.text, /every account of ou-ab12-11111111, regions eu-west-1; AutoDeployment on/);
    assert.ok(
      set.items.some((i) => /client role Fleet-EKS-Client-Role \(arn:aws:iam::\*:role\//.test(i.text)),
    );
    const topology = parseTopology(FIXTURE, "stackset.yaml");
    const text = formatPlan(topology, "out", result, plan);
    assert.match(text, /Synthesized 1 stack in 1 phase and 2 StackSets into out/);
    assert.match(
      text,
      /Phase 1 \(client-identity\)[^\n]*\n {2}administrator account 333333333333 \(eu-west-1\), client fleet\n {4}service-managed StackSet /,
    );
    assert.match(text, /\+ in every member account: instance profile Fleet-EKS-Client-Role/);
    // No client has a VPC: the link phases say why they are empty rather than print a bare heading.
    for (const phase of ["3 \\(client-link\\)", "4 \\(cluster-link\\)"])
      assert.match(
        text,
        new RegExp(
          `Phase ${phase}[^\\n]*\\n {2}nothing to deploy: no client has a VPC, so there is no peering, route, rule or instance to create\\n`,
        ),
      );
    const json = JSON.parse(JSON.stringify(planJson("out", result, plan))) as Doc;
    assert.deepEqual(
      (json.stackSets as Doc[]).map((s) => [s.client, s.account, s.callAs, s.organizationalUnits, s.regions]),
      [
        ["fleet", "333333333333", "SELF", ["ou-ab12-11111111"], ["eu-west-1"]],
        ["pipelines", "444444444444", "DELEGATED_ADMIN", ["ou-ab12-11111111"], ["eu-west-1"]],
      ],
    );
    assert.deepEqual(
      (json.phases as Doc[])[1]?.accounts[0].stacks.map((s: Doc) => s.name),
      ["xeks-fleet-eks-cluster-access-EKS-Fleet-Access-Role"],
      "the cluster side beside it",
    );
    const report = await prove(topology, modelFromAssembly(topology, result.outDir), "plan");
    assert.equal(report.verdict, "pass", JSON.stringify(report, null, 1).slice(0, 2000));
  });
});

test("deploy's confirmation names each StackSet, its administrator account and its OUs", () => {
  const text = renderConfirmation({
    command: "deploy",
    cluster: "fleet-eks",
    stacks: [],
    stackSets: [
      {
        name: "xeks-fleet-eks-client-fleet-identity",
        client: "fleet",
        account: "333333333333",
        organizationalUnits: ["ou-ab12-11111111"],
        regions: ["eu-west-1"],
      },
    ],
  });
  assert.match(
    text,
    /phase 1 {2}StackSet xeks-fleet-eks-client-fleet-identity {2}\(333333333333, client fleet\): created, or updated if its member template changed - every account of ou-ab12-11111111 \(eu-west-1\)/,
  );
});

describe("doctor: stackset.instances", () => {
  const topology = parseTopology(FIXTURE, "stackset.yaml");
  const client = topology.clients[0] as (typeof topology.clients)[number];
  const evaluate = (instances: Doc[] | undefined, unreadKey?: string) => {
    const model = emptyLiveModel(topology.cluster);
    if (instances) model.stackSetInstances = { fleet: instances as never };
    if (unreadKey) {
      model.unread.push({
        key: unreadKey,
        reason: "AccessDenied",
        permission: "cloudformation:ListStackInstances",
      });
    }
    return stackSetInstances.evaluate({ topology, model }, { kind: "client", client });
  };

  test("a declared OU without any instance fails, naming it and the create-stack-instances command", async () => {
    const two = parseTopology(
      FIXTURE.replace(
        'organizationalUnits: [ou-ab12-11111111]\n      administrator: "333333333333"',
        'organizationalUnits: [ou-ab12-11111111, ou-ab12-22222222]\n      administrator: "333333333333"',
      ),
      "stackset.yaml",
    );
    const fleet = two.clients[0] as (typeof two.clients)[number];
    assert.deepEqual(fleet.fromOrganization?.organizationalUnits, ["ou-ab12-11111111", "ou-ab12-22222222"]);
    const model = emptyLiveModel(two.cluster);
    model.stackSetInstances = {
      fleet: [
        {
          account: "444444444444",
          region: "eu-west-1",
          status: "CURRENT",
          organizationalUnit: "ou-ab12-11111111",
        },
      ],
    };
    const f = await stackSetInstances.evaluate({ topology: two, model }, { kind: "client", client: fleet });
    assert.equal(f?.status, "fail");
    assert.match(f?.summary ?? "", /no stack instance in OU ou-ab12-22222222 declared in the topology/);
    assert.match(
      f?.fix ?? "",
      /aws cloudformation create-stack-instances --stack-set-name xeks-fleet-eks-client-fleet-identity --deployment-targets OrganizationalUnitIds=ou-ab12-22222222 --regions eu-west-1 --call-as SELF/,
    );
  });

  test("a non-CURRENT instance fails with its status reason and the fix", async () => {
    const f = await evaluate([
      { account: "444444444444", region: "eu-west-1", status: "CURRENT" },
      {
        account: "555555555555",
        region: "eu-west-1",
        status: "OUTDATED",
        statusReason:
          "ResourceLogicalId:ClientRole, ResourceType:AWS::IAM::Role, ResourceStatusReason:Role already exists.",
      },
    ]);
    assert.equal(f?.status, "fail");
    assert.match(
      f?.summary ?? "",
      /1 of 2 stack instances .* not CURRENT: 555555555555 \(eu-west-1\) OUTDATED: .*Role already exists/,
    );
    assert.match(
      f?.fix ?? "",
      /aws cloudformation update-stack-instances --stack-set-name xeks-fleet-eks-client-fleet-identity --deployment-targets OrganizationalUnitIds=ou-ab12-11111111 --regions eu-west-1 --call-as SELF/,
    );
  });

  test("no instance fails; unread is unknown naming the permission; plan and plain clients: not applicable", async () => {
    assert.equal((await evaluate([]))?.status, "fail");
    const u = await evaluate(undefined, "stackSetInstances:fleet");
    assert.equal(u?.status, "unknown");
    assert.match(u?.fix ?? "", /allow cloudformation:ListStackInstances in account 333333333333/);
    const plan = { ...emptyLiveModel(topology.cluster), source: "plan" as const };
    assert.equal(
      await stackSetInstances.evaluate({ topology, model: plan }, { kind: "client", client }),
      null,
    );
  });
});

describe("StackSets at moto", () => {
  let moto: MotoServer;
  const saved = { ...process.env };
  /**
   * One AWS Organizations call (JSON protocol) straight to moto, which routes by the credential scope's service
   * and checks no signature: faster than the aws CLI (no SDK client for Organizations is installed).
   */
  const org = async (action: string, body: Doc = {}): Promise<Doc> => {
    const r = await fetch(moto.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AWSOrganizationsV20161128.${action}`,
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return (text ? JSON.parse(text) : {}) as Doc;
  };
  const creds = async () => ({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "fake" });
  let ou = "";
  let members: string[] = [];

  before(async () => {
    moto = await startMoto();
    // Ambient credentials for doctor (fake static keys: moto's 123456789012), no profile files.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "fake",
      AWS_CONFIG_FILE: join(work, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    // The management account (moto's default, 123456789012), an OU with two member accounts, one account outside.
    await org("CreateOrganization", { FeatureSet: "ALL" });
    const root = (await org("ListRoots")).Roots[0].Id as string;
    ou = (await org("CreateOrganizationalUnit", { ParentId: root, Name: "fleet" })).OrganizationalUnit
      .Id as string;
    for (const n of ["a", "b", "outside"]) {
      await org("CreateAccount", { Email: `${n}@example.com`, AccountName: n });
    }
    const accounts = (await org("ListAccounts")).Accounts as Doc[];
    members = accounts.filter((a) => a.Name === "a" || a.Name === "b").map((a) => a.Id as string);
    for (const id of members) {
      await org("MoveAccount", { AccountId: id, SourceParentId: root, DestinationParentId: ou });
    }
  });
  after(async () => {
    process.env = saved;
    await moto?.stop();
  });

  test("deploy creates the service-managed StackSet and its instances in every account of the OU; again: nothing", async () => {
    const d = doc();
    // moto's static keys act in 123456789012, the management account: the cluster account too, so that doctor's
    // ambient credentials pass its account check for both.
    d.cluster.account = "123456789012";
    d.clients = [d.clients[0]];
    d.access[0].clients = ["fleet"];
    d.clients[0].fromOrganization = { organizationalUnits: [ou], administrator: "123456789012" };
    const topology = parseTopology(yamlOf(d), "stackset.yaml");
    const result = synthesize(topology, { outDir: join(work, "moto-out") });
    const set = result.manifest.stackSets?.[0];
    assert.ok(set);
    const api = stackSetApi(creds, "eu-west-1");
    const body = JSON.stringify(result.templates.get(set.name));
    const fast = { pollMs: 10, timeoutMs: 5_000 };
    const first = await deployStackSet(api, set, body, "fleet-eks", () => {}, fast);
    assert.equal(first.outcome, "created");
    assert.equal(first.operations.length, 1);
    assert.equal((await api.describe(set.name, "SELF"))?.permissionModel, "SERVICE_MANAGED");
    const instances = await api.listInstances(set.name, "SELF");
    assert.deepEqual(instances.map((i) => i.account).sort(), [...members].sort());
    assert.ok(instances.every((i) => i.status === "CURRENT" && i.region === "eu-west-1"));
    // The role and its instance profile exist in each member account.
    const sts = new STSClient({ region: "eu-west-1", credentials: creds, endpoint: moto.url });
    for (const account of members) {
      const c = (
        await sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`,
            RoleSessionName: "xeks-test",
          }),
        )
      ).Credentials;
      const iam = new IAMClient({
        region: "eu-west-1",
        endpoint: moto.url,
        credentials: {
          accessKeyId: c?.AccessKeyId ?? "",
          secretAccessKey: c?.SecretAccessKey ?? "",
          sessionToken: c?.SessionToken ?? "",
        },
      });
      const role = await iam.send(new GetRoleCommand({ RoleName: "Fleet-EKS-Client-Role" }));
      assert.equal(role.Role?.Arn, `arn:aws:iam::${account}:role/Fleet-EKS-Client-Role`);
      const profile = await iam.send(
        new GetInstanceProfileCommand({ InstanceProfileName: "Fleet-EKS-Client-Role" }),
      );
      assert.equal(profile.InstanceProfile?.Roles?.[0]?.RoleName, "Fleet-EKS-Client-Role");
    }

    await moto.clearRecording();
    const again = await deployStackSet(api, set, body, "fleet-eks", () => {}, fast);
    assert.equal(again.outcome, "unchanged");
    const writes = moto
      .requests()
      .map((r) => r.action ?? "")
      .filter((a) => !/^(Describe|List|Get)/.test(a));
    assert.deepEqual(writes, [], "an unchanged StackSet makes no write call");

    // doctor (live, read-only): the administrator account's stack instances, each CURRENT. doctor reads the
    // cluster first: moto has one (without access entries: those links are not this test's).
    await new EKSClient({ region: "eu-west-1", credentials: creds, endpoint: moto.url }).send(
      new CreateClusterCommand({
        name: "fleet-eks",
        roleArn: "arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig: { subnetIds: [] },
      }),
    );
    const live = await loadLiveModel(topology);
    const report = await prove(topology, live.model, "live");
    const link = report.links.find((l) => l.id === "stackset.instances");
    assert.equal(link?.status, "pass", JSON.stringify(link));
    assert.match(
      link?.summary ?? "",
      /^2 stack instances of StackSet xeks-fleet-eks-client-fleet-identity CURRENT in 2 accounts: /,
    );
    for (const account of members) assert.ok(link?.summary.includes(account), account);
    assert.equal(live.stats.byAction["cloudformation:ListStackInstances"], 1);

    const changed = JSON.parse(body) as Doc;
    changed.Description = `${changed.Description} (changed)`;
    const third = await deployStackSet(api, set, JSON.stringify(changed), "fleet-eks", () => {}, fast);
    assert.equal(third.outcome, "updated");
    assert.equal(moto.count("UpdateStackSet"), 1);
    // What moto lets check (docs/deploy.md, gap 21: its UpdateStackSet re-deploys no member stack with
    // DeploymentTargets): the call's targets and settings, and the template stored.
    const update = moto.requests().find((r) => r.action === "UpdateStackSet");
    const params = new URLSearchParams(update?.body ?? "");
    assert.equal(params.get("DeploymentTargets.OrganizationalUnitIds.member.1"), ou);
    assert.equal(params.get("Regions.member.1"), "eu-west-1");
    assert.equal(params.get("AutoDeployment.Enabled"), "true");
    assert.equal(params.get("AutoDeployment.RetainStacksOnAccountRemoval"), "false");
    assert.equal(params.get("CallAs"), "SELF");
    const stored = JSON.parse((await api.describe(set.name, "SELF"))?.templateBody ?? "{}") as Doc;
    assert.equal(stored.Description, changed.Description);
  });
});

test("the describe-stack-set-operation command quotes an operation id from AWS that is not one plain word", () => {
  const plain = stackSetOperationCommand({
    stackSet: "xeks-c-client-fleet",
    operationId: "0f3c9a1e-7b2d-4c55-9e1a-1234567890ab",
    callAs: "SELF",
    region: "eu-west-1",
  });
  assert.equal(
    plain,
    "aws cloudformation describe-stack-set-operation --stack-set-name xeks-c-client-fleet --operation-id 0f3c9a1e-7b2d-4c55-9e1a-1234567890ab --call-as SELF --region eu-west-1",
  );
  const hostile = stackSetOperationCommand({
    stackSet: "xeks-c-client-fleet",
    operationId: "x$(touch /tmp/pwned)'",
    callAs: "SELF",
    region: "eu-west-1",
  });
  const r = spawnSync("sh", ["-c", `set -- ${hostile.slice("aws ".length)}; printf '%s\\n' "$@"`], {
    encoding: "utf8",
  });
  assert.ok(r.stdout.split("\n").includes("x$(touch /tmp/pwned)'"), r.stdout);
});
