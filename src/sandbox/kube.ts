/**
 * The sandbox's Kubernetes API server stand-in: HTTPS on 127.0.0.1 (certificate of src/sandbox/tls.ts), enough
 * of the API for `kubectl auth whoami`, `kubectl auth can-i`, `kubectl get` of common resources (empty lists)
 * and `/version`. It authenticates and authorizes the way an EKS control plane does:
 *
 * - Authentication (aws-iam-authenticator, as EKS runs it): the bearer token is `k8s-aws-v1.` + base64url of a
 *   presigned STS GetCallerIdentity URL (src/token). Its structure is checked offline (src/token/verify.ts),
 *   then its query is sent as a GET to the sandbox's STS (moto, `stsUrl`: never the host the URL names; the
 *   credential scope also in an Authorization header, by which moto picks the service) and the caller ARN
 *   read from the answer. moto checks no signature: the sandbox shows the flow, not SigV4's security. An
 *   assumed-role session maps to its role; the role is looked up among the cluster's access entries as EKS
 *   compares them (src/domain/arn.ts canonicalRoleArn: path dropped, case ignored). The user name is the
 *   entry's username with `{{SessionName}}` (`@` made `-`, as aws-iam-authenticator does),
 *   `{{SessionNameRaw}}` and `{{AccountID}}` filled in; the groups are the entry's kubernetesGroups and
 *   `system:authenticated`.
 * - Authorization: the entry's access-policy associations and Kubernetes' default ClusterRoles for
 *   authenticated users (discovery, /version, the self reviews), evaluated as `xeks can-i` does (src/access
 *   evaluateAsCluster). RBAC bindings of the entry's groups are not modelled. /version and the health URLs
 *   are also served without a token (system:public-info-viewer is bound to system:unauthenticated).
 *
 * Answers are Kubernetes objects: a missing, malformed or unmapped token gets 401 and a denied request 403,
 * both as `Status` (reason Unauthorized / Forbidden, the message in the API server's words). Writes that the
 * access policies allow get 405 MethodNotAllowed: the stand-in holds no objects. Library code: never prints.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { type AccessRequest, evaluateAsCluster, type PolicyAssociation } from "../access/index.js";
import { canonicalRoleArn, roleOfArn } from "../domain/arn.js";
import type { AccessScope } from "../domain/scope.js";
import { verifyToken } from "../token/verify.js";
import type { FixtureEntry } from "./eks.js";

/** The Kubernetes version the stand-in reports (`/version`): that of the EKS emulator's DescribeCluster. */
export const KUBE_VERSION = { major: "1", minor: "31", gitVersion: "v1.31.0-eks-xeks-sandbox" } as const;

/** What the stand-in needs to know of its cluster: its account and its access entries (read at each request). */
export interface KubeCluster {
  /** The cluster name: the x-k8s-aws-id header of the replay. */
  name: string;
  account: string;
  entries: ReadonlyMap<string, FixtureEntry>;
}

/** Options of `startKubeStandIn`. */
export interface KubeStandInOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** PEM server certificate and key (src/sandbox/tls.ts). */
  cert: string;
  key: string;
  /** The sandbox's STS (moto), `http://127.0.0.1:PORT`: where tokens are replayed. */
  stsUrl: string;
  /** The cluster, read at each request (access entries change while the sandbox runs); undefined: none yet. */
  cluster: () => KubeCluster | undefined;
  /** Bound of the replay to STS, ms. Default 10 000. */
  stsTimeoutMs?: number;
}

/** A running stand-in: its `https://127.0.0.1:PORT` URL and stop(). */
export interface KubeStandIn {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Who a token names, once mapped through an access entry. */
export interface KubeUser {
  username: string;
  groups: string[];
  /** The caller ARN STS answered. */
  arn: string;
  /** The access entry's principal ARN. */
  principalArn: string;
  sessionName?: string;
  policies: PolicyAssociation[];
}

class KubeFailure extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const unauthorized = () => new KubeFailure(401, "Unauthorized", "Unauthorized");

/** A Kubernetes `Status` object for a failure. */
function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new KubeFailure(413, "RequestEntityTooLarge", "request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Send the presigned GetCallerIdentity query to `stsUrl` and read the caller ARN; 401 on any failure. */
function callerArn(stsUrl: string, presigned: string, clusterId: string, timeoutMs: number): Promise<string> {
  const presignedUrl = new URL(presigned);
  const target = new URL(`/${presignedUrl.search}`, stsUrl);
  // moto routes a request to a service by the credential scope of its Authorization header (a query-signed
  // request to 127.0.0.1 would reach S3): the presigned credential and signature go there too, unchanged.
  const q = presignedUrl.searchParams;
  const authorization = `AWS4-HMAC-SHA256 Credential=${q.get("X-Amz-Credential") ?? ""}, SignedHeaders=${q.get("X-Amz-SignedHeaders") ?? "host"}, Signature=${q.get("X-Amz-Signature") ?? ""}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      target,
      {
        method: "GET",
        headers: { "x-k8s-aws-id": clusterId, accept: "application/xml", authorization },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
          if (res.statusCode === 200 && arn) resolve(arn);
          else reject(unauthorized());
        });
        res.on("error", () => reject(unauthorized()));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => reject(unauthorized()));
    req.end();
  });
}

/** The access-policy associations of an entry in the shape of src/access. */
function associations(entry: FixtureEntry): PolicyAssociation[] {
  return [...entry.policies.entries()].map(([arn, a]) => {
    const scope: AccessScope =
      a.accessScope.type === "namespace"
        ? { type: "namespace", namespaces: [...a.accessScope.namespaces] }
        : { type: "cluster" };
    return { arn, scope };
  });
}

/**
 * Map a caller ARN through the cluster's access entries, as EKS does (see the module comment). Undefined when
 * no entry matches.
 */
export function mapCaller(cluster: KubeCluster, arn: string): KubeUser | undefined {
  const wanted = canonicalRoleArn(arn);
  const entry = [...cluster.entries.values()].find(
    (e) => e.type === "STANDARD" && canonicalRoleArn(e.principalArn) === wanted,
  );
  if (!entry) return undefined;
  const role = roleOfArn(arn);
  const session = role?.session;
  const username = entry.username
    .replaceAll("{{SessionName}}", (session ?? "").replaceAll("@", "-"))
    .replaceAll("{{SessionNameRaw}}", session ?? "")
    .replaceAll("{{AccountID}}", role?.account ?? cluster.account);
  return {
    username,
    groups: [...entry.kubernetesGroups, "system:authenticated"],
    arn,
    principalArn: entry.principalArn,
    ...(session ? { sessionName: session } : {}),
    policies: associations(entry),
  };
}

const CORE_RESOURCES: [string, string, boolean][] = [
  ["pods", "Pod", true],
  ["services", "Service", true],
  ["configmaps", "ConfigMap", true],
  ["secrets", "Secret", true],
  ["serviceaccounts", "ServiceAccount", true],
  ["events", "Event", true],
  ["namespaces", "Namespace", false],
  ["nodes", "Node", false],
];
const APPS_RESOURCES: [string, string, boolean][] = [
  ["deployments", "Deployment", true],
  ["daemonsets", "DaemonSet", true],
  ["statefulsets", "StatefulSet", true],
  ["replicasets", "ReplicaSet", true],
];
const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function resourceList(groupVersion: string, list: [string, string, boolean][]): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: list.map(([name, kind, namespaced]) => ({
      name,
      singularName: kind.toLowerCase(),
      namespaced,
      kind,
      verbs: VERBS,
    })),
  };
}

const REVIEW_GROUPS: Record<string, [string, string]> = {
  "authentication.k8s.io": ["selfsubjectreviews", "SelfSubjectReview"],
  "authorization.k8s.io": ["selfsubjectaccessreviews", "SelfSubjectAccessReview"],
};

const GROUPS = ["apps", ...Object.keys(REVIEW_GROUPS)];

function discovery(path: string): Record<string, unknown> | undefined {
  if (path === "/api")
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
    };
  if (path === "/apis")
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: GROUPS.map((name) => ({
        name,
        versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
        preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
      })),
    };
  if (path === "/api/v1") return resourceList("v1", CORE_RESOURCES);
  if (path === "/apis/apps/v1") return resourceList("apps/v1", APPS_RESOURCES);
  for (const [group, [name, kind]] of Object.entries(REVIEW_GROUPS)) {
    if (path === `/apis/${group}/v1`)
      return {
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: `${group}/v1`,
        resources: [{ name, singularName: "", namespaced: false, kind, verbs: ["create"] }],
      };
  }
  return undefined;
}

const PUBLIC_PATHS = new Set(["/version", "/healthz", "/livez", "/readyz"]);

/** A request on a resource, parsed from its path (`/api/v1/namespaces/N/pods/NAME`, `/apis/apps/v1/...`). */
interface ResourcePath {
  group: string;
  resource: string;
  kind: string;
  namespace: string | null;
  name: string;
  subresource: string;
}

function parseResourcePath(path: string): ResourcePath | undefined {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  let table: [string, string, boolean][];
  if (parts[0] === "api" && parts[1] === "v1") {
    group = "";
    rest = parts.slice(2);
    table = CORE_RESOURCES;
  } else if (parts[0] === "apis" && parts[1] === "apps" && parts[2] === "v1") {
    group = "apps";
    rest = parts.slice(3);
    table = APPS_RESOURCES;
  } else return undefined;
  let namespace: string | null = null;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1] ?? null;
    rest = rest.slice(2);
  }
  const known = table.find(([name]) => name === rest[0]);
  if (!known || rest.length > 3) return undefined;
  return {
    group,
    resource: known[0],
    kind: known[1],
    namespace: known[2] ? namespace : null,
    name: rest[1] ?? "",
    subresource: rest[2] ?? "",
  };
}

function verbOf(method: string, named: boolean, query: URLSearchParams): string {
  switch (method) {
    case "GET":
    case "HEAD":
      if (named) return "get";
      return query.get("watch") === "true" || query.get("watch") === "1" ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

const STARTING_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];

function forbidden(user: KubeUser, r: ResourcePath, verb: string): KubeFailure {
  const what = r.group
    ? `resource "${r.resource}" in API group "${r.group}"`
    : `resource "${r.resource}" in API group ""`;
  const where = r.namespace ? ` in the namespace "${r.namespace}"` : " at the cluster scope";
  const named = r.name ? `${r.resource} "${r.name}"` : r.resource;
  return new KubeFailure(
    403,
    "Forbidden",
    `${named} is forbidden: User "${user.username}" cannot ${verb} ${what}${where}`,
  );
}

/** Start the stand-in on 127.0.0.1. Rejects with the listen error (EADDRINUSE for a taken port). */
export async function startKubeStandIn(options: KubeStandInOptions): Promise<KubeStandIn> {
  const stsTimeoutMs = options.stsTimeoutMs ?? 10_000;

  const authenticate = async (req: IncomingMessage): Promise<KubeUser | undefined> => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw unauthorized();
    const checked = verifyToken(m[1], { now: new Date() });
    if (!checked.ok) throw unauthorized();
    const cluster = options.cluster();
    if (!cluster) throw unauthorized();
    const arn = await callerArn(options.stsUrl, checked.fields.url, cluster.name, stsTimeoutMs);
    const user = mapCaller(cluster, arn);
    if (!user) throw unauthorized();
    return user;
  };

  const authorize = (user: KubeUser, request: AccessRequest): boolean =>
    evaluateAsCluster(user.policies, request).allowed;

  const handle = async (req: IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const user = await authenticate(req);
    if (PUBLIC_PATHS.has(path) && (method === "GET" || method === "HEAD")) {
      if (path === "/version")
        return [
          200,
          {
            ...KUBE_VERSION,
            gitCommit: "0000000000000000000000000000000000000000",
            gitTreeState: "clean",
            buildDate: "2026-01-01T00:00:00Z",
            goVersion: "go1.22.0",
            compiler: "gc",
            platform: "linux/amd64",
          },
        ];
      return [200, "ok"];
    }
    if (!user) throw unauthorized();
    const found = discovery(path);
    if (found && (method === "GET" || method === "HEAD")) {
      if (!authorize(user, { verb: "get", nonResourceURL: path }))
        throw new KubeFailure(
          403,
          "Forbidden",
          `forbidden: User "${user.username}" cannot get path "${path}"`,
        );
      return [200, found];
    }
    if (method === "POST" && path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
      await readBody(req);
      return [
        201,
        {
          kind: "SelfSubjectReview",
          apiVersion: "authentication.k8s.io/v1",
          metadata: { creationTimestamp: null },
          status: {
            userInfo: {
              username: user.username,
              uid: `aws-iam-authenticator:${user.arn.split(":")[4] ?? ""}:sandbox`,
              groups: user.groups,
              extra: {
                arn: [user.arn],
                canonicalArn: [user.principalArn],
                ...(user.sessionName ? { sessionName: [user.sessionName] } : {}),
              },
            },
          },
        },
      ];
    }
    if (method === "POST" && path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
      const body = JSON.parse((await readBody(req)) || "{}") as {
        spec?: {
          resourceAttributes?: {
            namespace?: string;
            verb?: string;
            group?: string;
            resource?: string;
            subresource?: string;
            name?: string;
          };
          nonResourceAttributes?: { path?: string; verb?: string };
        };
      };
      const spec = body.spec ?? {};
      let request: AccessRequest;
      if (spec.nonResourceAttributes) {
        request = {
          verb: spec.nonResourceAttributes.verb ?? "",
          nonResourceURL: spec.nonResourceAttributes.path ?? "",
        };
      } else {
        const ra = spec.resourceAttributes ?? {};
        request = {
          verb: ra.verb ?? "",
          apiGroup: ra.group ?? "",
          resource: ra.resource ?? "",
          subresource: ra.subresource ?? "",
          name: ra.name ?? "",
          namespace: ra.namespace ? ra.namespace : null,
        };
      }
      const decision = evaluateAsCluster(user.policies, request);
      return [
        201,
        {
          kind: "SelfSubjectAccessReview",
          apiVersion: "authorization.k8s.io/v1",
          metadata: { creationTimestamp: null },
          spec,
          status: decision.allowed
            ? { allowed: true, reason: `EKS Access Policy: ${decision.reason}` }
            : { allowed: false, reason: decision.reason },
        },
      ];
    }
    const r = parseResourcePath(path);
    if (!r) {
      if (!authorize(user, { verb: verbOf(method, true, url.searchParams), nonResourceURL: path }))
        throw new KubeFailure(
          403,
          "Forbidden",
          `forbidden: User "${user.username}" cannot ${verbOf(method, true, url.searchParams)} path "${path}"`,
        );
      throw new KubeFailure(404, "NotFound", "the server could not find the requested resource");
    }
    const verb = verbOf(method, r.name !== "", url.searchParams);
    const request: AccessRequest = {
      verb,
      apiGroup: r.group,
      resource: r.resource,
      subresource: r.subresource,
      name: r.name,
      namespace: r.namespace,
    };
    if (!authorize(user, request)) throw forbidden(user, r, verb);
    if (method !== "GET" && method !== "HEAD")
      throw new KubeFailure(
        405,
        "MethodNotAllowed",
        "the xeks sandbox's Kubernetes stand-in holds no objects",
      );
    const apiVersion = r.group ? `${r.group}/v1` : "v1";
    if (r.resource === "namespaces" && !r.subresource) {
      const make = (name: string) => ({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z" },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
      });
      if (r.name) {
        if (!STARTING_NAMESPACES.includes(r.name))
          throw new KubeFailure(404, "NotFound", `namespaces "${r.name}" not found`);
        return [200, make(r.name)];
      }
      return [
        200,
        {
          kind: "NamespaceList",
          apiVersion,
          metadata: { resourceVersion: "1" },
          items: STARTING_NAMESPACES.map(make),
        },
      ];
    }
    if (r.name)
      throw new KubeFailure(
        404,
        "NotFound",
        `${r.resource}${r.group ? `.${r.group}` : ""} "${r.name}" not found`,
      );
    return [200, { kind: `${r.kind}List`, apiVersion, metadata: { resourceVersion: "1" }, items: [] }];
  };

  const server: Server = createServer(
    { cert: options.cert, key: options.key },
    (req, res: ServerResponse) => {
      const send = (code: number, body: unknown) => {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        res.writeHead(code, {
          "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
          "cache-control": "no-cache, private",
        });
        res.end(req.method === "HEAD" ? undefined : text);
      };
      handle(req).then(
        ([code, body]) => send(code, body),
        (err: unknown) => {
          if (err instanceof KubeFailure) send(err.code, status(err.code, err.reason, err.message));
          else if (err instanceof SyntaxError)
            send(400, status(400, "BadRequest", "the request body is not JSON"));
          else send(500, status(500, "InternalError", "internal error"));
        },
      );
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
