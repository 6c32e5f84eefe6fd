/**
 * The one chain runner (src/chain/runner.ts) that prove() and the client probe share: results in run order,
 * a step whose prerequisite did not get far enough is `unknown` naming the step that actually failed, a gate
 * (the probe's deadline) turns the steps it stops into `unknown`, a step that throws is `unknown`, a link that
 * does not apply records nothing, and the verdict is verdictOf's.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fail, pass, warn } from "../src/chain/link.js";
import { ChainRun, type LinkStep } from "../src/chain/runner.js";

const place = (s: string) => ({ subject: `client ${s}`, client: s });
const cluster = { name: "c", account: "111111111111", region: "ap-south-1" };

function step(
  id: LinkStep<string>["id"],
  prerequisites: LinkStep<string>["id"][],
  evaluate: LinkStep<string>["evaluate"],
): LinkStep<string> {
  return { id, prerequisites, evaluate };
}

describe("ChainRun", () => {
  test("a failed prerequisite blocks its dependents, which name the root; values pass along", async () => {
    const run = new ChainRun<string>({ place, crashFix: "report it", rerun: "run the probe again" });
    const seen: unknown[] = [];
    await run.runAll(
      [
        step("client.identity", [], () => ({
          finding: fail("wrong account", "use the right one"),
          value: 1,
        })),
        step("client.dns", [], () => ({ finding: fail("NXDOMAIN", "fix DNS") })),
        step("client.tcp", ["client.dns"], () => ({ finding: pass("never"), value: 2 })),
        step("client.tls", ["client.tcp"], () => ({ finding: pass("never"), value: 3 })),
        step("client.assume-role", ["client.identity"], () => {
          seen.push(run.value("client.identity"));
          return { finding: warn("slow", "nothing"), value: 4 };
        }),
      ],
      "ops",
    );
    const byId = new Map(run.links.map((l) => [l.id, l]));
    assert.deepEqual(
      run.links.map((l) => [l.id, l.status]),
      [
        ["client.identity", "fail"],
        ["client.dns", "fail"],
        ["client.tcp", "unknown"],
        ["client.tls", "unknown"],
        ["client.assume-role", "warn"],
      ],
    );
    assert.equal(byId.get("client.tcp")?.summary, "not tried: client.dns failed");
    assert.equal(byId.get("client.tcp")?.fix, "fix client.dns first, then run the probe again");
    assert.equal(byId.get("client.tls")?.summary, "not tried: client.dns failed (needed by client.tcp)");
    // A fail that still gives a value (a wrong but working identity) lets its dependents run.
    assert.deepEqual(seen, [1]);
    assert.equal(byId.get("client.tcp")?.subject, "client ops");
    assert.equal(byId.get("client.tcp")?.client, "ops");
    assert.equal(run.report("client", cluster, []).verdict, "fail");
  });

  test("a gate stops steps; their dependents say they were not tried, and why", async () => {
    let open = true;
    const run = new ChainRun<string>({
      place,
      crashFix: "report it",
      gate: () =>
        open ? undefined : { reason: "the overall deadline passed", finding: fail("too late", "longer") },
    });
    await run.run(
      step("client.identity", [], () => {
        open = false;
        return { finding: pass("ok"), value: true };
      }),
      "ops",
    );
    await run.run(
      step("client.assume-role", ["client.identity"], () => ({ finding: pass("never") })),
      "ops",
    );
    await run.run(
      step("client.token", ["client.assume-role"], () => ({ finding: pass("never") })),
      "ops",
    );
    const [, assume, token] = run.links;
    assert.equal(assume?.summary, "too late");
    assert.equal(token?.summary, "not tried: client.assume-role was not tried (the overall deadline passed)");
    assert.equal(token?.fix, "fix client.assume-role first, then run xeks again");
  });

  test("a step that throws is unknown with the crash fix; a link that does not apply records nothing", async () => {
    const run = new ChainRun<string>({ place, crashFix: "report this as a bug" });
    await run.runAll(
      [
        step("network.peering", [], () => {
          throw new Error("boom");
        }),
        step("network.endpoint", [], () => null),
        step("iam.client-role", [], () => ({ finding: pass("fine", []) })),
      ],
      "ops",
    );
    assert.equal(run.links.length, 2);
    assert.equal(run.links[0]?.status, "unknown");
    assert.equal(run.links[0]?.summary, "the check itself failed: boom");
    assert.equal(run.links[0]?.fix, "report this as a bug");
    // Evidence is kept as the finding gave it (prove() keeps an empty list).
    assert.deepEqual(run.links[1]?.evidence, []);
    const report = run.report("plan", cluster, [{ name: "ops", account: "222222222222" }]);
    assert.equal(report.verdict, "unknown");
    assert.equal(report.kind, "ChainReport");
  });
});
