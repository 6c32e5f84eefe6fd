/**
 * One CLI vocabulary (docs/cli.md), on the real bin/xeks (needs `npm run build`): the flag table matches every
 * command's help; every old spelling still works, is hidden and prints one deprecation note; `-o/--output` is
 * on every command that reports; `xeks help CMD` exits 0 for every command (token included) and `xeks --help`
 * lists them all; every error starts `xeks:`; unknown flags, subcommands and topology keys get "did you mean".
 * Offline: no AWS endpoint is called.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ROOT, type RunResult, xeks } from "./helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "xeks-vocabulary-"));
after(() => rmSync(work, { recursive: true, force: true }));

const TEAMS = join(ROOT, "examples/teams.yaml");
const teams = readFileSync(TEAMS, "utf8");

/** No AWS: empty keys, every endpoint a closed local port. */
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  AWS_PROFILE: "",
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  XEKS_AWS_TIMEOUT_MS: "500",
  KUBECONFIG: join(work, "kubeconfig"),
};
const run = (args: string[]): RunResult => xeks(args, { cwd: work, env: ENV });

const COMMANDS = [
  "plan",
  "schema",
  "kubeconfig",
  "can-i",
  "doctor",
  "discover",
  "deploy",
  "diff",
  "destroy",
  "token",
  "sandbox",
  "audit",
];
const REPORTING = ["plan", "doctor", "discover", "deploy", "diff", "destroy", "kubeconfig", "can-i", "audit"];

const helpCache = new Map<string, string>();
function help(command: string): string {
  let text = helpCache.get(command);
  if (text === undefined) {
    const r = run(["help", command]);
    assert.equal(r.status, 0, `xeks help ${command}: ${r.stderr}`);
    assert.equal(r.stderr, "", `xeks help ${command} writes nothing on stderr`);
    text = r.stdout;
    helpCache.set(command, text);
  }
  return text;
}

/** Every message line on stderr is xeks's: the first starts `xeks:`, no `error:` from commander. */
function xeksMessage(r: RunResult): void {
  assert.match(r.stderr, /^xeks: /, r.stderr);
  assert.doesNotMatch(r.stderr, /^error:/m, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

const NOTE = (old: string, now: string) => `xeks: note: ${old} is deprecated; use ${now} (removed in 0.3)\n`;

describe("help", () => {
  test("xeks --help lists every command, token included, with a summary", () => {
    const r = run(["--help"]);
    assert.equal(r.status, 0, r.stderr);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c}\\b.* {2,}\\S`, "m"), c);
    // And this test knows every command there is.
    const listed = [...(r.stdout.split("Commands:")[1] ?? "").matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), [...COMMANDS, "help"].sort());
    assert.match(r.stdout, /docs\/cli\.md/);
    // Every exit code docs/cli.md lists.
    assert.match(r.stdout, /3 can-i cannot\s+evaluate, 130\/143 deploy, diff or destroy interrupted/);
  });

  for (const c of COMMANDS) {
    test(`xeks help ${c} and xeks ${c} --help exit 0 with the same page`, () => {
      const page = help(c);
      assert.match(page, new RegExp(`Usage: xeks ${c}\\b`));
      if (c !== "token") {
        const r = run([c, "--help"]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, page);
      }
    });
  }

  test("xeks help token is the token command's own help (as xeks token --help prints it)", () => {
    const own = run(["token", "--help"]);
    assert.equal(own.status, 0, own.stderr);
    assert.equal(help("token"), own.stdout);
    assert.match(help("token"), /--cluster-name NAME/);
    assert.match(help("token"), /there is no -o\/--output/);
  });
});

describe("the flag table of docs/cli.md", () => {
  const doc = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
  const rows = doc
    .split("\n")
    .filter((l) => /^\| `-/.test(l))
    .map((l) => l.split("|").map((c) => c.trim()))
    .map((cells) => ({
      flag: /--[a-z-]+/.exec(cells[1] ?? "")?.[0] ?? "",
      commands: (cells[3] ?? "").split(",").map((c) => c.trim()),
      old: [...(cells[4] ?? "").matchAll(/`(--[a-z-]+)[^`]*` \(([^)]+)\)/g)].map((m) => ({
        flag: m[1] ?? "",
        commands: (m[2] ?? "").split(",").map((c) => c.trim()),
      })),
    }));

  test("the README links it", () => {
    assert.match(readFileSync(join(ROOT, "README.md"), "utf8"), /\]\(docs\/cli\.md\)/);
  });

  test("every flag of the table is in the help of every command it lists", () => {
    assert.ok(rows.length >= 15, `found ${rows.length} rows`);
    for (const row of rows) {
      for (const c of row.commands) {
        assert.ok(COMMANDS.includes(c), `docs/cli.md names an unknown command ${c}`);
        assert.match(help(c), new RegExp(`${row.flag}\\b(?!-)`), `${c} has ${row.flag}`);
      }
    }
  });

  test("no command's help shows an old spelling", () => {
    const old = rows.flatMap((r) => r.old);
    assert.ok(old.length >= 3);
    for (const o of old) {
      for (const c of o.commands) {
        assert.doesNotMatch(help(c), new RegExp(`${o.flag}\\b(?!-)`), `${c} --help hides ${o.flag}`);
      }
    }
  });

  test("-o/--output is on every command that reports, and only schema and token lack it", () => {
    for (const c of COMMANDS) {
      const has = /-o, --output <format>/.test(help(c));
      assert.equal(has, REPORTING.includes(c), c);
    }
  });
});

describe("old spellings: still work, one note each", () => {
  test("can-i --role is --role-arn", () => {
    const args = ["can-i", "create", "pods/exec", "-n", "team-a", TEAMS, "-o", "json"];
    const now = run([...args, "--role-arn", "Payments-EKS-Edit-Role"]);
    const old = run([...args, "--role", "Payments-EKS-Edit-Role"]);
    assert.equal(now.status, 0, now.stderr);
    assert.equal(old.status, 0, old.stderr);
    assert.equal(old.stdout, now.stdout);
    assert.equal(now.stderr, "");
    assert.equal(old.stderr, NOTE("--role", "--role-arn"));
  });

  test("can-i -q: the note too is quiet", () => {
    const r = run(["can-i", "list", "nodes", "-q", TEAMS, "--role", "Payments-EKS-Edit-Role"]);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, "", ""]);
  });

  test("can-i: an unknown access role is named by --role-arn, whichever spelling gave it", () => {
    const r = run(["can-i", "get", "pods", TEAMS, "--role", "Nobody"]);
    assert.equal(r.status, 2);
    assert.ok(r.stderr.startsWith(NOTE("--role", "--role-arn")), r.stderr);
    assert.match(r.stderr, /\n {2}--role-arn: expected the ARN or name of one of the access roles/);
  });

  test("kubeconfig --access-role is --role-arn (choosing among a client's access roles)", () => {
    // Offline: the topology gives the endpoint and the CA, so no DescribeCluster.
    const file = join(work, "two-roles.yaml");
    writeFileSync(
      file,
      teams
        .replace(
          "  securityGroupId:",
          "  certificateAuthority: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==\n  securityGroupId:",
        )
        .replace(
          "  - role: Analytics-EKS-View-Role",
          "  - role: Payments-EKS-View-Role\n    clients: [payments]\n    policies:\n      - { policy: AmazonEKSViewPolicy, namespaces: [payments] }\n  - role: Analytics-EKS-View-Role",
        ),
    );
    const base = ["kubeconfig", file, "--client", "payments", "--dry-run", "-o", "json"];
    const none = run(base);
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /choose one with --role-arn/);
    const now = run([...base, "--role-arn", "Payments-EKS-View-Role"]);
    assert.equal(now.status, 0, now.stderr);
    assert.equal(now.stderr, "");
    assert.match(JSON.parse(now.stdout).context, /^Payments-EKS-View-Role@prac-eks-abhi$/);
    const byArn = run([...base, "--role-arn", "arn:aws:iam::111111111111:role/Payments-EKS-View-Role"]);
    assert.equal(byArn.stdout, now.stdout);
    const old = run([...base, "--access-role", "Payments-EKS-View-Role"]);
    assert.equal(old.status, 0, old.stderr);
    assert.equal(old.stdout, now.stdout);
    assert.equal(old.stderr, NOTE("--access-role", "--role-arn"));
    const wrong = run([...base, "--role-arn", "Nope"]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /\n {2}--role-arn: expected one of: Payments-EKS-Edit-Role/);
  });

  test("doctor --access-role is --role-arn (a --from-client flag)", () => {
    const r = run(["doctor", TEAMS, "--access-role", "Payments-EKS-Edit-Role"]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      `${NOTE("--access-role", "--role-arn")}xeks: --role-arn only with --from-client\n` +
        "  --role-arn: add --from-client to probe from the client instance, or drop it\n",
    );
  });

  test("discover --client NAME=ACCOUNT is --client-account; --access-role is --role-arn", () => {
    const existing = join(work, "existing.yaml");
    writeFileSync(existing, "taken\n");
    // Every flag is read and checked before any AWS call; the existing --out is refused last.
    const args = ["discover", "--cluster-name", "c1", "--out", existing];
    const now = run([...args, "--client-account", "ops=222222222222", "--role-arn", "Access"]);
    const old = run([...args, "--client", "ops=222222222222", "--access-role", "Access"]);
    assert.equal(now.status, 2);
    assert.match(now.stderr, /^xeks: .*exists/);
    assert.equal(old.status, 2);
    assert.equal(
      old.stderr,
      NOTE("--client", "--client-account") + NOTE("--access-role", "--role-arn") + now.stderr,
    );
    // Repeated old spellings: values collected, one note per flag.
    const twice = run([...args, "--client", "ops=222222222222", "--client", "dev=333333333333"]);
    assert.equal(twice.stderr.split("is deprecated").length - 1, 1, twice.stderr);
    assert.match(twice.stderr, /exists/);
  });

  test("discover --client without = is not a client name there: it names --client-account", () => {
    const r = run(["discover", "--cluster-name", "c1", "--client", "ops"]);
    assert.equal(r.status, 2);
    xeksMessage(r);
    assert.match(r.stderr, /--client-account: give each client as --client-account ops=ACCOUNT\[:ROLE\]/);
    const none = run(["discover", "--cluster-name", "c1"]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /--client-account: give --client-account NAME=ACCOUNT\[:ROLE\]/);
    const bad = run(["discover", "--cluster-name", "c1", "--client-account", "ops=2222"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--client-account/);
    assert.doesNotMatch(bad.stderr, /--client[ "']/);
  });

  test("discover --role-arn takes an ARN or a name; -o is text or json", () => {
    const bad = run([
      "discover",
      "--cluster-name",
      "c1",
      "--client-account",
      "ops=222222222222",
      "--role-arn",
      "arn:aws:sts::111111111111:assumed-role/R/s",
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad --role-arn/);
    const yaml = run([
      "discover",
      "--cluster-name",
      "c1",
      "--client-account",
      "ops=222222222222",
      "-o",
      "yaml",
    ]);
    assert.equal(yaml.status, 2);
    assert.match(yaml.stderr, /unknown output format "yaml"\n {2}--output: expected text or json/);
  });
});

describe("one error format, with did you mean", () => {
  const cases: [string[], RegExp][] = [
    [["plna"], /^xeks: unknown command 'plna' \(did you mean plan\?\)\n {2}see: xeks --help\n$/],
    [
      ["plan", "--outptu", "json"],
      /^xeks: unknown option '--outptu' \(did you mean --output\?\)\n {2}see: xeks plan --help\n$/,
    ],
    [["schema", "--hepl"], /\(did you mean --help\?\)/],
    [["kubeconfig", "--role-ar", "x"], /\(did you mean --role-arn\?\)/],
    [["can-i", "get", "pods", "--namspace", "a"], /\(did you mean --namespace\?\)/],
    [["doctor", "--clustr-profile", "a"], /\(did you mean --cluster-profile\?\)/],
    [["discover", "--clustr-name", "a"], /\(did you mean --cluster-name\?\)/],
    [["deploy", "--allow-auth-mode-chnage"], /\(did you mean --allow-auth-mode-change\?\)/],
    [["diff", "--client-profil", "a=b"], /\(did you mean --client-profile\?\)/],
    [["destroy", "--yess"], /\(did you mean --yes\?\)/],
    [
      ["token", "--clustr-name", "a"],
      /^xeks: unknown option --clustr-name \(did you mean --cluster-name\?\)\n {2}usage: xeks token .*\n {2}see: xeks token --help\n$/,
    ],
    [["can-i"], /^xeks: missing required argument 'verb'\n {2}see: xeks can-i --help\n$/],
    [["help", "nope"], /^xeks: /],
  ];
  for (const [args, expected] of cases) {
    test(`xeks ${args.join(" ")}: exit 2, ${expected}`, () => {
      const r = run(args);
      assert.equal(r.status, 2, r.stderr);
      xeksMessage(r);
      assert.match(r.stderr, expected);
      assert.equal(r.stdout, "");
    });
  }

  test("an old spelling is never suggested", () => {
    const r = run(["can-i", "get", "pods", "--rol", "x"]);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /did you mean --role\?/);
  });
});

describe("did you mean, for a key of the topology file", () => {
  const cases: [string, string, string, string][] = [
    [
      "a client's key",
      "    role: Payments-EKS-Client-Role",
      "    rol: Payments-EKS-Client-Role",
      'clients[0].rol: unknown key (did you mean "role"?)',
    ],
    [
      "a nested key",
      "    routeTables: [rtb-0aaa",
      "    routeTabels: [rtb-0aaa",
      'cluster.vpc.routeTabels: unknown key (did you mean "routeTables"?)',
    ],
    [
      "a top-level key",
      "access:\n",
      "acess: []\naccess:\n",
      "acess: unknown key (check its spelling and its place)",
    ],
    [
      "an access role's key",
      "    kubernetesGroups:",
      "    kubernetesGroup:",
      'access[1].kubernetesGroup: unknown key (did you mean "kubernetesGroups"?)',
    ],
    [
      "a key far from any",
      "    clients: [payments]",
      "    clients: [payments]\n    zzzzzz: 1",
      "access[0].zzzzzz: unknown key (check its spelling and its place)",
    ],
  ];
  for (const [name, from, to, expected] of cases) {
    test(name, () => {
      assert.ok(teams.includes(from), from);
      const file = join(work, `${name.replace(/\W+/g, "-")}.yaml`);
      writeFileSync(file, teams.replace(from, to));
      const r = run(["can-i", "get", "pods", file]);
      assert.equal(r.status, 2, r.stderr);
      xeksMessage(r);
      assert.ok(r.stderr.includes(expected), `stderr lacks ${expected}:\n${r.stderr}`);
    });
  }
});
