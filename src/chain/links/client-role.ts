import { trustPolicy } from "../../domain/trust.js";
import { factKey, unread } from "../../model/types.js";
import { serviceMayAssume } from "../iam.js";
import { factSource, fail, type Link, pass, unknown } from "../link.js";

/** iam.client-role: the client role exists, trusts ec2.amazonaws.com and is in an instance profile. */
export const clientRole: Link<"client"> = {
  id: "iam.client-role",
  title: "client EC2 role and instance profile",
  subject: "client",
  async evaluate({ model }, { client }) {
    const arn = client.role.arn;
    const inAccount = `in account ${client.account}`;
    const missing = unread(model, factKey.role(arn));
    if (missing)
      return unknown(
        `role ${arn} could not be read: ${missing.reason}`,
        missing.hint ??
          `allow ${missing.permission ?? "iam:GetRole"} to the credentials used for account ${client.account}`,
      );
    const role = model.roles[arn];
    if (!role) {
      return fail(
        `role ${arn} does not exist`,
        client.role.existing
          ? `${inAccount}: create the role ${client.role.name} (trusted by ec2.amazonaws.com) with an instance profile, or set clients[].role.existing: false so xeks creates it`
          : "xeks deploy creates it",
      );
    }
    const source = role.source === "declared" ? ("declared" as const) : factSource(model);
    const evidence = [
      { fact: `trust policy of ${arn}`, source, detail: JSON.stringify(role.trustPolicy.Statement) },
    ];
    const trust = await serviceMayAssume(role.trustPolicy, "ec2.amazonaws.com", arn);
    if (trust.result !== "Allowed") {
      return fail(
        `role ${client.role.name} does not trust ec2.amazonaws.com, so no instance can use it`,
        `${inAccount}: aws iam update-assume-role-policy --role-name ${client.role.name} --policy-document '${JSON.stringify(trustPolicy({ service: "ec2.amazonaws.com" }))}'`,
        evidence,
      );
    }
    if (role.instanceProfiles.length === 0) {
      return fail(
        `role ${client.role.name} is in no instance profile, so no instance can carry it`,
        `${inAccount}: aws iam create-instance-profile --instance-profile-name ${client.role.instanceProfile} && aws iam add-role-to-instance-profile --instance-profile-name ${client.role.instanceProfile} --role-name ${client.role.name}`,
        evidence,
      );
    }
    evidence.push({ fact: "instance profiles", source, detail: role.instanceProfiles.join(", ") });
    if (model.source === "live" && client.instance) {
      const notRead = unread(model, factKey.instances(client.account));
      if (notRead) {
        return unknown(
          `the client instance in ${client.instance.subnetId} could not be read: ${notRead.reason}`,
          `allow ${notRead.permission ?? "ec2:DescribeInstances"} to the credentials used for account ${client.account}`,
          evidence,
        );
      }
      const instance = model.instances.find(
        (i) => i.account === client.account && i.subnetId === client.instance?.subnetId,
      );
      const profile = instance?.instanceProfile ?? "";
      if (instance && !role.instanceProfiles.some((p) => profile === p || profile.endsWith(`/${p}`))) {
        return fail(
          `instance ${instance.id} does not carry the instance profile of ${client.role.name}`,
          instance.instanceProfile
            ? `${inAccount}: aws ec2 replace-iam-instance-profile-association --iam-instance-profile Name=${role.instanceProfiles[0]} --region ${client.region} --association-id $(aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values=${instance.id} --region ${client.region} --query 'IamInstanceProfileAssociations[0].AssociationId' --output text)`
            : `${inAccount}: aws ec2 associate-iam-instance-profile --instance-id ${instance.id} --iam-instance-profile Name=${role.instanceProfiles[0]} --region ${client.region}`,
          evidence,
        );
      }
    }
    return pass(
      `role ${client.role.name} trusts ec2.amazonaws.com, instance profile ${role.instanceProfiles.join(", ")}`,
      evidence,
    );
  },
};
