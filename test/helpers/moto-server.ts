/**
 * moto_server (test/helpers/moto.ts: a private server on a free loopback port, moto's request recorder on)
 * with a small proxy in front of it, for the live tests of doctor and discover.
 *
 * - moto routes by the SigV4 credential scope (the service name) when the Host is not an AWS host name, so
 *   the SDK can be pointed at `proxyUrl` with AWS_ENDPOINT_URL for IAM, STS and EC2 alike.
 * - The proxy records the service, action and access key of every request, and can answer chosen actions
 *   with the error IAM or EC2 sends when a policy denies (moto does not enforce IAM policies).
 * - moto's recorder keeps, server side, every request that reached moto (`recording()`).
 * Nothing here ever talks to AWS.
 */
import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startMoto as startMotoServer } from "./moto.js";

export interface RecordedCall {
  /** iam, sts, ec2, … (from the SigV4 credential scope). */
  service: string;
  /** The query-protocol action: GetRole, DescribeRouteTables, … */
  action: string;
  /** The access key that signed the request (which account's credentials). */
  accessKeyId?: string;
}

export interface Moto {
  /** moto itself. */
  url: string;
  /** The recording proxy in front of moto: point the SDK here. */
  proxyUrl: string;
  /** Calls that went through the proxy since the last `clearCalls()`. */
  calls: RecordedCall[];
  clearCalls(): void;
  /**
   * Answer `service:Action` (e.g. `iam:GetRole`) with AccessDenied / UnauthorizedOperation; `service:Action@KEY`
   * only for requests signed with access key KEY (one account's credentials).
   */
  deny(...actions: string[]): void;
  allowAll(): void;
  /** Milliseconds the proxy waits before forwarding each request (a WAN round trip, for benchmarks). */
  latencyMs: number;
  /** Forget every resource of every account (and moto's recording). */
  reset(): Promise<void>;
  /** Empty moto's server-side recording. */
  clearRecording(): Promise<void>;
  /** What moto recorded since the last reset or clear. */
  recording(): RecordedCall[];
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Service, action and access key of a query-protocol request. */
export function describeRequest(
  headers: Record<string, string | string[] | undefined>,
  url: string,
  body: string,
): RecordedCall {
  const auth = String(headers.authorization ?? "");
  const scope = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  const action =
    new URLSearchParams(body).get("Action") ?? new URL(url, "http://x").searchParams.get("Action");
  return { service: scope?.[2] ?? "unknown", action: action ?? "unknown", accessKeyId: scope?.[1] };
}

function deniedResponse(call: RecordedCall): { status: number; body: string } {
  const requestId = randomUUID();
  const who = "arn:aws:sts::000000000000:assumed-role/xeks-test-admin/xeks-test";
  if (call.service === "ec2") {
    return {
      status: 403,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. User: ${who} is not authorized to perform: ec2:${call.action}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  return {
    status: 403,
    body: `<ErrorResponse xmlns="https://${call.service}.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: ${who} is not authorized to perform: ${call.service}:${call.action} because no identity-based policy allows the ${call.service}:${call.action} action</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

export async function startMoto(): Promise<Moto> {
  const server = await startMotoServer();
  const calls: RecordedCall[] = [];
  const denied = new Set<string>();
  const state = { latencyMs: 0 };
  const proxy: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (state.latencyMs > 0) await new Promise((r) => setTimeout(r, state.latencyMs));
      const call = describeRequest(req.headers, req.url ?? "/", body.toString("utf8"));
      calls.push(call);
      const action = `${call.service}:${call.action}`;
      if (denied.has(action) || denied.has(`${action}@${call.accessKeyId}`)) {
        const d = deniedResponse(call);
        res.writeHead(d.status, { "content-type": "text/xml" });
        res.end(d.body);
        return;
      }
      const upstream = httpRequest(
        { host: "127.0.0.1", port: server.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    url: server.url,
    proxyUrl,
    calls,
    clearCalls: () => {
      calls.length = 0;
    },
    deny: (...actions) => {
      for (const a of actions) denied.add(a);
    },
    allowAll: () => denied.clear(),
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(ms: number) {
      state.latencyMs = ms;
    },
    reset: () => server.reset(),
    clearRecording: () => server.clearRecording(),
    recording: () =>
      server.requests().map((r) => ({
        service: r.service ?? "unknown",
        action: r.action ?? "unknown",
        accessKeyId: r.accessKeyId,
      })),
    stop: async () => {
      const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      await closed;
      await server.stop();
    },
  };
}
