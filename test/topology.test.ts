import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { loadTopology, topologyJsonSchema } from "../src/topology/index.js";
import { xeks } from "./helpers/cli.js";

test("the bundled examples load, with defaults and ARNs filled in", () => {
  const seed = loadTopology("examples/seed.yaml");
  assert.equal(seed.cluster.name, "prac-eks-abhi");
  assert.equal(seed.cluster.arn, "arn:aws:eks:ap-south-1:111111111111:cluster/prac-eks-abhi");
  assert.equal(seed.access[0]?.arn, "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role");
  assert.deepEqual(seed.access[0]?.policies, [
    {
      name: "AmazonEKSClusterAdminPolicy",
      arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
      scope: { type: "cluster" },
    },
  ]);
  const ops = seed.clients[0];
  assert.equal(ops?.role?.arn, "arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role");
  assert.equal(ops?.region, "ap-south-1", "client region defaults to the cluster's");
  assert.equal(ops?.role?.existing, false);
  assert.equal(ops?.role.instanceProfile, "EC2-EKS-CrossAccount-Role");
  const teams = loadTopology("examples/teams.yaml");
  assert.deepEqual(teams.access[0]?.policies[0]?.scope, {
    type: "namespace",
    namespaces: ["payments", "team-*"],
  });
  assert.equal(teams.access[1]?.externalId, "analytics-7f3c2a");
  assert.equal(teams.clients[1]?.instance?.type, "t3.micro");
});

test("the committed JSON Schema is what `xeks schema` prints, and the examples satisfy it", () => {
  const committed = JSON.parse(readFileSync("schema/topology.schema.json", "utf8"));
  assert.deepEqual(
    committed,
    topologyJsonSchema(),
    "run `npm run schema` to refresh schema/topology.schema.json",
  );
  const r = xeks(["schema"]);
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(r.stdout), committed);
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(committed);
  for (const f of ["examples/seed.yaml", "examples/teams.yaml"]) {
    assert.ok(validate(parse(readFileSync(f, "utf8"))), `${f}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(validate({ version: 1, cluster: {}, clients: [], access: [], extra: 1 }), false);
});
