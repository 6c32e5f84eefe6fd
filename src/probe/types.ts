/**
 * The client probe's options and the shapes its steps share. The probe walks the chain from the client's
 * place the way kubectl does (credentials -> sts:AssumeRole -> DNS -> TCP -> TLS -> token -> the API server)
 * and returns a ChainReport with mode "client". It never prints.
 */
import type { Evidence } from "../chain/types.js";
import type { Env } from "../token/environment.js";
import type { AccessRole, Client, Topology } from "../topology/types.js";

/** Base AWS credentials as the SDK's providers return them. */
export interface ProbeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialProvider = () => Promise<ProbeCredentials>;

/**
 * Name resolution, injectable: `lookup` returns the IPv4/IPv6 addresses of a name, or rejects with an error
 * whose `code` says why (`ENOTFOUND` for NXDOMAIN, `ENODATA` for a name without addresses, `ESERVFAIL`,
 * `ETIMEOUT`, `EAI_AGAIN`, ...). It should stop when `signal` aborts.
 */
export interface Resolver {
  /** Who answers, for messages: "the system resolver (nameserver 10.0.0.2 from /etc/resolv.conf)". */
  name: string;
  lookup(hostname: string, signal: AbortSignal): Promise<string[]>;
}

/**
 * How resolved addresses are judged. Classification is separate from where the probe connects, so a test can
 * make a loopback address count as "public" or as "inside the cluster VPC".
 */
export interface AddressClassification {
  /** Addresses here pass: default the cluster VPC CIDR of the topology. */
  clusterCidrs?: string[];
  /** Addresses here count as public, whatever they are. Default none (public = not private or special). */
  publicCidrs?: string[];
}

export interface ProbeOptions {
  topology: Topology;
  /** The client to probe as (its name). Default: the only client of the topology. */
  client?: string;
  /** The access role (name or ARN). Default: the only one the client may assume. */
  accessRole?: string;
  /** Per network step, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** For the whole probe, in milliseconds (default 30000). Steps not started by then are `unknown`. */
  deadlineMs?: number;
  /** Name resolution (default: the system resolver, as kubectl uses it). */
  resolver?: Resolver;
  classification?: AddressClassification;
  /** The environment the client runs in (default process.env): names overrides of the instance role. */
  env?: Env;
  /** Base credentials (default: the AWS SDK's default chain, as `xeks token` uses it). */
  credentials?: CredentialProvider;
  /** AWS endpoints (default: the SDK's, which honour AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_EKS). */
  endpoints?: { sts?: string; eks?: string };
  /** RoleSessionName for sts:AssumeRole (default as `xeks token`: xeks-<user>@<host>). */
  sessionName?: string;
  /** The clock (token signing, verification). */
  now?: () => Date;
  /** Where the system's nameservers are listed, for messages (default /etc/resolv.conf). */
  resolvConf?: string;
}

/** What one step returns: the finding for its link, and what later steps need when it got that far. */
export type { StepOutcome } from "../chain/runner.js";

/** The part of the run every step sees. */
export interface ProbeScope {
  topology: Topology;
  client: Client;
  access: AccessRole;
  env: Env;
  /** The file name for fixes (`xeks doctor FILE`). */
  file: string;
  now: () => Date;
}

export function probeEvidence(fact: string, detail?: string): Evidence {
  return detail === undefined ? { fact, source: "probe" } : { fact, source: "probe", detail };
}

export function declaredEvidence(fact: string, detail?: string): Evidence {
  return detail === undefined ? { fact, source: "declared" } : { fact, source: "declared", detail };
}
