/**
 * The last line of defence between the topology and CDK: an error thrown while the stacks are built or
 * synthesized (a construct that refuses a value, a duplicate construct id, a token it cannot resolve) becomes an
 * InputError (exit 2) that names the topology field the failing construct was built from, instead of exit 1 with
 * a CDK message. `validateTopology` refuses every such input it knows of first; this maps the ones it does not.
 * No CDK import: CDK errors are recognized by shape (`constructPath`) and message.
 */
import { InputError, OperationError } from "../errors.js";
import type { Layout, StackLayout } from "../layout/layout.js";
import { stackSourcePath } from "../layout/name-checks.js";
import type { Topology } from "../topology/types.js";

/**
 * Thrown by XeksStack when adding one intent's constructs fails: the path of the construct being built
 * (`STACK/CONSTRUCT_ID`), with the original error as `cause`.
 */
export class ConstructionError extends Error {
  override readonly name = "ConstructionError";
  constructor(
    readonly constructPath: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/**
 * The field a client's role comes from: `clients[i].role` (legacy form), `clients[i].identity.role` (instance,
 * oidc, pod-identity) or `clients[i].identity.arn` (kind role).
 */
function clientRoleField(topology: Topology, client: number): string {
  const c = topology.clients[client];
  if (!c || c.identity.kind === "instance") return `clients[${client}].role`;
  return c.identity.kind === "role" ? `clients[${client}].identity.arn` : `clients[${client}].identity`;
}

/** The topology field each construct id of a stack is built from (`i`: the stack's client or access role). */
function fieldOf(
  topology: Topology,
  stack: StackLayout,
  constructId: string | undefined,
  rest: string[],
  message: string,
): string {
  const source = stackSourcePath(topology, stack);
  const client = topology.clients.findIndex((c) => c.name === stack.client);
  const access = topology.access.findIndex((a) => a.role === stack.accessRole);
  const routeTable = (at: string, tables: string[]): string => {
    // The route table the construct path or the message names; its second occurrence when it is listed twice.
    const id = rest.find((p) => /^rtb-/.test(p)) ?? /'(rtb-[0-9a-f]+)'/.exec(message)?.[1];
    const found = tables.flatMap((t, j) => (t === id ? [j] : []));
    const j = found.length > 1 ? found[1] : found[0];
    return j === undefined ? `${at}.routeTables` : `${at}.routeTables[${j}]`;
  };
  switch (constructId) {
    case "ClientRole":
      return client >= 0 ? clientRoleField(topology, client) : source;
    case "PodIdentityAssociation":
      return client >= 0 ? `clients[${client}].identity` : source;
    case "AccessRole":
      return access >= 0 ? `access[${access}].role` : source;
    case "AccessEntry":
      return access >= 0 ? `access[${access}]` : source;
    case "PeeringAccepterRole":
      return "cluster.name";
    case "PeeringConnection":
      return client >= 0 ? `clients[${client}].vpc.id` : source;
    case "RouteToCluster":
      return client >= 0
        ? routeTable(`clients[${client}].vpc`, topology.clients[client]?.vpc?.routeTables ?? [])
        : source;
    case "RouteToClient":
      return routeTable("cluster.vpc", topology.cluster.vpc.routeTables);
    case "ClusterIngress":
      return client >= 0 ? `clients[${client}].vpc.cidr` : source;
    case "ClientInstance":
      return client >= 0 ? `clients[${client}].instance` : source;
    default:
      return source;
  }
}

/** The stack a construct path or a message is about: the longest stack name it names. */
function stackNamed(layout: Layout, text: string): StackLayout | undefined {
  return [...layout.stacks]
    .sort((a, b) => b.name.length - a.name.length)
    .find((s) => text.includes(`${s.name}/`) || text.includes(`'${s.name}'`) || text === s.name);
}

/**
 * The topology field a construct path (`/STACK/ClientRole/Default/Resource` or `STACK/…`) was built from, or
 * undefined when the path names no stack of the layout.
 */
export function fieldOfConstructPath(
  topology: Topology,
  layout: Layout,
  constructPath: string,
  message = "",
): string | undefined {
  const parts = constructPath.replace(/^\//, "").split("/");
  const stack = layout.stacks.find((s) => s.name === parts[0]);
  if (!stack) return undefined;
  return fieldOf(topology, stack, parts[1], parts.slice(2), message);
}

/** Every string in the topology with its field path (`access[0].username`), in document order. */
function stringLeaves(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) =>
      k === "file" && path === "" ? [] : stringLeaves(v, path === "" ? k : `${path}.${k}`),
    );
  }
  return [];
}

/**
 * The field whose value the message quotes (`Unrecognized token key: X.1` for a value `${Token[X.1]}`), for
 * errors that carry no construct path (CDK's token resolution at synthesis).
 */
function fieldQuoted(topology: Topology, message: string): string | undefined {
  const fragments = [
    ...[...message.matchAll(/'([^']{3,})'/g)].map((m) => m[1] as string),
    ...[...message.matchAll(/key: (\S{3,}?)\.*(\s|$)/g)].map((m) => m[1] as string),
  ];
  const leaves = stringLeaves(topology);
  return (
    leaves.find((l) => fragments.some((f) => l.value.includes(f)))?.path ??
    leaves.find((l) => l.value.length >= 4 && message.includes(l.value))?.path
  );
}

/** The first line of a CDK message, without CDK's doubled "Resolution error: " prefixes and trailing dots. */
function firstLine(message: string): string {
  const line = (message.split("\n")[0] ?? "").replace(/^(Resolution error: )+/, "");
  return line.replace(/\.+$/, "");
}

/**
 * Turn an error thrown while building or synthesizing the stacks of `topology` into an InputError whose issue
 * names the best topology field: the field the failing construct was built from (from the construct path of a
 * ConstructionError or of a CDK ConstructError), else the field of a stack the message names, else the whole
 * document. InputError and OperationError pass through unchanged.
 */
export function synthesisInputError(err: unknown, topology: Topology, layout: Layout): Error {
  if (err instanceof InputError || err instanceof OperationError) return err;
  const cause = err instanceof ConstructionError ? err.cause : err;
  if (cause instanceof InputError || cause instanceof OperationError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  const paths = [
    err instanceof ConstructionError ? err.constructPath : undefined,
    (cause as { constructPath?: unknown } | undefined)?.constructPath,
  ].filter((p): p is string => typeof p === "string" && p.length > 0);
  let field: string | undefined;
  for (const p of paths) {
    field = fieldOfConstructPath(topology, layout, p, message);
    if (field) break;
  }
  if (!field) {
    const stack = stackNamed(layout, message);
    field = stack ? stackSourcePath(topology, stack) : (fieldQuoted(topology, message) ?? "");
  }
  const what = field ? "a value built from this field" : "a value of the file";
  return new InputError(
    `${topology.file ?? "the topology"} cannot be synthesized; nothing was written`,
    [
      {
        path: field,
        message:
          `CDK refused ${what}: ${firstLine(message)}. Change the value; if the file looks right, this is a ` +
          "check xeks lacks: please report it",
      },
    ],
    topology.file,
  );
}
