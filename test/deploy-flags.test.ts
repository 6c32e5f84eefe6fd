/**
 * The flags of issue 14 on deploy, destroy and doctor, and what they print (unit tests, no AWS): the watch
 * command of a stack reached with `--assume-role-name`, the role name rule, the base session's hint when it has no
 * credentials, what a re-run after a failed deploy does, `--concurrency`'s digits, flags checked before `--yes`,
 * and CloudFormation events of one poll printed oldest first.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAssumeRoleName } from "../src/aws/assume-role-name.js";
import { AwsContext, whoAmI } from "../src/aws/session.js";
import { resumeScope } from "../src/cli/deploy.js";
import { parseConcurrency } from "../src/cli/doctor.js";
import { parseAssumeRoleOptions } from "../src/cli/profiles.js";
import { awsError } from "../src/deploy/aws.js";
import { RunTracker, watchCommand } from "../src/deploy/in-flight.js";
import { oldestFirst, XeksIoHost } from "../src/deploy/io-host.js";
import type { DeployEvent, DeployRunResult, StackRunReport } from "../src/deploy/types.js";
import { InputError, OperationError } from "../src/errors.js";
import { ROOT } from "./helpers/cli.js";

const ROLE_ARN = "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole";

describe("the watch command of a stack reached with --assume-role-name", () => {
  test("assumes the role with the base session, then asks CloudFormation with the role's credentials", () => {
    const t = new RunTracker("deploy");
    t.know([
      {
        name: "xeks-c-client-beta-link",
        phase: 3,
        account: "444444444444",
        region: "eu-west-1",
        credentials: "client beta",
        role: ROLE_ARN,
        baseProfile: "org admin",
      },
    ]);
    t.observe({
      type: "stack",
      stack: "xeks-c-client-beta-link",
      phase: 3,
      account: "444444444444",
      action: "create",
      status: "started",
    });
    const cmd = watchCommand(t.state) ?? "";
    assert.equal(
      cmd,
      `aws sts assume-role --role-arn ${ROLE_ARN} --role-session-name xeks-watch --region eu-west-1 --profile 'org admin' ` +
        `--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text | ` +
        `{ read -r k s t; AWS_ACCESS_KEY_ID="$k" AWS_SECRET_ACCESS_KEY="$s" AWS_SESSION_TOKEN="$t" ` +
        "aws cloudformation describe-stacks --stack-name xeks-c-client-beta-link --region eu-west-1; }",
    );
    // The command is one line a POSIX shell parses.
    const r = spawnSync("sh", ["-n", "-c", cmd], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });

  test("the ambient base session: no --profile on the assumption; a profile of its own: --profile, no role", () => {
    const t = new RunTracker("deploy");
    t.know([
      { name: "a", phase: 1, account: "1", region: "r", credentials: "client a", role: ROLE_ARN },
      { name: "b", phase: 1, account: "2", region: "r", credentials: "client b", profile: "ops" },
    ]);
    t.observe({ type: "stack", stack: "a", phase: 1, account: "1", action: "create", status: "started" });
    assert.match(
      watchCommand(t.state) ?? "",
      /^aws sts assume-role --role-arn \S+ --role-session-name xeks-watch --region r --query/,
    );
    t.observe({ type: "stack", stack: "a", phase: 1, account: "1", action: "create", status: "done" });
    t.observe({ type: "stack", stack: "b", phase: 1, account: "2", action: "create", status: "started" });
    assert.equal(
      watchCommand(t.state),
      "aws cloudformation describe-stacks --stack-name b --region r --profile ops",
    );
  });
});

describe("--assume-role-name: IAM's role name rule, and the base session's hint", () => {
  test("a path, a blank, an ARN, 65 characters: exit 2 naming the flag", async () => {
    assert.equal(parseAssumeRoleName("OrganizationAccountAccessRole"), "OrganizationAccountAccessRole");
    assert.equal(parseAssumeRoleName("a+=,.@_-9"), "a+=,.@_-9");
    for (const bad of ["a/b", " X", "X ", "", "x".repeat(65), "arn:aws:iam::1:role/X"]) {
      await assert.rejects(parseAssumeRoleOptions({ assumeRoleName: bad }), (err: unknown) => {
        assert.ok(err instanceof InputError, bad);
        assert.equal(err.issues[0]?.path, "--assume-role-name");
        return true;
      });
    }
  });

  test("deploy: no base credentials points to --profile", () => {
    const err = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
    });
    const e = awsError(err, "checking the credentials for client beta (444444444444)", {
      flag: "--client-profile beta=PROFILE",
      role: ROLE_ARN,
      base: "the ambient credentials",
    });
    assert.ok(e instanceof OperationError);
    assert.match(
      e.hint ?? "",
      /name its profile with --profile PROFILE \(it assumes arn:aws:iam::444444444444:role/,
    );
    assert.match(e.hint ?? "", /--client-profile beta=PROFILE/);
  });

  describe("doctor and discover (src/aws/session.ts): no base credentials", () => {
    const saved = { ...process.env };
    before(() => {
      for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
      Object.assign(process.env, {
        AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      });
    });
    after(() => {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    });

    test("the hint names --profile for the base session, not --cluster-profile alone", async () => {
      const ctx = new AwsContext({
        assumeRoleName: "OrganizationAccountAccessRole",
        accountOf: () => "111111111111",
        maxAttempts: 1,
      });
      try {
        const session = ctx.session({ label: "the cluster account", flag: "--cluster-profile" }, "eu-west-1");
        await assert.rejects(whoAmI(session), (err: unknown) => {
          assert.ok(err instanceof OperationError, String(err));
          assert.match(err.hint ?? "", /give the base session working credentials with --profile PROFILE/);
          assert.match(err.hint ?? "", /role\/OrganizationAccountAccessRole/);
          return true;
        });
      } finally {
        ctx.destroy();
      }
    });
  });
});

describe("after a failed deploy: what a re-run does", () => {
  const stack = (name: string, phase: number, outcome: StackRunReport["outcome"]): StackRunReport => ({
    name,
    phase,
    account: "1",
    region: "r",
    credentials: "cluster",
    outcome,
  });
  const result = (stacks: StackRunReport[], phase: number) =>
    ({
      stacks,
      failure: { stack: stacks.find((s) => s.outcome === "failed")?.name ?? "", reason: "x", phase },
    }) as unknown as DeployRunResult;

  test("--fail-fast: the failed stacks, the stacks of their phase not reached, and the later phases", () => {
    const r = result(
      [
        stack("i1", 1, "unchanged"),
        stack("l1", 3, "failed"),
        stack("l2", 3, "failed"),
        stack("l3", 3, "not-reached"),
        stack("l4", 3, "not-reached"),
        stack("k1", 4, "not-reached"),
        stack("k2", 4, "not-reached"),
        stack("m1", 5, "not-reached"),
      ],
      3,
    );
    assert.equal(
      resumeScope(r),
      "a re-run retries the 2 failed stacks (l1, l2), deploys the 2 stack(s) not reached in phase 3 (l3, l4) and then the later phases 4 (2 stack(s)), 5 (1 stack(s))",
    );
  });

  test("without --fail-fast: the failed stack and the later phase", () => {
    const r = result([stack("l1", 3, "failed"), stack("l2", 3, "created"), stack("k1", 4, "not-reached")], 3);
    assert.equal(resumeScope(r), "a re-run retries l1 and then the later phase 4 (1 stack(s))");
  });
});

describe("--concurrency: decimal digits, 1 to 64; flags before --yes", () => {
  test("only digits", () => {
    assert.equal(parseConcurrency("8"), 8);
    assert.equal(parseConcurrency("64"), 64);
    assert.equal(parseConcurrency("08"), 8);
    for (const bad of [" 8", "8 ", "0x8", "1e1", "+8", "8.0", "0", "65", "", "-1"]) {
      assert.throws(
        () => parseConcurrency(bad),
        (err: unknown) => err instanceof InputError && err.issues[0]?.path === "--concurrency",
        JSON.stringify(bad),
      );
    }
  });

  test("destroy --concurrency 0 without --yes and without a terminal: the flag is named, not --yes", () => {
    const script = "import { run } from './src/cli/main.ts'; await run(process.argv.slice(1));";
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        script,
        "destroy",
        "examples/seed.yaml",
        "--concurrency",
        "0",
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        input: "",
        timeout: 60_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_EC2_METADATA_DISABLED: "true" },
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--concurrency/);
    assert.doesNotMatch(r.stderr, /--yes/);
  });
});

describe("plain progress: the events of one poll oldest first", () => {
  const ev = (logicalId: string, status: string, time: string, stack = "s"): DeployEvent => ({
    type: "resource",
    stack,
    logicalId,
    resourceType: "AWS::IAM::Role",
    status,
    time,
  });

  test("events of equal time come newest first from CloudFormation: reversed; others by time", () => {
    const t1 = "2026-11-30T14:00:00.000Z";
    const t2 = "2026-11-30T14:00:01.000Z";
    const arrival = [
      // toolkit-lib's stable sort by Timestamp: equal times keep DescribeStackEvents' newest-first order.
      ev("ClientRole", "CREATE_COMPLETE", t1),
      ev("ClientRole", "CREATE_IN_PROGRESS", t1),
      ev("Other", "CREATE_IN_PROGRESS", t1, "s2"),
      ev("s", "CREATE_COMPLETE", t2),
    ];
    assert.deepEqual(
      oldestFirst(arrival as never).map((e) => `${e.stack} ${e.logicalId} ${e.status}`),
      [
        "s ClientRole CREATE_IN_PROGRESS",
        "s ClientRole CREATE_COMPLETE",
        "s s CREATE_COMPLETE",
        "s2 Other CREATE_IN_PROGRESS",
      ],
    );
  });

  test("the host emits a poll's batch oldest first, and flushes before a stack's outcome", async () => {
    const seen: string[] = [];
    const host = new XeksIoHost((e) => {
      if (e.type === "resource") seen.push(`${e.logicalId} ${e.status}`);
    });
    const at = new Date("2026-11-30T14:00:00.000Z");
    const notify = (id: string, logical: string, status: string) =>
      host.notify({
        code: "CDK_TOOLKIT_I5502",
        level: "info",
        message: "",
        time: at,
        action: "deploy",
        data: {
          event: {
            EventId: id,
            StackName: "s",
            LogicalResourceId: logical,
            ResourceType: "AWS::IAM::Role",
            ResourceStatus: status,
            Timestamp: at,
          },
        },
      } as never);
    await notify("2", "ClientRole", "CREATE_COMPLETE");
    await notify("1", "ClientRole", "CREATE_IN_PROGRESS");
    host.flush();
    assert.deepEqual(seen, ["ClientRole CREATE_IN_PROGRESS", "ClientRole CREATE_COMPLETE"]);
    await notify("3", "Other", "CREATE_IN_PROGRESS");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      seen.at(-1),
      "Other CREATE_IN_PROGRESS",
      "a batch is emitted on the next turn by itself",
    );
  });
});
