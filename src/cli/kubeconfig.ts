import type { Command } from "commander";
import { InputError } from "../errors.js";
import { deprecatedAlias } from "./vocabulary.js";

interface KubeconfigOptions {
  client?: string;
  clusterName?: string;
  roleArn?: string;
  externalId?: string;
  region?: string;
  sessionName?: string;
  exec: string;
  execCommand?: string;
  alias?: string;
  namespace?: string;
  /** A name, or false for --no-profile. */
  profile?: string | false;
  kubeconfig?: string;
  dryRun?: boolean;
  output: string;
}

export function registerKubeconfig(program: Command): void {
  const kubeconfig = program
    .command("kubeconfig")
    .description(
      "Write or merge a kubeconfig context whose user runs `xeks token` (or `aws eks get-token` with --exec aws) " +
        "to assume the access role. The endpoint and CA come from the topology, or from eks:DescribeCluster called " +
        "with the access role's credentials. Never writes static credentials.",
    )
    .argument("[file]", "topology file (with --client)")
    .option("--client <name>", "the client (topology) whose kubeconfig this is")
    .option(
      "--role-arn <arn>",
      "the access role to assume: without a topology its ARN; with one, its ARN or name (when the client may assume several)",
    )
    .option("--cluster-name <name>", "without a topology: the EKS cluster name")
    .option("--external-id <id>", "without a topology: the external id the access role asks for")
    .option("--region <region>", "without a topology: the cluster's region (default: AWS_REGION, profile)")
    .option("--session-name <name>", "role session name for the token (default: xeks-<user>@<host>)")
    .option("--exec <plugin>", "the exec plugin: xeks or aws", "xeks")
    .option(
      "--exec-command <path>",
      "the command kubectl runs (default: xeks or aws on PATH; from a checkout without xeks on PATH, the absolute path of its bin/xeks)",
    )
    .option("--alias <name>", "context and user name (default: <role name>@<cluster name>)")
    .option("-n, --namespace <ns>", "default namespace of the context")
    .option(
      "--profile <name>",
      "the AWS profile for xeks's own AssumeRole and DescribeCluster, pinned as AWS_PROFILE in the exec environment (default: AWS_PROFILE when set); it must exist",
    )
    .option(
      "--no-profile",
      "pin no AWS profile, even with AWS_PROFILE set: the token starts from the credentials where kubectl runs (a pipeline's environment, a pod's container credentials, an instance profile)",
    )
    .option(
      "--kubeconfig <path>",
      "the file to merge into (default: first of $KUBECONFIG, else ~/.kube/config)",
    )
    .option(
      "--dry-run",
      "print the entries as a kubeconfig on stdout; write nothing (DescribeCluster is still read when the topology has no endpoint and CA)",
    )
    .option("-o, --output <format>", "text or json", "text")
    .addHelpText(
      "after",
      "\nAssumeRole and DescribeCluster give up after XEKS_AWS_TIMEOUT_MS milliseconds without an answer " +
        "(default 10000), with one retry. Flags and the kubeconfig file are checked before any AWS call.\n" +
        "The file is changed under kubectl's lock FILE.lock; xeks waits for a held lock up to " +
        "XEKS_KUBECONFIG_LOCK_WAIT_MS milliseconds (default 5000), then exits 1.\n" +
        "\nExamples:\n" +
        "  xeks kubeconfig xeks.yaml --client ops\n" +
        "  xeks kubeconfig xeks.yaml --client platform-engineers --profile platform   # an IAM Identity Center profile\n" +
        "  xeks kubeconfig xeks.yaml --client deploy --no-profile                     # in a pipeline or a pod\n" +
        "  xeks kubeconfig --cluster-name prac-eks-abhi --region ap-south-1 \\\n" +
        "    --role-arn arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role",
    );
  deprecatedAlias(kubeconfig, "--access-role <role>", "--role-arn").action(
    async (file: string | undefined, opts: KubeconfigOptions) => {
      if (opts.output !== "text" && opts.output !== "json") {
        throw new InputError(`--output ${opts.output} is not text or json`);
      }
      if (opts.exec !== "xeks" && opts.exec !== "aws")
        throw new InputError(`--exec ${opts.exec} is not xeks or aws`);
      const { generateKubeconfig } = await import("../kubeconfig/index.js");
      const topologyMode = file !== undefined || opts.client !== undefined;
      const result = await generateKubeconfig({
        ...(file !== undefined ? { topologyFile: file } : {}),
        ...(opts.client !== undefined ? { client: opts.client } : {}),
        // One flag for the access role (docs/cli.md): with a topology it chooses among the client's roles.
        ...(opts.roleArn !== undefined ? { [topologyMode ? "accessRole" : "roleArn"]: opts.roleArn } : {}),
        ...(opts.clusterName !== undefined ? { clusterName: opts.clusterName } : {}),
        ...(opts.externalId !== undefined ? { externalId: opts.externalId } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
        ...(opts.sessionName !== undefined ? { sessionName: opts.sessionName } : {}),
        exec: opts.exec,
        ...(opts.execCommand !== undefined ? { command: opts.execCommand } : {}),
        ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(typeof opts.profile === "string" ? { profile: opts.profile } : {}),
        ...(opts.profile === false ? { noProfile: true } : {}),
        ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
        dryRun: opts.dryRun === true,
      });
      for (const note of result.notes) process.stderr.write(`xeks: note: ${note}\n`);
      if (opts.output === "json") {
        const { text: _text, ...rest } = result;
        process.stdout.write(
          `${JSON.stringify({ kind: "KubeconfigResult", version: 1, ...rest, ...(result.text ? { kubeconfig: result.text } : {}) }, null, 2)}\n`,
        );
        return;
      }
      if (result.dryRun) {
        process.stdout.write(result.text ?? "");
        return;
      }
      const verb =
        result.actions.context === "added"
          ? "Added context"
          : result.actions.context === "updated"
            ? "Updated context"
            : "Kept context";
      const { before, after } = result.currentContext;
      const current =
        after !== result.context
          ? `the current context is ${after ?? "unset"}`
          : before === after
            ? "it stays the current context"
            : `it is now the current context (was ${before ?? "unset"})`;
      process.stdout.write(
        `${verb} ${result.context} ${result.actions.context === "added" ? "to" : "in"} ${result.file} (server ${result.server}, from ${result.endpointSource === "topology" ? "the topology" : "DescribeCluster"}); ${current}.\n`,
      );
      if (result.commandFrom === "checkout" || result.commandFrom === "npx") {
        process.stdout.write(
          `kubectl runs ${result.entries.user.user.exec.command} for tokens: ${result.commandFrom === "npx" ? "the xeks on PATH is npx's, for this run only" : "xeks is not on PATH"} (--exec-command chooses another command).\n`,
        );
      }
    },
  );
}
