/**
 * Merging entries into an existing kubeconfig. The `yaml` package's document model decides what changes (an
 * entry with the same name is replaced; a context keeps the fields xeks does not set, such as its namespace);
 * src/kubeconfig/splice.ts then writes only those changes into the user's text, so every other cluster, user,
 * context, preference, comment and the file's own indentation and quoting stay byte for byte.
 */

import { isDeepStrictEqual } from "node:util";
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
  YAMLSeq,
} from "yaml";
import { InputError } from "../errors.js";
import type { KubeconfigEntries } from "./entries.js";
import {
  detectLayout,
  KUBECTL_LAYOUT,
  renderKubeconfig,
  type SpliceRequest,
  spliceKubeconfig,
} from "./splice.js";

export type MergeAction = "added" | "updated" | "unchanged";

export interface MergeResult {
  text: string;
  /** What happened to each entry. */
  actions: { cluster: MergeAction; user: MergeAction; context: MergeAction };
}

/** A standalone kubeconfig holding only these entries. */
export function standaloneKubeconfig(entries: KubeconfigEntries): string {
  return mergeKubeconfig(undefined, entries).text;
}

function upsert(doc: Document, key: "clusters" | "users" | "contexts", entry: { name: string }): MergeAction {
  let seq = doc.get(key, true);
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    doc.set(key, seq);
  }
  const items = (seq as YAMLSeq).items;
  const node = doc.createNode(entry);
  const index = items.findIndex((item) => isMap(item) && item.get("name") === entry.name);
  if (index < 0) {
    items.push(node);
    return "added";
  }
  const before = (items[index] as YAMLMap).toJSON();
  // Compared as data: key order (kubectl sorts keys when it rewrites a file) is no change.
  if (isDeepStrictEqual(before, JSON.parse(JSON.stringify(entry)))) return "unchanged";
  items[index] = node;
  return "updated";
}

/** The entry of that name in a list of the document, as plain data; undefined when there is none. */
function entryOf(doc: Document, key: "clusters" | "users" | "contexts", name: string): unknown {
  const seq = doc.get(key, true);
  if (!isSeq(seq)) return undefined;
  const item = seq.items.find((i) => isMap(i) && i.get("name") === name);
  return isMap(item) ? item.toJSON() : undefined;
}

/** `value` with the keys of every mapping in the order `template` has them (its other keys after them). */
function orderLike<T>(value: T, template: unknown): T {
  const plain = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!plain(value) || !plain(template)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(template)) if (k in value) out[k] = orderLike(value[k], template[k]);
  for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
  return out as T;
}

/**
 * The context entry to write: the fields xeks sets (cluster, user, and namespace when given) over those the
 * existing context of that name has (its namespace when `-n` is not given, extensions), as
 * `kubectl config set-context NAME --cluster C --user U` keeps what it is not told to change. `aws eks
 * update-kubeconfig` replaces the whole context instead, which drops a namespace set with
 * `kubectl config set-context --current --namespace N`.
 */
function keptContext(doc: Document, context: KubeconfigEntries["context"]): KubeconfigEntries["context"] {
  const seq = doc.get("contexts", true);
  if (!isSeq(seq)) return context;
  const existing = seq.items.find((item) => isMap(item) && item.get("name") === context.name);
  const inner = isMap(existing) ? existing.get("context", true) : undefined;
  if (!isMap(inner)) return context;
  const kept = inner.toJSON() as Record<string, unknown>;
  return { ...context, context: { ...kept, ...context.context } as KubeconfigEntries["context"]["context"] };
}

/** A key that occurs twice in one mapping, or an entry name that occurs twice in one list. */
interface Duplicate {
  /** A key of a mapping, or the name of a cluster, user or context entry. */
  kind: "key" | "name";
  /** Path of the second occurrence (`current-context`, `contexts[1].context.cluster`, `users[2].name`). */
  path: string;
  /** The key (or, for a list, the entry name). */
  key: string;
  /** 1-based lines of the first and second occurrence. */
  first: number;
  line: number;
  column: number;
}

function lineOf(node: Node | null | undefined, lines: LineCounter): { line: number; col: number } {
  const offset = node?.range?.[0];
  return offset === undefined ? { line: 0, col: 0 } : lines.linePos(offset);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** Every duplicate key of every mapping under `node` (document order). */
function duplicateKeys(node: unknown, path: string, lines: LineCounter, out: Duplicate[]): void {
  if (isMap(node)) {
    const seen = new Map<string, Node>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      const here = key === undefined ? path : path ? `${path}.${key}` : key;
      if (key !== undefined) {
        const first = seen.get(key);
        if (first) {
          const at = lineOf(pair.key as Node, lines);
          out.push({
            kind: "key",
            path: here,
            key,
            first: lineOf(first, lines).line,
            line: at.line,
            column: at.col,
          });
        } else {
          seen.set(key, pair.key as Node);
        }
      }
      duplicateKeys(pair.value, here, lines, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      duplicateKeys(item, `${path}[${i}]`, lines, out);
    });
  }
}

/**
 * The first YAML merge key (`<<`, plain or quoted) of any mapping under `node`, with its path and line.
 * kubectl's YAML reader (go-yaml) applies merge keys, so `<<: {kind: Pod}` or `<<: {current-context: x}`
 * changes what kubectl reads; xeks refuses such a file rather than resolve them.
 */
function mergeKey(
  node: unknown,
  path: string,
  lines: LineCounter,
): { path: string; line: number; col: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyText(pair.key);
      if (key === "<<") return { path: path ? `${path}.<<` : "<<", ...lineOf(pair.key as Node, lines) };
      const found = mergeKey(pair.value, key === undefined ? path : path ? `${path}.${key}` : key, lines);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = mergeKey(item, `${path}[${i}]`, lines);
      if (found) return found;
    }
  }
  return undefined;
}

/** Entries of clusters, users or contexts that share a name (kubectl keeps only the last of them). */
function duplicateNames(doc: Document, lines: LineCounter, out: Duplicate[]): void {
  for (const list of ["clusters", "users", "contexts"] as const) {
    const seq = doc.get(list, true);
    if (!isSeq(seq)) continue;
    const seen = new Map<string, Node>();
    seq.items.forEach((item, i) => {
      if (!isMap(item)) return;
      const name = item.get("name", true);
      const text = keyText(name);
      if (text === undefined) return;
      const first = seen.get(text);
      if (first) {
        const at = lineOf(name as Node, lines);
        out.push({
          kind: "name",
          path: `${list}[${i}].name`,
          key: text,
          first: lineOf(first, lines).line,
          line: at.line,
          column: at.col,
        });
      } else {
        seen.set(text, name as Node);
      }
    });
  }
}

/** A string field of the top-level mapping that kubectl checks: absent, null or "" count as unset. */
function topString(doc: Document, key: string): { value: string | undefined; node: Node | undefined } {
  const node = doc.get(key, true) as Node | undefined;
  if (node === undefined || (isScalar(node) && (node.value === null || node.value === ""))) {
    return { value: undefined, node };
  }
  return { value: isScalar(node) && typeof node.value === "string" ? node.value : undefined, node };
}

/**
 * Parse an existing kubeconfig (undefined or empty: a new one), refusing with an InputError (exit 2), so such
 * a file is never overwritten, text that kubectl would not read as the kubeconfig xeks means to change:
 * - not YAML, or several YAML documents;
 * - a key twice in one mapping at any level (YAML forbids it; kubectl silently keeps the last one, so a
 *   merge would change the copy kubectl ignores), or two clusters, users or contexts with the same name
 *   (kubectl keeps the last one): the issue names the key's path and both lines;
 * - a YAML merge key (`<<`) anywhere: kubectl applies it (`<<: {kind: Pod}`), so the file does not say in
 *   place what kubectl reads; the issue names its path and line;
 * - not a mapping; `kind` present (not null or "") and not `Config`, or `apiVersion` present and not `v1`
 *   (kubectl: `no kind "Pod" is registered for version "v1"`); `current-context` not a string;
 * - clusters, users or contexts present and not a list.
 * `file` names the file in errors (with line and column where known).
 */
export function parseKubeconfig(existing: string | undefined, file = "kubeconfig"): Document {
  const fresh = () => new Document({ apiVersion: "v1", kind: "Config", preferences: {} });
  if (existing === undefined || existing.trim() === "") return fresh();
  const lines = new LineCounter();
  const doc = parseDocument(existing, { uniqueKeys: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const at = err?.linePos?.[0];
    const why =
      err?.code === "MULTIPLE_DOCS"
        ? "several YAML documents (separated by ---); a kubeconfig is one document"
        : (err?.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "YAML error");
    throw new InputError(
      `${file} is not valid YAML; not touching it`,
      [
        {
          path: "",
          message: why,
          ...(at ? { line: at.line, column: at.col } : {}),
        },
      ],
      file,
    );
  }
  if (doc.contents === null) return fresh();
  if (!isMap(doc.contents)) {
    throw new InputError(`${file} is not a kubeconfig (expected a mapping with clusters, users, contexts)`);
  }
  const merge = mergeKey(doc.contents, "", lines);
  if (merge) {
    throw new InputError(
      `${file} uses a YAML merge key (<<) on line ${merge.line}; kubectl applies it, so what kubectl reads is not what the file says in place. Not touching it`,
      [
        {
          path: merge.path,
          line: merge.line,
          column: merge.col,
          message:
            "write the merged keys out in place of <<: xeks does not merge into a kubeconfig that uses merge keys",
        },
      ],
      file,
    );
  }
  const duplicates: Duplicate[] = [];
  duplicateKeys(doc.contents, "", lines, duplicates);
  duplicateNames(doc, lines, duplicates);
  if (duplicates.length > 0) {
    const d = duplicates[0] as Duplicate;
    const what = d.kind === "name" ? `two ${d.path.split("[")[0]} named` : "the key";
    // The current context kubectl really uses (the last one); context names are not secrets, values of
    // other keys (tokens) are never shown.
    const lastCurrent = duplicates.some((x) => x.path === "current-context")
      ? (doc.contents as YAMLMap).items.filter((p) => keyText(p.key) === "current-context").at(-1)?.value
      : undefined;
    const real = isScalar(lastCurrent)
      ? ` (kubectl's current context is the last: ${String(lastCurrent.value)})`
      : "";
    throw new InputError(
      `${file} has ${what} ${d.key}${d.kind === "key" ? " twice" : ""} (${d.first === d.line ? `both on line ${d.line}` : `lines ${d.first} and ${d.line}`}); kubectl reads only the last one${real}, so xeks will not merge into it. Not touching it`,
      duplicates.slice(0, 10).map((x) => ({
        path: x.path,
        line: x.line,
        column: x.column,
        message: `${x.kind === "name" ? "name " : ""}${x.key} again (first at line ${x.first}): keep one of them`,
      })),
      file,
    );
  }
  const kind = topString(doc, "kind");
  if (kind.node !== undefined && (kind.value === undefined ? !isUnset(kind.node) : kind.value !== "Config")) {
    const shown = isScalar(kind.node) ? String(kind.node.value) : String(kind.node);
    const at = lineOf(kind.node, lines);
    throw new InputError(
      `${file} is not a kubeconfig: its kind is ${shown}, not Config; not touching it`,
      [
        {
          path: "kind",
          line: at.line,
          column: at.col,
          message: "a kubeconfig has kind: Config (or no kind)",
        },
      ],
      file,
    );
  }
  const apiVersion = topString(doc, "apiVersion");
  if (
    apiVersion.node !== undefined &&
    (apiVersion.value === undefined ? !isUnset(apiVersion.node) : apiVersion.value !== "v1")
  ) {
    const shown = isScalar(apiVersion.node) ? String(apiVersion.node.value) : String(apiVersion.node);
    const at = lineOf(apiVersion.node, lines);
    throw new InputError(
      `${file} is not a kubeconfig: its apiVersion is ${shown}, not v1; not touching it`,
      [{ path: "apiVersion", line: at.line, column: at.col, message: "a kubeconfig has apiVersion: v1" }],
      file,
    );
  }
  const current = topString(doc, "current-context");
  if (current.node !== undefined && current.value === undefined && !isUnset(current.node)) {
    const at = lineOf(current.node, lines);
    throw new InputError(
      `${file}: current-context is not a string; not touching it`,
      [{ path: "current-context", line: at.line, column: at.col, message: "expected a context name" }],
      file,
    );
  }
  for (const key of ["clusters", "users", "contexts"] as const) {
    const v = doc.get(key, true);
    if (v !== undefined && v !== null && !isSeq(v) && !(isScalar(v) && v.value === null)) {
      throw new InputError(`${file}: ${key} is not a list; not touching it`);
    }
  }
  if (!topString(doc, "apiVersion").value) doc.set("apiVersion", "v1");
  if (!topString(doc, "kind").value) doc.set("kind", "Config");
  return doc;
}

function isUnset(node: Node): boolean {
  return isScalar(node) && (node.value === null || node.value === "");
}

/**
 * The current context a parsed kubeconfig (from `parseKubeconfig`, so its keys are unique) names, as kubectl
 * reads it: the `current-context` string, or undefined when it is absent, null or empty.
 */
export function currentContextOf(doc: Document): string | undefined {
  return topString(doc, "current-context").value;
}

/**
 * Merge the entries into the kubeconfig text (undefined or empty: a new file, in kubectl's layout) and make
 * the context current. Only the entries that change, `current-context` (and `apiVersion`/`kind` when the file
 * lacks them) are written; the rest of the text is kept as it is (src/kubeconfig/splice.ts). A context of the
 * same name keeps the fields xeks does not set (its namespace unless `entries` sets one). Given a parsed
 * document (`parseKubeconfig`, which this changes) instead of text, the document is written whole, in its
 * own layout where it can be read. `file` names the file in errors.
 */
export function mergeKubeconfig(
  existing: string | Document | undefined,
  entries: KubeconfigEntries,
  opts: { file?: string; setCurrentContext?: boolean } = {},
): MergeResult {
  const text = existing instanceof Document ? undefined : (existing ?? "");
  const doc = existing instanceof Document ? existing : parseKubeconfig(text, opts.file);
  const source = parseDocument(text ?? "", { uniqueKeys: false });
  const header: [string, string][] = [];
  if (!topString(source, "apiVersion").value) header.push(["apiVersion", "v1"]);
  if (!topString(source, "kind").value) header.push(["kind", "Config"]);
  const want: KubeconfigEntries = { ...entries, context: keptContext(doc, entries.context) };
  // A replaced entry keeps its keys in the order the file had them, so a diff shows only what changed.
  const like = {
    cluster: orderLike(want.cluster, entryOf(doc, "clusters", want.cluster.name)),
    user: orderLike(want.user, entryOf(doc, "users", want.user.name)),
    context: orderLike(want.context, entryOf(doc, "contexts", want.context.name)),
  };
  const actions = {
    cluster: upsert(doc, "clusters", want.cluster),
    user: upsert(doc, "users", want.user),
    context: upsert(doc, "contexts", want.context),
  };
  const setCurrent = opts.setCurrentContext !== false && currentContextOf(doc) !== want.context.name;
  if (opts.setCurrentContext !== false) doc.set("current-context", want.context.name);
  const expected = doc.toJS() as Record<string, unknown>;
  if (text === undefined) {
    return { text: doc.toString({ lineWidth: 0 }), actions };
  }
  if (text.trim() === "") {
    return { text: renderKubeconfig(expected as never, KUBECTL_LAYOUT), actions };
  }
  const change = (a: MergeAction) => (a === "unchanged" ? null : a);
  const request: SpliceRequest = {
    header,
    lists: [
      { key: "clusters", entry: like.cluster, change: change(actions.cluster) },
      { key: "users", entry: like.user, change: change(actions.user) },
      { key: "contexts", entry: like.context, change: change(actions.context) },
    ],
    ...(setCurrent ? { currentContext: want.context.name } : {}),
  };
  const spliced = spliceKubeconfig(text, request);
  // The spliced text must say exactly what the document model says; else (a layout splice.ts does not
  // handle) the model is written whole, in the file's own indentation.
  if (spliced !== undefined) {
    const check = parseDocument(spliced, { uniqueKeys: false });
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected))
      return { text: spliced, actions };
  }
  const layout = detectLayout(text, source);
  return {
    text: doc.toString({ lineWidth: 0, indent: layout.indent, indentSeq: layout.seqIndent > 0 }),
    actions,
  };
}
