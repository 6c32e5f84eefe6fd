/**
 * The few AWS query-protocol calls `xeks sandbox up` makes at its own moto_server to create the accounts'
 * starting state, sent as plain HTTP to 127.0.0.1 (no SDK: only src/aws imports it, and moto checks no
 * signature). moto picks the service from the SigV4 credential scope of the Authorization header and the
 * account from the access key: keys that its STS AssumeRole answered act in the role's account (moto docs,
 * "Multi-account support"). Protocol facts: the EC2 and STS API references (Action/Version form bodies, XML
 * answers).
 */
import { request } from "node:http";
import { OperationError } from "../errors.js";

/** Static keys of the sandbox's base profile: fake, accepted by moto only. */
export const SANDBOX_BASE_KEYS = {
  accessKeyId: "AKIAXEKSSANDBOX00001",
  secretAccessKey: "xeks/sandbox/fake/secret/key/for/moto/only0",
} as const;

const VERSIONS: Record<string, string> = { ec2: "2016-11-15", sts: "2011-06-15", iam: "2010-05-08" };

/** One query-protocol call: `params` besides Action and Version; answers the XML text (HTTP 200 only). */
export function motoCall(
  motoUrl: string,
  service: "ec2" | "sts" | "iam",
  accessKeyId: string,
  action: string,
  params: Record<string, string> = {},
  region = "ap-south-1",
): Promise<string> {
  const body = new URLSearchParams({
    Action: action,
    Version: VERSIONS[service] ?? "",
    ...params,
  }).toString();
  const auth = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`;
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/", motoUrl),
      {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          authorization: auth,
          "x-amz-date": "20260101T000000Z",
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200) resolve(text);
          else
            reject(
              new OperationError(
                `moto answered ${service}:${action} with HTTP ${res.statusCode}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200)}`,
              ),
            );
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`moto did not answer ${service}:${action} within 30 s`)));
    req.on("error", (err) => reject(new OperationError(`moto ${service}:${action}: ${err.message}`)));
    req.end(body);
  });
}

/** The text of the first `<tag>` of an XML answer; OperationError naming the action when absent. */
export function xmlField(xml: string, tag: string, action: string): string {
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
  if (!m?.[1]) throw new OperationError(`moto's answer to ${action} has no ${tag}`);
  return m[1];
}

/**
 * An access key acting in `account` at moto: AssumeRole of `arn:aws:iam::ACCOUNT:role/ROLE` with the base keys
 * (moto needs no such role to exist).
 */
export async function accountKey(
  motoUrl: string,
  account: string,
  role = "xeks-sandbox-setup",
): Promise<string> {
  const xml = await motoCall(motoUrl, "sts", SANDBOX_BASE_KEYS.accessKeyId, "AssumeRole", {
    RoleArn: `arn:aws:iam::${account}:role/${role}`,
    RoleSessionName: "xeks-sandbox-up",
  });
  return xmlField(xml, "AccessKeyId", "AssumeRole");
}
