/**
 * Amazon Resource Names: the one parser, the builders, the partition table and the canonical role ARN EKS
 * stores for a principal. Part of the domain layer: imports nothing (the token bundle loads it on its warm path).
 *
 * Format (AWS General Reference, "Amazon Resource Names"): `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`,
 * where REGION and ACCOUNT may be empty (IAM and STS have no region; AWS-managed EKS access policies have the
 * account `aws`) and RESOURCE may itself contain `:` and `/`.
 */

/**
 * DNS domains of each partition: the standard one first, then the dual-stack one (AWS General Reference,
 * "Service endpoints"; the partition metadata of the AWS SDKs). The keys are the partitions xeks knows.
 */
export const PARTITION_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  aws: ["amazonaws.com", "api.aws"],
  "aws-cn": ["amazonaws.com.cn", "api.amazonwebservices.com.cn"],
  "aws-us-gov": ["amazonaws.com", "api.aws"],
  "aws-iso": ["c2s.ic.gov"],
  "aws-iso-b": ["sc2s.sgov.gov"],
  "aws-iso-e": ["cloud.adc-e.uk"],
  "aws-iso-f": ["csp.hci.ic.gov"],
  "aws-eusc": ["amazonaws.eu", "api.amazonwebservices.eu"],
};

/** The partitions xeks knows, `aws` first. */
export const PARTITIONS: readonly string[] = Object.keys(PARTITION_DOMAINS);

/** A regular-expression alternative matching exactly one known partition: `aws|aws-cn|…`, longest first. */
export const PARTITION_PATTERN = [...PARTITIONS].sort((a, b) => b.length - a.length).join("|");

/** The partition of a region (`cn-north-1` -> `aws-cn`); `aws` for any region it does not recognize. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  if (region.startsWith("eusc-")) return "aws-eusc";
  return "aws";
}

/** The six fields of an ARN. `region` and `account` are "" when the ARN leaves them empty. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth `:`, such as `role/path/Name` or `cluster-access-policy/NAME`. */
  resource: string;
}

/**
 * The one ARN parser: split `arn:P:S:R:A:RESOURCE` into its fields. Returns undefined when the text is not an
 * ARN: fewer than six fields, an empty partition, service or resource, or spaces anywhere. It does not judge
 * whether the partition is known or the account has twelve digits; the helpers below do, where it matters.
 */
export function parseArn(text: string): Arn | undefined {
  if (!text.startsWith("arn:") || /\s/.test(text)) return undefined;
  const parts = text.split(":");
  if (parts.length < 6) return undefined;
  const [, partition = "", service = "", region = "", account = ""] = parts;
  const resource = parts.slice(5).join(":");
  if (!partition || !service || !resource) return undefined;
  return { partition, service, region, account, resource };
}

/** The text of an ARN: the inverse of parseArn. */
export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;
}

/**
 * An IAM role ARN: `arn:P:iam::ACCOUNT:role{path}NAME`. `path` is IAM's role path (default `/`, else
 * `/a/b/`), which the ARN carries and EKS ignores (see canonicalRoleArn).
 */
export function roleArn(partition: string, account: string, name: string, path = "/"): string {
  return formatArn({ partition, service: "iam", region: "", account, resource: `role${path}${name}` });
}

/** The ARN of a role session, as STS names the caller: `arn:P:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
export function assumedRoleArn(partition: string, account: string, role: string, session: string): string {
  return formatArn({
    partition,
    service: "sts",
    region: "",
    account,
    resource: `assumed-role/${role}/${session}`,
  });
}

/** The account principal `arn:P:iam::ACCOUNT:root` (any principal of the account its policies allow). */
export function accountRootArn(partition: string, account: string): string {
  return formatArn({ partition, service: "iam", region: "", account, resource: "root" });
}

/** An EKS cluster ARN: `arn:P:eks:REGION:ACCOUNT:cluster/NAME`. */
export function eksClusterArn(partition: string, region: string, account: string, name: string): string {
  return formatArn({ partition, service: "eks", region, account, resource: `cluster/${name}` });
}

/** A VPC ARN: `arn:P:ec2:REGION:ACCOUNT:vpc/VPC_ID`. */
export function vpcArn(partition: string, region: string, account: string, vpcId: string): string {
  return formatArn({ partition, service: "ec2", region, account, resource: `vpc/${vpcId}` });
}

/** The resource prefix of an EKS access policy ARN. */
export const ACCESS_POLICY_ARN_PREFIX = "cluster-access-policy/";

/**
 * The ARN of an AWS-managed EKS access policy: `arn:P:eks::aws:cluster-access-policy/NAME` (EKS User Guide,
 * "Access policy permissions"; the account field is the literal `aws`). `partition` defaults to `aws`.
 */
export function accessPolicyArn(name: string, partition = "aws"): string {
  return formatArn({
    partition,
    service: "eks",
    region: "",
    account: "aws",
    resource: `${ACCESS_POLICY_ARN_PREFIX}${name}`,
  });
}

/**
 * The short name of an access policy ARN (`AmazonEKSViewPolicy`), or undefined when the text is not such an
 * ARN in a known partition.
 */
export function accessPolicyName(arn: string): string | undefined {
  const a = parseArn(arn);
  if (
    !a ||
    !PARTITIONS.includes(a.partition) ||
    a.service !== "eks" ||
    a.region !== "" ||
    a.account !== "aws"
  )
    return undefined;
  const m = /^cluster-access-policy\/([A-Za-z0-9]+)$/.exec(a.resource);
  return m?.[1];
}

/** The parts of a caller ARN, as `sts get-caller-identity` answers it. */
export type Principal =
  | { kind: "assumed-role"; partition: string; account: string; role: string; session: string }
  | { kind: "user"; partition: string; account: string; name: string }
  | { kind: "root"; partition: string; account: string }
  | { kind: "other"; partition: string; account: string; resource: string };

/**
 * The principal an IAM or STS ARN with a twelve-digit account names; undefined for any other text. Real STS
 * answers `arn:aws:iam::A:user/N` for a user; some emulators write `sts` there, so both are read as a user.
 */
export function parsePrincipal(arn: string): Principal | undefined {
  const a = parseArn(arn);
  if (!a || (a.service !== "sts" && a.service !== "iam") || a.region !== "" || !/^\d{12}$/.test(a.account))
    return undefined;
  const { partition, service, account, resource } = a;
  if (service === "sts" && resource.startsWith("assumed-role/")) {
    const parts = resource.slice("assumed-role/".length).split("/");
    if (parts.length >= 2) {
      return {
        kind: "assumed-role",
        partition,
        account,
        role: parts[0] ?? "",
        session: parts.slice(1).join("/"),
      };
    }
  }
  if (resource.startsWith("user/")) {
    return { kind: "user", partition, account, name: resource.split("/").pop() ?? "" };
  }
  if (service === "iam" && resource === "root") return { kind: "root", partition, account };
  return { kind: "other", partition, account, resource };
}

/**
 * The role an ARN names: `arn:P:iam::A:role/path/Name` -> `{ name: "Name", path: "/path/" }`, and for a
 * session `arn:P:sts::A:assumed-role/Name/S` -> `{ name: "Name", session: "S" }` (a session ARN has no path).
 * Undefined for anything else, including an account that is not twelve digits.
 */
export function roleOfArn(
  arn: string,
): { partition: string; account: string; name: string; path?: string; session?: string } | undefined {
  const a = parseArn(arn);
  if (a?.region !== "" || !/^\d{12}$/.test(a.account)) return undefined;
  if (a.service === "iam" && a.resource.startsWith("role/")) {
    const parts = a.resource.slice("role".length).split("/");
    const name = parts.pop() ?? "";
    if (!name) return undefined;
    return { partition: a.partition, account: a.account, name, path: `${parts.join("/")}/` };
  }
  const p = parsePrincipal(arn);
  if (p?.kind === "assumed-role")
    return { partition: p.partition, account: p.account, name: p.role, session: p.session };
  return undefined;
}

/**
 * The principal ARN as EKS compares it for access entries: `arn:aws:iam::A:role/path/Name` ->
 * `arn:aws:iam::a:role/name` (path stripped, lower case); a session `arn:aws:sts::A:assumed-role/Name/S` maps
 * to its role's canonical ARN. Anything else is only lower-cased. (EKS User Guide, "Create access entries":
 * an IAM role's path is not part of the principal EKS matches, and IAM names are case-insensitive.)
 */
export function canonicalRoleArn(arn: string): string {
  const r = roleOfArn(arn);
  if (!r) return arn.toLowerCase();
  return roleArn(r.partition, r.account, r.name).toLowerCase();
}
