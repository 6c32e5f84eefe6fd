/**
 * client.tls: a TLS handshake with the endpoint, verified against the cluster CA (topology or DescribeCluster)
 * and the endpoint's host name, as kubectl verifies it. The failures are told apart: a certificate the CA did
 * not sign (CA mismatch), a certificate for other names (hostname mismatch), an expired one, and a handshake
 * that never completes.
 */
import { isIP } from "node:net";
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from "node:tls";
import { fail, pass, unknown } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import { formatMs } from "./bounded.js";
import type { ClusterTarget } from "./cluster.js";
import type { DnsValue } from "./dns.js";
import { type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";

export interface TlsValue {
  /** The address the handshake succeeded with. */
  address: string;
  /** The CA as PEM text. */
  ca: string;
  hostname: string;
  port: number;
}

/** certificateAuthority data (base64 of PEM, as DescribeCluster returns it) to PEM, or undefined. */
export function caPem(data: string): string | undefined {
  const text = data.includes("-----BEGIN") ? data : Buffer.from(data, "base64").toString("utf8");
  return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(text) ? text : undefined;
}

type Handshake =
  | { kind: "done"; authorized: boolean; authError?: string; cert: PeerCertificate; protocol: string | null }
  | { kind: "timeout" }
  | { kind: "error"; code: string; message: string };

/** The TLS connection options kubectl's transport amounts to: SNI = host name, this CA only. */
export function tlsTarget(hostname: string, address: string, port: number, ca: string) {
  return {
    host: address,
    port,
    ca: [ca],
    // No SNI for an IP literal (Node warns when servername is an IP).
    ...(isIP(hostname) ? {} : { servername: hostname }),
    checkServerIdentity: (_: string, cert: PeerCertificate) => checkServerIdentity(hostname, cert),
  };
}

function handshake(
  hostname: string,
  address: string,
  port: number,
  ca: string,
  timeoutMs: number,
): Promise<Handshake> {
  return new Promise((resolve) => {
    let socket: TLSSocket | undefined;
    const done = (h: Handshake) => {
      clearTimeout(timer);
      socket?.destroy();
      resolve(h);
    };
    const timer = setTimeout(() => done({ kind: "timeout" }), timeoutMs);
    // Verify by hand (rejectUnauthorized off) to tell a CA mismatch from a hostname mismatch.
    socket = connect({ ...tlsTarget(hostname, address, port, ca), rejectUnauthorized: false });
    socket.once("secureConnect", () => {
      const s = socket as TLSSocket;
      const h: Handshake = {
        kind: "done",
        authorized: s.authorized,
        cert: s.getPeerCertificate(),
        protocol: s.getProtocol(),
      };
      if (s.authorizationError) h.authError = String(s.authorizationError);
      done(h);
    });
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done({ kind: "error", code: err.code ?? "error", message: err.message }),
    );
  });
}

function subjectOf(cert: PeerCertificate): string {
  const cn = cert.subject?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join(",") : cn}` : "(no subject CN)";
}
function issuerOf(cert: PeerCertificate): string {
  const cn = cert.issuer?.CN;
  return cn ? `CN=${Array.isArray(cn) ? cn.join(",") : cn}` : "(no issuer CN)";
}

const CA_ERRORS = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

export async function checkTls(
  scope: ProbeScope,
  target: ClusterTarget,
  dns: DnsValue,
  reachable: string[],
  options: { timeoutMs: number },
): Promise<StepOutcome<TlsValue>> {
  const c = scope.topology.cluster;
  const evidence: Evidence[] = [...target.caEvidence];
  const caFrom =
    target.caSource === "DescribeCluster"
      ? `DescribeCluster (as ${scope.access.role})`
      : `${scope.file} (cluster.certificateAuthority)`;
  const caFix =
    `get the cluster's CA (account ${c.account}): aws eks describe-cluster --name ${c.name} --region ${c.region} --query cluster.certificateAuthority.data ` +
    `and put it in ${scope.file} as cluster.certificateAuthority (xeks discover does it)`;
  if (!target.certificateAuthority) {
    return {
      finding: unknown(
        `not tried: the cluster CA is unknown: ${target.problem?.summary ?? "not in the topology"}`,
        target.problem?.fix ?? caFix,
        target.evidence.concat(target.caEvidence),
      ),
    };
  }
  const ca = caPem(target.certificateAuthority);
  if (!ca) {
    return {
      finding: fail(
        `the certificate authority from ${caFrom} is not a PEM certificate (base64 of -----BEGIN CERTIFICATE-----...)`,
        caFix,
        evidence,
      ),
    };
  }
  const address = reachable[0] as string;
  const h = handshake(dns.hostname, address, dns.port, ca, options.timeoutMs);
  const result = await h;
  const where = `${dns.hostname} at ${address}:${dns.port}`;
  if (result.kind === "timeout") {
    evidence.push(probeEvidence(`TLS handshake with ${where}`, "timeout"));
    return {
      finding: fail(
        `TLS handshake timeout: TCP connects to ${address}:${dns.port} but no TLS answer came within ${formatMs(options.timeoutMs)}. ` +
          "Something that is not the API server listens there, or a middlebox (firewall, proxy) holds the handshake",
        `on the instance: openssl s_client -connect ${address}:${dns.port} -servername ${dns.hostname} </dev/null; check that ${address} is an endpoint address of ${c.name}`,
        evidence,
      ),
    };
  }
  if (result.kind === "error") {
    evidence.push(probeEvidence(`TLS handshake with ${where}`, `${result.code}: ${result.message}`));
    return {
      finding: fail(
        `the TLS handshake with ${where} failed: ${result.code} (${result.message}): the peer is not a TLS server speaking to this client (reset, or a protocol mismatch)`,
        `on the instance: openssl s_client -connect ${address}:${dns.port} -servername ${dns.hostname} </dev/null`,
        evidence,
      ),
    };
  }
  const cert = result.cert;
  const sans = cert.subjectaltname ?? "(none)";
  evidence.push(
    probeEvidence(
      `certificate of ${where}`,
      `subject ${subjectOf(cert)}, issuer ${issuerOf(cert)}, names ${sans}, valid to ${cert.valid_to}`,
    ),
  );
  const value: TlsValue = { address, ca, hostname: dns.hostname, port: dns.port };
  const hostnameMismatch =
    result.authError === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    (result.authorized && checkServerIdentity(dns.hostname, cert) !== undefined);
  if (!result.authorized && !hostnameMismatch) {
    const code = result.authError ?? "unknown";
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
      return {
        finding: fail(
          `the certificate of ${where} is ${code === "CERT_HAS_EXPIRED" ? "expired" : "not yet valid"} (valid ${cert.valid_from} to ${cert.valid_to}): check the instance's clock (timedatectl), or something other than the API server answers`,
          "on the instance: timedatectl; chronyc tracking",
          evidence,
        ),
      };
    }
    if (CA_ERRORS.has(code)) {
      return {
        finding: fail(
          `CA mismatch: the certificate of ${where} (${subjectOf(cert)}, issued by ${issuerOf(cert)}) is not signed by the cluster CA from ${caFrom} (${code}). ` +
            "The CA belongs to another (or a recreated) cluster, or something else answers at this address (a TLS-intercepting proxy)",
          caFix,
          evidence,
        ),
      };
    }
    return {
      finding: fail(
        `the certificate of ${where} does not verify against the cluster CA from ${caFrom}: ${code}`,
        caFix,
        evidence,
      ),
    };
  }
  if (hostnameMismatch) {
    return {
      finding: fail(
        `hostname mismatch: ${where} presents a certificate signed by the cluster CA but for ${sans}, not ${dns.hostname}. ` +
          "The endpoint URL names another host than the one that answers (an endpoint of another cluster, or a stale hosts / --resolve entry)",
        `compare the endpoint with the cluster's (account ${c.account}): aws eks describe-cluster --name ${c.name} --region ${c.region} --query cluster.endpoint; ` +
          `on the instance: getent hosts ${dns.hostname}`,
        evidence,
      ),
    };
  }
  return {
    finding: pass(
      `${result.protocol ?? "TLS"} with ${where}: the certificate (${subjectOf(cert)}) is for ${dns.hostname} and signed by the cluster CA from ${caFrom}`,
      evidence,
    ),
    value,
  };
}
