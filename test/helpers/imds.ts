/**
 * A fake EC2 instance metadata service (IMDSv2 only) for credential-chain tests: PUT /latest/api/token
 * hands out a session token; the credential paths answer only with that token in
 * `x-aws-ec2-metadata-token`. Point the SDK at it with AWS_EC2_METADATA_SERVICE_ENDPOINT=<url> (and leave
 * AWS_EC2_METADATA_DISABLED unset).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";

export interface ImdsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface FakeImds {
  /** http://127.0.0.1:PORT */
  url: string;
  /** `METHOD path` of every request, in order, and whether it carried a valid IMDSv2 token. */
  requests: { method: string; path: string; withToken: boolean }[];
  close(): Promise<void>;
}

export async function startFakeImds(opts: {
  roleName: string;
  credentials: ImdsCredentials;
  instanceId?: string;
  region?: string;
}): Promise<FakeImds> {
  const sessionTokens = new Set<string>();
  const requests: FakeImds["requests"] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const given = req.headers["x-aws-ec2-metadata-token"];
    const withToken = typeof given === "string" && sessionTokens.has(given);
    requests.push({ method: req.method ?? "GET", path, withToken });
    req.resume();
    const send = (status: number, body: string, type = "text/plain") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method === "PUT" && path === "/latest/api/token") {
      if (!req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return send(400, "missing ttl");
      const t = randomBytes(24).toString("base64");
      sessionTokens.add(t);
      return send(200, t);
    }
    if (!withToken) return send(401, "");
    const base = "/latest/meta-data/iam/security-credentials/";
    if (path === base) return send(200, opts.roleName);
    if (path === `${base}${opts.roleName}`) {
      const c = opts.credentials;
      return send(
        200,
        JSON.stringify({
          Code: "Success",
          LastUpdated: new Date().toISOString(),
          Type: "AWS-HMAC",
          AccessKeyId: c.accessKeyId,
          SecretAccessKey: c.secretAccessKey,
          Token: c.sessionToken,
          Expiration: c.expiration.toISOString(),
        }),
        "application/json",
      );
    }
    if (path === "/latest/meta-data/instance-id") return send(200, opts.instanceId ?? "i-0123456789abcdef0");
    if (path === "/latest/meta-data/placement/region") return send(200, opts.region ?? "ap-south-1");
    return send(404, "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
