/**
 * The EKS emulator of `xeks sandbox` (and of the tests, through test/helpers/eks-fixture.ts, which re-exports
 * this module): a node:http server on 127.0.0.1 speaking the real EKS REST-JSON protocol, for the real
 * @aws-sdk/client-eks (or the aws CLI) pointed at it with AWS_ENDPOINT_URL_EKS. moto 5.2 has no access entries
 * and no accessConfig, so this stands in for them. The protocol facts (routes, JSON names, error types) are
 * those of the EKS API reference and of @aws-sdk/client-eks 3.x's model. State is in memory only.
 *
 * Operations: ListClusters, DescribeCluster (accessConfig, resourcesVpcConfig, endpoint, CA),
 * ListAccessEntries, DescribeAccessEntry, CreateAccessEntry, DeleteAccessEntry, ListAssociatedAccessPolicies,
 * AssociateAccessPolicy, DisassociateAccessPolicy, UpdateClusterConfig (accessConfig and endpoint access). No
 * CreateCluster: clusters are added with `addCluster` (the sandbox adds its own at `up`).
 * Lists are paginated with nextToken (small pages by default, so callers must follow them). Errors carry the
 * `x-amzn-ErrorType` header and a JSON `message`, as EKS sends them; timestamps are epoch seconds.
 * Any operation can be made to answer AccessDeniedException. Every request is recorded.
 *
 * EKS Pod Identity associations (the real REST routes and JSON names of @aws-sdk/client-eks 3.x's model):
 * - CreatePodIdentityAssociation: POST /clusters/{name}/pod-identity-associations, body namespace,
 *   serviceAccount, roleArn (required), targetRoleArn, disableSessionTags, tags, policy, clientRequestToken.
 * - DescribePodIdentityAssociation: GET /clusters/{name}/pod-identity-associations/{associationId}.
 * - ListPodIdentityAssociations: GET /clusters/{name}/pod-identity-associations?namespace=&serviceAccount=
 *   &maxResults=&nextToken= (summaries only: no roleArn, no targetRoleArn).
 * - UpdatePodIdentityAssociation: POST .../{associationId}, body roleArn, targetRoleArn ("" removes it),
 *   disableSessionTags, policy, clientRequestToken; at least one of the four.
 * - DeletePodIdentityAssociation: DELETE .../{associationId}; answers the deleted association.
 * Each answers `{ association }` (List: `{ associations, nextToken? }`). Ids are `a-` + 17 lowercase
 * alphanumerics (EKS refuses other lengths: "The parameter associationId should be 19 characters long.");
 * associationArn is `arn:aws:eks:REGION:ACCOUNT:podidentityassociation/CLUSTER/ID`. With a targetRoleArn the
 * association also carries `externalId` (a UUID made once per association, kept while a target is set; the
 * value EKS uses is opaque, the model only says to match it with `sts:ExternalId`). Errors: no cluster or no
 * association → ResourceNotFoundException (404); a second association for the same namespace and service
 * account → ResourceInUseException (409); a missing field, a malformed ARN, a role outside the cluster's
 * account ("Cross-account pass role is not allowed", the target role may be in any account), an update that
 * changes nothing, maxResults outside 1..100 → InvalidParameterException (400). A create repeated with the
 * same clientRequestToken answers the association it made (the SDK fills the token in, so a retried create
 * does not make a second one). Not modelled: `ownerArn` (add-on owned associations) and the association
 * limit per cluster.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** accessConfig.authenticationMode values (EKS API reference, AuthenticationMode). */
export type AuthenticationMode = "CONFIG_MAP" | "API_AND_CONFIG_MAP" | "API";

/** A cluster to serve: what DescribeCluster answers (EKS API reference, Cluster). */
export interface FixtureCluster {
  name: string;
  account: string;
  region: string;
  vpcId: string;
  subnetIds: string[];
  clusterSecurityGroupId: string;
  securityGroupIds?: string[];
  authenticationMode: AuthenticationMode;
  endpointPrivateAccess: boolean;
  endpointPublicAccess: boolean;
  /** resourcesVpcConfig.publicAccessCidrs; default ["0.0.0.0/0"] with public access on, [] with it off. */
  publicAccessCidrs?: string[];
  /** Default: a made-up https endpoint. */
  endpoint?: string;
  /** base64 of a PEM; default: a short fake. */
  certificateAuthority?: string;
  /** Answer DescribeCluster without `accessConfig`, as a cluster from before access entries does. */
  omitAccessConfig?: boolean;
}

/** One access entry as the emulator stores it, with its access-policy associations by policy ARN. */
export interface FixtureEntry {
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  createdAt: Date;
  modifiedAt: Date;
  policies: Map<
    string,
    { accessScope: { type: string; namespaces: string[] }; associatedAt: Date; modifiedAt: Date }
  >;
}

/**
 * One EKS Pod Identity association as the fixture stores it (shape of the model's PodIdentityAssociation,
 * dates as Date). `externalId` is set exactly when `targetRoleArn` is.
 */
export interface FixtureAssociation {
  associationId: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn?: string;
  externalId?: string;
  disableSessionTags: boolean;
  /** A session policy (JSON text), as the 2025 model's `policy` field. */
  policy?: string;
  tags: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
  /** The clientRequestToken of the create, for idempotent retries. */
  clientRequestToken?: string;
}

/** A cluster as the fixture holds it: the declared fields plus its access entries and associations. */
export type FixtureClusterState = FixtureCluster & {
  entries: Map<string, FixtureEntry>;
  /** Pod Identity associations by associationId, in creation order. */
  associations: Map<string, FixtureAssociation>;
  createdAt: Date;
};

/** One request the emulator answered: the EKS operation name, HTTP method and path. */
export interface FixtureCall {
  operation: string;
  method: string;
  path: string;
}

/** A running emulator: its URL (http://127.0.0.1:PORT), its state (mutable), knobs for tests, and stop(). */
export interface EksFixture {
  url: string;
  calls: FixtureCall[];
  clearCalls(): void;
  clusters: Map<string, FixtureClusterState>;
  addCluster(c: FixtureCluster): void;
  /** Answer these operations (DescribeCluster, ListAccessEntries, …) with AccessDeniedException. */
  deny(...operations: string[]): void;
  allowAll(): void;
  /** Items per page of the List operations when the caller asks for no smaller page. Default 1. */
  pageSize: number;
  /** Answer the next `n` requests with ThrottlingException (HTTP 429), as a busy control plane does. */
  throttleNext(n: number): void;
  /** Milliseconds to wait before answering (a WAN round trip, for benchmarks). Default 0. */
  latencyMs: number;
  /** Refuse access-entry operations on CONFIG_MAP clusters, as EKS does. Default false. */
  enforceAuthenticationMode: boolean;
  reset(): void;
  stop(): Promise<void>;
}

class EksError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function epoch(d: Date): number {
  return d.getTime() / 1000;
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on("error", reject);
  });
}

function page<T>(items: T[], query: URLSearchParams, pageSize: number): { items: T[]; nextToken?: string } {
  const start = Number(query.get("nextToken") ?? "0") || 0;
  const max = Math.min(Number(query.get("maxResults") ?? pageSize) || pageSize, pageSize);
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? String(start + max) : undefined;
  return { items: slice, ...(next ? { nextToken: next } : {}) };
}

/** `a-` + 17 lowercase alphanumerics, the form of EKS association ids (19 characters). */
function associationId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return `a-${[...randomBytes(17)].map((b) => alphabet[b % alphabet.length]).join("")}`;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/** The account of an IAM role ARN; InvalidParameterException naming `field` when it is not one. */
function roleAccount(field: string, value: unknown): string {
  const m = typeof value === "string" ? ROLE_ARN.exec(value) : null;
  if (!m?.[1])
    throw new EksError(
      400,
      "InvalidParameterException",
      `The specified ${field} is invalid: ${String(value)}`,
    );
  return m[1];
}

/** A required non-empty string field of a request body; InvalidParameterException when absent. */
function requiredString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== "string" || v === "")
    throw new EksError(
      400,
      "InvalidParameterException",
      `${field} is required and must be a non-empty string.`,
    );
  return v;
}

/** Where the emulator listens. Defaults: an ephemeral port of 127.0.0.1. */
export interface EksFixtureOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
}

/**
 * Start the EKS emulator on 127.0.0.1 (never another address). Resolves once it listens; rejects with the
 * listen error (EADDRINUSE for a taken port).
 */
export async function startEksFixture(options: EksFixtureOptions = {}): Promise<EksFixture> {
  const clusters: EksFixture["clusters"] = new Map();
  const denied = new Set<string>();
  const calls: FixtureCall[] = [];
  const state = { pageSize: 1, enforceAuthenticationMode: false, latencyMs: 0, throttle: 0 };

  const clusterJson = (c: FixtureCluster & { createdAt: Date }) => ({
    name: c.name,
    arn: `arn:aws:eks:${c.region}:${c.account}:cluster/${c.name}`,
    createdAt: epoch(c.createdAt),
    version: "1.31",
    endpoint:
      c.endpoint ??
      `https://${c.name.toUpperCase().replace(/[^A-Z0-9]/g, "")}0123.gr7.${c.region}.eks.amazonaws.com`,
    roleArn: `arn:aws:iam::${c.account}:role/eks-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: c.subnetIds,
      securityGroupIds: c.securityGroupIds ?? [],
      clusterSecurityGroupId: c.clusterSecurityGroupId,
      vpcId: c.vpcId,
      endpointPublicAccess: c.endpointPublicAccess,
      endpointPrivateAccess: c.endpointPrivateAccess,
      publicAccessCidrs: c.publicAccessCidrs ?? (c.endpointPublicAccess ? ["0.0.0.0/0"] : []),
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: "172.20.0.0/16", ipFamily: "ipv4" },
    certificateAuthority: {
      data: c.certificateAuthority ?? "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==",
    },
    status: "ACTIVE",
    platformVersion: "eks.10",
    tags: {},
    // A cluster from before access entries answers without accessConfig.
    ...(c.omitAccessConfig
      ? {}
      : {
          accessConfig: {
            authenticationMode: c.authenticationMode,
            bootstrapClusterCreatorAdminPermissions: true,
          },
        }),
  });

  const entryJson = (clusterName: string, account: string, region: string, e: FixtureEntry) => ({
    clusterName,
    principalArn: e.principalArn,
    kubernetesGroups: e.kubernetesGroups,
    accessEntryArn: `arn:aws:eks:${region}:${account}:access-entry/${clusterName}/role/${account}/${e.principalArn.split("/").pop()}/0ac0a1b2-c3d4-e5f6-a7b8-c9d0e1f2a3b4`,
    createdAt: epoch(e.createdAt),
    modifiedAt: epoch(e.modifiedAt),
    tags: {},
    username: e.username,
    type: e.type,
  });

  const associationArn = (c: FixtureClusterState, id: string) =>
    `arn:aws:eks:${c.region}:${c.account}:podidentityassociation/${c.name}/${id}`;

  const associationJson = (c: FixtureClusterState, a: FixtureAssociation) => ({
    clusterName: c.name,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: associationArn(c, a.associationId),
    associationId: a.associationId,
    tags: a.tags,
    createdAt: epoch(a.createdAt),
    modifiedAt: epoch(a.modifiedAt),
    disableSessionTags: a.disableSessionTags,
    ...(a.targetRoleArn ? { targetRoleArn: a.targetRoleArn, externalId: a.externalId } : {}),
    ...(a.policy !== undefined ? { policy: a.policy } : {}),
  });

  /** Pod Identity routes: parts = ["clusters", name, "pod-identity-associations", id?]. */
  const podIdentityRoute = (
    req: IncomingMessage,
    url: URL,
    parts: string[],
    method: string,
    cluster: () => FixtureClusterState,
  ): [string, () => Promise<[number, unknown]>] => {
    const association = (id: string) => {
      const c = cluster();
      if (id.length !== 19)
        throw new EksError(
          400,
          "InvalidParameterException",
          "The parameter associationId should be 19 characters long.",
        );
      const a = c.associations.get(id);
      if (!a)
        throw new EksError(
          404,
          "ResourceNotFoundException",
          `No Pod Identity Association found with id ${id}.`,
        );
      return { c, a };
    };
    if (parts.length === 3 && method === "POST") {
      return [
        "CreatePodIdentityAssociation",
        async () => {
          const c = cluster();
          const body = await readJson(req);
          const namespace = requiredString(body, "namespace");
          const serviceAccount = requiredString(body, "serviceAccount");
          const roleArn = requiredString(body, "roleArn");
          if (roleAccount("roleArn", roleArn) !== c.account)
            throw new EksError(400, "InvalidParameterException", "Cross-account pass role is not allowed.");
          const target = body.targetRoleArn;
          if (target !== undefined && target !== "") roleAccount("targetRoleArn", target);
          const token = typeof body.clientRequestToken === "string" ? body.clientRequestToken : undefined;
          const same = token
            ? [...c.associations.values()].find((a) => a.clientRequestToken === token)
            : undefined;
          if (same) return [200, { association: associationJson(c, same) }];
          const taken = [...c.associations.values()].find(
            (a) => a.namespace === namespace && a.serviceAccount === serviceAccount,
          );
          if (taken)
            throw new EksError(
              409,
              "ResourceInUseException",
              `Association already exists: ${taken.associationId} for namespace ${namespace} and service account ${serviceAccount}.`,
            );
          const now = new Date();
          const a: FixtureAssociation = {
            associationId: associationId(),
            namespace,
            serviceAccount,
            roleArn,
            ...(typeof target === "string" && target !== ""
              ? { targetRoleArn: target, externalId: randomUUID() }
              : {}),
            disableSessionTags: body.disableSessionTags === true,
            ...(typeof body.policy === "string" ? { policy: body.policy } : {}),
            tags: (body.tags as Record<string, string> | undefined) ?? {},
            createdAt: now,
            modifiedAt: now,
            ...(token ? { clientRequestToken: token } : {}),
          };
          c.associations.set(a.associationId, a);
          return [200, { association: associationJson(c, a) }];
        },
      ];
    }
    if (parts.length === 3 && method === "GET") {
      return [
        "ListPodIdentityAssociations",
        async () => {
          const c = cluster();
          const q = url.searchParams;
          const max = q.get("maxResults");
          if (max !== null && !(Number.isInteger(Number(max)) && Number(max) >= 1 && Number(max) <= 100))
            throw new EksError(
              400,
              "InvalidParameterException",
              "maxResults must be an integer between 1 and 100.",
            );
          const ns = q.get("namespace");
          const sa = q.get("serviceAccount");
          const all = [...c.associations.values()]
            .filter((a) => (ns === null || a.namespace === ns) && (sa === null || a.serviceAccount === sa))
            .map((a) => ({
              clusterName: c.name,
              namespace: a.namespace,
              serviceAccount: a.serviceAccount,
              associationArn: associationArn(c, a.associationId),
              associationId: a.associationId,
            }));
          const p = page(all, q, state.pageSize);
          return [200, { associations: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) }];
        },
      ];
    }
    const id = parts[3] ?? "";
    if (parts.length === 4 && method === "GET") {
      return [
        "DescribePodIdentityAssociation",
        async () => {
          const { c, a } = association(id);
          return [200, { association: associationJson(c, a) }];
        },
      ];
    }
    if (parts.length === 4 && method === "POST") {
      return [
        "UpdatePodIdentityAssociation",
        async () => {
          const { c, a } = association(id);
          const body = await readJson(req);
          const { roleArn, targetRoleArn, disableSessionTags, policy } = body;
          if (
            roleArn === undefined &&
            targetRoleArn === undefined &&
            disableSessionTags === undefined &&
            policy === undefined
          )
            throw new EksError(
              400,
              "InvalidParameterException",
              "At least one of roleArn, targetRoleArn, disableSessionTags or policy must be given.",
            );
          if (roleArn !== undefined && roleAccount("roleArn", roleArn) !== c.account)
            throw new EksError(400, "InvalidParameterException", "Cross-account pass role is not allowed.");
          if (targetRoleArn !== undefined && targetRoleArn !== "")
            roleAccount("targetRoleArn", targetRoleArn);
          if (typeof roleArn === "string") a.roleArn = roleArn;
          if (targetRoleArn === "") {
            delete a.targetRoleArn;
            delete a.externalId;
          } else if (typeof targetRoleArn === "string") {
            a.targetRoleArn = targetRoleArn;
            a.externalId ??= randomUUID();
          }
          if (typeof disableSessionTags === "boolean") a.disableSessionTags = disableSessionTags;
          if (typeof policy === "string") {
            if (policy === "") delete a.policy;
            else a.policy = policy;
          }
          a.modifiedAt = new Date();
          return [200, { association: associationJson(c, a) }];
        },
      ];
    }
    if (parts.length === 4 && method === "DELETE") {
      return [
        "DeletePodIdentityAssociation",
        async () => {
          const { c, a } = association(id);
          c.associations.delete(id);
          return [200, { association: associationJson(c, a) }];
        },
      ];
    }
    return ["Unknown", async () => [404, {}]];
  };

  /** Route one request; returns [operation, status, body]. */
  async function handle(req: IncomingMessage, url: URL): Promise<[string, number, unknown]> {
    // Split before decoding: the principal ARN is one URL-encoded path segment.
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? "GET";
    let operation = "Unknown";
    const route = (): [string, () => Promise<[number, unknown]>] => {
      if (parts[0] === "clusters" && parts.length === 1 && method === "GET") {
        return [
          "ListClusters",
          async () => {
            const p = page([...clusters.keys()], url.searchParams, state.pageSize);
            return [200, { clusters: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) }];
          },
        ];
      }
      if (parts[0] !== "clusters" || !parts[1]) return ["Unknown", async () => [404, {}]];
      const name = parts[1];
      const cluster = () => {
        const c = clusters.get(name);
        if (!c) throw new EksError(404, "ResourceNotFoundException", `No cluster found for name: ${name}.`);
        return c;
      };
      const entries = () => {
        const c = cluster();
        if (state.enforceAuthenticationMode && c.authenticationMode === "CONFIG_MAP") {
          throw new EksError(
            400,
            "InvalidRequestException",
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
          );
        }
        return c;
      };
      const entry = (arn: string) => {
        const c = entries();
        const e = c.entries.get(arn);
        if (!e)
          throw new EksError(
            404,
            "ResourceNotFoundException",
            `The specified access entry resource is not found on cluster ${name}.`,
          );
        return { c, e };
      };
      if (parts.length === 2 && method === "GET")
        return ["DescribeCluster", async () => [200, { cluster: clusterJson(cluster()) }]];
      if (parts.length === 3 && parts[2] === "update-config" && method === "POST") {
        return [
          "UpdateClusterConfig",
          async () => {
            const c = cluster();
            const body = await readJson(req);
            const access = body.accessConfig as { authenticationMode?: AuthenticationMode } | undefined;
            if (access?.authenticationMode) c.authenticationMode = access.authenticationMode;
            const vpc = body.resourcesVpcConfig as
              | {
                  endpointPrivateAccess?: boolean;
                  endpointPublicAccess?: boolean;
                  publicAccessCidrs?: string[];
                }
              | undefined;
            if (vpc?.endpointPrivateAccess !== undefined) c.endpointPrivateAccess = vpc.endpointPrivateAccess;
            if (vpc?.endpointPublicAccess !== undefined) c.endpointPublicAccess = vpc.endpointPublicAccess;
            if (vpc?.publicAccessCidrs !== undefined) c.publicAccessCidrs = [...vpc.publicAccessCidrs];
            return [
              200,
              {
                update: {
                  id: "00000000-0000-0000-0000-000000000001",
                  status: "Successful",
                  type: "ConfigUpdate",
                  params: [],
                  createdAt: epoch(new Date()),
                  errors: [],
                },
              },
            ];
          },
        ];
      }
      if (parts[2] === "pod-identity-associations") return podIdentityRoute(req, url, parts, method, cluster);
      if (parts[2] !== "access-entries") return ["Unknown", async () => [404, {}]];
      if (parts.length === 3 && method === "GET") {
        return [
          "ListAccessEntries",
          async () => {
            const c = entries();
            const p = page([...c.entries.keys()], url.searchParams, state.pageSize);
            return [200, { accessEntries: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) }];
          },
        ];
      }
      if (parts.length === 3 && method === "POST") {
        return [
          "CreateAccessEntry",
          async () => {
            const c = entries();
            const body = await readJson(req);
            const arn = String(body.principalArn ?? "");
            if (!/^arn:aws[\w-]*:(iam|sts)::\d{12}:/.test(arn))
              throw new EksError(
                400,
                "InvalidParameterException",
                "The specified principalArn is invalid: invalid principal.",
              );
            if (c.entries.has(arn))
              throw new EksError(
                409,
                "ResourceInUseException",
                "The specified access entry resource is already in use on this cluster.",
              );
            const now = new Date();
            const roleName = arn.split("/")[1] ?? "";
            const e: FixtureEntry = {
              principalArn: arn,
              type: String(body.type ?? "STANDARD"),
              username: String(
                body.username ?? `arn:aws:sts::${c.account}:assumed-role/${roleName}/{{SessionName}}`,
              ),
              kubernetesGroups: (body.kubernetesGroups as string[] | undefined) ?? [],
              createdAt: now,
              modifiedAt: now,
              policies: new Map(),
            };
            c.entries.set(arn, e);
            return [200, { accessEntry: entryJson(c.name, c.account, c.region, e) }];
          },
        ];
      }
      const principal = parts[3] ?? "";
      if (parts.length === 4 && method === "GET") {
        return [
          "DescribeAccessEntry",
          async () => {
            const { c, e } = entry(principal);
            return [200, { accessEntry: entryJson(c.name, c.account, c.region, e) }];
          },
        ];
      }
      if (parts.length === 4 && method === "DELETE") {
        return [
          "DeleteAccessEntry",
          async () => {
            const { c } = entry(principal);
            c.entries.delete(principal);
            return [200, {}];
          },
        ];
      }
      if (parts[4] !== "access-policies") return ["Unknown", async () => [404, {}]];
      if (parts.length === 5 && method === "GET") {
        return [
          "ListAssociatedAccessPolicies",
          async () => {
            const { e } = entry(principal);
            const all = [...e.policies.entries()].map(([policyArn, a]) => ({
              policyArn,
              accessScope: a.accessScope,
              associatedAt: epoch(a.associatedAt),
              modifiedAt: epoch(a.modifiedAt),
            }));
            const p = page(all, url.searchParams, state.pageSize);
            return [
              200,
              {
                clusterName: name,
                principalArn: principal,
                associatedAccessPolicies: p.items,
                ...(p.nextToken ? { nextToken: p.nextToken } : {}),
              },
            ];
          },
        ];
      }
      if (parts.length === 5 && method === "POST") {
        return [
          "AssociateAccessPolicy",
          async () => {
            const { c, e } = entry(principal);
            const body = await readJson(req);
            const policyArn = String(body.policyArn ?? "");
            const scope = (body.accessScope ?? {}) as { type?: string; namespaces?: string[] };
            if (!/^arn:aws[\w-]*:eks::aws:cluster-access-policy\/\w+$/.test(policyArn))
              throw new EksError(400, "InvalidParameterException", `Invalid policyArn ${policyArn}`);
            const now = new Date();
            const accessScope = { type: scope.type ?? "cluster", namespaces: scope.namespaces ?? [] };
            const had = e.policies.get(policyArn);
            e.policies.set(policyArn, {
              accessScope,
              associatedAt: had?.associatedAt ?? now,
              modifiedAt: now,
            });
            return [
              200,
              {
                clusterName: c.name,
                principalArn: principal,
                associatedAccessPolicy: {
                  policyArn,
                  accessScope,
                  associatedAt: epoch(now),
                  modifiedAt: epoch(now),
                },
              },
            ];
          },
        ];
      }
      if (parts.length === 6 && method === "DELETE") {
        return [
          "DisassociateAccessPolicy",
          async () => {
            const { e } = entry(principal);
            e.policies.delete(parts[5] ?? "");
            return [200, {}];
          },
        ];
      }
      return ["Unknown", async () => [404, {}]];
    };
    const [op, run] = route();
    operation = op;
    if (denied.has(operation)) {
      throw Object.assign(
        new EksError(
          403,
          "AccessDeniedException",
          `User: arn:aws:sts::000000000000:assumed-role/test/x is not authorized to perform: eks:${operation} on resource: ${parts.slice(0, 2).join("/")}`,
        ),
        { operation },
      );
    }
    try {
      const [status, body] = await run();
      return [operation, status, body];
    } catch (err) {
      throw Object.assign(err as Error, { operation });
    }
  }

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    let operation = "Unknown";
    const send = (status: number, body: unknown, type?: string) => {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-amzn-requestid": "11111111-2222-3333-4444-555555555555",
      };
      if (type) headers["x-amzn-errortype"] = `${type}:http://internal.amazon.com/coral/com.amazonaws.eks/`;
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    };
    if (state.latencyMs > 0) await new Promise((r) => setTimeout(r, state.latencyMs));
    if (state.throttle > 0) {
      state.throttle--;
      calls.push({ operation: "Throttled", method: req.method ?? "GET", path: url.pathname });
      send(429, { message: "Rate exceeded" }, "ThrottlingException");
      return;
    }
    try {
      const [op, status, body] = await handle(req, url);
      operation = op;
      calls.push({ operation, method: req.method ?? "GET", path: url.pathname });
      if (op === "Unknown")
        send(404, { message: `no route for ${req.method} ${url.pathname}` }, "NotFoundException");
      else send(status, body);
    } catch (err) {
      operation = (err as { operation?: string }).operation ?? operation;
      calls.push({ operation, method: req.method ?? "GET", path: url.pathname });
      if (err instanceof EksError) send(err.status, { message: err.message }, err.type);
      else send(500, { message: String(err) }, "ServerException");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fixture: EksFixture = {
    url,
    calls,
    clearCalls: () => {
      calls.length = 0;
    },
    clusters,
    addCluster: (c) => {
      clusters.set(c.name, { ...c, entries: new Map(), associations: new Map(), createdAt: new Date() });
    },
    deny: (...ops) => {
      for (const o of ops) denied.add(o);
    },
    allowAll: () => denied.clear(),
    throttleNext: (n) => {
      state.throttle = n;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(n: number) {
      state.pageSize = n;
    },
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(ms: number) {
      state.latencyMs = ms;
    },
    get enforceAuthenticationMode() {
      return state.enforceAuthenticationMode;
    },
    set enforceAuthenticationMode(v: boolean) {
      state.enforceAuthenticationMode = v;
    },
    reset: () => {
      clusters.clear();
      denied.clear();
      calls.length = 0;
      state.enforceAuthenticationMode = false;
      state.latencyMs = 0;
      state.throttle = 0;
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return fixture;
}
