import { assumedRoleArn } from "../../domain/arn.js";
import { factKey, unread } from "../../model/types.js";
import { decide, describeDenial } from "../iam.js";
import { factSource, type Link, pass, unknown, warn } from "../link.js";

/** iam.describe-cluster: the access role may eks:DescribeCluster (warn only: kubeconfig needs it, tokens do not). */
export const describeCluster: Link<"access"> = {
  id: "iam.describe-cluster",
  title: "access role may describe the cluster",
  subject: "access",
  async evaluate({ model }, { access }) {
    const c = model.cluster;
    const missing = unread(model, factKey.role(access.arn));
    if (missing)
      return unknown(
        `role ${access.arn} could not be read: ${missing.reason}`,
        missing.hint ?? `allow ${missing.permission ?? "iam:GetRole"} in account ${c.account}`,
      );
    const role = model.roles[access.arn];
    if (!role) return warn(`access role ${access.arn} does not exist`, "xeks deploy creates it");
    const d = await decide({
      principal: assumedRoleArn(c.partition, c.account, access.role, "xeks"),
      principalArn: access.arn,
      principalAccount: c.account,
      action: "eks:DescribeCluster",
      resource: c.arn,
      resourceAccount: c.account,
      identityPolicies: role.policies,
      permissionsBoundary: role.permissionsBoundary,
      scps: model.scps[c.account],
    });
    const evidence = [
      ...role.policies.map((p) => ({
        fact: `policy ${p.name} of ${access.role}`,
        source: p.source === "declared" ? ("declared" as const) : factSource(model),
      })),
      { fact: "decision (iam-simulate)", source: factSource(model), detail: d.result },
    ];
    if (d.result === "Allowed") return pass(`${access.role} may describe ${c.name}`, evidence);
    if (d.result === "Invalid") {
      return unknown(
        `the policies could not be evaluated: ${d.errors}`,
        "fix the policy documents named in the evidence",
        evidence,
      );
    }
    return warn(
      `${access.role} may not eks:DescribeCluster on ${c.name} (${d.denials.map(describeDenial).join("; ") || d.result}): kubeconfig generation from the client fails; tokens still work`,
      `in account ${c.account}: aws iam put-role-policy --role-name ${access.role} --policy-name xeks-describe-cluster --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"${c.arn}"}]}'`,
      evidence,
    );
  },
};
