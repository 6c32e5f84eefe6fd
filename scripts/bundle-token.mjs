// Build step: bundle the token command (`xeks token`, the kubectl exec plugin) into one CommonJS file,
// dist/token.cjs. kubectl runs the plugin for every call, so its start-up is the product: one CJS file loads
// measurably faster than the eight ES modules it is made of (see bench/token.bench.ts). The AWS SDK and
// smithy stay external and load only on a cache miss.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/token.ts"],
  outfile: "dist/token.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*"],
  // createRequire(import.meta.url) in src/token resolves the SDK from dist/, as the ESM build does.
  define: { "import.meta.url": "__xeks_module_url" },
  banner: { js: 'const __xeks_module_url = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});
