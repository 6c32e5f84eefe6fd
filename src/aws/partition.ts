/**
 * AWS partitions: moved to the domain layer (src/domain/arn.ts), re-exported here for the modules that still
 * import them from src/aws.
 */
export { PARTITION_DOMAINS, partitionOf } from "../domain/arn.js";
