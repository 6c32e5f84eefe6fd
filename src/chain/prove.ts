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
import { subjectsOf } from "./subjects.js";

export { subjectsOf };

import { type ChainReport, chainReport, type LinkResult, type ReportMode } from "./types.js";

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

/**
 * The links of `subjects` (a run of `subjectsOf(topology)`, in that order), each subject's links in chain order.
 * Subjects do not depend on one another: proving a list in pieces and concatenating the pieces' links in order
 * gives the links of the whole list (src/chain/pool.ts relies on it).
 */
export async function proveSubjects(
  topology: Topology,
  model: Model,
  subjects: readonly Subject[],
): Promise<LinkResult[]> {
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
    for (const subject of subjects) {
      const links = LINKS.filter((l) => l.subject === subject.kind).map((l) => asStep(l, input));
      await run.runAll(links, subject);
    }
  });
  return run.links;
}

/** Prove the chain for every subject; links keep chain order within each subject group. */
export async function prove(topology: Topology, model: Model, mode: ReportMode): Promise<ChainReport> {
  return chainReport(topology, mode, await proveSubjects(topology, model, subjectsOf(topology)));
}
