/**
 * The parts of deploy that the emulator cannot exercise (moto's CloudFormation mishandles cross-account
 * peering and skips EKS access entries), covered as pure functions: the order of phases and stacks, which
 * credentials act on each stack, the parameters each stack gets from earlier outputs, the wait for the peering
 * connection, what a stack needs given its state, the failure report, the authentication-mode step and the
 * credential checks, all with fakes.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import type { StackEvent } from "@aws-sdk/client-cloudformation";
import { memoizeProvider } from "../src/aws/credentials.js";
import { clusterDescription } from "../src/aws/eks.js";
import { renderConfirmation, resumeCommand } from "../src/cli/deploy.js";
import { parseClientProfiles } from "../src/cli/profiles.js";
import { authModeBlocked, readAuthMode, updateAuthMode } from "../src/deploy/auth-mode.js";
import type { EksApi, StsApi } from "../src/deploy/aws.js";
import { type CredentialSet, credentialSets } from "../src/deploy/credentials.js";
import { describeFailure, inferResource, reasonFromError, rootCause } from "../src/deploy/failure.js";
import { verifyIdentities } from "../src/deploy/identity.js";
import { XeksIoHost } from "../src/deploy/io-host.js";
import { waitForPeering } from "../src/deploy/peering.js";
import {
  blockedByDependents,
  classifyStack,
  type DeployStep,
  deploySteps,
  destroyOrder,
  PEERING_OUTPUT,
  parameterChanges,
  resolveParameters,
} from "../src/deploy/plan.js";
import type { DeployEvent } from "../src/deploy/types.js";
import { InputError, OperationError } from "../src/errors.js";
import { buildManifest, type XeksManifest } from "../src/infra/manifest.js";
import { planLayout } from "../src/layout/layout.js";
import { parseTopology } from "../src/topology/load.js";
import type { Topology } from "../src/topology/types.js";

const example = (name: string): Topology =>
  parseTopology(readFileSync(new URL(`../examples/${name}.yaml`, import.meta.url), "utf8"), `${name}.yaml`);

function manifestOf(topology: Topology): XeksManifest {
  return buildManifest(planLayout(topology), new Map(), {
    pack: "AwsSolutions",
    ran: false,
    acknowledged: [],
  });
}

const seed = example("seed");
const teams = example("teams");
const SEED = manifestOf(seed);
const TEAMS = manifestOf(teams);

const stackStep = (steps: DeployStep[]) => steps.filter((s) => s.kind === "stack");

describe("deploy steps", () => {
  test("phases in order, every stack after the stacks it depends on", () => {
    for (const m of [SEED, TEAMS]) {
      const steps = deploySteps(m);
      const phases = steps.filter((s) => s.kind === "phase").map((s) => s.phase);
      assert.deepEqual(phases, [1, 2, 3, 4]);
      const order = stackStep(steps).map((s) => (s.kind === "stack" ? s.stack.name : ""));
      assert.equal(order.length, m.phases.flatMap((p) => p.stacks).length);
      for (const s of m.phases.flatMap((p) => p.stacks)) {
        for (const dep of s.dependsOn) {
          assert.ok(order.indexOf(dep) < order.indexOf(s.name), `${dep} before ${s.name}`);
        }
      }
    }
  });

  test("the seed topology: five stacks, with the client's credentials on the client side", () => {
    const steps = stackStep(deploySteps(SEED));
    assert.deepEqual(
      steps.map((s) => (s.kind === "stack" ? [s.phase, s.stack.name, s.credentials, s.stack.account] : [])),
      [
        [1, "xeks-prac-eks-abhi-client-ops-identity", "client ops", "222222222222"],
        [2, "xeks-prac-eks-abhi-cluster-base", "cluster", "111111111111"],
        [2, "xeks-prac-eks-abhi-cluster-access-EKS-CrossAccount-Access-Role", "cluster", "111111111111"],
        [3, "xeks-prac-eks-abhi-client-ops-link", "client ops", "222222222222"],
        [4, "xeks-prac-eks-abhi-cluster-link-ops", "cluster", "111111111111"],
      ],
    );
  });

  test("a wait for the peering connection, in the accepter (cluster) account, right before each cluster-side route stack", () => {
    const steps = deploySteps(TEAMS);
    const waits = steps.filter((s) => s.kind === "wait-peering");
    assert.equal(waits.length, teams.clients.length);
    for (const w of waits) {
      if (w.kind !== "wait-peering") continue;
      const next = steps[steps.indexOf(w) + 1];
      assert.equal(next?.kind, "stack");
      assert.equal(next?.kind === "stack" ? next.stack.name : "", w.stack);
      assert.equal(w.account, teams.cluster.account);
      assert.equal(w.credentials, "cluster");
      assert.equal(w.phase, 4);
      assert.equal(w.source.output, PEERING_OUTPUT);
      const client = w.stack.replace("xeks-prac-eks-abhi-cluster-link-", "");
      assert.equal(w.source.stack, `xeks-prac-eks-abhi-client-${client}-link`);
      // The source is deployed before the wait.
      const src = steps.findIndex((s) => s.kind === "stack" && s.stack.name === w.source.stack);
      assert.ok(src >= 0 && src < steps.indexOf(w));
    }
  });

  test("a parameter that reads a stack of the same or a later phase is refused", () => {
    const bad = structuredClone(SEED);
    const p4 = bad.phases.find((p) => p.number === 4);
    const p3 = bad.phases.find((p) => p.number === 3);
    if (!p4 || !p3) throw new Error("seed manifest has no phases 3 and 4");
    p3.stacks[0]?.parameters.push({
      name: "X",
      description: "",
      source: { stack: p4.stacks[0]?.name ?? "", output: "Y", phase: 4 },
    });
    assert.throws(() => deploySteps(bad), OperationError);
  });

  test("destroy goes in reverse: phases 4 to 1", () => {
    const order = destroyOrder(TEAMS);
    const phases = order.map((o) => o.phase);
    assert.deepEqual(
      phases,
      [...phases].sort((a, b) => b - a),
    );
    assert.equal(order.length, TEAMS.phases.flatMap((p) => p.stacks).length);
    assert.equal(order[0]?.credentials, "cluster");
    assert.equal(order.at(-1)?.credentials.startsWith("client "), true);
  });
});

describe("parameters from earlier outputs", () => {
  const fakeOutputs = new Map<string, Record<string, string>>([
    ["xeks-prac-eks-abhi-client-payments-link", { PeeringConnectionId: "pcx-0123456789abcdef0" }],
    [
      "xeks-prac-eks-abhi-client-analytics-link",
      { PeeringConnectionId: "pcx-0fedcba9876543210", InstanceId: "i-1" },
    ],
  ]);

  test("each cluster-side stack gets its own client's peering id", () => {
    const got = Object.fromEntries(
      TEAMS.phases
        .flatMap((p) => p.stacks)
        .filter((s) => s.parameters.length > 0)
        .map((s) => [s.name, resolveParameters(s, fakeOutputs)]),
    );
    assert.deepEqual(got, {
      "xeks-prac-eks-abhi-cluster-link-payments": { PeeringConnectionId: "pcx-0123456789abcdef0" },
      "xeks-prac-eks-abhi-cluster-link-analytics": { PeeringConnectionId: "pcx-0fedcba9876543210" },
    });
  });

  test("stacks without parameters get none; a missing output names the stack and the output", () => {
    const base = TEAMS.phases[1]?.stacks[0];
    if (!base) throw new Error("no phase 2 stack");
    assert.deepEqual(resolveParameters(base, new Map()), {});
    const link = TEAMS.phases[3]?.stacks[0];
    if (!link) throw new Error("no phase 4 stack");
    assert.throws(
      () => resolveParameters(link, new Map([["xeks-prac-eks-abhi-client-payments-link", {}]])),
      (e: Error) =>
        e instanceof OperationError &&
        e.message.includes("PeeringConnectionId") &&
        e.message.includes("xeks-prac-eks-abhi-client-payments-link"),
    );
  });

  test("parameter changes", () => {
    assert.deepEqual(parameterChanges(undefined, { P: "pcx-1" }), [{ name: "P", to: "pcx-1" }]);
    assert.deepEqual(parameterChanges({ P: "pcx-1" }, { P: "pcx-1" }), []);
    assert.deepEqual(parameterChanges({ P: "pcx-1" }, { P: "pcx-2" }), [
      { name: "P", from: "pcx-1", to: "pcx-2" },
    ]);
  });
});

describe("what a stack needs", () => {
  const base = { name: "s", templateChanged: false, parameters: [], parametersKnown: true };
  const cases: [string | undefined, Partial<typeof base>, string][] = [
    [undefined, {}, "create"],
    ["DELETE_COMPLETE", {}, "create"],
    ["REVIEW_IN_PROGRESS", {}, "create"],
    ["ROLLBACK_COMPLETE", {}, "recreate"],
    ["ROLLBACK_FAILED", {}, "recreate"],
    ["CREATE_COMPLETE", {}, "unchanged"],
    ["UPDATE_COMPLETE", {}, "unchanged"],
    ["UPDATE_ROLLBACK_COMPLETE", { templateChanged: true }, "update"],
    ["CREATE_COMPLETE", { templateChanged: true }, "update"],
    ["CREATE_COMPLETE", { parameters: [{ name: "P", from: "pcx-1", to: "pcx-2" }] as never }, "update"],
    ["CREATE_COMPLETE", { parametersKnown: false }, "pending"],
    ["UPDATE_IN_PROGRESS", {}, "blocked"],
    ["CREATE_IN_PROGRESS", {}, "blocked"],
    ["UPDATE_ROLLBACK_FAILED", {}, "blocked"],
    ["DELETE_FAILED", {}, "blocked"],
  ];
  for (const [status, over, want] of cases) {
    test(`${status ?? "no stack"}${over.templateChanged ? " + template diff" : ""}${over.parametersKnown === false ? " + parameters not yet known" : ""}${over.parameters ? " + parameter change" : ""} -> ${want}`, () => {
      assert.equal(classifyStack({ ...base, ...over, status }).action, want);
    });
  }

  test("a blocked stack says how to move on", () => {
    const c = classifyStack({ ...base, status: "UPDATE_ROLLBACK_FAILED" });
    assert.ok(c.action === "blocked" && c.fix.includes("continue-update-rollback --stack-name s"));
  });

  test("destroy keeps a stack while a stack that depends on it remains", () => {
    const link = "xeks-prac-eks-abhi-client-ops-link";
    assert.deepEqual(blockedByDependents(SEED, link, new Set(["xeks-prac-eks-abhi-cluster-link-ops"])), [
      "xeks-prac-eks-abhi-cluster-link-ops",
    ]);
    assert.deepEqual(blockedByDependents(SEED, link, new Set()), []);
  });
});

describe("failures", () => {
  const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
  test("the first failed resource is the cause, not the cancellations after it", () => {
    const cause = rootCause([
      {
        logicalId: "B",
        resourceType: "AWS::EC2::Route",
        status: "CREATE_FAILED",
        reason: "Resource creation cancelled",
        time: t(3),
      },
      {
        logicalId: "S",
        resourceType: "AWS::CloudFormation::Stack",
        status: "ROLLBACK_IN_PROGRESS",
        time: t(4),
      },
      {
        logicalId: "A",
        resourceType: "AWS::EC2::Route",
        status: "CREATE_FAILED",
        reason: "route table not found",
        time: t(2),
      },
    ]);
    assert.equal(cause?.logicalId, "A");
  });

  test("without a failed resource event: the reason from the error, the resource inferred from the template", () => {
    const err = new Error(
      "❌  xeks-x-client-ops-link failed: InvalidVpcID.NotFound: VpcID vpc-0aaa1111bbbb2222c does not exist.",
    );
    assert.equal(
      reasonFromError(err, "xeks-x-client-ops-link"),
      "InvalidVpcID.NotFound: VpcID vpc-0aaa1111bbbb2222c does not exist.",
    );
    const template = {
      Resources: {
        RouteToCluster: { Type: "AWS::EC2::Route", Properties: { RouteTableId: "rtb-0ddd3333eeee4444f" } },
        PeeringConnection: {
          Type: "AWS::EC2::VPCPeeringConnection",
          Properties: { PeerVpcId: "vpc-0aaa1111bbbb2222c" },
        },
      },
    };
    assert.deepEqual(inferResource("VpcID vpc-0aaa1111bbbb2222c does not exist", template), {
      logicalId: "PeeringConnection",
      resourceType: "AWS::EC2::VPCPeeringConnection",
    });
    assert.deepEqual(describeFailure("xeks-x-client-ops-link", [], err, template), {
      stack: "xeks-x-client-ops-link",
      resource: "PeeringConnection",
      resourceType: "AWS::EC2::VPCPeeringConnection",
      reason: "InvalidVpcID.NotFound: VpcID vpc-0aaa1111bbbb2222c does not exist.",
      inferred: true,
    });
    assert.deepEqual(describeFailure("s", [], new Error("Throttling: slow down"), template), {
      stack: "s",
      reason: "Throttling: slow down",
    });
  });

  test("toolkit-lib's stack activity becomes resource events; failures are kept per stack; questions are answered", async () => {
    const events: DeployEvent[] = [];
    const host = new XeksIoHost((e) => events.push(e));
    const event: StackEvent = {
      StackId: "id",
      EventId: "e1",
      StackName: "xeks-s",
      LogicalResourceId: "RouteToClientRtb1",
      ResourceType: "AWS::EC2::Route",
      ResourceStatus: "CREATE_FAILED",
      ResourceStatusReason: "The routeTable ID 'rtb-1' does not exist",
      Timestamp: t(1),
    };
    const msg = { time: t(1), level: "info" as const, action: "deploy" as const, message: "x" };
    await host.notify({
      ...msg,
      code: "CDK_TOOLKIT_I5502",
      data: { deployment: "d", event, progress: { completed: 0, formatted: "" } },
    });
    await host.notify({
      ...msg,
      code: "CDK_TOOLKIT_I5502",
      data: { deployment: "d", event, progress: { completed: 0, formatted: "" } },
    });
    // A poll's resource events are emitted together, oldest first, at the next turn of the event loop.
    host.flush();
    await host.notify({ ...msg, level: "debug", message: "\u001b[1mnoise\u001b[22m", data: undefined });
    assert.deepEqual(
      events.filter((e) => e.type === "resource"),
      [
        {
          type: "resource",
          stack: "xeks-s",
          logicalId: "RouteToClientRtb1",
          resourceType: "AWS::EC2::Route",
          status: "CREATE_FAILED",
          reason: "The routeTable ID 'rtb-1' does not exist",
          time: t(1).toISOString(),
        },
      ],
    );
    assert.equal(host.failures.get("xeks-s")?.length, 1);
    assert.deepEqual(events.at(-1), { type: "debug", message: "[debug] noise" });
    const req = { ...msg, defaultResponse: false, data: {} };
    assert.equal(await host.requestResponse({ ...req, code: "CDK_TOOLKIT_I5060" }), true);
    assert.equal(await host.requestResponse({ ...req, code: "CDK_TOOLKIT_I9210" }), false);
  });
});

describe("authentication mode", () => {
  function fakeEks(mode: string | undefined, updates: string[] = ["Successful"]) {
    const calls: string[] = [];
    const api: EksApi = {
      async describeCluster(name) {
        calls.push(`DescribeCluster ${name}`);
        // The answer as EKS sends it, through the one normalizer (src/aws/eks.ts).
        return name === seed.cluster.name
          ? clusterDescription(
              {
                name,
                status: "ACTIVE",
                ...(mode ? { accessConfig: { authenticationMode: mode as never } } : {}),
              },
              name,
            )
          : undefined;
      },
      async updateAuthenticationMode(name, m) {
        calls.push(`UpdateClusterConfig ${name} ${m}`);
        return { updateId: "u-1", status: "InProgress" };
      },
      async describeUpdate(_name, id) {
        calls.push(`DescribeUpdate ${id}`);
        return { status: updates.shift() ?? "Successful", errors: ["InvalidRequest: nope"] };
      },
    };
    return { api, calls };
  }

  test("CONFIG_MAP stops the run before any change, saying how to move on", async () => {
    const { api, calls } = fakeEks("CONFIG_MAP");
    const state = await readAuthMode(seed, api, false);
    assert.deepEqual(state, {
      cluster: "prac-eks-abhi",
      mode: "CONFIG_MAP",
      source: "live",
      action: "blocked",
    });
    const err = authModeBlocked(state, seed);
    assert.ok(err instanceof InputError);
    const text = `${err.message} ${err.issues.map((i) => `${i.path} ${i.message}`).join(" ")}`;
    assert.match(text, /--allow-auth-mode-change/);
    assert.match(text, /one-way/);
    assert.match(
      text,
      /aws eks update-cluster-config --name prac-eks-abhi --region ap-south-1 --access-config authenticationMode=API_AND_CONFIG_MAP/,
    );
    assert.deepEqual(calls, ["DescribeCluster prac-eks-abhi"]);
  });

  test("with consent: UpdateClusterConfig, then DescribeUpdate until Successful", async () => {
    const { api, calls } = fakeEks("CONFIG_MAP", ["InProgress", "InProgress", "Successful"]);
    const state = await readAuthMode(seed, api, true);
    assert.equal(state.action, "update");
    const events: DeployEvent[] = [];
    await updateAuthMode(seed, api, (e) => events.push(e), { sleep: async () => {} });
    assert.deepEqual(calls, [
      "DescribeCluster prac-eks-abhi",
      "UpdateClusterConfig prac-eks-abhi API_AND_CONFIG_MAP",
      "DescribeUpdate u-1",
      "DescribeUpdate u-1",
      "DescribeUpdate u-1",
    ]);
    assert.deepEqual(
      events.map((e) => (e.type === "auth-mode-update" ? e.status : "")),
      ["started", "in-progress", "in-progress", "successful"],
    );
  });

  test("an update that fails stops the run", async () => {
    const { api } = fakeEks("CONFIG_MAP", ["Failed"]);
    await assert.rejects(
      updateAuthMode(seed, api, () => {}, { sleep: async () => {} }),
      /ended Failed.*InvalidRequest/,
    );
  });

  test("API modes need nothing; no accessConfig is CONFIG_MAP whatever the topology declares; an unknown mode is refused", async () => {
    assert.equal((await readAuthMode(seed, fakeEks("API").api, false)).action, "none");
    // The topology declares API_AND_CONFIG_MAP; EKS's answer without accessConfig is CONFIG_MAP (src/aws/eks.ts).
    assert.equal(seed.cluster.authenticationMode, "API_AND_CONFIG_MAP");
    assert.deepEqual(await readAuthMode(seed, fakeEks(undefined).api, false), {
      cluster: "prac-eks-abhi",
      mode: "CONFIG_MAP",
      source: "live",
      action: "blocked",
    });
    assert.equal((await readAuthMode(seed, fakeEks(undefined).api, true)).action, "update");
    const state = await readAuthMode(seed, fakeEks("SOMETHING_NEW").api, true);
    assert.equal(state.action, "blocked");
    assert.equal(state.mode, undefined);
    assert.match(authModeBlocked(state, seed).message, /does not know/);
  });

  test("a cluster that does not exist is an error", async () => {
    const other = { ...seed, cluster: { ...seed.cluster, name: "other" } };
    await assert.rejects(
      readAuthMode(other, fakeEks("API").api, false),
      /cluster other not found in account 111111111111/,
    );
  });
});

describe("waiting for the peering connection", () => {
  const where = { stack: "xeks-x-cluster-link-ops", account: "111111111111", region: "ap-south-1" };
  test("pending-acceptance, then active", async () => {
    const states = ["pending-acceptance", "provisioning", "active"];
    const seen: string[] = [];
    await waitForPeering(
      "pcx-1",
      { describePeering: async () => ({ status: states.shift() ?? "active" }) },
      where,
      (e) => {
        if (e.type === "peering") seen.push(e.status);
      },
      { sleep: async () => {} },
    );
    assert.deepEqual(seen, ["pending-acceptance", "provisioning", "active"]);
  });

  test("a failed or rejected connection stops the run; one never visible times out", async () => {
    await assert.rejects(
      waitForPeering(
        "pcx-1",
        { describePeering: async () => ({ status: "failed", message: "overlapping CIDRs" }) },
        where,
        () => {},
      ),
      /pcx-1 is failed \(overlapping CIDRs\)/,
    );
    await assert.rejects(
      waitForPeering("pcx-1", { describePeering: async () => undefined }, where, () => {}, {
        timeoutMs: 0,
        sleep: async () => {},
      }),
      /not visible in account 111111111111/,
    );
  });
});

describe("credentials", () => {
  test("--client-profile NAME=PROFILE, checked against the topology", () => {
    assert.deepEqual(parseClientProfiles(["payments=p", "analytics=a"], teams), {
      payments: "p",
      analytics: "a",
    });
    assert.throws(() => parseClientProfiles(["payments"], teams), InputError);
    assert.throws(() => parseClientProfiles(["nobody=p"], teams), /does not have/);
    assert.throws(() => parseClientProfiles(["payments=a", "payments=b"], teams), /two profiles/);
  });

  test("one provider per profile; sets sharing a profile share it", () => {
    const made: (string | undefined)[] = [];
    const sets = credentialSets(
      teams,
      { clusterProfile: "a", clientProfiles: { payments: "b" } },
      (profile) => {
        made.push(profile);
        return async () => ({ accessKeyId: "k", secretAccessKey: "s" });
      },
    );
    assert.deepEqual([...sets.keys()], ["cluster", "client payments", "client analytics"]);
    assert.deepEqual(made, ["a", "b", undefined]);
    assert.equal(sets.get("client analytics")?.profile, undefined);
  });

  test("memoized credentials: one resolution until they near expiry", async () => {
    let n = 0;
    const p = memoizeProvider(async () => ({
      accessKeyId: `k${++n}`,
      secretAccessKey: "s",
      expiration: new Date(Date.now() + 3600_000),
    }));
    assert.equal((await p()).accessKeyId, "k1");
    assert.equal((await p()).accessKeyId, "k1");
    let m = 0;
    const q = memoizeProvider(async () => ({
      accessKeyId: `k${++m}`,
      secretAccessKey: "s",
      expiration: new Date(Date.now() + 1000),
    }));
    await q();
    assert.equal((await q()).accessKeyId, "k2");
  });

  test("credentials of the wrong account are refused, naming the profile, the expected and the actual account", async () => {
    const sets = credentialSets(
      seed,
      { clusterProfile: "admin-a", clientProfiles: { ops: "admin-x" } },
      () => async () => ({
        accessKeyId: "k",
        secretAccessKey: "s",
      }),
    );
    const who: Record<string, string> = { cluster: "111111111111", "client ops": "333333333333" };
    let calls = 0;
    const apis = {
      sts: (set: CredentialSet): StsApi => ({
        getCallerIdentity: async () => {
          calls++;
          return { account: who[set.key] ?? "", arn: `arn:aws:sts::${who[set.key]}:assumed-role/r/s` };
        },
      }),
    } as never;
    await assert.rejects(verifyIdentities(sets.values(), apis), (e: Error) => {
      assert.ok(e instanceof InputError);
      const text = e.issues.map((i) => `${i.path}: ${i.message}`).join("\n");
      assert.match(text, /profile admin-x/);
      assert.match(text, /333333333333/);
      assert.match(text, /222222222222/);
      assert.match(text, /--client-profile ops=PROFILE/);
      assert.doesNotMatch(text, /admin-a/);
      return true;
    });
    assert.equal(calls, 2);
  });
});

describe("CLI rendering", () => {
  test("the resume command repeats the file and the flags", () => {
    assert.equal(
      resumeCommand("my topology.yaml", {
        out: "xeks.out",
        clusterProfile: "a",
        clientProfile: ["ops=b"],
        output: "text",
        yes: true,
        allowAuthModeChange: true,
        doctor: true,
      }),
      "xeks deploy 'my topology.yaml' --cluster-profile a --client-profile ops=b --allow-auth-mode-change --yes",
    );
  });

  test("the confirmation lists what changes per stack and the authentication mode switch", () => {
    const text = renderConfirmation({
      command: "deploy",
      cluster: "prac-eks-abhi",
      authMode: { cluster: "prac-eks-abhi", mode: "CONFIG_MAP", source: "live", action: "update" },
      stacks: [
        {
          name: "xeks-a",
          phase: 4,
          account: "111111111111",
          region: "ap-south-1",
          credentials: "cluster",
          action: "update",
          reason: "its template differs",
          resources: [{ logicalId: "RouteToClient", resourceType: "AWS::EC2::Route", change: "add" }],
          parameters: [{ name: "PeeringConnectionId", from: "pcx-1", to: "pcx-2" }],
        },
        {
          name: "xeks-b",
          phase: 1,
          account: "222222222222",
          region: "ap-south-1",
          credentials: "client ops",
          action: "unchanged",
          reason: "same",
          resources: [],
          parameters: [],
        },
      ],
    });
    assert.match(text, /CONFIG_MAP -> API_AND_CONFIG_MAP \(one-way/);
    assert.match(text, /phase 4 {2}xeks-a {2}\(111111111111, cluster\): update/);
    assert.match(text, /\+ RouteToClient {2}AWS::EC2::Route/);
    assert.match(text, /parameter PeeringConnectionId: pcx-1 -> pcx-2/);
    assert.match(text, /1 stack\(s\) unchanged/);
  });
});
