/**
 * A loopback AWS endpoint that stops answering in one of the ways a broken network path (or a hostile proxy)
 * does, for the wait-bound tests (test/wait-bounds.test.ts):
 *
 * - `trickle`: sends the status line and the headers at once, then one byte of body every `everyMs` and never
 *   ends the body (an idle timeout never fires: bytes keep coming);
 * - `trickle-headers`: sends the status line, then one header line every `everyMs`, and never ends the headers;
 * - `silent`: reads the request and never says a word.
 *
 * `answer` may answer some requests normally first (e.g. sts:GetCallerIdentity, so a command gets past its
 * credential check): `identityAnswer` answers GetCallerIdentity with the account of the signing key. Every
 * request is recorded with its service (the SigV4 credential scope) and action. Nothing is sent anywhere.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type SlowMode = "trickle" | "trickle-headers" | "silent";

export interface SlowCall {
  service: string;
  /** `Action=` of a query request, the X-Amz-Target operation, else `METHOD path`. */
  action: string;
  accessKeyId: string;
}

export interface CannedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SlowEndpoint {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request that reached it, in order (answered or not). */
  calls: SlowCall[];
  /** Requests left unanswered (trickled or silent). */
  readonly stalled: number;
  close(): Promise<void>;
}

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

function describeCall(req: IncomingMessage, body: string): SlowCall {
  const auth = String(req.headers.authorization ?? "");
  const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  const target = String(req.headers["x-amz-target"] ?? "");
  const action =
    new URLSearchParams(body).get("Action") ??
    (target ? (target.split(".").pop() ?? target) : `${req.method} ${(req.url ?? "/").split("?")[0]}`);
  return { service: scope?.[2] ?? "unknown", action, accessKeyId: scope?.[1] ?? "" };
}

/**
 * An `answer` for sts:GetCallerIdentity: the account `accounts[accessKeyId]` (a request signed with another key
 * is not answered). Any other request: undefined (not answered).
 */
export function identityAnswer(accounts: Record<string, string>) {
  return (call: SlowCall): CannedAnswer | undefined => {
    if (call.service !== "sts" || call.action !== "GetCallerIdentity") return undefined;
    const account = accounts[call.accessKeyId];
    if (!account) return undefined;
    return {
      status: 200,
      headers: { "content-type": "text/xml" },
      body:
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        `<Arn>arn:aws:iam::${account}:user/tester</Arn><UserId>AIDATESTER</UserId><Account>${account}</Account>` +
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
    };
  };
}

export async function startSlowEndpoint(opts: {
  mode: SlowMode;
  /** Between two bytes (trickle) or two header lines (trickle-headers); default 50 ms. */
  everyMs?: number;
  answer?: (call: SlowCall) => CannedAnswer | undefined;
}): Promise<SlowEndpoint> {
  const everyMs = opts.everyMs ?? 50;
  const calls: SlowCall[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stalled = 0;
  const drip = (socket: Socket, write: () => void) => {
    const timer = setInterval(() => {
      if (socket.destroyed) {
        clearInterval(timer);
        timers.delete(timer);
        return;
      }
      write();
    }, everyMs);
    timers.add(timer);
    socket.once("close", () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const call = describeCall(req, body);
    calls.push(call);
    const canned = opts.answer?.(call);
    if (canned) {
      res.writeHead(canned.status, canned.headers);
      res.end(canned.body);
      return;
    }
    stalled++;
    if (opts.mode === "silent") return;
    const socket = req.socket;
    if (opts.mode === "trickle-headers") {
      socket.write("HTTP/1.1 200 OK\r\n");
      let n = 0;
      drip(socket, () => socket.write(`x-trickle-${n++}: a\r\n`));
      return;
    }
    res.writeHead(200, { "content-type": "text/xml" });
    res.write("<");
    drip(socket, () => res.write("a"));
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get stalled() {
      return stalled;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
