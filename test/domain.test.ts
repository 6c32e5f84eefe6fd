/**
 * The domain layer's ARN, access-entry, trust-policy and name helpers (src/domain): the one parser against the
 * shapes AWS prints, the canonical role ARN EKS matches, and the one trust-policy builder.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  entryArnsOfRole,
  findAccessEntry,
  findAccessEntryArn,
  findSessionEntry,
} from "../src/domain/access-entry.js";
import {
  accessPolicyArn,
  accessPolicyName,
  assumedRoleArn,
  canonicalRoleArn,
  eksClusterArn,
  formatArn,
  parseArn,
  parsePrincipal,
  partitionOf,
  roleArn,
  roleOfArn,
} from "../src/domain/arn.js";
import { ec2IdPattern, ROLE_ARN_PATTERN } from "../src/domain/names.js";
import { externalIdsOf, policyLength, trustedAwsPrincipals, trustPolicy } from "../src/domain/trust.js";

test("parseArn splits the six fields, keeps colons in the resource, and formatArn inverts it", () => {
  const text = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/eks/c:*";
  const a = parseArn(text);
  assert.deepEqual(a, {
    partition: "aws",
    service: "logs",
    region: "us-east-1",
    account: "111111111111",
    resource: "log-group:/aws/eks/c:*",
  });
  assert.equal(a && formatArn(a), text);
  for (const bad of [
    "",
    "arn:aws:iam",
    "arn:aws:iam::111111111111:",
    "not:an:arn:x:y:z",
    "arn:aws:iam:: 1:role/x",
  ])
    assert.equal(parseArn(bad), undefined, bad);
});

test("the builders write the ARNs AWS prints", () => {
  assert.equal(roleArn("aws", "111111111111", "R"), "arn:aws:iam::111111111111:role/R");
  assert.equal(roleArn("aws-cn", "111111111111", "R", "/a/b/"), "arn:aws-cn:iam::111111111111:role/a/b/R");
  assert.equal(
    assumedRoleArn("aws", "222222222222", "R", "i-0abc"),
    "arn:aws:sts::222222222222:assumed-role/R/i-0abc",
  );
  assert.equal(
    eksClusterArn("aws", "eu-west-1", "111111111111", "c"),
    "arn:aws:eks:eu-west-1:111111111111:cluster/c",
  );
  assert.equal(
    accessPolicyArn("AmazonEKSViewPolicy", "aws-us-gov"),
    "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
  );
  assert.equal(partitionOf("cn-north-1"), "aws-cn");
});

test("accessPolicyName reads only access policy ARNs of a known partition", () => {
  assert.equal(accessPolicyName(accessPolicyArn("AmazonEKSEditPolicy")), "AmazonEKSEditPolicy");
  assert.equal(accessPolicyName("arn:aws-x:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"), undefined);
  assert.equal(
    accessPolicyName("arn:aws:eks::111111111111:cluster-access-policy/AmazonEKSEditPolicy"),
    undefined,
  );
  assert.equal(accessPolicyName("AmazonEKSEditPolicy"), undefined);
});

test("principals and roles: sessions, paths, users, root", () => {
  assert.deepEqual(parsePrincipal("arn:aws:sts::222222222222:assumed-role/R/i-1/x"), {
    kind: "assumed-role",
    partition: "aws",
    account: "222222222222",
    role: "R",
    session: "i-1/x",
  });
  assert.equal(parsePrincipal("arn:aws:sts::222222222222:user/u")?.kind, "user");
  assert.equal(parsePrincipal("arn:aws:iam::222222222222:root")?.kind, "root");
  assert.equal(parsePrincipal("arn:aws:iam::2222:root"), undefined);
  assert.deepEqual(roleOfArn("arn:aws:iam::111111111111:role/team/a/Admin"), {
    partition: "aws",
    account: "111111111111",
    name: "Admin",
    path: "/team/a/",
  });
  assert.equal(roleOfArn("arn:aws:sts::111111111111:assumed-role/Admin/s")?.session, "s");
  assert.equal(roleOfArn("arn:aws:iam::111111111111:user/Admin"), undefined);
});

test("canonicalRoleArn strips the path, maps a session to its role and lower-cases, as EKS compares", () => {
  const want = "arn:aws:iam::111111111111:role/admin";
  assert.equal(canonicalRoleArn("arn:aws:iam::111111111111:role/Team/Admin"), want);
  assert.equal(canonicalRoleArn("arn:aws:sts::111111111111:assumed-role/Admin/me"), want);
  assert.equal(canonicalRoleArn("Something-Else"), "something-else");
});

test("the access entry for a role: exact first, then by canonical ARN, never a session's entry", () => {
  const role = "arn:aws:iam::111111111111:role/Admin";
  const entries = {
    "arn:aws:sts::111111111111:assumed-role/Admin/me": {
      principalArn: "arn:aws:sts::111111111111:assumed-role/Admin/me",
    },
    "arn:aws:iam::111111111111:role/x/admin": { principalArn: "arn:aws:iam::111111111111:role/x/admin" },
  };
  assert.equal(findAccessEntry(entries, role)?.principalArn, "arn:aws:iam::111111111111:role/x/admin");
  assert.equal(
    findSessionEntry(entries, role)?.principalArn,
    "arn:aws:sts::111111111111:assumed-role/Admin/me",
  );
  const arns = Object.keys(entries);
  assert.equal(findAccessEntryArn(arns, role), "arn:aws:iam::111111111111:role/x/admin");
  assert.equal(findAccessEntryArn([...arns, role], role), role);
  assert.equal(entryArnsOfRole(arns, role).length, 2);
  assert.equal(findAccessEntry(entries, "arn:aws:iam::111111111111:role/Other"), undefined);
});

test("trustPolicy: one statement, principals deduplicated, the external id as a condition", () => {
  const doc = trustPolicy({ aws: ["arn:aws:iam::2:role/a", "arn:aws:iam::2:role/a"] }, "ext-1");
  assert.deepEqual(doc, {
    Version: "2012-10-17",
    Statement: [
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::2:role/a" },
        Condition: { StringEquals: { "sts:ExternalId": "ext-1" } },
      },
    ],
  });
  assert.deepEqual(externalIdsOf(doc), ["ext-1"]);
  assert.deepEqual(trustedAwsPrincipals(doc), ["arn:aws:iam::2:role/a"]);
  assert.deepEqual(trustPolicy({ service: "ec2.amazonaws.com" }).Statement[0]?.Principal, {
    Service: "ec2.amazonaws.com",
  });
  assert.equal(policyLength(doc), JSON.stringify(doc).length);
});

test("names: one pattern each", () => {
  assert.match("arn:aws-iso-b:iam::111111111111:role/p/R", ROLE_ARN_PATTERN);
  assert.doesNotMatch("arn:aws-x:iam::111111111111:role/R", ROLE_ARN_PATTERN);
  assert.match("rtb-0123456789abcdef0", ec2IdPattern("rtb"));
  assert.doesNotMatch("rtb-0123", ec2IdPattern("rtb"));
});
