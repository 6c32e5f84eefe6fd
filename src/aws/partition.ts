/**
 * AWS partitions: which one a region belongs to, and its DNS domains. No dependencies: the token fast path
 * imports it.
 */

/** DNS domains of each partition: the standard one first, then the dual-stack one. */
export const PARTITION_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  aws: ["amazonaws.com", "api.aws"],
  "aws-cn": ["amazonaws.com.cn", "api.amazonwebservices.com.cn"],
  "aws-us-gov": ["amazonaws.com", "api.aws"],
  "aws-iso": ["c2s.ic.gov"],
  "aws-iso-b": ["sc2s.sgov.gov"],
  "aws-iso-e": ["cloud.adc-e.uk"],
  "aws-iso-f": ["csp.hci.ic.gov"],
  "aws-eusc": ["amazonaws.eu", "api.amazonwebservices.eu"],
};

/** The partition of a region (`cn-north-1` -> `aws-cn`). */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  if (region.startsWith("eusc-")) return "aws-eusc";
  return "aws";
}
