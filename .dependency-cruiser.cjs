/**
 * The layering of src/ as checked rules (dependency-cruiser; `npm run lint:layers`, run by `npm test`).
 * README, "Layout of the code", describes the layers. Bottom up:
 *
 *   0 domain                            (and src/errors.ts)
 *   1 files, aws
 *   2 topology, layout, access, token
 *   3 infra, model, kubeconfig
 *   4 chain
 *   5 discover, audit, deploy, probe, report, sandbox
 *   6 cli                               (src/index.ts is the library's entry: it may import any layer but cli)
 *
 * A folder may import its own layer and the layers below it, never one above (a "back-arrow"). Imports that
 * break a rule today are listed in .dependency-cruiser-known-violations.json (written by `npx depcruise-baseline
 * src`): an honest list of what remains to move. `lint:layers` ignores those and fails on any new one. Type-only
 * imports count (tsPreCompilationDeps): a type from a higher layer is still an arrow pointing up.
 */

/** The layers, bottom up: folders under src/. */
const LAYERS = [
  ["domain"],
  ["files", "aws"],
  ["topology", "layout", "access", "token"],
  ["infra", "model", "kubeconfig"],
  ["chain"],
  ["discover", "audit", "deploy", "probe", "report", "sandbox"],
  ["cli"],
];

const folders = (list) => `^src/(${list.join("|")})/`;

/** One rule per layer below the top: it may not import any folder of a higher layer. */
const backArrows = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-back-arrow-from-${layer.join("-")}`,
  comment:
    `${layer.join(", ")} (layer ${i}) may import only layers 0-${i}; ` +
    `${LAYERS.slice(i + 1)
      .flat()
      .join(", ")} are above it`,
  severity: "error",
  from: { path: folders(layer) },
  to: { path: folders(LAYERS.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-imports-nothing-of-src",
      comment:
        "src/domain is the bottom layer: it imports nothing of src/ outside src/domain (not even src/errors.ts)",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/domain/" },
    },
    {
      name: "domain-is-light",
      comment:
        "src/domain imports no package, only node built-ins: the token bundle (dist/token.cjs) loads it on its warm path (no zod, no SDK, no CDK)",
      severity: "error",
      from: { path: "^src/domain/" },
      to: {
        dependencyTypes: [
          "npm",
          "npm-dev",
          "npm-optional",
          "npm-peer",
          "npm-bundled",
          "npm-no-pkg",
          "npm-unknown",
          "unknown",
          "undetermined",
        ],
      },
    },
    {
      name: "only-aws-imports-the-sdk",
      comment:
        "only src/aws imports @aws-sdk/*, without exception: the token's cold path (src/token/credentials.ts) reaches the SDK through src/aws (credentials.ts, sts.ts), which load it lazily so that the warm path of dist/token.cjs never does",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/aws/" },
      to: { path: "(^|/)@aws-sdk/" },
    },
    {
      name: "only-chain-iam-imports-iam-simulate",
      comment: "only src/chain/iam.ts imports @cloud-copilot/iam-simulate (AGPL: kept behind one module)",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/chain/iam\\.ts$" },
      to: { path: "(^|/)@cloud-copilot/iam-simulate" },
    },
    {
      name: "nothing-below-cli-imports-cli",
      comment: "src/cli is the top: the library (everything else in src/) never imports it",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" },
    },
    {
      name: "nothing-imports-the-entry",
      comment:
        "src/index.ts is the library's public entry; modules inside src/ import what they need directly",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/index\\.ts$" },
    },
    {
      name: "sandbox-imports-what-it-needs",
      comment:
        "src/sandbox (the local lab of `xeks sandbox`) imports of src/ only access (the can-i rules), token (the token format), domain (ARNs) and src/errors.ts",
      severity: "error",
      from: { path: "^src/sandbox/" },
      to: { path: "^src/", pathNot: "^src/(sandbox|access|token|domain)/|^src/errors\\.ts$" },
    },
    ...backArrows,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.d\\.ts$" },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
