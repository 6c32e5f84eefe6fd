/**
 * Credentials per account: `--cluster-profile P` for the cluster account's stacks, `--client-profile NAME=P`
 * (repeatable) for a client's stacks, else the ambient credentials (AWS_PROFILE, environment variables, SSO,
 * IMDS: the SDK's default chain). Each distinct profile gets one memoized provider, so an assume-role profile
 * assumes its role once per run and every client (ours and toolkit-lib's) uses the same credentials.
 */
import { memoizeProvider } from "../aws/credentials.js";
import { rememberingProvider } from "../aws/redact.js";
import { watchedCredentialProvider } from "../aws/watchdog.js";
import type { Topology } from "../topology/types.js";

/** The credentials an AWS SDK v3 client (and toolkit-lib's BaseCredentials.custom) accepts. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialProvider = () => Promise<AwsCredentials>;

/** Which profile acts for the cluster account and for each client. */
export interface ProfileOptions {
  clusterProfile?: string;
  /** Client name -> profile. */
  clientProfiles?: Record<string, string>;
}

/** One set of credentials, and whom it must act for. */
export interface CredentialSet {
  /** "cluster" or "client NAME": the key stacks refer to (see plan.ts `credentialsOf`). */
  key: string;
  /** The profile, or undefined for the ambient credentials. */
  profile?: string;
  /** The account the topology names for it. */
  account: string;
  region: string;
  provider: CredentialProvider;
  /** The flag that chooses these credentials, for messages. */
  flag: string;
}

/** How a provider is made for a profile (undefined: ambient). Tests pass their own. */
export type ProviderFactory = (profile: string | undefined, region: string) => CredentialProvider;

/**
 * The SDK's providers, quiet (`logger`: without one, the chain warns through console.warn, e.g. when both
 * AWS_PROFILE and AWS_ACCESS_KEY_ID are set) and with the clients they make themselves (STS for role_arn
 * profiles, SSO) bounded and watched like ours (src/aws/watchdog.ts `watchedCredentialProvider`).
 */
export const defaultProviderFactory: ProviderFactory = (profile, region) =>
  // src/aws/credentials.ts: also remembers the secrets of a role_arn profile's source for redaction.
  watchedCredentialProvider(profile, region) as CredentialProvider;

/**
 * The credential sets of a topology: one for the cluster, one per client. Sets with the same profile share one
 * provider (and so one role assumption). Every set of credentials a provider resolves is remembered for
 * redaction (src/aws/redact.ts).
 */
export function credentialSets(
  topology: Topology,
  options: ProfileOptions,
  factory: ProviderFactory = defaultProviderFactory,
): Map<string, CredentialSet> {
  const providers = new Map<string, CredentialProvider>();
  const providerFor = (profile: string | undefined, region: string): CredentialProvider => {
    const k = profile ?? "\0ambient";
    let p = providers.get(k);
    if (!p) {
      p = memoizeProvider(rememberingProvider(factory(profile, region)));
      providers.set(k, p);
    }
    return p;
  };
  const sets = new Map<string, CredentialSet>();
  const c = topology.cluster;
  sets.set("cluster", {
    key: "cluster",
    profile: options.clusterProfile,
    account: c.account,
    region: c.region,
    provider: providerFor(options.clusterProfile, c.region),
    flag: "--cluster-profile",
  });
  for (const client of topology.clients) {
    const profile = options.clientProfiles?.[client.name];
    sets.set(`client ${client.name}`, {
      key: `client ${client.name}`,
      profile,
      account: client.account,
      region: client.region,
      provider: providerFor(profile, client.region),
      flag: `--client-profile ${client.name}=PROFILE`,
    });
  }
  return sets;
}

/** "profile ops-admin" or "the ambient credentials". */
export function describeCredentials(set: Pick<CredentialSet, "profile">): string {
  return set.profile !== undefined ? `profile ${set.profile}` : "the ambient credentials";
}
