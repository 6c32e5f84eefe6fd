/**
 * A proof worker (pool.ts): parses a topology, builds the model of a planned assembly and proves runs of its
 * subjects, answering each request with its id. Started by `startProofPool`; never run on its own.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Model } from "../model/types.js";
import type { Topology } from "../topology/types.js";
import type { PoolReply, PoolRequest } from "./pool.js";
import { poolError } from "./pool.js";

// Library noise never reaches the user, as in bin/xeks (warnings are dropped unless XEKS_DEBUG is set).
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (process.env.XEKS_DEBUG) process.stderr.write(`xeks: (debug, proof worker) ${w.name}: ${w.message}\n`);
});

/** The proof's modules, loaded and the simulator warmed once, while the main thread does other work. */
async function load() {
  const [prove, fromTemplates, iam, memo] = await Promise.all([
    import("./prove.js"),
    import("../model/from-templates.js"),
    import("./iam.js"),
    import("./memo.js"),
  ]);
  await iam.warmUp();
  return { ...prove, ...fromTemplates, holdProofScope: memo.holdProofScope };
}

let loading: ReturnType<typeof load> | undefined;

/** `load()` once; started at once, or (the worker that parses the topology: workerData.parseFirst) after the parse. */
function ready(): ReturnType<typeof load> {
  loading ??= load();
  return loading;
}

const parseFirst = (workerData as { parseFirst?: boolean } | undefined)?.parseFirst === true;
if (!parseFirst) ready().catch(() => {}); // a failure is reported by the first request that needs it

/** The topology and model of the current proof (`setup`). */
let current: { topology: Topology; model: Model; release: () => void } | undefined;

async function answer(request: PoolRequest): Promise<unknown> {
  switch (request.kind) {
    case "parse": {
      const { parseTopology } = await import("../topology/load.js");
      try {
        return parseTopology(request.text, request.file);
      } finally {
        ready().catch(() => {});
      }
    }
    case "setup": {
      const { modelFromTemplates, holdProofScope } = await ready();
      current?.release();
      current = undefined; // a setup that fails leaves no earlier proof to prove against
      const model = modelFromTemplates(request.topology, request.stacks);
      // One proof scope for all the runs of this proof: its memos last across requests.
      current = { topology: request.topology, model, release: holdProofScope(request.topology, model) };
      return true;
    }
    case "prove": {
      const { proveSubjects, subjectsOf } = await ready();
      if (!current) throw new Error("prove before setup");
      const subjects = subjectsOf(current.topology).slice(request.from, request.to);
      return proveSubjects(current.topology, current.model, subjects);
    }
  }
}

parentPort?.on("message", (request: PoolRequest) => {
  answer(request).then(
    (value) => parentPort?.postMessage({ id: request.id, ok: true, value } satisfies PoolReply),
    (err: unknown) =>
      parentPort?.postMessage({ id: request.id, ok: false, error: poolError(err) } satisfies PoolReply),
  );
});
