/**
 * Local stand-ins for the two credential endpoints moto_server does not serve, for tests of the kinds of client
 * (test/kubeconfig-kinds.test.ts). Both listen on 127.0.0.1 only and answer as the real service does on the
 * wire, so the real SDK providers (not mocks of them) read them:
 *
 * - an IAM Identity Center portal (`sso` service, GetRoleCredentials: `GET /federation/credentials?role_name=R
 *   &account_id=A` with the header `x-amz-sso_bearer_token`; answer `{ roleCredentials: { accessKeyId,
 *   secretAccessKey, sessionToken, expiration (epoch ms) } }`, an unknown token gets 401
 *   UnauthorizedException), pointed at with AWS_ENDPOINT_URL_SSO. moto 5.2 has no `sso` (portal) service, only
 *   `sso-admin`. Plus `writeSsoTokenCache`, the file `aws sso login` leaves for an sso-session;
 * - the container credential endpoint EKS Pod Identity injects (AWS_CONTAINER_CREDENTIALS_FULL_URI, with the
 *   file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE whose content the SDK sends as `Authorization`; answer
 *   `{ AccessKeyId, SecretAccessKey, Token, Expiration (ISO), AccountId }`). The SDK allows plain http only to
 *   loopback and the EKS/ECS link-local hosts, so 127.0.0.1 is what it accepts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

export interface FakeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface RecordedCredentialRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeEndpoint {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: RecordedCredentialRequest[];
  close(): Promise<void>;
}

async function listen(server: Server, requests: RecordedCredentialRequest[]): Promise<FakeEndpoint> {
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

function record(req: import("node:http").IncomingMessage): RecordedCredentialRequest {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  return { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers };
}

/**
 * An Identity Center portal answering GetRoleCredentials for `accessToken` with `credentials` (any account and
 * role name: the test asserts which were asked for).
 */
export async function startFakeSsoPortal(opts: {
  accessToken: string;
  credentials: FakeCredentials;
}): Promise<FakeEndpoint> {
  const requests: RecordedCredentialRequest[] = [];
  const server = createServer((req, res) => {
    const r = record(req);
    requests.push(r);
    req.resume();
    if (r.method !== "GET" || r.path !== "/federation/credentials") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "not found" }));
      return;
    }
    if (req.headers["x-amz-sso_bearer_token"] !== opts.accessToken) {
      res.writeHead(401, { "content-type": "application/json", "x-amzn-errortype": "UnauthorizedException" });
      res.end(JSON.stringify({ message: "Session token not found or invalid" }));
      return;
    }
    const c = opts.credentials;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        roleCredentials: {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          sessionToken: c.sessionToken,
          expiration: c.expiration.getTime(),
        },
      }),
    );
  });
  return listen(server, requests);
}

/**
 * The token cache file `aws sso login` writes for sso-session `session`: `HOME/.aws/sso/cache/SHA1(session).json`
 * (AWS SDK `getSSOTokenFilepath`; AWS CLI User Guide, "Configuring IAM Identity Center authentication").
 * Returns its path.
 */
export function writeSsoTokenCache(
  home: string,
  session: string,
  token: { accessToken: string; expiresAt: Date; startUrl: string; region: string },
): string {
  const dir = join(home, ".aws", "sso", "cache");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash("sha1").update(session).digest("hex")}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      startUrl: token.startUrl,
      region: token.region,
      accessToken: token.accessToken,
      expiresAt: token.expiresAt.toISOString(),
    }),
    { mode: 0o600 },
  );
  return file;
}

/** A container credential endpoint answering only requests whose `Authorization` is `authorization`. */
export async function startFakeContainerCredentials(opts: {
  authorization: string;
  credentials: FakeCredentials;
  accountId?: string;
}): Promise<FakeEndpoint> {
  const requests: RecordedCredentialRequest[] = [];
  const server = createServer((req, res) => {
    const r = record(req);
    requests.push(r);
    req.resume();
    if (req.headers.authorization !== opts.authorization) {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ Code: "AccessDenied", Message: "bad authorization token" }));
      return;
    }
    const c = opts.credentials;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: c.expiration.toISOString(),
        ...(opts.accountId ? { AccountId: opts.accountId } : {}),
      }),
    );
  });
  return listen(server, requests);
}
