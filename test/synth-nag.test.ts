/**
 * `synthesize` runs cdk-nag itself (`NagPack.validateScope` on the synthesized app) instead of as a CDK validation
 * plugin (src/infra/synthesize.ts `runNag`): the same findings, and the same `validation-report.json`, as the plugin
 * gives on the same app. The plugin side is `buildApp(..., { nag: true })` and `app.synth()`, read back with
 * `findingsOf` as synthesize did before.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { App, Stack, Validations } from "aws-cdk-lib";
import { CfnSecurityGroupIngress } from "aws-cdk-lib/aws-ec2";
import { AccountRootPrincipal, ManagedPolicy, PolicyStatement, Role } from "aws-cdk-lib/aws-iam";
import { CfnQueue } from "aws-cdk-lib/aws-sqs";
import { acknowledge, awsSolutionsChecks, findingsOf, nagFindings } from "../src/infra/nag.js";
import { addXeksStacks } from "../src/infra/stacks.js";
import { APP_CONTEXT, buildApp } from "../src/infra/synthesize.js";
import { loadTopology } from "../src/topology/index.js";
import type { Topology } from "../src/topology/types.js";
import { synth, tempDir } from "./helpers/infra.js";
import { generatedInput, topologyOf } from "./helpers/topologies.js";

/** The findings of the plugin path (read from its validation-report.json) and of the direct path, on equal apps. */
function bothWays(make: (app: App) => void) {
  const pluginDir = tempDir("xeks-nag-plugin-");
  const withPlugin = new App({
    outdir: pluginDir,
    context: { ...APP_CONTEXT },
    builtinCloudFormationValidation: false,
  });
  make(withPlugin);
  Validations.of(withPlugin).addPlugins(awsSolutionsChecks(withPlugin));
  withPlugin.synth();
  const report = readFileSync(join(pluginDir, "validation-report.json"), "utf8");
  const direct = new App({
    outdir: tempDir("xeks-nag-direct-"),
    context: { ...APP_CONTEXT },
    builtinCloudFormationValidation: false,
  });
  make(direct);
  direct.synth();
  const found = {
    plugin: findingsOf(JSON.parse(report)),
    direct: nagFindings(awsSolutionsChecks(direct).validateScope(direct)),
  };
  for (const dir of [pluginDir, direct.outdir]) rmSync(dir, { recursive: true, force: true });
  return found;
}

function openTopology(): Topology {
  // The file refuses a /0 CIDR (topology-errors.test.ts); set past validation to provoke EC23 on two clients.
  const topology = topologyOf(generatedInput(3));
  (topology.clients[0] as { vpc: { cidr: string } }).vpc.cidr = "0.0.0.0/0";
  (topology.clients[2] as { vpc: { cidr: string } }).vpc.cidr = "0.0.0.0/0";
  return topology;
}

test("findings: the same from the pack's own report as from CDK's validation report", () => {
  const xeks = bothWays((app) => {
    addXeksStacks(app, { topology: openTopology() });
  });
  assert.equal(xeks.plugin.length, 1);
  assert.equal(xeks.plugin[0]?.paths.length, 2);
  assert.deepEqual(xeks.direct, xeks.plugin);

  // Several rules (one of a deferred module), one finding acknowledged on a scope, another left on its child.
  const mixed = bothWays((app) => {
    const stack = new Stack(app, "Mixed", { env: { account: "111111111111", region: "eu-west-1" } });
    const admin = new Role(stack, "Admin", {
      assumedBy: new AccountRootPrincipal(),
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName("AdministratorAccess")],
    });
    admin.addToPolicy(new PolicyStatement({ actions: ["s3:*"], resources: ["*"] }));
    const quiet = new Role(stack, "Quiet", { assumedBy: new AccountRootPrincipal() });
    quiet.addToPolicy(new PolicyStatement({ actions: ["ec2:Describe*"], resources: ["*"] }));
    acknowledge(quiet, "AwsSolutions-IAM5[Action::ec2:Describe*]", "a test of an acknowledged finding");
    new CfnSecurityGroupIngress(stack, "Open", {
      groupId: "sg-0123456789abcdef0",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIp: "0.0.0.0/0",
    });
    new CfnQueue(stack, "Queue"); // a type xeks never emits: the deferred rule module loads and runs
  });
  assert.ok(mixed.plugin.length >= 5, JSON.stringify(mixed.plugin));
  assert.ok(mixed.plugin.some((f) => f.rule === "AwsSolutions-SQS3"));
  assert.ok(
    !mixed.plugin.some((f) => f.rule.includes("ec2:Describe")),
    "the acknowledged finding is left out",
  );
  assert.deepEqual(mixed.direct, mixed.plugin);
});

test("validation-report.json: the bytes CDK's plugin writes, for the examples and a generated topology", () => {
  for (const topology of [
    loadTopology("examples/teams.yaml"),
    loadTopology("examples/adopt.yaml"),
    topologyOf(generatedInput(4)),
  ]) {
    const pluginDir = tempDir("xeks-nag-plugin-");
    buildApp(topology, { outdir: pluginDir, nag: true }).app.synth();
    const result = synth(topology);
    assert.equal(
      readFileSync(join(result.outDir, "validation-report.json"), "utf8"),
      readFileSync(join(pluginDir, "validation-report.json"), "utf8"),
    );
    assert.equal(result.manifest.nag.ran, true);
    for (const dir of [pluginDir, join(result.outDir, "..")]) rmSync(dir, { recursive: true, force: true });
  }
});

test("acknowledge refuses a namespaced id: only cdk-nag's own ids, which it matches itself", () => {
  const stack = new Stack(new App(), "S");
  assert.throws(
    () => acknowledge(stack, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", "why"),
    /without a namespace/,
  );
  assert.throws(() => acknowledge(stack, "Annotation::AwsSolutions-EC28", "why"), /without a namespace/);
  assert.throws(() => acknowledge(stack, "Mine[a]::Rule", "why"), /without a namespace/);
  acknowledge(stack, "AwsSolutions-IAM5[Resource::arn:aws:ec2:eu-west-1:1:vpc-peering-connection/*]", "why");
});
