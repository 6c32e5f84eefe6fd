/**
 * One JSON POST to the Kubernetes API server, the way kubectl's transport makes it: to the address the TLS
 * step reached, with SNI and certificate checks against the endpoint's host name and the cluster CA, and
 * `Authorization: Bearer <token>`. Bounded by a timeout; never rejects.
 */
import { request } from "node:https";
import { type TlsValue, tlsTarget } from "./tls.js";

export type KubeAnswer =
  | { kind: "answer"; status: number; body: unknown; text: string }
  | { kind: "timeout" }
  | { kind: "error"; code: string; message: string };

export function kubePost(
  tls: TlsValue,
  path: string,
  body: unknown,
  token: string,
  timeoutMs: number,
): Promise<KubeAnswer> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    let settled = false;
    const settle = (a: KubeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(a);
    };
    const req = request({
      ...tlsTarget(tls.hostname, tls.address, tls.port, tls.ca),
      method: "POST",
      path,
      agent: false,
      headers: {
        host: tls.port === 443 ? tls.hostname : `${tls.hostname}:${tls.port}`,
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json",
        "content-length": Buffer.byteLength(payload),
        "user-agent": "xeks-probe",
      },
    });
    const timer = setTimeout(() => settle({ kind: "timeout" }), timeoutMs);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (text.length < 1_000_000) text += d;
      });
      res.on("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        settle({ kind: "answer", status: res.statusCode ?? 0, body: parsed, text: text.slice(0, 500) });
      });
      res.on("error", (err: NodeJS.ErrnoException) =>
        settle({ kind: "error", code: err.code ?? "error", message: err.message }),
      );
    });
    req.on("error", (err: NodeJS.ErrnoException) =>
      settle({ kind: "error", code: err.code ?? "error", message: err.message }),
    );
    req.end(payload);
  });
}

/** The `message` of a Kubernetes Status body, when there is one. */
export function statusMessage(answer: KubeAnswer): string | undefined {
  if (answer.kind !== "answer") return undefined;
  const b = answer.body as { kind?: string; message?: string } | undefined;
  return b?.kind === "Status" && typeof b.message === "string" ? b.message : undefined;
}
