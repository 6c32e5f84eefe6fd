/**
 * The sandbox's server process, started detached by `xeks sandbox up` as `node serve.js DIR`: the EKS emulator
 * (src/sandbox/eks.ts) and the Kubernetes stand-in (src/sandbox/kube.ts) in one process, so that the stand-in
 * maps tokens through the emulator's access entries as they are now. Reads DIR/serve.json (ports, moto's URL,
 * the cluster) and the TLS files of DIR. SIGTERM or SIGINT stops both servers and exits 0. Its output goes to
 * DIR/serve.log (one line at start, one at stop; failures as one line, exit 1).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type EksFixture, startEksFixture } from "./eks.js";
import { type KubeStandIn, startKubeStandIn } from "./kube.js";
import { readSandboxTls } from "./tls.js";
import type { ServeConfig } from "./up.js";

/** The EKS emulator and the Kubernetes stand-in of one lab, in this process. */
export interface LabServers {
  eks: EksFixture;
  kube: KubeStandIn;
  /** Stop the stand-in, then the emulator. */
  stop(): Promise<void>;
}

/**
 * Start the lab's EKS emulator on `config.eksPort` with `config.cluster` (paging 100 items as EKS does by default,
 * the authentication mode enforced) and the Kubernetes stand-in on `config.kubePort` (TLS `tls`, tokens checked
 * at the STS of `config.motoUrl`, subjects mapped through the emulator's access entries as they are now). Both on
 * 127.0.0.1; resolves once both listen. The serve process of `xeks sandbox up` runs this; a test may run it
 * in-process.
 */
export async function startLabServers(
  config: ServeConfig,
  tls: { serverCert: string; serverKey: string },
): Promise<LabServers> {
  const eks = await startEksFixture({ port: config.eksPort });
  // The sandbox pages like EKS does by default (100 items), not the tests' one item a page.
  eks.pageSize = 100;
  eks.enforceAuthenticationMode = true;
  eks.addCluster(config.cluster);
  let kube: KubeStandIn;
  try {
    kube = await startKubeStandIn({
      port: config.kubePort,
      cert: tls.serverCert,
      key: tls.serverKey,
      stsUrl: config.motoUrl,
      cluster: () => eks.clusters.get(config.cluster.name),
    });
  } catch (err) {
    await eks.stop();
    throw err;
  }
  return {
    eks,
    kube,
    stop: async () => {
      await kube.stop();
      await eks.stop();
    },
  };
}

/** Run the serve process for `dir` (DIR/serve.json, the TLS files of DIR); resolves once both servers listen. */
export async function serve(dir: string): Promise<{ stop(): Promise<void> }> {
  const config = JSON.parse(readFileSync(join(dir, "serve.json"), "utf8")) as ServeConfig;
  return startLabServers(config, readSandboxTls(dir));
}

const entry = process.argv[1] ?? "";
if (/[\\/]serve\.(js|ts)$/.test(entry) && process.argv[2]) {
  const dir = process.argv[2];
  serve(dir).then(
    (running) => {
      process.stdout.write(`xeks sandbox serve: listening (pid ${process.pid})\n`);
      const stop = () => {
        running.stop().then(
          () => {
            process.stdout.write("xeks sandbox serve: stopped\n");
            process.exit(0);
          },
          () => process.exit(1),
        );
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    },
    (err: unknown) => {
      process.stderr.write(`xeks sandbox serve: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
