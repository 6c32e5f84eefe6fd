/**
 * A private moto_server for a test file: started on a free loopback port, with moto's request recorder on,
 * so a test can count the AWS calls made by any process (including `spawnSync` children) by action.
 *
 *   const moto = await startMoto();
 *   env.AWS_ENDPOINT_URL = moto.url;           // or AWS_ENDPOINT_URL_STS
 *   ...
 *   assert.equal(moto.count("AssumeRole"), 1);
 *   await moto.stop();
 *
 * Moto routes by Host header and by the SigV4 credential scope (the service name), so SDK calls sent to
 * http://127.0.0.1:PORT reach the right service. It does not check signatures or trust policies.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MotoProcess, startMoto as startLabMoto } from "../../src/sandbox/moto.js";

export interface MotoRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** The request body as text. */
  body: string;
  /** The service from the SigV4 credential scope (`sts`, `eks`, `iam`...), when signed. */
  service?: string;
  /** The access key id that signed the request. */
  accessKeyId?: string;
  /**
   * The API action: `Action=` of query protocols (STS, IAM, EC2), the X-Amz-Target operation of JSON
   * protocols, or for EKS's REST protocol the operation its method and path stand for.
   */
  action?: string;
}

export interface MotoServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every recorded AWS request so far (moto-api calls excluded). */
  requests(): MotoRequest[];
  /** How many recorded requests had this action (optionally only for one service). */
  count(action: string, service?: string): number;
  /** Forget the recorded requests. */
  clearRecording(): Promise<void>;
  /** Reset moto's state (all accounts, all services) and the recording. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const EKS_REST: [string, RegExp, string][] = [
  ["GET", /^\/clusters$/, "ListClusters"],
  ["POST", /^\/clusters$/, "CreateCluster"],
  ["GET", /^\/clusters\/[^/]+$/, "DescribeCluster"],
  ["DELETE", /^\/clusters\/[^/]+$/, "DeleteCluster"],
  ["POST", /^\/clusters\/[^/]+\/update-config$/, "UpdateClusterConfig"],
  ["GET", /^\/clusters\/[^/]+\/access-entries$/, "ListAccessEntries"],
  ["POST", /^\/clusters\/[^/]+\/access-entries$/, "CreateAccessEntry"],
  ["GET", /^\/clusters\/[^/]+\/access-entries\/[^/]+$/, "DescribeAccessEntry"],
  ["GET", /^\/clusters\/[^/]+\/access-entries\/[^/]+\/access-policies$/, "ListAssociatedAccessPolicies"],
  ["POST", /^\/clusters\/[^/]+\/access-entries\/[^/]+\/access-policies$/, "AssociateAccessPolicy"],
  ["GET", /^\/access-policies$/, "ListAccessPolicies"],
];

interface Recorded {
  headers: Record<string, string>;
  method: string;
  url: string;
  body: string | null;
  body_encoded: boolean;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function describeRecorded(r: Recorded): MotoRequest {
  const u = new URL(r.url);
  const body = r.body ? (r.body_encoded ? Buffer.from(r.body, "base64").toString("utf8") : r.body) : "";
  const out: MotoRequest = {
    method: r.method,
    path: u.pathname,
    query: u.searchParams,
    headers: r.headers,
    body,
  };
  const auth = header(r.headers, "Authorization") ?? "";
  const cred = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(auth);
  const qcred = u.searchParams.get("X-Amz-Credential");
  if (cred) {
    out.accessKeyId = cred[1];
    out.service = cred[2];
  } else if (qcred) {
    const parts = qcred.split("/");
    out.accessKeyId = parts[0];
    out.service = parts[3];
  }
  const target = header(r.headers, "X-Amz-Target");
  const contentType = header(r.headers, "Content-Type") ?? "";
  let action = u.searchParams.get("Action") ?? undefined;
  if (!action && contentType.includes("x-www-form-urlencoded")) {
    action = new URLSearchParams(body).get("Action") ?? undefined;
  }
  if (!action && target) action = target.split(".").pop();
  if (!action && out.service === "eks") {
    action = EKS_REST.find(([m, re]) => m === r.method && re.test(u.pathname))?.[2];
  }
  if (action) out.action = action;
  return out;
}

function post(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST" }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end();
  });
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Start moto_server (must be on PATH) on a free port of 127.0.0.1 and wait until it answers: the sandbox's
 * startMoto (src/sandbox/moto.ts), as a child of the test process, with moto's request recorder on. Without
 * `patches` moto runs as shipped (the patches import moto's CloudFormation at start-up, which takes seconds).
 */
export async function startMoto(
  opts: { port?: number; env?: NodeJS.ProcessEnv; patches?: boolean } = {},
): Promise<MotoServer> {
  const dir = mkdtempSync(join(tmpdir(), "xeks-moto-"));
  const recording = join(dir, "recording.jsonl");
  let moto: MotoProcess;
  try {
    moto = await startLabMoto({
      port: opts.port,
      env: { ...process.env, ...opts.env },
      patches: opts.patches ?? false,
      vars: { MOTO_ENABLE_RECORDING: "true", MOTO_RECORDER_FILEPATH: recording },
      onSpawn: (child) => running.add(child),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { url, port, child } = moto;

  const requests = (): MotoRequest[] => {
    let text = "";
    try {
      text = readFileSync(recording, "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => describeRecorded(JSON.parse(l) as Recorded))
      .filter((r) => !r.path.startsWith("/moto-api/"));
  };
  return {
    url,
    port,
    requests,
    count: (action, service) =>
      requests().filter((r) => r.action === action && (service === undefined || r.service === service))
        .length,
    clearRecording: () => post(`${url}/moto-api/recorder/reset-recording`),
    reset: async () => {
      await post(`${url}/moto-api/reset`);
      await post(`${url}/moto-api/recorder/reset-recording`);
    },
    stop: async () => {
      await moto.stop();
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
