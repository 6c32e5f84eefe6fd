/**
 * The proof in worker threads (issue 14, plan at scale). `xeks plan` starts the pool first thing: its workers load
 * the proof's modules and warm iam-simulate's service data (`warmUp`) while the main thread imports aws-cdk-lib
 * and synthesizes, and one of them parses the topology file meanwhile. After synthesis each worker builds the
 * model from the planned templates and proves a share of the subjects (`subjectsOf`, in contiguous runs handed out
 * as workers free up); the main thread concatenates the links in subject order. Subjects do not depend on one
 * another and no result depends on the proof memos (memo.ts), so the report is the one `prove()` gives in one
 * thread: byte for byte (test/proof-pool.test.ts).
 *
 * Number of workers: `XEKS_PROOF_WORKERS` (0 to 16; 0 proves in the main thread), else `proofWorkerCount`'s default
 * (the CPUs up to 4; none on one CPU or under `ulimit -v`).
 *
 * Failures: a worker that cannot start, crashes, exits, or whose modules or setup fail is not a failed proof: the
 * share it held is proved in the main thread, as without a pool (where a real failure is raised as it would be). An error of the task itself (an invalid topology) reaches the caller as the
 * same typed error (InputError, exit 2, with its issues). Workers hold no handle open while idle (`unref`), print
 * nothing (their stdout and stderr are read and dropped; XEKS_DEBUG=1 shows them on stderr) and are ended by
 * `close()`. No wait here is on AWS: a worker's share takes the CPU time it would take in the main thread.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { InputError, OperationError } from "../errors.js";
import type { PlannedStack } from "../model/from-templates.js";
import type { Model } from "../model/types.js";
import type { Topology } from "../topology/types.js";
import { subjectsOf } from "./subjects.js";
import { type ChainReport, chainReport, type LinkResult, type ReportMode } from "./types.js";

/** The most workers `XEKS_PROOF_WORKERS` may ask for. */
export const MAX_PROOF_WORKERS = 16;

/** Runs of subjects per worker: small enough that a slow run (the first pair of a reach class) does not idle the rest. */
const RUNS_PER_WORKER = 8;

/**
 * How many proof workers to start: `XEKS_PROOF_WORKERS` when set (a whole number from 0 to 16), else the CPUs this
 * process may use (`os.availableParallelism()`, lowered to a cgroup v2 CPU quota: /sys/fs/cgroup/cpu.max) up to 4,
 * and 0 on one CPU or when the address space is limited (`ulimit -v`: "Max address space" in /proc/self/limits),
 * since V8 aborts the whole process when a new thread cannot reserve its code range, before any fallback could run.
 * Throws InputError (exit 2) for any other value.
 */
export function proofWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.XEKS_PROOF_WORKERS;
  if (raw === undefined || raw === "") {
    if (addressSpaceLimited()) return 0;
    const cpus = Math.min(availableParallelism(), cgroupCpus() ?? Number.POSITIVE_INFINITY);
    return cpus < 2 ? 0 : Math.min(cpus, 4);
  }
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > MAX_PROOF_WORKERS) {
    const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
    throw new InputError(`XEKS_PROOF_WORKERS is ${JSON.stringify(shown)}`, [
      {
        path: "XEKS_PROOF_WORKERS",
        message: `expected a whole number from 0 (prove in the main thread) to ${MAX_PROOF_WORKERS}, or unset (up to 4 by the machine's cores)`,
      },
    ]);
  }
  return Number(raw);
}

/**
 * Whole CPUs of a cgroup v2 `cpu.max` text ("QUOTA PERIOD" in microseconds, or "max PERIOD" for no quota), at least
 * 1; undefined for no quota or a text that is not one (Linux kernel docs, "Control Group v2", cpu.max).
 */
export function cpusOfCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (!quota || quota === "max" || !period) return undefined;
  const cpus = Math.floor(Number(quota) / Number(period));
  return Number.isFinite(cpus) ? Math.max(1, cpus) : undefined;
}

/** The CPUs of this process's cgroup v2 quota (/sys/fs/cgroup/cpu.max); undefined without one. */
function cgroupCpus(): number | undefined {
  try {
    return cpusOfCpuMax(readFileSync("/sys/fs/cgroup/cpu.max", "utf8"));
  } catch {
    return undefined; // not Linux, no cgroup v2: the cores are the measure
  }
}

/** Whether `ulimit -v` limits this process's address space (Linux /proc/self/limits); false where unknown. */
function addressSpaceLimited(): boolean {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max address space"));
    return line !== undefined && !/\sunlimited\s/.test(`${line} `);
  } catch {
    return false;
  }
}

/**
 * A task for a worker (proof-worker.ts): parse a topology; take the topology and planned stacks of a proof (the
 * worker builds the model and keeps both); prove subjects [from, to) of `subjectsOf` of that topology.
 */
export type PoolTask =
  | { kind: "parse"; text: string; file: string }
  | { kind: "setup"; topology: Topology; stacks: PlannedStack[] }
  | { kind: "prove"; from: number; to: number };

/** A task with the id its answer carries. */
export type PoolRequest = PoolTask & { id: number };

/** A typed error as it crosses the thread boundary. */
export interface PoolError {
  name: string;
  message: string;
  issues?: InputError["issues"];
  file?: string;
  hint?: string;
}

/** A worker's answer to the request with the same id. */
export type PoolReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: PoolError };

/** The error as the worker sends it: InputError and OperationError keep their fields. */
export function poolError(err: unknown): PoolError {
  if (err instanceof InputError)
    return {
      name: err.name,
      message: err.message,
      issues: err.issues,
      ...(err.file ? { file: err.file } : {}),
    };
  if (err instanceof OperationError)
    return { name: err.name, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { name: "Error", message: (err as Error)?.message ?? String(err) };
}

/** The error the task raised in the worker, as the main thread throws it. */
function errorOf(e: PoolError): Error {
  if (e.name === "InputError") return new InputError(e.message, e.issues ?? [], e.file);
  if (e.name === "OperationError") return new OperationError(e.message, e.hint);
  return new Error(e.message);
}

/** A worker that is gone (could not start, crashed, exited): its task is done in the main thread instead. */
class WorkerGone extends Error {}

interface Handle {
  worker: Worker | undefined;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

/** Proof workers started ahead of the work; see the module comment. */
export interface ProofPool {
  /** Workers the pool may start (0: everything runs in the main thread). */
  readonly size: number;
  /**
   * What ran where so far: topologies parsed and runs of subjects proved by workers and by the main thread (a
   * worker that was gone). For tests and XEKS_DEBUG; the report never depends on it.
   */
  readonly stats: { parsedInWorker: number; parsedHere: number; runsInWorkers: number; runsHere: number };
  /**
   * `parseTopology(text, file)` of src/topology/load.ts, in a worker when there is one: the same Topology, or the
   * same InputError (exit 2, issues with lines).
   */
  parseTopology(text: string, file: string): Promise<Topology>;
  /**
   * The ChainReport of `prove(topology, modelFromTemplates(topology, stacks), mode)`, its subjects shared among
   * the workers.
   */
  provePlanned(topology: Topology, stacks: PlannedStack[], mode: ReportMode): Promise<ChainReport>;
  /** End the workers (idempotent). */
  close(): void;
}

/** The worker's entry next to this module: proof-worker.js in dist/, proof-worker.ts when run from src/ (tests). */
function workerUrl(): URL {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./proof-worker${ext}`, import.meta.url);
}

/**
 * A worker script that loads the TypeScript `entry` through tsx: tests run src/ with `--import tsx`, whose module
 * hooks a worker thread does not inherit on Node 20. dist/ (what users run) has JavaScript workers.
 */
function throughTsx(entry: URL): string {
  return `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
}

/** Start one worker of `entry`; `parseFirst`: it will parse the topology first, and warms the simulator after. */
function startWorker(entry: URL, parseFirst: boolean): Handle {
  const handle: Handle = { worker: undefined, pending: new Map() };
  const gone = (why: string) => {
    const worker = handle.worker;
    handle.worker = undefined;
    if (worker && process.env.XEKS_DEBUG)
      process.stderr.write(`xeks: (debug) a proof worker is gone: ${why}\n`);
    for (const { reject } of handle.pending.values()) reject(new WorkerGone(why));
    handle.pending.clear();
    worker?.terminate().catch(() => {});
  };
  try {
    const worker = new Worker(entry.pathname.endsWith(".ts") ? throughTsx(entry) : entry, {
      eval: entry.pathname.endsWith(".ts"),
      stdout: true,
      stderr: true,
      workerData: { parseFirst },
    });
    handle.worker = worker;
    // The worker's stderr is read and dropped: a crash is handled here, not printed (library noise never reaches
    // the user; XEKS_DEBUG=1 lets it through).
    const debug = (chunk: Buffer) => {
      if (process.env.XEKS_DEBUG) process.stderr.write(chunk);
    };
    worker.stderr.on("data", debug);
    worker.stdout.on("data", debug); // never on the user's stdout (a JSON report must stay one document)
    worker.on("message", (reply: PoolReply) => {
      const waiting = handle.pending.get(reply.id);
      if (!waiting) return;
      handle.pending.delete(reply.id);
      if (handle.pending.size === 0) worker.unref();
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(errorOf(reply.error));
    });
    worker.on("error", (err) => gone(err.message));
    worker.on("messageerror", (err) => gone(err.message));
    worker.on("exit", (code) => gone(`exited with ${code}`));
    worker.unref();
  } catch (err) {
    gone((err as Error).message);
  }
  return handle;
}

let nextId = 1;

/** Send `task` to the worker; rejects with WorkerGone when the worker is or goes away. */
function ask(handle: Handle, task: PoolTask): Promise<unknown> {
  const worker = handle.worker;
  if (!worker) return Promise.reject(new WorkerGone("not running"));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    handle.pending.set(id, { resolve, reject });
    worker.ref(); // a pending answer keeps the process alive; an idle worker does not
    try {
      worker.postMessage({ ...task, id } satisfies PoolRequest);
    } catch (err) {
      handle.pending.delete(id);
      reject(new WorkerGone((err as Error).message));
    }
  });
}

/** `count` contiguous runs [from, to) covering 0..n, sizes differing by at most one. */
export function runsOf(n: number, count: number): [number, number][] {
  const k = Math.max(1, Math.min(n, count));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
  return out.filter(([a, b]) => b > a);
}

/** Options of {@link startProofPool}. */
export interface ProofPoolOptions {
  /**
   * The workers' entry module.
   * @default - proof-worker.js beside this module (tests give another to see a worker crash)
   */
  readonly entry?: URL;
  /**
   * Subjects per worker below which fewer workers are used: a proof of S subjects uses ceil(S / this) workers at
   * most (at least one). The first worker starts at once; the others when the parsed topology (or the proof) shows
   * they will be used, so a small topology costs one thread.
   * @default 64
   */
  readonly subjectsPerWorker?: number;
}

/** Start `workers` proof workers (default: `proofWorkerCount()`); see the module comment. */
export function startProofPool(
  workers: number = proofWorkerCount(),
  options: ProofPoolOptions = {},
): ProofPool {
  const entry = options.entry ?? workerUrl();
  const perWorker = Math.max(1, options.subjectsPerWorker ?? 64);
  const handles: Handle[] = workers > 0 ? [startWorker(entry, true)] : [];
  let closed = false;
  /** The workers a proof of `subjects` uses, started now when they are not yet. */
  const workersFor = (subjects: number): Handle[] => {
    const wanted = Math.min(workers, Math.max(1, Math.ceil(subjects / perWorker)));
    while (!closed && handles.length < wanted) handles.push(startWorker(entry, false));
    return handles.slice(0, wanted);
  };
  const stats = { parsedInWorker: 0, parsedHere: 0, runsInWorkers: 0, runsHere: 0 };
  return {
    size: workers,
    stats,
    async parseTopology(text, file) {
      const handle = handles[0];
      let topology: Topology | undefined;
      if (handle) {
        try {
          topology = (await ask(handle, { kind: "parse", text, file })) as Topology;
          stats.parsedInWorker++;
        } catch (err) {
          // The file's own error (exit 2) is the answer; any other failure (the worker gone, its modules not
          // loaded) leaves the parse to this thread.
          if (err instanceof InputError) throw err;
        }
      }
      if (!topology) {
        const { parseTopology } = await import("../topology/load.js");
        topology = parseTopology(text, file);
        stats.parsedHere++;
      }
      // The other workers warm up while the main thread synthesizes.
      if (workers > 0) workersFor(subjectsOf(topology).length);
      return topology;
    },
    async provePlanned(topology, stacks, mode) {
      const subjects = subjectsOf(topology);
      let model: Model | undefined;
      let release: (() => void) | undefined;
      const inMainThread = async (from: number, to: number): Promise<LinkResult[]> => {
        const { proveSubjects } = await import("./prove.js");
        if (!model) {
          const { modelFromTemplates } = await import("../model/from-templates.js");
          const { holdProofScope } = await import("./memo.js");
          model = modelFromTemplates(topology, stacks);
          release = holdProofScope(topology, model); // memos last across the runs proved here
        }
        stats.runsHere++;
        return proveSubjects(topology, model, subjects.slice(from, to));
      };
      /** The links of every subject: runs handed out to the live workers, the rest proved here. */
      const shared = async (here: typeof inMainThread): Promise<LinkResult[]> => {
        const live = (workers > 0 ? workersFor(subjects.length) : []).filter((h) => h.worker !== undefined);
        if (live.length === 0) return here(0, subjects.length);
        const runs = runsOf(subjects.length, live.length * RUNS_PER_WORKER);
        const results: LinkResult[][] = new Array(runs.length);
        let next = 0;
        await Promise.all(
          live.map(async (handle) => {
            try {
              await ask(handle, { kind: "setup", topology, stacks });
              while (next < runs.length) {
                const i = next++;
                const [from, to] = runs[i] as [number, number];
                results[i] = (await ask(handle, { kind: "prove", from, to })) as LinkResult[];
                stats.runsInWorkers++;
              }
            } catch {
              // A worker that is gone, or whose setup or proof failed (its modules did not load, a bug): the runs it
              // did not finish are proved here, where the same failure, if it is one, is raised as it would be
              // without workers.
            }
          }),
        );
        // Runs no worker finished (every worker gone): proved here, in order.
        for (let i = 0; i < runs.length; i++) {
          if (results[i] !== undefined) continue;
          const [from, to] = runs[i] as [number, number];
          results[i] = await here(from, to);
        }
        return results.flat();
      };
      try {
        return chainReport(topology, mode, await shared(inMainThread));
      } finally {
        release?.();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const h of handles) {
        const worker = h.worker;
        h.worker = undefined;
        worker?.terminate().catch(() => {});
      }
    },
  };
}
