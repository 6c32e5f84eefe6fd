// Build step: bundle the token command (`xeks token`, the kubectl exec plugin) into two CommonJS files.
// kubectl runs the plugin for every call, so its start-up is the product: one CJS file loads measurably faster
// than the ES modules it is made of (see bench/token.bench.ts), and the less of it node compiles and runs, the
// faster a cached token comes out.
// - dist/token.cjs: what a cache hit runs (flags, environment, the cache read, redaction, the output), plus
//   every module both halves use, exported once (`__xeksShared`) so that each has one instance: one
//   InputError/OperationError class for `instanceof`, one registry of secrets to redact, one of files read.
// - dist/token-refresh.cjs: what a miss adds, src/token/refresh.ts and what it imports (the refresh lock, the
//   credential chain and STS, the signer, the SDK's client configuration). src/token/plugin.ts imports it with
//   `import()` when the cache has no usable token; only then is this file required. Its imports of shared
//   modules read them from dist/token.cjs. The AWS SDK and smithy stay external: they load from node_modules,
//   later still.
// The build fails when dist/token.cjs would hold a COLD module (the warm path would then compile or evaluate
// it), when dist/token-refresh.cjs would hold a second copy of a dist/token.cjs module, or when dist/token.cjs
// would require an SDK package or node:crypto (~2 ms to load; docs/token.md, "Speed").
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WARM_ENTRY = "src/cli/token.ts";
/** The miss path, imported with `import()` by src/token/plugin.ts; the entry of dist/token-refresh.cjs. */
const REFRESH_ENTRY = "src/token/refresh.ts";
/**
 * Modules of the miss path that dist/token.cjs must not hold. A static import of one from the warm side is
 * taken as free of side effects, so that a mere re-export adds nothing (src/token/environment.ts re-exports
 * src/aws/sdk.ts's awsTimeoutMs for src/kubeconfig); one that is used adds code, which the checks refuse.
 */
const COLD = [
  REFRESH_ENTRY,
  "src/token/lock.ts",
  "src/token/credentials.ts",
  "src/token/generate.ts",
  "src/token/format.ts",
  "src/aws/sdk.ts",
  "src/aws/credentials.ts",
  "src/aws/sts.ts",
  "src/aws/errors.ts",
];
const WARM_OUT = "token.cjs";
const REFRESH_OUT = "token-refresh.cjs";

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"],
  // import.meta.url (createRequire(import.meta.url) in src/aws and src/token resolves the SDK from dist/, as the
  // ESM build does) is this file's URL, computed when first read: node:url is not touched on a cache hit.
  define: { "import.meta.url": "__xeks.moduleUrl" },
  banner: {
    js: 'const __xeks = { get moduleUrl() { return require("node:url").pathToFileURL(__filename).href; } };',
  },
  logLevel: "warning",
};

const rel = (path) => relative(root, path).split("\\").join("/");

/**
 * An esbuild plugin for the imports that resolve to one of `files` (repo-relative paths): each becomes the
 * module `module.exports = load(file)`, or the external import `external(file)`; the imports of `sideEffectFree`
 * files are marked free of side effects.
 */
function redirect({ name, files, load, external, sideEffectFree = new Set() }) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /^\.\/token(-refresh)?\.cjs$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^\./ }, async (args) => {
        if (args.pluginData === name) return undefined;
        const r = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: name,
        });
        if (r.errors.length > 0) return undefined;
        const file = rel(r.path);
        if (!files.has(file))
          return sideEffectFree.has(file) ? { path: r.path, sideEffects: false } : undefined;
        return external
          ? { path: external(rel(r.path)), external: true }
          : { path: rel(r.path), namespace: name };
      });
      b.onLoad({ filter: /.*/, namespace: name }, (args) => ({
        contents: `module.exports = ${load(args.path)};`,
        loader: "js",
      }));
    },
  };
}

/** In dist/token.cjs: src/token/refresh.ts is dist/token-refresh.cjs; the other COLD modules are left out. */
const toRefresh = redirect({
  name: "xeks-refresh",
  files: new Set([REFRESH_ENTRY]),
  load: () => `require("./${REFRESH_OUT}")`,
  sideEffectFree: new Set(COLD),
});
/** The modules with code in a build's output. */
const included = (result) =>
  Object.entries(Object.values(result.metafile.outputs)[0].inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([f]) => f);

// Pass 1: the module graphs, nothing written. Warm: the entry with the COLD modules left out.
const warmGraph = await build({
  ...common,
  entryPoints: [WARM_ENTRY],
  write: false,
  outfile: `dist/${WARM_OUT}`,
  metafile: true,
  plugins: [toRefresh],
});
const warmInputs = new Set(included(warmGraph));
const leaked = [...warmInputs].filter((f) => COLD.includes(f));
if (leaked.length > 0) throw new Error(`bundle-token: the warm path uses ${leaked.join(", ")} statically`);

const refreshGraph = await build({
  ...common,
  entryPoints: [REFRESH_ENTRY],
  write: false,
  outfile: `dist/${REFRESH_OUT}`,
  metafile: true,
});
// Shared: the warm modules the refresh side imports directly (the walk stops at the first warm module).
const shared = new Set();
const seen = new Set();
const walk = (file) => {
  if (seen.has(file)) return;
  seen.add(file);
  for (const imp of refreshGraph.metafile.inputs[file]?.imports ?? []) {
    if (imp.external) continue;
    if (warmInputs.has(imp.path)) shared.add(imp.path);
    else walk(imp.path);
  }
};
walk(REFRESH_ENTRY);
const sharedList = [...shared].sort();

// Which names of each shared module the refresh side uses: the imports an ESM build keeps for them when they
// are external. The warm bundle exports only those (a whole namespace would keep every export: src/files
// alone would bring node:crypto and node:stream onto the warm path).
const probe = await build({
  ...common,
  format: "esm",
  entryPoints: [REFRESH_ENTRY],
  write: false,
  outfile: `dist/${REFRESH_OUT}.probe.mjs`,
  plugins: [redirect({ name: "xeks-probe", files: shared, external: (file) => `xeks-shared:${file}` })],
});
const probeText = probe.outputFiles[0].text;
const used = new Map(sharedList.map((f) => [f, new Set()]));
const imports = [
  ...probeText.matchAll(/^import\s+(?:\*\s+as\s+\w+|\{([^}]*)\})\s+from\s+"xeks-shared:([^"]+)";$/gm),
];
if (imports.length !== probeText.split('"xeks-shared:').length - 1)
  throw new Error("bundle-token: an import of a shared module in an unexpected form (see the probe build)");
for (const m of imports) {
  const names = used.get(m[2]);
  if (m[1] === undefined) used.set(m[2], "*");
  else if (names !== "*")
    for (const n of m[1].split(",")) if (n.trim()) names.add(n.trim().split(/\s+as\s+/)[0]);
}
const sharedEntry = sharedList.flatMap((f, i) => {
  const names = used.get(f);
  if (names === "*") return [`import * as s${i} from "./${f}";`];
  const list = [...names].sort();
  return [
    `import { ${list.map((n, j) => `${n} as s${i}_${j}`).join(", ")} } from "./${f}";`,
    `const s${i} = { ${list.map((n, j) => `get ${n}() { return s${i}_${j}; }`).join(", ")} };`,
  ];
});

// Pass 2: write both. (Not minified: minifying the warm bundle saved no measurable time, ~0.1 ms at most.)
const warm = await build({
  ...common,
  stdin: {
    contents: [
      `export * from "./${WARM_ENTRY}";`,
      ...sharedEntry,
      `export const __xeksShared = { ${sharedList.map((f, i) => `${JSON.stringify(f)}: s${i}`).join(", ")} };`,
    ].join("\n"),
    resolveDir: root,
    sourcefile: "token-entry.js",
    loader: "js",
  },
  outfile: `dist/${WARM_OUT}`,
  metafile: true,
  plugins: [toRefresh],
});
const refresh = await build({
  ...common,
  entryPoints: [REFRESH_ENTRY],
  outfile: `dist/${REFRESH_OUT}`,
  metafile: true,
  plugins: [
    redirect({
      name: "xeks-shared",
      files: shared,
      load: (file) => `require("./${WARM_OUT}").__xeksShared[${JSON.stringify(file)}]`,
    }),
  ],
});
const leakedLate = included(warm).filter((f) => COLD.includes(f));
if (leakedLate.length > 0) throw new Error(`bundle-token: dist/${WARM_OUT} holds ${leakedLate.join(", ")}`);
const copies = included(refresh).filter((f) => warmInputs.has(f));
if (copies.length > 0)
  throw new Error(`bundle-token: dist/${REFRESH_OUT} has its own copy of ${copies.join(", ")}`);
const heavy = Object.values(warm.metafile.outputs)[0].imports.filter((i) =>
  /^(@(aws-sdk|smithy|aws-crypto)\/|node:crypto$|crypto$)/.test(i.path),
);
if (heavy.length > 0)
  throw new Error(`bundle-token: dist/${WARM_OUT} requires ${heavy.map((i) => i.path).join(", ")}`);
