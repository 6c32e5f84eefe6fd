/**
 * `xeks can-i` answers as the cluster does: Kubernetes' default RBAC lets every authenticated user read the
 * discovery and health endpoints and create self-subject reviews, whatever the access policies grant; and
 * `--role-arn` takes the ARN of a session of an access role, answering for the role and saying so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { PolicyAssociation } from "../src/access/index.js";
import { evaluateAccess, evaluateAsCluster } from "../src/access/index.js";
import { ROOT, xeks } from "./helpers/cli.js";

const TEAMS = join(ROOT, "examples/teams.yaml");
const VIEW = "Analytics-EKS-View-Role";
const VIEW_ARN = `arn:aws:iam::111111111111:role/${VIEW}`;

const canI = (...args: string[]) => xeks(["can-i", ...args, TEAMS]);

describe("default RBAC for authenticated users", () => {
  test("get /healthz with a namespace-scoped view role: yes, through system:discovery and system:public-info-viewer", () => {
    const r = canI("get", "/healthz", "--role-arn", VIEW);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "yes\n");
    assert.match(
      r.stderr,
      /every authenticated user may get \/healthz: Kubernetes' default ClusterRoles system:discovery and system:public-info-viewer are bound to the group system:authenticated/,
    );
    assert.match(r.stderr, /the access policies alone: none of the associated policies allows get \/healthz/);
    const json = JSON.parse(canI("get", "/healthz", "--role-arn", VIEW, "-o", "json").stdout);
    assert.equal(json.allowed, true);
    assert.equal(json.verdict, "yes");
    assert.equal(json.policy, null);
    assert.equal(json.scope, null);
    assert.deepEqual(json.defaultRoles, ["system:discovery", "system:public-info-viewer"]);
  });

  const cases: [string[], "yes" | "no", string[]][] = [
    [["get", "/version"], "yes", ["system:discovery", "system:public-info-viewer"]],
    [["get", "/livez"], "yes", ["system:discovery", "system:public-info-viewer"]],
    [["get", "/api/v1"], "yes", ["system:discovery"]],
    [["get", "/apis"], "yes", ["system:discovery"]],
    [["get", "/openapi/v3"], "yes", ["system:discovery"]],
    [["create", "selfsubjectaccessreviews"], "yes", ["system:basic-user"]],
    [["create", "selfsubjectrulesreviews.authorization.k8s.io"], "yes", ["system:basic-user"]],
    [["get", "/metrics"], "no", []],
    [["get", "/healthz/etcd"], "no", []],
    [["post", "/healthz"], "no", []],
    [["get", "/apiextra"], "no", []],
    [["list", "selfsubjectaccessreviews"], "no", []],
  ];
  for (const [request, verdict, roles] of cases) {
    test(`${request.join(" ")}: ${verdict}${roles.length ? ` (${roles.join(", ")})` : ""}`, () => {
      const r = canI(...request, "--role-arn", VIEW, "-o", "json");
      assert.equal(r.status, verdict === "yes" ? 0 : 1, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.verdict, verdict);
      assert.deepEqual(out.defaultRoles, roles);
    });
  }

  test("an access policy that allows it is reported first; selfsubjectreviews (authentication.k8s.io) is basic-user's", () => {
    const admin: PolicyAssociation[] = [
      {
        arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        scope: { type: "cluster" },
      },
    ];
    const byPolicy = evaluateAsCluster(admin, { verb: "get", nonResourceURL: "/healthz" });
    assert.equal(byPolicy.policy, admin[0]?.arn);
    assert.deepEqual(byPolicy.defaultRoles, []);
    const review = {
      verb: "create",
      apiGroup: "authentication.k8s.io",
      resource: "selfsubjectreviews",
      namespace: null,
      clusterScoped: true,
    };
    assert.equal(evaluateAccess([], review).verdict, "no", "no access policy grants it");
    const d = evaluateAsCluster([], review);
    assert.equal(d.verdict, "yes");
    assert.deepEqual(d.defaultRoles, ["system:basic-user"]);
  });
});

describe("--role-arn with a session ARN", () => {
  const session = `arn:aws:sts::111111111111:assumed-role/${VIEW}/alice@example.com`;

  test("maps to the role it belongs to, says so, and answers for that role", () => {
    const r = canI("get", "pods", "-n", "analytics", "--role-arn", session);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "yes\n");
    assert.match(
      r.stderr,
      new RegExp(
        `xeks: note: ${session.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is a session \\(alice@example\\.com\\) of the access role ${VIEW_ARN.replace(/[/]/g, "\\/")}; EKS authorizes a session through its role's access entry`,
      ),
    );
    const json = JSON.parse(
      canI("get", "pods", "-n", "payments", "--role-arn", session, "-o", "json").stdout,
    );
    assert.equal(json.role, VIEW_ARN);
    assert.equal(json.verdict, "no", "the view role's scope is namespace analytics");
  });

  test("a role ARN with another case or a path maps too; a session of a role that is not an access role is exit 2", () => {
    const lower = canI("get", "pods", "-n", "analytics", "--role-arn", VIEW_ARN.toLowerCase(), "-o", "json");
    assert.equal(lower.status, 0, lower.stderr);
    assert.equal(JSON.parse(lower.stdout).role, VIEW_ARN);
    const pathed = canI(
      "get",
      "pods",
      "-n",
      "analytics",
      "--role-arn",
      `arn:aws:iam::111111111111:role/teams/${VIEW}`,
    );
    assert.equal(pathed.status, 0, pathed.stderr);
    const other = canI(
      "get",
      "pods",
      "--role-arn",
      "arn:aws:sts::111111111111:assumed-role/Someone-Else/bob",
    );
    assert.equal(other.status, 2);
    assert.match(
      other.stderr,
      /is a session of role Someone-Else, which is not an access role of .*teams\.yaml/,
    );
    assert.match(
      other.stderr,
      /--role-arn: expected the ARN or name of one of the access roles, or of a session of one/,
    );
    assert.doesNotMatch(other.stderr, /\n\s+at /);
    const unknown = canI("get", "pods", "--role-arn", "Nobody");
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown access role "Nobody"/);
  });
});
