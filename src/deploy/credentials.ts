/**
 * Credentials per account: `--cluster-profile P` for the cluster account's stacks, `--client-profile NAME=P`
 * (repeatable) for a client's stacks, else the ambient credentials (AWS_PROFILE, environment variables, SSO,
 * IMDS: the SDK's default chain). Each distinct profile gets one memoized provider, so an assume-role profile
 * assumes its role once per run and every client (ours and toolkit-lib's) uses the same credentials.
 */
import { ASSUME_ROLE_NAME_FLAG, assumedRoleProvider, roleArnInAccount } from "../aws/assume-role-name.js";
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
  /**
   * The base session (`--profile`): the profile whose credentials act for every account that has no profile of
   * its own, and from which `assumeRoleName` is assumed. @default the ambient credentials (the SDK's chain)
   */
  profile?: string;
  /**
   * `--assume-role-name NAME`: every account without a profile of its own is reached by assuming
   * `arn:PARTITION:iam::ACCOUNT:role/NAME` with the base session (src/aws/assume-role-name.ts). A per-account
   * profile still wins.
   */
  assumeRoleName?: string;
}

/** One set of credentials, and whom it must act for. */
export interface CredentialSet {
  /** "cluster" or "client NAME": the key stacks refer to (see plan.ts `credentialsOf`). */
  key: string;
  /** The profile, or undefined for the ambient credentials and for an assumed `role`. */
  profile?: string;
  /** The role assumed in `account` with the base session (`--assume-role-name`), when one is. */
  role?: string;
  /** The base session `role` is assumed with: "the ambient credentials" or "profile P". */
  base?: string;
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
 * The credential sets of a topology: one for the cluster, one per client. Each is, in this order: its own profile
 * (`clusterProfile`, `clientProfiles`); with `assumeRoleName`, the role of that name in its account, assumed with
 * the base session (`profile`, else the ambient credentials); else the base session itself. Sets with the same
 * profile share one provider, and sets of the same account one assumed role (one assumption per run, refreshed
 * before expiry). Every set of credentials a provider resolves is remembered for redaction (src/aws/redact.ts).
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
  const base = options.profile !== undefined ? `profile ${options.profile}` : "the ambient credentials";
  const add = (
    key: string,
    who: string,
    own: string | undefined,
    account: string,
    region: string,
    flag: string,
  ) => {
    const profile = own ?? options.profile;
    if (own !== undefined || !options.assumeRoleName) {
      sets.set(key, {
        key,
        ...(profile !== undefined ? { profile } : {}),
        account,
        region,
        provider: providerFor(profile, region),
        flag,
      });
      return;
    }
    // One assumption per role (and so per account), shared by the sets of that account.
    const role = roleArnInAccount(account, options.assumeRoleName, region);
    let provider = providers.get(`\0role ${role}`);
    if (!provider) {
      provider = memoizeProvider(
        rememberingProvider(
          assumedRoleProvider(providerFor(options.profile, region), {
            roleArn: role,
            account,
            region,
            who,
            base,
            flag: key === "cluster" ? "--cluster-profile PROFILE" : flag,
          }),
        ),
      );
      providers.set(`\0role ${role}`, provider);
    }
    sets.set(key, {
      key,
      role,
      base,
      account,
      region,
      provider,
      flag,
    });
  };
  const c = topology.cluster;
  add("cluster", "the cluster", options.clusterProfile, c.account, c.region, "--cluster-profile");
  for (const client of topology.clients) {
    add(
      `client ${client.name}`,
      `client ${client.name}`,
      options.clientProfiles?.[client.name],
      client.account,
      client.region,
      `--client-profile ${client.name}=PROFILE`,
    );
  }
  return sets;
}

/** "profile ops-admin", "the ambient credentials", or "role ARN (assumed with the ambient credentials)". */
export function describeCredentials(set: Pick<CredentialSet, "profile" | "role" | "base">): string {
  if (set.role !== undefined)
    return `role ${set.role} (${ASSUME_ROLE_NAME_FLAG}, assumed with ${set.base ?? "the base credentials"})`;
  return set.profile !== undefined ? `profile ${set.profile}` : "the ambient credentials";
}
