/**
 * The topology file, version 1 (contract.md "Topology file"), as a zod schema.
 *
 * The schema is the single source of: validation, defaults, the TypeScript types, and the exported JSON Schema
 * (`xeks schema`, `schema/topology.schema.json`). Cross-field rules (unknown clients, duplicates, ...) are in
 * `validate.ts`.
 */
import { z } from "zod";
import { KNOWN_ACCESS_POLICIES } from "../access/names.js";
import { cidrProblem, isCanonicalCidr, parseCidr } from "../domain/cidr.js";
import {
  ACCOUNT_ID_PATTERN,
  CLIENT_NAME_PATTERN,
  CLUSTER_NAME_PATTERN,
  type Ec2IdPrefix,
  EXTERNAL_ID_PATTERN,
  ec2IdPattern,
  IAM_PATH_PATTERN,
  INSTANCE_PROFILE_NAME_PATTERN,
  MANAGED_POLICY_ARN_PATTERN,
  NAMESPACE_PATTERN,
  ORGANIZATION_ID_PATTERN,
  PRINCIPAL_ARN_PATTERN,
  REGION_PATTERN,
  RESERVED_USERNAME_PREFIXES,
  ROLE_ARN_PATTERN,
  ROLE_NAME_PATTERN,
} from "../domain/names.js";
import {
  hasLiteral,
  ORGANIZATION_PATH_PATTERN,
  ROLE_NAME_GLOB_MAX,
  ROLE_NAME_GLOB_PATTERN,
  wellKnownRoleAdmitted,
} from "../domain/organization.js";
import {
  DEFAULT_OIDC_AUDIENCE,
  GITHUB_ACTIONS_PROVIDER,
  OIDC_PROVIDER_PATTERN,
  PERMISSION_SET_NAME_PATTERN,
} from "../domain/principal.js";
import { QUOTAS } from "../domain/quotas.js";
import { OU_ID_PATTERN } from "../domain/stackset.js";

export { isCanonicalCidr };

// Every name and id pattern is defined once, in src/domain/names.ts (shared with the token path).
const ACCOUNT = ACCOUNT_ID_PATTERN;
const REGION = REGION_PATTERN;
const CLUSTER_NAME = CLUSTER_NAME_PATTERN;
const CLIENT_NAME = CLIENT_NAME_PATTERN;
const ROLE_NAME = ROLE_NAME_PATTERN;
const IAM_PATH = IAM_PATH_PATTERN;
const NAMESPACE = NAMESPACE_PATTERN;
const EXTERNAL_ID = EXTERNAL_ID_PATTERN;
const RESERVED_PREFIXES = RESERVED_USERNAME_PREFIXES;

const resourceId = (prefix: Ec2IdPrefix) =>
  z
    .string()
    .regex(
      ec2IdPattern(prefix),
      `expected a ${prefix} id: "${prefix}-" and 8 or 17 lowercase hex digits, e.g. ${prefix}-0123456789abcdef0`,
    );

const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
/** For editors (JSON Schema `pattern`): four decimal octets without leading zeros and a prefix. */
const CIDR_PATTERN = (prefix: string) => `^(${OCTET}\\.){3}${OCTET}/${prefix}$`;

/**
 * The most route tables a VPC has by default: Amazon VPC User Guide, "Amazon VPC quotas", Route tables: "Route
 * tables per VPC: 200" (adjustable; the main route table counts). A `routeTables` list is capped at it, which
 * also keeps each link stack (one AWS::EC2::Route per listed table, plus a few resources) far below
 * CloudFormation's 500 resources per stack.
 */
export const MAX_ROUTE_TABLES = 200;

/** The smallest and largest prefix of a VPC's CIDR block ("between a /16 and /28 netmask", EC2 CreateVpc). */
export const VPC_PREFIX = { min: 16, max: 28 } as const;

/**
 * An IPv4 CIDR in canonical form: a prefix from /0 to /32, no host bits set, no leading zeros (`10.0.0.0/16`).
 * The message of a non-canonical one gives the canonical form (`cidrProblem`).
 */
export const ipv4Cidr = z
  .string()
  .superRefine((text, ctx) => {
    const problem = cidrProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
  })
  .meta({ pattern: CIDR_PATTERN("(3[0-2]|[12]?[0-9])") });

/** A VPC's primary CIDR: canonical, with a prefix from /16 to /28 (so never 0.0.0.0/0 or 10.0.0.0/8). */
export const vpcCidr = z
  .string()
  .superRefine((text, ctx) => {
    const problem = cidrProblem(text);
    const prefix = parseCidr(text)?.prefix;
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
    else if (prefix !== undefined && (prefix < VPC_PREFIX.min || prefix > VPC_PREFIX.max)) {
      ctx.addIssue({
        code: "custom",
        input: text,
        message:
          `a VPC's CIDR has a prefix from /${VPC_PREFIX.min} to /${VPC_PREFIX.max} (EC2 CreateVpc); ` +
          `/${prefix} is no VPC's CIDR: give the VPC's primary CIDR`,
      });
    }
  })
  .meta({ pattern: CIDR_PATTERN("(1[6-9]|2[0-8])") });

const accountId = z
  .string({ error: 'expected a 12-digit account id as a quoted string, e.g. "111111111111"' })
  .regex(ACCOUNT, 'expected a 12-digit account id as a quoted string, e.g. "111111111111"');

const region = z.string().regex(REGION, "expected an AWS region such as ap-south-1 or us-east-1");

const policyStatement = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: z.union([z.string(), z.array(z.string())]).optional(),
    NotAction: z.union([z.string(), z.array(z.string())]).optional(),
    Resource: z.union([z.string(), z.array(z.string())]).optional(),
    NotResource: z.union([z.string(), z.array(z.string())]).optional(),
    Principal: z.unknown().optional(),
    NotPrincipal: z.unknown().optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict()
  .refine(
    (s) => (s.Action === undefined) !== (s.NotAction === undefined),
    "a statement needs Action or NotAction",
  );

/** An IAM policy document, as in the console's JSON editor. */
export const policyDocument = z
  .object({
    Version: z.enum(["2012-10-17", "2008-10-17"]).default("2012-10-17"),
    Id: z.string().optional(),
    Statement: z.union([policyStatement, z.array(policyStatement).min(1)]),
  })
  .strict()
  .describe("An IAM policy document: { Version, Statement: [...] }");

/**
 * An inline policy name (IAM PutRolePolicy, PolicyName: "[\w+=,.@-]+", 1-128 characters).
 */
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

/** A policy that already exists in an account (declared fact): a name for messages and its document. */
const namedPolicy = z
  .object({
    name: z.string().min(1).describe("A name to show in reports."),
    document: policyDocument,
  })
  .strict();

const route = z
  .object({
    routeTable: resourceId("rtb"),
    destination: ipv4Cidr,
    target: z
      .string()
      .regex(
        /^(local|(pcx|tgw|igw|nat|eni|vgw|vpce|eigw|lgw|cagw)-[0-9a-f]{8,17})$/,
        "expected local or a target id such as pcx-…, tgw-…, igw-…, nat-…",
      )
      .describe("What the route points at: local, pcx-…, tgw-…, igw-…, nat-…"),
  })
  .strict()
  .describe("A route that already exists in a route table (declared fact).");

const vpc = z
  .object({
    id: resourceId("vpc"),
    cidr: vpcCidr.describe("The VPC's primary IPv4 CIDR (/16 to /28)."),
    routeTables: z
      .array(resourceId("rtb"))
      .min(1, "list at least one route table: the tables of the subnets that must reach the peer")
      .max(
        MAX_ROUTE_TABLES,
        `list at most ${MAX_ROUTE_TABLES} route tables, the default quota of route tables per VPC (Amazon VPC quotas): ` +
          "only the tables of the subnets that must reach the peer",
      )
      .describe(
        "Route tables that get a route to the peer CIDR. Include the main route table if a subnet uses it implicitly.",
      ),
    routes: z
      .array(route)
      .default([])
      .describe(
        "Routes that already exist in these tables; a conflicting route to the peer CIDR breaks the chain.",
      ),
  })
  .strict();

const boundary = z
  .object({
    arn: z
      .string()
      .regex(MANAGED_POLICY_ARN_PATTERN, "expected an IAM managed policy ARN")
      .optional()
      .describe("The managed policy to set as the boundary of a role xeks creates."),
    document: policyDocument.describe("Its document, used by the proof."),
  })
  .strict();

const clientRole = z.union([
  z.string().regex(ROLE_NAME, "expected an IAM role name: 1-64 of letters, digits and +=,.@_-"),
  z
    .object({
      name: z.string().regex(ROLE_NAME, "expected an IAM role name: 1-64 of letters, digits and +=,.@_-"),
      existing: z
        .boolean()
        .default(false)
        .describe(
          "true: the role and its instance profile already exist; xeks only adds the sts:AssumeRole policy to it.",
        ),
      path: z
        .string()
        .max(512, "an IAM path has at most 512 characters (IAM CreateRole)")
        .regex(IAM_PATH, "expected an IAM path such as / or /teams/")
        .default("/"),
      instanceProfile: z
        .string()
        .regex(
          INSTANCE_PROFILE_NAME_PATTERN,
          "expected an instance profile name: 1-128 of letters, digits and +=,.@_- (IAM CreateInstanceProfile)",
        )
        .optional()
        .describe("Name of the role's instance profile, created or existing (default: the role name)."),
      trustPolicy: policyDocument
        .optional()
        .describe("The existing role's trust policy (declared fact). Default: trusts ec2.amazonaws.com."),
      permissionsBoundary: boundary.optional(),
      policies: z
        .array(namedPolicy)
        .default([])
        .describe("Identity policies already attached to an existing role (declared facts for the proof)."),
      assumePolicy: z
        .string()
        .regex(POLICY_NAME, "expected an inline policy name: 1-128 of letters, digits and +=,.@_-")
        .optional()
        .describe(
          "Adopt: the name of the existing role's inline policy (one of `policies`) that allows sts:AssumeRole on the " +
            "access roles. CloudFormation takes it over under that name (AWS::IAM::RolePolicy) instead of xeks adding " +
            "its own. Default: xeks adds its own policy.",
        ),
    })
    .strict(),
]);

const peering = z
  .object({
    id: resourceId("pcx").describe(
      "The VPC peering connection between this client's VPC and the cluster VPC.",
    ),
    adopt: z
      .boolean()
      .default(true)
      .describe(
        "true (default): CloudFormation takes ownership of the connection (resource import; DeletionPolicy " +
          "Retain). false: xeks leaves it as it is and only refers to it (routes use its id).",
      ),
  })
  .strict()
  .describe(
    "The peering connection exists already (xeks discover writes it): xeks adopts it instead of requesting one.",
  );

const ingressRule = z
  .object({
    id: z
      .string()
      .regex(
        /^sgr-([0-9a-f]{8}|[0-9a-f]{17})$/,
        'expected a security group rule id: "sgr-" and 8 or 17 hex digits',
      )
      .describe("The rule's id (DescribeSecurityGroupRules)."),
    protocol: z
      .string()
      .regex(
        /^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$/,
        "expected tcp, udp, icmp, icmpv6, -1 (all) or a protocol number",
      )
      .describe("IpProtocol: tcp, udp, icmp, -1 for all."),
    fromPort: z.number().int().min(-1).max(65535),
    toPort: z.number().int().min(-1).max(65535),
    cidr: ipv4Cidr.describe("CidrIpv4: the source."),
    description: z.string().max(255).optional().describe("The rule's description, as found."),
  })
  .strict()
  .describe("An inbound rule of the cluster security group that exists (declared fact).");

const policyRef = z.union([
  z.string(),
  z
    .object({
      policy: z.string(),
      namespaces: z
        .array(z.string().regex(NAMESPACE, 'expected a namespace name, "*" globs allowed (team-*)'))
        .min(1, "list at least one namespace, or drop `namespaces` for cluster scope")
        .optional(),
    })
    .strict(),
]);

/**
 * Text that CDK or CloudFormation would not copy as written into a template: CDK token markers (`${Token[…]}`,
 * `#{Token[…]}`, resolved or refused at synthesis) and CloudFormation dynamic references (`{{resolve:ssm:…}}`,
 * replaced by a parameter's or a secret's value at deploy).
 */
const TEMPLATE_SYNTAX = /\$\{|#\{|\{\{resolve:/;
const TEMPLATE_SYNTAX_MESSAGE =
  "must not contain ${, #{ or {{resolve: (CDK would read a token, CloudFormation a dynamic reference)";

const kubernetesName = z
  .string()
  .min(1)
  .refine((s) => !RESERVED_PREFIXES.some((p) => s.startsWith(p)), {
    message: `must not start with ${RESERVED_PREFIXES.join(", ")}`,
  })
  .refine((s) => !TEMPLATE_SYNTAX.test(s), { message: TEMPLATE_SYNTAX_MESSAGE });

const accessRole = z
  .object({
    role: z
      .string()
      .regex(ROLE_NAME, "expected an IAM role name: 1-64 of letters, digits and +=,.@_-")
      .describe("The access role created in the cluster account."),
    clients: z
      .array(z.string())
      .min(1, "name at least one client allowed to assume this role")
      .describe("Names of clients whose role may assume this one."),
    policies: z
      .array(policyRef)
      .min(1, "name at least one access policy")
      .describe(
        `Access policies: a short name (${KNOWN_ACCESS_POLICIES.join(", ")}) for cluster scope, ` +
          "{ policy, namespaces } for namespace scope, or a full arn:aws:eks::aws:cluster-access-policy/… ARN.",
      ),
    kubernetesGroups: z.array(kubernetesName).default([]),
    username: kubernetesName
      .refine(
        (s) => !s.includes("{{SessionName}}") || s.slice(0, s.indexOf("{{SessionName}}")).includes(":"),
        {
          message: "a username with {{SessionName}} needs a ':' before it",
        },
      )
      .nullable()
      .default(null),
    externalId: z
      .string()
      .regex(EXTERNAL_ID, "expected 2-1224 characters of letters, digits and +=,.@:/-")
      .nullable()
      .default(null)
      .describe("When set, sts:AssumeRole must pass this external id."),
    adopt: z
      .object({
        trustPolicy: policyDocument.describe("The role's trust policy as found."),
        policies: z
          .array(namedPolicy)
          .default([])
          .describe("The role's inline policies as found (xeks keeps those it does not write itself)."),
      })
      .strict()
      .optional()
      .describe(
        "The access role exists already (xeks discover writes this): CloudFormation takes ownership of it (resource " +
          "import, DeletionPolicy Retain), then xeks's trust policy replaces the one found. Its access entry, when " +
          "cluster.accessEntries lists one for the role, is adopted too.",
      ),
  })
  .strict();

const instance = z
  .object({
    subnetId: resourceId("subnet"),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "expected an EC2 instance type such as t3.micro")
      .default("t3.micro"),
  })
  .strict();

const roleNameOf = (what: string) =>
  z
    .string()
    .regex(ROLE_NAME, "expected an IAM role name: 1-64 of letters, digits and +=,.@_-")
    .optional()
    .describe(`${what} (default: xeks-CLUSTER-CLIENT, cut to 64 characters).`);

/** `clients[].identity`: who the client is (docs/clients.md), one kind per client. */
const identity = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("instance"),
      role: clientRole.describe("The EC2 role: a name (created) or { name, existing, ... }."),
    })
    .strict()
    .describe("EC2 instances: an EC2 role and its instance profile (the same as the `role` key)."),
  z
    .object({
      kind: z.literal("sso"),
      permissionSet: z
        .string()
        .regex(
          PERMISSION_SET_NAME_PATTERN,
          "expected a permission set name: 1-32 of letters, digits and +=,.@_- (SSO Admin CreatePermissionSet)",
        )
        .describe("The IAM Identity Center permission set whose people may use the cluster."),
      policies: z
        .array(namedPolicy)
        .default([])
        .describe(
          "The permission set's policies (declared facts: its inline policy, managed policies' documents). One must " +
            "allow sts:AssumeRole on the access roles; xeks never writes to the permission set or its roles.",
        ),
    })
    .strict()
    .describe(
      "People signed in through IAM Identity Center: the access roles trust the permission set's roles in the " +
        "client account (AWSReservedSSO_NAME_*), whose names end in a suffix Identity Center picks.",
    ),
  z
    .object({
      kind: z.literal("oidc"),
      provider: z
        .string()
        .max(255)
        .regex(
          OIDC_PROVIDER_PATTERN,
          `expected the OIDC provider's URL without https://, such as ${GITHUB_ACTIONS_PROVIDER}`,
        )
        .describe("The IAM OIDC identity provider of the client account (it must exist)."),
      audience: z
        .string()
        .min(1)
        .max(255)
        .refine((s) => !TEMPLATE_SYNTAX.test(s), { message: TEMPLATE_SYNTAX_MESSAGE })
        .default(DEFAULT_OIDC_AUDIENCE)
        .describe(`The token's aud claim (default ${DEFAULT_OIDC_AUDIENCE}).`),
      subjects: z
        .array(
          z
            .string()
            .min(1)
            .max(255)
            .refine((s) => !TEMPLATE_SYNTAX.test(s), {
              message: `${TEMPLATE_SYNTAX_MESSAGE}; \${…} would also be an IAM policy variable in the trust's condition`,
            }),
        )
        .min(1, "list at least one subject (the token's sub claim), e.g. repo:OWNER/REPO:ref:refs/heads/main")
        .describe(
          "The token's sub claims trusted. Exact, or with * only after repo:OWNER/REPO: for GitHub Actions.",
        ),
      role: roleNameOf("The web-identity role xeks creates in the client account"),
    })
    .strict()
    .describe("Pipelines (GitHub Actions first): xeks creates a web-identity role trusting exact subjects."),
  z
    .object({
      kind: z.literal("pod-identity"),
      cluster: z
        .string()
        .regex(CLUSTER_NAME, "expected an EKS cluster name: 1-100 of letters, digits, - and _")
        .describe("The EKS cluster in the client account (same region) whose pods are the client."),
      namespace: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "expected a Kubernetes namespace name")
        .describe("The pods' namespace."),
      serviceAccount: z
        .string()
        .regex(
          /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/,
          "expected a Kubernetes service account name (lowercase, digits, - and .)",
        )
        .describe("The pods' service account."),
      role: roleNameOf("The Pod Identity role xeks creates in the client account"),
    })
    .strict()
    .describe(
      "Pods of a cluster in the client account: xeks creates the Pod Identity role and association; the access " +
        "roles trust it for sts:AssumeRole and sts:TagSession.",
    ),
  z
    .object({
      kind: z.literal("role"),
      arn: z
        .string()
        .regex(ROLE_ARN_PATTERN, "expected an IAM role ARN: arn:aws:iam::ACCOUNT:role/NAME")
        .describe("Any existing role of the client account; its trust is left as it is."),
      trustPolicy: policyDocument.optional().describe("The role's trust policy (declared fact)."),
      permissionsBoundary: boundary.optional(),
      policies: z
        .array(namedPolicy)
        .default([])
        .describe("Identity policies already on the role (declared facts for the proof)."),
      assumePolicy: z
        .string()
        .regex(POLICY_NAME, "expected an inline policy name: 1-128 of letters, digits and +=,.@_-")
        .optional()
        .describe("Adopt: the role's inline policy (one of `policies`) that allows sts:AssumeRole."),
    })
    .strict()
    .describe("Any existing role: proven as declared; xeks adds only its sts:AssumeRole inline policy."),
]);

/**
 * `clients[].fromOrganization`: the client is every account of some organizational units, its role created in each
 * by a service-managed StackSet (docs/organizations.md). Cross-field rules (organization declared, no vpc, kinds) are
 * in validate.ts.
 */
const fromOrganization = z
  .object({
    organizationalUnits: z
      .array(
        z
          .string()
          .regex(
            OU_ID_PATTERN,
            "expected an organizational unit id, ou-ROOT-ID such as ou-ab12-11111111 (or a root id such as r-ab12)",
          ),
      )
      .min(1, "list at least one organizational unit id, e.g. ou-ab12-11111111")
      .describe(
        "The OUs whose accounts get the client role (StackSet DeploymentTargets.OrganizationalUnitIds).",
      ),
    administrator: accountId.describe(
      "The account where the StackSet lives: the management account, or a delegated administrator (callAs).",
    ),
    callAs: z
      .enum(["SELF", "DELEGATED_ADMIN"], { error: "expected SELF or DELEGATED_ADMIN" })
      .default("SELF")
      .describe("StackSets API CallAs: SELF in the management account, DELEGATED_ADMIN in a delegated one."),
    regions: z
      .array(region)
      .min(1, "list at least one region, or drop regions for the cluster's region")
      .optional()
      .describe("The regions of the stack instances. Default: the cluster's region."),
    retainStacksOnAccountRemoval: z
      .boolean()
      .default(false)
      .describe("AutoDeployment: keep an account's role when it leaves the OUs (default false: deleted)."),
  })
  .strict();

const client = z
  .object({
    name: z
      .string()
      .regex(CLIENT_NAME, "expected a short name: a lowercase letter, then up to 30 of a-z, 0-9, -"),
    account: accountId
      .optional()
      .describe("The client account. Required, except for a client with fromOrganization (none then)."),
    fromOrganization: fromOrganization
      .optional()
      .describe(
        "A client that is every account of organizational units: a service-managed StackSet creates its role in " +
          "each (docs/organizations.md). Needs organization; no account, no vpc (members reach the public endpoint).",
      ),
    region: region.optional().describe("Default: the cluster's region."),
    vpc: vpc
      .optional()
      .describe("The client's VPC, peered with the cluster VPC. Omit it for a client that has publicCidrs."),
    publicCidrs: z
      .array(ipv4Cidr)
      .min(1, "list at least one egress CIDR")
      .optional()
      .describe(
        "Egress CIDRs of a client without a VPC link (a laptop, a hosted runner): it reaches the cluster's public " +
          "endpoint, which must admit them (publicAccessCidrs).",
      ),
    role: clientRole
      .optional()
      .describe(
        "The EC2 role in the client account: a name (created) or { name, existing, ... }. Same as identity: { kind: instance, role }.",
      ),
    identity: identity.optional().describe("Who the client is: instance, sso, oidc, pod-identity or role."),
    peering: peering.optional(),
    instance: instance.optional().describe("Optional client EC2 instance with kubectl and a kubeconfig."),
    scps: z
      .array(namedPolicy)
      .default([])
      .describe("Service control policies that apply to this client account (declared facts)."),
    organizationId: z
      .string()
      .regex(ORGANIZATION_ID_PATTERN, "expected an AWS Organizations id such as o-a1b2c3d4e5")
      .optional()
      .describe(
        "The client account's organization (aws:PrincipalOrgID in trust policies and RCPs). Default: organization.id; " +
          "a client of another organization keeps its exact-ARN trust statement.",
      ),
    organizationPath: z
      .string()
      .regex(
        ORGANIZATION_PATH_PATTERN,
        "expected the account's organization path, o-ID/r-ROOT/ou-…/ ending in /, e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
      )
      .optional()
      .describe(
        "The client account's path in its organization (aws:PrincipalOrgPaths), used by the proof when " +
          "organization.paths is declared (aws organizations list-parents gives the OUs).",
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.account === undefined && c.fromOrganization === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["account"],
        message:
          'required field is missing: expected a 12-digit account id as a quoted string, e.g. "111111111111" (or fromOrganization for the accounts of organizational units)',
      });
    } else if (c.account !== undefined && c.fromOrganization !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["account"],
        message:
          "a client with fromOrganization has no account (its accounts are those of the organizational units; the StackSet lives in fromOrganization.administrator): drop account",
      });
    }
  })
  // A StackSet client acts in its administrator account (credentials, account check, the StackSet itself).
  .transform((c) => ({ ...c, account: c.account ?? c.fromOrganization?.administrator ?? "" }));

/**
 * `organization`: the access roles and the peering accepter role trust the organization's members instead of
 * naming each client (docs/organizations.md).
 */
const organization = z
  .object({
    id: z
      .string()
      .regex(ORGANIZATION_ID_PATTERN, "expected an AWS Organizations id such as o-a1b2c3d4e5")
      .describe("The organization (aws:PrincipalOrgID). The default of clients[].organizationId."),
    paths: z
      .array(
        z
          .string()
          .regex(
            ORGANIZATION_PATH_PATTERN,
            "expected an organization path, o-ID/r-ROOT/ou-…/ ending in /, e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
          ),
      )
      .min(1, "list at least one path, or drop paths to trust the whole organization")
      .optional()
      .describe(
        "Only accounts under these paths (aws:PrincipalOrgPaths, ForAnyValue:StringLike PATH*). Default: the whole " +
          "organization.",
      ),
    rolePattern: z
      .string()
      .regex(
        ROLE_NAME_GLOB_PATTERN,
        `expected a role name pattern of 1 to ${ROLE_NAME_GLOB_MAX} characters (a 512-character path and a 64-character name): letters, digits, +=,.@_-, / for a path, * and ? as wildcards`,
      )
      .refine(hasLiteral, {
        message:
          "a pattern of only * and ? would let every role of every member account in: name the client roles, e.g. Team*-EKS-Client-Role",
      })
      .superRefine((pattern, ctx) => {
        const role = hasLiteral(pattern) ? wellKnownRoleAdmitted(pattern) : undefined;
        if (!role) return;
        ctx.addIssue({
          code: "custom",
          message: `the pattern could match ${role.label} (in every member account; ArnLike's * crosses /), which must never get in: start it with a literal that names the client roles, e.g. Team*-EKS-Client-Role`,
        });
      })
      .optional()
      .describe(
        "The client role names the access roles trust (ArnLike aws:PrincipalArn arn:PARTITION:iam::*:role/PATTERN; " +
          "the path, without its leading /, before the name when not /). Must match every covered client's role. " +
          "Default: the covered clients' role names (xeks's default names as one xeks-CLUSTER-*). 1 to 576 characters; " +
          "refused when it could match a role AWS creates in member accounts (OrganizationAccountAccessRole, " +
          "AWSControlTowerExecution, AWSAFTExecution, stacksets-exec-*, AWSCloudFormationStackSetExecutionRole, roles " +
          "under /aws-reserved/ or /aws-service-role/).",
      ),
  })
  .strict();

const existingEntry = z
  .object({
    principalArn: z.string().regex(PRINCIPAL_ARN_PATTERN, "expected an IAM role or user ARN"),
    type: z.string().default("STANDARD"),
    username: z.string().optional(),
    kubernetesGroups: z.array(z.string()).default([]),
    policies: z
      .array(
        z
          .object({
            policy: z.string(),
            namespaces: z.array(z.string()).min(1).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .describe("An access entry that already exists on the cluster (declared fact).");

const cluster = z
  .object({
    name: z.string().regex(CLUSTER_NAME, "expected an EKS cluster name: 1-100 of letters, digits, - and _"),
    account: accountId,
    region,
    authenticationMode: z
      .enum(["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"])
      .optional()
      .describe("The existing cluster's authentication mode. Unset: the proof says unknown."),
    endpointAccess: z
      .object({ private: z.boolean(), public: z.boolean() })
      .strict()
      .optional()
      .describe("The existing cluster's endpoint access. Unset: the proof says unknown."),
    publicAccessCidrs: z
      .array(ipv4Cidr)
      .min(1)
      .optional()
      .describe(
        "The CIDRs the public endpoint admits (DescribeCluster resourcesVpcConfig.publicAccessCidrs; EKS's default " +
          "0.0.0.0/0). Unset: the proof says unknown for clients with publicCidrs.",
      ),
    quotas: z
      .object({
        trustPolicyLength: z
          .number()
          .int()
          .min(QUOTAS.trustPolicyLength)
          .max(QUOTAS.trustPolicyLengthMax)
          .optional()
          .describe(
            'The cluster account\'s raised IAM quota "Role trust policy length" in characters (IAM User Guide, "IAM and ' +
              'AWS STS quotas": 2,048 by default, up to 4,096). Unset: 2,048.',
          ),
        peeringsPerVpc: z
          .number()
          .int()
          .min(QUOTAS.peeringsPerVpc)
          .max(QUOTAS.peeringsPerVpcMax)
          .optional()
          .describe(
            'The cluster region\'s raised quota "Active VPC peering connections per VPC" (Amazon VPC User Guide, "Amazon ' +
              'VPC quotas": 50 by default, up to 125). Unset: 50.',
          ),
      })
      .strict()
      .optional()
      .describe(
        "Quotas of the cluster account raised in Service Quotas (declared facts): the proof measures the planned trust " +
          "policies (iam.policy-size) and peerings (network.peering-quota) against them instead of the defaults.",
      ),
    endpoint: z
      .url({ protocol: /^https$/, error: "expected the cluster endpoint as an https:// URL" })
      .regex(
        /^https:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?\/?$/,
        "expected the endpoint's origin only, https://HOST or https://HOST:PORT, as DescribeCluster returns it (no path, query or user)",
      )
      .optional(),
    certificateAuthority: z
      .string()
      .regex(
        /^[A-Za-z0-9+/]+={0,2}$/,
        "expected base64 text (certificateAuthority.data from DescribeCluster)",
      )
      .optional(),
    securityGroupId: resourceId("sg").describe(
      "The cluster security group (gets TCP 443 from each client CIDR).",
    ),
    vpc,
    scps: z
      .array(namedPolicy)
      .default([])
      .describe("Service control policies that apply to the cluster account (declared facts)."),
    rcps: z
      .array(namedPolicy)
      .default([])
      .describe(
        "Resource control policies that apply to the cluster account (declared facts): they bind the access roles' trust.",
      ),
    ingressRules: z
      .array(ingressRule)
      .default([])
      .describe(
        "Inbound rules of the cluster security group that exist (declared facts; xeks discover writes those that admit " +
          "a client CIDR). A tcp 443-443 rule from a client's CIDR is adopted instead of created.",
      ),
    accessEntries: z
      .array(existingEntry)
      .default([])
      .describe(
        "Access entries that already exist on the cluster (declared facts; xeks discover fills them in).",
      ),
  })
  .strict();

export const topologySchema = z
  .object({
    $schema: z.string().optional().describe("Editor hint; ignored."),
    version: z.literal(1, { error: "expected version: 1" }),
    cluster,
    clients: z.array(client).min(1, "list at least one client"),
    access: z.array(accessRole).min(1, "list at least one access role"),
    organization: organization
      .optional()
      .describe(
        "The clients' AWS Organizations organization: the access roles and the peering accepter role trust its " +
          "members (aws:PrincipalOrgID) instead of naming each client, so their trust does not grow with clients.",
      ),
  })
  .strict();

/** The file as written (before defaults). */
export type TopologyInput = z.input<typeof topologySchema>;
/** The file after schema defaults, before normalization. */
export type ParsedTopology = z.output<typeof topologySchema>;
export type PolicyDocument = z.output<typeof policyDocument>;
export type NamedPolicy = z.output<typeof namedPolicy>;
export type DeclaredRoute = z.output<typeof route>;
export type DeclaredAccessEntry = z.output<typeof existingEntry>;
export type DeclaredIngressRule = z.output<typeof ingressRule>;
export type DeclaredIdentity = z.output<typeof identity>;

/** The JSON Schema of the topology file, for editors (`xeks schema`). */
export function topologyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(topologySchema, {
    io: "input",
    unrepresentable: "any",
    reused: "ref",
  }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://xeks.dev/schema/topology-v1.json",
    title: "xeks topology file, version 1",
  };
}
