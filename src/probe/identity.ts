/**
 * client.identity: who the client's credentials are (sts:GetCallerIdentity), and whether that is the client
 * role through the instance profile (`arn:aws:sts::B:assumed-role/<client role>/<instance id>`). When it is
 * someone else, say who and what in the environment most likely picked them over the instance role.
 */

import {
  awsErrorHint,
  classifyAwsError as awsErrorInfo,
  credentialsNotLoaded,
  formatAwsError,
} from "../aws/errors.js";
import { fail, pass, unknown } from "../chain/link.js";
import { assumedRoleArn, type Principal, parsePrincipal } from "../domain/arn.js";
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

function describePrincipal(p: Principal | undefined, arn: string): string {
  if (!p) return arn;
  switch (p.kind) {
    case "assumed-role":
      return `role ${p.role} of account ${p.account} (session ${p.session})`;
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

export async function checkIdentity(
  scope: ProbeScope,
  options: { credentials: CredentialProvider; region: string; endpoint?: string; timeoutMs: number },
): Promise<StepOutcome<IdentityValue>> {
  const { client } = scope;
  const role = client.role;
  const expectedArn = assumedRoleArn(
    scope.topology.cluster.partition,
    client.account,
    role.name,
    "<instance id>",
  );
  const evidence = [
    probeEvidence("expected identity (clients[].role via its instance profile)", expectedArn),
  ];
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
          `on the instance: aws sts get-caller-identity --region ${options.region}\n` +
            `a VPC without a NAT gateway needs an STS interface endpoint in account ${client.account}: ` +
            `aws ec2 create-vpc-endpoint --vpc-id ${client.vpc.id} --vpc-endpoint-type Interface --service-name com.amazonaws.${options.region}.sts ...`,
          evidence,
        ),
      };
    }
    const info = awsErrorInfo(err);
    if (credentialsNotLoaded(info)) {
      return {
        finding: fail(
          `no AWS credentials: ${info.message}. The instance has no instance profile, or its metadata service is unreachable (IMDS disabled, or a hop limit of 1 seen from a container)`,
          `on the instance: ${IMDS_ROLE_CHECK}\n` +
            `in account ${client.account}, attach the instance profile ${role.instanceProfile}: ` +
            `aws ec2 associate-iam-instance-profile --instance-id <instance id> --iam-instance-profile Name=${role.instanceProfile}`,
          evidence,
        ),
      };
    }
    if (info.kind === "credentials") {
      const overrides = credentialOverrides(scope.env);
      return {
        finding: fail(
          `STS rejected the credentials: ${formatAwsError(info)}` +
            (overrides.length > 0 ? `. Likely cause: ${overrides.map((o) => o.cause).join("; ")}` : ""),
          overrides.length > 0
            ? overrides.map((o) => o.fix).join("\n")
            : `the credentials are stale or revoked: on the instance, ${IMDS_ROLE_CHECK}`,
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
  const matches =
    p?.kind === "assumed-role" &&
    p.account === client.account &&
    p.role.toLowerCase() === role.name.toLowerCase();
  if (matches && p?.kind === "assumed-role") {
    const via = /^i-[0-9a-f]{8,17}$/.test(p.session)
      ? `the instance profile of ${p.session}`
      : `session ${p.session}`;
    return {
      finding: pass(`the client role ${role.name} of account ${client.account}, through ${via}`, evidence),
      value: { identity, expected: true },
    };
  }

  const who = describePrincipal(p, identity.arn);
  const overrides = credentialOverrides(scope.env);
  let cause: string;
  let fix: string;
  if (overrides.length > 0) {
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
    finding: fail(`the credentials are ${who}, not the client role ${role.name}: ${cause}`, fix, evidence),
    value: { identity, expected: false },
  };
}
