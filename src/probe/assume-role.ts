/**
 * client.assume-role: sts:AssumeRole into the access role with the client's credentials (and the external
 * id when the topology sets one), as `xeks token --role-arn` does. A denial is read for the admin-side link
 * that most likely causes it: the access role's trust (iam.access-role-trust, cluster account), the client
 * role's permission (iam.assume-permission, client account), a permissions boundary or an SCP.
 */

import {
  awsErrorHint,
  classifyAwsError as awsErrorInfo,
  credentialsNotLoaded,
  formatAwsError,
} from "../aws/errors.js";
import { fail, pass, unknown } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import { assumeRoleAs } from "./aws.js";
import { formatMs, isTimeout, runBounded } from "./bounded.js";
import {
  type CredentialProvider,
  declaredEvidence,
  type ProbeCredentials,
  type ProbeScope,
  probeEvidence,
  type StepOutcome,
} from "./types.js";

export type AssumedCredentials = ProbeCredentials & { sessionToken: string; expiration: Date };

export interface AssumeValue {
  credentials: AssumedCredentials;
  sessionName: string;
}

/** What an AccessDenied message of sts:AssumeRole says about where the deny comes from. */
export function denialSource(
  message: string,
): "scp" | "boundary" | "identity" | "trust" | "session" | undefined {
  if (/service control polic/i.test(message)) return "scp";
  if (/permissions? boundary/i.test(message)) return "boundary";
  if (/session polic/i.test(message)) return "session";
  if (/identity-based polic/i.test(message)) return "identity";
  if (/resource-based polic|trust polic/i.test(message)) return "trust";
  return undefined;
}

export async function checkAssumeRole(
  scope: ProbeScope,
  options: {
    credentials: CredentialProvider;
    region: string;
    endpoint?: string;
    sessionName: string;
    timeoutMs: number;
  },
): Promise<StepOutcome<AssumeValue>> {
  const { client, access, topology } = scope;
  const clusterAccount = topology.cluster.account;
  const evidence: Evidence[] = [
    declaredEvidence("access role", access.arn),
    declaredEvidence(
      "external id",
      access.externalId ? "set in the topology: sent as ExternalId" : "none in the topology",
    ),
    probeEvidence("RoleSessionName", options.sessionName),
  ];
  const doctor = `xeks doctor ${scope.file}`;
  try {
    const credentials = await runBounded(options.timeoutMs, (signal) =>
      assumeRoleAs({
        region: options.region,
        credentials: options.credentials,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        roleArn: access.arn,
        sessionName: options.sessionName,
        ...(access.externalId ? { externalId: access.externalId } : {}),
        signal,
      }),
    );
    if (credentials.assumedRoleArn) evidence.push(probeEvidence("assumed", credentials.assumedRoleArn));
    evidence.push(probeEvidence("session expires", credentials.expiration.toISOString()));
    return {
      finding: pass(
        `assumed ${access.role} in account ${clusterAccount}${access.externalId ? " with the external id" : ""}`,
        evidence,
      ),
      value: { credentials, sessionName: options.sessionName },
    };
  } catch (err) {
    if (isTimeout(err)) {
      return {
        finding: fail(
          `sts:AssumeRole got no answer within ${formatMs(options.timeoutMs)}: this instance cannot reach STS in ${options.region}`,
          `on the instance: aws sts get-caller-identity --region ${options.region}\n` +
            (client.vpc
              ? `a VPC without a NAT gateway needs an STS interface endpoint (com.amazonaws.${options.region}.sts) in account ${client.account}`
              : `check that this machine reaches sts.${options.region}.amazonaws.com on port 443 (a proxy, a firewall)`),
          evidence,
        ),
      };
    }
    const info = awsErrorInfo(err);
    evidence.push(probeEvidence("sts:AssumeRole answered", formatAwsError(info)));
    if (info.network) {
      return {
        finding: fail(
          `sts:AssumeRole could not reach STS: ${formatAwsError(info)}`,
          `on the instance: aws sts get-caller-identity --region ${options.region}; check the STS endpoint (AWS_ENDPOINT_URL_STS) and the route to it`,
          evidence,
        ),
      };
    }
    if (info.kind === "notAws") {
      return {
        finding: fail(
          `sts:AssumeRole got an answer that is not from AWS: ${formatAwsError(info)}`,
          `${awsErrorHint("notAws", { service: "sts" })}; on the instance: aws sts get-caller-identity --region ${options.region}`,
          evidence,
        ),
      };
    }
    if (info.kind === "denied") {
      const source = denialSource(info.message);
      // Who the client is, as the trust names it: its role's ARN, or the permission set's role pattern (sso).
      const trusted =
        client.principal.arn ??
        `${client.principal.label} (${(client.principal.arnPatterns ?? []).join(", ")})`;
      const holder = client.role ? client.role.name : client.principal.label;
      const trust =
        `iam.access-role-trust (account ${clusterAccount}): the trust policy of ${access.role} must allow ` +
        `${trusted}${access.externalId ? " with sts:ExternalId equal to the topology's external id" : ""}`;
      const permission =
        client.identity.kind === "sso"
          ? `iam.assume-permission (account ${client.account}): the policies of ${holder} (its inline policy or managed policies in IAM Identity Center) must allow sts:AssumeRole on ${access.arn}`
          : `iam.assume-permission (account ${client.account}): the identity policies of ${holder} must allow sts:AssumeRole on ${access.arn}`;
      const boundary = `a permissions boundary on ${holder} (account ${client.account}) must also allow sts:AssumeRole on ${access.arn}`;
      const scp = `a service control policy of account ${client.account}'s organization (or of ${clusterAccount}'s) denies sts:AssumeRole`;
      let summary: string;
      let fix: string;
      switch (source) {
        case "scp":
          summary = `AccessDenied: ${scp}`;
          fix = `ask the organization's administrators which SCP denies sts:AssumeRole on ${access.arn}; the topology can declare SCPs so xeks plan proves them`;
          break;
        case "boundary":
          summary = `AccessDenied by a permissions boundary: ${boundary}`;
          fix = `run ${doctor} with credentials for account ${client.account} and look at iam.assume-permission (it evaluates the boundary); xeks plan ${scope.file} shows the policy to allow`;
          break;
        case "identity":
          summary = `AccessDenied: no identity-based policy allows it, so ${permission}`;
          fix = `run ${doctor} with credentials for account ${client.account} and look at iam.assume-permission; xeks plan ${scope.file} shows the policy xeks attaches`;
          break;
        case "trust":
          summary = `AccessDenied by the access role's trust policy: ${trust}`;
          fix = `run ${doctor} with credentials for account ${clusterAccount} and look at iam.access-role-trust; xeks plan ${scope.file} shows the trust policy to deploy`;
          break;
        default:
          summary =
            `AccessDenied on sts:AssumeRole into ${access.arn}; STS does not say which side refused. Likely, in order: ` +
            `the access role's trust policy (iam.access-role-trust, account ${clusterAccount}), ` +
            `the client role's permission (iam.assume-permission, account ${client.account}), ` +
            `a permissions boundary on ${holder}, a service control policy, ` +
            (access.externalId
              ? "or an external id that differs from the one the trust policy expects"
              : "or a trust policy that requires an external id the topology does not set");
          fix = [
            `admin side: ${doctor} with credentials for account ${clusterAccount} and --client-profile ${client.name}=<profile of account ${client.account}>; look at iam.access-role-trust and iam.assume-permission`,
            trust,
            permission,
            boundary,
            `xeks plan ${scope.file} shows both policies as xeks deploys them`,
          ].join("\n");
      }
      return { finding: fail(summary, fix, evidence) };
    }
    if (info.code === "RegionDisabledException") {
      return {
        finding: fail(
          `STS is not activated in ${options.region}: ${info.message}`,
          `activate the STS regional endpoint for ${options.region} in the IAM account settings (console: IAM > Account settings), or use another region for STS`,
          evidence,
        ),
      };
    }
    if (info.kind === "credentials" && !credentialsNotLoaded(info)) {
      return {
        finding: fail(
          `STS rejected the client's credentials: ${formatAwsError(info)}`,
          "the base credentials are stale or wrong: see client.identity; aws configure list shows where they come from",
          evidence,
        ),
      };
    }
    if (credentialsNotLoaded(info)) {
      return {
        finding: fail(
          `no AWS credentials to call sts:AssumeRole: ${info.message}`,
          client.identity.kind === "instance"
            ? "see client.identity: the instance needs the client role's instance profile"
            : "see client.identity: the client's credentials were not found",
          evidence,
        ),
      };
    }
    if (info.code === "ValidationError") {
      return {
        finding: fail(
          `sts:AssumeRole refused the request: ${info.message}`,
          `check the access role ARN ${access.arn} and the external id in ${scope.file}`,
          evidence,
        ),
      };
    }
    return {
      finding: unknown(
        `sts:AssumeRole failed: ${formatAwsError(info)}`,
        `on the instance: aws sts assume-role --role-arn ${access.arn} --role-session-name probe${access.externalId ? " --external-id <external id>" : ""}`,
        evidence,
      ),
    };
  }
}
