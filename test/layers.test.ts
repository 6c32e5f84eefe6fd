/**
 * The layering rules (.dependency-cruiser.cjs, `npm run lint:layers`) fail on a new back-arrow. The check runs
 * on a fixture tree in a temporary directory (never on src/, where other work happens): first a clean tree
 * that respects every rule (exit 0), then the same tree with planted violations (a non-zero exit, each named). The
 * repository's known-violations baseline is passed as in `lint:layers`, so the test also shows that the
 * baseline excuses only what it lists.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";

const repo = resolve(import.meta.dirname, "..");
const depcruise = join(repo, "node_modules", ".bin", "depcruise");

let dir: string;

function write(rel: string, text: string): void {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function cruise(): { status: number | null; output: string } {
  const r = spawnSync(
    depcruise,
    [
      "src",
      "--config",
      join(repo, ".dependency-cruiser.cjs"),
      "--ignore-known",
      join(repo, ".dependency-cruiser-known-violations.json"),
      "--output-type",
      "err",
    ],
    { cwd: dir, encoding: "utf8", timeout: 120_000 },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "xeks-layers-"));
  write(
    "tsconfig.json",
    JSON.stringify({
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true },
      include: ["src"],
    }),
  );
  // A tree that follows the rules: arrows point down only.
  write("src/domain/arn.ts", 'import { join } from "node:path";\nexport const sep = join("a", "b");\n');
  write("src/aws/sdk.ts", 'export { STSClient } from "@aws-sdk/client-sts";\n');
  write("src/model/types.ts", 'import { sep } from "../domain/arn.js";\nexport const model = sep;\n');
  write("src/chain/iam.ts", 'export { runSimulation } from "@cloud-copilot/iam-simulate";\n');
  write("src/chain/prove.ts", 'import { model } from "../model/types.js";\nexport const proof = model;\n');
  write("src/cli/main.ts", 'import { proof } from "../chain/prove.js";\nexport const main = proof;\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("a tree whose arrows all point down passes the layering rules", () => {
  const r = cruise();
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /no dependency violations found/);
});

test("a planted back-arrow (and each other kind of violation) fails the check, named by its rule", () => {
  // model (layer 3) importing chain (layer 4): the back-arrow the issue names (model -> chain).
  write(
    "src/model/from-templates.ts",
    'import { proof } from "../chain/prove.js";\nexport const planned = proof;\n',
  );
  // domain importing the rest of src/ and a package; the library importing the CLI; the SDK and the
  // simulator imported outside their one home.
  write(
    "src/domain/bad.ts",
    'import { main } from "../cli/main.js";\nimport { z } from "zod";\nexport const x = [main, z];\n',
  );
  write("src/report/aws.ts", 'export { EKSClient } from "@aws-sdk/client-eks";\n');
  write("src/topology/decide.ts", 'export { runSimulation } from "@cloud-copilot/iam-simulate";\n');
  const r = cruise();
  // depcruise exits with the number of errors.
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /x 7 dependency violations \(7 errors/);
  for (const [rule, from] of [
    ["no-back-arrow-from-infra-model-kubeconfig", "src/model/from-templates.ts"],
    ["domain-imports-nothing-of-src", "src/domain/bad.ts"],
    ["domain-is-light", "src/domain/bad.ts"],
    ["nothing-below-cli-imports-cli", "src/domain/bad.ts"],
    ["no-back-arrow-from-domain", "src/domain/bad.ts"],
    ["only-aws-imports-the-sdk", "src/report/aws.ts"],
    ["only-chain-iam-imports-iam-simulate", "src/topology/decide.ts"],
  ]) {
    assert.match(r.output, new RegExp(`${rule}: ${from}`), `expected ${rule} for ${from}:\n${r.output}`);
  }
  // Nothing else: the clean part of the tree stays clean.
  assert.doesNotMatch(r.output, /src\/(cli\/main|chain\/prove|chain\/iam|aws\/sdk)\.ts →/);
});
