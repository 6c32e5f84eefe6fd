/**
 * xeks as a library: load a topology, synthesize both accounts, prove the chain, render the report.
 * The CDK constructs are exported from `xeks/infra`.
 */

export {
  type AuditOptions,
  type AuditReport,
  auditExitCode,
  type Finding,
  type FindingId,
  renderAuditJson,
  renderAuditSarif,
  renderAuditText,
  runAudit,
} from "./audit/index.js";
export { prove, subjectsOf } from "./chain/prove.js";
export type { ChainReport, LinkId, LinkResult, LinkStatus, Verdict } from "./chain/types.js";
export { CLIENT_LINK_IDS, LINK_IDS, verdictOf } from "./chain/types.js";
export { InputError, type InputIssue, OperationError } from "./errors.js";
export { synthesize } from "./infra/synthesize.js";
export { modelFromAssembly, readAssembly } from "./model/from-assembly.js";
export { modelFromTemplates } from "./model/from-templates.js";
export type { Model } from "./model/types.js";
export { exitCodeFor, renderHtml, renderJson, renderText } from "./report/index.js";
export { loadTopology, parseTopology, topologyJsonSchema } from "./topology/index.js";
export type { Topology } from "./topology/types.js";
