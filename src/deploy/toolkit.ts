/**
 * toolkit-lib, one Toolkit per set of credentials. A Toolkit's SDK acts with one set of base credentials (here
 * `BaseCredentials.custom` over the profile's memoized provider), and the stacks xeks synthesizes use the
 * LegacyStackSynthesizer (no bootstrap roles to assume), so each stack is deployed by the Toolkit of its
 * account: toolkit-lib itself refuses a stack whose account differs from its credentials' account.
 *
 * Concurrent calls (the stacks of one phase deploy in parallel, `--concurrency`) share one Toolkit per set of
 * credentials: each call reads the assembly directory (toolkit-lib takes a read lock on it; readers do not
 * exclude each other) and reports through the one XeksIoHost, which attributes every message to its stack by
 * the stack name the message carries (the CloudFormation event's StackName, the diff's stack), never by order.
 *
 * Every call selects exactly one stack of the assembly directory (PATTERN_MUST_MATCH_SINGLE, no expansion to
 * dependencies): the order across accounts is xeks's, not the toolkit's.
 *
 * Timeouts: toolkit-lib's `sdkConfig` takes only an https agent (`httpOptions.agent`), and its SDK clients get
 * fixed request handler settings (10 s to connect, a 300 s request timeout that only logs a warning through
 * console). But it hands the settings object to `IBaseCredentialsProvider.sdkBaseConfig` (a public, mutable
 * `clientConfig.requestHandler`) before building its SDK with it, and passes `requestHandler` on to each client
 * as it is, so `boundedBaseCredentials` puts our handler there (src/aws/watchdog.ts `watchedRequestHandler`: each attempt ends
 * within XEKS_AWS_TIMEOUT_MS, body included; the watchdog's agents; a silent logger). Its retry counts stay
 * its own (7 attempts, up to 15 s apart), under the run's watchdog. Its clients' own `logger` is toolkit-lib's
 * IoHost logger, which xeks's IoHost turns into debug events.
 */
import {
  BaseCredentials,
  DiffMethod,
  type IBaseCredentialsProvider,
  type ICloudAssemblySource,
  StackParameters,
  StackSelectionStrategy,
  Toolkit,
} from "@aws-cdk/toolkit-lib";
import { watchedRequestHandler } from "../aws/watchdog.js";
import type { CredentialSet } from "./credentials.js";
import type { XeksIoHost } from "./io-host.js";

/**
 * `BaseCredentials.custom` over the set's provider, and our request handler settings (timeouts that throw, a
 * silent logger) in place of toolkit-lib's for every SDK client the Toolkit makes.
 */
function boundedBaseCredentials(credentials: CredentialSet): IBaseCredentialsProvider {
  const base = BaseCredentials.custom({ provider: credentials.provider, region: credentials.region });
  return {
    sdkBaseConfig(ioHost, clientConfig) {
      // A handler, not options: toolkit-lib hands `requestHandler` to each client's constructor as it is.
      (clientConfig as { requestHandler?: unknown }).requestHandler = watchedRequestHandler();
      return base.sdkBaseConfig(ioHost, clientConfig);
    },
  };
}

/** What toolkit-lib's template diff gives per stack (a `TemplateDiff` of @aws-cdk/cloudformation-diff). */
export interface TemplateDiffLike {
  readonly differenceCount: number;
  readonly isEmpty: boolean;
  readonly resources: {
    forEachDifference(
      cb: (
        logicalId: string,
        change: {
          isAddition: boolean;
          isRemoval: boolean;
          isUpdate: boolean;
          newResourceType?: string;
          oldResourceType?: string;
          changeImpact?: string;
        },
      ) => void,
    ): void;
  };
  readonly parameters?: { differenceCount: number };
}

export interface ToolkitOptions {
  /** Between two polls of CloudFormation while a stack operation runs. */
  pollMs?: number;
}

export class AccountToolkit {
  private readonly toolkit: Toolkit;
  private source?: Promise<ICloudAssemblySource>;

  constructor(
    readonly credentials: CredentialSet,
    private readonly assemblyDir: string,
    host: XeksIoHost,
    private readonly options: ToolkitOptions = {},
  ) {
    this.toolkit = new Toolkit({
      ioHost: host,
      color: false,
      emojis: false,
      sdkConfig: { baseCredentials: boundedBaseCredentials(credentials) },
    });
  }

  /** The assembly source, made once and shared by calls in flight at the same time (parallel stacks). */
  private cx(): Promise<ICloudAssemblySource> {
    this.source ??= this.toolkit.fromAssemblyDirectory(this.assemblyDir);
    return this.source;
  }

  private one(stack: string) {
    return { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stack] };
  }

  /** Template diffs (deployed template vs synthesized) of these stacks: reads only (GetTemplate). */
  async diff(stacks: string[]): Promise<Record<string, TemplateDiffLike>> {
    if (stacks.length === 0) return {};
    const r = await this.toolkit.diff(await this.cx(), {
      stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH, patterns: stacks },
      method: DiffMethod.TemplateOnly(),
    });
    return r as unknown as Record<string, TemplateDiffLike>;
  }

  /** Deploy one stack (change set, rollback on failure) with exactly these parameters. */
  async deploy(
    stack: string,
    parameters: Record<string, string>,
  ): Promise<{ outputs: Record<string, string> }> {
    const r = await this.toolkit.deploy(await this.cx(), {
      stacks: this.one(stack),
      parameters: StackParameters.exactly(parameters),
      deploymentMethod: { method: "change-set" },
      rollback: true,
      concurrency: 1,
      ...(this.options.pollMs !== undefined ? { stackEventPollingInterval: this.options.pollMs } : {}),
    });
    const deployed = r.stacks.find((s) => s.stackName === stack);
    return { outputs: { ...(deployed?.outputs ?? {}) } };
  }

  /** Delete one stack. */
  async destroy(stack: string): Promise<{ existed: boolean }> {
    const r = await this.toolkit.destroy(await this.cx(), {
      stacks: this.one(stack),
      ...(this.options.pollMs !== undefined ? { stackEventPollingInterval: this.options.pollMs } : {}),
    });
    return { existed: r.stacks.some((s) => s.stackName === stack && s.stackExisted) };
  }
}
