/**
 * The sandbox's certificate authority and the Kubernetes stand-in's server certificate, made at `xeks sandbox
 * up` with the `openssl` command (node:crypto makes keys but cannot issue X.509 certificates): EC P-256 keys, a
 * CA valid for 30 days, a server certificate for `127.0.0.1` and `localhost` (subjectAltName) signed by it.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OperationError } from "../errors.js";
import { writeDirFile } from "./files.js";

/** The files `makeSandboxTls` writes into the sandbox directory (keys mode 0600). */
export const TLS_FILES = {
  caCert: "ca.crt",
  caKey: "ca.key",
  serverCert: "kube.crt",
  serverKey: "kube.key",
} as const;

/** PEM texts of the CA certificate and of the server key pair. */
export interface SandboxTls {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? "").trim();
    throw new OperationError(
      `openssl ${args[0]} failed${stderr ? `: ${stderr.split("\n")[0]}` : ""}`,
      "install the openssl command (Debian/Ubuntu: apt-get install openssl) and run `xeks sandbox up` again",
    );
  }
}

/**
 * Make the CA and the server certificate in `dir` (files of TLS_FILES; a serial file and the CSR are left
 * beside them). The files of an earlier run are removed first (a symbolic link left at one of those names is
 * removed, not followed by openssl); `dir` must have passed checkSandboxDir (files.ts). Errors: OperationError when
 * the openssl command is missing or fails.
 */
export function makeSandboxTls(dir: string): SandboxTls {
  for (const f of [...Object.values(TLS_FILES), "kube.csr", "kube-ext.cnf", "ca.srl"])
    rmSync(join(dir, f), { force: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      TLS_FILES.caKey,
      "-out",
      TLS_FILES.caCert,
      "-days",
      "30",
      "-subj",
      "/CN=xeks sandbox CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  writeDirFile(
    dir,
    "kube-ext.cnf",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    ["req", "-new", ...ec, "-keyout", TLS_FILES.serverKey, "-out", "kube.csr", "-subj", "/CN=127.0.0.1"],
    dir,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "kube.csr",
      "-CA",
      TLS_FILES.caCert,
      "-CAkey",
      TLS_FILES.caKey,
      "-CAcreateserial",
      "-out",
      TLS_FILES.serverCert,
      "-days",
      "30",
      "-extfile",
      "kube-ext.cnf",
    ],
    dir,
  );
  for (const f of [TLS_FILES.caKey, TLS_FILES.serverKey]) chmodSync(join(dir, f), 0o600);
  return readSandboxTls(dir);
}

/** Read the PEMs `makeSandboxTls` wrote in `dir`. Errors: the fs error of a missing file. */
export function readSandboxTls(dir: string): SandboxTls {
  return {
    caCert: readFileSync(join(dir, TLS_FILES.caCert), "utf8"),
    serverCert: readFileSync(join(dir, TLS_FILES.serverCert), "utf8"),
    serverKey: readFileSync(join(dir, TLS_FILES.serverKey), "utf8"),
  };
}
