/**
 * A proxy in front of moto_server that refuses sts:AssumeRole the way STS does (HTTP 403, AccessDenied in
 * the query-protocol XML) and passes every other request through. moto does not evaluate trust policies, so
 * this is how tests make AssumeRole fail. The message is configurable (STS words it differently for a trust
 * policy, an identity policy, a boundary or an SCP).
 */
import { createServer, request } from "node:http";

export interface StsDenyProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The AccessDenied message (`%ROLE%` is replaced by the requested RoleArn). */
  message: string;
  /** AssumeRole requests refused so far. */
  denied: number;
  close(): Promise<void>;
}

export const DEFAULT_DENY_MESSAGE =
  "User: arn:aws:sts::222222222222:assumed-role/EC2-EKS-CrossAccount-Role/i-0123456789abcdef0 is not authorized to perform: sts:AssumeRole on resource: %ROLE%";

export async function startStsDenyProxy(
  target: string,
  message = DEFAULT_DENY_MESSAGE,
): Promise<StsDenyProxy> {
  const upstream = new URL(target);
  const state: StsDenyProxy = { url: "", message, denied: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString("utf8"));
      const query = new URL(req.url ?? "/", "http://x").searchParams;
      const action = params.get("Action") ?? query.get("Action");
      if (action === "AssumeRole") {
        state.denied++;
        const role = params.get("RoleArn") ?? query.get("RoleArn") ?? "";
        res.writeHead(403, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
            `<Message>${state.message.replace("%ROLE%", role).replace(/&/g, "&amp;").replace(/</g, "&lt;")}</Message></Error>` +
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>",
        );
        return;
      }
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
