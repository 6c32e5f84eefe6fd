/**
 * client.permissions: SelfSubjectAccessReviews (authorization.k8s.io/v1, as `kubectl auth can-i`) for what
 * the topology grants the access role (one request per access-policy association, inside its scope, chosen
 * and checked with src/access) and for one thing it must not grant. Denied where granted points at the
 * access policy and its scope (eks.access-policy); allowed where it must be denied is a warning.
 */

import {
  accessPolicyName,
  describeRequest,
  describeScope,
  evaluateAccess,
  isClusterScoped,
  namespaceMatches,
  type ResourceRequest,
} from "../access/index.js";
import { associateAccessPolicyCommand } from "../access/names.js";
import { fail, pass, unknown, warn } from "../chain/link.js";
import type { Evidence } from "../chain/types.js";
import type { AccessPolicyRef, AccessRole, AccessScope } from "../topology/types.js";
import { formatMs } from "./bounded.js";
import { type KubeAnswer, kubePost, statusMessage } from "./kube.js";
import type { TlsValue } from "./tls.js";
import { type ProbeScope, probeEvidence, type StepOutcome } from "./types.js";
import { answerEvidence, unauthorizedHelp } from "./whoami.js";

export interface PermissionProbe {
  request: ResourceRequest;
  expect: "allowed" | "denied";
  /** For allowed: the association that grants it. */
  grant?: AccessPolicyRef;
}

type Req = Omit<ResourceRequest, "namespace">;
const r = (verb: string, apiGroup: string, resource: string): Req => ({ verb, apiGroup, resource });
const RBAC = "rbac.authorization.k8s.io";

/** Requests that show a policy works, most telling first. */
const GRANT_CANDIDATES: Record<string, Req[]> = {
  AmazonEKSClusterAdminPolicy: [r("create", RBAC, "clusterrolebindings"), r("list", "", "nodes")],
  AmazonEKSAdminPolicy: [r("create", RBAC, "rolebindings"), r("create", "apps", "deployments")],
  AmazonEKSEditPolicy: [r("create", "apps", "deployments"), r("create", "", "pods")],
  AmazonEKSViewPolicy: [r("list", "", "pods"), r("get", "", "configmaps")],
  AmazonEKSAdminViewPolicy: [r("get", "", "secrets"), r("list", "", "pods")],
  AmazonEKSHybridPolicy: [r("list", "", "nodes")],
};

/** A namespace a scope covers: its first name, with `*` filled in. */
function sampleNamespace(scope: AccessScope): string {
  if (scope.type === "cluster") return "default";
  const first = scope.namespaces[0] ?? "default";
  if (first === "*") return "default";
  return first.replace(/\*/g, "xeks-probe");
}

function withNamespace(req: Req, namespace: string): ResourceRequest {
  return { ...req, namespace: isClusterScoped(req.apiGroup, req.resource) ? null : namespace };
}

/** The SelfSubjectAccessReviews to make for an access role: what it is granted, and one thing it is not. */
export function choosePermissionProbes(access: AccessRole): { probes: PermissionProbe[]; notes: string[] } {
  const probes: PermissionProbe[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const key = (q: ResourceRequest) => `${q.verb} ${q.apiGroup}/${q.resource} ${q.namespace ?? ""}`;
  for (const p of access.policies) {
    const name = accessPolicyName(p.arn) ?? p.name;
    const candidates = GRANT_CANDIDATES[name];
    if (!candidates) {
      notes.push(`${name}: xeks does not know its rules, so nothing is probed for it`);
      continue;
    }
    const ns = sampleNamespace(p.scope);
    const chosen = candidates
      .map((c) => withNamespace(c, ns))
      .find((q) => evaluateAccess([p], q).allowed && !seen.has(key(q)));
    if (!chosen) continue;
    seen.add(key(chosen));
    probes.push({ request: chosen, expect: "allowed", grant: p });
  }
  const firstNs = probes.find((p) => p.request.namespace)?.request.namespace ?? "default";
  const patterns = access.policies.flatMap((p) => (p.scope.type === "namespace" ? p.scope.namespaces : []));
  const outside = ["kube-system", "xeks-probe-outside"].find(
    (n) => !patterns.some((p) => namespaceMatches(p, n)),
  );
  const denyCandidates: ResourceRequest[] = [
    withNamespace(r("get", "", "secrets"), firstNs),
    withNamespace(r("create", RBAC, "rolebindings"), firstNs),
    ...(outside ? [withNamespace(r("list", "", "pods"), outside)] : []),
    withNamespace(r("create", RBAC, "clusterrolebindings"), firstNs),
    withNamespace(r("delete", "", "nodes"), firstNs),
  ];
  const deny = denyCandidates.find((q) => evaluateAccess(access.policies, q).verdict === "no");
  if (deny) probes.push({ request: deny, expect: "denied" });
  else if (access.policies.length > 0) notes.push("the policies grant everything xeks would check as denied");
  return { probes, notes };
}

function reviewBody(q: ResourceRequest) {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: {
      resourceAttributes: {
        verb: q.verb,
        group: q.apiGroup,
        resource: q.resource,
        ...(q.subresource ? { subresource: q.subresource } : {}),
        ...(q.namespace ? { namespace: q.namespace } : {}),
      },
    },
  };
}

const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

export async function checkPermissions(
  scope: ProbeScope,
  tls: TlsValue,
  token: string,
  options: { timeoutMs: number },
): Promise<StepOutcome<true>> {
  const c = scope.topology.cluster;
  const a = scope.access;
  const { probes, notes } = choosePermissionProbes(a);
  const evidence: Evidence[] = notes.map((n) => probeEvidence("note", n));
  if (probes.length === 0) {
    return {
      finding: pass(
        `nothing to probe: the topology associates no access policy xeks knows with ${a.role}` +
          (a.kubernetesGroups.length > 0
            ? ` (its groups ${a.kubernetesGroups.join(", ")} get their rights from RBAC in the cluster)`
            : ""),
        evidence,
      ),
      value: true,
    };
  }
  const answers = await Promise.all(
    probes.map((p) => kubePost(tls, SSAR_PATH, reviewBody(p.request), token, options.timeoutMs)),
  );
  const missing: string[] = [];
  const over: string[] = [];
  const fixes: string[] = [];
  const transport: { what: string; answer: KubeAnswer }[] = [];
  probes.forEach((p, i) => {
    const answer = answers[i] as KubeAnswer;
    const what = describeRequest(p.request);
    if (answer.kind !== "answer" || answer.status < 200 || answer.status >= 300) {
      transport.push({ what, answer });
      evidence.push(answerEvidence(`can-i ${what}`, answer));
      return;
    }
    const status = (answer.body as { status?: { allowed?: boolean; reason?: string } })?.status;
    const allowed = status?.allowed === true;
    evidence.push(
      probeEvidence(
        `can-i ${what} (expected ${p.expect})`,
        `${allowed ? "allowed" : "denied"}${status?.reason ? `: ${status.reason}` : ""}`,
      ),
    );
    if (p.expect === "allowed" && !allowed && p.grant) {
      const name = accessPolicyName(p.grant.arn) ?? p.grant.name;
      missing.push(`${what} is denied, though ${name} (scope: ${describeScope(p.grant.scope)}) grants it`);
      fixes.push(associateAccessPolicyCommand(c, a.arn, p.grant));
    }
    if (p.expect === "denied" && allowed) over.push(what);
  });

  const listing = `aws eks list-associated-access-policies --cluster-name ${c.name} --region ${c.region} --principal-arn ${a.arn}`;
  if (transport.length > 0) {
    const first = transport[0] as { what: string; answer: KubeAnswer };
    const ans = first.answer;
    if (ans.kind === "answer" && ans.status === 401) {
      const help = unauthorizedHelp(scope);
      return { finding: fail(help.summary, help.fix, evidence) };
    }
    if (ans.kind === "answer" && ans.status === 403) {
      return {
        finding: fail(
          `403 Forbidden on SelfSubjectAccessReview (${statusMessage(ans) ?? "forbidden"}): authenticated, but ${a.role}'s access entry grants nothing usable here. ` +
            `The access policy associations or their scope (eks.access-policy) do not match the topology`,
          `admin side, account ${c.account}: ${listing}; xeks doctor ${scope.file}, link eks.access-policy`,
          evidence,
        ),
      };
    }
    const why =
      ans.kind === "timeout"
        ? `no answer within ${formatMs(options.timeoutMs)}`
        : ans.kind === "error"
          ? `${ans.code}: ${ans.message}`
          : `HTTP ${ans.status}${statusMessage(ans) ? `: ${statusMessage(ans)}` : ""}`;
    return {
      finding: unknown(
        `the SelfSubjectAccessReview for ${first.what} failed (${why})`,
        `on the instance: kubectl auth can-i ${first.what.replace(/ in namespace (\S+)$/, " -n $1")}`,
        evidence,
      ),
    };
  }
  if (missing.length > 0) {
    return {
      finding: fail(
        `${missing.join("; ")}: the access entry of ${a.role} lacks that policy association, or its scope differs from the topology (eks.access-policy)`,
        `admin side, account ${c.account}: ${listing}\n${[...new Set(fixes)].join("\n")}\nor xeks doctor ${scope.file}, link eks.access-policy`,
        evidence,
      ),
    };
  }
  const granted = probes.filter((p) => p.expect === "allowed").map((p) => describeRequest(p.request));
  const denied = probes.filter((p) => p.expect === "denied").map((p) => describeRequest(p.request));
  if (over.length > 0) {
    return {
      finding: warn(
        `over-granted: ${over.join(", ")} is allowed, but the topology's policies for ${a.role} do not grant it: another policy association, ` +
          `a wider scope, or RBAC bindings of its groups grant more than the topology says`,
        `admin side, account ${c.account}: ${listing}; kubectl get clusterrolebindings,rolebindings -A -o wide | grep -e ${a.role} ${a.kubernetesGroups.map((g) => `-e ${g}`).join(" ")}`.trimEnd(),
        evidence,
      ),
      value: true,
    };
  }
  return {
    finding: pass(
      `allowed as the topology grants: ${granted.join(", ") || "(nothing to check)"}` +
        (denied.length > 0 ? `; denied as it must be: ${denied.join(", ")}` : ""),
      evidence,
    ),
    value: true,
  };
}
