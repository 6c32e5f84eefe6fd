/**
 * An independent SigV4 check of a presigned URL with a known secret key, written from the AWS signing
 * documentation with node:crypto only (no code shared with src/). A test that knows the secret can prove
 * which header values were signed, for example that `x-k8s-aws-id` was the cluster name.
 */
import { createHash, createHmac } from "node:crypto";

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export interface SigV4Check {
  valid: boolean;
  expected: string;
  actual: string;
  canonicalRequest: string;
}

/**
 * Recompute the signature of a presigned GET URL. `headers` gives the values of the signed headers that are
 * not in the URL (the host is taken from the URL unless given).
 */
export function checkPresignedUrl(
  presignedUrl: string,
  secretAccessKey: string,
  headers: Record<string, string> = {},
): SigV4Check {
  const url = new URL(presignedUrl);
  const params = [...url.searchParams.entries()];
  const actual = url.searchParams.get("X-Amz-Signature") ?? "";
  const credential = url.searchParams.get("X-Amz-Credential") ?? "";
  const amzDate = url.searchParams.get("X-Amz-Date") ?? "";
  const signedHeaders = (url.searchParams.get("X-Amz-SignedHeaders") ?? "").split(";");
  const [, date = "", region = "", service = "", terminator = ""] = credential.split("/");
  const headerValues: Record<string, string> = { host: url.host };
  for (const [k, v] of Object.entries(headers)) headerValues[k.toLowerCase()] = v;
  const canonicalQuery = params
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(headerValues[h] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalRequest = [
    "GET",
    url.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(";"),
    createHash("sha256").update("").digest("hex"),
  ].join("\n");
  const scope = `${date}/${region}/${service}/${terminator}`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonicalRequest, "utf8").digest("hex"),
  ].join("\n");
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, terminator);
  const expected = createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex");
  return { valid: expected === actual, expected, actual, canonicalRequest };
}

/** The presigned URL inside an EKS token (`k8s-aws-v1.` + base64url). */
export function decodeEksToken(token: string): string {
  return Buffer.from(token.replace(/^k8s-aws-v1\./, ""), "base64url").toString("utf8");
}
