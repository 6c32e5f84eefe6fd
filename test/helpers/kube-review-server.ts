/**
 * A fake Kubernetes API server for the client probe: HTTPS with a test CA on any loopback address, serving the
 * two review endpoints. It checks the bearer token with src/token/verify (structure, as the EKS authenticator
 * does before asking STS) and answers from a table:
 *
 *   - POST /apis/authentication.k8s.io/v1/selfsubjectreviews -> `whoami` (username, groups)
 *   - POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews -> `allowed` per (verb, resource, namespace)
 *
 * `whoamiStatus` / `accessStatus` force an HTTP status (401, 403) instead. Everything is mutable between tests.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { verifyToken } from "../../src/token/verify.js";
import type { TestCertificate } from "./tls.js";

export interface AccessRow {
  verb: string;
  /** `pods`, `deployments` (group ignored), `*` for any. */
  resource: string;
  /** Absent or `*`: any namespace (and cluster-scoped requests). */
  namespace?: string;
  allowed: boolean;
}

export interface ReviewConfig {
  whoami: { username: string; groups: string[]; arn?: string };
  /** First matching row wins; no row: denied. */
  access: AccessRow[];
  whoamiStatus?: number;
  accessStatus?: number;
}

export interface ResourceAttributes {
  verb?: string;
  group?: string;
  resource?: string;
  namespace?: string;
  subresource?: string;
}

export interface KubeReviewServer {
  /** https://HOST:PORT (the address it listens on). */
  url: string;
  host: string;
  port: number;
  config: ReviewConfig;
  /** Every request: method, path, whether the token verified, and access review attributes. */
  requests: { method: string; path: string; tokenOk: boolean; attributes?: ResourceAttributes }[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      text += d;
    });
    req.on("end", () => resolve(text));
  });
}

export function accessAllowed(rows: AccessRow[], a: ResourceAttributes): boolean {
  const row = rows.find(
    (r) =>
      (r.verb === "*" || r.verb === a.verb) &&
      (r.resource === "*" || r.resource === a.resource) &&
      (r.namespace === undefined || r.namespace === "*" || r.namespace === (a.namespace ?? "")),
  );
  return row?.allowed ?? false;
}

export async function startKubeReviewServer(
  cert: TestCertificate,
  config: ReviewConfig,
  opts: { host?: string; port?: number } = {},
): Promise<KubeReviewServer> {
  const host = opts.host ?? "127.0.0.1";
  const requests: KubeReviewServer["requests"] = [];
  const state: KubeReviewServer = {
    url: "",
    host,
    port: 0,
    config,
    requests,
    close: async () => {},
  };
  const server = createServer({ cert: cert.cert, key: cert.key }, async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const text = await readBody(req);
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
    const tokenOk = token !== undefined && verifyToken(token, { now: new Date() }).ok;
    const entry: KubeReviewServer["requests"][number] = { method: req.method ?? "GET", path, tokenOk };
    requests.push(entry);
    if (!tokenOk) return status(res, 401, "Unauthorized", "Unauthorized");
    const cfg = state.config;
    if (req.method === "POST" && path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
      if (cfg.whoamiStatus) return status(res, cfg.whoamiStatus, "Forced", `forced ${cfg.whoamiStatus}`);
      const w = cfg.whoami;
      return json(res, 201, {
        kind: "SelfSubjectReview",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { creationTimestamp: null },
        status: {
          userInfo: {
            username: w.username,
            uid: "aws-iam-authenticator:111111111111:AROAEXAMPLE",
            groups: w.groups,
            ...(w.arn ? { extra: { arn: [w.arn] } } : {}),
          },
        },
      });
    }
    if (req.method === "POST" && path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
      let attributes: ResourceAttributes = {};
      try {
        attributes =
          (JSON.parse(text) as { spec?: { resourceAttributes?: ResourceAttributes } }).spec
            ?.resourceAttributes ?? {};
      } catch {
        return status(res, 400, "BadRequest", "bad json");
      }
      entry.attributes = attributes;
      if (cfg.accessStatus) {
        return status(
          res,
          cfg.accessStatus,
          cfg.accessStatus === 403 ? "Forbidden" : "Forced",
          `selfsubjectaccessreviews.authorization.k8s.io is forbidden (forced ${cfg.accessStatus})`,
        );
      }
      const allowed = accessAllowed(cfg.access, attributes);
      return json(res, 201, {
        kind: "SelfSubjectAccessReview",
        apiVersion: "authorization.k8s.io/v1",
        spec: { resourceAttributes: attributes },
        status: allowed ? { allowed: true, reason: "fake: allowed by the table" } : { allowed: false },
      });
    }
    return status(res, 404, "NotFound", "the server could not find the requested resource");
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, resolve));
  const addr = server.address();
  state.port = typeof addr === "object" && addr ? addr.port : 0;
  state.url = `https://${host}:${state.port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
