/**
 * The emulators of the live tests (doctor, discover, audit, aws-errors): the sandbox's lab pieces, one moto_server
 * (src/sandbox/moto.ts, as shipped, behind test/helpers/moto-server.ts's recording proxy) and one EKS emulator
 * (src/sandbox/eks.ts) per test file, started before its tests and stopped after them, plus the current setup
 * built in them (its starting state: src/sandbox/starting-state.ts) and the AWS home that reaches them, which
 * `cleanup` removes between tests.
 */
import { after, before } from "node:test";
import { type EksFixture, startEksFixture } from "./eks-fixture.js";
import type { AwsHome } from "./live-env.js";
import { type Moto, startMoto } from "./moto-server.js";

/** What a test file holds between its tests: the setup built in the emulators and the AWS home. */
export interface Live<S extends { destroy(): void }> {
  setup?: S;
  home?: AwsHome;
  /** Destroy the setup and remove the AWS home (each may be absent). */
  cleanup(): void;
}

/**
 * Start moto and the EKS emulator before the file's tests (`started` receives them) and stop them after, with
 * the live setup cleaned up first. Call at the top level of a test file.
 */
export function useEmulators<S extends { destroy(): void }>(
  started: (moto: Moto, eks: EksFixture) => void,
): Live<S> {
  let moto: Moto | undefined;
  let eks: EksFixture | undefined;
  const live: Live<S> = {
    cleanup() {
      live.setup?.destroy();
      live.home?.cleanup();
      live.setup = undefined;
      live.home = undefined;
    },
  };
  before(async () => {
    moto = await startMoto();
    eks = await startEksFixture();
    started(moto, eks);
  });
  after(async () => {
    live.cleanup();
    await eks?.stop();
    await moto?.stop();
  });
  return live;
}
