/**
 * `xeks kubeconfig` changes only what it writes: a kubeconfig written by kubectl or by hand keeps every other
 * line byte for byte (indentation, comments, quoting, order), new entries follow the file's layout, a context's
 * namespace survives a re-run without -n, and the exec command is one kubectl can run from a checkout.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { buildEntries, type KubeconfigSpec, mergeKubeconfig } from "../src/kubeconfig/index.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { XEKS } from "./helpers/cli.js";
import { run, xeksAsync } from "./helpers/spawn.js";
import { offlineSeedYaml, TEST_CA_BASE64 } from "./helpers/topologies.js";

const CA = TEST_CA_BASE64;
const CONTEXT = "EKS-CrossAccount-Access-Role@prac-eks-abhi";
const TOPOLOGY = offlineSeedYaml();

const HAND_WRITTEN = `# My kubeconfig, edited by hand.
apiVersion: "v1"
kind: Config

clusters:
    # the local cluster
    - name: 'kind-dev'   # kind
      cluster:
          server: "https://127.0.0.1:6443"
          insecure-skip-tls-verify: true

users:
    - name: kind-dev
      user: {token: "t0ken"}    # flow style

contexts:
    - name: kind-dev
      context:
          cluster: kind-dev
          user: kind-dev
          namespace: default

current-context: "kind-dev"   # keep quoting
preferences: {}
# end of file
`;

const envs: IsolatedEnv[] = [];
after(() => {
  for (const e of envs) e.cleanup();
});
function isolated(): IsolatedEnv & { topo: string; kube: string } {
  const e = isolatedAwsEnv({
    vars: { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY: "x".repeat(40) },
  });
  envs.push(e);
  const topo = join(e.dir, "xeks.yaml");
  writeFileSync(topo, TOPOLOGY);
  mkdirSync(join(e.home, ".kube"), { recursive: true });
  return { ...e, topo, kube: join(e.home, ".kube", "config") };
}

/** `diff OLD NEW` as the lines removed and the lines added. */
function diffLines(before: string, afterText: string, dir: string): { removed: string[]; added: string[] } {
  const a = join(dir, "diff-a");
  const b = join(dir, "diff-b");
  writeFileSync(a, before);
  writeFileSync(b, afterText);
  const r = spawnSync("diff", [a, b], { encoding: "utf8" });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const lines = r.stdout.split("\n");
  return {
    removed: lines.filter((l) => l.startsWith("< ")).map((l) => l.slice(2)),
    added: lines.filter((l) => l.startsWith("> ")).map((l) => l.slice(2)),
  };
}

const kubectl = (e: IsolatedEnv, args: string[]) => run("kubectl", args, { env: e.env, timeoutMs: 60_000 });

describe("the rest of the file stays as it was written", () => {
  test("a kubeconfig written by kubectl: diff shows only the added entries and current-context", async () => {
    const e = isolated();
    for (const args of [
      ["config", "set-cluster", "dev", "--server=https://127.0.0.1:6443"],
      ["config", "set-credentials", "dev", "--token=abc"],
      ["config", "set-context", "dev", "--cluster=dev", "--user=dev", "--namespace=team"],
      ["config", "use-context", "dev"],
    ]) {
      const r = await kubectl(e, args);
      assert.equal(r.status, 0, r.stderr);
    }
    const before = readFileSync(e.kube, "utf8");
    assert.match(before, /^clusters:\n- cluster:/m, "kubectl's own layout");
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const afterText = readFileSync(e.kube, "utf8");
    const d = diffLines(before, afterText, e.dir);
    assert.deepEqual(d.removed, ["current-context: dev"]);
    assert.ok(d.added.includes(`current-context: ${CONTEXT}`));
    // The new entries in kubectl's layout: `-` under the key, two-space nesting.
    assert.ok(
      d.added.includes("- name: arn:aws:eks:ap-south-1:111111111111:cluster/prac-eks-abhi"),
      d.added.join("\n"),
    );
    assert.ok(d.added.includes("      - token"), "a nested list in kubectl's layout");
    assert.equal(d.added.length, 1 + 4 + 4 + 16, d.added.join("\n"));
    const view = await kubectl(e, ["config", "get-contexts", "-o", "name"]);
    assert.deepEqual(view.stdout.trim().split("\n").sort(), [CONTEXT, "dev"].sort());
  });

  test("a hand-written file with comments, quotes and a 4-space indent: only the entries change", async () => {
    const e = isolated();
    writeFileSync(e.kube, HAND_WRITTEN);
    const r = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(r.status, 0, r.stderr);
    const afterText = readFileSync(e.kube, "utf8");
    const d = diffLines(HAND_WRITTEN, afterText, e.dir);
    assert.deepEqual(d.removed, ['current-context: "kind-dev"   # keep quoting']);
    assert.ok(
      d.added.includes(`current-context: "${CONTEXT}"   # keep quoting`),
      "quote style and comment kept",
    );
    // diff removed nothing else: every other line is still there, in order, byte for byte.
    // The new entries follow the file's layout: `-` four columns in, four-space nesting.
    assert.ok(d.added.includes("    - name: arn:aws:eks:ap-south-1:111111111111:cluster/prac-eks-abhi"));
    assert.ok(d.added.includes("          server: https://ABCDEF.gr7.ap-south-1.eks.amazonaws.com"));
    assert.ok(d.added.includes("                  - token"), d.added.join("\n"));
    const doc = parse(afterText);
    assert.deepEqual(
      doc.clusters.map((c: { name: string }) => c.name),
      ["kind-dev", "arn:aws:eks:ap-south-1:111111111111:cluster/prac-eks-abhi"],
    );
    assert.equal(doc.users[0].user.token, "t0ken");
    const view = await kubectl(e, ["config", "current-context"]);
    assert.equal(view.stdout.trim(), CONTEXT);

    // Run again: nothing changes at all.
    const again = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^Kept context/);
    assert.equal(readFileSync(e.kube, "utf8"), afterText);
  });
});

describe("a context keeps its namespace", () => {
  test("re-run without -n keeps the namespace kubectl set; -n changes only that line", async () => {
    const e = isolated();
    const first = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(first.status, 0, first.stderr);
    const set = await kubectl(e, ["config", "set-context", "--current", "--namespace=payments"]);
    assert.equal(set.status, 0, set.stderr);
    const withNamespace = readFileSync(e.kube, "utf8");

    const again = await xeksAsync(["kubeconfig", e.topo, "--client", "ops"], { env: e.env });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(e.kube, "utf8"), withNamespace, "not a byte changed");
    const ns = await kubectl(e, ["config", "view", "--minify", "-o", "jsonpath={..namespace}"]);
    assert.equal(ns.stdout, "payments");

    const other = await xeksAsync(["kubeconfig", e.topo, "--client", "ops", "-n", "billing"], { env: e.env });
    assert.equal(other.status, 0, other.stderr);
    assert.match(other.stdout, /^Updated context/);
    const d = diffLines(withNamespace, readFileSync(e.kube, "utf8"), e.dir);
    assert.deepEqual(d, { removed: ["    namespace: payments"], added: ["    namespace: billing"] });
  });

  test("mergeKubeconfig keeps a context's other fields and reports it unchanged when only they differ", () => {
    const spec: KubeconfigSpec = {
      clusterName: "c",
      region: "ap-south-1",
      server: "https://X.eks.amazonaws.com",
      certificateAuthorityData: CA,
      exec: "xeks",
      clusterEntryName: "c-entry",
      userName: "u",
      contextName: "ctx",
    };
    const first = mergeKubeconfig(undefined, buildEntries(spec));
    const edited = first.text.replace(
      "    user: u\n",
      "    user: u\n    namespace: team-a\n    extensions: []\n",
    );
    assert.notEqual(edited, first.text);
    const again = mergeKubeconfig(edited, buildEntries(spec));
    assert.equal(again.actions.context, "unchanged");
    assert.equal(again.text, edited);
    const moved = mergeKubeconfig(edited, buildEntries({ ...spec, namespace: "team-b" }));
    assert.equal(moved.actions.context, "updated");
    assert.equal(parse(moved.text).contexts[0].context.namespace, "team-b");
    assert.deepEqual(parse(moved.text).contexts[0].context.extensions, []);
  });
});

describe("layouts", () => {
  const spec: KubeconfigSpec = {
    clusterName: "c",
    region: "ap-south-1",
    server: "https://X.eks.amazonaws.com",
    certificateAuthorityData: CA,
    exec: "xeks",
    clusterEntryName: "c-entry",
    userName: "u",
    contextName: "ctx",
  };
  test("a new file is written in kubectl's layout", () => {
    const text = mergeKubeconfig(undefined, buildEntries(spec)).text;
    assert.match(text, /^clusters:\n- name: c-entry\n {2}cluster:\n {4}server: /m);
    assert.equal(parse(text).kind, "Config");
  });

  test("CRLF line endings stay CRLF; empty lists (null, [], nothing) become block lists", () => {
    const crlf = "apiVersion: v1\r\nkind: Config\r\nclusters: null\r\ncontexts: []\r\nusers:\r\n# note\r\n";
    const out = mergeKubeconfig(crlf, buildEntries(spec)).text;
    assert.ok(out.startsWith("apiVersion: v1\r\nkind: Config\r\nclusters:\r\n- name: c-entry\r\n"), out);
    assert.doesNotMatch(out.replaceAll("\r\n", ""), /\n/, "no bare LF");
    assert.match(out, /# note\r\n/);
    const doc = parse(out);
    assert.equal(doc.clusters.length, 1);
    assert.equal(doc.users[0].name, "u");
    assert.equal(doc.contexts[0].name, "ctx");
    assert.equal(doc["current-context"], "ctx");
  });

  test("a file without apiVersion and kind gets them first; the rest is untouched", () => {
    const text = "# mine\nclusters:\n  - name: a\n    cluster: {server: 'https://a'}\n";
    const out = mergeKubeconfig(text, buildEntries(spec)).text;
    assert.ok(
      out.startsWith(
        "# mine\napiVersion: v1\nkind: Config\nclusters:\n  - name: a\n    cluster: {server: 'https://a'}\n  - name: c-entry\n",
      ),
      out,
    );
  });

  test("a flow-style file is rewritten from the document model, with the same content", () => {
    const text = "{apiVersion: v1, kind: Config, clusters: [{name: a, cluster: {server: 'https://a'}}]}\n";
    const out = mergeKubeconfig(text, buildEntries(spec)).text;
    const doc = parse(out);
    assert.deepEqual(
      doc.clusters.map((c: { name: string }) => c.name),
      ["a", "c-entry"],
    );
    assert.equal(doc["current-context"], "ctx");
  });
});

describe("the exec command kubectl runs", () => {
  test("from a checkout with no xeks on PATH: the absolute path of bin/xeks, and the output says so", async () => {
    const e = isolated();
    const env = { ...e.env, PATH: "/usr/bin:/bin" };
    const node = process.execPath;
    // bin/xeks is a node script: give it a PATH where `env node` finds node, and no xeks.
    const binDir = join(e.dir, "nodebin");
    mkdirSync(binDir);
    writeFileSync(join(binDir, "node"), `#!/bin/sh\nexec "${node}" "$@"\n`);
    chmodSync(join(binDir, "node"), 0o755);
    env.PATH = `${binDir}:/usr/bin:/bin`;
    const r = await run(XEKS, ["kubeconfig", e.topo, "--client", "ops"], { env });
    assert.equal(r.status, 0, r.stderr);
    const doc = parse(readFileSync(e.kube, "utf8"));
    const command = doc.users[0].user.exec.command;
    assert.equal(command, XEKS);
    accessSync(command, constants.X_OK);
    assert.match(
      r.stdout,
      new RegExp(
        `kubectl runs ${XEKS.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} for tokens: xeks is not on PATH`,
      ),
    );
    const json = await run(XEKS, ["kubeconfig", e.topo, "--client", "ops", "-o", "json"], { env });
    assert.equal(JSON.parse(json.stdout).commandFrom, "checkout");
  });

  test("with an xeks on PATH: the bare name, as aws eks update-kubeconfig writes aws", async () => {
    const e = isolated();
    const binDir = join(e.dir, "bin");
    mkdirSync(binDir);
    writeFileSync(join(binDir, "xeks"), `#!/bin/sh\nexec "${XEKS}" "$@"\n`);
    chmodSync(join(binDir, "xeks"), 0o755);
    const env = { ...e.env, PATH: `${binDir}:${e.env.PATH ?? ""}` };
    const r = await run(XEKS, ["kubeconfig", e.topo, "--client", "ops"], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(parse(readFileSync(e.kube, "utf8")).users[0].user.exec.command, "xeks");
    assert.doesNotMatch(r.stdout, /not on PATH/);
  });
});
