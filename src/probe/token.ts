/**
 * client.token: build the bearer token exactly as `xeks token` does (src/token/generate.ts, signed with the
 * access role's session) and check it the way the API server's authenticator does before it asks STS
 * (src/token/verify.ts, checks 1-12). The token itself never appears in the report.
 */
import { fail, pass } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import { useFips } from "../token/environment.js";
import { formatTimestamp } from "../token/format.js";
import { generateToken } from "../token/generate.js";
import { verifyToken } from "../token/verify.js";
import type { AssumeValue } from "./assume-role.js";
import { type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";

export interface TokenValue {
  token: string;
}

export async function checkToken(
  scope: ProbeScope,
  assumed: AssumeValue,
  clusterId: string,
): Promise<StepOutcome<TokenValue>> {
  const c = scope.topology.cluster;
  const now = scope.now();
  const evidence: Evidence[] = [probeEvidence("x-k8s-aws-id (signed header)", clusterId)];
  let token: string;
  try {
    const generated = await generateToken({
      credentials: assumed.credentials,
      region: c.region,
      clusterId,
      now,
      fips: useFips(scope.env),
    });
    token = generated.token;
    evidence.push(probeEvidence("token usable until", formatTimestamp(generated.expiration)));
  } catch (err) {
    return {
      finding: fail(
        `could not sign the token: ${(err as Error)?.message ?? String(err)}`,
        "report this as a bug in xeks, with the output of xeks token --cluster-name ... --role-arn ... (without the token)",
        evidence,
      ),
    };
  }
  const verified = verifyToken(token, { now, partition: c.partition });
  if (!verified.ok) {
    return {
      finding: fail(
        `the token would be refused by the API server: check ${verified.checkNumber} (${verified.check}) failed: ${verified.message}`,
        verified.check === "host"
          ? "unset AWS_USE_FIPS_ENDPOINT or use a region of the cluster's partition"
          : "report this as a bug in xeks (the token is built by src/token)",
        evidence,
      ),
    };
  }
  const f = verified.fields;
  evidence.push(
    probeEvidence(
      "token",
      `${token.length} bytes, presigned GetCallerIdentity on ${f.host}, signed at ${f.amzDate}, ${f.temporary ? "with the session token of the assumed role" : "long-term key"}`,
    ),
  );
  if (!f.temporary) {
    return {
      finding: fail(
        "the token is signed with long-term keys, not the access role's session",
        "report this as a bug in xeks",
        evidence,
      ),
    };
  }
  return {
    finding: pass(
      `a token for cluster ${clusterId}, presigned on ${f.host} with ${scope.access.role}'s session, passes the authenticator's checks 1-12 (valid until ${f.validUntil.toISOString()})`,
      evidence,
    ),
    value: { token },
  };
}
