/**
 * An EKS cluster at moto in the account of a role: created with credentials from AssumeRole of that role (moto
 * answers AssumeRole with keys that act in the role's account), so that only callers of that account see it.
 */
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";

/** Create cluster `name` at the moto endpoint `url`, in the account of `roleArn` (region ap-south-1). */
export async function createClusterAsRole(url: string, roleArn: string, name: string): Promise<void> {
  const sts = new STSClient({
    region: "ap-south-1",
    endpoint: url,
    credentials: { accessKeyId: "AKIASETUPEXAMPLE0001", secretAccessKey: "x".repeat(40) },
  });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "setup" })))
    .Credentials;
  sts.destroy();
  const eks = new EKSClient({
    region: "ap-south-1",
    endpoint: url,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken ?? "",
    },
  });
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: "arn:aws:iam::111111111111:role/eks-cluster",
      resourcesVpcConfig: { subnetIds: ["subnet-0aaa1111bbbb2222c"] },
    }),
  );
  eks.destroy();
}
