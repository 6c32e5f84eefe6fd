/**
 * The client instance's boot script: AWS CLI profiles for the access roles, a kubeconfig whose users run
 * `aws eks get-token ... --role-arn ACCESS_ROLE_ARN` (its entries and its text are the kubeconfig module's:
 * src/kubeconfig), and kubectl. Plain text, built from literals of the
 * topology; nothing in it is secret (the kubeconfig holds a command, never a token or a key).
 */
import { shellQuote } from "../domain/shell.js";
import { buildEntries, defaultContextName, type KubeconfigEntries } from "../kubeconfig/entries.js";
import { mergeKubeconfig, standaloneKubeconfig } from "../kubeconfig/merge.js";
import type { KubeconfigContext } from "../layout/layout.js";

/**
 * kubectl installed on the client instance. kubectl supports API servers one minor version older or newer, so
 * this covers clusters on 1.32 to 1.34; set `kubectlVersion` for others.
 */
export const DEFAULT_KUBECTL_VERSION = "v1.33.4";

/** A kubectl release as dl.k8s.io names it: `vMAJOR.MINOR.PATCH`. */
export const KUBECTL_VERSION = /^v\d+\.\d+\.\d+$/;

/** Props of {@link clientUserData}. */
export interface ClientUserDataProps {
  readonly clusterName: string;
  /** Region of the cluster (for `--region` and the regional STS endpoint). */
  readonly region: string;
  /**
   * The cluster endpoint (`https://…eks.amazonaws.com`).
   * @default - read at boot with `aws eks describe-cluster` through the first access role
   */
  readonly endpoint?: string;
  /**
   * The cluster CA, base64 PEM as DescribeCluster returns it.
   * @default - read at boot with `aws eks describe-cluster` through the first access role
   */
  readonly certificateAuthority?: string;
  /** One kubeconfig context per access role the client may assume; the first is the current context. */
  readonly contexts: readonly KubeconfigContext[];
  /**
   * Architecture of the instance, for the kubectl download.
   * @default "x86_64"
   */
  readonly architecture?: "x86_64" | "arm64";
  /**
   * kubectl release to install (from dl.k8s.io, checked against its published SHA-256).
   * @default DEFAULT_KUBECTL_VERSION
   */
  readonly kubectlVersion?: string;
}

/** Where the script writes; the kubeconfig is also copied to ~root, ~ec2-user and /etc/skel (for ssm-user). */
export const CLIENT_PATHS = {
  awsConfig: "/etc/xeks/aws-config",
  kubeconfig: "/etc/xeks/kubeconfig",
  log: "/var/log/xeks-user-data.log",
} as const;

/** The AWS CLI profile name on the instance for an access role. */
export function profileName(roleName: string): string {
  return `xeks-${roleName}`;
}

/** Text inside an unquoted heredoc: `$`, backquote and backslash must not be interpreted. */
function heredocSafe(text: string): string {
  return text.replace(/[\\$`]/g, (ch) => `\\${ch}`);
}

/**
 * The kubeconfig entries of the client instance, one (cluster, user, context) per access role, built by the
 * kubeconfig module (src/kubeconfig/entries.ts, `exec: "aws"`): the user runs `aws --region R eks get-token
 * --cluster-name N --output json --role-arn ACCESS_ROLE_ARN` (the AWS CLI assumes the role with the instance
 * credentials). With an external id, which `get-token` cannot pass, the user runs the same command without
 * `--role-arn` under `AWS_PROFILE=xeks-ROLE` and `AWS_CONFIG_FILE=/etc/xeks/aws-config`: a profile holding
 * `role_arn`, `external_id` and `credential_source = Ec2InstanceMetadata` (awsConfigText). Every user also sets
 * `AWS_STS_REGIONAL_ENDPOINTS=regional`. Names: the cluster entry is the cluster name, users and contexts
 * `ROLE@CLUSTER`. Errors: InputError when `server` is not an https:// URL.
 */
export function kubeconfigEntries(
  props: Pick<ClientUserDataProps, "clusterName" | "region" | "contexts">,
  server: string,
  certificateAuthority: string,
): KubeconfigEntries[] {
  return props.contexts.map((ctx) => {
    const name = defaultContextName(props.clusterName, ctx.roleArn);
    return buildEntries({
      clusterName: props.clusterName,
      region: props.region,
      server,
      certificateAuthorityData: certificateAuthority,
      exec: "aws",
      ...(ctx.externalId ? { profile: profileName(ctx.roleName) } : { roleArn: ctx.roleArn }),
      env: [
        { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
        ...(ctx.externalId ? [{ name: "AWS_CONFIG_FILE", value: CLIENT_PATHS.awsConfig }] : []),
      ],
      clusterEntryName: props.clusterName,
      userName: name,
      contextName: name,
    });
  });
}

/**
 * The kubeconfig YAML of the client instance (kubectl's layout), written by the kubeconfig module's writer
 * (src/kubeconfig/merge.ts): the entries of `kubeconfigEntries`, the first context current. Errors: Error when
 * there is no context; InputError as `kubeconfigEntries`.
 */
export function kubeconfigYaml(
  props: Pick<ClientUserDataProps, "clusterName" | "region" | "contexts">,
  server: string,
  certificateAuthority: string,
): string {
  const [first, ...rest] = kubeconfigEntries(props, server, certificateAuthority);
  if (!first) throw new Error("a kubeconfig needs at least one access role");
  let text = standaloneKubeconfig(first);
  for (const entries of rest) text = mergeKubeconfig(text, entries, { setCurrentContext: false }).text;
  return text;
}

/** Placeholders for the endpoint and CA in the kubeconfig text: the boot script puts `$ENDPOINT` and `$CA` there. */
const ENDPOINT_PLACEHOLDER = "https://xeks-endpoint.invalid";
const CA_PLACEHOLDER = "XEKS_CERTIFICATE_AUTHORITY";

/** The AWS CLI config with one profile per access role (used by DescribeCluster at boot and by external-id users). */
export function awsConfigText(props: Pick<ClientUserDataProps, "region" | "contexts">): string {
  return props.contexts
    .map((ctx) =>
      [
        `[profile ${profileName(ctx.roleName)}]`,
        `role_arn = ${ctx.roleArn}`,
        "credential_source = Ec2InstanceMetadata",
        `region = ${props.region}`,
        "sts_regional_endpoints = regional",
        ...(ctx.externalId ? [`external_id = ${ctx.externalId}`] : []),
        "",
      ].join("\n"),
    )
    .join("\n");
}

/** The boot script of the client instance (bash, run once by cloud-init). */
export function clientUserData(props: ClientUserDataProps): string {
  const first = props.contexts[0];
  const arch = (props.architecture ?? "x86_64") === "arm64" ? "arm64" : "amd64";
  const version = props.kubectlVersion ?? DEFAULT_KUBECTL_VERSION;
  if (!KUBECTL_VERSION.test(version))
    throw new Error(`kubectlVersion ${version}: expected vMAJOR.MINOR.PATCH`);
  const out: string[] = [
    "#!/bin/bash",
    `# xeks client instance for EKS cluster ${props.clusterName} (${props.region}): kubectl and a kubeconfig`,
    `# whose users assume the access role at each call. Nothing here is secret. Log: ${CLIENT_PATHS.log}`,
    `exec >>${CLIENT_PATHS.log} 2>&1`,
    "set -u",
    "umask 022",
    "mkdir -p /etc/xeks",
  ];
  if (first) {
    out.push(
      `cat >${CLIENT_PATHS.awsConfig} <<'XEKS_EOF'`,
      awsConfigText(props).trimEnd(),
      "XEKS_EOF",
      `ENDPOINT=${shellQuote(props.endpoint ?? "")}`,
      `CA=${shellQuote(props.certificateAuthority ?? "")}`,
      'if [ -z "$ENDPOINT" ] || [ -z "$CA" ]; then',
      "  # Not in the topology: ask EKS through the access role (it may eks:DescribeCluster on this cluster).",
      "  for attempt in $(seq 1 20); do",
      `    if out=$(AWS_CONFIG_FILE=${CLIENT_PATHS.awsConfig} aws eks describe-cluster --profile ${shellQuote(profileName(first.roleName))} --region ${shellQuote(props.region)} --name ${shellQuote(props.clusterName)} --query '[cluster.endpoint,cluster.certificateAuthority.data]' --output text); then`,
      '      ENDPOINT=$(printf %s "$out" | cut -f1); CA=$(printf %s "$out" | cut -f2); break',
      "    fi",
      '    echo "xeks: describe-cluster failed (attempt $attempt of 20), retrying in 15 s"; sleep 15',
      "  done",
      "fi",
      'if [ -n "$ENDPOINT" ] && [ -n "$CA" ]; then',
      `  cat >${CLIENT_PATHS.kubeconfig} <<XEKS_EOF`,
      heredocSafe(kubeconfigYaml(props, ENDPOINT_PLACEHOLDER, CA_PLACEHOLDER))
        .replace(`server: ${ENDPOINT_PLACEHOLDER}\n`, () => "server: $ENDPOINT\n")
        .replace(`certificate-authority-data: ${CA_PLACEHOLDER}\n`, () => "certificate-authority-data: $CA\n")
        .trimEnd(),
      "XEKS_EOF",
      `  chmod 0644 ${CLIENT_PATHS.kubeconfig}`,
      "  for home in /root /home/ec2-user /etc/skel; do",
      `    [ -d "$home" ] && mkdir -p "$home/.kube" && cp ${CLIENT_PATHS.kubeconfig} "$home/.kube/config"`,
      "  done",
      "  id ec2-user >/dev/null 2>&1 && chown -R ec2-user: /home/ec2-user/.kube",
      `  echo 'export KUBECONFIG=${CLIENT_PATHS.kubeconfig}' >/etc/profile.d/xeks.sh`,
      "else",
      '  echo "xeks: cluster endpoint and CA unknown: kubeconfig not written"',
      "fi",
    );
  } else {
    out.push('echo "xeks: this client is named by no access role: no kubeconfig"');
  }
  out.push(
    "# kubectl, checked against its published SHA-256",
    `url=https://dl.k8s.io/release/${version}/bin/linux/${arch}/kubectl`,
    'if curl -fsSL --retry 5 -o /tmp/kubectl "$url" && echo "$(curl -fsSL --retry 5 "$url.sha256")  /tmp/kubectl" | sha256sum --check --status; then',
    '  install -m 0755 /tmp/kubectl /usr/local/bin/kubectl && echo "xeks: kubectl installed"',
    "else",
    '  echo "xeks: kubectl download failed (no HTTPS egress to dl.k8s.io?)"',
    "fi",
    "rm -f /tmp/kubectl",
  );
  return `${out.join("\n")}\n`;
}
