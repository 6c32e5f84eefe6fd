/**
 * The cluster's authentication mode. Access entries do nothing under CONFIG_MAP, so before any change deploy
 * reads it (DescribeCluster with the cluster account's credentials). Under CONFIG_MAP it stops and says how to
 * move forward, unless allowed to switch the cluster to API_AND_CONFIG_MAP (UpdateClusterConfig, one-way: EKS
 * never goes back to CONFIG_MAP) and wait for that update to finish (DescribeUpdate). What the mode means is the
 * `eks.authentication-mode` link's decision, the same as doctor's ({@link authModeFinding}).
 */
import type { ClusterDescription } from "../aws/eks.js";
import type { Finding } from "../chain/link.js";
import { authenticationMode } from "../chain/links/authentication-mode.js";
import { InputError, OperationError } from "../errors.js";
import { emptyLiveModel, factKey } from "../model/types.js";
import type { AuthenticationMode, Topology } from "../topology/types.js";
import type { EksApi } from "./aws.js";
import type { AuthModeState, EventSink } from "./types.js";

/** The mode xeks switches a CONFIG_MAP cluster to: access entries work and the aws-auth ConfigMap keeps working. */
export const TARGET_AUTH_MODE: AuthenticationMode = "API_AND_CONFIG_MAP";

/**
 * The `eks.authentication-mode` link's finding (src/chain/links/authentication-mode.ts) on the model fact that
 * doctor builds from the same DescribeCluster answer (src/aws/eks.ts, src/model/live/load.ts): deploy does not
 * decide the mode with its own code. An answer without `accessConfig` is CONFIG_MAP (src/aws/eks.ts).
 */
export async function authModeFinding(topology: Topology, live: ClusterDescription): Promise<Finding> {
  const c = topology.cluster;
  const model = emptyLiveModel(c);
  if (live.authenticationMode) {
    model.cluster.authenticationMode = live.authenticationMode;
  } else {
    model.unread.push({
      key: factKey.authenticationMode(),
      reason: `DescribeCluster reported authentication mode ${live.authenticationModeReported ?? "(none)"}, which xeks does not know`,
      hint: "update xeks, or switch the cluster to API_AND_CONFIG_MAP or API",
    });
  }
  const finding = await authenticationMode.evaluate({ topology, model }, { kind: "cluster" });
  if (!finding)
    throw new OperationError(`link eks.authentication-mode gave no finding for cluster ${c.name}`);
  return finding;
}

/** Read the mode and decide what the run does about it. Throws when the cluster does not exist. */
export async function readAuthMode(
  topology: Topology,
  eks: EksApi,
  allowChange: boolean,
): Promise<AuthModeState> {
  const c = topology.cluster;
  const live = await eks.describeCluster(c.name);
  if (!live) {
    throw new OperationError(
      `cluster ${c.name} not found in account ${c.account}, region ${c.region}`,
      "xeks deploys access to an existing cluster: check cluster.name, cluster.region and the cluster profile",
    );
  }
  const finding = await authModeFinding(topology, live);
  const mode = live.authenticationMode;
  // pass: access entries count; fail: CONFIG_MAP (switch with consent); unknown: the mode cannot be told.
  const action =
    finding.status === "pass" ? "none" : finding.status === "fail" && allowChange ? "update" : "blocked";
  return { cluster: c.name, ...(mode ? { mode } : {}), source: "live", action };
}

/** The error that stops a run under CONFIG_MAP (or when the mode cannot be known), saying how to move on. */
export function authModeBlocked(state: AuthModeState, topology: Topology): InputError {
  const c = topology.cluster;
  const cli = `aws eks update-cluster-config --name ${c.name} --region ${c.region} --access-config authenticationMode=${TARGET_AUTH_MODE}`;
  if (state.mode === undefined) {
    return new InputError(
      `cannot tell the authentication mode of cluster ${c.name}: DescribeCluster reported a mode xeks does not know; nothing was changed`,
      [
        {
          path: "",
          message: `a newer xeks may know it; xeks doctor ${topology.file} shows what EKS reported`,
        },
      ],
      topology.file,
    );
  }
  return new InputError(
    `cluster ${c.name} uses authentication mode CONFIG_MAP, which ignores EKS access entries: the access roles would not get in; nothing was changed`,
    [
      {
        path: "--allow-auth-mode-change",
        message:
          `run again with --allow-auth-mode-change to let xeks switch the cluster to ${TARGET_AUTH_MODE} before deploying ` +
          "(one-way: EKS cannot go back to CONFIG_MAP; the aws-auth ConfigMap keeps working)",
      },
      { path: "", message: `or switch it yourself: ${cli}` },
    ],
  );
}

export interface WaitOptions {
  /** Between two polls. */
  pollMs?: number;
  /** Give up after this long. */
  timeoutMs?: number;
  /** Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Switch the cluster to API_AND_CONFIG_MAP and wait until EKS reports the update Successful. */
export async function updateAuthMode(
  topology: Topology,
  eks: EksApi,
  emit: EventSink,
  wait: WaitOptions = {},
): Promise<void> {
  const name = topology.cluster.name;
  const pollMs = wait.pollMs ?? 10_000;
  const timeoutMs = wait.timeoutMs ?? 30 * 60_000;
  const sleep = wait.sleep ?? defaultSleep;
  const started = await eks.updateAuthenticationMode(name, TARGET_AUTH_MODE);
  const { updateId } = started;
  emit({ type: "auth-mode-update", cluster: name, updateId, status: "started" });
  const deadline = Date.now() + timeoutMs;
  let u: { status: string; errors: string[] } = { status: started.status, errors: [] };
  for (;;) {
    // EKS answers InProgress and finishes within minutes; an update that is already done needs no polling.
    if (u.status !== "Successful") u = await eks.describeUpdate(name, updateId);
    if (u.status === "Successful") {
      emit({ type: "auth-mode-update", cluster: name, updateId, status: "successful" });
      return;
    }
    if (u.status === "Failed" || u.status === "Cancelled") {
      throw new OperationError(
        `switching cluster ${name} to ${TARGET_AUTH_MODE} ended ${u.status} (update ${updateId})${u.errors.length ? `: ${u.errors.join("; ")}` : ""}; no stack was deployed`,
        `aws eks describe-update --name ${name} --update-id ${updateId}`,
      );
    }
    if (Date.now() > deadline) {
      throw new OperationError(
        `switching cluster ${name} to ${TARGET_AUTH_MODE} did not finish in ${Math.round(timeoutMs / 60_000)} min (update ${updateId}, status ${u.status}); no stack was deployed`,
        "run xeks deploy again once the update is Successful",
      );
    }
    emit({ type: "auth-mode-update", cluster: name, updateId, status: "in-progress" });
    await sleep(pollMs);
    u = { status: "", errors: [] };
  }
}
