/**
 * synthesize(): the cloud assembly and xeks.manifest.json, all-or-nothing writes, cdk-nag, cfn-lint, size of a
 * 50-client topology, and silence on stderr.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { InputError, OperationError } from "../src/errors.js";
import { namespaceTag } from "../src/files/index.js";
import { manifestStacks, type XeksManifest } from "../src/infra/manifest.js";
import { synthesize } from "../src/infra/synthesize.js";
import { loadTopology } from "../src/topology/index.js";
import { synth, tempDir } from "./helpers/infra.js";
import { generatedInput, generatedTopology, topologyOf } from "./helpers/topologies.js";

const seed = loadTopology("examples/seed.yaml");
const teams = loadTopology("examples/teams.yaml");

/** The acknowledgements xeks makes, and nothing else. */
const EXPECTED_ACKS = [
  "AwsSolutions-IAM5[Resource::*]",
  "AwsSolutions-IAM5[Resource::arn:aws:ec2:ap-south-1:111111111111:vpc-peering-connection/*]",
  "AwsSolutions-IAM4[Policy::arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]",
  "AwsSolutions-EC28",
  "AwsSolutions-EC29",
];

function checkManifest(dir: string, manifest: XeksManifest): void {
  const onDisk = JSON.parse(readFileSync(join(dir, "xeks.manifest.json"), "utf8")) as XeksManifest;
  assert.deepEqual(onDisk, manifest);
  assert.equal(manifest.kind, "XeksManifest");
  assert.equal(manifest.version, 1);
  assert.deepEqual(
    manifest.phases.map((p) => p.number),
    [1, 2, 3, 4],
  );
  const cdk = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
    artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile?: string } }>;
  };
  const phaseOf = new Map<string, number>();
  for (const phase of manifest.phases) {
    for (const stack of phase.stacks) {
      phaseOf.set(stack.name, phase.number);
      // Every stack is in the CDK assembly, in its account and region, with its template.
      const artifact = cdk.artifacts[stack.name];
      assert.ok(artifact, `${stack.name} missing from manifest.json`);
      assert.equal(artifact.type, "aws:cloudformation:stack");
      assert.equal(artifact.environment, `aws://${stack.account}/${stack.region}`);
      assert.equal(artifact.properties?.templateFile, stack.templateFile);
      assert.equal(statSync(join(dir, stack.templateFile)).size, stack.templateBytes);
      assert.ok(phase.accounts.includes(stack.account));
      const template = JSON.parse(readFileSync(join(dir, stack.templateFile), "utf8")) as {
        Parameters?: Record<string, { Default?: unknown }>;
        Outputs?: Record<string, unknown>;
      };
      // Parameters in the template are exactly those the manifest sources, and outputs match.
      assert.deepEqual(
        Object.keys(template.Parameters ?? {}).sort(),
        stack.parameters.map((p) => p.name).sort(),
      );
      assert.deepEqual(Object.keys(template.Outputs ?? {}).sort(), stack.outputs.map((o) => o.name).sort());
      // Dependencies are on earlier phases only.
      for (const dep of stack.dependsOn) {
        const depPhase = phaseOf.get(dep);
        assert.ok(
          depPhase !== undefined && depPhase < phase.number,
          `${stack.name} depends on ${dep} (not earlier)`,
        );
      }
    }
  }
  // Every parameter comes from an output of a stack of an earlier phase, in the same... or another account.
  const byName = new Map(manifestStacks(manifest).map((s) => [s.name, s]));
  for (const stack of manifestStacks(manifest)) {
    for (const p of stack.parameters) {
      const source = byName.get(p.source.stack);
      assert.ok(source, `${stack.name}.${p.name}: unknown source stack ${p.source.stack}`);
      assert.ok(
        source.outputs.some((o) => o.name === p.source.output),
        `${p.source.stack} has no ${p.source.output}`,
      );
      assert.equal(phaseOf.get(source.name), p.source.phase);
      assert.ok(p.source.phase < (phaseOf.get(stack.name) ?? 0));
      assert.ok(stack.dependsOn.includes(source.name));
    }
  }
}

test("seed: assembly, templates and xeks.manifest.json agree; the peering id crosses from phase 3 to 4", () => {
  const result = synth(seed);
  checkManifest(result.outDir, result.manifest);
  const link = manifestStacks(result.manifest).find((s) => s.name === "xeks-prac-eks-abhi-cluster-link-ops");
  assert.deepEqual(
    link?.parameters.map((p) => p.source),
    [{ stack: "xeks-prac-eks-abhi-client-ops-link", output: "PeeringConnectionId", phase: 3 }],
  );
  assert.deepEqual(link?.dependsOn, ["xeks-prac-eks-abhi-client-ops-link"]);
  const access = manifestStacks(result.manifest).find((s) => s.kind === "cluster-access");
  assert.deepEqual(
    access?.dependsOn,
    ["xeks-prac-eks-abhi-client-ops-identity"],
    "trust needs the client role",
  );
  assert.deepEqual(
    result.manifest.phases.map((p) => [p.name, p.accounts]),
    [
      ["client-identity", ["222222222222"]],
      ["cluster-access", ["111111111111"]],
      ["client-link", ["222222222222"]],
      ["cluster-link", ["111111111111"]],
    ],
  );
  const files = readdirSync(result.outDir);
  for (const f of ["manifest.json", "xeks.manifest.json"]) assert.ok(files.includes(f));
  assert.equal(files.filter((f) => f.endsWith(".template.json")).length, 5);
});

test("teams: the manifest is consistent, and cdk-nag ran with only the known acknowledgements, each with a reason", () => {
  const result = synth(teams);
  checkManifest(result.outDir, result.manifest);
  assert.equal(result.manifest.nag.ran, true);
  const ids = new Set(result.manifest.nag.acknowledged.map((a) => a.id));
  assert.deepEqual([...ids].sort(), [...EXPECTED_ACKS].sort());
  for (const a of result.manifest.nag.acknowledged)
    assert.ok(a.reason.length > 40, `${a.id}: no real reason`);
  assert.deepEqual(result.annotations, []);
});

test("an unacknowledged cdk-nag finding fails synthesis and writes nothing", () => {
  // The file refuses a VPC CIDR of /0 (topology-errors.test.ts); set it past validation to provoke EC23
  // (ingress from anywhere on the cluster security group).
  const topology = topologyOf(generatedInput(1));
  (topology.clients[0] as { vpc: { cidr: string } }).vpc.cidr = "0.0.0.0/0";
  const dir = join(tempDir(), "out");
  assert.throws(
    () => synthesize(topology, { outDir: dir }),
    (err: unknown) => err instanceof OperationError && /AwsSolutions-EC23/.test(err.hint ?? ""),
  );
  assert.equal(existsSync(dir), false);
  assert.deepEqual(readdirSync(join(dir, "..")), [], "no temporary directory left behind");
});

test("identical client CIDRs still synthesize: the proof, not the layout, reports the overlap", () => {
  const raw = generatedInput(2);
  (raw.clients[1] as { vpc: { cidr: string } }).vpc.cidr = (
    raw.clients[0] as { vpc: { cidr: string } }
  ).vpc.cidr;
  const parent = tempDir();
  const result = synthesize(topologyOf(raw), { outDir: join(parent, "out") });
  assert.equal(result.manifest.phases.length, 4);
});

test("an earlier output is replaced whole; a directory xeks did not write is refused", () => {
  const parent = tempDir();
  const out = join(parent, "out");
  synthesize(teams, { outDir: out });
  assert.ok(readdirSync(out).some((f) => f.includes("analytics")));
  synthesize(seed, { outDir: out });
  assert.ok(!readdirSync(out).some((f) => f.includes("analytics")), "files of the old plan are gone");
  assert.deepEqual(readdirSync(parent), ["out"], "nothing left beside it");

  const mine = join(parent, "mine");
  mkdirSync(mine);
  writeFileSync(join(mine, "notes.txt"), "keep me");
  assert.throws(() => synthesize(seed, { outDir: mine }), InputError);
  assert.deepEqual(readdirSync(mine), ["notes.txt"]);
  const webapp = join(parent, "webapp");
  mkdirSync(webapp);
  writeFileSync(join(webapp, "manifest.json"), "{}");
  assert.throws(() => synthesize(seed, { outDir: webapp }), InputError, "a manifest.json alone is not ours");
  assert.deepEqual(readdirSync(webapp), ["manifest.json"]);
  writeFileSync(join(parent, "file"), "x");
  assert.throws(() => synthesize(seed, { outDir: join(parent, "file") }), InputError);
});

test("what an interrupted plan left beside --out (staging and former directories of a dead pid of this namespace) is removed by the next plan that succeeds", () => {
  const parent = tempDir();
  const out = join(parent, "out");
  // A pid that is surely dead: a child that has exited.
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
  const tag = namespaceTag();
  const otherTag = tag === "00000000" ? "11111111" : "00000000";
  const staged = (name: string, files: Record<string, string>) => {
    mkdirSync(join(parent, name));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(parent, name, f), text);
  };
  const assembly = { "manifest.json": "{}", "a.template.json": "{}", "tree.json": "{}" };
  staged(`.out.tmp-${tag}-${dead}-0a1b2c3d`, assembly); // killed during the synthesis
  staged(`.out.old-${tag}-${dead}-0a1b2c3d`, assembly); // killed between the renames
  staged(`.out.old-${tag}-${dead}-11111111`, { ...assembly, "notes.txt": "a user's file" }); // not only ours: kept
  staged(`.out.tmp-${tag}-${process.ppid}-22222222`, assembly); // a live process (the test runner): kept
  staged(`.out.tmp-${otherTag}-${dead}-44444444`, assembly); // another host or pid namespace (a container): kept
  staged(`.other.tmp-${tag}-${dead}-33333333`, assembly); // another --out: kept
  staged(`.out.tmp-${dead}-nothex!!`, assembly); // not a name xeks gives: kept
  staged(`.out.tmp-${dead}-55555555`, assembly); // an earlier release's untagged name, recent: kept
  staged(`.out.tmp-${dead}-66666666`, assembly); // the same, untouched for two days: removed
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
  utimesSync(join(parent, `.out.tmp-${dead}-66666666`), twoDaysAgo, twoDaysAgo);
  const before = readdirSync(parent).sort();

  // A plan that fails (a cdk-nag finding, after the synthesis) sweeps nothing: a `.old` directory may be the only
  // copy of the former assembly.
  const failing = topologyOf(generatedInput(1));
  (failing.clients[0] as { vpc: { cidr: string } }).vpc.cidr = "0.0.0.0/0";
  assert.throws(() => synthesize(failing, { outDir: out }), OperationError);
  assert.deepEqual(readdirSync(parent).sort(), before);

  synthesize(seed, { outDir: out });
  assert.deepEqual(
    readdirSync(parent).sort(),
    [
      `.other.tmp-${tag}-${dead}-33333333`,
      `.out.old-${tag}-${dead}-11111111`,
      `.out.tmp-${dead}-nothex!!`,
      `.out.tmp-${tag}-${process.ppid}-22222222`,
      `.out.tmp-${otherTag}-${dead}-44444444`,
      `.out.tmp-${dead}-55555555`,
      "out",
    ].sort(),
  );
  assert.deepEqual(readdirSync(join(parent, `.out.old-${tag}-${dead}-11111111`)), ["notes.txt"]);
});

test("the assembly holds no path of this machine (no acknowledgement stack traces): two plans of one file write the same bytes", () => {
  const a = join(tempDir(), "out");
  const b = join(tempDir(), "elsewhere", "out");
  synthesize(teams, { outDir: a });
  synthesize(teams, { outDir: b });
  const files = readdirSync(a).sort();
  assert.deepEqual(readdirSync(b).sort(), files);
  const here = process.cwd();
  for (const f of files) {
    const text = readFileSync(join(a, f), "utf8");
    assert.equal(text, readFileSync(join(b, f), "utf8"), `${f} differs between the two plans`);
    assert.ok(!text.includes(here), `${f} names ${here}`);
    assert.ok(!text.includes('"trace"'), `${f} holds a stack trace`);
  }
  assert.ok(files.some((f) => f.endsWith(".metadata.json")));
  assert.ok(
    files.some((f) => readFileSync(join(a, f), "utf8").includes("aws:cdk:acknowledged-rules")),
    "the acknowledgements themselves are still recorded",
  );
});

test("synthesis prints nothing on stderr or stdout (CDK and cdk-nag reports are collected as data)", () => {
  const writes: string[] = [];
  const errWrite = process.stderr.write.bind(process.stderr);
  const outWrite = process.stdout.write.bind(process.stdout);
  const capture = (chunk: unknown) => {
    writes.push(String(chunk));
    return true;
  };
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  process.stderr.write = capture as typeof process.stderr.write;
  process.stdout.write = capture as typeof process.stdout.write;
  try {
    synth(teams);
    synth(generatedTopology(3), { nag: false });
  } finally {
    process.stderr.write = errWrite;
    process.stdout.write = outWrite;
    process.off("warning", onWarning);
  }
  assert.deepEqual(writes, []);
  assert.deepEqual(
    warnings.map((w) => w.message),
    [],
  );
  assert.equal(process.exitCode ?? 0, 0, "CDK did not set an exit code");
});

test("50 clients: 202 stacks, every template under the 51,200-byte inline limit", () => {
  const result = synth(generatedTopology(50));
  const stacks = manifestStacks(result.manifest);
  assert.equal(stacks.length, 50 + 1 + 51 + 50 + 50);
  for (const s of stacks) assert.ok(s.templateBytes < 51_200, `${s.name}: ${s.templateBytes} bytes`);
  checkManifest(result.outDir, result.manifest);
});

function cfnLint(dir: string): { status: number | null; output: string } {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(dir, f));
  const r = spawnSync("cfn-lint", ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" }).status === 0;

test("cfn-lint: every template of both examples and of variants has no error and no warning", {
  skip: !hasCfnLint && "cfn-lint is not installed",
}, () => {
  const variants = [
    seed,
    teams,
    generatedTopology(50),
    topologyOf({
      ...generatedInput(2),
      clients: generatedInput(2).clients.map((c, i) =>
        i === 0
          ? {
              ...c,
              role: { name: "Legacy", existing: true },
              instance: { subnetId: "subnet-0123456789abcdef0", type: "t4g.small" },
            }
          : {
              ...c,
              role: {
                name: "Pathed",
                path: "/x/",
                permissionsBoundary: {
                  arn: "arn:aws:iam::aws:policy/PowerUserAccess",
                  document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
                },
              },
            },
      ),
    }),
  ];
  for (const topology of variants) {
    const result = synth(topology);
    const { status, output } = cfnLint(result.outDir);
    assert.equal(output.trim(), "", `cfn-lint findings for ${topology.cluster.name}:\n${output}`);
    assert.equal(status, 0);
  }
});
