/**
 * Redaction (docs/security.md#redaction): unit tests of `redact` (src/aws/redact.ts) and of the output filter
 * (src/cli/redact-output.ts), then the acceptance test: every command that talks to AWS, run through bin/xeks
 * (build first) against a loopback endpoint that echoes the whole signed request in its error
 * (test/helpers/aws-echo.ts), in every output form, must not show a secret on stdout, stderr or in any file it
 * writes.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import {
  forgetSecrets,
  REDACTED,
  redact,
  rememberCredentials,
  rememberingProvider,
  rememberSecret,
} from "../src/aws/redact.js";
import { installOutputRedaction, redactChunk } from "../src/cli/redact-output.js";
import { type AwsEcho, type EchoIdentity, startAwsEcho } from "./helpers/aws-echo.js";
import { type IsolatedEnv, isolatedAwsEnv } from "./helpers/aws-env.js";
import { ROOT } from "./helpers/cli.js";
import { type AsyncRunResult, xeksAsync } from "./helpers/spawn.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN = "FwoGZXIvYXdzEBYaDH+example/session+token/with=specials==";
const SIG = "38723ef6ffeda57ffae92f6efb3ff86d5766cd4929eebe40196cbcdb769c138b";
const AUTH = `AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20250101/ap-south-1/sts/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=${SIG}`;

describe("redact: known values", () => {
  before(() => forgetSecrets());
  after(() => forgetSecrets());

  test("a remembered value in plain, URL-encoded, double-encoded, JSON- and XML-escaped forms, and mixed", () => {
    rememberSecret(SECRET);
    const forms = [
      SECRET,
      encodeURIComponent(SECRET),
      encodeURIComponent(SECRET).replace(/%2F/g, "%2f"),
      encodeURIComponent(encodeURIComponent(SECRET)),
      SECRET.replace(/\//g, "\\/"),
      SECRET.replace(/\//g, "\\u002F"),
      SECRET.replace(/\//g, "&#x2F;"),
      SECRET.replace(/\//g, "&#47;"),
      SECRET.replace("/", "%2F").replace("/", "\\/"),
    ];
    for (const f of forms) {
      assert.equal(redact(`before ${f} after`), `before ${REDACTED} after`, f);
    }
  });

  test("a cut value: any prefix of at least 12 characters, up to where it stops", () => {
    rememberSecret(SECRET);
    assert.equal(redact(`x ${SECRET.slice(0, 12)}...`), `x ${REDACTED}...`);
    assert.equal(redact(`x ${SECRET.slice(0, 25)}`), `x ${REDACTED}`);
    assert.equal(redact(`x ${SECRET.slice(0, 11)}`), `x ${SECRET.slice(0, 11)}`, "11 characters are left");
  });

  test("values shorter than 8 characters are not remembered", () => {
    rememberSecret("short");
    rememberSecret("");
    rememberSecret(undefined);
    assert.equal(redact("a short text"), "a short text");
  });

  test("the ambient AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, read at each call", () => {
    const saved = { k: process.env.AWS_SECRET_ACCESS_KEY, t: process.env.AWS_SESSION_TOKEN };
    try {
      process.env.AWS_SECRET_ACCESS_KEY = "ambient/secret+value=0123456789";
      process.env.AWS_SESSION_TOKEN = TOKEN;
      assert.equal(
        redact(`k ambient/secret+value=0123456789 t ${encodeURIComponent(TOKEN)}`),
        `k ${REDACTED} t ${REDACTED}`,
      );
      // `extra` values too (src/token/plugin.ts passes the environment it was given).
      assert.equal(redact("x extra-secret-1 y", ["extra-secret-1"]), `x ${REDACTED} y`);
    } finally {
      for (const [k, v] of [
        ["AWS_SECRET_ACCESS_KEY", saved.k],
        ["AWS_SESSION_TOKEN", saved.t],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test("rememberCredentials and rememberingProvider feed the registry", async () => {
    forgetSecrets();
    const creds = {
      accessKeyId: "ASIAIOSFODNN7EXAMPLE",
      secretAccessKey: "provider-secret-0001",
      sessionToken: "provider-token-0001",
    };
    const provider = rememberingProvider(async () => creds);
    assert.equal(redact("provider-secret-0001"), "provider-secret-0001");
    assert.equal(await provider(), creds);
    assert.equal(redact("a provider-secret-0001 b provider-token-0001"), `a ${REDACTED} b ${REDACTED}`);
    rememberCredentials({ SecretAccessKey: "sts-shaped-secret-01", SessionToken: "sts-shaped-token-001" });
    assert.equal(redact("sts-shaped-secret-01 sts-shaped-token-001"), `${REDACTED} ${REDACTED}`);
    assert.equal(redact("ASIAIOSFODNN7EXAMPLE"), "ASIAIOSFODNN7EXAMPLE", "an access key id is not a secret");
  });
});

describe("redact: secret-shaped text", () => {
  test("a SigV4 Authorization value, whole; other authorization values", () => {
    assert.equal(redact(`Authorization: ${AUTH}\nnext`), `Authorization: ${REDACTED}\nnext`);
    assert.equal(redact(`authorization:${AUTH}`), `authorization:${REDACTED}`);
    assert.equal(redact(JSON.stringify({ authorization: AUTH })), `{"authorization":"${REDACTED}"}`);
    assert.equal(redact(`sent with ${AUTH} (x)`), `sent with ${REDACTED} (x)`);
    assert.equal(redact("Authorization: Bearer abc.def-ghi"), `Authorization: ${REDACTED}`);
  });

  test("Signature=, X-Amz-Signature=, Credential=, X-Amz-Credential=, also URL-encoded", () => {
    const url =
      "https://sts.ap-south-1.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20250101%2Fap-south-1%2Fsts%2Faws4_request" +
      `&X-Amz-Security-Token=${encodeURIComponent(TOKEN)}&X-Amz-Signature=${SIG}&X-Amz-SignedHeaders=host`;
    assert.equal(
      redact(url),
      "https://sts.ap-south-1.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
        `&X-Amz-Credential=${REDACTED}&X-Amz-Security-Token=${REDACTED}&X-Amz-Signature=${REDACTED}&X-Amz-SignedHeaders=host`,
    );
    assert.equal(redact(`x?${encodeURIComponent(url.split("?")[1] ?? "")}`).includes(SIG), false);
    assert.equal(
      redact(`Signature=${SIG}, Credential=AKIAIOSFODNN7EXAMPLE/x`),
      `Signature=${REDACTED}, Credential=${REDACTED}`,
    );
    // HTML-escaped, as in the report.
    assert.equal(
      redact(`X-Amz-Security-Token=${encodeURIComponent(TOKEN)}&amp;X-Amz-Signature=${SIG}`),
      `X-Amz-Security-Token=${REDACTED}&amp;X-Amz-Signature=${REDACTED}`,
    );
  });

  test("security token header lines and query values (any case), credential fields, k8s-aws-v1 tokens", () => {
    assert.equal(redact(`x-amz-security-token:${TOKEN}\nhost:x`), `x-amz-security-token:${REDACTED}\nhost:x`);
    assert.equal(redact(`X-Amz-Security-Token: ${TOKEN} next`), `X-Amz-Security-Token: ${REDACTED} next`);
    assert.equal(
      redact(JSON.stringify(`x-amz-security-token:${TOKEN}\nhost:x`)),
      `"x-amz-security-token:${REDACTED}\\nhost:x"`,
    );
    assert.equal(
      redact(`{"SessionToken":"${TOKEN}","SecretAccessKey": "${SECRET}"}`),
      `{"SessionToken":"${REDACTED}","SecretAccessKey": "${REDACTED}"}`,
    );
    assert.equal(
      redact(`<SecretAccessKey>${SECRET}</SecretAccessKey><SessionToken>${TOKEN}</SessionToken>`),
      `<SecretAccessKey>${REDACTED}</SecretAccessKey><SessionToken>${REDACTED}</SessionToken>`,
    );
    assert.equal(redact(`aws_secret_access_key = ${SECRET}`), `aws_secret_access_key = ${REDACTED}`);
    assert.equal(redact("token k8s-aws-v1.aHR0cHM6Ly9zdHM_x-y end"), `token ${REDACTED} end`);
  });

  test("ordinary text is left alone, and redacting twice changes nothing more", () => {
    const prose = [
      "The request signature we calculated does not match the signature you provided.",
      "The security token included in the request is invalid.",
      "Credential should be scoped to a valid region.",
      "User: arn:aws:sts::222222222222:assumed-role/EC2-EKS-CrossAccount-Role/i-0123 is not authorized",
      "credential_process = /usr/local/bin/creds; SignedHeaders=host;x-amz-date",
      "access key AKIAIOSFODNN7EXAMPLE, session token expired, x-amz-security-token;host",
    ].join("\n");
    assert.equal(redact(prose), prose);
    const once = redact(`Authorization: ${AUTH} x-amz-security-token:${TOKEN} k8s-aws-v1.abc`);
    assert.equal(redact(once), once);
  });
});

describe("the output filter", () => {
  test("string and byte chunks are redacted; other encodings and clean chunks pass as they are", () => {
    const auth = `Authorization: ${AUTH}`;
    assert.equal(redactChunk(auth), `Authorization: ${REDACTED}`);
    assert.equal(String(redactChunk(Buffer.from(auth))), `Authorization: ${REDACTED}`);
    const clean = Buffer.from("nothing secret");
    assert.equal(redactChunk(clean), clean);
    assert.equal(redactChunk("abcd", "hex"), "abcd");
  });

  test("installOutputRedaction wraps write, keeps callbacks and encodings, and is idempotent", async () => {
    let written = "";
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written += chunk.toString("utf8");
        cb();
      },
    }) as unknown as NodeJS.WriteStream;
    installOutputRedaction([sink]);
    installOutputRedaction([sink]);
    await new Promise<void>((resolve) => sink.write(`x-amz-security-token:${TOKEN}\n`, () => resolve()));
    await new Promise<void>((resolve) => sink.write(`Signature=${SIG}\n`, "utf8", () => resolve()));
    sink.write(Buffer.from("k8s-aws-v1.abcdef\n"));
    assert.equal(written, `x-amz-security-token:${REDACTED}\nSignature=${REDACTED}\n${REDACTED}\n`);
  });
});

// ---- acceptance: every AWS command against an echoing endpoint ---------------------------------------------

const AMBIENT: EchoIdentity = {
  accessKeyId: "ASIAECHOAMBIENT00001",
  secretAccessKey: "AmbientSecret/Key+Echo=0123456789abcdefg",
  sessionToken: `FwoGAmbientToken/EchoSession+Token=${"QW1iaWVudA/+=".repeat(20)}end`,
  account: "111111111111",
  arn: "arn:aws:sts::111111111111:assumed-role/Admin/ambient",
};
const ACCESS_ROLE = "arn:aws:iam::111111111111:role/EKS-CrossAccount-Access-Role";
const FILE = "xeks.yaml";
const CLIENT = ["--client-profile", "ops=client"];

/** One command: its arguments, what the text form adds, what the JSON form adds (run with XEKS_DEBUG=1). */
const COMMANDS: { name: string; args: string[]; text: string[]; json: string[] }[] = [
  { name: "deploy", args: ["deploy", FILE, "--yes", ...CLIENT], text: [], json: ["--output", "json"] },
  { name: "diff", args: ["diff", FILE, ...CLIENT], text: [], json: ["--output", "json"] },
  { name: "destroy", args: ["destroy", FILE, "--yes", ...CLIENT], text: [], json: ["--output", "json"] },
  {
    name: "doctor",
    args: ["doctor", FILE, ...CLIENT],
    text: ["-v", "--report", "report.html"],
    json: ["--output", "json", "--report", "report-json.html"],
  },
  {
    name: "doctor --from-client",
    args: ["doctor", "--from-client", FILE, "--timeout", "3000", "--deadline", "10000"],
    text: ["-v", "--report", "report.html"],
    json: ["--output", "json", "--report", "report-json.html"],
  },
  {
    name: "discover",
    args: [
      "discover",
      "--cluster-name",
      "prac-eks-abhi",
      "--region",
      "ap-south-1",
      "--client",
      "ops=222222222222:EC2-EKS-CrossAccount-Role",
      ...CLIENT,
    ],
    text: ["--out", "discovered.yaml"],
    json: ["--out", "-"],
  },
  {
    name: "kubeconfig",
    args: ["kubeconfig", FILE, "--client", "ops", "--kubeconfig", "kube.config"],
    text: [],
    json: ["--output", "json"],
  },
  {
    name: "token",
    args: [
      "token",
      "--cluster-name",
      "prac-eks-abhi",
      "--region",
      "ap-south-1",
      "--role-arn",
      ACCESS_ROLE,
      "--no-cache",
    ],
    text: [],
    json: [],
  },
];

interface Outcome {
  label: string;
  result: AsyncRunResult;
  /** Every file the run left in its working directory: path -> content. */
  files: Map<string, string>;
}

function filesUnder(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) filesUnder(p, out);
    else if (name !== FILE) out.set(p, readFileSync(p, "utf8"));
  }
  return out;
}

/** Run `tasks` at most `limit` at a time. */
async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

describe("no secret reaches the user when AWS echoes the signed request", () => {
  let echo: AwsEcho;
  let iso: IsolatedEnv;
  const outcomes = new Map<string, Outcome>();

  before(async () => {
    echo = await startAwsEcho({ identities: [AMBIENT] });
    iso = isolatedAwsEnv({
      config: [
        "[profile client]",
        "role_arn = arn:aws:iam::222222222222:role/XeksDeployer",
        "credential_source = Environment",
        "region = ap-south-1",
        "",
      ].join("\n"),
    });
    const tasks: (() => Promise<void>)[] = [];
    for (const mode of ["echo", "assume"] as const) {
      for (const c of COMMANDS) {
        for (const form of ["text", "json+debug"] as const) {
          const label = `${c.name} (${mode}, ${form})`;
          const cwd = join(iso.dir, "runs", label.replace(/[^\w]+/g, "-"));
          mkdirSync(cwd, { recursive: true });
          copyFileSync(join(ROOT, "examples", "seed.yaml"), join(cwd, FILE));
          const env: NodeJS.ProcessEnv = {
            ...iso.env,
            AWS_ACCESS_KEY_ID: AMBIENT.accessKeyId,
            AWS_SECRET_ACCESS_KEY: AMBIENT.secretAccessKey,
            AWS_SESSION_TOKEN: AMBIENT.sessionToken,
            AWS_REGION: "ap-south-1",
            AWS_ENDPOINT_URL: echo.url(mode),
            AWS_MAX_ATTEMPTS: "1",
            XEKS_AWS_TIMEOUT_MS: "5000",
            ...(form === "json+debug" ? { XEKS_DEBUG: "1" } : {}),
          };
          const args = [...c.args, ...(form === "text" ? c.text : c.json)];
          tasks.push(async () => {
            const result = await xeksAsync(args, { cwd, env, timeoutMs: 90_000 });
            outcomes.set(label, { label, result, files: filesUnder(cwd) });
          });
        }
      }
    }
    await pool(2, tasks);
  });
  after(async () => {
    await echo?.close();
    iso?.cleanup();
  });

  /** Everything that must never be shown: secrets, in plain and encoded forms, and signatures. */
  function forbidden(): { what: string; text: string }[] {
    const out: { what: string; text: string }[] = [];
    const secrets = [AMBIENT, ...echo.issued].flatMap((i) => [
      { what: `secret key of ${i.accessKeyId}`, value: i.secretAccessKey },
      { what: `session token of ${i.accessKeyId}`, value: i.sessionToken ?? "" },
    ]);
    for (const { what, value } of secrets) {
      out.push({ what, text: value });
      out.push({ what: `${what}, first 16 characters`, text: value.slice(0, 16) });
      out.push({ what: `${what}, URL-encoded`, text: encodeURIComponent(value) });
      out.push({ what: `${what}, JSON-escaped`, text: value.replace(/\//g, "\\/") });
    }
    for (const r of echo.requests) {
      const sig = /Signature=([0-9a-f]{64})/.exec(r.authorization)?.[1];
      if (sig) out.push({ what: `signature of ${r.service}:${r.action}`, text: sig.slice(0, 16) });
    }
    return out;
  }

  const SHAPES: { what: string; re: RegExp }[] = [
    { what: "Signature= with hex", re: /Signature(?:=|%3D)[0-9a-f]{8}/i },
    { what: "Credential= with an access key id", re: /Credential(?:=|%3D)(?:AKIA|ASIA)/i },
    { what: "an Authorization value", re: /AWS4-HMAC-SHA256[ ,]+Credential/i },
    { what: "a security token value", re: /x-amz-security-token(?::|=|%3D)\s*(?!\[redacted\])[A-Za-z0-9%]/i },
  ];

  function check(label: string, where: string, text: string, tokenIsTheJob = false): void {
    for (const f of forbidden()) {
      assert.ok(!text.includes(f.text), `${label}: ${where} shows the ${f.what}:\n${text}`);
    }
    for (const s of SHAPES) assert.doesNotMatch(text, s.re, `${label}: ${where} shows ${s.what}`);
    if (!tokenIsTheJob)
      assert.doesNotMatch(text, /k8s-aws-v1\.[A-Za-z0-9_-]/, `${label}: ${where} shows a token`);
  }

  for (const mode of ["echo", "assume"] as const) {
    for (const c of COMMANDS) {
      for (const form of ["text", "json+debug"] as const) {
        const label = `${c.name} (${mode}, ${form})`;
        test(label, () => {
          const o = outcomes.get(label);
          assert.ok(o, `${label} did not run`);
          const { result, files } = o;
          const tokenOk = c.name === "token" && mode === "assume";
          check(label, "stderr", result.stderr);
          check(label, "stdout", result.stdout, tokenOk);
          for (const [path, content] of files) check(label, path, content);
          const everything = [result.stdout, result.stderr, ...files.values()].join("\n");
          if (tokenOk) {
            // AssumeRole succeeded and nothing else is called: the ExecCredential is printed.
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stdout, /"token": "k8s-aws-v1\./);
          } else {
            assert.notEqual(result.status, 0, `${label} should fail:\n${result.stdout}\n${result.stderr}`);
            // The echo reached the output (redacted): otherwise this run proves nothing.
            assert.ok(
              everything.includes(REDACTED),
              `${label}: no redacted echo in the output:\n${everything}`,
            );
          }
          // An error (not a report of unknown links, as doctor's): XEKS_DEBUG=1 adds its stack, redacted too.
          if (form === "json+debug" && !c.name.startsWith("doctor") && result.status !== 0) {
            assert.match(result.stderr, /\n\s+at /, `${label}: XEKS_DEBUG=1 shows the stack`);
          }
        });
      }
    }
  }

  test("the runs reached the echo with every service, and assumed sessions signed later calls", () => {
    const services = new Set(echo.requests.map((r) => r.service));
    for (const s of ["sts", "cloudformation", "eks", "iam", "ec2"])
      assert.ok(services.has(s), `no ${s} call: ${[...services]}`);
    assert.ok(echo.issued.length > 0, "no AssumeRole in assume mode");
    const issuedKeys = new Set(echo.issued.map((i) => i.accessKeyId));
    const echoedWithAssumed = echo.requests.filter(
      (r) => r.mode === "assume" && issuedKeys.has(r.accessKeyId),
    );
    assert.ok(
      echoedWithAssumed.some((r) => r.service !== "sts"),
      "no call was signed with an assumed session",
    );
  });
});
