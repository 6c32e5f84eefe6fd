/**
 * A throw-away certificate authority and server certificates for local HTTPS servers, made with the
 * `openssl` command (node:crypto cannot issue X.509 certificates). EC P-256 keys, valid for a day.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  /** PEM */
  cert: string;
  /** PEM (PKCS#8) */
  key: string;
}

export interface TestCa extends TestCertificate {
  /** The CA certificate, base64 of the PEM: the form of kubeconfig `certificate-authority-data`. */
  base64: string;
  /** A server certificate for these DNS names and IP addresses, signed by this CA. */
  issue(names?: string[]): TestCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export function createTestCa(commonName = "xeks test CA"): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "xeks-tls-"));
  try {
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "1",
        "-subj",
        `/CN=${commonName}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      dir,
    );
    const cert = readFileSync(join(dir, "ca.crt"), "utf8");
    const key = readFileSync(join(dir, "ca.key"), "utf8");
    return {
      cert,
      key,
      base64: Buffer.from(cert).toString("base64"),
      issue(names = ["localhost", "127.0.0.1"]) {
        const d = mkdtempSync(join(tmpdir(), "xeks-tls-"));
        try {
          writeFileSync(join(d, "ca.crt"), cert);
          writeFileSync(join(d, "ca.key"), key);
          const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
          writeFileSync(
            join(d, "ext.cnf"),
            `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
          );
          openssl(
            [
              "req",
              "-new",
              "-newkey",
              "ec",
              "-pkeyopt",
              "ec_paramgen_curve:prime256v1",
              "-nodes",
              "-keyout",
              "server.key",
              "-out",
              "server.csr",
              "-subj",
              `/CN=${names[0] ?? "localhost"}`,
            ],
            d,
          );
          openssl(
            [
              "x509",
              "-req",
              "-in",
              "server.csr",
              "-CA",
              "ca.crt",
              "-CAkey",
              "ca.key",
              "-CAcreateserial",
              "-out",
              "server.crt",
              "-days",
              "1",
              "-extfile",
              "ext.cnf",
            ],
            d,
          );
          return {
            cert: readFileSync(join(d, "server.crt"), "utf8"),
            key: readFileSync(join(d, "server.key"), "utf8"),
          };
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
