/**
 * The pieces of the live source that need no emulator: the read-only guard refuses writes before any request,
 * the limiter bounds calls in flight, AWS errors are classified (denied / not found / failed), and discover's
 * small rules (subnet route tables, --client parsing).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CreateVpcCommand } from "@aws-sdk/client-ec2";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { parsePolicyDocument } from "../src/aws/read.js";
import { classify, ReadFailure, read } from "../src/aws/read-errors.js";
import { AwsContext, Limiter } from "../src/aws/session.js";
import { parseClientProfiles } from "../src/cli/profiles.js";
import { discover, parseClientSpec, subnetRouteTables } from "../src/discover/index.js";
import { InputError } from "../src/errors.js";
import type { RouteTableFact } from "../src/model/types.js";

describe("read-only guard", () => {
  test("a write is refused before credentials are resolved or a request is sent", async () => {
    const ctx = new AwsContext();
    try {
      // No endpoint is reachable and no credentials exist: the refusal must come first.
      const s = ctx.session(
        { profile: "xeks-no-such-profile", label: "test", flag: "--cluster-profile" },
        "ap-south-1",
      );
      await assert.rejects(
        s.iam.send(new CreateRoleCommand({ RoleName: "x", AssumeRolePolicyDocument: "{}" })),
        /refused iam:CreateRole: live reads are read-only/,
      );
      await assert.rejects(
        s.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" })),
        /refused ec2:CreateVpc/,
      );
      assert.equal(ctx.stats.calls, 0);
    } finally {
      ctx.destroy();
    }
  });
});

describe("Limiter", () => {
  test("never lets more than `limit` run at once, and runs them all", async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let peak = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const release = await limiter.acquire();
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, i % 3));
        active--;
        done++;
        release();
        release(); // releasing twice is harmless
      }),
    );
    assert.equal(peak, 3);
    assert.equal(done, 20);
  });

  test("rejects a limit below 1", () => {
    assert.throws(() => new Limiter(0), RangeError);
  });
});

describe("classify", () => {
  const err = (name: string, status?: number) =>
    Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
  test("IAM, EC2 and EKS denials", () => {
    for (const name of ["AccessDenied", "UnauthorizedOperation", "AccessDeniedException"]) {
      const c = classify(err(name, 403), "x:Y");
      assert.equal(c.kind, "denied", name);
      assert.equal(c.detail, `x:Y was denied (${name})`);
    }
  });
  test("not found, and everything else", () => {
    assert.equal(classify(err("NoSuchEntity", 404), "iam:GetRole").kind, "notFound");
    assert.equal(classify(err("ResourceNotFoundException", 404), "eks:DescribeCluster").kind, "notFound");
    assert.equal(classify(err("InvalidVpcID.NotFound", 400), "ec2:DescribeVpcs").kind, "notFound");
    const f = classify(err("ThrottlingException", 429), "eks:ListAccessEntries");
    assert.equal(f.kind, "failed");
    assert.match(f.detail, /ThrottlingException/);
    assert.equal(classify(err("ExpiredToken", 403), "sts:GetCallerIdentity").kind, "failed");
  });
  test("read() wraps SDK errors with the permission", async () => {
    await assert.rejects(
      read("iam:GetRole", async () => {
        throw err("AccessDenied", 403);
      }),
      (e: unknown) =>
        e instanceof ReadFailure && e.error.permission === "iam:GetRole" && e.error.kind === "denied",
    );
  });
});

describe("policy documents", () => {
  test("URL-encoded (as IAM returns them) or plain JSON", () => {
    const doc = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::a%b" }],
    };
    assert.deepEqual(parsePolicyDocument(encodeURIComponent(JSON.stringify(doc)), "x"), doc);
    assert.deepEqual(parsePolicyDocument(JSON.stringify(doc), "x"), doc);
    assert.throws(() => parsePolicyDocument("%7Bnot json", "x"), ReadFailure);
  });
});

describe("discover rules", () => {
  const table = (id: string, subnets: string[], main = false): RouteTableFact => ({
    id,
    vpcId: "vpc-1",
    account: "111111111111",
    routes: [],
    main,
    subnets,
  });
  test("a subnet's table is its explicit association, else the main table", () => {
    const tables = [table("rtb-main", [], true), table("rtb-a", ["subnet-a"]), table("rtb-unused", [])];
    assert.deepEqual(subnetRouteTables(tables, ["subnet-a", "subnet-b"]), ["rtb-a", "rtb-main"]);
    assert.deepEqual(subnetRouteTables(tables, ["subnet-a"]), ["rtb-a"]);
    assert.deepEqual(subnetRouteTables(tables, []), ["rtb-main"]);
  });
  test("--client NAME=ACCOUNT[:ROLE]", () => {
    assert.deepEqual(parseClientSpec("ops=222222222222"), { name: "ops", account: "222222222222" });
    assert.deepEqual(parseClientSpec("ops=222222222222:EC2-EKS-CrossAccount-Role"), {
      name: "ops",
      account: "222222222222",
      role: "EC2-EKS-CrossAccount-Role",
    });
    for (const bad of ["ops", "Ops=222222222222", "ops=2222", "ops=222222222222:", "ops=222222222222:a/b"]) {
      assert.throws(() => parseClientSpec(bad), InputError, bad);
    }
    // The library names the current flag itself (docs/cli.md), not the deprecated --client.
    assert.throws(
      () => parseClientSpec("ops"),
      (err: unknown) =>
        err instanceof InputError &&
        err.message === 'bad --client-account "ops"' &&
        err.issues[0]?.path === "--client-account",
    );
  });
  test("discover's input errors name --client-account before any AWS call", async () => {
    await assert.rejects(
      discover({ clusterName: "c", region: "eu-west-1", clients: [] }),
      (err: unknown) => err instanceof InputError && err.issues[0]?.path === "--client-account",
    );
    const twice = { name: "ops", account: "222222222222" };
    await assert.rejects(
      discover({ clusterName: "c", region: "eu-west-1", clients: [twice, twice] }),
      (err: unknown) =>
        err instanceof InputError &&
        err.issues[0]?.path === "--client-account" &&
        /one --client-account per name/.test(err.issues[0].message),
    );
  });
  test("--client-profile NAME=PROFILE", () => {
    assert.deepEqual(parseClientProfiles(["ops=b", "dev=c"]), { ops: "b", dev: "c" });
    assert.throws(() => parseClientProfiles(["ops"]), InputError);
    assert.throws(() => parseClientProfiles(["ops=a", "ops=b"]), InputError);
  });
});

describe("docs/doctor.md", () => {
  test("prints the read-only policy the code defines", async () => {
    const { readFileSync } = await import("node:fs");
    const { DOCTOR_POLICY } = await import("../src/model/live/permissions.js");
    const { ROOT } = await import("./helpers/cli.js");
    const doc = readFileSync(`${ROOT}docs/doctor.md`, "utf8");
    assert.ok(doc.includes(`\`\`\`json\n${JSON.stringify(DOCTOR_POLICY, null, 2)}\n\`\`\``));
  });
});
