/**
 * What a `kubectl auth can-i` request names: verbs, resources (`pods`, `deploy`, `deployments.apps`,
 * `pods/exec`), non-resource URLs (`/healthz`) and namespaces. kubectl resolves resources through API
 * discovery; xeks is offline, so it uses a table of the well-known built-in resources: their API group, whether
 * they are cluster-scoped, and their kubectl short names. Anything else is taken literally.
 */
import { InputError } from "../errors.js";

/** One well-known built-in resource. */
export interface KnownResource {
  /** Plural, lowercase: `deployments`. */
  readonly resource: string;
  /** API group; "" is the core group. */
  readonly group: string;
  /** true for resources outside any namespace (nodes, namespaces, clusterroles, …). */
  readonly clusterScoped: boolean;
  /** kubectl short names: `deploy`. */
  readonly shortNames: readonly string[];
}

// [group, scope, "resource:short,short resource …"]: N = namespaced, C = cluster-scoped.
// When a resource lives in several groups, the first listed is the one kubectl prefers (deployments -> apps).
const TABLE: readonly (readonly [string, "N" | "C", string])[] = [
  [
    "",
    "N",
    "pods:po services:svc endpoints:ep configmaps:cm secrets serviceaccounts:sa persistentvolumeclaims:pvc " +
      "replicationcontrollers:rc events:ev limitranges:limits resourcequotas:quota podtemplates bindings",
  ],
  ["", "C", "namespaces:ns nodes:no persistentvolumes:pv componentstatuses:cs"],
  ["apps", "N", "deployments:deploy replicasets:rs statefulsets:sts daemonsets:ds controllerrevisions"],
  ["batch", "N", "jobs cronjobs:cj"],
  ["autoscaling", "N", "horizontalpodautoscalers:hpa"],
  ["policy", "N", "poddisruptionbudgets:pdb"],
  ["networking.k8s.io", "N", "ingresses:ing networkpolicies:netpol"],
  ["networking.k8s.io", "C", "ingressclasses ipaddresses servicecidrs"],
  ["discovery.k8s.io", "N", "endpointslices"],
  ["rbac.authorization.k8s.io", "N", "roles rolebindings"],
  ["rbac.authorization.k8s.io", "C", "clusterroles clusterrolebindings"],
  ["authorization.k8s.io", "N", "localsubjectaccessreviews"],
  ["authorization.k8s.io", "C", "subjectaccessreviews selfsubjectaccessreviews selfsubjectrulesreviews"],
  ["authentication.k8s.io", "C", "tokenreviews selfsubjectreviews"],
  ["apiextensions.k8s.io", "C", "customresourcedefinitions:crd,crds"],
  ["apiregistration.k8s.io", "C", "apiservices"],
  ["storage.k8s.io", "C", "storageclasses:sc csidrivers csinodes volumeattachments volumeattributesclasses"],
  ["storage.k8s.io", "N", "csistoragecapacities"],
  [
    "admissionregistration.k8s.io",
    "C",
    "mutatingwebhookconfigurations validatingwebhookconfigurations validatingadmissionpolicies " +
      "validatingadmissionpolicybindings",
  ],
  ["scheduling.k8s.io", "C", "priorityclasses:pc"],
  ["node.k8s.io", "C", "runtimeclasses"],
  ["certificates.k8s.io", "C", "certificatesigningrequests:csr"],
  ["coordination.k8s.io", "N", "leases"],
  ["flowcontrol.apiserver.k8s.io", "C", "flowschemas prioritylevelconfigurations"],
  ["resource.k8s.io", "C", "deviceclasses resourceslices"],
  ["resource.k8s.io", "N", "resourceclaims resourceclaimtemplates"],
  ["events.k8s.io", "N", "events"],
  ["extensions", "N", "deployments daemonsets replicasets ingresses networkpolicies"],
];

/** The well-known built-in resources, preferred group first. */
const KNOWN_RESOURCES: readonly KnownResource[] = TABLE.flatMap(([group, scope, list]) =>
  list.split(" ").map((entry) => {
    const [resource = "", short = ""] = entry.split(":");
    return { resource, group, clusterScoped: scope === "C", shortNames: short ? short.split(",") : [] };
  }),
);

const byGroupResource = new Map(KNOWN_RESOURCES.map((r) => [`${r.group}/${r.resource}`, r]));
/** Every spelling without a group (plural, singular, short name) -> the preferred resource. */
const byName = new Map<string, KnownResource>();
for (const r of KNOWN_RESOURCES) {
  for (const name of [r.resource, singular(r.resource), ...r.shortNames]) {
    if (!byName.has(name)) byName.set(name, r);
  }
}

function singular(plural: string): string {
  if (plural === "endpoints") return plural;
  if (plural.endsWith("ies")) return `${plural.slice(0, -3)}y`;
  if (plural.endsWith("sses") || plural.endsWith("uses")) return plural.slice(0, -2);
  return plural.endsWith("s") ? plural.slice(0, -1) : plural;
}

/** The cluster-scoped resources of the table, as `resource.group` (core: just `resource`). */
export const CLUSTER_SCOPED_RESOURCES: readonly string[] = KNOWN_RESOURCES.filter((r) => r.clusterScoped).map(
  (r) => (r.group ? `${r.resource}.${r.group}` : r.resource),
);

/** The table entry for a resource in a group, if it is a well-known one. */
function knownResource(group: string, resource: string): KnownResource | undefined {
  return byGroupResource.get(`${group}/${resource}`);
}

/**
 * Whether a resource lives outside namespaces. Subresources follow their resource (`nodes/proxy`). Resources
 * not in the table (custom resources, `*`) are taken as namespaced.
 */
export function isClusterScoped(group: string, resource: string): boolean {
  return knownResource(group, resource)?.clusterScoped ?? false;
}

/** Verbs of requests on API resources (`*` asks for every verb, as in `kubectl auth can-i '*' pods`). */
const RESOURCE_VERBS = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
  "impersonate",
  "bind",
  "escalate",
  "use",
  "approve",
  "sign",
  "*",
] as const;

/** Verbs of requests on non-resource URLs: the lowercase HTTP method. */
const NON_RESOURCE_VERBS = ["get", "post", "put", "patch", "delete", "head", "options", "*"] as const;

/**
 * Subresources of the built-in API. `TYPE/X` with X in this set reads as a subresource (`pods/exec`), any other
 * X as an object name (`pods/mypod`, as kubectl). Other subresources are accepted with `--subresource`, with a
 * warning.
 */
const KNOWN_SUBRESOURCES: ReadonlySet<string> = new Set([
  "status",
  "scale",
  "exec",
  "attach",
  "portforward",
  "proxy",
  "log",
  "eviction",
  "binding",
  "ephemeralcontainers",
  "resize",
  "rollback",
  "token",
  "finalize",
  "approval",
]);

/** A request on an API resource, as parsed from the command line. */
export interface ParsedResourceTarget {
  kind: "resource";
  /** "" is the core group. */
  apiGroup: string;
  /** Plural, lowercase, without subresource; may be `*`. */
  resource: string;
  /** "" when none. */
  subresource: string;
  /**
   * The name of one object (`pods/mypod`, `pods mypod`), as `kubectl auth can-i VERB TYPE/NAME`; "" when none.
   * Matched against rules' `resourceNames`.
   */
  name: string;
  /** Whether the resource is in the table of well-known resources. */
  known: boolean;
  clusterScoped: boolean;
  /** Things worth telling the user (unknown resource assumed core, unusual subresource). */
  warnings: string[];
}

export interface ParsedNonResourceTarget {
  kind: "nonResource";
  nonResourceURL: string;
  warnings: string[];
}

export type ParsedTarget = ParsedResourceTarget | ParsedNonResourceTarget;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v\d+((alpha|beta)\d+)?$/;

function bad(what: string, path: string, message: string): InputError {
  return new InputError(what, [{ path, message }]);
}

/** A Kubernetes object name as the API server takes it in a path segment: not `.`/`..`, no `/`, `%` or space. */
const OBJECT_NAME = /^[^/%\s]{1,253}$/;

function parseName(text: string, path: string): string {
  if (OBJECT_NAME.test(text) && text !== "." && text !== "..") return text;
  throw bad(
    `bad resource name "${text}"`,
    path,
    "expected the name of one object, such as mypod: at most 253 characters, no '/', '%' or spaces, not . or ..",
  );
}

/**
 * Parse RESOURCE as `kubectl auth can-i` takes it: `pods`, `po`, `pod`, `deployments.apps`,
 * `deployments.v1.apps`, `roles.rbac.authorization.k8s.io`, `*`, `TYPE/NAME` (`pods/mypod`), or a non-resource
 * URL starting with `/`. `TYPE/X` is read as kubectl reads it (X names an object) except when X is a known
 * subresource (`pods/exec`, `pods/log`, `deploy/scale`; the set `KNOWN_SUBRESOURCES`) and `--subresource` is
 * not given: then X is the subresource, as xeks always read it. With `opts.subresource`, X is always the name
 * (kubectl: `pods/mypod --subresource log`). `opts.name` is a name given on its own (`can-i get pods mypod`).
 * Throws InputError for text that names none of these, and for a name given twice or given to a URL.
 */
export function parseResource(
  text: string,
  opts: { subresource?: string; name?: string } = {},
): ParsedTarget {
  const raw = text.trim();
  if (raw === "") throw bad("RESOURCE is empty", "RESOURCE", "name a resource (pods) or a URL (/healthz)");
  if (raw.startsWith("/")) {
    if (opts.subresource !== undefined) {
      throw bad(`--subresource does not apply to the non-resource URL ${raw}`, "--subresource", "drop it");
    }
    if (opts.name !== undefined) {
      throw bad(
        `NAME ${opts.name} does not apply to the non-resource URL ${raw}`,
        "NAME",
        "a URL names no object: drop the name, or give a resource such as pods",
      );
    }
    if (/\s/.test(raw)) throw bad(`bad URL "${raw}"`, "RESOURCE", "a non-resource URL has no spaces");
    return { kind: "nonResource", nonResourceURL: raw, warnings: [] };
  }
  const slash = raw.indexOf("/");
  const base = (slash < 0 ? raw : raw.slice(0, slash)).toLowerCase();
  const after = slash < 0 ? undefined : raw.slice(slash + 1);
  let sub = "";
  let objectName = "";
  if (after?.includes("/")) {
    throw bad(
      `bad resource "${raw}": more than one slash`,
      "RESOURCE",
      "write TYPE/NAME (pods/mypod) or TYPE/SUBRESOURCE (pods/exec); for both: pods/exec mypod, or pods/mypod --subresource exec",
    );
  }
  if (opts.subresource !== undefined) {
    sub = opts.subresource.trim().toLowerCase();
    if (sub === "") throw bad("--subresource is empty", "--subresource", "name one, such as exec or scale");
    if (!NAME.test(sub)) {
      throw bad(
        `bad subresource "${sub}"`,
        "--subresource",
        "expected a subresource such as exec, log or scale",
      );
    }
    if (after !== undefined) objectName = parseName(after, "RESOURCE");
  } else if (after !== undefined) {
    const lower = after.toLowerCase();
    if (KNOWN_SUBRESOURCES.has(lower)) sub = lower;
    else objectName = parseName(after, "RESOURCE");
  }
  if (opts.name !== undefined) {
    if (objectName !== "") {
      throw bad(
        `two names for one object: ${raw} and NAME ${opts.name}`,
        "NAME",
        `give the name once: ${base}/${objectName} or ${base} ${objectName}`,
      );
    }
    objectName = parseName(opts.name, "NAME");
  }
  const dot = base.indexOf(".");
  let name = dot < 0 ? base : base.slice(0, dot);
  let group = dot < 0 ? undefined : base.slice(dot + 1);
  if (group !== undefined) {
    // resource.version.group, as kubectl accepts (deployments.v1.apps).
    const [first, ...rest] = group.split(".");
    if (first !== undefined && rest.length > 0 && VERSION.test(first)) group = rest.join(".");
    if (group === "core") group = "";
  }
  if (name !== "*" && !NAME.test(name)) {
    throw bad(
      `bad resource "${raw}"`,
      "RESOURCE",
      "expected a resource such as pods, deploy, deployments.apps, pods/exec, or a URL such as /healthz",
    );
  }
  if (group && !GROUP.test(group)) {
    throw bad(
      `bad API group "${group}" in ${raw}`,
      "RESOURCE",
      "expected a DNS name such as apps or rbac.authorization.k8s.io",
    );
  }
  const warnings: string[] = [];
  let entry: KnownResource | undefined;
  if (name === "*") {
    group ??= "";
  } else if (group === undefined) {
    entry = byName.get(name);
    if (entry) {
      name = entry.resource;
      group = entry.group;
    } else {
      group = "";
      warnings.push(`${name} is not a well-known resource; taking it as core-group, namespaced ${name}`);
    }
  } else {
    // A short or singular name with a group (deploy.apps): resolve the name, keep the group.
    const plural = byName.get(name)?.resource ?? name;
    entry = knownResource(group, plural);
    if (entry) name = plural;
    else {
      const elsewhere = byName.get(name);
      warnings.push(
        elsewhere && elsewhere.resource === name
          ? `${name} is a well-known resource of the ${elsewhere.group || "core"} group, not of ${group || "core"}; taking ${name}.${group} literally`
          : `${name}.${group} is not a well-known resource; taking it as namespaced`,
      );
    }
  }
  if (sub && !KNOWN_SUBRESOURCES.has(sub)) {
    warnings.push(`"${sub}" is not a known subresource; taking ${name}/${sub} literally`);
  }
  return {
    kind: "resource",
    apiGroup: group,
    resource: name,
    subresource: sub,
    name: objectName,
    known: entry !== undefined,
    clusterScoped: entry?.clusterScoped ?? false,
    warnings,
  };
}

/** Check a verb for a resource request or a non-resource URL. Throws InputError listing the valid ones. */
export function parseVerb(text: string, opts: { nonResource?: boolean } = {}): string {
  const verbs: readonly string[] = opts.nonResource ? NON_RESOURCE_VERBS : RESOURCE_VERBS;
  if (verbs.includes(text)) return text;
  const hint = verbs.includes(text.toLowerCase()) ? ` (verbs are lowercase: ${text.toLowerCase()})` : "";
  throw bad(
    `unknown verb "${text}"${hint}`,
    "VERB",
    `expected one of ${verbs.join(", ")}${opts.nonResource ? " for a non-resource URL" : ""}`,
  );
}

/** Check a namespace name (a DNS-1123 label). Throws InputError. */
export function parseNamespace(text: string): string {
  if (text.length <= 63 && NAME.test(text)) return text;
  throw bad(
    `bad namespace "${text}"`,
    "--namespace",
    "expected a namespace name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
  );
}
