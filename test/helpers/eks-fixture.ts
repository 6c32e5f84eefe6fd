/**
 * The EKS emulator for tests: the supported module src/sandbox/eks.ts (also the emulator of `xeks sandbox`),
 * re-exported so existing tests keep their import path.
 */
export * from "../../src/sandbox/eks.js";
