export { DEFAULT_TOPOLOGY_FILE, loadTopology, parseTopology } from "./load.js";
export { isCanonicalCidr, topologyJsonSchema, topologySchema } from "./schema.js";
export type * from "./types.js";
export { formatPath, validateTopology } from "./validate.js";
