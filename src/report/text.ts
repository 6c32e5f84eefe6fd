/**
 * The chain report as a checklist for a terminal: one tree per cluster, client and access role, a mark and
 * the summary on each line, the fix under every link that does not pass, and a closing verdict line.
 */
import type { ChainReport, LinkResult, LinkStatus, Verdict } from "../chain/types.js";
import {
  countStatuses,
  countsPhrase,
  effectiveVerdict,
  FOLD_ABOVE,
  FOLD_NAMES,
  firstNames,
  foldingOf,
  foldNames,
  foldPhrase,
  groupLinks,
  isExpectedSubject,
  type LinkGroup,
  modeTitle,
  rolesPhrase,
  statusOf,
  verdictAdvice,
} from "./model.js";

export interface TextOptions {
  /** ANSI colors. The CLI passes `process.stdout.isTTY && !process.env.NO_COLOR`. Default off. */
  color?: boolean;
  /** Marks `+ x ! ?` instead of `✓ ✗ ! ?`, for terminals without Unicode. The rest is ASCII either way. */
  ascii?: boolean;
  /**
   * Also print the evidence (facts and where they came from) under every link, and every client: nothing is
   * folded. At scale the order stays the folded one's (what does not pass first), the passing clients and
   * access roles where their folded lines would be.
   */
  verbose?: boolean;
  /**
   * Fold the passing clients when more than this many pass all their links (default FOLD_ABOVE, 10): the
   * clients that do not pass come first, then one line per access role for the passing ones.
   */
  foldAbove?: number;
  /** What a folded line says lists its names. Default "--verbose lists them" (plan and doctor). */
  unfoldHint?: string;
}

export const MARKS: Record<LinkStatus, string> = { pass: "✓", fail: "✗", warn: "!", unknown: "?" };
const ASCII_MARKS: Record<LinkStatus, string> = { pass: "+", fail: "x", warn: "!", unknown: "?" };

const ANSI: Record<LinkStatus | "bold" | "dim", string> = {
  pass: "\u001b[32m",
  fail: "\u001b[31m",
  warn: "\u001b[33m",
  unknown: "\u001b[90m",
  bold: "\u001b[1m",
  dim: "\u001b[2m",
};
const RESET = "\u001b[0m";

/**
 * Text from reports (user files, AWS answers) must not drive the terminal nor reorder what it shows: control
 * characters and the bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) are shown
 * as `\u202e`.
 */
export function cleanText(s: string): string {
  return s
    .replace(/\r\n?/g, "\n")
    .replace(/\t/g, "  ")
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

export function renderText(report: ChainReport, options: TextOptions = {}): string {
  const marks = options.ascii ? ASCII_MARKS : MARKS;
  const paint = (style: keyof typeof ANSI, s: string) => (options.color ? `${ANSI[style]}${s}${RESET}` : s);
  const all = groupLinks(report.links);
  // At scale: the clients and access roles that do not pass first, the passing ones folded (docs/report.md);
  // --verbose unfolds them in place, in the same order.
  const scaled = foldingOf(report.links, options.foldAbove ?? FOLD_ABOVE);
  const folding = options.verbose ? undefined : scaled;
  const byName = (kind: LinkGroup["kind"], names: readonly string[]) =>
    names.flatMap((n) => all.filter((g) => g.kind === kind && g.name === n));
  const groups = scaled
    ? [
        ...all.filter((g) => g.kind === "cluster" || g.kind === "subject"),
        ...byName("client", scaled.shown),
        ...byName("role", scaled.shownRoles),
        ...(options.verbose ? [...byName("client", scaled.passing), ...byName("role", scaled.roles)] : []),
      ]
    : all;

  // Summaries start in one column across the whole tree.
  let width = 0;
  const measure = (g: LinkGroup, depth: number) => {
    for (const l of g.links) width = Math.max(width, depth * 2 + 2 + cleanText(l.id).length);
    for (const c of g.children) measure(c, depth + 1);
  };
  for (const g of groups) measure(g, 1);
  const column = width + 2;

  const out: string[] = [];
  const c = report.cluster;
  const title = modeTitle(report.mode);
  out.push(
    paint(
      "bold",
      c ? `${title}: cluster ${cleanText(`${c.name} (account ${c.account}, ${c.region})`)}` : title,
    ),
  );

  const block = (text: string, indent: number, first: string): string[] =>
    cleanText(text)
      .split("\n")
      .map((line, i) => (i === 0 ? `${first}${line}` : `${" ".repeat(indent)}${line}`));

  const linkLines = (link: LinkResult, group: LinkGroup, depth: number) => {
    const status = statusOf(link);
    const indent = depth * 2;
    const id = cleanText(link.id);
    const lead = `${" ".repeat(indent)}${paint(status, marks[status])} ${id}`;
    const pad = " ".repeat(Math.max(1, column - (indent + 2 + id.length)));
    const subject = isExpectedSubject(group, link.subject) ? "" : `[${link.subject}] `;
    out.push(...block(`${subject}${link.summary}`, column, `${lead}${pad}`));
    const inner = indent + 4;
    if (status !== "pass") {
      const fix = link.fix?.trim() ? link.fix : "(no fix given: see the summary and the evidence)";
      out.push(...block(fix, inner + 5, `${" ".repeat(inner)}${paint("bold", "fix:")} `));
    }
    if (options.verbose) {
      for (const e of link.evidence ?? []) {
        const detail = e.detail ? `: ${e.detail}` : "";
        out.push(
          ...block(`${e.fact}${detail}`, inner + 4, `${" ".repeat(inner)}${paint("dim", `[${e.source}]`)} `),
        );
      }
    }
  };

  const walk = (group: LinkGroup, depth: number) => {
    out.push(`${" ".repeat((depth - 1) * 2)}${paint("bold", cleanText(group.title))}`);
    for (const l of group.links) linkLines(l, group, depth);
    for (const child of group.children) walk(child, depth + 1);
  };

  for (const g of groups) {
    out.push("");
    walk(g, 1);
  }
  if (folding) {
    const hint = options.unfoldHint ?? "--verbose lists them";
    const line = (phrase: string, names: readonly string[]) =>
      block(
        `${phrase}: ${firstNames(names)}${names.length > FOLD_NAMES ? ` (${hint})` : ""}`,
        2,
        `${paint("pass", marks.pass)} `,
      );
    out.push("");
    const more = folding.groups.length > 1;
    for (const f of folding.groups) out.push(...line(foldPhrase(f, more), foldNames(f)));
    if (folding.roles.length) out.push(...line(rolesPhrase(folding.roles.length), folding.roles));
  }
  if (all.length === 0) out.push("", "no links were checked");

  const counts = countStatuses(report.links);
  const verdict: Verdict = effectiveVerdict(report);
  const vStatus: LinkStatus = verdict;
  const advice = verdictAdvice(verdict, counts);
  out.push(
    "",
    `${paint(vStatus, marks[vStatus])} ${paint("bold", `verdict: ${verdict}`)} - ${countsPhrase(counts)}. ${advice[0]?.toUpperCase()}${advice.slice(1)}.`,
  );
  return `${out.join("\n")}\n`;
}
