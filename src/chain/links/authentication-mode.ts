import { factKey, unread } from "../../model/types.js";
import { fail, type Link, pass, unknown } from "../link.js";

/** eks.authentication-mode: API or API_AND_CONFIG_MAP, so access entries count. */
export const authenticationMode: Link<"cluster"> = {
  id: "eks.authentication-mode",
  title: "cluster authentication mode admits access entries",
  subject: "cluster",
  evaluate({ topology, model }) {
    const c = topology.cluster;
    const mode = model.cluster.authenticationMode;
    if (!mode) {
      const missing = unread(model, factKey.authenticationMode());
      return unknown(
        missing
          ? `authentication mode could not be read: ${missing.reason}`
          : "authentication mode is not declared",
        missing
          ? (missing.hint ?? "allow eks:DescribeCluster to the credentials used for the cluster account")
          : "declare cluster.authenticationMode in the topology (xeks discover fills it in)",
      );
    }
    const evidence = [
      {
        fact: `cluster ${c.name} accessConfig.authenticationMode`,
        source: model.cluster.source === "live" ? ("live" as const) : ("declared" as const),
        detail: mode,
      },
    ];
    if (mode === "CONFIG_MAP") {
      return fail(
        "authentication mode CONFIG_MAP ignores access entries",
        `aws eks update-cluster-config --name ${c.name} --region ${c.region} --access-config authenticationMode=API_AND_CONFIG_MAP`,
        evidence,
      );
    }
    return pass(`authentication mode ${mode} admits access entries`, evidence);
  },
};
