/**
 * `xeks can-i VERB RESOURCE [NAME] [-n NS] --role-arn ARN [FILE]`: offline, may the access role do VERB on RESOURCE, and
 * through which access policy and scope. Prints yes/no (or unknown) like `kubectl auth can-i`; the reason
 * goes to stderr. Exit 0 yes, 1 no, 3 cannot evaluate (an associated policy xeks has no rules for), 2 bad input.
 */
import { lstatSync } from "node:fs";
import type { Command } from "commander";
import type { AccessRequest } from "../access/evaluate.js";
import { InputError } from "../errors.js";
import type { AccessRole, Topology } from "../topology/types.js";
import { deprecatedAlias } from "./vocabulary.js";

export const EXIT_CANI_UNKNOWN = 3;

interface CanIOptions {
  namespace?: string;
  allNamespaces?: boolean;
  subresource?: string;
  roleArn?: string;
  output: string;
  quiet?: boolean;
}

export function registerCanI(program: Command): void {
  const canI = program
    .command("can-i")
    .summary("Offline. May an access role do VERB on RESOURCE, and through which access policy and scope?")
    .description(
      "Offline. Answer whether an access role may do VERB on RESOURCE through its EKS access policies, and " +
        "through which policy and scope. RESOURCE as for kubectl auth can-i: pods, deploy, deployments.apps, " +
        "pods/exec (or --subresource exec), '*', or a non-resource URL such as /healthz; one object by its name " +
        "as pods/mypod or pods mypod. Prints yes, no or unknown on stdout and the reason on stderr.",
    )
    .argument(
      "<verb>",
      "get, list, watch, create, update, patch, delete, deletecollection, impersonate, … or '*'",
    )
    .argument("<resource>", "pods, deployments.apps, pods/exec, pods/mypod, /healthz, …")
    .argument("[name]", "the name of one object (as RESOURCE/NAME); omit it for any object")
    .argument("[file]", "topology file (default: xeks.yaml)")
    .option(
      "--role-arn <arn>",
      "the access role: its ARN, its name or a session ARN (optional when the topology has one)",
    )
    .option("-n, --namespace <ns>", "namespace of the request", "default")
    .option("-A, --all-namespaces", "a request across all namespaces (needs cluster scope)")
    .option("--subresource <name>", "subresource, such as exec, log, scale")
    .option("-q, --quiet", "print nothing; only the exit code answers")
    .option("-o, --output <format>", "text or json", "text")
    .addHelpText(
      "after",
      "\nExit codes: 0 yes, 1 no, 2 invalid input, 3 cannot evaluate (a policy xeks has no rules for).\n" +
        "The access policies are evaluated, then Kubernetes' default RBAC for every authenticated user (get /healthz,\n" +
        "/livez, /readyz, /version, /openapi, /api, /apis; create self-subject reviews). RBAC bindings of the entry's\n" +
        "kubernetesGroups are not visible offline. --role-arn also takes a session ARN (arn:aws:sts::A:assumed-role/NAME/S).\n" +
        "\nOne object: pods/mypod or pods mypod (kubectl auth can-i takes TYPE/NAME). RESOURCE/X is a subresource when X\n" +
        "is a known one (exec, log, scale, status, …), else a name; with --subresource, X is always the name\n" +
        "(pods/mypod --subresource log). A third argument is the FILE, not a NAME, when it contains '/', ends in\n" +
        ".yaml, .yml or .json, or is an existing file; give both as NAME FILE. The name matters only where a\n" +
        "rule lists resourceNames; the access policies xeks knows have none, and the reason says so.\n" +
        "Examples:\n" +
        "  xeks can-i get pods mypod -n team-a\n" +
        "  xeks can-i get pods/mypod --subresource log -n team-a\n" +
        "  xeks can-i create pods/exec -n team-a",
    );
  deprecatedAlias(canI, "--role <arn>", "--role-arn").action(
    async (
      verb: string,
      resource: string,
      third: string | undefined,
      fourth: string | undefined,
      opts: CanIOptions,
      cmd: Command,
    ) => {
      const { name, file } = nameAndFile(third, fourth);
      if (opts.output !== "text" && opts.output !== "json") {
        throw new InputError(`unknown output format "${opts.output}"`, [
          { path: "--output", message: "expected text or json" },
        ]);
      }
      const nsGiven = cmd.getOptionValueSource("namespace") === "cli";
      if (opts.allNamespaces && nsGiven) {
        throw new InputError("both --namespace and --all-namespaces given", [
          {
            path: "--all-namespaces",
            message: "use -n NS for one namespace or -A for all of them, not both",
          },
        ]);
      }
      const access = await import("../access/index.js");
      const target = access.parseResource(resource, { subresource: opts.subresource, name });
      const warnings = [...target.warnings];
      let request: AccessRequest;
      if (target.kind === "nonResource") {
        if (nsGiven || opts.allNamespaces)
          warnings.push("a non-resource URL is in no namespace; ignoring -n/-A");
        request = {
          verb: access.parseVerb(verb, { nonResource: true }),
          nonResourceURL: target.nonResourceURL,
        };
      } else {
        const v = access.parseVerb(verb);
        const namespace = opts.allNamespaces ? null : access.parseNamespace(opts.namespace ?? "default");
        if (target.clusterScoped && nsGiven) {
          warnings.push(`${target.resource} is not namespace scoped; ignoring --namespace`);
        }
        request = {
          verb: v,
          apiGroup: target.apiGroup,
          resource: target.resource,
          subresource: target.subresource,
          ...(target.name ? { name: target.name } : {}),
          namespace: target.clusterScoped ? null : namespace,
          clusterScoped: target.clusterScoped,
        };
      }
      const { loadTopology } = await import("../topology/load.js");
      const topology = loadTopology(file);
      const { role, note } = await findRole(topology, opts.roleArn);
      // As the cluster answers: the access policies, then Kubernetes' default RBAC for authenticated users.
      const decision = access.evaluateAsCluster(role.policies, request);
      let reason = decision.reason;
      if (!decision.allowed && role.kubernetesGroups.length > 0) {
        reason +=
          `; RBAC bindings for the entry's groups (${role.kubernetesGroups.join(", ")}) ` +
          "are not visible offline and may allow more";
      }
      // The contract's four fields first, then xeks's additions.
      const out = {
        allowed: decision.allowed,
        policy: decision.policy,
        scope: decision.scope,
        reason,
        verdict: decision.verdict,
        nameMatters: decision.nameMatters,
        undecided: decision.undecided,
        defaultRoles: decision.defaultRoles,
        role: role.arn,
        request,
      };
      if (!opts.quiet) {
        for (const w of warnings) process.stderr.write(`xeks: warning: ${w}\n`);
        if (note) process.stderr.write(`xeks: note: ${note}\n`);
        if (opts.output === "json") {
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          process.stdout.write(`${decision.verdict}\n`);
          process.stderr.write(`xeks: ${reason}\n`);
        }
      }
      process.exitCode = decision.verdict === "yes" ? 0 : decision.verdict === "no" ? 1 : EXIT_CANI_UNKNOWN;
    },
  );
}

/**
 * The optional NAME and FILE positionals after RESOURCE. With both, they are NAME then FILE. With one, it is the
 * FILE when it cannot be a Kubernetes object name or reads as a file (contains `/` or `\`, ends in `.yaml`,
 * `.yml` or `.json`, or names something that exists, of any kind), else the NAME; the FILE defaults to `xeks.yaml`.
 */
function nameAndFile(
  third: string | undefined,
  fourth: string | undefined,
): { name: string | undefined; file: string } {
  if (fourth !== undefined) return { name: third, file: fourth };
  if (third === undefined) return { name: undefined, file: "xeks.yaml" };
  const looksLikeFile = /[/\\]|\.(ya?ml|json)$/i.test(third) || exists(third);
  return looksLikeFile ? { name: undefined, file: third } : { name: third, file: "xeks.yaml" };
}

/**
 * Whether something of any kind (a file, a FIFO, a directory, a symlink) is at `path`: such a path is the FILE, and
 * the topology loader then says what is wrong with it (src/files: only regular files are read).
 */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The access role named by `--role-arn`: its ARN or bare name, or the ARN of one of its sessions
 * (`arn:aws:sts::A:assumed-role/NAME/SESSION`, what `aws sts get-caller-identity` prints after assuming it),
 * which EKS maps to the role's access entry; a note says so. The only access role when `--role-arn` is absent.
 */
async function findRole(
  topology: Topology,
  wanted: string | undefined,
): Promise<{ role: AccessRole; note?: string }> {
  const roles = topology.access;
  const known = roles.map((r) => r.arn).join(", ") || "(none)";
  if (wanted === undefined) {
    const only = roles[0];
    if (roles.length === 1 && only) return { role: only };
    throw new InputError(
      `name the access role with --role-arn; ${topology.file ?? "the topology"} has ${roles.length}`,
      [{ path: "--role-arn", message: `known access roles: ${known}` }],
    );
  }
  const found = roles.find((r) => r.arn === wanted || r.role === wanted);
  if (found) return { role: found };
  // The ARN EKS stores for the principal (src/domain/arn.ts): a role ARN without its path, in lower case,
  // and for a session the role it belongs to.
  const { canonicalRoleArn, parsePrincipal } = await import("../domain/arn.js");
  const principal = parsePrincipal(wanted);
  const session = principal?.kind === "assumed-role" ? principal : undefined;
  const canonical = canonicalRoleArn(wanted);
  const mapped = roles.find((r) => canonicalRoleArn(r.arn) === canonical);
  if (mapped) {
    return {
      role: mapped,
      note: session
        ? `${wanted} is a session (${session.session}) of the access role ${mapped.arn}; EKS authorizes a session through its role's access entry, so this is the answer for ${mapped.role}`
        : `${wanted} names the access role ${mapped.arn}`,
    };
  }
  if (session) {
    throw new InputError(
      `${wanted} is a session of role ${session.role}, which is not an access role of ${topology.file ?? "the topology"}`,
      [
        {
          path: "--role-arn",
          message: `expected the ARN or name of one of the access roles, or of a session of one: ${known}`,
        },
      ],
    );
  }
  throw new InputError(`unknown access role "${wanted}" in ${topology.file ?? "the topology"}`, [
    { path: "--role-arn", message: `expected the ARN or name of one of the access roles: ${known}` },
  ]);
}
