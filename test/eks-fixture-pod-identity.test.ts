/**
 * The EKS fixture's Pod Identity association API (test/helpers/eks-fixture.ts), driven by the real
 * @aws-sdk/client-eks: every answer must be one the SDK parses (dates as Date, errors as the modelled
 * exception classes), so code that manages associations can be tested against the fixture.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  AccessDeniedException,
  CreatePodIdentityAssociationCommand,
  type CreatePodIdentityAssociationCommandInput,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  InvalidParameterException,
  ListPodIdentityAssociationsCommand,
  type PodIdentityAssociation,
  type PodIdentityAssociationSummary,
  paginateListPodIdentityAssociations,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { silentLogger } from "../src/aws/sdk.js";
import { type EksFixture, startEksFixture } from "./helpers/eks-fixture.js";

const ACCOUNT = "111111111111";
const OTHER_ACCOUNT = "222222222222";
const REGION = "eu-west-1";
const CLUSTER = "apps";
const POD_ROLE = `arn:aws:iam::${ACCOUNT}:role/pod-identity/team-a-agent`;
const POD_ROLE_2 = `arn:aws:iam::${ACCOUNT}:role/team-a-agent-v2`;
const TARGET_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/xeks-access-apps`;
const TARGET_ROLE_2 = `arn:aws:iam::${OTHER_ACCOUNT}:role/xeks-access-apps-2`;
const ID = /^a-[a-z0-9]{17}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let fixture: EksFixture;
let eks: EKSClient;

before(async () => {
  fixture = await startEksFixture();
  eks = new EKSClient({
    region: REGION,
    endpoint: fixture.url,
    credentials: { accessKeyId: "AKIAFIXTURE", secretAccessKey: "fixture" },
    maxAttempts: 1,
    logger: silentLogger,
  });
});

after(async () => {
  eks.destroy();
  await fixture.stop();
});

beforeEach(() => {
  fixture.reset();
  fixture.pageSize = 100;
  fixture.addCluster({
    name: CLUSTER,
    account: ACCOUNT,
    region: REGION,
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0"],
    clusterSecurityGroupId: "sg-0123456789abcdef0",
    authenticationMode: "API",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
  });
});

/** Create an association in the fixture's cluster through the SDK; returns the parsed association. */
async function create(
  namespace: string,
  serviceAccount: string,
  extra: Partial<CreatePodIdentityAssociationCommandInput> = {},
): Promise<PodIdentityAssociation> {
  const out = await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: CLUSTER,
      namespace,
      serviceAccount,
      roleArn: POD_ROLE,
      ...extra,
    }),
  );
  assert.ok(out.association);
  return out.association;
}

/** The error a promise rejects with. */
async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  assert.fail("expected a rejection");
}

describe("CreatePodIdentityAssociation", () => {
  test("answers the association with an a- id, its ARN, epoch dates the SDK turns into Dates", async () => {
    const before = Date.now() - 1000;
    const a = await create("team-a", "agent", { tags: { owner: "xeks" } });
    assert.match(a.associationId ?? "", ID);
    assert.equal(
      a.associationArn,
      `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${CLUSTER}/${a.associationId}`,
    );
    assert.equal(a.clusterName, CLUSTER);
    assert.equal(a.namespace, "team-a");
    assert.equal(a.serviceAccount, "agent");
    assert.equal(a.roleArn, POD_ROLE);
    assert.deepEqual(a.tags, { owner: "xeks" });
    assert.equal(a.disableSessionTags, false);
    assert.equal(a.targetRoleArn, undefined);
    assert.equal(a.externalId, undefined);
    assert.equal(a.ownerArn, undefined);
    assert.ok(a.createdAt instanceof Date && a.modifiedAt instanceof Date);
    assert.ok(a.createdAt.getTime() >= before && a.createdAt.getTime() <= Date.now() + 1000);
    assert.equal(a.modifiedAt.getTime(), a.createdAt.getTime());
    assert.deepEqual(fixture.calls.at(-1), {
      operation: "CreatePodIdentityAssociation",
      method: "POST",
      path: `/clusters/${CLUSTER}/pod-identity-associations`,
    });
  });

  test("a target role (any account) comes back with an externalId; session tags and policy kept", async () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "eks:DescribeCluster", Resource: "*" }],
    });
    const a = await create("argocd", "argocd-application-controller", {
      targetRoleArn: TARGET_ROLE,
      disableSessionTags: true,
      policy,
    });
    assert.equal(a.targetRoleArn, TARGET_ROLE);
    assert.match(a.externalId ?? "", UUID);
    assert.equal(a.disableSessionTags, true);
    assert.equal(a.policy, policy);
    assert.equal(
      fixture.clusters.get(CLUSTER)?.associations.get(a.associationId ?? "")?.externalId,
      a.externalId,
    );
  });

  test("each association gets its own id and externalId", async () => {
    const a = await create("team-a", "agent", { targetRoleArn: TARGET_ROLE });
    const b = await create("team-b", "agent", { targetRoleArn: TARGET_ROLE });
    assert.notEqual(a.associationId, b.associationId);
    assert.notEqual(a.externalId, b.externalId);
  });

  test("a repeated clientRequestToken answers the association it made, not a second one", async () => {
    const a = await create("team-a", "agent", { clientRequestToken: "token-1" });
    const again = await create("team-a", "agent", { clientRequestToken: "token-1" });
    assert.equal(again.associationId, a.associationId);
    assert.equal(fixture.clusters.get(CLUSTER)?.associations.size, 1);
  });

  test("the same namespace and service account twice: ResourceInUseException (409) naming the first", async () => {
    const a = await create("team-a", "agent");
    const err = await errorOf(create("team-a", "agent", { roleArn: POD_ROLE_2 }));
    assert.ok(err instanceof ResourceInUseException, String(err));
    assert.equal(err.$metadata?.httpStatusCode, 409);
    assert.match(err.message, new RegExp(a.associationId ?? "-"));
    // Another service account in the namespace, or the same name in another namespace, is fine.
    await create("team-a", "other");
    await create("team-b", "agent");
  });

  test("an unknown cluster: ResourceNotFoundException (404)", async () => {
    const err = await errorOf(
      eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: "nope",
          namespace: "team-a",
          serviceAccount: "agent",
          roleArn: POD_ROLE,
        }),
      ),
    );
    assert.ok(err instanceof ResourceNotFoundException, String(err));
    assert.equal(err.$metadata?.httpStatusCode, 404);
  });

  test("invalid parameters: InvalidParameterException (400)", async () => {
    const cases: [string, Partial<CreatePodIdentityAssociationCommandInput>, RegExp][] = [
      [
        "role in another account",
        { roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/r` },
        /Cross-account pass role/,
      ],
      ["role ARN not a role", { roleArn: `arn:aws:iam::${ACCOUNT}:user/u` }, /roleArn/],
      ["target role ARN malformed", { targetRoleArn: "xeks-access-apps" }, /targetRoleArn/],
      ["namespace empty", { namespace: "" }, /namespace/],
    ];
    for (const [what, extra, message] of cases) {
      const err = await errorOf(create("team-a", "agent", extra));
      assert.ok(err instanceof InvalidParameterException, `${what}: ${String(err)}`);
      assert.equal(err.$metadata?.httpStatusCode, 400, what);
      assert.match(err.message, message, what);
    }
    assert.equal(fixture.clusters.get(CLUSTER)?.associations.size, 0);
  });

  test("a denied operation answers AccessDeniedException", async () => {
    fixture.deny("CreatePodIdentityAssociation");
    const err = await errorOf(create("team-a", "agent"));
    assert.ok(err instanceof AccessDeniedException, String(err));
    assert.match(err.message, /eks:CreatePodIdentityAssociation/);
  });
});

describe("DescribePodIdentityAssociation", () => {
  test("answers what create answered", async () => {
    const a = await create("team-a", "agent", { targetRoleArn: TARGET_ROLE, tags: { k: "v" } });
    const out = await eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
    );
    assert.deepEqual(out.association, a);
    assert.equal(
      fixture.calls.at(-1)?.path,
      `/clusters/${CLUSTER}/pod-identity-associations/${a.associationId}`,
    );
    assert.equal(fixture.calls.at(-1)?.method, "GET");
  });

  test("an unknown id: ResourceNotFoundException; an id of the wrong length: InvalidParameterException", async () => {
    const missing = await errorOf(
      eks.send(
        new DescribePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: "a-0000000000000000z",
        }),
      ),
    );
    assert.ok(missing instanceof ResourceNotFoundException, String(missing));
    const short = await errorOf(
      eks.send(new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: "a-123" })),
    );
    assert.ok(short instanceof InvalidParameterException, String(short));
    assert.match(short.message, /19 characters/);
  });
});

describe("ListPodIdentityAssociations", () => {
  /** Every summary of a filtered listing, following nextToken with the SDK's paginator. */
  async function all(filter: { namespace?: string; serviceAccount?: string } = {}, pageSize?: number) {
    const out: PodIdentityAssociationSummary[] = [];
    for await (const p of paginateListPodIdentityAssociations(
      { client: eks, ...(pageSize ? { pageSize } : {}) },
      { clusterName: CLUSTER, ...filter },
    ))
      out.push(...(p.associations ?? []));
    return out;
  }

  test("summaries only, filtered by namespace and service account, paginated with nextToken", async () => {
    const made = [
      await create("team-a", "agent"),
      await create("team-a", "web"),
      await create("team-b", "agent", { targetRoleArn: TARGET_ROLE }),
      await create("team-c", "batch"),
    ];
    fixture.pageSize = 1;
    const everything = await all();
    assert.deepEqual(
      everything.map((s) => s.associationId),
      made.map((a) => a.associationId),
    );
    assert.deepEqual(everything[2], {
      clusterName: CLUSTER,
      namespace: "team-b",
      serviceAccount: "agent",
      associationArn: made[2]?.associationArn,
      associationId: made[2]?.associationId,
    });
    assert.equal(fixture.calls.filter((c) => c.operation === "ListPodIdentityAssociations").length, 4);

    fixture.pageSize = 100;
    assert.deepEqual(
      (await all({ namespace: "team-a" })).map((s) => s.serviceAccount),
      ["agent", "web"],
    );
    assert.deepEqual(
      (await all({ serviceAccount: "agent" })).map((s) => s.namespace),
      ["team-a", "team-b"],
    );
    assert.deepEqual(
      (await all({ namespace: "team-b", serviceAccount: "agent" })).map((s) => s.associationId),
      [made[2]?.associationId],
    );
    assert.deepEqual(await all({ namespace: "team-z" }), []);

    // maxResults below the fixture's page size sets the page; the token resumes after it.
    const first = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: CLUSTER, maxResults: 3 }),
    );
    assert.equal(first.associations?.length, 3);
    assert.ok(first.nextToken);
    const rest = await eks.send(
      new ListPodIdentityAssociationsCommand({
        clusterName: CLUSTER,
        maxResults: 3,
        nextToken: first.nextToken,
      }),
    );
    assert.deepEqual(
      rest.associations?.map((s) => s.associationId),
      [made[3]?.associationId],
    );
    assert.equal(rest.nextToken, undefined);
    const call = fixture.calls.at(-1);
    assert.equal(call?.path, `/clusters/${CLUSTER}/pod-identity-associations`);
    assert.equal(call?.method, "GET");
  });

  test("maxResults outside 1..100: InvalidParameterException; an unknown cluster: ResourceNotFoundException", async () => {
    const big = await errorOf(
      eks.send(new ListPodIdentityAssociationsCommand({ clusterName: CLUSTER, maxResults: 101 })),
    );
    assert.ok(big instanceof InvalidParameterException, String(big));
    const missing = await errorOf(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "nope" })));
    assert.ok(missing instanceof ResourceNotFoundException, String(missing));
  });
});

describe("UpdatePodIdentityAssociation", () => {
  test("changes the role, sets, changes and removes the target role; the rest is kept", async () => {
    const a = await create("team-a", "agent", { tags: { k: "v" } });
    const update = async (input: Record<string, unknown>) => {
      const out = await eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: a.associationId,
          ...input,
        }),
      );
      assert.ok(out.association);
      return out.association;
    };

    const role = await update({ roleArn: POD_ROLE_2 });
    assert.equal(role.roleArn, POD_ROLE_2);
    assert.equal(role.associationId, a.associationId);
    assert.equal(role.namespace, "team-a");
    assert.deepEqual(role.tags, { k: "v" });
    assert.equal(role.createdAt?.getTime(), a.createdAt?.getTime());
    assert.ok((role.modifiedAt?.getTime() ?? 0) >= (a.modifiedAt?.getTime() ?? Infinity));
    assert.equal(fixture.calls.at(-1)?.method, "POST");
    assert.equal(
      fixture.calls.at(-1)?.path,
      `/clusters/${CLUSTER}/pod-identity-associations/${a.associationId}`,
    );

    const targeted = await update({ targetRoleArn: TARGET_ROLE });
    assert.equal(targeted.targetRoleArn, TARGET_ROLE);
    assert.equal(targeted.roleArn, POD_ROLE_2);
    assert.match(targeted.externalId ?? "", UUID);

    const moved = await update({ targetRoleArn: TARGET_ROLE_2 });
    assert.equal(moved.targetRoleArn, TARGET_ROLE_2);
    assert.equal(moved.externalId, targeted.externalId, "the externalId belongs to the association");

    const tags = await update({ disableSessionTags: true });
    assert.equal(tags.disableSessionTags, true);
    assert.equal(tags.targetRoleArn, TARGET_ROLE_2);

    const removed = await update({ targetRoleArn: "" });
    assert.equal(removed.targetRoleArn, undefined);
    assert.equal(removed.externalId, undefined);
    assert.equal(removed.disableSessionTags, true);

    const described = await eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
    );
    assert.deepEqual(described.association, removed);
  });

  test("errors: nothing to change, a cross-account role, a malformed target, an unknown id", async () => {
    const a = await create("team-a", "agent");
    const send = (input: Record<string, unknown>) =>
      eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: a.associationId,
          ...input,
        }),
      );
    // The SDK fills clientRequestToken in; a token alone changes nothing.
    const nothing = await errorOf(send({}));
    assert.ok(nothing instanceof InvalidParameterException, String(nothing));
    const cross = await errorOf(send({ roleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/r` }));
    assert.ok(cross instanceof InvalidParameterException, String(cross));
    assert.match(cross.message, /Cross-account pass role/);
    const bad = await errorOf(send({ targetRoleArn: "arn:aws:s3:::bucket" }));
    assert.ok(bad instanceof InvalidParameterException, String(bad));
    const missing = await errorOf(
      eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: "a-0000000000000000z",
          roleArn: POD_ROLE_2,
        }),
      ),
    );
    assert.ok(missing instanceof ResourceNotFoundException, String(missing));
    const unchanged = await eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
    );
    assert.deepEqual(unchanged.association, a);
  });
});

describe("DeletePodIdentityAssociation", () => {
  test("answers the deleted association; it is gone from describe and list; a second delete is 404", async () => {
    const a = await create("team-a", "agent", { targetRoleArn: TARGET_ROLE });
    const b = await create("team-b", "agent");
    const out = await eks.send(
      new DeletePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
    );
    assert.deepEqual(out.association, a);
    assert.deepEqual(fixture.calls.at(-1), {
      operation: "DeletePodIdentityAssociation",
      method: "DELETE",
      path: `/clusters/${CLUSTER}/pod-identity-associations/${a.associationId}`,
    });
    const gone = await errorOf(
      eks.send(
        new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
      ),
    );
    assert.ok(gone instanceof ResourceNotFoundException, String(gone));
    const again = await errorOf(
      eks.send(
        new DeletePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: a.associationId }),
      ),
    );
    assert.ok(again instanceof ResourceNotFoundException, String(again));
    const listed = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: CLUSTER }));
    assert.deepEqual(
      listed.associations?.map((s) => s.associationId),
      [b.associationId],
    );
    // The namespace and service account are free again.
    await create("team-a", "agent");
  });
});
