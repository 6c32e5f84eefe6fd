/**
 * Writing xeks's entries into the user's kubeconfig text without touching the rest of it: every byte outside
 * the entries xeks adds or replaces (and `current-context`) stays as the user, kubectl or another tool wrote it
 * (indentation, sequence style, comments, quoting, order, blank lines). New text follows the file's own
 * layout, read from the file: the indentation step of nested mappings, where a block sequence's `-` sits under
 * its key (kubectl writes `clusters:\n- cluster:`, other tools `clusters:\n  - cluster:`), and the gap
 * between `-` and an item's first key.
 *
 * Positions come from the `yaml` package's parse of the original text (node ranges). A layout this module
 * does not handle (a flow-style top-level mapping or list with entries, a top-level mapping that does not
 * start in column 0, a document end marker) returns undefined: the caller then writes the document model
 * instead, which keeps the content and comments but not every detail of the layout.
 */
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseDocument,
  stringify,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";

/** How new text is laid out, read from the file (defaults: kubectl's own layout). */
export interface KubeconfigLayout {
  /** Columns from a key to the keys of the mapping nested under it. kubectl: 2. */
  indent: number;
  /** Columns from a key to the `-` of the block sequence under it. kubectl: 0; many editors: 2. */
  seqIndent: number;
  /** Columns from `-` to the first key of a mapping item. Usually 2 (`- name: x`). */
  itemOffset: number;
  /** The file's line ending. */
  eol: "\n" | "\r\n";
}

/** kubectl's layout (what `kubectl config set-cluster` writes): used for a new file and what a file does not show. */
export const KUBECTL_LAYOUT: KubeconfigLayout = { indent: 2, seqIndent: 0, itemOffset: 2, eol: "\n" };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One change to the text: replace [start, end) by `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

const pad = (n: number) => " ".repeat(Math.max(0, n));

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** The offset of the `-` that introduces a sequence item starting at `offset`, or undefined. */
function dashBefore(text: string, offset: number): number | undefined {
  let i = offset - 1;
  while (i >= 0 && (text[i] === " " || text[i] === "\n" || text[i] === "\r")) i--;
  return text[i] === "-" ? i : undefined;
}

function rangeOf(node: unknown): [number, number, number] | undefined {
  const r = (node as Node | null | undefined)?.range;
  return r ? [r[0], r[1], r[2]] : undefined;
}

function keyName(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

/** The most common value, or `fallback` when there is none. */
function mode(values: number[], fallback: number): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = fallback;
  let n = 0;
  for (const [v, c] of counts) {
    if (c > n) {
      best = v;
      n = c;
    }
  }
  return best;
}

/** Read the layout of a parsed kubeconfig from its text; what the file does not show is kubectl's. */
export function detectLayout(text: string, doc: Document): KubeconfigLayout {
  const indents: number[] = [];
  const seqIndents: number[] = [];
  const itemOffsets: number[] = [];
  const visitMap = (map: YAMLMap) => {
    if (map.flow) return;
    for (const pair of map.items) {
      const keyStart = rangeOf(pair.key)?.[0];
      if (keyStart === undefined) continue;
      const keyCol = columnOf(text, keyStart);
      const v = pair.value;
      if (isMap(v) && !v.flow && v.items.length > 0) {
        const first = rangeOf(v.items[0]?.key)?.[0];
        if (first !== undefined && lineStart(text, first) !== lineStart(text, keyStart)) {
          indents.push(columnOf(text, first) - keyCol);
        }
        visitMap(v);
      } else if (isSeq(v) && !v.flow && v.items.length > 0) {
        visitSeq(v, keyCol);
      }
    }
  };
  const visitSeq = (seq: YAMLSeq, keyCol: number) => {
    for (const item of seq.items) {
      const start = rangeOf(item)?.[0];
      if (start === undefined) continue;
      const dash = dashBefore(text, start);
      if (dash === undefined) continue;
      seqIndents.push(columnOf(text, dash) - keyCol);
      if (isMap(item) && !item.flow) {
        if (lineStart(text, dash) === lineStart(text, start)) itemOffsets.push(start - dash);
        visitMap(item);
      }
    }
  };
  if (isMap(doc.contents)) visitMap(doc.contents);
  const positive = (xs: number[]) => xs.filter((x) => x > 0);
  return {
    indent: mode(positive(indents), KUBECTL_LAYOUT.indent),
    seqIndent: mode(
      seqIndents.filter((x) => x >= 0),
      KUBECTL_LAYOUT.seqIndent,
    ),
    itemOffset: mode(positive(itemOffsets), KUBECTL_LAYOUT.itemOffset),
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
}

/** A scalar (or empty collection) as YAML text on one line: plain when YAML allows it, else quoted. */
function scalarText(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : JSON.stringify(value);
  if (typeof value === "object") return Object.keys(value).length === 0 ? "{}" : JSON.stringify(value);
  const out = stringify(value, { lineWidth: 0 }).replace(/\n$/, "");
  // Never a block scalar or a folded line: JSON's double-quoted form is valid YAML.
  return out.includes("\n") ? JSON.stringify(value) : out;
}

const isObject = (v: Json): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A mapping in block style with its keys at column `col`: one string per line. */
export function renderMap(value: { [key: string]: Json }, col: number, layout: KubeconfigLayout): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const key = scalarText(k);
    if (isObject(v) && Object.keys(v).length > 0) {
      lines.push(`${pad(col)}${key}:`, ...renderMap(v, col + layout.indent, layout));
    } else if (Array.isArray(v) && v.length > 0) {
      lines.push(`${pad(col)}${key}:`, ...renderSeq(v, col + layout.seqIndent, layout));
    } else {
      lines.push(`${pad(col)}${key}: ${scalarText(v)}`);
    }
  }
  return lines;
}

/** A sequence in block style with its `-` at column `dash`. */
export function renderSeq(items: Json[], dash: number, layout: KubeconfigLayout): string[] {
  const lines: string[] = [];
  const lead = `${pad(dash)}-${pad(layout.itemOffset - 1)}`;
  for (const item of items) {
    if (isObject(item) && Object.keys(item).length > 0) {
      const inner = renderMap(item, dash + layout.itemOffset, layout);
      lines.push(`${lead}${(inner[0] ?? "").trimStart()}`, ...inner.slice(1));
    } else {
      lines.push(`${lead}${scalarText(item)}`);
    }
  }
  return lines;
}

/** A whole kubeconfig in the given layout (a new file). */
export function renderKubeconfig(value: { [key: string]: Json }, layout: KubeconfigLayout): string {
  return renderMap(value, 0, layout)
    .map((l) => `${l}${layout.eol}`)
    .join("");
}

/** What to write: the three entries (null: leave that list alone) and the current context (undefined: leave it). */
export interface SpliceRequest {
  lists: {
    key: "clusters" | "users" | "contexts";
    entry: { name: string };
    change: "added" | "updated" | null;
  }[];
  currentContext?: string;
  /** Keys the file lacks and a kubeconfig has (`apiVersion: v1`, `kind: Config`), written first. */
  header: [string, string][];
}

/**
 * The text with the entries spliced in, or undefined when the file's layout is one this does not handle (see
 * the module comment). `text` must be a kubeconfig that `parseKubeconfig` accepted.
 */
export function spliceKubeconfig(text: string, request: SpliceRequest): string | undefined {
  const src = parseDocument(text, { uniqueKeys: false });
  if (src.errors.length > 0) return undefined;
  const layout = detectLayout(text, src);
  const eol = layout.eol;
  const top = src.contents;
  if (/^\.\.\.\s*$/m.test(text)) return undefined;
  const edits: Edit[] = [];
  const appended: string[] = [];
  let topCol = 0;
  if (top === null || top === undefined) {
    // Only comments (or nothing): everything is new, after them.
  } else if (!isMap(top) || top.flow) {
    return undefined;
  } else {
    const first = rangeOf(top)?.[0];
    if (first === undefined) return undefined;
    topCol = columnOf(text, first);
    if (topCol !== 0) return undefined;
  }
  const pairs = isMap(top) ? (top.items as Pair[]) : [];
  const pairOf = (key: string) => pairs.find((p) => keyName(p) === key);
  /** The offset just after the `:` of a pair's key. */
  const afterColon = (pair: Pair): number | undefined => {
    const keyEnd = rangeOf(pair.key)?.[1];
    if (keyEnd === undefined) return undefined;
    const colon = text.indexOf(":", keyEnd);
    return colon < 0 ? undefined : colon + 1;
  };

  if (request.header.length > 0) {
    const lines = request.header.map(([k, v]) => `${k}: ${scalarText(v)}${eol}`).join("");
    if (isMap(top)) {
      const at = rangeOf(top)?.[0] ?? 0;
      edits.push({ start: at, end: at, text: lines });
    } else {
      appended.push(...request.header.map(([k, v]) => `${k}: ${scalarText(v)}`));
    }
  }

  for (const { key, entry, change } of request.lists) {
    if (change === null) continue;
    const json = entry as unknown as Json;
    const pair = pairOf(key);
    if (!pair) {
      appended.push(`${key}:`, ...renderSeq([json], layout.seqIndent, layout));
      continue;
    }
    const value = pair.value;
    if (isSeq(value) && !value.flow && value.items.length > 0) {
      const items = value.items;
      const dashes = items.map((it) => {
        const s = rangeOf(it)?.[0];
        return s === undefined ? undefined : dashBefore(text, s);
      });
      const firstDash = dashes[0];
      if (firstDash === undefined || dashes.some((d) => d === undefined)) return undefined;
      const dashCol = columnOf(text, firstDash);
      const firstStart = rangeOf(items[0])?.[0] ?? firstDash;
      const own: KubeconfigLayout = {
        ...layout,
        itemOffset:
          lineStart(text, firstStart) === lineStart(text, firstDash)
            ? firstStart - firstDash
            : layout.itemOffset,
      };
      const rendered = renderSeq([json], dashCol, own)
        .map((l) => `${l}${eol}`)
        .join("");
      const endOf = (i: number): number | undefined => {
        const end = rangeOf(items[i])?.[1];
        if (end === undefined) return undefined;
        if (end > 0 && text[end - 1] === "\n") return end;
        const nl = text.indexOf("\n", end);
        return nl < 0 ? text.length : nl + 1;
      };
      const index = items.findIndex(
        (it) => isMap(it) && isScalar(it.get("name", true)) && it.get("name") === entry.name,
      );
      if (change === "updated") {
        if (index < 0) return undefined;
        const dash = dashes[index] as number;
        const end = endOf(index);
        if (end === undefined) return undefined;
        const needsEol = end === text.length && !text.endsWith("\n");
        edits.push({
          start: lineStart(text, dash),
          end,
          text: needsEol ? rendered.replace(new RegExp(`${eol}$`), "") : rendered,
        });
      } else {
        const end = endOf(items.length - 1);
        if (end === undefined) return undefined;
        const needsEol = end === text.length && !text.endsWith("\n");
        edits.push({ start: end, end, text: needsEol ? `${eol}${rendered}` : rendered });
      }
      continue;
    }
    // An empty list (`clusters: null`, `clusters: []`, `clusters:`): the value becomes the block list.
    const emptyValue =
      value === null ||
      value === undefined ||
      (isScalar(value) && (value.value === null || value.value === "")) ||
      (isSeq(value) && value.items.length === 0);
    if (!emptyValue) return undefined;
    const colon = afterColon(pair);
    if (colon === undefined) return undefined;
    const r = rangeOf(value);
    const end = r && r[1] > r[0] ? r[1] : colon;
    const lines = renderSeq([json], layout.seqIndent, layout);
    edits.push({ start: colon, end, text: lines.map((l) => `${eol}${l}`).join("") });
  }

  if (request.currentContext !== undefined) {
    const pair = pairOf("current-context");
    const scalar = scalarText(request.currentContext);
    if (!pair) {
      appended.push(`current-context: ${scalar}`);
    } else {
      const value = pair.value;
      if (value !== null && value !== undefined && !isScalar(value)) return undefined;
      const r = rangeOf(value);
      if (r && r[1] > r[0]) {
        // Quoted as the old value was, when it was quoted.
        const quote = text[r[0]];
        const name = request.currentContext;
        const same =
          quote === '"'
            ? JSON.stringify(name)
            : quote === "'" && !/[\n\r]/.test(name)
              ? `'${name.replaceAll("'", "''")}'`
              : scalar;
        edits.push({ start: r[0], end: r[1], text: same });
      } else {
        const colon = afterColon(pair);
        if (colon === undefined) return undefined;
        edits.push({ start: colon, end: colon, text: ` ${scalar}` });
      }
    }
  }

  if (appended.length > 0) {
    const lead = text.length > 0 && !text.endsWith("\n") ? eol : "";
    edits.push({
      start: text.length,
      end: text.length,
      text: `${lead}${appended.map((l) => `${l}${eol}`).join("")}`,
    });
  }

  // Apply from the end, so earlier offsets stay valid; edits never overlap (distinct keys and items). Of two
  // insertions at one offset, the one made first must come first in the text, so it is applied last.
  const ordered = edits.map((e, i) => ({ ...e, i })).sort((a, b) => b.start - a.start || b.i - a.i);
  let out = text;
  for (const e of ordered) out = `${out.slice(0, e.start)}${e.text}${out.slice(e.end)}`;
  return out;
}
