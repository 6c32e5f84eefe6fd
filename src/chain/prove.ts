/**
 * The proof: run every link for every subject of the topology against one model and gather the report.
 * Plan and doctor differ only in the model they pass.
 */
import type { Model } from "../model/types.js";
import type { Topology } from "../topology/types.js";
import type { Finding, Link, Subject } from "./link.js";
import { subjectName } from "./link.js";
import { LINKS } from "./links/index.js";
import type { ChainReport, LinkResult, ReportMode } from "./types.js";
import { verdictOf } from "./types.js";

/** The subjects of a topology: the cluster, each client, each access role, each (client, access role) pair. */
export function subjectsOf(topology: Topology): Subject[] {
  const out: Subject[] = [{ kind: "cluster" }];
  for (const client of topology.clients) {
    out.push({ kind: "client", client });
    for (const access of topology.access.filter((a) => a.clients.includes(client.name))) {
      out.push({ kind: "pair", client, access });
    }
  }
  for (const access of topology.access) out.push({ kind: "access", access });
  return out;
}

async function runLink(
  link: Link,
  topology: Topology,
  model: Model,
  subject: Subject,
): Promise<LinkResult | null> {
  let finding: Finding | null;
  try {
    finding = await link.evaluate({ topology, model }, subject as never);
    if (finding === null) return null;
  } catch (err) {
    finding = {
      status: "unknown",
      summary: `the check itself failed: ${(err as Error).message}`,
      fix: "report this as a bug in xeks, with the topology file",
    };
  }
  const result: LinkResult = { id: link.id, subject: subjectName(topology, subject), ...finding };
  if (subject.kind === "client" || subject.kind === "pair") result.client = subject.client.name;
  if (subject.kind === "access" || subject.kind === "pair") result.accessRole = subject.access.role;
  for (const k of ["fix", "evidence"] as const) if (result[k] === undefined) delete result[k];
  return result;
}

/** Prove the chain for every subject; links keep chain order within each subject group. */
export async function prove(topology: Topology, model: Model, mode: ReportMode): Promise<ChainReport> {
  const links: LinkResult[] = [];
  for (const subject of subjectsOf(topology)) {
    for (const link of LINKS.filter((l) => l.subject === subject.kind)) {
      const result = await runLink(link, topology, model, subject);
      if (result) links.push(result);
    }
  }
  const c = topology.cluster;
  return {
    kind: "ChainReport",
    version: 1,
    mode,
    verdict: verdictOf(links),
    cluster: { name: c.name, account: c.account, region: c.region },
    clients: topology.clients.map((x) => ({ name: x.name, account: x.account, region: x.region })),
    links,
  };
}
