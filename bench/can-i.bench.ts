/**
 * can-i: 1,000 queries through the library (parse RESOURCE and VERB, evaluate against the associations of
 * examples/teams.yaml), and one `bin/xeks can-i` process beside `node -e 0` as the reference.
 * Needs `npm run build` (npm run bench does it). Prints wall times; asserts nothing.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type AccessRequest, evaluateAccess, parseResource, parseVerb } from "../src/access/index.js";
import { loadTopology } from "../src/topology/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const XEKS = `${ROOT}bin/xeks`;
const QUERIES = 1000;
const ROUNDS = 7;

const topology = loadTopology(`${ROOT}examples/teams.yaml`);
const roles = topology.access;
const SHAPES: [string, string, string | null][] = [
  ["create", "pods/exec", "team-a"],
  ["get", "secrets", "analytics"],
  ["list", "nodes", null],
  ["update", "deployments.apps/scale", "payments"],
  ["create", "roles.rbac.authorization.k8s.io", "payments"],
  ["get", "/healthz", null],
  ["list", "po", null],
  ["impersonate", "sa", "team-b"],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function libraryRound(): { ms: number; yes: number } {
  let yes = 0;
  const t0 = performance.now();
  for (let i = 0; i < QUERIES; i++) {
    const [verb, resource, namespace] = SHAPES[Math.floor(i / roles.length) % SHAPES.length] ?? [
      "get",
      "pods",
      "default",
    ];
    const role = roles[i % roles.length];
    if (!role) throw new Error("examples/teams.yaml has no access roles");
    const target = parseResource(resource);
    const request: AccessRequest =
      target.kind === "nonResource"
        ? { verb: parseVerb(verb, { nonResource: true }), nonResourceURL: target.nonResourceURL }
        : {
            verb: parseVerb(verb),
            apiGroup: target.apiGroup,
            resource: target.resource,
            subresource: target.subresource,
            namespace,
            clusterScoped: target.clusterScoped,
          };
    if (evaluateAccess(role.policies, request).allowed) yes++;
  }
  return { ms: performance.now() - t0, yes };
}

function processMs(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

libraryRound(); // warm up
const lib = Array.from({ length: ROUNDS }, libraryRound);
const libMs = median(lib.map((r) => r.ms));

const canI = [
  "can-i",
  "create",
  "pods/exec",
  "-n",
  "team-a",
  "--role",
  "Payments-EKS-Edit-Role",
  "-q",
  "examples/teams.yaml",
];
processMs(process.execPath, ["-e", "0"]);
processMs(XEKS, canI);
const nodeMs: number[] = [];
const cliMs: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  nodeMs.push(processMs(process.execPath, ["-e", "0"]));
  cliMs.push(processMs(XEKS, canI));
}
const node0 = median(nodeMs);
const cli = median(cliMs);

const rows: [string, string, string][] = [
  [
    `library: ${QUERIES} can-i queries (parse + evaluate)`,
    `${libMs.toFixed(2)} ms`,
    `${((libMs * 1000) / QUERIES).toFixed(2)} µs/query`,
  ],
  ["process: node -e 0 (reference)", `${node0.toFixed(1)} ms`, "1.00x"],
  ["process: bin/xeks can-i … -q", `${cli.toFixed(1)} ms`, `${(cli / node0).toFixed(2)}x node -e 0`],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
process.stdout.write(`median of ${ROUNDS} rounds; ${lib[0]?.yes ?? 0}/${QUERIES} queries allowed\n`);
for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}\n`);
