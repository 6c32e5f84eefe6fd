/**
 * The proof: run every link for every subject of the topology against one model and gather the report.
 * Plan and doctor differ only in the model they pass. The links run through the chain runner (runner.ts),
 * the same one the client probe uses.
 */
import { isReservedRole } from "../domain/principal.js";
import type { Model } from "../model/types.js";
import type { Topology } from "../topology/types.js";
import type { Link, LinkInput, Subject } from "./link.js";
import { subjectName } from "./link.js";
import { LINKS } from "./links/index.js";
import { withProofScope } from "./memo.js";
import { ChainRun, type LinkStep } from "./runner.js";
import type { ChainReport, ReportMode } from "./types.js";

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

/** A link of LINKS as a runner step for one topology and model (its value: "decided", for dependents). */
function asStep(link: Link, input: LinkInput): LinkStep<Subject, true> {
  return {
    id: link.id,
    async evaluate(subject) {
      const finding = await link.evaluate(input, subject as never);
      return finding === null ? null : { finding, value: true };
    },
  };
}

/** Prove the chain for every subject; links keep chain order within each subject group. */
export async function prove(topology: Topology, model: Model, mode: ReportMode): Promise<ChainReport> {
  const run = new ChainRun<Subject>({
    place: (subject) => ({
      subject: subjectName(topology, subject),
      ...(subject.kind === "client" || subject.kind === "pair" ? { client: subject.client.name } : {}),
      ...(subject.kind === "access" || subject.kind === "pair" ? { accessRole: subject.access.role } : {}),
    }),
    crashFix: "report this as a bug in xeks, with the topology file",
    reservedRoles: new Set(
      Object.values(model.roles)
        .filter((r) => isReservedRole(r.path))
        .map((r) => r.name),
    ),
  });
  const input: LinkInput = { topology, model };
  // Indexes over the model and identical IAM decisions are built once for the whole proof (memo.ts).
  await withProofScope(topology, model, async () => {
    for (const subject of subjectsOf(topology)) {
      const links = LINKS.filter((l) => l.subject === subject.kind).map((l) => asStep(l, input));
      await run.runAll(links, subject);
    }
  });
  const c = topology.cluster;
  return run.report(
    mode,
    { name: c.name, account: c.account, region: c.region },
    topology.clients.map((x) => ({ name: x.name, account: x.account, region: x.region })),
  );
}
