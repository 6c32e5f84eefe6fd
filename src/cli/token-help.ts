/**
 * The usage and help text of `xeks token`, apart from src/cli/token.ts so that `xeks help token` and
 * `xeks --help` (src/cli/main.ts) can show it without loading the token command, and the token bundle
 * (dist/token.cjs) can print it without loading commander. No imports.
 */

/** One-line usage of `xeks token`. */
export const TOKEN_USAGE =
  "xeks token --cluster-name NAME [--cluster-id ID] [--region REGION] [--role-arn ARN] [--session-name NAME] [--external-id ID] [--no-cache]";

/** The full help of `xeks token` (`xeks token --help`, `xeks help token`). */
export const TOKEN_HELP = `Usage: ${TOKEN_USAGE}

kubectl exec credential plugin for Amazon EKS. Prints an ExecCredential whose token is the same as
\`aws eks get-token\` prints for the same credentials and clock, and caches it, so kubectl does not wait for
Python and STS on every call.

Options:
  --cluster-name NAME   the EKS cluster name (signed into the token as x-k8s-aws-id)
  --cluster-id ID       instead of --cluster-name: the cluster id of an Outposts local cluster
  --region REGION       the cluster's region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)
  --role-arn ARN        assume this role (the cross-account access role) and sign with its credentials
  --session-name NAME   role session name (default xeks-<user>@<instance id or host>, seen in CloudTrail)
  --external-id ID      external id the role's trust policy asks for
  --no-cache            neither read nor write the cache
  -h, --help            show this help

Output: always one ExecCredential (JSON) on stdout, the document kubectl reads; there is no -o/--output.

Credentials come from the standard AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and
~/.aws/config (SSO, role_arn/source_profile, credential_process), web identity, the container endpoint, the
EC2 instance profile (IMDSv2). AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL redirect the AssumeRole call; the
token itself is always presigned for the regional STS host, which the EKS control plane calls.

The assumed-role credentials and the token are cached in $XDG_CACHE_HOME/xeks (default ~/.cache/xeks),
files 0600 in a 0700 directory, until a minute before the token expires (14 minutes, or earlier when the
credentials expire). The ExecCredential apiVersion follows KUBERNETES_EXEC_INFO (v1 or v1beta1).

Every AWS call (AssumeRole, the credential chain's own STS/SSO calls) gives up after XEKS_AWS_TIMEOUT_MS
milliseconds without an answer (default 10000; connecting: at most 3000), with one retry.

Exit codes: 0 token printed, 1 no credentials, STS refused or did not answer, 2 invalid flags or no region.
Example kubeconfig user: xeks kubeconfig --cluster-name prac-eks-abhi --region ap-south-1 \\
  --role-arn arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role`;
