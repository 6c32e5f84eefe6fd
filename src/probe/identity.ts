/**
 * client.identity: who the client's credentials are (sts:GetCallerIdentity), and whether that is the caller
 * the client's kind expects: the client role through the instance profile
 * (`arn:aws:sts::B:assumed-role/<client role>/<instance id>`, kind instance), a session of the Identity Center
 * permission set (`assumed-role/AWSReservedSSO_<NAME>_<hex>/<user>`, kind sso), or a session of the client role
 * (oidc, pod-identity, role). When it is someone else, say who and what in the environment most likely picked
 * them.
 */

import {
  awsErrorHint,
  classifyAwsError as awsErrorInfo,
  credentialsNotLoaded,
  formatAwsError,
} from "../aws/errors.js";
import { fail, pass, unknown } from "../chain/link.js";
import { assumedRoleArn, type Principal, parsePrincipal } from "../domain/arn.js";
import { permissionSetOfRoleName } from "../domain/principal.js";
import { READ_LIMITS, readOptionalFile } from "../files/index.js";
import { credentialsFilePath, parseIni } from "../token/environment.js";
import { type CallerIdentity, getCallerIdentity } from "./aws.js";
import { formatMs, isTimeout, runBounded } from "./bounded.js";
import { type CredentialProvider, type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";

export interface IdentityValue {
  identity: CallerIdentity;
  /** The caller matches the client role. */
  expected: boolean;
}

/** Who an ARN is, in words; an Identity Center session names its permission set. */
export function describePrincipal(p: Principal | undefined, arn: string): string {
  if (!p) return arn;
  switch (p.kind) {
    case "assumed-role": {
      const permissionSet = permissionSetOfRoleName(p.role);
      if (permissionSet !== undefined) {
        return `an IAM Identity Center session of permission set ${permissionSet} in account ${p.account} (role ${p.role}, user ${p.session})`;
      }
      return `role ${p.role} of account ${p.account} (session ${p.session})`;
    }
    case "user":
      return `IAM user ${p.name} of account ${p.account} (long-term access keys)`;
    case "root":
      return `the root user of account ${p.account}`;
    case "other":
      return `${p.resource} of account ${p.account}`;
  }
}

/** What in the environment chooses credentials before the instance profile, in the SDK's order. */
export function credentialOverrides(env: Readonly<Record<string, string | undefined>>): {
  cause: string;
  fix: string;
}[] {
  const out: { cause: string; fix: string }[] = [];
  const set = (name: string) => (env[name] ?? "") !== "";
  if (set("AWS_ACCESS_KEY_ID")) {
    out.push({
      cause: "AWS_ACCESS_KEY_ID in the environment overrides the instance profile",
      fix: "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN (and remove them from the shell profile or the service's environment)",
    });
  }
  if (set("AWS_PROFILE")) {
    out.push({
      cause: `AWS_PROFILE=${env.AWS_PROFILE} selects a profile of the shared config files instead of the instance profile`,
      fix: "unset AWS_PROFILE, or give that profile `credential_source = Ec2InstanceMetadata`",
    });
  }
  if (set("AWS_WEB_IDENTITY_TOKEN_FILE") && set("AWS_ROLE_ARN")) {
    out.push({
      cause: `AWS_ROLE_ARN=${env.AWS_ROLE_ARN} with a web identity token file (IRSA) overrides the instance profile`,
      fix: "unset AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE",
    });
  }
  if (set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    out.push({
      cause: "container credentials (AWS_CONTAINER_CREDENTIALS_*_URI) override the instance profile",
      fix: "run the probe where kubectl runs, or unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI",
    });
  }
  if (!set("AWS_PROFILE")) {
    const file = credentialsFilePath(env);
    try {
      const text = readOptionalFile(file, READ_LIMITS.awsConfig);
      if (text !== undefined && parseIni(text).get("default")?.has("aws_access_key_id")) {
        out.push({
          cause: `the [default] profile of ${file} holds access keys, which win over the instance profile`,
          fix: `remove the keys of [default] from ${file} (aws configure list shows where credentials come from)`,
        });
      }
    } catch {
      // unreadable: nothing to say
    }
  }
  return out;
}

const IMDS_ROLE_CHECK =
  "TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60'); " +
  'curl -sH "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/iam/info';

/** The caller a client's kind expects, as the probe checks and names it. */
interface ExpectedCaller {
  /** The assumed-role ARN, with placeholders. */
  arn: string;
  /** For evidence: how the client gets it. */
  how: string;
  /** For messages: "the client role X", "a session of permission set NAME". */
  label: string;
  /** The caller is the expected one. */
  matches(p: Principal | undefined): boolean;
  /** Pass summary for a matching caller. */
  passSummary(p: Extract<Principal, { kind: "assumed-role" }>): string;
  /** Where the credentials should come from, for fixes. */
  source: string;
}

/** What client.identity expects for this client's kind (see the module comment). */
export function expectedCaller(scope: Pick<ProbeScope, "topology" | "client">): ExpectedCaller {
  const { client } = scope;
  const partition = scope.topology.cluster.partition;
  const id = client.identity;
  if (id.kind === "sso") {
    const name = id.permissionSet;
    return {
      arn: assumedRoleArn(partition, client.account, `AWSReservedSSO_${name}_<suffix>`, "<user>"),
      how: "an IAM Identity Center session of the permission set",
      label: `a session of permission set ${name}`,
      matches: (p) =>
        p?.kind === "assumed-role" &&
        p.account === client.account &&
        permissionSetOfRoleName(p.role) === name,
      passSummary: (p) =>
        `IAM Identity Center session of permission set ${name} in account ${client.account} (role ${p.role}, user ${p.session})`,
      source: `an AWS profile with sso_session for permission set ${name} in account ${client.account} (aws sso login, then AWS_PROFILE=<that profile>)`,
    };
  }
  const role = client.role;
  const roleName = role?.name ?? "";
  const session =
    id.kind === "instance"
      ? "<instance id>"
      : id.kind === "pod-identity"
        ? "eks-<cluster>-<pod>"
        : "<session>";
  const how =
    id.kind === "instance"
      ? "clients[].role via its instance profile"
      : id.kind === "oidc"
        ? "the web-identity role, assumed with the provider's token"
        : id.kind === "pod-identity"
          ? "the Pod Identity role, given to the pod by EKS Pod Identity"
          : "a session of the client role";
  const source =
    id.kind === "instance"
      ? `the instance profile ${role?.instanceProfile ?? roleName}`
      : id.kind === "oidc"
        ? `the web-identity role ${roleName} (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, or aws-actions/configure-aws-credentials with role-to-assume)`
        : id.kind === "pod-identity"
          ? `the Pod Identity association of service account ${id.namespace}/${id.serviceAccount} (role ${roleName}; AWS_CONTAINER_CREDENTIALS_FULL_URI in the pod)`
          : `a session of role ${roleName}`;
  return {
    arn: assumedRoleArn(partition, client.account, roleName, session),
    how,
    label: `the client role ${roleName}`,
    matches: (p) =>
      p?.kind === "assumed-role" &&
      p.account === client.account &&
      p.role.toLowerCase() === roleName.toLowerCase(),
    passSummary: (p) => {
      const via =
        id.kind === "instance" && /^i-[0-9a-f]{8,17}$/.test(p.session)
          ? `the instance profile of ${p.session}`
          : `session ${p.session}`;
      return `the client role ${roleName} of account ${client.account}, through ${via}`;
    },
    source,
  };
}

export async function checkIdentity(
  scope: ProbeScope,
  options: { credentials: CredentialProvider; region: string; endpoint?: string; timeoutMs: number },
): Promise<StepOutcome<IdentityValue>> {
  const { client } = scope;
  const instanceKind = client.identity.kind === "instance";
  const expected = expectedCaller(scope);
  const expectedArn = expected.arn;
  const evidence = [probeEvidence(`expected identity (${expected.how})`, expectedArn)];
  let identity: CallerIdentity;
  try {
    identity = await runBounded(options.timeoutMs, (signal) =>
      getCallerIdentity({
        region: options.region,
        credentials: options.credentials,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        signal,
      }),
    );
  } catch (err) {
    if (isTimeout(err) || awsErrorInfo(err).code === "AbortError" || awsErrorInfo(err).network) {
      const info = isTimeout(err) ? undefined : awsErrorInfo(err);
      return {
        finding: fail(
          `sts:GetCallerIdentity got no answer ${info ? `(${formatAwsError(info)})` : `within ${formatMs(options.timeoutMs)}`}: ` +
            "this instance cannot reach STS (or the instance metadata service for its credentials)",
          `on the instance: aws sts get-caller-identity --region ${options.region}` +
            (client.vpc
              ? `\na VPC without a NAT gateway needs an STS interface endpoint in account ${client.account}: ` +
                `aws ec2 create-vpc-endpoint --vpc-id ${client.vpc.id} --vpc-endpoint-type Interface --service-name com.amazonaws.${options.region}.sts ...`
              : `\ncheck that this machine reaches sts.${options.region}.amazonaws.com on port 443 (a proxy, a firewall)`),
          evidence,
        ),
      };
    }
    const info = awsErrorInfo(err);
    if (credentialsNotLoaded(info)) {
      const profile = client.role?.instanceProfile ?? client.role?.name ?? "";
      return {
        finding: instanceKind
          ? fail(
              `no AWS credentials: ${info.message}. The instance has no instance profile, or its metadata service is unreachable (IMDS disabled, or a hop limit of 1 seen from a container)`,
              `on the instance: ${IMDS_ROLE_CHECK}\n` +
                `in account ${client.account}, attach the instance profile ${profile}: ` +
                `aws ec2 associate-iam-instance-profile --instance-id <instance id> --iam-instance-profile Name=${profile}`,
              evidence,
            )
          : fail(`no AWS credentials: ${info.message}`, `get credentials from ${expected.source}`, evidence),
      };
    }
    if (info.kind === "credentials") {
      const overrides = instanceKind ? credentialOverrides(scope.env) : [];
      return {
        finding: fail(
          `STS rejected the credentials: ${formatAwsError(info)}` +
            (overrides.length > 0 ? `. Likely cause: ${overrides.map((o) => o.cause).join("; ")}` : ""),
          overrides.length > 0
            ? overrides.map((o) => o.fix).join("\n")
            : instanceKind
              ? `the credentials are stale or revoked: on the instance, ${IMDS_ROLE_CHECK}`
              : `the credentials are stale or revoked: get new ones from ${expected.source}`,
          evidence,
        ),
      };
    }
    return {
      finding: unknown(
        `sts:GetCallerIdentity failed: ${formatAwsError(info)}`,
        info.kind === "notAws" || info.kind === "throttled"
          ? `${awsErrorHint(info.kind, { service: "sts" })}; on the instance: aws sts get-caller-identity --region ${options.region}`
          : `on the instance: aws sts get-caller-identity --region ${options.region}`,
        evidence,
      ),
    };
  }

  evidence.push(probeEvidence("sts:GetCallerIdentity", identity.arn));
  const p = parsePrincipal(identity.arn);
  if (expected.matches(p) && p?.kind === "assumed-role") {
    return { finding: pass(expected.passSummary(p), evidence), value: { identity, expected: true } };
  }

  const who = describePrincipal(p, identity.arn);
  const overrides = instanceKind ? credentialOverrides(scope.env) : [];
  const role = { name: client.role?.name ?? "", instanceProfile: client.role?.instanceProfile ?? "" };
  let cause: string;
  let fix: string;
  if (!instanceKind) {
    cause =
      p && p.account !== client.account
        ? `these credentials are from account ${p.account}, not the client account ${client.account}`
        : `they are not ${expected.label}`;
    fix = `use ${expected.source}; aws configure list shows where the credentials come from; then: aws sts get-caller-identity (expect ${expectedArn})`;
  } else if (overrides.length > 0) {
    cause = overrides.map((o) => o.cause).join("; ");
    fix = `${overrides.map((o) => o.fix).join("\n")}\nthen: aws sts get-caller-identity (expect ${expectedArn})`;
  } else if (p?.kind === "assumed-role" && p.account === client.account) {
    cause = `the instance profile attached to this instance holds role ${p.role}, not ${role.name} (wrong instance profile)`;
    fix =
      `in account ${client.account}: aws ec2 replace-iam-instance-profile-association --iam-instance-profile Name=${role.instanceProfile} ` +
      "--association-id $(aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values=<instance id> " +
      "--query 'IamInstanceProfileAssociations[0].AssociationId' --output text)\n" +
      `check on the instance: ${IMDS_ROLE_CHECK}`;
  } else if (p && p.account !== client.account) {
    cause = `these credentials are from account ${p.account}, not the client account ${client.account}: a profile or keys of another account, or the probe runs outside the client's instance`;
    fix = `run the probe on an instance of client ${client.name} (account ${client.account}) with the instance profile ${role.instanceProfile}; aws configure list shows where the credentials come from`;
  } else {
    cause = "the credentials do not come from the client role's instance profile";
    fix = `use the instance profile ${role.instanceProfile} (aws configure list shows where the credentials come from)`;
  }
  return {
    // The credentials work, so the later steps still run with them (as kubectl would), to show what they get.
    finding: fail(`the credentials are ${who}, not ${expected.label}: ${cause}`, fix, evidence),
    value: { identity, expected: false },
  };
}
