/**
 * A loopback AWS endpoint that answers with an error echoing the whole signed request, the way STS echoes the
 * canonical request (with `x-amz-security-token`) in `SignatureDoesNotMatch`: the redaction tests point every
 * AWS client of xeks at it (AWS_ENDPOINT_URL) and check that no secret reaches the user.
 *
 * The first path segment of the endpoint URL chooses how it answers, so runs in both modes can share one
 * server (`url("echo")`, `url("assume")`):
 * - `echo`: every request gets the echo error.
 * - `assume`: sts:AssumeRole succeeds with distinctive fresh credentials (remembered in `issued`), and
 *   sts:GetCallerIdentity answers with the account of the caller's key (the `identities` given, or the account
 *   of the role an issued key belongs to); every other request gets the echo error. So the calls made with an
 *   assumed session (an assume-role profile, the probe's access role, kubeconfig's DescribeCluster) are echoed.
 *
 * The error speaks each service's protocol: query XML (`<ErrorResponse><Error>...`) for STS, IAM,
 * CloudFormation and others, EC2's `<Response><Errors><Error>`, and rest-json for EKS (`x-amzn-errortype` and
 * a JSON `message`, with `/` escaped as `\/` as some JSON encoders do). The message's first line carries the
 * signing key's secret and session token (a hostile endpoint may know them; messages are often cut to their
 * first line), then the Authorization header; the following lines carry an STS-style canonical request, every
 * header as sent, the URL, the body, and a presigned-URL form with the URL-encoded session token.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";

/** A set of credentials the server knows: the ambient ones (given) or one it issued. */
export interface EchoIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  account: string;
  arn: string;
}

export interface EchoRequest {
  mode: string;
  service: string;
  /** `Action` of a query request, else `METHOD path`. */
  action: string;
  accessKeyId: string;
  authorization: string;
  securityToken?: string;
}

export interface AwsEcho {
  /** http://127.0.0.1:PORT/MODE */
  url(mode: "echo" | "assume"): string;
  requests: EchoRequest[];
  /** Credentials handed out by sts:AssumeRole in `assume` mode. */
  issued: EchoIdentity[];
  close(): Promise<void>;
}

const xml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

export async function startAwsEcho(opts: { identities: EchoIdentity[] }): Promise<AwsEcho> {
  const requests: EchoRequest[] = [];
  const issued: EchoIdentity[] = [];
  const known = (keyId: string) =>
    opts.identities.find((i) => i.accessKeyId === keyId) ?? issued.find((i) => i.accessKeyId === keyId);

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const [, mode = "", ...rest] = (req.url ?? "/").split("/");
    const path = `/${rest.join("/")}`;
    const authorization = String(req.headers.authorization ?? "");
    const scope = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
    const accessKeyId = scope?.[1] ?? "";
    const service = scope?.[4] ?? "unknown";
    const params = new URLSearchParams(
      String(req.headers["content-type"]).includes("form-urlencoded") ? body : "",
    );
    const action = params.get("Action") ?? `${req.method} ${path.split("?")[0]}`;
    const securityToken = req.headers["x-amz-security-token"] as string | undefined;
    requests.push({
      mode,
      service,
      action,
      accessKeyId,
      authorization,
      ...(securityToken ? { securityToken } : {}),
    });
    const requestId = randomUUID();

    if (mode === "assume" && service === "sts" && action === "AssumeRole") {
      const roleArn = params.get("RoleArn") ?? "arn:aws:iam::000000000000:role/unknown";
      const account = /::(\d{12}):/.exec(roleArn)?.[1] ?? "000000000000";
      const roleName = roleArn.split("/").pop() ?? "role";
      const session = params.get("RoleSessionName") ?? "session";
      const n = String(issued.length + 1).padStart(4, "0");
      const id: EchoIdentity = {
        accessKeyId: `ASIAECHOISSUED${n}XX`.slice(0, 20),
        secretAccessKey: `IssuedSecret${n}/Key+Echo=abcdefghijklmnopq`.slice(0, 40),
        sessionToken: `FwoGIssuedToken${n}/EchoSession+Token=${"Qk9vTXk/Kz0+".repeat(24)}end==`,
        account,
        arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${session}`,
      };
      issued.push(id);
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
          `<Credentials><AccessKeyId>${id.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(id.secretAccessKey)}</SecretAccessKey>` +
          `<SessionToken>${xml(id.sessionToken ?? "")}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `<AssumedRoleUser><AssumedRoleId>AROAECHO0000000000000:${xml(session)}</AssumedRoleId><Arn>${xml(id.arn)}</Arn></AssumedRoleUser>` +
          `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
      return;
    }
    const caller = known(accessKeyId);
    if (mode === "assume" && service === "sts" && action === "GetCallerIdentity" && caller) {
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
          `<Arn>${xml(caller.arn)}</Arn><UserId>AROAECHO0000000000000:echo</UserId><Account>${caller.account}</Account>` +
          `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
      return;
    }

    // The echo: what a server that quotes the request (and, being hostile, the key's secrets) would say.
    const headers = Object.entries(req.headers).map(([k, v]) => [k, String(v)] as const);
    const signed = /SignedHeaders=([^,\s]+)/.exec(authorization)?.[1] ?? "";
    const bodyHash = createHash("sha256").update(body).digest("hex");
    const token = securityToken ?? caller?.sessionToken ?? "";
    const message = [
      `The request signature we calculated does not match the signature you provided. Echo: key secret ` +
        `${caller?.secretAccessKey ?? "(unknown key)"} session ${token} sent with authorization ${authorization}`,
      "",
      "The Canonical String for this request should have been",
      `'${req.method}`,
      path,
      "",
      ...headers.filter(([k]) => signed.split(";").includes(k)).map(([k, v]) => `${k}:${v}`),
      "",
      signed,
      `${bodyHash}'`,
      "",
      "The String-to-Sign should have been",
      `'AWS4-HMAC-SHA256\n${req.headers["x-amz-date"]}\n${scope?.slice(2, 5).join("/")}/aws4_request\n${bodyHash}'`,
      "",
      `Request: ${req.method} ${req.url}`,
      ...headers.map(([k, v]) => `${k}: ${v}`),
      "",
      body,
      `Presigned: https://sts.amazonaws.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(
        `${accessKeyId}/${scope?.slice(2, 5).join("/")}/aws4_request`,
      )}&X-Amz-Security-Token=${encodeURIComponent(token)}&X-Amz-Signature=${
        /Signature=([0-9a-f]+)/.exec(authorization)?.[1] ?? ""
      }`,
      `Quoted: ${JSON.stringify({ secret: caller?.secretAccessKey ?? "", token }).replace(/\//g, "\\/")}`,
    ].join("\n");

    if (service === "eks") {
      res.writeHead(403, {
        "content-type": "application/json",
        "x-amzn-errortype": "InvalidSignatureException",
        "x-amzn-requestid": requestId,
      });
      res.end(JSON.stringify({ message }).replace(/\//g, "\\/"));
    } else if (service === "ec2") {
      res.writeHead(401, { "content-type": "text/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>AuthFailure</Code>` +
          `<Message>${xml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
    } else {
      res.writeHead(403, { "content-type": "text/xml" });
      res.end(
        `<ErrorResponse xmlns="https://${service}.amazonaws.com/doc/"><Error><Type>Sender</Type>` +
          `<Code>SignatureDoesNotMatch</Code><Message>${xml(message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (mode) => `http://127.0.0.1:${port}/${mode}`,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
