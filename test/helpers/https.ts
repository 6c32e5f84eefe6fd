/**
 * Local HTTPS servers for tests: a generic one, and a fake Kubernetes API server that records the bearer
 * tokens kubectl sends and answers the discovery paths kubectl asks for.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { TestCertificate } from "./tls.js";

export interface LocalServer {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startHttpsServer(
  cert: TestCertificate,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const server = createServer({ cert: cert.cert, key: cert.key }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RecordedKubeRequest {
  method: string;
  path: string;
  /** The bearer token, when the request had `Authorization: Bearer ...`. */
  token?: string;
}

export interface FakeKubeApi extends LocalServer {
  requests: RecordedKubeRequest[];
  /** Bearer tokens received, in order. */
  tokens(): string[];
}

/**
 * A fake API server: `/version` and discovery answer 200 to any bearer token (or only to tokens `accept`
 * approves; others get a Kubernetes-style 401); everything else is 404.
 */
export async function startFakeKubeApi(
  cert: TestCertificate,
  opts: { accept?: (token: string) => boolean; gitVersion?: string } = {},
): Promise<FakeKubeApi> {
  const requests: RecordedKubeRequest[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = await startHttpsServer(cert, (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
    requests.push({ method: req.method ?? "GET", path, ...(token ? { token } : {}) });
    req.resume();
    if (!token || (opts.accept && !opts.accept(token))) {
      json(res, 401, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
      return;
    }
    if (path === "/version") {
      json(res, 200, {
        major: "1",
        minor: "32",
        gitVersion: opts.gitVersion ?? "v1.32.0-eks-fake",
        platform: "linux/amd64",
      });
    } else if (path === "/api") {
      json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
    } else if (path === "/apis") {
      json(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    } else {
      json(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
    }
  });
  return {
    ...server,
    requests,
    tokens: () => requests.flatMap((r) => (r.token ? [r.token] : [])),
  };
}
