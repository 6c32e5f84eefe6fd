/**
 * The region the SDK would use for a profile (or the default chain): the SDK's own resolution, as an STS client
 * built with that profile resolves it (AWS_REGION, then the profile's `region` in the shared config file; no
 * default: undefined when neither gives one). The SDK is loaded on first use (CommonJS, as in ./credentials.ts).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * The region of `profile` (undefined or "": the default chain, AWS_PROFILE included) as the SDK resolves it, or
 * undefined when no region is configured. Makes no AWS call.
 */
export async function configuredRegion(profile: string | undefined): Promise<string | undefined> {
  const { STSClient } = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const probe = new STSClient(profile ? { profile } : {});
  try {
    const region = await probe.config.region();
    return region || undefined;
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}
