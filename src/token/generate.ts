/**
 * Token generation (spec token-and-access.md §2): SigV4-presign `GET /?Action=GetCallerIdentity` on the
 * regional STS host with the signed header `x-k8s-aws-id: <cluster>`, then `k8s-aws-v1.` + base64url.
 * Same bytes as `aws eks get-token` for the same credentials and clock.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { createRequire } from "node:module";
import {
  buildPresignedUrl,
  CLUSTER_ID_HEADER,
  encodeToken,
  STS_API_VERSION,
  stsHost,
  tokenExpiration,
  URL_TIMEOUT_SECONDS,
} from "./format.js";

// CommonJS bundle: `require` skips the ESM wrapper and export scan that `import` would cost.
const { SignatureV4 } = createRequire(import.meta.url)(
  "@smithy/signature-v4",
) as typeof import("@smithy/signature-v4");

/** Credentials that sign a token. `expiration` is absent for long-term keys. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface GenerateTokenOptions {
  credentials: SigningCredentials;
  region: string;
  /** The EKS cluster name, or the cluster id of an Outposts local cluster. */
  clusterId: string;
  /** Signing time; default now. */
  now?: Date;
  /** Presign for `sts-fips.<region>...` instead of `sts.<region>...`. */
  fips?: boolean;
}

export interface GeneratedToken {
  token: string;
  /** The decoded presigned URL (contains the session token: never log it). */
  url: string;
  signedAt: Date;
  /** min(signedAt + 14 min, credentials' expiry). */
  expiration: Date;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 and HMAC-SHA256 from node:crypto in the shape smithy's signer wants. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : toBytes(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret);
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** Presign the GetCallerIdentity URL and wrap it as a token. */
export async function generateToken(options: GenerateTokenOptions): Promise<GeneratedToken> {
  const { credentials, region, clusterId } = options;
  const signedAt = options.now ?? new Date();
  const host = stsHost(region, { fips: options.fips });
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    region,
    service: "sts",
    sha256: NodeSha256,
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: host,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: STS_API_VERSION },
      headers: { host, [CLUSTER_ID_HEADER]: clusterId },
    },
    { expiresIn: URL_TIMEOUT_SECONDS, signingDate: signedAt },
  );
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(presigned.query ?? {})) {
    if (typeof v === "string") query[k] = v;
  }
  const url = buildPresignedUrl(host, query);
  return {
    token: encodeToken(url),
    url,
    signedAt,
    expiration: tokenExpiration(signedAt, credentials.expiration),
  };
}
