/**
 * Reading a topology file's text (no parsing): light on purpose, so that `plan` can hand the text to a worker
 * (src/chain/pool.ts) before the main thread loads anything heavy. load.ts parses and validates.
 */
import { READ_LIMITS, readUserFile } from "../files/index.js";

/** The topology file commands read when none is named. */
export const DEFAULT_TOPOLOGY_FILE = "xeks.yaml";

/** The flag or field the topology file is named by in messages: the positional argument of every command. */
const TOPOLOGY_FIELD = "FILE";

/**
 * Read a topology file's text, without parsing it: the same checks and errors as {@link loadTopology}. Throws
 * InputError (exit 2) for a missing or unreadable file, one that is not a regular file (a FIFO, a device: refused
 * without blocking), one larger than READ_LIMITS.topology (1 MiB). The file is recorded as an input of the
 * command (src/files), so no output overwrites it. `plan` reads here and parses in a worker (src/chain/pool.ts).
 */
export function readTopologyFile(file: string = DEFAULT_TOPOLOGY_FILE): string {
  return readUserFile(file, {
    field: TOPOLOGY_FIELD,
    what: "topology file",
    maxBytes: READ_LIMITS.topology,
    hint: `name a topology file (a regular file of at most 1 MiB), or create ${DEFAULT_TOPOLOGY_FILE} (see examples/seed.yaml)`,
  });
}
