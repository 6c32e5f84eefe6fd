/**
 * Merging entries into an existing kubeconfig with the `yaml` package's document model, so every other
 * cluster, user, context, preference and comment stays as it was. An entry with the same name is replaced.
 */
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, YAMLSeq } from "yaml";
import { InputError } from "../errors.js";
import type { KubeconfigEntries } from "./entries.js";

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
  const before = JSON.stringify((items[index] as YAMLMap).toJSON());
  items[index] = node;
  return before === JSON.stringify(entry) ? "unchanged" : "updated";
}

/**
 * Parse an existing kubeconfig (undefined or empty: a new one), refusing text that is not YAML or not a
 * kubeconfig with an InputError: such a file is never overwritten. `file` names the file in errors.
 */
export function parseKubeconfig(existing: string | undefined, file = "kubeconfig"): Document {
  const fresh = () => new Document({ apiVersion: "v1", kind: "Config", preferences: {} });
  if (existing === undefined || existing.trim() === "") return fresh();
  const doc = parseDocument(existing, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new InputError(`${file} is not valid YAML; not touching it`, [
      { path: "", message: doc.errors[0]?.message.split("\n")[0] ?? "YAML error" },
    ]);
  }
  if (doc.contents === null) return fresh();
  if (!isMap(doc.contents)) {
    throw new InputError(`${file} is not a kubeconfig (expected a mapping with clusters, users, contexts)`);
  }
  for (const key of ["clusters", "users", "contexts"] as const) {
    const v = doc.get(key, true);
    if (v !== undefined && v !== null && !isSeq(v) && !(isScalar(v) && v.value === null)) {
      throw new InputError(`${file}: ${key} is not a list; not touching it`);
    }
  }
  if (!doc.has("apiVersion")) doc.set("apiVersion", "v1");
  if (!doc.has("kind")) doc.set("kind", "Config");
  return doc;
}

/**
 * Merge the entries into the kubeconfig text (undefined or empty: a new file), or into a document from
 * `parseKubeconfig` (which this changes), and make the context current. `file` names the file in errors.
 */
export function mergeKubeconfig(
  existing: string | Document | undefined,
  entries: KubeconfigEntries,
  opts: { file?: string; setCurrentContext?: boolean } = {},
): MergeResult {
  const doc = existing instanceof Document ? existing : parseKubeconfig(existing, opts.file);
  const actions = {
    cluster: upsert(doc, "clusters", entries.cluster),
    user: upsert(doc, "users", entries.user),
    context: upsert(doc, "contexts", entries.context),
  };
  if (opts.setCurrentContext !== false) doc.set("current-context", entries.context.name);
  return { text: doc.toString({ lineWidth: 0 }), actions };
}
