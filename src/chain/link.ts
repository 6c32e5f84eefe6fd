/**
 * What a link module is: an id from contract.md, a title, the kind of subject it is about, and a function
 * from (intent, facts, subject) to a result. Links read the model only: no AWS calls, no printing.
 */
import type { Model } from "../model/types.js";
import type { AccessRole, Client, Topology } from "../topology/types.js";
import type { Evidence, LinkId, LinkStatus } from "./types.js";

export type Subject =
  | { kind: "cluster" }
  | { kind: "client"; client: Client }
  | { kind: "access"; access: AccessRole }
  | { kind: "pair"; client: Client; access: AccessRole };

export interface LinkInput {
  /** What the user wants (the topology file). */
  topology: Topology;
  /** What is (live) or will be (plan). */
  model: Model;
}

export interface Finding {
  status: LinkStatus;
  summary: string;
  fix?: string;
  evidence?: Evidence[];
}

export interface Link<K extends Subject["kind"] = Subject["kind"]> {
  id: LinkId;
  title: string;
  subject: K;
  /**
   * The finding for one subject, or null when the link does not apply to it (no result is reported: for
   * example the client-level `iam.assume-permission` of a client that some access role names, whose pair
   * links decide it).
   */
  evaluate(
    input: LinkInput,
    subject: Extract<Subject, { kind: K }>,
  ): Promise<Finding | null> | Finding | null;
}

export function pass(summary: string, evidence?: Evidence[]): Finding {
  return { status: "pass", summary, evidence };
}
export function fail(summary: string, fix: string, evidence?: Evidence[]): Finding {
  return { status: "fail", summary, fix, evidence };
}
export function warn(summary: string, fix: string, evidence?: Evidence[]): Finding {
  return { status: "warn", summary, fix, evidence };
}
export function unknown(summary: string, fix: string, evidence?: Evidence[]): Finding {
  return { status: "unknown", summary, fix, evidence };
}

/** "client ops", "access role X", "client ops -> access role X", "cluster N". */
export function subjectName(topology: Topology, s: Subject): string {
  switch (s.kind) {
    case "cluster":
      return `cluster ${topology.cluster.name}`;
    case "client":
      return `client ${s.client.name}`;
    case "access":
      return `access role ${s.access.role}`;
    case "pair":
      return `client ${s.client.name} -> access role ${s.access.role}`;
  }
}

/** The evidence source for a model: plan facts came from templates unless declared. */
export function factSource(model: Model): "template" | "live" {
  return model.source === "plan" ? "template" : "live";
}
