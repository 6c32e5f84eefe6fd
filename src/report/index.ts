/**
 * How a ChainReport is shown: text (a checklist for terminals), JSON (the contract's one document) and HTML
 * (a self-contained page with an SVG picture of the chain). Pure functions: they return strings and print
 * nothing. See docs/report.md.
 */
import type { ChainReport } from "../chain/types.js";
import { effectiveVerdict } from "./model.js";

export { type HtmlOptions, renderHtml } from "./html.js";
export { renderJson } from "./json.js";
export {
  countStatuses,
  effectiveVerdict,
  FOLD_ABOVE,
  FOLD_LINES,
  type FoldGroup,
  type Folding,
  foldingOf,
  groupLinks,
  type LinkGroup,
  orderedLinks,
  type RenderableReport,
  type ReportClient,
  type StatusCounts,
} from "./model.js";
export { renderSvg, type Svg, type SvgOptions } from "./svg.js";
export { MARKS, renderText, type TextOptions } from "./text.js";

/**
 * The exit code of `plan` and `doctor` for a report: 0 when the verdict is pass (every link passes or only
 * warns), else 1 (a link fails, or one could not be decided).
 */
export function exitCodeFor(report: ChainReport): 0 | 1 {
  return effectiveVerdict(report) === "pass" ? 0 : 1;
}
