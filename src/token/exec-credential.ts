/**
 * The ExecCredential a kubectl exec plugin prints, and the choice of its apiVersion from
 * KUBERNETES_EXEC_INFO, mirroring `aws eks get-token` (spec token-and-access.md §2.2). No dependencies.
 */

const EXEC_API_V1 = "client.authentication.k8s.io/v1";
const EXEC_API_V1BETA1 = "client.authentication.k8s.io/v1beta1";
const EXEC_API_V1ALPHA1 = "client.authentication.k8s.io/v1alpha1";

export interface ApiVersionChoice {
  apiVersion: string;
  /** What aws-cli would print on stderr about this choice (for a malformed or deprecated request). */
  warning?: string;
}

/**
 * The apiVersion to answer with, given the KUBERNETES_EXEC_INFO value: v1 and v1beta1 are echoed; v1alpha1
 * is echoed with a deprecation warning; no value means v1beta1 (clients before 1.20); anything else means
 * v1beta1 with a warning.
 */
export function chooseApiVersion(execInfo: string | undefined): ApiVersionChoice {
  if (!execInfo) return { apiVersion: EXEC_API_V1BETA1 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(execInfo);
  } catch {
    return {
      apiVersion: EXEC_API_V1BETA1,
      warning: `Error parsing KUBERNETES_EXEC_INFO, defaulting to ${EXEC_API_V1BETA1}. This is likely a bug in your Kubernetes client. Please update your Kubernetes client.`,
    };
  }
  const requested =
    parsed !== null && typeof parsed === "object"
      ? (parsed as { apiVersion?: unknown }).apiVersion
      : undefined;
  if (requested === EXEC_API_V1 || requested === EXEC_API_V1BETA1) return { apiVersion: requested };
  if (requested === EXEC_API_V1ALPHA1) {
    return {
      apiVersion: requested,
      warning: `Kubeconfig user entry is using deprecated API version ${requested}. Run 'xeks kubeconfig' to update.`,
    };
  }
  return {
    apiVersion: EXEC_API_V1BETA1,
    warning: `Unrecognized API version in KUBERNETES_EXEC_INFO, defaulting to ${EXEC_API_V1BETA1}. This is likely due to an outdated xeks. Please update xeks.`,
  };
}

export interface ExecCredential {
  kind: "ExecCredential";
  apiVersion: string;
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

/** The ExecCredential object, keys in aws-cli's order. */
function execCredential(apiVersion: string, token: string, expirationTimestamp: string): ExecCredential {
  return { kind: "ExecCredential", apiVersion, spec: {}, status: { expirationTimestamp, token } };
}

/** The text printed on stdout: JSON with aws-cli's 4-space indentation and a final newline. */
export function renderExecCredential(apiVersion: string, token: string, expirationTimestamp: string): string {
  return `${JSON.stringify(execCredential(apiVersion, token, expirationTimestamp), null, 4)}\n`;
}
