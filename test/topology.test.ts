import assert from "node:assert/strict";
import { test } from "node:test";
import { loadTopology } from "../src/topology/index.js";

test("the bundled examples load", () => {
  const seed = loadTopology("examples/seed.yaml");
  assert.equal(seed.cluster.name, "prac-eks-abhi");
  assert.equal(seed.access[0]?.arn, "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role");
  assert.equal(seed.clients[0]?.role.arn, "arn:aws:iam::222222222222:role/EC2-EKS-CrossAccount-Role");
  const teams = loadTopology("examples/teams.yaml");
  assert.deepEqual(teams.access[0]?.policies[0]?.scope, {
    type: "namespace",
    namespaces: ["payments", "team-*"],
  });
});
