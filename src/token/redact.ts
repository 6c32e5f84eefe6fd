/**
 * Keeping secrets out of messages: known secret values (secret keys, session tokens, tokens) and anything
 * shaped like one (a `k8s-aws-v1.` token, an X-Amz-Security-Token value, a SigV4 signature) are replaced.
 */

const PATTERNS: readonly RegExp[] = [
  /k8s-aws-v1\.[A-Za-z0-9_-]+/g,
  /(x-amz-security-token[=:]\s*)[^\s&'"]+/gi,
  /(x-amz-signature[=:]\s*)[0-9a-f]+/gi,
  /(aws_secret_access_key\s*[=:]\s*)\S+/gi,
  /(aws_session_token\s*[=:]\s*)\S+/gi,
];

/** Replace every secret value (at least 8 characters long) and every secret-shaped text. */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 8) out = out.split(s).join("[redacted]");
  }
  for (const p of PATTERNS) {
    out = out.replace(p, (_m, prefix?: string) => `${typeof prefix === "string" ? prefix : ""}[redacted]`);
  }
  return out;
}
