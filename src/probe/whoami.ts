/**
 * client.whoami: a SelfSubjectReview (authentication.k8s.io/v1, as `kubectl auth whoami`) with the token:
 * the username and groups EKS mapped the access role's session to. A 401 means the token was refused or the
 * principal is not mapped: no access entry, an authentication mode that ignores entries, an entry made for a
 * session ARN, or a role recreated after its entry was made.
 */
import { fail, pass, unknown, warn } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import { assumedRoleArn } from "../domain/arn.js";
import { formatMs } from "./bounded.js";
import { type KubeAnswer, kubePost, statusMessage } from "./kube.js";
import type { TlsValue } from "./tls.js";
import { type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";

export interface WhoamiValue {
  username?: string;
  groups: string[];
}

const REVIEW_PATHS = [
  ["authentication.k8s.io/v1", "/apis/authentication.k8s.io/v1/selfsubjectreviews"],
  ["authentication.k8s.io/v1beta1", "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews"],
] as const;

/** The username EKS gives the access role's sessions: the topology's template, else the assumed-role ARN. */
function expectedUsername(scope: ProbeScope, sessionName: string): string {
  const c = scope.topology.cluster;
  const template =
    scope.access.username ?? assumedRoleArn(c.partition, c.account, scope.access.role, "{{SessionName}}");
  return template
    .replace(/\{\{SessionName\}\}/g, sessionName.replace(/@/g, "-"))
    .replace(/\{\{SessionNameRaw\}\}/g, sessionName)
    .replace(/\{\{AccountID\}\}/g, c.account);
}

export function unauthorizedHelp(scope: ProbeScope): { summary: string; fix: string } {
  const c = scope.topology.cluster;
  const a = scope.access;
  const sessionArn = assumedRoleArn(c.partition, c.account, a.role, "...");
  return {
    summary:
      `401 Unauthorized: the API server refused the token of ${a.role} (kubectl says "You must be logged in to the server"). ` +
      `Likely, in account ${c.account}: no access entry for ${a.arn} (eks.access-entry); the authentication mode is CONFIG_MAP, ` +
      "which ignores access entries (eks.authentication-mode); an entry made for the session ARN " +
      `${sessionArn} instead of the role ARN; or ${a.role} was deleted and recreated after its entry was made (the entry keeps the old role id)`,
    fix: [
      `admin side, account ${c.account}: xeks doctor ${scope.file}, links eks.access-entry and eks.authentication-mode`,
      `aws eks describe-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${a.arn}`,
      `aws eks describe-cluster --name ${c.name} --region ${c.region} --query cluster.accessConfig.authenticationMode`,
      `a recreated role: aws eks delete-access-entry, then create-access-entry for ${a.arn} and associate its policies again`,
    ].join("\n"),
  };
}

export function answerEvidence(what: string, answer: KubeAnswer): Evidence {
  if (answer.kind === "answer") {
    const msg = statusMessage(answer);
    return probeEvidence(what, `HTTP ${answer.status}${msg ? `: ${msg}` : ""}`);
  }
  return probeEvidence(what, answer.kind === "timeout" ? "timeout" : `${answer.code}: ${answer.message}`);
}

export async function checkWhoami(
  scope: ProbeScope,
  tls: TlsValue,
  token: string,
  sessionName: string,
  options: { timeoutMs: number },
): Promise<StepOutcome<WhoamiValue>> {
  const evidence: Evidence[] = [];
  let answer: KubeAnswer = { kind: "timeout" };
  let apiVersion = "";
  // v1, then v1beta1 on a 404 (Kubernetes 1.27): both within one step timeout.
  const end = Date.now() + options.timeoutMs;
  for (const [version, path] of REVIEW_PATHS) {
    apiVersion = version;
    const body = { apiVersion: version, kind: "SelfSubjectReview" };
    answer = await kubePost(tls, path, body, token, Math.max(1, end - Date.now()));
    evidence.push(answerEvidence(`POST ${path}`, answer));
    if (!(answer.kind === "answer" && answer.status === 404)) break;
  }
  const where = `${tls.hostname} (${tls.address}:${tls.port})`;
  if (answer.kind === "timeout") {
    return {
      finding: fail(
        `the API server at ${where} did not answer the SelfSubjectReview within ${formatMs(options.timeoutMs)} (TLS worked): it is overloaded, or a proxy holds the request`,
        `on the instance: kubectl auth whoami -v=6 --request-timeout=10s`,
        evidence,
      ),
    };
  }
  if (answer.kind === "error") {
    return {
      finding: fail(
        `the SelfSubjectReview request to ${where} failed: ${answer.code} (${answer.message})`,
        "on the instance: kubectl auth whoami -v=6",
        evidence,
      ),
    };
  }
  if (answer.status === 401) {
    const help = unauthorizedHelp(scope);
    return { finding: fail(help.summary, help.fix, evidence) };
  }
  if (answer.status === 404) {
    return {
      finding: warn(
        "authenticated (no 401), but the API server has no SelfSubjectReview API (Kubernetes before 1.27): the username and groups cannot be shown",
        "upgrade the cluster to a supported Kubernetes version; meanwhile kubectl auth can-i --list shows what the session may do",
        evidence,
      ),
      value: { groups: [] },
    };
  }
  if (answer.status === 403) {
    return {
      finding: warn(
        `authenticated (no 401), but the API server forbids SelfSubjectReview (403: ${statusMessage(answer) ?? "forbidden"}): RBAC of the cluster removed system:basic-user's grant`,
        `admin side: kubectl get clusterrolebinding system:basic-user -o yaml (restore it); permissions are still probed`,
        evidence,
      ),
      value: { groups: [] },
    };
  }
  if (answer.status < 200 || answer.status >= 300) {
    return {
      finding: unknown(
        `the SelfSubjectReview got HTTP ${answer.status}${statusMessage(answer) ? `: ${statusMessage(answer)}` : ""}`,
        "on the instance: kubectl auth whoami -v=6; if it is a 5xx, try again in a minute",
        evidence,
      ),
    };
  }
  const info = (
    answer.body as {
      status?: { userInfo?: { username?: string; groups?: string[]; extra?: Record<string, string[]> } };
    }
  )?.status?.userInfo;
  const username = info?.username;
  const groups = Array.isArray(info?.groups)
    ? info.groups.filter((g): g is string => typeof g === "string")
    : [];
  evidence.push(
    probeEvidence(
      `${apiVersion} SelfSubjectReview`,
      `username ${username ?? "(none)"}, groups ${groups.join(", ") || "(none)"}`,
    ),
  );
  const arn = info?.extra?.arn?.[0];
  if (arn) evidence.push(probeEvidence("extra.arn", arn));
  const value: WhoamiValue = { groups, ...(username !== undefined ? { username } : {}) };
  const expected = expectedUsername(scope, sessionName);
  const missing = scope.access.kubernetesGroups.filter((g) => !groups.includes(g));
  const problems: string[] = [];
  if (username !== expected) {
    problems.push(
      `the username is ${username ?? "(none)"}, not ${expected} as the topology's access role implies: the access entry's username differs` +
        " (eks.access-entry), or the aws-auth ConfigMap maps this role",
    );
  }
  if (missing.length > 0) {
    problems.push(
      `the groups lack ${missing.join(", ")} (kubernetesGroups of the access entry, eks.access-entry)`,
    );
  }
  if (problems.length > 0) {
    const c = scope.topology.cluster;
    return {
      finding: warn(
        `EKS maps the token to ${username ?? "(no username)"} with groups ${groups.join(", ") || "(none)"}; but ${problems.join("; ")}`,
        `admin side, account ${c.account}: aws eks describe-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${scope.access.arn}; ` +
          `xeks doctor ${scope.file}, link eks.access-entry`,
        evidence,
      ),
      value,
    };
  }
  return {
    finding: pass(`EKS maps the token to ${username} with groups ${groups.join(", ") || "(none)"}`, evidence),
    value,
  };
}
