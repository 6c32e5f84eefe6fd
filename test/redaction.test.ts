/**
 * Redaction (docs/security.md#redaction): unit tests of `redact` (src/aws/redact.ts) and of the output filter
 * (src/cli/redact-output.ts), then the acceptance test: every command that talks to AWS, run through bin/xeks
 * (build first) against a loopback endpoint that echoes the whole signed request in its error
 * (test/helpers/aws-echo.ts), in every output form, must not show a secret on stdout, stderr or in any file it
 * writes.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { credentialProvider, rememberSharedFileSecrets } from "../src/aws/credentials.js";
import {
  forgetSecrets,
  MIN_SECRET_RUN,
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
      // `extra` values too (src/token/refresh.ts passes the environment it was given).
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

  test("an STS session token by its shape, after any name (token=, none)", () => {
    const legacy = "FwoGZXIvYXdzEBAaDH7l+abc/def0123456789ghijKLMNOPqrst==";
    const regional = "IQoJb3JpZ2luX2VjEOr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/xyz=";
    assert.equal(redact(`token=${legacy} next`), `token=${REDACTED} next`);
    assert.equal(redact(`tok: ${regional}`), `tok: ${REDACTED}`);
    assert.equal(redact(`token=${encodeURIComponent(regional)}&x=1`), `token=${REDACTED}&x=1`);
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

describe("redact: escaped field forms, any Authorization scheme, XML elements", () => {
  const VAL = "UnknownSessTokFieldValue0123456789/+=";
  const esc = VAL.replace(/\//g, "\\/");

  test("SessionToken / SecretAccessKey fields with JSON-escaped and HTML-escaped quotes", () => {
    const obj = { SessionToken: VAL, SecretAccessKey: VAL };
    const once = JSON.stringify(JSON.stringify(obj));
    const twice = JSON.stringify(once);
    for (const text of [once, twice]) {
      const out = redact(text);
      assert.ok(!out.includes("UnknownSessTok"), out);
      assert.equal(out.split(REDACTED).length, 3, out);
    }
    for (const q of ["&quot;", "&#34;", "&#x22;", "&#X22;", "&#034;"]) {
      const html = `{${q}SessionToken${q}:${q}${VAL}${q},${q}SecretAccessKey${q}: ${q}${VAL}${q}}`;
      assert.equal(
        redact(html),
        `{${q}SessionToken${q}:${q}${REDACTED}${q},${q}SecretAccessKey${q}: ${q}${REDACTED}${q}}`,
      );
    }
    // The value's own escapes (`\/`, `\\\/`, `\u002f`, `&#x2F;`) are part of it; the closing quote is not.
    for (const v of [
      esc,
      VAL.replace(/\//g, "\\\\\\/"),
      VAL.replace(/\//g, "\\u002f"),
      VAL.replace(/\//g, "&#x2F;"),
    ]) {
      assert.equal(redact(`"SessionToken":"${v}","x":1`), `"SessionToken":"${REDACTED}","x":1`, v);
    }
    assert.equal(redact(`secret_key = ${VAL}`), `secret_key = ${REDACTED}`);
  });

  test("an Authorization value of any scheme, whole, to the end of the line or the closing quote", () => {
    const cases: [string, string][] = [
      [
        "Authorization: Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\nnext",
        `Authorization: ${REDACTED}\nnext`,
      ],
      ["authorization: Token 0123456789abcdef0123456789abcdef", `authorization: ${REDACTED}`],
      ["Authorization: AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", `Authorization: ${REDACTED}`],
      ["Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA== (x)", `Proxy-Authorization: ${REDACTED}`],
      ['{"Authorization": ["Negotiate abc def"], "x": 1}', `{"Authorization": ["${REDACTED}"], "x": 1}`],
      ['"Echo Authorization: Negotiate abc def\\nnext"', `"Echo Authorization: ${REDACTED}\\nnext"`],
      ["&lt;p&gt;Authorization: Token abc def&lt;/p&gt;", `&lt;p&gt;Authorization: ${REDACTED}&lt;/p&gt;`],
      [`Authorization:\n  ${AUTH.replace(/, /g, ",\n  ")}\nnext`, `Authorization:\n  ${REDACTED}\nnext`],
    ];
    for (const [text, want] of cases) assert.equal(redact(text), want, text);
  });

  test("secret XML elements with attributes or a namespace prefix, the header names as tags, HTML-escaped", () => {
    const cases: [string, string][] = [
      [
        `<x-amz-security-token>${VAL}</x-amz-security-token>`,
        `<x-amz-security-token>${REDACTED}</x-amz-security-token>`,
      ],
      [
        `<SessionToken xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${VAL}</SessionToken>`,
        `<SessionToken xmlns="https://sts.amazonaws.com/doc/2011-06-15/">${REDACTED}</SessionToken>`,
      ],
      [
        `<sts:SecretAccessKey>${VAL}</sts:SecretAccessKey>`,
        `<sts:SecretAccessKey>${REDACTED}</sts:SecretAccessKey>`,
      ],
      [
        `&lt;SessionToken xmlns=&quot;x&quot;&gt;${VAL}&lt;/SessionToken&gt;`,
        `&lt;SessionToken xmlns=&quot;x&quot;&gt;${REDACTED}&lt;/SessionToken&gt;`,
      ],
    ];
    for (const [text, want] of cases) assert.equal(redact(text), want, text);
  });

  test("k8s-aws-v1 tokens with an encoded dot or in upper case", () => {
    for (const t of [
      "k8s-aws-v1%2EaHR0cHM6Ly9zdHM",
      "K8S-AWS-V1.aHR0cHM6Ly9zdHM",
      "k8s-aws-v1\\u002eaHR0cHM6Ly9zdHM",
    ]) {
      assert.equal(redact(`token ${t} end`), `token ${REDACTED} end`, t);
    }
  });

  test("prose and redacted text stay as they are", () => {
    const prose = "Authorization header is missing. The security token included in the request is invalid.";
    assert.equal(redact(prose), prose);
    const once = redact(`Authorization: Negotiate abc\n<SessionToken a="b">${VAL}</SessionToken>`);
    assert.equal(redact(once), once);
  });
});

describe("redact: known values in part, transformed, or escaped", () => {
  before(() => forgetSecrets());
  after(() => forgetSecrets());

  test(`any run of ${MIN_SECRET_RUN} or more characters, anywhere in the secret`, () => {
    rememberSecret(TOKEN);
    rememberSecret(SECRET);
    assert.equal(redact(`Echo ${TOKEN.slice(10)} end`), `Echo ${REDACTED} end`);
    assert.equal(redact(`Echo ${SECRET.slice(10)}`), `Echo ${REDACTED}`);
    assert.equal(redact(`x${SECRET.slice(5, 5 + MIN_SECRET_RUN)}y`), `x${REDACTED}y`);
    const short = SECRET.slice(5, 5 + MIN_SECRET_RUN - 1);
    assert.equal(redact(`x ${short} y`), `x ${short} y`, "15 inner characters are left");
    // Cut into lines of 20 characters, as a wrapping echo does.
    const lines = (TOKEN.match(/.{1,20}/g) ?? []).join("\n");
    assert.ok(!redact(lines).includes(TOKEN.slice(0, 20)));
    assert.ok(!redact(lines).includes(TOKEN.slice(20, 40)));
  });

  test("every byte percent-encoded (any hex case), double JSON escapes, &amp;-escaped entities", () => {
    rememberSecret(SECRET);
    const pct = (v: string) =>
      Array.from(Buffer.from(v), (b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    assert.equal(redact(`a ${pct(SECRET)} b`), `a ${REDACTED} b`);
    assert.equal(redact(`a ${pct(SECRET).toUpperCase()} b`), `a ${REDACTED} b`);
    assert.equal(redact(`a ${pct(SECRET.slice(10))} b`), `a ${REDACTED} b`);
    assert.equal(redact(JSON.stringify(JSON.stringify(SECRET.replace(/\//g, "\\/")))), `"\\"${REDACTED}\\""`);
    assert.equal(redact(`a ${SECRET.replace(/\//g, "&amp;#x2F;")} b`), `a ${REDACTED} b`);
  });

  test("a tab, newline or carriage return inside a secret, JSON-escaped", () => {
    const odd = "Secret\twith\nodd\rcharacters/0123456789";
    rememberSecret(odd);
    assert.equal(redact(JSON.stringify({ message: `x ${odd} y` })), `{"message":"x ${REDACTED} y"}`);
    assert.equal(redact(`x ${odd} y`), `x ${REDACTED} y`);
  });

  test("upper- or lower-cased, base64 and base64url of the secret or of a part of it", () => {
    rememberSecret(TOKEN);
    for (const form of [
      TOKEN.toUpperCase(),
      TOKEN.toLowerCase(),
      Buffer.from(TOKEN).toString("base64"),
      Buffer.from(TOKEN).toString("base64url"),
      Buffer.from(TOKEN.slice(7)).toString("base64"),
      Buffer.from(TOKEN.slice(8)).toString("base64"),
    ]) {
      const out = redact(`Echo ${form} end`);
      assert.ok(out.startsWith(`Echo ${REDACTED}`) && out.endsWith(" end"), `${form} -> ${out}`);
      assert.ok(!out.includes(form.slice(4, 20)), `${form} -> ${out}`);
    }
  });

  test("a periodic secret and a long text: found, and the text is scanned once", () => {
    const periodic = `FwoGPeriodic/Token+${"Qk9vTXk/Kz0+".repeat(24)}end==`;
    rememberSecret(periodic);
    const text = `a ${"Qk9vTXk/Kz0+".repeat(20_000)} b ${"x".repeat(200_000)} ${periodic.slice(3)} c`;
    const out = redact(text);
    assert.ok(!out.includes("Qk9vTXk/Kz0+Qk9v"), "the repeated unit of the secret is cut");
    assert.ok(out.endsWith(`${"x".repeat(200_000)} ${REDACTED} c`));
  });
});

/** Every run of MIN_SECRET_RUN characters of `value`: none may be shown. */
function windows(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + MIN_SECRET_RUN <= value.length; i++) out.push(value.slice(i, i + MIN_SECRET_RUN));
  return out;
}

describe("credentialProvider remembers the secrets the SDK resolves inside (src/aws/credentials.ts)", () => {
  const PROCESS: EchoIdentity = {
    accessKeyId: "ASIAECHOPROCESS00001",
    secretAccessKey: "CredProcUnitKey/Mno+PQR1122334455667788aa",
    sessionToken: `IQoJCredProcUnit/Tok+Eq=Zq8w7e6r5t4y3u2i1o${"UHJvY2Vzcw/+=".repeat(12)}end`,
    account: "333333333333",
    arn: "arn:aws:sts::333333333333:assumed-role/Process/process",
  };
  let echo: AwsEcho;
  let iso: IsolatedEnv;
  const saved: NodeJS.ProcessEnv = {};
  const VARS = [
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
  ];

  before(async () => {
    forgetSecrets();
    echo = await startAwsEcho({ identities: [PROCESS] });
    iso = isolatedAwsEnv({
      config: [
        "[profile cp]",
        `credential_process = ${join("PROCESS_DIR", "creds.sh")}`,
        "[profile cpchain]",
        "role_arn = arn:aws:iam::222222222222:role/XeksDeployer",
        "source_profile = cp",
        "",
      ].join("\n"),
      credentials: [
        "[filekeys]",
        "aws_access_key_id = ASIAFILEKEYS00000001",
        "aws_secret_access_key = FileSecret/Key+0123456789abcdefghijklm",
        "aws_session_token=FileToken/Session+Token=0123456789abcdefghijklmnop\r",
        "",
      ].join("\n"),
    });
    const script = join(iso.dir, "creds.sh");
    writeFileSync(
      script,
      `#!/bin/sh\necho '${JSON.stringify({ Version: 1, AccessKeyId: PROCESS.accessKeyId, SecretAccessKey: PROCESS.secretAccessKey, SessionToken: PROCESS.sessionToken })}'\n`,
    );
    chmodSync(script, 0o755);
    writeFileSync(iso.configFile, readFileSync(iso.configFile, "utf8").replace("PROCESS_DIR", iso.dir));
    for (const k of VARS) saved[k] = process.env[k];
    for (const k of VARS) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: iso.configFile,
      AWS_SHARED_CREDENTIALS_FILE: iso.credentialsFile,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_REGION: "ap-south-1",
    });
  });
  after(async () => {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await echo?.close();
    iso?.cleanup();
    forgetSecrets();
  });

  test("the credential_process source of a role_arn profile, when the AssumeRole answer echoes it", async () => {
    process.env.AWS_ENDPOINT_URL = echo.url("echo");
    const provider = credentialProvider({ profile: "cpchain", region: "ap-south-1", timeoutMs: 5000 });
    const err = await provider().then(
      () => assert.fail("the echo refuses AssumeRole"),
      (e: Error) => e,
    );
    assert.ok(err.message.includes(PROCESS.secretAccessKey), "the SDK's error carries the source's secret");
    const shown = redact(err.message);
    for (const v of [PROCESS.secretAccessKey, PROCESS.sessionToken ?? ""]) {
      for (const w of windows(v)) assert.ok(!shown.includes(w), `${w} in ${shown}`);
      assert.equal(redact(v), REDACTED);
    }
  });

  test("a role_arn profile that resolves: the source and the assumed credentials are remembered", async () => {
    process.env.AWS_ENDPOINT_URL = echo.url("assume");
    const provider = credentialProvider({ profile: "cpchain", region: "ap-south-1", timeoutMs: 5000 });
    const creds = await provider();
    const issued = echo.issued.at(-1);
    assert.equal(creds.accessKeyId, issued?.accessKeyId);
    assert.equal(await provider(), creds, "memoized: one AssumeRole");
    assert.equal(echo.requests.filter((r) => r.action === "AssumeRole" && r.mode === "assume").length, 1);
    for (const v of [creds.secretAccessKey, creds.sessionToken ?? "", PROCESS.secretAccessKey]) {
      assert.equal(redact(`x ${v} y`), `x ${REDACTED} y`);
    }
  });

  test("the shared files' secrets of every profile are remembered when a provider is built", () => {
    credentialProvider({ region: "ap-south-1" });
    assert.equal(redact("FileSecret/Key+0123456789abcdefghijklm"), REDACTED);
    assert.equal(redact("FileToken/Session+Token=0123456789abcdefghijklmnop"), REDACTED);
    assert.equal(redact("ASIAFILEKEYS00000001"), "ASIAFILEKEYS00000001", "key ids are not secrets");
    // Missing files, and a directory, are skipped without an error.
    rememberSharedFileSecrets({
      HOME: iso.dir,
      AWS_CONFIG_FILE: iso.dir,
      AWS_SHARED_CREDENTIALS_FILE: join(iso.dir, "none"),
    });
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

// ---- acceptance: the source of a role_arn profile (source_profile, credential_process) -------------------

describe("no secret of a role_arn profile's source reaches the user when AWS echoes the AssumeRole call", () => {
  const SOURCE: EchoIdentity = {
    accessKeyId: "ASIAECHOSOURCE000001",
    secretAccessKey: "SrcProfileKeyXyz/uvw+RST9876543210abcdefgh",
    sessionToken: `IQoJSrcProfileTok/Xyz+AbcDEFghiJKLmnoPQRst${"U291cmNl/+=".repeat(16)}end`,
    account: "222222222222",
    arn: "arn:aws:sts::222222222222:assumed-role/Source/source",
  };
  const PROCESS: EchoIdentity = {
    accessKeyId: "ASIAECHOPROCESS00002",
    secretAccessKey: "CredProcE2eKey/Mno+PQR99887766554433221100",
    sessionToken: `CPsTkVV/Plus+Eq=Zq8w7e6r5t4y3u2i1oPaSdFgHjKl${"UHJvY2Vzcw/+=".repeat(14)}end`,
    account: "222222222222",
    arn: "arn:aws:sts::222222222222:assumed-role/Process/process",
  };
  /** Profile -> the identity that signs its AssumeRole. */
  const PROFILES = { chain: SOURCE, cpchain: PROCESS } as const;
  const RUNS: { name: string; args: (profile: string) => string[] }[] = [
    {
      name: "doctor -o json",
      args: (p) => ["doctor", FILE, "--cluster-profile", p, "--client-profile", `ops=${p}`, "-o", "json"],
    },
    {
      name: "doctor --from-client -o json",
      args: () => ["doctor", "--from-client", FILE, "--timeout", "3000", "--deadline", "10000", "-o", "json"],
    },
    {
      name: "kubeconfig -o json",
      args: () => ["kubeconfig", FILE, "--client", "ops", "--kubeconfig", "kube.config", "-o", "json"],
    },
    {
      name: "token",
      args: () => [
        "token",
        "--cluster-name",
        "prac-eks-abhi",
        "--region",
        "ap-south-1",
        "--role-arn",
        ACCESS_ROLE,
        "--no-cache",
      ],
    },
    {
      name: "deploy -o json",
      args: (p) => [
        "deploy",
        FILE,
        "--yes",
        "--cluster-profile",
        p,
        "--client-profile",
        `ops=${p}`,
        "-o",
        "json",
      ],
    },
  ];
  let echo: AwsEcho;
  let iso: IsolatedEnv;
  const outcomes = new Map<string, Outcome>();

  before(async () => {
    echo = await startAwsEcho({ identities: [SOURCE, PROCESS] });
    iso = isolatedAwsEnv({
      config: [
        "[profile chain]",
        "role_arn = arn:aws:iam::222222222222:role/XeksDeployer",
        "source_profile = src",
        "region = ap-south-1",
        "[profile cp]",
        "credential_process = CREDS_SCRIPT",
        "[profile cpchain]",
        "role_arn = arn:aws:iam::222222222222:role/XeksDeployer",
        "source_profile = cp",
        "region = ap-south-1",
        "",
      ].join("\n"),
      credentials: [
        "[src]",
        `aws_access_key_id = ${SOURCE.accessKeyId}`,
        `aws_secret_access_key = ${SOURCE.secretAccessKey}`,
        `aws_session_token = ${SOURCE.sessionToken}`,
        "",
      ].join("\n"),
    });
    const script = join(iso.dir, "creds.sh");
    const out = JSON.stringify({
      Version: 1,
      AccessKeyId: PROCESS.accessKeyId,
      SecretAccessKey: PROCESS.secretAccessKey,
      SessionToken: PROCESS.sessionToken,
    });
    writeFileSync(script, `#!/bin/sh\necho '${out}'\n`);
    chmodSync(script, 0o755);
    writeFileSync(iso.configFile, readFileSync(iso.configFile, "utf8").replace("CREDS_SCRIPT", script));
    const tasks: (() => Promise<void>)[] = [];
    for (const profile of Object.keys(PROFILES)) {
      for (const r of RUNS) {
        const label = `${r.name} (profile ${profile})`;
        const cwd = join(iso.dir, "runs", label.replace(/[^\w]+/g, "-"));
        mkdirSync(cwd, { recursive: true });
        copyFileSync(join(ROOT, "examples", "seed.yaml"), join(cwd, FILE));
        const env: NodeJS.ProcessEnv = {
          ...iso.env,
          AWS_PROFILE: profile,
          AWS_REGION: "ap-south-1",
          AWS_ENDPOINT_URL: echo.url("echo"),
          AWS_MAX_ATTEMPTS: "1",
          XEKS_AWS_TIMEOUT_MS: "5000",
        };
        tasks.push(async () => {
          const result = await xeksAsync(r.args(profile), { cwd, env, timeoutMs: 90_000 });
          outcomes.set(label, { label, result, files: filesUnder(cwd) });
        });
      }
    }
    await pool(2, tasks);
  });
  after(async () => {
    await echo?.close();
    iso?.cleanup();
  });

  for (const [profile, source] of Object.entries(PROFILES)) {
    for (const r of RUNS) {
      const label = `${r.name} (profile ${profile})`;
      test(label, () => {
        const o = outcomes.get(label);
        assert.ok(o, `${label} did not run`);
        const { result, files } = o;
        assert.notEqual(result.status, 0, `${label} should fail:\n${result.stdout}\n${result.stderr}`);
        // The source's keys signed an AssumeRole that the echo answered.
        assert.ok(
          echo.requests.some((req) => req.accessKeyId === source.accessKeyId && req.action === "AssumeRole"),
          "no AssumeRole signed by the source",
        );
        const everything = [result.stdout, result.stderr, ...files.values()].join("\n");
        assert.ok(everything.includes(REDACTED), `${label}: no redacted echo in the output:\n${everything}`);
        for (const [what, value] of [
          ["secret key", source.secretAccessKey],
          ["session token", source.sessionToken ?? ""],
        ] as const) {
          for (const [form, text] of [
            ...windows(value).map((w, i) => [`characters ${i}-${i + MIN_SECRET_RUN}`, w] as const),
            ["URL-encoded", encodeURIComponent(value).slice(0, 24)],
            ["JSON-escaped", value.replace(/\//g, "\\/").slice(0, 24)],
          ] as const) {
            for (const [where, content] of [
              ["stdout", result.stdout],
              ["stderr", result.stderr],
              ...files.entries(),
            ] as const) {
              assert.ok(
                !content.includes(text),
                `${label}: ${where} shows the source's ${what} ${form}:\n${content}`,
              );
            }
          }
        }
      });
    }
  }
});
