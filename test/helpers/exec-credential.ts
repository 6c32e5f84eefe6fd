/** Reading what a kubectl exec credential plugin printed (`xeks token`, `aws eks get-token`). */
import { decodeEksToken } from "./sigv4.js";

export interface ParsedExecCredential {
  kind: string;
  apiVersion: string;
  token: string;
  expirationTimestamp: string;
  /** The presigned URL inside the token. */
  url: URL;
  /** X-Amz-Credential's access key id. */
  accessKeyId: string;
}

export function parseExecCredential(stdout: string): ParsedExecCredential {
  const doc = JSON.parse(stdout) as {
    kind: string;
    apiVersion: string;
    status: { token: string; expirationTimestamp: string };
  };
  const url = new URL(decodeEksToken(doc.status.token));
  return {
    kind: doc.kind,
    apiVersion: doc.apiVersion,
    token: doc.status.token,
    expirationTimestamp: doc.status.expirationTimestamp,
    url,
    accessKeyId: (url.searchParams.get("X-Amz-Credential") ?? "").split("/")[0] ?? "",
  };
}
