/**
 * Reading a topology file: YAML with line numbers, then `validateTopology`. Errors carry the file, the field
 * path and the line, so the CLI can print `xeks.yaml:12:5 clients[0].vpc.cidr: expected …`.
 */
import { isMap, isNode, isScalar, LineCounter, parseDocument } from "yaml";
import { InputError, type InputIssue } from "../errors.js";
import { DEFAULT_TOPOLOGY_FILE, readTopologyFile } from "./read.js";

export { DEFAULT_TOPOLOGY_FILE, readTopologyFile };

import type { Topology } from "./types.js";
import { validateTopology } from "./validate.js";

/** The file `plan`, `doctor` and friends read when none is named. */

function splitPath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) parts.push(Number(m[2]));
    else if (m[1] !== undefined) parts.push(m[1]);
  }
  return parts;
}

/** Parse topology text. `file` is used in messages only. */
export function parseTopology(text: string, file = "<input>"): Topology {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first error is the cause; later ones are mostly its echoes.
    const issues: InputIssue[] = doc.errors.slice(0, 3).map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      let message = `YAML: ${e.message.split("\n")[0]}`;
      if (e.code === "DUPLICATE_KEY") {
        // Name the key: the error points at its second occurrence.
        const key = /^\s*["']?([^"':#\n]+?)["']?\s*:/.exec(text.slice(e.pos[0]))?.[1];
        if (key) message = `YAML: the key "${key}" appears twice in one mapping; keep one of them`;
      }
      return { path: "", message, line: pos.line, column: pos.col };
    });
    throw new InputError(`${file} is not valid YAML`, issues, file);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(
      `${file} is not a usable YAML document`,
      [{ path: "", message: `${(err as Error).message}; write the values out instead of nesting aliases` }],
      file,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InputError(
      `${file} must be a YAML mapping with version, cluster, clients and access`,
      [{ path: "", message: "expected a mapping (see `xeks schema`)" }],
      file,
    );
  }
  const result = validateTopology(raw);
  if (result.issues.length > 0) {
    for (const issue of result.issues) {
      const parts = splitPath(issue.path);
      // Point at the deepest node that exists (a missing key points at its parent).
      for (let n = parts.length; n >= 0; n--) {
        // A mapping's entry is shown at its key (an unknown key, or a value whose block starts on the next line).
        const parent = n === 0 ? undefined : n === 1 ? doc.contents : doc.getIn(parts.slice(0, n - 1), true);
        const pair = isMap(parent)
          ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(parts[n - 1]))
          : undefined;
        const node = isNode(pair?.key)
          ? pair.key
          : n === 0
            ? doc.contents
            : doc.getIn(parts.slice(0, n), true);
        if (isNode(node) && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          issue.line = pos.line;
          issue.column = pos.col;
          break;
        }
      }
    }
    const count = result.issues.length;
    throw new InputError(`${file} has ${count} problem${count === 1 ? "" : "s"}`, result.issues, file);
  }
  if (!("topology" in result)) throw new Error("unreachable");
  return { ...result.topology, file };
}

/**
 * Read and check a topology file: {@link readTopologyFile}, then {@link parseTopology} (InputError, exit 2, for
 * an invalid one).
 */
export function loadTopology(file: string = DEFAULT_TOPOLOGY_FILE): Topology {
  return parseTopology(readTopologyFile(file), file);
}
