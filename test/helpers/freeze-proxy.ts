/**
 * A loopback HTTP proxy in front of an emulator (moto_server) that can stop answering mid-run, for the tests of
 * interrupts and wait bounds:
 *
 * - it forwards every request and records its service (SigV4 credential scope) and action (query-protocol
 *   `Action=`, or the X-Amz-Target operation);
 * - `freeze()` (or `freezeAfter(predicate)`: once a matching request has been answered) makes it accept every
 *   later request and never answer it, as an AWS endpoint behind a broken network path does; the connections
 *   stay open until `close()`;
 * - `hold(when?)` parks later requests (all, or those matching `when`; accepted, unanswered) until `release()`
 *   forwards them (`drop()` forgets them instead), so a test can keep a run at a known point: a request parked
 *   and then forwarded after its client is gone is what AWS does with a request that reached it;
 * - `onRequest` is told of each request as it arrives (before it is forwarded, held or frozen).
 *
 * Nothing is sent anywhere but the target, which must be on 127.0.0.1.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ProxyCall {
  /** cloudformation, sts, ec2, iam, … (from the SigV4 credential scope). */
  service: string;
  /** The API action, or "unknown". */
  action: string;
  /** The request body as text (form-encoded for query protocols). */
  body: string;
}

export interface FreezeProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request that reached the proxy, in order. */
  calls: ProxyCall[];
  /** From now on: accept, never answer. */
  freeze(): void;
  /** Freeze once a request matching `when` has been answered. */
  freezeAfter(when: (call: ProxyCall) => boolean): void;
  readonly frozen: boolean;
  /** Park later requests (those matching `when`, or all) until `release()` or `drop()`. */
  hold(when?: (call: ProxyCall) => boolean): void;
  /** Forward the parked requests, and the next ones at once. */
  release(): void;
  /** Forget the parked requests (never forwarded, never answered), and forward the next ones at once. */
  drop(): void;
  /** Calls parked so far (and not released or dropped). */
  readonly parked: ProxyCall[];
  /** Requests parked by `hold()` or left unanswered by `freeze()`. */
  readonly waiting: number;
  onRequest?: (call: ProxyCall) => void;
  close(): Promise<void>;
}

function describe(req: IncomingMessage, body: string): ProxyCall {
  const auth = String(req.headers.authorization ?? "");
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  const target = String(req.headers["x-amz-target"] ?? "");
  const action =
    new URLSearchParams(body).get("Action") ??
    new URL(req.url ?? "/", "http://x").searchParams.get("Action") ??
    (target ? target.split(".").pop() : undefined);
  return { service: scope?.[1] ?? "unknown", action: action ?? "unknown", body };
}

export async function startFreezeProxy(target: string): Promise<FreezeProxy> {
  const upstream = new URL(target);
  if (upstream.hostname !== "127.0.0.1") throw new Error("the freeze proxy only forwards to 127.0.0.1");
  const sockets = new Set<Socket>();
  const parked: { call: ProxyCall; go: () => void }[] = [];
  let frozen = false;
  let holding: ((call: ProxyCall) => boolean) | undefined;
  let unanswered = 0;
  let trigger: ((call: ProxyCall) => boolean) | undefined;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, call: ProxyCall) => {
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("end", () => {
          if (trigger?.(call)) {
            trigger = undefined;
            frozen = true;
          }
        });
      },
    );
    up.on("error", (err) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(502);
      res.end(String(err));
    });
    res.on("error", () => {}); // the client may be gone (a parked request forwarded after it exited)
    up.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const call = describe(req, body.toString("utf8"));
      proxy.calls.push(call);
      proxy.onRequest?.(call);
      if (frozen) {
        unanswered++;
        return; // accepted, never answered
      }
      if (holding?.(call)) {
        parked.push({ call, go: () => forward(req, res, body, call) });
        return;
      }
      forward(req, res, body, call);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const proxy: FreezeProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: [],
    freeze() {
      frozen = true;
    },
    freezeAfter(when) {
      trigger = when;
    },
    get frozen() {
      return frozen;
    },
    hold(when) {
      holding = when ?? (() => true);
    },
    release() {
      holding = undefined;
      for (const p of parked.splice(0)) p.go();
    },
    drop() {
      holding = undefined;
      parked.splice(0);
    },
    get parked() {
      return parked.map((p) => p.call);
    },
    get waiting() {
      return unanswered + parked.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
