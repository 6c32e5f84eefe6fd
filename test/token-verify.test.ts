/**
 * src/token/verify: each of the server's checks (token-and-access.md §3, 1 to 12) rejects its malformed
 * tokens with the check's name, valid variants pass with their fields decoded, and nothing throws.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateToken } from "../src/token/generate.js";
import { CHECK_NUMBERS, type VerifyCheck, verifyToken } from "../src/token/verify.js";

const NOW = new Date("2025-01-01T00:05:00Z");
const HOST = "sts.ap-south-1.amazonaws.com";
const CREDENTIAL = "AKIAIOSFODNN7EXAMPLE%2F20250101%2Fap-south-1%2Fsts%2Faws4_request";
const SIGNATURE = "84f17139789f96787a32363ffa7df2261e4b3b8e0444981f1c284f252aed7b1c";

const PARAMS: [string, string][] = [
  ["Action", "GetCallerIdentity"],
  ["Version", "2011-06-15"],
  ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
  ["X-Amz-Credential", CREDENTIAL],
  ["X-Amz-Date", "20250101T000000Z"],
  ["X-Amz-Expires", "60"],
  ["X-Amz-SignedHeaders", "host%3Bx-k8s-aws-id"],
  ["X-Amz-Signature", SIGNATURE],
];

function query(params: [string, string][] = PARAMS): string {
  return params.map(([k, v]) => `${k}=${v}`).join("&");
}

/** The query with one parameter replaced (undefined value: removed). */
function withParam(name: string, value: string | undefined): string {
  const out: [string, string][] = [];
  for (const [k, v] of PARAMS) {
    if (k !== name) out.push([k, v]);
    else if (value !== undefined) out.push([k, value]);
  }
  return query(out);
}

const VALID_URL = `https://${HOST}/?${query()}`;
const tok = (url: string) => `k8s-aws-v1.${Buffer.from(url, "utf8").toString("base64url")}`;

const MALFORMED: [string, unknown, VerifyCheck, { partition?: string; now?: Date }?][] = [
  ["longer than 4096 bytes", `k8s-aws-v1.${"A".repeat(4100)}`, "length"],
  ["not a string", 12345, "length"],
  ["undefined", undefined, "length"],
  ["empty", "", "prefix"],
  ["wrong prefix version", tok(VALID_URL).replace("k8s-aws-v1.", "k8s-aws-v2."), "prefix"],
  ["no prefix", Buffer.from(VALID_URL).toString("base64url"), "prefix"],
  ["prefix in upper case", tok(VALID_URL).replace("k8s-aws-v1.", "K8S-AWS-V1."), "prefix"],
  ["nothing after the prefix", "k8s-aws-v1.", "encoding"],
  ["base64 padding", `${tok(`${VALID_URL}x`)}==`, "encoding"],
  [
    "standard base64 alphabet",
    `k8s-aws-v1.${Buffer.from(`${VALID_URL}>>>???`).toString("base64")}`,
    "encoding",
  ],
  ["whitespace inside", `${tok(VALID_URL).slice(0, 40)} ${tok(VALID_URL).slice(40)}`, "encoding"],
  [
    "impossible base64 length",
    `${tok(VALID_URL)}${"A".repeat((4 - ((tok(VALID_URL).length - 11) % 4) + 1) % 4)}`,
    "encoding",
  ],
  ["not a URL", tok("just some text"), "url"],
  ["scheme without host", tok("https://"), "url"],
  ["http scheme", tok(VALID_URL.replace("https://", "http://")), "scheme"],
  ["ftp scheme", tok(VALID_URL.replace("https://", "ftp://")), "scheme"],
  ["foreign host", tok(VALID_URL.replace(HOST, "evil.example.com")), "host"],
  ["STS label on a foreign domain", tok(VALID_URL.replace(HOST, "sts.ap-south-1.example.com")), "host"],
  ["partition domain as a prefix", tok(VALID_URL.replace(HOST, "sts.amazonaws.com.evil.com")), "host"],
  ["a port", tok(VALID_URL.replace(HOST, `${HOST}:8443`)), "host"],
  ["user information", tok(VALID_URL.replace(HOST, `user@${HOST}`)), "host"],
  ["China region on the aws domain", tok(VALID_URL.replace(HOST, "sts.cn-north-1.amazonaws.com")), "host"],
  [
    "VPC endpoint host",
    tok(VALID_URL.replace(HOST, "vpce-0123-abcd.sts.ap-south-1.vpce.amazonaws.com")),
    "host",
  ],
  ["invalid region label", tok(VALID_URL.replace(HOST, "sts.ap_south-1.amazonaws.com")), "host"],
  ["other service", tok(VALID_URL.replace(HOST, "iam.ap-south-1.amazonaws.com")), "host"],
  ["server in another partition", tok(VALID_URL), "host", { partition: "aws-cn" }],
  [
    "global endpoint outside aws",
    tok(VALID_URL.replace(HOST, "sts.amazonaws.com")),
    "host",
    { partition: "aws-us-gov" },
  ],
  ["path /foo", tok(VALID_URL.replace(`${HOST}/?`, `${HOST}/foo?`)), "path"],
  ["empty path", tok(VALID_URL.replace(`${HOST}/?`, `${HOST}?`)), "path"],
  ["path //", tok(VALID_URL.replace(`${HOST}/?`, `${HOST}//?`)), "path"],
  ["path /./", tok(VALID_URL.replace(`${HOST}/?`, `${HOST}/./?`)), "path"],
  ["unknown parameter", tok(`${VALID_URL}&Foo=bar`), "query"],
  ["X-Amz-Security-Token spelled wrong", tok(`${VALID_URL}&X-Amz-SecurityToken=abc`), "query"],
  ["duplicate Action", tok(`${VALID_URL}&Action=GetCallerIdentity`), "query"],
  ["duplicate key in another case", tok(`${VALID_URL}&action=GetCallerIdentity`), "query"],
  ["duplicate X-Amz-Date in another case", tok(`${VALID_URL}&x-amz-date=20250101T000000Z`), "query"],
  ["invalid %-escape", tok(`https://${HOST}/?${withParam("Version", "2011%zz")}`), "query"],
  ["semicolon separator", tok(`${VALID_URL};Version=1`), "query"],
  ["no Action", tok(`https://${HOST}/?${withParam("Action", undefined)}`), "action"],
  ["AssumeRole", tok(`https://${HOST}/?${withParam("Action", "AssumeRole")}`), "action"],
  ["action in lower case", tok(`https://${HOST}/?${withParam("Action", "getcalleridentity")}`), "action"],
  ["no query at all", tok(`https://${HOST}/`), "action"],
  [
    "signed headers without x-k8s-aws-id",
    tok(`https://${HOST}/?${withParam("X-Amz-SignedHeaders", "host")}`),
    "signed-headers",
  ],
  [
    "no signed headers",
    tok(`https://${HOST}/?${withParam("X-Amz-SignedHeaders", undefined)}`),
    "signed-headers",
  ],
  [
    "x-k8s-aws-id only as a prefix",
    tok(`https://${HOST}/?${withParam("X-Amz-SignedHeaders", "host%3Bx-k8s-aws-idx")}`),
    "signed-headers",
  ],
  ["no X-Amz-Expires", tok(`https://${HOST}/?${withParam("X-Amz-Expires", undefined)}`), "expires"],
  ["X-Amz-Expires not a number", tok(`https://${HOST}/?${withParam("X-Amz-Expires", "sixty")}`), "expires"],
  ["X-Amz-Expires a fraction", tok(`https://${HOST}/?${withParam("X-Amz-Expires", "60.5")}`), "expires"],
  ["X-Amz-Expires 901", tok(`https://${HOST}/?${withParam("X-Amz-Expires", "901")}`), "expires"],
  ["X-Amz-Expires negative", tok(`https://${HOST}/?${withParam("X-Amz-Expires", "-1")}`), "expires"],
  ["no X-Amz-Date", tok(`https://${HOST}/?${withParam("X-Amz-Date", undefined)}`), "date"],
  [
    "X-Amz-Date in ISO layout",
    tok(`https://${HOST}/?${withParam("X-Amz-Date", "2025-01-01T00:00:00Z")}`),
    "date",
  ],
  ["X-Amz-Date month 13", tok(`https://${HOST}/?${withParam("X-Amz-Date", "20251301T000000Z")}`), "date"],
  ["X-Amz-Date 25 o'clock", tok(`https://${HOST}/?${withParam("X-Amz-Date", "20250101T250000Z")}`), "date"],
  ["X-Amz-Date without Z", tok(`https://${HOST}/?${withParam("X-Amz-Date", "20250101T000000")}`), "date"],
  ["older than 15 minutes", tok(VALID_URL), "expired", { now: new Date("2025-01-01T00:15:01Z") }],
  ["a day old", tok(VALID_URL), "expired", { now: new Date("2025-01-02T00:00:00Z") }],
];

test(`${MALFORMED.length} malformed tokens are rejected, each by its check, none throws`, () => {
  assert.ok(MALFORMED.length >= 30);
  const seen = new Set<VerifyCheck>();
  for (const [label, token, check, opts] of MALFORMED) {
    let result: ReturnType<typeof verifyToken> | undefined;
    assert.doesNotThrow(() => {
      result = verifyToken(token, {
        now: opts?.now ?? NOW,
        ...(opts?.partition ? { partition: opts.partition } : {}),
      });
    }, label);
    assert.ok(result && !result.ok, `${label}: expected a failure`);
    if (result.ok) continue;
    assert.equal(result.check, check, `${label}: ${result.message}`);
    assert.equal(result.checkNumber, CHECK_NUMBERS[check]);
    assert.ok(result.message.length > 0);
    seen.add(check);
  }
  for (const check of Object.keys(CHECK_NUMBERS) as VerifyCheck[]) {
    if (check !== "internal") assert.ok(seen.has(check), `no malformed token exercises ${check}`);
  }
});

test("a valid token decodes to its fields", () => {
  const r = verifyToken(tok(VALID_URL), { now: NOW });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.fields.accessKeyId, "AKIAIOSFODNN7EXAMPLE");
  assert.deepEqual(r.fields.credential, {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    date: "20250101",
    region: "ap-south-1",
    service: "sts",
  });
  assert.equal(r.fields.stsRegion, "ap-south-1");
  assert.equal(r.fields.partition, "aws");
  assert.equal(r.fields.host, HOST);
  assert.equal(r.fields.amzDate, "20250101T000000Z");
  assert.equal(r.fields.date.toISOString(), "2025-01-01T00:00:00.000Z");
  assert.equal(r.fields.validUntil.toISOString(), "2025-01-01T00:15:00.000Z");
  assert.equal(r.fields.expiresSeconds, 60);
  assert.deepEqual(r.fields.signedHeaders, ["host", "x-k8s-aws-id"]);
  assert.equal(r.fields.temporary, false);
  assert.equal(r.fields.signature, SIGNATURE);
  assert.equal(r.fields.algorithm, "AWS4-HMAC-SHA256");
});

test("valid variants: the 15-minute edge, header case, other hosts of the partition, temporary keys", () => {
  const ok = (token: string, opts: { now?: Date; partition?: string } = {}) => {
    const r = verifyToken(token, {
      now: opts.now ?? NOW,
      ...(opts.partition ? { partition: opts.partition } : {}),
    });
    assert.ok(r.ok, JSON.stringify(r));
    return r.fields;
  };
  ok(tok(VALID_URL), { now: new Date("2025-01-01T00:15:00Z") });
  ok(tok(VALID_URL), { now: new Date("2024-12-31T00:00:00Z") }); // no future-date check, as on the server
  ok(tok(`https://${HOST}/?${withParam("X-Amz-SignedHeaders", "host%3BX-K8S-AWS-ID")}`));
  ok(tok(`https://${HOST}/?${withParam("X-Amz-Expires", "0")}`));
  ok(tok(`https://${HOST}/?${withParam("X-Amz-Expires", "900")}`));
  ok(tok(`https://${HOST}/?${query(PARAMS.map(([k, v]) => [k.toLowerCase(), v]))}`)); // keys in any case
  assert.equal(ok(tok(VALID_URL.replace(HOST, "sts.amazonaws.com"))).stsRegion, "global");
  assert.equal(ok(tok(VALID_URL.replace(HOST, "sts-fips.us-east-1.amazonaws.com"))).fips, true);
  assert.equal(ok(tok(VALID_URL.replace(HOST, "sts.eu-west-1.api.aws"))).dualStack, true);
  assert.equal(
    ok(tok(VALID_URL.replace(HOST, "sts.us-west-2.amazonaws.com")), { partition: "aws" }).stsRegion,
    "us-west-2",
  );
  assert.equal(
    ok(tok(VALID_URL.replace(HOST, "sts.cn-north-1.amazonaws.com.cn")), { partition: "aws-cn" }).partition,
    "aws-cn",
  );
  assert.equal(ok(tok(VALID_URL.replace(HOST, "sts.us-gov-west-1.amazonaws.com"))).partition, "aws-us-gov");
  assert.equal(ok(tok(`${VALID_URL}&X-Amz-Security-Token=FwoG%2Babc%3D`)).temporary, true);
});

test("tokens from generateToken pass, with and without a session token", async () => {
  for (const sessionToken of [undefined, "FwoGZXIvYXdzEBYaDH+example/token=="]) {
    const { token } = await generateToken({
      credentials: {
        accessKeyId: sessionToken ? "ASIAIOSFODNN7EXAMPLE" : "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ...(sessionToken ? { sessionToken } : {}),
      },
      region: "ap-south-1",
      clusterId: "prac", // the cluster SIGNATURE was made for by aws eks get-token
      now: new Date("2025-01-01T00:00:00Z"),
    });
    const r = verifyToken(token, { now: NOW, partition: "aws" });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.fields.temporary, sessionToken !== undefined);
    if (!sessionToken) assert.equal(r.fields.signature, SIGNATURE, "same signature as aws eks get-token");
  }
});

test("random mutations never make verifyToken throw", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const base = tok(VALID_URL);
  const alphabet = "ABCxyz019-_=+/%&?.:;# \u00e9\u0000";
  for (let i = 0; i < 3000; i++) {
    const chars = [...(i % 2 === 0 ? base : VALID_URL)];
    for (let k = 0, n = 1 + rand(4); k < n; k++)
      chars[rand(chars.length)] = alphabet[rand(alphabet.length)] ?? "";
    const mutated = i % 2 === 0 ? chars.join("") : tok(chars.join(""));
    assert.doesNotThrow(() => verifyToken(mutated, { now: NOW }));
  }
  // Bad options do not throw either.
  const r = verifyToken(base, { now: new Date("nope") });
  assert.ok(!r.ok && r.check === "internal");
  assert.ok(!verifyToken(base, undefined as unknown as { now: Date }).ok);
});
