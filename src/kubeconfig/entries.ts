/**
 * The three kubeconfig entries xeks writes for one (cluster, access role): a cluster (endpoint and CA), a
 * user whose exec plugin makes the token (`xeks token` or `aws eks get-token`), and a context joining them.
 * Never static credentials: the user entry only names a command.
 */
import { InputError } from "../errors.js";

export const EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1";

export type ExecFlavour = "xeks" | "aws";

export interface KubeconfigSpec {
  /** The EKS cluster name (or, with `clusterId`, an Outposts local cluster's name). */
  clusterName: string;
  /** For Outposts local clusters: the id the token is made for (`--cluster-id`). */
  clusterId?: string;
  region: string;
  /** https:// endpoint of the API server. */
  server: string;
  /** certificateAuthority.data as DescribeCluster returns it (base64 of the PEM). */
  certificateAuthorityData: string;
  /** The access role to assume for the token; absent: the ambient credentials sign it. */
  roleArn?: string;
  externalId?: string;
  sessionName?: string;
  /** Pin this AWS profile in the exec environment (`AWS_PROFILE`, the first variable). */
  profile?: string;
  /**
   * More variables of the exec environment, after `AWS_PROFILE` (the client instance's kubeconfig sets
   * `AWS_STS_REGIONAL_ENDPOINTS` and `AWS_CONFIG_FILE`: src/infra/user-data.ts). Never credentials.
   */
  env?: readonly { name: string; value: string }[];
  exec: ExecFlavour;
  /** The command to run (default `xeks` or `aws`, found on PATH by kubectl). */
  command?: string;
  /** Names of the entries. */
  clusterEntryName: string;
  userName: string;
  contextName: string;
  /** Default namespace of the context. */
  namespace?: string;
}

export interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[] | null;
  interactiveMode: "Never";
  provideClusterInfo: false;
}

export interface KubeconfigEntries {
  cluster: { name: string; cluster: { server: string; "certificate-authority-data": string } };
  user: { name: string; user: { exec: ExecConfig } };
  context: { name: string; context: { cluster: string; user: string; namespace?: string } };
}

/**
 * `--exec aws` cannot pass an external id or a session name (aws eks get-token has neither): the error to
 * raise, or undefined when there is none.
 */
export function awsExecProblem(spec: {
  exec?: ExecFlavour;
  externalId?: string | undefined;
  sessionName?: string | undefined;
}): InputError | undefined {
  if (spec.exec !== "aws") return undefined;
  const unsupported = [
    spec.externalId !== undefined ? "--external-id" : undefined,
    spec.sessionName !== undefined ? "--session-name" : undefined,
  ].filter((x): x is string => x !== undefined);
  if (unsupported.length === 0) return undefined;
  return new InputError(`aws eks get-token has no ${unsupported.join(" or ")}`, [
    {
      path: "--exec",
      message:
        "use --exec xeks (the default) for an access role with an external id or a chosen session name",
    },
  ]);
}

/**
 * The exec block of the user entry: `xeks token …`, or with `exec: "aws"` `aws --region R eks get-token
 * --cluster-name N --output json [--role-arn ARN]` (the arguments `aws eks update-kubeconfig` writes). `env` is
 * null when no variable is set. Errors: InputError for `exec: "aws"` with an external id or a session name.
 */
export function execConfig(spec: KubeconfigSpec): ExecConfig {
  let args: string[];
  if (spec.exec === "aws") {
    const problem = awsExecProblem(spec);
    if (problem) throw problem;
    args = [
      "--region",
      spec.region,
      "eks",
      "get-token",
      ...(spec.clusterId ? ["--cluster-id", spec.clusterId] : ["--cluster-name", spec.clusterName]),
      "--output",
      "json",
      ...(spec.roleArn ? ["--role-arn", spec.roleArn] : []),
    ];
  } else {
    args = [
      "token",
      ...(spec.clusterId ? ["--cluster-id", spec.clusterId] : ["--cluster-name", spec.clusterName]),
      "--region",
      spec.region,
      ...(spec.roleArn ? ["--role-arn", spec.roleArn] : []),
      ...(spec.externalId ? ["--external-id", spec.externalId] : []),
      ...(spec.sessionName ? ["--session-name", spec.sessionName] : []),
    ];
  }
  const env = [...(spec.profile ? [{ name: "AWS_PROFILE", value: spec.profile }] : []), ...(spec.env ?? [])];
  return {
    apiVersion: EXEC_API_VERSION,
    command: spec.command ?? spec.exec,
    args,
    env: env.length > 0 ? env : null,
    interactiveMode: "Never",
    provideClusterInfo: false,
  };
}

/**
 * The cluster, user and context entries for one (cluster, access role). Pure: the kubeconfig command merges them
 * into a file (./merge.ts), the client instance's boot script writes them as a file of its own
 * (src/infra/user-data.ts). Errors: InputError when `server` is not an https:// URL, and as `execConfig`.
 */
export function buildEntries(spec: KubeconfigSpec): KubeconfigEntries {
  if (!/^https:\/\//.test(spec.server)) {
    throw new InputError(`the cluster endpoint ${spec.server} is not an https:// URL`);
  }
  return {
    cluster: {
      name: spec.clusterEntryName,
      cluster: { server: spec.server, "certificate-authority-data": spec.certificateAuthorityData },
    },
    user: { name: spec.userName, user: { exec: execConfig(spec) } },
    context: {
      name: spec.contextName,
      context: {
        cluster: spec.clusterEntryName,
        user: spec.userName,
        ...(spec.namespace ? { namespace: spec.namespace } : {}),
      },
    },
  };
}

/** The default context (and user) name: `<role name>@<cluster name>`, or the cluster name without a role. */
export function defaultContextName(clusterName: string, roleArn?: string): string {
  if (!roleArn) return clusterName;
  const roleName = roleArn.split("/").pop() ?? roleArn;
  return `${roleName}@${clusterName}`;
}
