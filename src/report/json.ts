/**
 * The chain report as the one JSON document of contract.md ("The chain report"), keys in a fixed order so
 * that two runs on the same state print the same bytes. Fields: the contract's, plus the documented
 * extensions (docs/report.md): `cluster`, `clients`, and per link `evidence`, `client`, `accessRole`.
 */
import type { ChainReport, Evidence, LinkResult } from "../chain/types.js";
import { effectiveVerdict, type RenderableReport, statusOf } from "./model.js";

function evidenceJson(e: Evidence): Record<string, unknown> {
  const out: Record<string, unknown> = { fact: e.fact, source: e.source };
  if (e.detail !== undefined) out.detail = e.detail;
  return out;
}

function linkJson(link: LinkResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: link.id,
    subject: link.subject,
    status: statusOf(link),
    summary: link.summary,
  };
  if (link.fix !== undefined) out.fix = link.fix;
  if (link.evidence !== undefined) out.evidence = link.evidence.map(evidenceJson);
  if (link.client !== undefined) out.client = link.client;
  if (link.accessRole !== undefined) out.accessRole = link.accessRole;
  return out;
}

/** The report as plain data, keys in contract order (what `renderJson` prints). */
function reportJson(report: ChainReport): Record<string, unknown> {
  const r = report as RenderableReport;
  const out: Record<string, unknown> = {
    kind: "ChainReport",
    version: 1,
    mode: r.mode,
    verdict: effectiveVerdict(r),
  };
  if (r.cluster) out.cluster = { name: r.cluster.name, account: r.cluster.account, region: r.cluster.region };
  if (Array.isArray(r.clients))
    out.clients = r.clients.map((c) => {
      const client: Record<string, unknown> = { name: c.name, account: c.account };
      if (c.region !== undefined) client.region = c.region;
      return client;
    });
  out.links = r.links.map(linkJson);
  return out;
}

/** Exactly one JSON document, two-space indented, with a trailing newline. */
export function renderJson(report: ChainReport): string {
  return `${JSON.stringify(reportJson(report), null, 2)}\n`;
}
