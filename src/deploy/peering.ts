/**
 * Before the cluster-side routes: the peering connection requested by the client account must be active. It is
 * described with EC2 in the accepter (cluster) account, which is where the routes will point at it.
 */
import { OperationError } from "../errors.js";
import { defaultSleep, type WaitOptions } from "./auth-mode.js";
import type { Ec2Api } from "./aws.js";
import type { EventSink } from "./types.js";

const WAITING = new Set(["initiating-request", "pending-acceptance", "provisioning"]);

export async function waitForPeering(
  peeringId: string,
  ec2: Ec2Api,
  where: { stack: string; account: string; region: string },
  emit: EventSink,
  wait: WaitOptions = {},
): Promise<void> {
  const pollMs = wait.pollMs ?? 5_000;
  const timeoutMs = wait.timeoutMs ?? 10 * 60_000;
  const sleep = wait.sleep ?? defaultSleep;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const p = await ec2.describePeering(peeringId);
    const status = p?.status ?? "not-visible";
    if (status !== last) {
      emit({
        type: "peering",
        stack: where.stack,
        peeringId,
        status,
        ...(p?.message ? { message: p.message } : {}),
      });
      last = status;
    }
    if (status === "active") return;
    if (p && !WAITING.has(status)) {
      throw new OperationError(
        `peering connection ${peeringId} is ${status}${p.message ? ` (${p.message})` : ""}: the routes of ${where.stack} cannot use it`,
        "look at the peering connection in both accounts; xeks destroy then xeks deploy requests a new one",
      );
    }
    if (Date.now() > deadline) {
      throw new OperationError(
        p
          ? `peering connection ${peeringId} is still ${status} after ${Math.round(timeoutMs / 1000)} s; ${where.stack} was not deployed`
          : `peering connection ${peeringId} is not visible in account ${where.account} (${where.region}) after ${Math.round(timeoutMs / 1000)} s; ${where.stack} was not deployed`,
        "run xeks deploy again once it is active (aws ec2 describe-vpc-peering-connections in the cluster account)",
      );
    }
    await sleep(pollMs);
  }
}
