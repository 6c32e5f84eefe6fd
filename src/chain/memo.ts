/**
 * Memos for one proof (issue 14, plan at scale). A plan of N clients runs every client link N times against one
 * model: a link that scans all routes, peerings or VPCs on each run costs N² in all. `prove()` opens a proof
 * scope for its topology and model (`withProofScope`); inside it, links build such indexes once (`memoOf`) and
 * identical IAM decisions are simulated once (src/chain/iam.ts, `decisionMemo`).
 *
 * Safety: the model and the topology do not change while `prove()` runs on them (links only read). Outside a
 * scope (a link evaluated on its own, as tests do, perhaps on a model changed since) nothing is kept:
 * `memoOf` builds afresh on each call and `decisionMemo` is undefined. Everything kept is dropped when the
 * last scope closes. Results never depend on whether a memo was used.
 */

interface Scope {
  topology: object;
  /** Open `withProofScope` calls on this model (nested or concurrent proofs). */
  depth: number;
  values: Map<string, unknown>;
}

/** Open scopes by model. */
const scopes = new Map<object, Scope>();

/** Open scopes in all: the decision memo lives while it is above 0. */
let open = 0;
let decisions: Map<string, unknown> | undefined;
let documentIds = new WeakMap<object, number>();
const documentTexts = new Map<string, number>();

/**
 * Run `run` (a proof of `topology` on `model`) with a proof scope open on that pair. Nested and concurrent
 * calls on the same model share it; a call with the same model and another topology gets no memos (`memoOf`
 * builds afresh for it).
 */
export async function withProofScope<T>(topology: object, model: object, run: () => Promise<T>): Promise<T> {
  let scope = scopes.get(model);
  if (!scope) {
    scope = { topology, depth: 0, values: new Map() };
    scopes.set(model, scope);
  }
  scope.depth++;
  open++;
  decisions ??= new Map();
  try {
    return await run();
  } finally {
    scope.depth--;
    if (scope.depth === 0) scopes.delete(model);
    open--;
    if (open === 0) {
      decisions = undefined;
      documentIds = new WeakMap();
      documentTexts.clear();
    }
  }
}

/**
 * Open a proof scope on (`topology`, `model`) and keep it open until the returned function is called (once; later
 * calls do nothing): a proof worker (pool.ts) proves its runs of subjects one request at a time, and its memos (the
 * indexes, the decisions, the reach of each class) must last across them as they last across one `prove()`.
 */
export function holdProofScope(topology: object, model: object): () => void {
  let release: (() => void) | undefined;
  let released = false;
  void withProofScope(
    topology,
    model,
    () =>
      new Promise<void>((resolve) => {
        release = resolve;
        if (released) resolve();
      }),
  );
  return () => {
    released = true;
    release?.();
  };
}

/**
 * The value `build()` returns for `key`, built once per proof scope of (`topology`, `model`); outside such a
 * scope, built on every call. `build` must depend on nothing but the topology, the model and the key.
 */
export function memoOf<T>(topology: object, model: object, key: string, build: () => T): T {
  const scope = scopes.get(model);
  if (!scope || scope.topology !== topology) return build();
  return kept(scope, `topology:${key}`, build);
}

/**
 * As {@link memoOf}, for a value that depends on the model alone (the routes of a table, the VPCs' CIDRs): kept
 * for the scope of any proof on `model`.
 */
export function modelMemo<T>(model: object, key: string, build: () => T): T {
  const scope = scopes.get(model);
  return scope ? kept(scope, `model:${key}`, build) : build();
}

function kept<T>(scope: Scope, key: string, build: () => T): T {
  if (scope.values.has(key)) return scope.values.get(key) as T;
  const value = build();
  scope.values.set(key, value);
  return value;
}

/**
 * The memo of IAM decisions while a proof scope is open (keyed by the whole request: `requestKey`), else
 * undefined.
 */
export function decisionMemo(): Map<string, unknown> | undefined {
  return open > 0 ? decisions : undefined;
}

/**
 * A number that stands for the JSON text of `document` (equal texts, equal numbers) while a proof scope is
 * open: a large policy (the accepter role's, one ARN per client) is serialized once per proof, not once per
 * decision. Outside a scope, -1 (callers then keep no memo).
 */
export function documentId(document: object | undefined): number {
  if (document === undefined) return 0;
  if (open === 0) return -1;
  let id = documentIds.get(document);
  if (id === undefined) {
    const text = JSON.stringify(document);
    id = documentTexts.get(text);
    if (id === undefined) {
      id = documentTexts.size + 1;
      documentTexts.set(text, id);
    }
    documentIds.set(document, id);
  }
  return id;
}
